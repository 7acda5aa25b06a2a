/**
 * Exhaustive exploration: the shortcuts (pruning, write-unit boundaries only, the incremental
 * monitor, shards) agree with their slow twins, and what exploration reports replays.
 */
import { describe, it, expect } from 'vitest';
import { loadModel } from '../../src/model/models.js';
import { Deployment } from '../../src/engines/runner.js';
import { msp430fr5994 } from '../../src/device/profile.js';
import { explore, type ExploreOptions, type ExploreResult } from '../../src/properties/explore.js';
import { checkScenario } from '../../src/properties/properties.js';
import type { EngineKind } from '../../src/engines/reference/plan.js';

function deploy(model: string, engine: EngineKind, batch: number, faults: string[] = [], fixes: string[] = []) {
  const m = loadModel(model);
  return { m, d: new Deployment(m.q, { engine, batch, placement: 'spi-fram', profile: msp430fr5994, faults, fixes }) };
}

function opts(m: ReturnType<typeof loadModel>, extra: Partial<ExploreOptions> = {}): ExploreOptions {
  return { input: m.inputQ(1), warmup: [m.inputQ(2)], seed: 3, mode: 'linear', ...extra };
}

/** The failing points as comparable data: first-failure action, properties. */
function failingPoints(r: ExploreResult): string[] {
  return r.failures.map((f) => `${f.schedule.join(',')}:${[...new Set(f.violations.map((v) => v.property))].sort().join('+')}`);
}

// Cases where the design holds and where it breaks (published findings and seeded faults).
const CASES: [string, EngineKind, number, string[], string[]][] = [
  ['tiny-conv', 'japari', 2, [], []],
  ['tiny-conv', 'hawaii', 1, [], []],
  ['tiny-fc', 'japari', 1, [], []], // finding: FC footprint sign per call
  ['tiny-fc', 'japari', 1, [], ['japari-gemm-column-sign']],
  ['tiny-concat', 'hawaii', 4, [], []], // finding: HAWAII remainder crosses layers
  ['tiny-strided', 'japari', 2, ['japari-footprint-first'], []],
  ['tiny-conv', 'hawaii', 2, ['hawaii-counter-before-data'], []],
  ['tiny-conv', 'japari', 1, ['cache-trusted-after-reboot'], []],
  // FC data under the next inference's footprints (narrow FC fixes), and the padded fix.
  ['rnd:2x6x6:c8k3s1p1/r/g10:1', 'japari', 4, [], ['japari-fc-no-footprint-recompute', 'japari-gemm-column-sign', 'japari-gemm-slice-jobs']],
  ['rnd:2x6x6:c8k3s1p1/r/g10:1', 'japari', 4, [], ['japari-pad-vector-groups']],
];

describe('pruning is sound: pruned and unpruned searches give the same verdicts', () => {
  for (const [model, engine, batch, faults, fixes] of CASES) {
    it(`${model} ${engine} B=${batch} ${[...faults, ...fixes].join(' ') || 'published design'}`, () => {
      const { m, d } = deploy(model, engine, batch, faults, fixes);
      const pruned = explore(d, opts(m, { prune: true }));
      const full = explore(d, opts(m, { prune: false }));
      expect(pruned.stats.points).toBe(full.stats.points);
      expect(failingPoints(pruned)).toEqual(failingPoints(full));
      expect(pruned.verdict).toBe(full.verdict);
      expect(full.stats.converged).toBe(0);
      // Pruning must actually prune where recoveries converge.
      if (pruned.stats.converged > 0) expect(pruned.stats.recoveryActions).toBeLessThan(full.stats.recoveryActions);
    });
  }
});

