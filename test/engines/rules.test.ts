/**
 * The rules of every design run on two instances of Ops: numbers in the engines, bit-vector terms
 * in the Z3 encodings. On constant terms the symbolic instance folds to constants, so evaluating a
 * rule on both instances with the same random inputs must give the same values: this keeps the
 * proofs speaking about the very function the engines run (src/engines/ops.ts).
 */
import { describe, expect } from 'vitest';
import { test, fc } from '@fast-check/vitest';
import { num } from '../../src/engines/ops.js';
import { bvOps } from '../../src/smt/ops.smt.js';
import { toSigned, type BV, type Bool } from '../../src/smt/smtlib.js';
import { newerIsCopy1, bumpVersion, writeTarget } from '../../src/engines/common/rules.js';
import {
  psb,
  toggleTurningPoint,
  flipStateBit,
  jobFootprintWord,
  resumeWord,
  footprintSaysFinished,
  firstUnfinishedJob,
  searchExit,
  layerEndSteps,
  type JobMap,
  type TpTable,
  TURNING_POINTS,
} from '../../src/engines/japari/rules.js';
import { counterUpdate, counterWriteDue, recoveredJob } from '../../src/engines/hawaii/rules.js';

const sym = () => bvOps();
const val = (t: BV): number => {
  if (t.c === undefined) throw new Error(`not constant: ${t.s.slice(0, 120)}`);
  return Number(toSigned(t.c, t.w));
};
const truth = (b: Bool): boolean => {
  if (b.c === undefined) throw new Error(`not constant: ${b.s.slice(0, 120)}`);
  return b.c;
};

const tableArb = fc
  .uniqueArray(fc.integer({ min: 0, max: 0xffff }), { maxLength: TURNING_POINTS })
  .chain((tps) => fc.record({ state: fc.constantFrom(1, -1), tps: fc.constant([...tps].sort((a, b) => a - b)) }));

