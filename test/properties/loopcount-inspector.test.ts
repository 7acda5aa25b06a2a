/**
 * The loop-count engine's inspector (src/engines/japari-loopcount/design.ts): what fuzzing and
 * exploration check at its seeks.
 *
 *  - its job map: iterations; value words (never footprints) of the copy a tile's first two
 *    iterations write, disjoint between jobs; later iterations carry no word (not observable by
 *    position); maxLagJobs = iterations per tile; only conv/FC layers seek
 *  - exploration's shortcuts agree with their slow twins on it (pruned vs unpruned, the
 *    incremental monitor vs from-scratch checks), where the design holds and under seeded faults
 *  - what it sees in the published design on lenet: the torn-footprint finding now also shows as
 *    lost or skipped progress, and a torn footprint at loop count 257 under SIGN 1 restarts
 *    conv1 from scratch (correct output, 256 iterations of work lost: progress-exactness)
 */
import { describe, it, expect } from 'vitest';
import { loadModel } from '../../src/model/models.js';
import { Deployment, runInference, warmedUp } from '../../src/engines/runner.js';
import { msp430fr5994 } from '../../src/device/profile.js';
import { explore, type ExploreOptions, type ExploreResult } from '../../src/properties/explore.js';
import { replaySpec } from '../../src/properties/replay.js';
import type { RunSpec } from '../../src/properties/token.js';
import { loopCountPlanOf, iterationOf, lcPosition, type LcLeaLayer } from '../../src/engines/japari-loopcount/plan.js';
import { positionOf } from '../../src/engines/reference/engine.js';

function deploy(model: string, batch: number, faults: string[] = []) {
  const m = loadModel(model);
  return { m, d: new Deployment(m.q, { engine: 'japari-loopcount', batch, placement: 'spi-fram', profile: msp430fr5994, faults }) };
}

function opts(m: ReturnType<typeof loadModel>, extra: Partial<ExploreOptions> = {}): ExploreOptions {
  return { input: m.inputQ(1), warmup: [m.inputQ(2)], seed: 3, mode: 'linear', ...extra };
}

function failingPoints(r: ExploreResult): string[] {
  return r.failures.map((f) => `${f.schedule.join(',')}:${[...new Set(f.violations.map((v) => v.property))].sort().join('+')}`);
}

describe('loop-count inspector: job map', () => {
  for (const [model, batch] of [
    ['lenet', 1],
    ['lenet', 4],
    ['tiny-concat', 2],
    ['rnd:3x7x7:c6k3s1p1/r/c5k1s1p0/r/g7:5', 8],
  ] as const) {
    it(`${model} B=${batch}`, () => {
      const { d } = deploy(model, batch);
      const insp = d.inspector();
      const lc = loopCountPlanOf(d.plan);
      expect(insp.active).toBe(true);
      expect(insp.exact).toBe(false);
      expect(insp.layers).toBe(lc.layers.length);
      const scratch = new Int32Array(insp.jobWordsMax + 1);
      for (const l of lc.layers) {
        const lea = l.kind === 'conv' || l.kind === 'gemm';
        expect(insp.seeks(l.index)).toBe(lea);
        expect(insp.layerName(l.index)).toBe(l.name);
        if (!lea) {
          expect(insp.jobs(l.index)).toBe(0);
          continue;
        }
        const L = l as LcLeaLayer;
        expect(insp.jobs(l.index)).toBe(L.iterations);
        expect(insp.maxLagJobs(l.index)).toBe(L.itersPerTile);
        expect(insp.outputBase(l.index)).toBe(L.out.copies[0]);
        const words = insp.outputWords(l.index);
        const owner = new Map<number, number>();
        for (let j = 0; j < L.iterations; j++) {
          const it = iterationOf(L, batch, j + 1);
          const n = insp.jobWords(l.index, j, scratch);
          const ia = insp.indicatorAddr(l.index, j);
          const iw = ia < 0 ? -1 : (ia - insp.outputBase(l.index)) / 2;
          if (it.inner >= 2) {
            expect([n, iw]).toEqual([0, -1]);
            continue;
          }
          expect(n).toBe(it.npix * it.tm);
          for (let k = 0; k < n; k++) {
            const w = scratch[k]!;
            expect(w >= 0 && w < words).toBe(true);
            // A value word, in the copy this iteration writes, owned by no other job.
            const copyWord = w - (L.out.copies[it.flip]! - L.out.copies[0]!) / 2;
            expect(copyWord % L.out.layout.Cs % (batch + 1)).not.toBe(batch);
            expect(owner.has(w)).toBe(false);
            owner.set(w, j);
          }
          expect(iw >= 0 && iw < words && !owner.has(iw)).toBe(true);
          owner.set(iw, j);
        }
      }
    });
  }
});