describe('shortcuts agree with their slow twins', () => {
  it('failures between write units are equivalent to failing at the next unit', () => {
    for (const [model, engine, batch, faults] of [CASES[0]!, CASES[4]!, CASES[7]!]) {
      const { m, d } = deploy(model, engine, batch, faults);
      const units = explore(d, opts(m));
      const every = explore(d, opts(m, { everyAction: true }));
      expect(every.stats.points).toBeGreaterThan(units.stats.points);
      // Same verdict, and the failing NVM states (write-unit indices) are the same set.
      expect(every.verdict).toBe(units.verdict);
      expect([...new Set(every.failures.map((f) => f.unit))]).toEqual([...new Set(units.failures.map((f) => f.unit))]);
    }
  });

  it('the incremental monitor agrees with from-scratch checks at every point', () => {
    for (const [model, engine, batch, faults, fixes] of CASES) {
      const { m, d } = deploy(model, engine, batch, faults, fixes);
      expect(failingPoints(explore(d, opts(m)))).toEqual(failingPoints(explore(d, opts(m, { fullChecks: true }))));
    }
  });

  it('recoveries run in place and rolled back agree with recoveries on copy-on-write snapshots', () => {
    for (const [model, engine, batch, faults, fixes] of CASES) {
      const { m, d } = deploy(model, engine, batch, faults, fixes);
      const fast = explore(d, opts(m));
      const slow = explore(d, opts(m, { journal: false }));
      expect(fast.failures).toEqual(slow.failures);
      expect(fast.stats).toEqual(slow.stats);
      expect(fast.golden).toEqual(slow.golden);
    }
  });

  it('shards partition the search', () => {
    const { m, d } = deploy('tiny-concat', 'hawaii', 4);
    const whole = explore(d, opts(m));
    for (const contiguous of [false, true]) {
      const parts = [0, 1, 2].map((index) => explore(d, opts(m, { shard: { index, count: 3, contiguous } })));
      expect(parts.reduce((s, p) => s + p.stats.points, 0)).toBe(whole.stats.points);
      expect(parts.flatMap(failingPoints).sort()).toEqual(failingPoints(whole).sort());
    }
  });
});

describe('what exploration reports replays', () => {
  it('every failing point reproduces under the from-scratch checker', () => {
    const { m, d } = deploy('tiny-concat', 'hawaii', 4);
    const r = explore(d, opts(m));
    expect(r.failures.length).toBeGreaterThan(0);
    for (const f of r.failures.slice(0, 10)) {
      const run = checkScenario(d, { input: m.inputQ(1), warmup: [m.inputQ(2)], failAt: f.schedule, seed: 3 });
      expect(new Set(run.violations.map((v) => v.property))).toEqual(new Set(f.violations.map((v) => v.property)));
    }
  });

  it('depth 2 explores reboots during recovery; pruning keeps its verdicts', () => {
    // A pruned recovery stops where its state equals the uninterrupted run's; a second failure
    // after that point leaves a state the single-failure search already visits, so the pruned
    // depth-2 search visits fewer pairs with the same verdict, and its failures are a subset.
    for (const [model, engine, batch, faults] of [
      ['tiny-fc', 'hawaii', 2, []],
      ['tiny-fc', 'japari', 2, ['japari-footprint-first']],
    ] as [string, EngineKind, number, string[]][]) {
      const { m, d } = deploy(model, engine, batch, faults);
      const layer = 0;
      const pruned = explore(d, opts(m, { mode: 'depth2', layer }));
      const full = explore(d, opts(m, { mode: 'depth2', layer, prune: false }));
      const singles = explore(d, opts(m));
      expect(pruned.verdict).toBe(full.verdict);
      expect(pruned.stats.points).toBeLessThanOrEqual(full.stats.points);
      expect(pruned.stats.points).toBeGreaterThan(singles.stats.points / 4);
      const all = new Set(failingPoints(full));
      for (const f of failingPoints(pruned)) expect(all.has(f)).toBe(true);
      for (const f of pruned.failures.filter((x) => x.schedule.length === 2).slice(0, 5)) {
        const run = checkScenario(d, { input: m.inputQ(1), warmup: [m.inputQ(2)], failAt: f.schedule, seed: 3 });
        expect(run.violations.length).toBeGreaterThan(0);
      }
    }
  });

  it('the published engines hold on the default model at every single failure point (B = 1, 2)', () => {
    for (const engine of ['hawaii', 'japari'] as const) {
      for (const batch of [1, 2]) {
        const { m, d } = deploy('lenet', engine, batch);
        const r = explore(d, opts(m));
        expect(r.golden).toEqual([]);
        expect(failingPoints(r)).toEqual([]);
        expect(r.stats.points).toBe(r.stats.writeUnits);
        expect(r.stats.converged).toBeGreaterThan(r.stats.points * 0.9);
      }
    }
  });
});
