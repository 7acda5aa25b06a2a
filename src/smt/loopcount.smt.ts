/**
 * Proof obligations for JAPARI as first published, with loop-count footprints
 * (src/engines/japari-loopcount: engine.ts, plan.ts, and the rules in rules.ts).
 *
 * Every decision of the design is the rule function the engine runs (japari-loopcount/rules.ts),
 * here on bit-vector terms (bvOps, src/smt/ops.smt.ts) with the engine's rule options (its seeded
 * faults, engine.ts lcRuleOptions): the footprint of an iteration is the LEA product of
 * `dummyInput` and `dummyWeight` (16-bit `int` product); the seeker's decoding is `seekIteration`
 * (R1/R2); the resume point is `seekDecision` (R1-R4) over the NVM a failure leaves; the SIGN of
 * the next inference is `layerEnd`'s toggle. Where a rule needs the plan data of a symbolic
 * iteration (R3/R4), the encoder splits over the candidate iterations and calls the rule per case.
 *
 * indicator-arithmetic (per conv/FC layer), symbolic iteration k in [1, iterations] and SIGN:
 *   the LEA yields exactly +k (SIGN 0) / -k (SIGN 1); and for every tile t and m <= iterations
 *   per tile, the running footprint sum of the tile's first m iterations stays within int16
 *   (the LEA add would saturate it).
 * indicator-distinguishability (per conv/FC layer), symbolic iteration i and SIGN: the fresh
 *   footprint decodes to i; the previous inference's last footprint (the SIGN layerEnd toggled
 *   from, iteration I) and never-written 0 decode to a fresh start; every torn mix of iteration
 *   i's footprint over iteration i - 1's (or over the stale value when i = 1) decodes to i - 1,
 *   i or a fresh start (a fresh start is safe with one failure).
 * layer-commit (per conv/FC layer): a finished layer re-entered under the old SIGN decodes its
 *   last footprint as the last iteration (nothing recomputed) or as a fresh start (recomputed,
 *   correct), never as another iteration; once the commit landed, the SIGN layerEnd leaves
 *   decodes it as a fresh start (the next inference's layer start takes nothing for progress).
 */
import {
  loopCountPlanOf,
  type LcLeaLayer,
  type LcIteration,
  iterationOf,
  lcPosition,
  lcPositionOf,
  pbFirstFootprint,
  pbLastFootprint,
  seekReadsOf,
  LC_TILE_PIXELS,
} from '../engines/japari-loopcount/plan.js';
import {
  type LcRuleOptions,
  type Resume,
  FRESH,
  HOW_FRESH,
  dummyInput,
  dummyWeight,
  layerEnd,
  seekDecision,
  seekIteration,
  sign1Of,
  unfinishedPbPixel,
} from '../engines/japari-loopcount/rules.js';
import { lcRuleOptions } from '../engines/japari-loopcount/engine.js';
import { positionOf } from '../engines/reference/engine.js';
import { Script, type BV, type Bool, add, all, any, bv, eq, ite, lookup, mul, not, sgt, sle, slt, sub, udiv, ugt, ule, uge, ult, urem, FALSE, TRUE } from './smtlib.js';
import { type BvOps, bvOps } from './ops.smt.js';
import { runInference } from '../engines/runner.js';
import { warmNvm } from '../properties/properties.js';
import type { PagedMemory } from '../device/paged.js';
import { type Obligation, type Counterexample, type ReplayOutcome, goal } from './obligation.js';
import { leaDot } from './lea.smt.js';
import { loopCountAugmentation } from './augment.smt.js';
import { recordObligation } from './record.smt.js';
import type { ProveContext } from './context.js';
import { layerLabel } from './labels.js';

/** The rule options of the deployment's seeded faults (the engine's, engine.ts lcRuleOptions). */
function optsOf(ctx: ProveContext): LcRuleOptions {
  return lcRuleOptions(new Set(ctx.plan.params.faults));
}

/**
 * The 16-bit footprint of iteration i (a rule value) under SIGN (sign1: SIGN 1), as the LEA
 * computes it from the rules' dummy input and dummy weight. A constant SIGN keeps every product
 * a multiplication by a constant; a symbolic one is split.
 */
export function loopFootprint(s: Script, ctx: ProveContext, o: BvOps, sign1: Bool, i: BV): BV {
  if (sign1.c === undefined) {
    return ite(sign1, loopFootprint(s, ctx, o, TRUE, i), loopFootprint(s, ctx, o, FALSE, i));
  }
  return leaDot(s, [o.toI16(dummyInput(o, sign1))], [o.toI16(dummyWeight(o, sign1, i))], ctx.plan.params.arithmetic);
}

/** seekProgress R1/R2 (rules.ts seekIteration) on a 16-bit footprint: the iteration it names, or FRESH. */
export function decodeFootprint(o: BvOps, v: BV, sign1: Bool, iterations: number, opts: LcRuleOptions): BV {
  return seekIteration(o, sign1, o.fromI16(v), o.k(iterations), opts);
}

/** The slot state of the SIGN the previous inference ran a layer under, given this inference's (rules.ts layerEnd). */
function previousState(o: BvOps, l: LcLeaLayer, state: number, opts: LcRuleOptions): number {
  for (const p of [-state, state]) {
    const next = layerEnd(o, { state: o.k(p), layerIdx: o.k(l.index), running: o.k(1), runCounter: o.k(0) }, { layer: l.index, last: false, lea: true, opts }).state;
    if (o.constant(next) === state) return p;
  }
  return -state;
}