describe('loop-count inspector: exploration shortcuts agree with their slow twins', () => {
  for (const [model, batch, faults] of [
    ['tiny-concat', 2, []],
    ['tiny-fc', 4, []],
    ['tiny-concat', 1, ['loopcount-resume-next-iteration']],
    ['tiny-concat', 2, ['loopcount-sign-not-toggled']],
    ['tiny-strided', 2, ['loopcount-seek-first-pb-only']],
    ['tiny-concat', 2, ['loopcount-pb-footprint-first']],
  ] as const) {
    it(`${model} B=${batch} ${faults.join(' ') || 'published design'}: pruned == unpruned, monitor == from-scratch checks`, () => {
      const { m, d } = deploy(model, batch, [...faults]);
      const pruned = explore(d, opts(m));
      const full = explore(d, opts(m, { prune: false }));
      const scratch = explore(d, opts(m, { fullChecks: true }));
      expect(failingPoints(pruned)).toEqual(failingPoints(scratch));
      expect(pruned.verdict).toBe(faults.length === 0 ? 'pass' : 'fail');
      expect(full.verdict).toBe(pruned.verdict);
      // Pruning stops a recovery once it rejoins the uninterrupted run, whose own violations are
      // reported once (`golden`): the failing points match only when that run is clean.
      if (pruned.golden.length === 0) expect(failingPoints(pruned)).toEqual(failingPoints(full));
      else expect(full.golden.map((v) => v.property)).toEqual(pruned.golden.map((v) => v.property));
    }, 300_000);
  }
});

describe('loop-count inspector on the published design (lenet conv1)', () => {
  /** The action right after the low byte of PB pixel 0's first footprint landed, in iteration `iter`'s op 0. */
  function tornFirstFootprint(batch: number, warm: boolean, iter: number): RunSpec {
    const spec: RunSpec = { model: 'lenet', engine: 'japari-loopcount', batch, placement: 'spi-fram', profile: 'inas2021', faults: [], fixes: [], input: 1, warmup: warm ? [2] : [], seed: 3, garbage: { kind: 'random' }, schedule: [] };
    const { m, d } = deploy('lenet', batch);
    const conv1 = loopCountPlanOf(d.plan).layers[0] as LcLeaLayer;
    let at = -1;
    const r = runInference(d, {
      input: m.inputQ(1),
      supply: { kind: 'continuous' },
      seed: 1,
      trace: true,
      ...(warm ? { nvm: warmedUp(d, [m.inputQ(2)]) } : {}),
      onCheckpoint: (dv, pos) => {
        if (at < 0 && pos === positionOf(conv1.index, lcPosition(iter, 0, 0))) at = dv.action;
      },
    });
    const ev = r.trace!.find((e) => e.action >= at && e.label === 'write PB')!;
    expect(iterationOf(conv1, batch, iter).npix).toBe(16);
    return { ...spec, schedule: [ev.action + 2 * batch + 1] };
  }

  it('finding loopcount-torn-footprint-256 (SIGN 0, loop count 512 read as 256): equivalence and lost progress', () => {
    const run = replaySpec(tornFirstFootprint(1, false, 512));
    const props = new Set(run.violations.map((v) => v.property));
    expect(props.has('equivalence')).toBe(true);
    expect(props.has('progress-exactness')).toBe(true);
    expect(run.seeks.find((s) => s.boot === 2)?.recoveredJob).toBe(255);
  });

  it('SIGN 1, loop count 257 torn to -1: conv1 restarts at iteration 1; the output is right, 256 iterations of work are lost (progress-exactness)', () => {
    for (const batch of [1, 2]) {
      const run = replaySpec(tornFirstFootprint(batch, true, 257));
      expect(run.result.completed && run.result.equal).toBe(true);
      expect(run.violations.map((v) => v.property)).toEqual(['progress-exactness']);
      const seek = run.seeks.find((s) => s.boot === 2)!;
      expect(seek.recoveredJob).toBe(0);
      expect(seek.durableJobs).toBeGreaterThan(256);
    }
  });
});
