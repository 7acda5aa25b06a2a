/**
 * Depth 2 and 3 over the whole inference: the pruned search places nested failures only in the
 * window between a failure and its recovery's convergence to the uninterrupted run. Every nested
 * failure after that window is a failure of the uninterrupted run (the same NVM, ledger, carry
 * and defined SRAM), so its verdict is that of the shallower search's point, shifted in time.
 * These tests expand the pruned result by that rule and compare it with the unpruned search,
 * which places a failure at every write unit of every recovery run to completion: the failing
 * sets (schedules and violated properties) are equal, on designs that hold and designs that
 * break, including failures inside recovery and torn writes.
 */
import { describe, it, expect } from 'vitest';
import { loadModel } from '../../src/model/models.js';
import { Deployment } from '../../src/engines/runner.js';
import { msp430fr5994 } from '../../src/device/profile.js';
import { explore, type ExploreOptions, type ExploreResult, type RecoveryWindow } from '../../src/properties/explore.js';
import type { EngineKind } from '../../src/engines/reference/plan.js';

// A 2 -> 1 fully connected layer: about 130 write units, small enough for unpruned depth 3 on a shard.
const MODEL = 'rnd:2:g1:1';

function deploy(engine: EngineKind, faults: string[] = []) {
  const m = loadModel(MODEL);
  const d = new Deployment(m.q, { engine, batch: 1, placement: 'spi-fram', profile: msp430fr5994, faults, fixes: [] });
  const base: ExploreOptions = { input: m.inputQ(1), warmup: [m.inputQ(2)], seed: 3, mode: 'linear' };
  return { d, base };
}

/** Failing schedules: violated properties, and the uninterrupted run's unit of the first failure. */
type Failing = Map<string, { props: string; unit: number }>;

function failingOf(r: ExploreResult): Failing {
  const out: Failing = new Map();
  for (const f of r.failures) out.set(f.schedule.join(','), { props: [...new Set(f.violations.map((v) => v.property))].sort().join('+'), unit: f.unit });
  return out;
}

/**
 * The whole failing set of a pruned search: its placed failures, plus, for every recovery window
 * after `w.schedule` that converged, the whole failing set one level shallower (`shallower(n)`:
 * of depth `depth - n`) from the unit it converged to on, shifted in time.
 */
function expand(placed: ExploreResult, windows: readonly RecoveryWindow[], depth: number, shallower: (depth: number) => Failing): Failing {
  const out = new Map(failingOf(placed));
  for (const w of windows) {
    if (w.fromUnit === null) continue;
    for (const [s, f] of shallower(depth - w.schedule.length)) {
      if (f.unit < w.fromUnit) continue;
      const shifted = s.split(',').map((a) => Number(a) + w.actionOffset);
      out.set([...w.schedule, ...shifted].join(','), { props: f.props, unit: w.unit });
    }
  }
  return out;
}

const sorted = (m: Failing) => [...m.entries()].map(([s, f]) => `${s}:${f.props}`).sort();

/** The pruned depth-2 search, expanded, and the unpruned one, with their results. */
function depth2(engine: EngineKind, faults: string[], extra: Partial<ExploreOptions> = {}) {
  const { d, base } = deploy(engine, faults);
  const linear = explore(d, base);
  const windows: RecoveryWindow[] = [];
  const pruned = explore(d, { ...base, ...extra, mode: 'depth2', onWindow: (w) => windows.push(w) });
  const expanded = expand(pruned, windows, 2, () => failingOf(linear));
  return { d, base, linear, pruned, expanded };
}

describe('depth-2 pruning is sound: the expanded pruned failing set equals the unpruned one', () => {
  for (const [engine, faults] of [
    ['japari', []],
    ['hawaii', ['hawaii-counter-before-data']],
  ] as [EngineKind, string[]][]) {
    it(`${MODEL} ${engine} ${faults.join(' ') || 'published design'}`, () => {
      const { d, base, linear, pruned, expanded } = depth2(engine, faults);
      const full = explore(d, { ...base, mode: 'depth2', prune: false });
      // The naive count is what the unpruned search places.
      expect(full.stats.points).toBe(full.stats.naivePoints);
      expect(pruned.stats.naivePoints).toBe(full.stats.points);
      expect(pruned.stats.points).toBeLessThan(full.stats.points);
      expect(pruned.stats.pairs).toBe(pruned.stats.points - linear.stats.points);
      // Failures inside recovery, and torn writes there, were placed.
      expect(pruned.stats.tornPoints).toBeGreaterThan(linear.stats.tornPoints);
      expect(sorted(expanded)).toEqual(sorted(failingOf(full)));
      expect(pruned.verdict).toBe(full.verdict);
      if (faults.length > 0) expect([...expanded.keys()].some((s) => s.includes(','))).toBe(true);
    });
  }

  it('nested recoveries run in place and rolled back agree with recoveries on snapshots', () => {
    const fast = depth2('hawaii', ['hawaii-counter-before-data']);
    const slow = depth2('hawaii', ['hawaii-counter-before-data'], { journal: false });
    expect(fast.pruned.failures).toEqual(slow.pruned.failures);
    expect(fast.pruned.stats).toEqual(slow.pruned.stats);
  });

  it('the incremental monitor inside recovery windows agrees with from-scratch checks', () => {
    const fast = depth2('hawaii', ['hawaii-counter-before-data']);
    const slow = depth2('hawaii', ['hawaii-counter-before-data'], { fullChecks: true });
    expect(sorted(failingOf(fast.pruned))).toEqual(sorted(failingOf(slow.pruned)));
  });
});

describe('depth-3 pruning is sound', () => {
  it(`${MODEL} hawaii hawaii-counter-before-data, first failures of one shard`, () => {
    const { d, base, expanded: full2 } = depth2('hawaii', ['hawaii-counter-before-data']);
    const linear = failingOf(explore(d, base));
    const shard = { index: 5, count: 48 };
    const windows: RecoveryWindow[] = [];
    const pruned = explore(d, { ...base, mode: 'depth3', shard, onWindow: (w) => windows.push(w) });
    const full = explore(d, { ...base, mode: 'depth3', shard, prune: false });
    expect(pruned.stats.triples).toBeGreaterThan(0);
    expect(pruned.stats.points).toBeLessThan(full.stats.points);
    expect(full.stats.points).toBe(full.stats.naivePoints);
    expect(pruned.stats.naivePoints).toBe(full.stats.points);
    const expanded = expand(pruned, windows, 3, (n) => (n === 2 ? full2 : linear));
    expect(sorted(expanded)).toEqual(sorted(failingOf(full)));
  });
});