function tornWord(newV: BV, oldV: BV): BV {
  return { w: 16, s: `(concat ((_ extract 15 8) ${oldV.s}) ((_ extract 7 0) ${newV.s}))` };
}

// ---------------------------------------------------------------------------------------------

function arithmetic(ctx: ProveContext, l: LcLeaLayer): Obligation {
  const I = l.iterations;
  // Goal 1: the footprint product, per SIGN.
  const products = ([0, 1] as const).map((sign) => {
    const s1 = new Script();
    const o = bvOps(s1);
    const k = s1.declare('k', 32, 'unsigned');
    const sign1 = sign === 1 ? TRUE : FALSE;
    s1.observeBool('sign1', sign1);
    s1.assert(all(uge(k, bv(1, 32)), ule(k, bv(I, 32))));
    const fp = s1.observe('footprint', loopFootprint(s1, ctx, o, sign1, k));
    s1.assert(not(eq(o.fromI16(fp), sign === 1 ? o.neg(k) : k)));
    return s1;
  });
  // Goal 2: the running sums of a tile stay within int16 (exact sums of +-i, 32-bit).
  const s2 = new Script();
  {
    const ipt = l.itersPerTile;
    const tiles = I / ipt;
    const t = s2.declare('tile', 32, 'unsigned');
    const m = s2.declare('m', 32, 'unsigned');
    s2.assert(all(ult(t, bv(tiles, 32)), uge(m, bv(1, 32)), ule(m, bv(ipt, 32))));
    const base = mul(t, bv(ipt, 32));
    // sum_{i = base+1}^{base+m} i = m * base + m (m + 1) / 2
    const sum = s2.observe('tile_sum', add(mul(m, base), udiv(mul(m, add(m, bv(1, 32))), bv(2, 32))), 'unsigned');
    s2.assert(ugt(sum, bv(32767, 32)));
  }
  return {
    id: 'indicator-arithmetic',
    layer: layerLabel(l),
    layerIndex: l.index,
    statement: `For every iteration k <= ${I} of ${l.name} and both SIGNs the LEA computes the footprint dummy input x dummy weight as exactly +k / -k (no 16-bit wrap of 16 * loop_cnt, no saturation), and no tile's running footprint sum leaves int16 (${l.itersPerTile} iterations per tile).`,
    tiedTo: ['japari-loopcount/rules.ts#dummyInput', 'japari-loopcount/rules.ts#dummyWeight', 'japari-loopcount/rules.ts#loopCnt', 'japari-loopcount/engine.ts#computeAndPreserve', 'japari-loopcount/engine.ts#accumulate', 'lea.ts#dotGeneric'],
    encoding: 'symbolic iteration k (32-bit), SIGN, tile index and iterations m into the tile; the rules over bit-vectors (bvOps), the LEA dot product through the bit-vector AccOps instance',
    goals: [
      ...products.map((p, sign) => goal(`SIGN ${sign}: the LEA footprint is not ${sign === 1 ? '-k' : '+k'}`, p, undefined, { name: 'k', w: 32 })),
      goal('a tile\'s running footprint sum saturates', s2, undefined, { name: 'tile', w: 32 }),
    ],
    replay: (cex) => (cex['k'] !== undefined ? replayFresh(ctx, l, cex['k'] as number, cex['sign1'] === true) : replaySaturation(ctx, l)),
    finding: (cex) => (cex['k'] !== undefined ? 'loopcount-dummy-weight-wrap' : 'loopcount-saturated-running-sums'),
  };
}

/** The first failure that lands PB's first footprint of iteration k: recovery restarts? */
function replayFresh(ctx: ProveContext, l: LcLeaLayer, k: number, sign1: boolean): ReturnType<NonNullable<Obligation['replay']>> {
  const warm = sign1 ? 1 : 0;
  const g = ctx.golden(warm);
  const lc = loopCountPlanOf(ctx.plan);
  const B = lc.B;
  const pbFp = l.pb + 2 * B;
  // The k-th landing of PB's first footprint's high byte in this layer-run.
  const units = g.unitsOf(l.index).get(pbFp + 1) ?? [];
  const u = units[k - 1];
  if (u === undefined) return { note: `iteration ${k} never writes PB in the golden run` };
  const spec = ctx.runSpec(warm, [g.action[u]! + 1]);
  return ctx.replayRecovery(spec, l.index, (job) => job === 0, `a fresh restart of ${l.name} (recovered job 0) although ${k - 1} iterations were done`);
}