describe('rules: numbers and bit-vectors agree', () => {
  test.prop([fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 })])('common: newerIsCopy1, bumpVersion, writeTarget', (v0, v1) => {
    const o = sym();
    expect(truth(newerIsCopy1(o, o.k(v0), o.k(v1)))).toBe(newerIsCopy1(num, v0, v1));
    expect(val(bumpVersion(o, o.k(v0)))).toBe(bumpVersion(num, v0));
    const t = writeTarget(o, o.k(v0), o.k(v1));
    const n = writeTarget(num, v0, v1);
    expect([truth(t.copy1), val(t.version)]).toEqual([n.copy1, n.version]);
  });

  test.prop([tableArb, fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff })])('japari: psb, toggleTurningPoint, flipStateBit', (t, L, x) => {
    const o = sym();
    const nt: TpTable<number> = { state: t.state, count: t.tps.length, tps: t.tps };
    const st: TpTable<BV> = { state: o.k(t.state), count: o.k(t.tps.length), tps: t.tps.map((v) => o.k(v)) };
    expect(val(psb(o, st, o.k(x)))).toBe(psb(num, nt, x));
    const tn = toggleTurningPoint(num, nt, L);
    const ts = toggleTurningPoint(o, st, o.k(L));
    expect(truth(ts.overflow)).toBe(tn.overflow);
    expect(val(ts.table.count)).toBe(tn.table.count);
    expect(ts.table.tps.slice(0, tn.table.count).map(val)).toEqual(tn.table.tps.slice(0, tn.table.count));
    if (!tn.overflow) {
      const fnum = flipStateBit(num, nt, L);
      const fsym = flipStateBit(o, st, o.k(L));
      expect(val(psb(o, fsym, o.k(x)))).toBe(psb(num, fnum, x));
      // flipStateBit flips psb on [0, L) only.
      expect(psb(num, fnum, x)).toBe(x < L ? -psb(num, nt, x) : psb(num, nt, x));
    } else {
      expect(() => flipStateBit(num, nt, L)).toThrow(/turning-point table full/);
      expect(o.requirements.length).toBe(0);
      flipStateBit(o, st, o.k(L));
      expect(truth(o.violated())).toBe(true);
    }
  });

  const mapArb: fc.Arbitrary<JobMap> = fc.oneof(
    fc.record({ kind: fc.constant('generic' as const), B: fc.integer({ min: 1, max: 8 }), words: fc.integer({ min: 0, max: 5000 }) }),
    fc.integer({ min: 1, max: 8 }).chain((B) =>
      fc.record({ kind: fc.constant('sliced' as const), B: fc.constant(B), sliceWords: fc.integer({ min: B + 1, max: 300 }), slices: fc.integer({ min: 1, max: 4 }) }).map((r) => ({
        kind: 'sliced' as const,
        B: r.B,
        sliceWords: r.sliceWords,
        words: r.sliceWords * r.slices,
        perSlice: Math.floor(r.sliceWords / (r.B + 1)),
      })),
    ),
    fc.record({ B: fc.integer({ min: 1, max: 4 }), jpc: fc.integer({ min: 1, max: 4 }), px: fc.integer({ min: 1, max: 30 }), tiles: fc.integer({ min: 1, max: 3 }), slices: fc.integer({ min: 1, max: 2 }) }).map((r) => {
      const callWords = r.jpc * (r.B + 1);
      const Cs = callWords * r.tiles;
      const perTile = r.px * r.jpc;
      const perSlice = r.tiles * perTile;
      return { kind: 'conv' as const, B: r.B, words: Cs * r.px * r.slices, sliceWords: Cs * r.px, Cs, callWords, jobsPerCall: r.jpc, perTile, perSlice, jobs: perSlice * r.slices };
    }),
  );

  test.prop([mapArb, fc.integer({ min: 0, max: 2000 })])('japari: jobFootprintWord and resumeWord', (m, j) => {
    const o = sym();
    expect(val(jobFootprintWord(o, m, o.k(j)))).toBe(jobFootprintWord(num, m, j));
    expect(val(resumeWord(o, m, o.k(j)))).toBe(resumeWord(num, m, j));
  });

  test.prop([fc.integer({ min: -32768, max: 32767 }), fc.constantFrom(1, -1), fc.boolean()])('japari: footprintSaysFinished', (v, e, trustsSign) => {
    const o = sym();
    expect(truth(footprintSaysFinished(o, o.k(v), o.k(e), { trustsSign }))).toBe(footprintSaysFinished(num, v, e, { trustsSign }));
  });

  test.prop([fc.integer({ min: 0, max: 3000 }), fc.nat({ max: 3000 }), fc.boolean(), fc.boolean()])(
    'japari: the binary search returns the finished prefix (the fault: the last job when even the end probe reads finished)',
    (end, dRaw, endAnswer, lastJob) => {
      const D = Math.min(dRaw, end);
      // Jobs below D are finished; the probe of job `end` (the word past the layer's last job) may read anything.
      const isFinished = (j: number) => (j === end ? endAnswer : j < D);
      const probes: number[] = [];
      const got = firstUnfinishedJob(num, end, (j) => (probes.push(j), isFinished(j)), { lastJobWhenAllFinished: lastJob });
      const allFinished = end > 0 && D === end && endAnswer;
      expect(got).toBe(allFinished && lastJob ? Math.max(0, end - 1) : D);
      expect(probes.length).toBeLessThanOrEqual(2 + Math.ceil(Math.log2(end + 1)));
      // The same function on constant terms (the symbolic instance folds the probes).
      const o = sym();
      const symFinished = (j: BV): Bool => o.iteB(o.eq(j, o.k(end)), o.bool(endAnswer), o.lt(j, o.k(D)));
      expect(val(firstUnfinishedJob(o, o.k(end), symFinished, { lastJobWhenAllFinished: lastJob }))).toBe(got);
      expect(o.requirements.every((r) => r.cond.c !== false)).toBe(true);
    },
  );

  test.prop([fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 1, max: 255 }), fc.boolean(), fc.integer({ min: 1, max: 16 }), fc.boolean()])('hawaii: counterUpdate, counterWriteDue, recoveredJob', (value, version, newer1, B, next) => {
    const o = sym();
    const n = counterUpdate(num, { value, version, newer1 }, B);
    const s = counterUpdate(o, { value: o.k(value), version: o.k(version), newer1: o.bool(newer1) }, B);
    expect([val(s.value), val(s.version), truth(s.newer1)]).toEqual([n.value, n.version, n.newer1]);
    expect(truth(counterWriteDue(o, o.k(value % (2 * B)), B))).toBe(counterWriteDue(num, value % (2 * B), B));
    expect(val(recoveredJob(o, o.k(value), B, { resumeNextJob: next }))).toBe(recoveredJob(num, value, B, { resumeNextJob: next }));
  });

  test.prop([fc.boolean(), fc.boolean(), fc.integer({ min: -1, max: 3 })])('japari: layer-end steps commit layer_idx + 1 with the flipped state (faults: first, or without negation)', (commitBeforeState, noStateNegate, slot) => {
    const steps = layerEndSteps({ layer: 4, last: false, slot, L: 12, commitBeforeState, noStateNegate });
    const flip = steps.findIndex((s) => s.kind === 'flip');
    const commit = steps.findIndex((s) => s.kind === 'commit' && s.layerIdx === 5);
    expect(commit).toBeGreaterThanOrEqual(0);
    if (slot < 0) expect(flip).toBe(-1);
    else expect(commit > flip).toBe(!commitBeforeState);
  });

  test('a seeker that finds two finished jobs below the end is stuck: EngineStuck on numbers, a failed requirement on terms', () => {
    // A footprint that reads unfinished on the first probe and finished on the second (NVM that
    // changes under the seeker): the search ends at b = 6, e = 7, both finished, below the end 10.
    let probes7 = 0;
    const flaky = (j: number) => (j === 7 ? probes7++ > 0 : j < 10);
    expect(() => firstUnfinishedJob(num, 10, flaky, { lastJobWhenAllFinished: false })).toThrow(/both finished below the end/);
    const o = sym();
    const job = searchExit(o, { b: o.k(6), e: o.k(7) }, o.k(10), (j) => o.lt(j, o.k(10)), { lastJobWhenAllFinished: false });
    expect(val(job)).toBe(10);
    expect(truth(o.violated())).toBe(true);
  });
});