function replaySaturation(ctx: ProveContext, l: LcLeaLayer): ReturnType<NonNullable<Obligation['replay']>> {
  const ipt = l.itersPerTile;
  // The first iteration of the layer (the refuted tile is one of possibly many) whose two
  // predecessors' sums both saturated: a failure right before its op 1 makes the monotonicity
  // scan see no break (32767 twice).
  let iter = -1;
  for (let t = 0; t * ipt < l.iterations && iter < 0; t++) {
    const base = t * ipt;
    let sum = 0;
    const sums: number[] = [];
    for (let m = 1; m <= ipt; m++) {
      sum += base + m;
      sums.push(sum);
    }
    const m = sums.findIndex((_, idx) => idx >= 2 && sums[idx - 1]! >= 32767 && sums[idx - 2]! >= 32767);
    if (m >= 0 && base + m + 1 <= l.iterations) iter = base + m + 1;
  }
  if (iter < 0) return { note: 'no tile saturates early enough for a scan to be fooled' };
  const g = ctx.golden(0);
  const at = g.checkpoints.get(positionOf(l.index, lcPosition(iter, 1, 0)));
  if (at === undefined) return { note: `no checkpoint at iteration ${iter}, op 1` };
  // The skipped accumulation shows only where it adds something: try a few inputs (the
  // schedule is input-independent).
  let last: ReplayOutcome | null = null;
  for (let input = 0; input < 4; input++) {
    const out = ctx.replay(ctx.runSpec(0, [at], input), (v) => v.property === 'equivalence', `a wrong output after the scan accepted saturated sums at iteration ${iter}`);
    if (out.reproduced) return out;
    last = out;
  }
  return last!;
}

// ---------------------------------------------------------------------------------------------

/**
 * The misreading goal. With `midTileTorn`, only torn misreads that land in the middle of a tile
 * (not at an iteration that starts one, where recovery would rebuild the tile from PB) count:
 * that goal comes first, so a refutation shows the most damaging case when there is one.
 */
function distinguishabilityScript(ctx: ProveContext, l: LcLeaLayer, midTileTorn: boolean, sign: 0 | 1): Script {
  const I = l.iterations;
  const s = new Script();
  const o = bvOps(s);
  const opts = optsOf(ctx);
  const i = s.declare('i', 32, 'unsigned');
  const sign1 = sign === 1 ? TRUE : FALSE;
  s.observeBool('sign1', sign1);
  const first = s.declareBool('first_inference', true);
  s.assert(all(uge(i, bv(1, 32)), ule(i, bv(I, 32))));
  const fresh = s.observe('written', loopFootprint(s, ctx, o, sign1, i));
  const prevI = loopFootprint(s, ctx, o, sign1, sub(i, bv(1, 32)));
  // The previous inference ran the layer under the SIGN layerEnd toggled into this one.
  const prevSign1 = sign1Of(o, o.k(previousState(o, l, sign === 1 ? -1 : 1, opts)));
  const staleV = s.observe('stale', ite(first, bv(0, 16), loopFootprint(s, ctx, o, prevSign1, bv(I, 32))));
  const before = s.observe('before', ite(eq(i, bv(1, 32)), staleV, prevI));
  const torn = s.observe('torn', tornWord(fresh, before));
  const dFresh = s.observe('decoded_written', decodeFootprint(o, fresh, sign1, I, opts), 'signed');
  const dStale = s.observe('decoded_stale', decodeFootprint(o, staleV, sign1, I, opts), 'signed');
  const dTorn = s.observe('decoded_torn', decodeFootprint(o, torn, sign1, I, opts), 'signed');
  const tornOk = any(eq(dTorn, i), eq(dTorn, bv(FRESH, 32)), all(ugt(i, bv(1, 32)), eq(dTorn, sub(i, bv(1, 32)))));
  const spi = ctx.spec.placement === 'spi-fram';
  if (midTileTorn) {
    const midTile = not(eq(urem(sub(dTorn, bv(1, 32)), bv(l.itersPerTile, 32)), bv(0, 32)));
    s.observeBool('written_misread', FALSE);
    s.observeBool('stale_misread', FALSE);
    s.observeBool('torn_misread', TRUE);
    s.assert(spi ? all(not(tornOk), midTile) : FALSE);
    return s;
  }
  const freshBad = s.observeBool('written_misread', not(eq(dFresh, i)));
  const staleBad = s.observeBool('stale_misread', not(eq(dStale, bv(FRESH, 32))));
  const tornBad = s.observeBool('torn_misread', spi ? not(tornOk) : FALSE);
  s.assert(any(freshBad, staleBad, tornBad));
  return s;
}

function distinguishability(ctx: ProveContext, l: LcLeaLayer): Obligation {
  const I = l.iterations;
  const kind = (cex: Counterexample) => (cex['written_misread'] ? 'fresh' : cex['stale_misread'] ? 'stale' : 'torn');
  return {
    id: 'indicator-distinguishability',
    layer: layerLabel(l),
    layerIndex: l.index,
    statement: `PB's first footprint of ${l.name} names exactly the iteration i <= ${I} that wrote it; the previous inference's last footprint and never-written 0 decode to a fresh start; a torn mix over iteration i - 1's footprint decodes to i - 1, i or a fresh start -- for both SIGNs.`,
    tiedTo: ['japari-loopcount/rules.ts#seekIteration (R1, R2)', 'japari-loopcount/rules.ts#dummyInput', 'japari-loopcount/rules.ts#dummyWeight', 'japari-loopcount/rules.ts#layerEnd', 'japari-loopcount/engine.ts#computeAndPreserve', 'lea.ts#dotGeneric'],
    encoding: 'symbolic iteration i (32-bit), SIGN, first inference or not; torn = new low byte + old high byte; the rules over bit-vectors (bvOps)',
    goals: [true, false].flatMap((mid) =>
      ([0, 1] as const).map((sign) =>
        goal(
          mid ? `SIGN ${sign}: a torn footprint is misread as an iteration inside an earlier tile` : `SIGN ${sign}: a footprint value is misread`,
          distinguishabilityScript(ctx, l, mid, sign),
          undefined,
          { name: 'i', w: 32 },
        ),
      ),
    ),
    replay: (cex) => {
      const k = kind(cex);
      const iter = cex['i'] as number;
      if (k === 'fresh') return replayFresh(ctx, l, iter, cex['sign1'] === true);
      if (k === 'stale') {
        // The previous inference leaves its last footprint in PB; this inference (other SIGN)
        // decodes it at the layer start (JAP_CONV always seeks): no failure needed.
        const decoded = cex['decoded_stale'] as number;
        const spec = ctx.runSpec(cex['sign1'] ? 1 : 2, []);
        return ctx.replayRecovery(spec, l.index, (job) => job === decoded - 1 || job === decoded, `${l.name} resumed from the previous inference's footprint (iteration ${decoded})`, true);
      }
      const warm = cex['sign1'] ? 1 : 0;
      const g = ctx.golden(warm);
      const B = loopCountPlanOf(ctx.plan).B;
      const lo = (g.unitsOf(l.index).get(l.pb + 2 * B) ?? [])[iter - 1];
      if (lo === undefined) return { note: `iteration ${iter} never writes PB` };
      const decoded = cex['decoded_torn'] as number;
      const spec = ctx.runSpec(warm, [g.action[lo]! + 1]);
      return ctx.replayRecovery(spec, l.index, (job) => job === decoded - 1 || job === decoded, `the torn footprint of iteration ${iter} read as iteration ${decoded}`);
    },
    finding: (cex) => (kind(cex) === 'torn' ? 'loopcount-torn-footprint-256' : 'loopcount-dummy-weight-wrap'),
  };
}

function commit(ctx: ProveContext, l: LcLeaLayer): Obligation {
  const I = l.iterations;
  const opts = optsOf(ctx);
  const last = l.index === loopCountPlanOf(ctx.plan).layers.length - 1;
  // Per SIGN of the finished layer: re-entered before the commit landed (the record's older copy,
  // the old SIGN), and after it (the SIGN rules.ts layerEnd leaves for the next inference).
  const scripts = ([false, true] as const).flatMap((committed) =>
    ([0, 1] as const).map((sign) => {
      const s = new Script();
      const o = bvOps(s);
      const state = sign === 1 ? -1 : 1;
      const sign1 = sign1Of(o, o.k(state));
      s.observeBool('sign1', sign1);
      s.observeBool('committed', committed ? TRUE : FALSE);
      const fp = s.observe('last_footprint', loopFootprint(s, ctx, o, sign1, bv(I, 32)));
      if (!committed) {
        const d = s.observe('decoded', decodeFootprint(o, fp, sign1, I, opts), 'signed');
        s.assert(not(any(eq(d, bv(I, 32)), eq(d, bv(FRESH, 32)))));
        return { committed, sign, s };
      }
      const next = layerEnd(o, { state: o.k(state), layerIdx: o.k(l.index), running: o.k(1), runCounter: o.k(0) }, { layer: l.index, last, lea: true, opts });
      const nextSign1 = sign1Of(o, next.state);
      s.observeBool('next_sign1', nextSign1);
      const d = s.observe('decoded', decodeFootprint(o, fp, nextSign1, I, opts), 'signed');
      s.assert(not(eq(d, bv(FRESH, 32))));
      return { committed, sign, s };
    }),
  );
  return {
    id: 'layer-commit',
    layer: layerLabel(l),
    layerIndex: l.index,
    statement: `${l.name} finished but not committed (SIGN and layer_idx + 1 in one versioned record write) and re-entered under the old SIGN decodes its last footprint as iteration ${I} (nothing recomputed) or as a fresh start (recomputed, correct), never as another iteration; once committed, the next inference's SIGN (the toggle at layer end) decodes it as a fresh start.`,
    tiedTo: ['japari-loopcount/rules.ts#layerEnd', 'japari-loopcount/rules.ts#seekIteration', 'japari-loopcount/rules.ts#sign1Of', 'japari-loopcount/engine.ts#endLayer', 'record.ts#RecordStore.commit'],
    encoding: 'per SIGN, before and after the commit; the last iteration concrete; the rules over bit-vectors (bvOps)',
    goals: scripts.map(({ committed, sign, s }) =>
      goal(committed ? `SIGN ${sign}: after the commit the next inference decodes the last footprint as an iteration` : `SIGN ${sign}: the last footprint decodes to another iteration`, s),
    ),
    replay: (cex) => {
      if (cex['committed'] !== true) return { note: 'the layer is re-entered under the old SIGN only after a failure during its commit; see layer-commit' };
      // The next inference's layer start reads this inference's last footprint: no failure needed.
      const decoded = cex['decoded'] as number;
      const spec = ctx.runSpec(cex['next_sign1'] === true ? 1 : 2, []);
      return ctx.replayRecovery(spec, l.index, (job) => job === decoded - 1 || job === decoded, `${l.name} resumed from the previous inference's footprint (iteration ${decoded})`, true);
    },
    finding: (cex) => (cex['committed'] === true && cex['sign1'] === false && I >= 2048 ? 'loopcount-dummy-weight-wrap' : undefined),
  };
}

// ---------------------------------------------------------------------------------------------
// seeker-exactness: bounded model checking of __JAP_PG_RETRIEVE over windows of iterations

const TILE = LC_TILE_PIXELS;
/** lcPosition as a number: (iter - 1) * 2 * 16 + op * 16 + pixel. */
const posOf = (iter: number, op: 0 | 1, pixel: number) => lcPosition(iter, op, pixel);
const OUTSIDE = 0x7ffffff0;
/** The split's resume codes for an iteration outside the window (beside rules.ts HOW_*). */
const HOW_OUTSIDE = 10;
const HOW_OUTSIDE_FIRST = 11;
const HOW_OUTSIDE_LAST = 12;

/** Name the leaves of one case's decision (keeps the merged text linear in the candidates). */
function defineResume(s: Script, r: Resume<BV>): Resume<BV> {
  return { iter: s.define(r.iter, 'r'), op: s.define(r.op, 'r'), pixel: s.define(r.pixel, 'r'), how: s.define(r.how, 'r') };
}

interface WindowRun {
  /** Units of the window in landing order: NVM byte address, byte value, step position. */
  readonly addr: number[];
  readonly value: number[];
  readonly pos: number[];
  /** Unit index -> first unit of its step (for the boundary case). */
  readonly firstOfStep: boolean[];
  /** Action of each unit (replays) and of the step after the window. */
  readonly action: number[];
  readonly endAction: number;
  /** NVM byte at the window's start. */
  readonly initial: (addr: number) => number;
}

/** The windows of iterations a layer's BMC covers (the bound). */
export function seekerWindows(l: LcLeaLayer): [number, number][] {
  const I = l.iterations;
  const out: [number, number][] = [[1, Math.min(I, l.itersPerTile + 1)]];
  for (let m = 256; m <= I; m += 256) out.push([Math.max(1, m - 1), Math.min(I, m + 1)]);
  // The first tile whose running footprint sums (SIGN 0: sums of +i) saturate for two
  // consecutive iterations before its last one: the monotonicity scan can then see no break.
  for (let t = 0; t * l.itersPerTile < I; t++) {
    const b = t * l.itersPerTile;
    let sum = 0;
    let saturated = 0;
    for (let m = 1; m < l.itersPerTile; m++) {
      sum += b + m;
      if (sum >= 32767) saturated++;
    }
    if (saturated >= 2) {
      out.push([b + 1, Math.min(I, b + l.itersPerTile)]);
      break;
    }
  }
  if (I >= 2048) out.push([2047, Math.min(I, 2049)]);
  const merged: [number, number][] = [];
  for (const w of out.sort((x, y) => x[0] - y[0])) {
    const last = merged[merged.length - 1];
    if (last && w[0] <= last[1] + 1) last[1] = Math.max(last[1], w[1]);
    else merged.push([w[0], w[1]]);
  }
  return merged;
}

const snapshotCache = new WeakMap<ProveContext, Map<number, Map<number, PagedMemory>>>();

/** NVM at the start of every seeker window of every conv/FC layer (one run per warm-up count). */
function windowSnapshots(ctx: ProveContext, warm: number): Map<number, PagedMemory> {
  let byWarm = snapshotCache.get(ctx);
  if (!byWarm) {
    byWarm = new Map();
    snapshotCache.set(ctx, byWarm);
  }
  const hit = byWarm.get(warm);
  if (hit) return hit;
  const g = ctx.golden(warm);
  const starts = new Set<number>();
  for (const l of loopCountPlanOf(ctx.plan).layers) {
    if (l.kind !== 'conv' && l.kind !== 'gemm') continue;
    for (const [a] of seekerWindows(l)) {
      const at = g.checkpoints.get(positionOf(l.index, posOf(a, 0, 0)));
      if (at !== undefined) starts.add(at);
    }
  }
  const snaps = new Map<number, PagedMemory>();
  runInference(ctx.deployment, {
    input: ctx.model.inputQ(0),
    supply: { kind: 'continuous' },
    seed: 0,
    nvm: warmNvm(ctx.deployment, Array.from({ length: warm }, (_, k) => ctx.model.inputQ(k + 1))),
    onCheckpoint: (dev) => {
      if (starts.has(dev.action) && !snaps.has(dev.action)) snaps.set(dev.action, dev.nvm.snapshot());
    },
  });
  byWarm.set(warm, snaps);
  return snaps;
}

/** One golden run (SIGN by warm-ups) with the NVM snapshot and the write units of a window. */
function windowRun(ctx: ProveContext, l: LcLeaLayer, warm: number, a: number, b: number): WindowRun | null {
  const g = ctx.golden(warm);
  const cp = (iter: number, op: 0 | 1, pixel: number) => g.checkpoints.get(positionOf(l.index, posOf(iter, op, pixel)));
  const start = cp(a, 0, 0);
  // The golden run may not execute the window at all (a faithful seeker that skips it).
  if (start === undefined) return null;
  const endIt = b < l.iterations ? (cp(b + 1, 0, 0) ?? g.actions) : (g.checkpoints.get(positionOf(l.index + 1, 0)) ?? g.actions);
  // Step boundaries inside the window: every (iter, op, pixel) checkpoint.
  const steps: [number, number][] = [];
  for (let iter = a; iter <= b; iter++) {
    const it = iterationOf(l, loopCountPlanOf(ctx.plan).B, iter);
    for (const op of [0, 1] as const) for (let k = 0; k < it.npix; k++) steps.push([cp(iter, op, k)!, posOf(iter, op, k)]);
  }
  steps.sort((x, y) => x[0] - y[0]);
  const addr: number[] = [];
  const value: number[] = [];
  const pos: number[] = [];
  const action: number[] = [];
  const firstOfStep: boolean[] = [];
  let si = 0;
  let lastStep = -1;
  // Units are in action order: find the window's range by bisection.
  const firstAtOrAfter = (x: number): number => {
    let lo = 0;
    let hi = g.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (g.action[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  // Only the layer's own state counts (PB and the two output copies), not record commits.
  const lcNvm = l.out.copies.map((c) => [c, c + 2 * l.out.layout.words] as const);
  const mine = (x: number) => (x >= l.pb && x < l.pb + 2 * l.pbWords) || lcNvm.some(([lo, hi]) => x >= lo && x < hi);
  for (let i = firstAtOrAfter(start), end = firstAtOrAfter(endIt); i < end; i++) {
    const act = g.action[i]!;
    if (!mine(g.addr[i]!)) continue;
    while (si + 1 < steps.length && steps[si + 1]![0] <= act) si++;
    addr.push(g.addr[i]!);
    value.push(g.value[i]!);
    pos.push(steps[si]![1]);
    action.push(act);
    firstOfStep.push(si !== lastStep);
    lastStep = si;
  }
  // NVM at the window's start (one run per SIGN snapshots every window start of every layer).
  const mem = windowSnapshots(ctx, warm).get(start);
  if (!mem) return null;
  return { addr, value, pos, firstOfStep, action, endAction: endIt, initial: (x) => mem.readU8(x) };
}

function seeker(ctx: ProveContext, l: LcLeaLayer): Obligation {
  const B = loopCountPlanOf(ctx.plan).B;
  const opts = optsOf(ctx);
  const I = l.iterations;
  const windows = seekerWindows(l);
  const goals = [];
  const runs = new Map<string, WindowRun>();
  const skipped: string[] = [];
  for (const sign of [0, 1] as const) {
    for (const [a, b] of windows) {
      const run = windowRun(ctx, l, sign, a, b);
      if (!run) {
        skipped.push(`SIGN ${sign} ${a}..${b}`);
        continue;
      }
      runs.set(`${sign}:${a}`, run);
      const s = new Script();
      const U = run.addr.length;
      const p = s.declare('p', 32, 'unsigned');
      s.assert(ule(p, bv(U, 32)));
      // Byte value after prefix p: the last unit writing it before p, else the initial byte.
      const writes = new Map<number, number[]>();
      run.addr.forEach((x, i) => {
        const list = writes.get(x);
        if (list) list.push(i);
        else writes.set(x, [i]);
      });
      const byteCache = new Map<number, BV>();
      const byte = (x: number): BV => {
        let t = byteCache.get(x);
        if (t) return t;
        t = bv(run.initial(x), 8);
        for (const i of writes.get(x) ?? []) t = ite(ugt(p, bv(i, 32)), bv(run.value[i]!, 8), t);
        t = s.define(t, 'byte');
        byteCache.set(x, t);
        return t;
      };
      const word = (x: number): BV => concatBV(byte(x + 1), byte(x));
      const o = bvOps(s);
      const sign1 = sign === 1 ? TRUE : FALSE;
      const at16 = (x: number): BV => o.fromI16(word(x));
      // R1/R2 (rules.ts seekIteration), observed for the counterexample.
      const pb1 = o.fromI16(s.observe('pb1', word(pbFirstFootprint(l, B))));
      const lc = s.observe('decoded', seekIteration(o, sign1, pb1, o.k(I), opts), 'signed');
      // The seeker's reads (the engine's words): each an ite chain over the window's writes.
      const reads = seekReadsOf(l, B, at16);
      // R3/R4 for every candidate iteration of the window (rules.ts resumeWithin, called by
      // seekDecision once per case of the split below). Candidates outside the window: resuming
      // at an earlier iteration is safe only at the first iteration of a tile with op 0 redone
      // from pixel 0 (R3 at pixel 0: the tile is rebuilt from scratch, copy 0 written
      // directly); anything else re-adds or reloads stale work. R3 reads PB only, so it depends
      // on the tile's shape (pixels, words per pixel): rules.ts unfinishedPbPixel per shape.
      const tiles = Math.ceil(I / l.itersPerTile);
      const shapes: LcIteration[] = [];
      const shapeOfTile = Array.from({ length: tiles }, (_, t) => {
        const it = iterationOf(l, B, t * l.itersPerTile + 1, opts);
        let k = shapes.findIndex((x) => x.npix === it.npix && x.callWords === it.callWords);
        if (k < 0) {
          shapes.push(it);
          k = shapes.length - 1;
        }
        return k;
      });
      const rebuildsFromPixel0 = shapes.map((sh) =>
        o.eq(unfinishedPbPixel(o, pb1, sh.npix, (k) => at16(pbLastFootprint(l, sh, k)), () => {}, opts).at, o.k(0)),
      );
      const lcTile = udiv(sub(lc, bv(1, 32)), bv(l.itersPerTile, 32));
      const shapeIdx = lookup(shapeOfTile, lcTile, 8);
      let rebuild: Bool = FALSE;
      for (let k = shapes.length - 1; k >= 0; k--) rebuild = o.iteB(eq(shapeIdx, bv(k, 8)), rebuildsFromPixel0[k]!, rebuild);
      // The first iteration of a tile (copy 0 rewritten from scratch), or the last one of a
      // tile (its op 1 reads the other copy, which still holds the sum before it -- safe once
      // that tile is finished, checked below against the failure point).
      const ipt = bv(l.itersPerTile, 32);
      const firstOfTile = eq(urem(sub(lc, bv(1, 32)), ipt), bv(0, 32));
      const lastOfTile = eq(urem(lc, ipt), bv(0, 32));
      const tileBoundary = all(sgt(lc, bv(0, 32)), any(firstOfTile, lastOfTile), rebuild);
      const outsideHow = ite(tileBoundary, ite(firstOfTile, bv(HOW_OUTSIDE_FIRST, 32), bv(HOW_OUTSIDE_LAST, 32)), bv(HOW_OUTSIDE, 32));
      const split = (n: BV, decide: (it: LcIteration) => Resume<BV>): Resume<BV> => {
        const named = s.define(n, 'lc');
        let acc: Resume<BV> = { iter: named, op: o.k(0), pixel: o.k(0), how: outsideHow };
        for (let c = b; c >= Math.max(1, a - 1); c--) {
          const it = iterationOf(l, B, c, opts);
          const rest = acc;
          acc = o.when(o.eq(named, o.k(c)), () => defineResume(s, decide(it)), () => rest);
        }
        return acc;
      };
      const res = defineResume(s, seekDecision(o, { sign1, iterations: o.k(I), opts }, reads, split));
      const how = res.how;
      const R = s.observe(
        'resume',
        ite(
          eq(how, bv(HOW_FRESH, 32)),
          bv(FRESH, 32),
          ite(eq(how, bv(HOW_OUTSIDE, 32)), bv(OUTSIDE, 32), ite(eq(how, bv(HOW_OUTSIDE_FIRST, 32)), bv(OUTSIDE + 1, 32), ite(eq(how, bv(HOW_OUTSIDE_LAST, 32)), bv(OUTSIDE + 2, 32), lcPositionOf(o, res.iter, res.op, res.pixel)))),
        ),
        'signed',
      );
      // The failure point: the step of the first unit at or after p that changes NVM (units that
      // rewrite a byte with its current value change nothing), or the step after the window;
      // and whether any unit of that step that changes NVM has landed.
      const eff = effectiveProgress(run, posOf(b + 1, 0, 0));
      const F = s.observe('failure_step', lookup(eff.pos, p, 32), 'unsigned');
      const atStepStart = eq(lookup(eff.untouched, p, 1), bv(1, 1));
      const iterOfPos = (x: BV) => add(udiv(x, bv(2 * TILE, 32)), bv(1, 32));
      const opOfPos = (x: BV) => udiv(urem(x, bv(2 * TILE, 32)), bv(TILE, 32));
      const sameIter = all(eq(iterOfPos(R), iterOfPos(F)), ule(R, F));
      const fIsOp0Pixel0 = eq(urem(F, bv(2 * TILE, 32)), bv(0, 32));
      const boundary = all(atStepStart, fIsOp0Pixel0, eq(iterOfPos(R), sub(iterOfPos(F), bv(1, 32))), eq(opOfPos(R), bv(1, 32)));
      // OUTSIDE + 1: a tile rebuilt from its first iteration, not later than F; OUTSIDE + 2: the
      // last iteration of a tile finished before F's tile, redone from op 0 pixel 0.
      const fIter = iterOfPos(F);
      const fTileStart = sub(fIter, urem(sub(fIter, bv(1, 32)), ipt));
      const rebuilt = any(all(eq(R, bv(OUTSIDE + 1, 32)), sle(lc, fIter)), all(eq(R, bv(OUTSIDE + 2, 32)), slt(lc, fTileStart)));
      const special = any(eq(R, bv(OUTSIDE, 32)), eq(R, bv(OUTSIDE + 1, 32)), eq(R, bv(OUTSIDE + 2, 32)));
      const safe = any(eq(R, bv(FRESH, 32)), rebuilt, all(not(special), any(sameIter, boundary)));
      s.assert(not(safe));
      goals.push(
        goal(`SIGN ${sign}, iterations ${a}..${b}: recovery resumes at an unsafe position`, s, (v) => {
          const r = v['resume'] as number;
          const f = v['failure_step'] as number;
          const show = (x: number) => (x === FRESH ? 'fresh start' : x === OUTSIDE ? 'outside the window' : x === OUTSIDE + 1 ? `the first iteration of a tile (${v['decoded']}), rebuilt` : x === OUTSIDE + 2 ? `the last iteration of a finished tile (${v['decoded']}), redone` : `iteration ${Math.floor(x / (2 * TILE)) + 1}, op ${Math.floor((x % (2 * TILE)) / TILE)}, pixel ${x % TILE}`);
          return { sign, window: [a, b], failure_before_unit: v['p'] as number, failure_in: show(f), resumes_at: show(r), pb1: v['pb1'] as number, decoded: v['decoded'] as number };
        }, { name: 'p', w: 32 }),
      );
    }
  }
  return {
    id: 'seeker-exactness',
    layer: layerLabel(l),
    layerIndex: l.index,
    statement: `A failure before any write unit of ${l.name} within the bound leaves NVM from which __JAP_PG_RETRIEVE resumes safely: a fresh start, a step of the interrupted iteration no later than the failure, or the previous iteration's accumulation when nothing of the next one landed.`,
    tiedTo: ['japari-loopcount/rules.ts#seekDecision (R1-R4)', 'japari-loopcount/rules.ts#resumeWithin', 'japari-loopcount/rules.ts#unfinishedPbPixel', 'japari-loopcount/rules.ts#firstBreak', 'japari-loopcount/engine.ts#computeAndPreserve', 'japari-loopcount/engine.ts#accumulate', 'japari-loopcount/plan.ts#iterationOf', 'japari-loopcount/plan.ts#outputWordOf'],
    bound: `BMC, one failure before any write unit of iterations ${windows.map(([a, b]) => (a === b ? `${a}` : `${a}..${b}`)).join(', ')} of ${I} (both SIGNs); the NVM at each window start from the golden run${skipped.length > 0 ? `; not executed by the golden run, so not checked: ${skipped.join(', ')}` : ''}`,
    encoding: 'symbolic failure point p (unit index); every byte the seeker reads as an ite chain over the window\'s writes; the seeker\'s rules over bit-vectors (bvOps), R3/R4 split over every candidate iteration',
    goals,
    replay: (cex) => {
      const sign = cex['sign'] as number;
      const [a] = cex['window'] as unknown as number[];
      const run = runs.get(`${sign}:${a}`)!;
      const p = cex['failure_before_unit'] as number;
      const at = p < run.action.length ? run.action[p]! : run.endAction;
      const resumes = String(cex['resumes_at']);
      const m = /^iteration (\d+)/.exec(resumes);
      const decoded = cex['decoded'] as number;
      const want = resumes === 'fresh start' ? 0 : m ? Number(m[1]) - 1 : decoded - 1;
      const what = `recovery resuming at ${resumes === 'outside the window' ? `iteration ${decoded}` : resumes} after the failure in ${String(cex['failure_in'])}, and a wrong output`;
      // The unsafe resume must show as a wrong output; an input whose contribution to the skipped
      // or repeated work is 0 hides it, so a few inputs are tried (the schedule does not depend
      // on the input: the engines' control flow is data-independent).
      let last: ReplayOutcome | null = null;
      for (let input = 0; input < 4; input++) {
        const out = ctx.replayRecovery(ctx.runSpec(sign, [at], input), l.index, (job) => job === want || job === want + 1, what, false, true);
        if (out.reproduced) return out;
        last = out;
      }
      return last!;
    },
    finding: (cex) => {
      const d = cex['decoded'] as number;
      const failIter = /^iteration (\d+)/.exec(String(cex['failure_in']));
      const fi = failIter ? Number(failIter[1]) : -1;
      if (d === FRESH || (d >= 2048 && (cex['sign'] as number) === 0)) return 'loopcount-dummy-weight-wrap';
      if (d !== fi && d !== fi - 1) return (cex['sign'] as number) === 1 && d > I ? 'loopcount-dummy-weight-wrap' : 'loopcount-torn-footprint-256';
      // The decoded iteration is right: the monotonicity scan was fooled; saturated sums do that.
      const it = iterationOf(l, B, Math.max(1, d));
      const base = it.tile * l.itersPerTile;
      let sum = 0;
      for (let m = 1; m <= it.inner; m++) sum += base + m;
      return sum >= 32767 ? 'loopcount-saturated-running-sums' : undefined;
    },
  };
}

/**
 * Per prefix p (0..units): the step position of the first unit u >= p whose byte differs from
 * the byte it overwrites (the progress NVM actually lacks), and whether no unit of that step
 * before p changed anything (the step has effectively not started).
 */
function effectiveProgress(run: WindowRun, after: number): { pos: number[]; untouched: number[] } {
  const U = run.addr.length;
  const last = new Map<number, number>();
  const changes: boolean[] = [];
  for (let u = 0; u < U; u++) {
    const a = run.addr[u]!;
    const before = last.has(a) ? last.get(a)! : run.initial(a);
    changes.push(run.value[u] !== before);
    last.set(a, run.value[u]!);
  }
  const pos: number[] = new Array(U + 1);
  const firstChange: number[] = new Array(U + 1);
  let next = U;
  for (let p = U; p >= 0; p--) {
    if (p < U && changes[p]) next = p;
    firstChange[p] = next;
    pos[p] = next < U ? run.pos[next]! : after;
  }
  const untouched = Array.from({ length: U + 1 }, (_, p) => {
    const u = firstChange[p]!;
    if (u >= U) return 1;
    const step = run.pos[u]!;
    for (let q = p - 1; q >= 0 && run.pos[q] === step; q--) if (changes[q]) return 0;
    return 1;
  });
  return { pos, untouched };
}

function concatBV(hi: BV, lo: BV): BV {
  if (hi.c !== undefined && lo.c !== undefined) return bv((hi.c << 8n) | lo.c, 16);
  return { w: 16, s: `(concat ${hi.s} ${lo.s})` };
}

export function loopCountObligations(ctx: ProveContext): Obligation[] {
  const lc = loopCountPlanOf(ctx.plan);
  const out: Obligation[] = [];
  for (const l of lc.layers) {
    if (l.kind !== 'conv' && l.kind !== 'gemm') continue;
    out.push(distinguishability(ctx, l));
    out.push(arithmetic(ctx, l));
    out.push(loopCountAugmentation(ctx, l));
    out.push(seeker(ctx, l));
    out.push(commit(ctx, l));
  }
  out.push(recordObligation(ctx));
  return out;
}

