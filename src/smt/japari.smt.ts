/**
 * Proof obligations for the reference engine with JAPARI state-bit footprints
 * (src/engines/japari: rules.ts, design.ts).
 *
 * indicator-distinguishability (per seeking layer)
 *   symbolic: job j in [0, jobs), round n (32-bit; by the periodicity lemma only n == 0 and
 *   n mod 2 matter), every data word any writer of the slot leaves (free int16 variables);
 *   concrete: the plan (layouts, job map, slot sequence, turning points), the LEA arithmetic.
 *   Claim: with x = jobFootprintWord(j) and E = -psb(S, x) (the seeker's expectation):
 *     the value the layer writes at x equals E, and the stale value at x (the last earlier
 *     writer of the slot in this or the previous inference, or 0 never written) and the torn
 *     word (new low byte, old high byte; SPI FRAM lands bytes little-endian in ascending order)
 *     both differ from E.
 * seeker-exactness (per seeking layer), by composition:
 *   predicate: the distinguishability goal above (the seeker's per-job comparison is exact);
 *   write order: from the golden write log of the layer-run, symbolic job j (a multiplexer
 *     table over the job index): the footprint's high byte is the last byte of its job to land
 *     and its low byte lands just before it, jobs complete in index order, and the job map has
 *     an inverse (injective);
 *   composition: for one job with abstract unit indices and values satisfying the two facts
 *     above, after every prefix p of the write sequence (a torn footprint included) the
 *     seeker's view equals durability -- so the finished jobs are exactly the durable prefix;
 *   binary search: ReferenceEngine.binarySearch by induction (invariant b < e <= J,
 *     b <= D <= e, b == 0 or b < D), for every job count 1 <= J < 2^31 (or <= --max-jobs) and
 *     durable prefix D: it returns D and never reaches its error branch.
 * layer-commit (per layer; the record itself in record.smt.ts): a finished, uncommitted layer
 *   re-entered under the old record sees every job finished (the search returns the end and
 *   nothing is recomputed), the commit's version byte lands after the layer's last output byte,
 *   and the toggled turning-point table fits the record (<= 8 entries, u16 offsets).
 */
import type { EngineLayer } from '../engines/reference/plan.js';
import { jobMapOf, japariLayerEnd, seeksAt } from '../engines/japari/design.js';
import {
  jobCount,
  jobFootprintWord as ruleFootprintWord,
  footprintSaysFinished,
  flipStateBit,
  searchStart,
  searchContinues,
  searchStep,
  searchExit,
  SEARCH_BOUND,
  type TpTable,
  TURNING_POINTS,
} from '../engines/japari/rules.js';
import { num } from '../engines/ops.js';
import { bvOps } from './ops.smt.js';
import { isFootprintWord } from '../model/layout.js';
import {
  Script,
  type BV,
  type Bool,
  add,
  all,
  any,
  bv,
  eq,
  mul,
  ite,
  not,
  lookup,
  sub,
  udiv,
  uge,
  ugt,
  ule,
  ult,
  urem,
  FALSE,
  TRUE,
  iff,
} from './smtlib.js';
import { type Obligation, type Counterexample, goal } from './obligation.js';
import {
  type RefFacts,
  refFacts,
  jobFootprintWord,
  markerTerm,
  slotTable,
  writerValue,
  staleValue,
  tornWord,
  roundFlags,
  W32,
} from './reference.smt.js';
import type { ProveContext } from './context.js';
import { augmentationObligation } from './augment.smt.js';
import { recordObligation } from './record.smt.js';
import { leaDot } from './lea.smt.js';
import type { Violation } from '../properties/properties.js';
import { layerLabel } from './labels.js';

export { layerLabel };

/** ReferenceEngine.jobCount: the jobs the seeker searches (0: the layer is recomputed). */
function jobsOf(f: RefFacts, l: EngineLayer): number {
  return jobCount(jobMapOf(f.plan, l));
}

/** Rounds the replay uses for a symbolic round n: 0, or the first round of the same parity. */
export function warmupsFor(n: number): number {
  return n === 0 ? 0 : n % 2 === 1 ? 1 : 2;
}

const TORN = (ctx: ProveContext) => ctx.spec.placement === 'spi-fram';

/**
 * The seeker's comparison of a footprint word with the marker: japari/rules.ts
 * footprintSaysFinished on 16-bit terms (with the seeded fault that compares the sign byte only).
 */
export function seenFinished(ctx: ProveContext, word: BV, expected: BV): Bool {
  const o = bvOps();
  return footprintSaysFinished(o, o.fromI16(word), o.fromI16(expected), { trustsSign: ctx.plan.params.faults.includes('japari-seek-trusts-sign') });
}

// ---------------------------------------------------------------------------------------------
// Periodicity lemma

/**
 * The slot state is 2-periodic in the round: with F one inference's flips of the slot
 * (rules.ts flipStateBit at each writer's L, in order) and S0 the table as flashed (state +1, no
 * turning points), F(F(S0)) = S0 with no flip overflowing the table. By induction the state after
 * n inferences is S0 for even n and F(S0) for odd n -- the two tables refFacts computes -- so the
 * encoders may use the parity of a symbolic round. The rules run on constant terms here (the
 * symbolic instance folds them), so the query is decided by the same functions the engine runs.
 */
export function periodicityScript(f: RefFacts, slot: number): Script {
  const s = new Script();
  const sf = f.slots[slot]!;
  const o = bvOps(s);
  const S0: TpTable<BV> = { state: o.k(1), count: o.k(0), tps: [] };
  const F = (t: TpTable<BV>): TpTable<BV> => sf.writers.reduce((acc, w) => flipStateBit(o, acc, o.k(f.writers[w]!.L)), t);
  const S2 = F(F(S0));
  // S0 has no turning point: equal tables have the same state and no entry.
  const same = all(eq(S2.state, S0.state), eq(S2.count, S0.count));
  s.observe('turning_points_after_two_inferences', S2.count, 'unsigned');
  s.assert(any(o.violated(), not(same)));
  return s;
}

// ---------------------------------------------------------------------------------------------
// indicator-distinguishability

/** The misjudgement goal of indicator-distinguishability (shared with seeker-exactness). */
function distinguishabilityScript(ctx: ProveContext, f: RefFacts, l: EngineLayer, limit: number): Script {
  const wf = f.writers[l.index]!;
  const s = new Script();
  const j = s.declare('j', W32, 'unsigned');
  const n = s.declare('n', W32, 'unsigned');
  s.assert(ult(j, bv(limit, W32)));
  const { first, odd } = roundFlags(n);
  const w = s.observe('word', jobFootprintWord(f, l, j), 'unsigned');
  const x = s.observe('slot_word', add(w, bv(wf.offset, W32)), 'unsigned');
  const expected = s.observe('expected', markerTerm(bvOps(s), f, wf.slot, l.index, odd, x));
  const dataNew = s.declare('data_new', 16, 'signed');
  const fresh = s.observe('written', writerValue(s, f, wf, odd, w, dataNew));
  const stale = staleValue(s, f, l.index, odd, first, x, 'stale');
  const old = s.observe('stale', stale.value);
  s.observe('stale_source', stale.source);
  const torn = s.observe('torn', tornWord(fresh, old));
  const finishedUnseen = s.observeBool('finished_unseen', not(seenFinished(ctx, fresh, expected)));
  const staleSeen = s.observeBool('stale_seen', seenFinished(ctx, old, expected));
  // A job writes its footprint last (address order; seeker-exactness checks the golden write
  // order): a torn footprint that already equals the written word leaves the job complete in NVM.
  const tornSeen = s.observeBool('torn_seen', TORN(ctx) ? all(seenFinished(ctx, torn, expected), not(eq(torn, fresh))) : FALSE);
  s.observeBool('written_is_footprint', isFpTerm(f, wf, w));
  s.assert(any(finishedUnseen, staleSeen, tornSeen));
  return s;
}

function distinguishabilityDecoder(ctx: ProveContext): (v: Record<string, number | boolean>) => Counterexample {
  return (v) => {
    const src = v['stale_source'] as number;
    const hex = (x: number) => `0x${(x & 0xffff).toString(16).padStart(4, '0')}`;
    return {
      job: v['j'] as number,
      round: v['n'] as number,
      bytes: { written: hex(v['written'] as number), stale: hex(v['stale'] as number), torn: hex(v['torn'] as number), expected: hex(v['expected'] as number) },
      stale_from:
        src < 0
          ? 'never written (0)'
          : src >= 1000
            ? `${layerLabel(ctx.plan.layers[src - 1000]!)} of the previous inference`
            : `${layerLabel(ctx.plan.layers[src]!)} of this inference`,
      case: v['finished_unseen'] ? 'durable job seen unfinished' : v['stale_seen'] ? 'stale indicator seen finished' : 'torn indicator seen finished',
    };
  };
}

function distinguishability(ctx: ProveContext, f: RefFacts, l: EngineLayer): Obligation {
  const jobs = jobsOf(f, l);
  const limit = ctx.spec.maxJobs !== undefined ? Math.min(jobs, ctx.spec.maxJobs) : jobs;
  const wf = f.writers[l.index]!;
  const s = distinguishabilityScript(ctx, f, l, limit);
  const lemma = periodicityScript(f, wf.slot);
  const decode = distinguishabilityDecoder(ctx);
  return {
    id: 'indicator-distinguishability',
    layer: layerLabel(l),
    layerIndex: l.index,
    statement: `Every footprint job j < ${limit} of ${l.name} writes exactly the marker -psb(x) the seeker expects at its footprint word x, and the stale word (earlier tensors in slot ${wf.slot} of this or the previous inference, or never-written 0) and every torn old/new byte mix differ from it, for every round n.`,
    tiedTo: ['japari/rules.ts#jobFootprintWord', 'japari/rules.ts#footprintSaysFinished', 'japari/rules.ts#psb', 'japari/rules.ts#flipStateBit', 'japari/design.ts#beforeConvCall', 'japari/design.ts#beforeGemmCall', 'japari/design.ts#embedIndicators', 'lea.ts#dotGeneric'],
    encoding: `symbolic job index (32-bit, < ${limit}), symbolic round n (32-bit; reduced to n == 0 / n mod 2 by the periodicity lemma, proved as the first goal), symbolic data words of every writer; concrete plan, slot sequence ${JSON.stringify(f.slots[wf.slot]!.writers)} and LEA arithmetic${TORN(ctx) ? '; torn = new low byte + old high byte' : '; word-atomic NVM (no torn words)'}`,
    goals: [
      goal(`slot ${wf.slot} state is 2-periodic in the round`, lemma),
      goal('a job\'s written, stale or torn footprint word is misjudged', s, decode, { name: 'n', w: W32 }),
    ],
    replay: (cex) => replayDistinguishability(ctx, l, cex),
    finding: (cex) => findingOf(ctx, f, l, cex),
  };
}

function isFpTerm(f: RefFacts, wf: RefFacts['writers'][number], w: BV): Bool {
  if (wf.fpEvery === 0) return FALSE;
  const xs = urem(w, bv(wf.sliceWords, W32));
  return all(ult(xs, bv(wf.fpEnd, W32)), eq(urem(xs, bv(f.B + 1, W32)), bv(f.B, W32)));
}

/**
 * Which published-design finding a refutation is (reports/findings ids): the layer whose write
 * is misjudged -- the probed layer itself (a durable job seen unfinished) or the earlier writer
 * of the slot (a stale word seen finished) -- tells the cause.
 */
function findingOf(ctx: ProveContext, f: RefFacts, l: EngineLayer, cex: Counterexample): string | undefined {
  const job = cex['job'] as number;
  const word = ruleFootprintWord(num, jobMapOf(ctx.plan, l), job);
  const src = String(cex['stale_from']);
  const kase = String(cex['case']);
  const culprit = kase === 'durable job seen unfinished' ? l : (ctx.plan.layers.find((x) => src.startsWith(`${layerLabel(x)} `)) ?? l);
  if (culprit.kind !== 'gemm') return undefined;
  const lay = culprit.out.layout;
  const local = word - (culprit.out.base - l.out.base) / 2;
  const dataWord = local >= culprit.out.words || !isFootprintWord(lay, local % lay.words);
  if (lay.fpEvery === 0) return 'japari-fc-without-footprints';
  if (dataWord || (culprit.out.slices > 1 && !f.sliceJobs)) return 'japari-gemm-slice-job-map';
  if (!f.perColumn) return 'japari-gemm-call-sign';
  return undefined;
}

function replayDistinguishability(ctx: ProveContext, l: EngineLayer, cex: Counterexample): ReturnType<NonNullable<Obligation['replay']>> {
  const warm = warmupsFor(cex['round'] as number);
  const g = ctx.golden(warm);
  const job = cex['job'] as number;
  const word = ruleFootprintWord(num, jobMapOf(ctx.plan, l), job);
  const addr = l.out.base + 2 * word;
  const units = g.unitsOf(l.index);
  const lo = units.get(addr);
  const hi = units.get(addr + 1);
  const outputUnits = [...units.entries()].filter(([a]) => a >= l.out.base && a < l.out.base + 2 * l.out.words).flatMap(([, u]) => u);
  const firstOut = outputUnits.length > 0 ? Math.min(...outputUnits) : -1;
  const kase = cex['case'];
  const expect = (v: Violation) => (v.property === 'indicator-distinguishability' || v.property === 'progress-exactness' || v.property === 'equivalence') && (v.layer === l.index || v.layer === undefined);
  if ((kase !== 'stale indicator seen finished' && !hi) || outputUnits.length === 0) {
    // The layer never writes the word in this inference: its very first seek (every boot starts
    // with one) already skipped it. The run needs no power failure at all.
    return ctx.replay(ctx.runSpec(warm, []), expect, `a violation at ${l.name} without any power failure`);
  }
  // Power fails right after the footprint's high byte (durable job), after its low byte (torn),
  // or before the layer writes anything (stale).
  const at =
    kase === 'durable job seen unfinished' ? g.action[hi![0]!]! + 1 : kase === 'torn indicator seen finished' && lo ? g.action[lo[0]!]! + 1 : g.action[firstOut]!;
  const rs = ctx.runSpec(warm, [at]);
  const out = ctx.replay(rs, expect, `an indicator or progress violation at ${l.name}`);
  if (!out.reproduced && String(cex['stale_from']) !== 'never written (0)' && kase === 'stale indicator seen finished') {
    return { ...out, violation: `${out.violation} (the stale word comes from an earlier tensor, yet the model saw neither a misjudged job nor a footprint word holding data)` };
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// indicator-arithmetic

function arithmetic(f: RefFacts, l: EngineLayer): Obligation {
  const s = new Script();
  const lea = l.kind === 'conv' || l.kind === 'gemm';
  if (lea) {
    const neg = s.declareBool('psb_negative', true);
    const weight = ite(neg, bv(-f.dummyWeight, 16), bv(f.dummyWeight, 16));
    const fp = s.observe('footprint', leaDot(s, [bv(-32768, 16)], [weight], f.arith));
    s.assert(not(eq(fp, ite(neg, bv(1, 16), bv(-1, 16)))));
  } else {
    s.assert(FALSE);
  }
  return {
    id: 'indicator-arithmetic',
    layer: layerLabel(l),
    layerIndex: l.index,
    statement: lea
      ? `The LEA computes each footprint of ${l.name} as the dummy input -32768 (-1.0) times the dummy weight ${f.dummyWeight} * psb = exactly -psb (no rounding, wrap or saturation changes it) under ${JSON.stringify(f.arith)}.`
      : `${l.name} writes its markers with the CPU (-psb, no LEA arithmetic involved).`,
    tiedTo: lea ? ['lea.ts#dotGeneric', 'japari/design.ts#beforeConvCall', 'japari/design.ts#beforeGemmCall'] : ['japari/design.ts#embedIndicators'],
    encoding: lea ? 'symbolic psb sign; the LEA dot product through the bit-vector AccOps instance at the plan\'s accumulator width' : 'no arithmetic',
    goals: [goal('the LEA footprint differs from -psb', s)],
  };
}

// ---------------------------------------------------------------------------------------------
// seeker-exactness

interface WriteOrder {
  /** Per job: unit index of the footprint's low and high byte, and of the job's last byte. */
  readonly fpLo: number[];
  readonly fpHi: number[];
  readonly last: number[];
  /** Units of the layer-run (prefix lengths 0..units). */
  readonly units: number;
  /** First unit index of the layer-run in the golden log (for replays). */
  readonly base: number;
  /** Bytes of the layer's jobs written more than once in the layer-run. */
  readonly rewritten: number;
}

function writeOrder(ctx: ProveContext, f: RefFacts, l: EngineLayer, jobs: number): WriteOrder {
  const g = ctx.golden(0);
  const units = g.unitsOf(l.index);
  const all = [...units.values()].flat();
  const base = all.length > 0 ? Math.min(...all) : 0;
  const end = all.length > 0 ? Math.max(...all) + 1 : 0;
  const map = jobMapOf(ctx.plan, l);
  const fpLo: number[] = [];
  const fpHi: number[] = [];
  const last: number[] = [];
  let rewritten = 0;
  const never = end - base + 1; // beyond every prefix: never lands in this layer-run
  for (let j = 0; j < jobs; j++) {
    const x = ruleFootprintWord(num, map, j);
    let lastU = -1;
    for (let k = x - f.B; k <= x; k++) {
      for (const b of [0, 1]) {
        const u = units.get(l.out.base + 2 * k + b);
        if (!u) lastU = Math.max(lastU, never + base);
        else {
          if (u.length > 1) rewritten++;
          lastU = Math.max(lastU, u[0]!);
        }
      }
    }
    const lo = units.get(l.out.base + 2 * x)?.[0];
    const hi = units.get(l.out.base + 2 * x + 1)?.[0];
    fpLo.push(lo === undefined ? never : lo - base);
    fpHi.push(hi === undefined ? never : hi - base);
    last.push(lastU - base);
  }
  return { fpLo, fpHi, last, units: end - base, base, rewritten };
}

function seeker(ctx: ProveContext, f: RefFacts, l: EngineLayer): Obligation {
  const jobs = jobsOf(f, l);
  const limit = ctx.spec.maxJobs !== undefined ? Math.min(jobs, ctx.spec.maxJobs) : jobs;
  const order = writeOrder(ctx, f, l, limit);

  // Goal 0: the distinguishability facts of this layer (the seeker's predicate per job).
  const s0 = distinguishabilityScript(ctx, f, l, limit);

  // Goal 1: write order from the golden log: the footprint's high byte is its job's last byte
  // to land and its low byte lands just before; jobs complete in index order.
  const s1 = new Script();
  {
    const j = s1.declare('j', W32, 'unsigned');
    s1.assert(ult(j, bv(limit, W32)));
    const next = add(j, bv(1, W32));
    const lastJ = s1.define(lookup(order.last, j, W32), 'last');
    const hiJ = s1.define(lookup(order.fpHi, j, W32), 'hi');
    const loJ = s1.define(lookup(order.fpLo, j, W32), 'lo');
    const lastNext = s1.define(lookup(order.last, next, W32), 'last_next');
    const fpLast = s1.observeBool('footprint_not_last', not(eq(hiJ, lastJ)));
    const loBefore = s1.observeBool('low_byte_not_just_before', not(eq(add(loJ, bv(1, W32)), hiJ)));
    const outOfOrder = s1.observeBool('completes_out_of_order', all(ult(next, bv(limit, W32)), uge(lastJ, lastNext)));
    s1.assert(any(fpLast, loBefore, outOfOrder));
  }
  // Goal 1b: the job map is injective (it has an inverse).
  const s1b = new Script();
  {
    const j = s1b.declare('j', W32, 'unsigned');
    s1b.assert(ult(j, bv(limit, W32)));
    s1b.assert(not(eq(jobOfWord(f, l, jobFootprintWord(f, l, j)), j)));
  }

  // Goal 2: composition. With the facts of goals 0 and 1 as assumptions (for one job, abstract
  // unit indices and values), the seeker's view after every prefix p equals durability.
  const s2 = new Script();
  {
    const p = s2.declare('p', W32, 'unsigned');
    const hi = s2.declare('hi', W32, 'unsigned');
    const lo = s2.declare('lo', W32, 'unsigned');
    const last = s2.declare('last', W32, 'unsigned');
    const fresh = s2.declare('written', 16, 'signed');
    const old = s2.declare('stale', 16, 'signed');
    const expected = s2.declare('expected', 16, 'signed');
    const torn = tornWord(fresh, old);
    // Goal 0's facts: the written word is seen finished, the stale word and a torn mix (unless
    // it already equals the written word) are not.
    s2.assert(
      all(
        eq(hi, last),
        eq(add(lo, bv(1, W32)), hi),
        ult(hi, bv(0xfffffff0, W32)),
        seenFinished(ctx, fresh, expected),
        not(seenFinished(ctx, old, expected)),
        TORN(ctx) ? any(not(seenFinished(ctx, torn, expected)), eq(torn, fresh)) : TRUE,
      ),
    );
    const word = ite(ugt(p, hi), fresh, ite(ugt(p, lo), TORN(ctx) ? torn : old, old));
    // A torn mix equal to the written word is the written word: after the low byte the job is complete.
    const durable = TORN(ctx) ? any(ugt(p, last), all(ugt(p, lo), eq(torn, fresh))) : ugt(p, last);
    s2.assert(not(iff(seenFinished(ctx, word, expected), durable)));
  }

  // Goal 3: the binary search returns the durable prefix for every job count J and prefix D.
  const maxJ = ctx.spec.maxJobs ?? 0x7fffffff;
  const bs = binarySearchScripts(maxJ, { lastJobWhenAllFinished: ctx.plan.params.faults.includes('japari-seek-last-job') });

  return {
    id: 'seeker-exactness',
    layer: layerLabel(l),
    layerIndex: l.index,
    statement: `After every prefix of ${l.name}'s write sequence (a torn last unit included) the seeker's finished predicate is true exactly for the durable jobs, they form a prefix, and the binary search returns its length.`,
    tiedTo: ['japari/rules.ts#searchStep', 'japari/rules.ts#searchExit', 'japari/rules.ts#firstUnfinishedJob', 'japari/rules.ts#footprintSaysFinished', 'reference/engine.ts#preserve', 'device.ts#dmaToNvm'],
    bound: `one layer-run: every prefix of its ${order.units} golden write units (BMC depth 1 failure, rounds n symbolic); binary search by induction for every job count 1 <= J <= ${maxJ}, at most ${SEARCH_BOUND} probes`,
    encoding: `write order from the golden write log as tables over the job index${order.rewritten > 0 ? ` (${order.rewritten} job bytes written more than once: the first landing counts)` : ''}; symbolic job j, round n and data words (the predicate), abstract prefix p and unit indices (composition), symbolic J, D and loop state (binary search by induction)`,
    goals: [
      goal("a job's footprint word is misjudged (the seeker's predicate)", s0, distinguishabilityDecoder(ctx), { name: 'n', w: W32 }),
      goal('write order: the footprint lands last, jobs complete in order', s1),
      goal('the job map is not injective', s1b),
      goal('composition: the view differs from durable truth after some prefix', s2),
      goal('binary search: the invariant fails initially', bs.init),
      goal('binary search: an iteration breaks the invariant', bs.step),
      goal(`binary search: an iteration does not halve the range (so ${SEARCH_BOUND} probes might not suffice)`, bs.halves),
      goal('binary search: the exit returns something other than the durable prefix', bs.exit),
    ],
    replay: (cex) => (cex['job'] !== undefined ? replayDistinguishability(ctx, l, cex) : { note: 'a write-order or search property of the plan, not a single run' }),
    finding: (cex) => (cex['job'] !== undefined ? findingOf(ctx, f, l, cex) : undefined),
  };
}

/**
 * ReferenceEngine.binarySearch proved by induction, for every job count 1 <= J <= maxJ and
 * durable prefix D <= J, with finished(m) = m < D for m < J and an arbitrary answer for the probe
 * of job J itself (the `end` probe). Invariant: b < e <= J, b <= D <= e, b == 0 or b < D.
 * Goals: the invariant holds initially; one iteration keeps it and shrinks e - b; at the exit
 * (e - b <= 1) the search returns D and never reaches its error branch.
 */
/** The inverse of rules.ts jobFootprintWord (a proof witness: the job map is injective). */
function jobOfWord(f: RefFacts, l: EngineLayer, x: BV): BV {
  const B = f.B;
  const c = (v: number) => bv(v, x.w);
  const m = jobMapOf(f.plan, l);
  switch (m.kind) {
    case 'sliced':
      return add(mul(udiv(x, c(m.sliceWords)), c(m.perSlice)), sub(udiv(add(urem(x, c(m.sliceWords)), c(1)), c(B + 1)), c(1)));
    case 'generic':
    case 'none':
      return sub(udiv(add(x, c(1)), c(B + 1)), c(1));
    case 'conv': {
      const t = udiv(x, c(m.sliceWords));
      const r = urem(x, c(m.sliceWords));
      const k = udiv(r, c(m.Cs));
      const r2 = urem(r, c(m.Cs));
      const fi = udiv(r2, c(m.callWords));
      const i = udiv(urem(r2, c(m.callWords)), c(B + 1));
      return add(add(mul(t, c(m.perSlice)), mul(fi, c(m.perTile))), add(mul(k, c(m.jobsPerCall)), i));
    }
  }
}

/**
 * japari/rules.ts's binary search proved by induction over its own step functions, for every job
 * count 1 <= J <= maxJ and durable prefix D <= J, with finished(m) = m < D for m < J and an
 * arbitrary answer for the probe of job J itself (the `end` probe). Invariant: b < e <= J,
 * b <= D <= e, b == 0 or b < D. Goals: searchStart establishes it; while searchContinues, one
 * searchStep keeps it and at least halves e - b (so SEARCH_BOUND probes suffice for J < 2^31);
 * at the exit searchExit returns D and never reaches its error branch (a requirement).
 */
export function binarySearchScripts(maxJ: number, faults: { readonly lastJobWhenAllFinished: boolean }): { init: Script; step: Script; halves: Script; exit: Script } {
  const W = W32;
  const setup = (s: Script) => {
    const J = s.declare('J', W, 'unsigned');
    const D = s.declare('D', W, 'unsigned');
    const endAnswer = s.declareBool('probe_of_end_finished', true);
    s.assert(all(uge(J, bv(1, W)), ule(J, bv(maxJ, W)), ule(D, J)));
    const finished = (m: BV): Bool => ite1(eq(m, J), endAnswer, ult(m, D));
    const inv = (b: BV, e: BV): Bool => all(ult(b, e), ule(e, J), ule(b, D), ule(D, e), any(eq(b, bv(0, W)), ult(b, D)));
    return { J, D, finished, inv, o: bvOps(s) };
  };
  const init = new Script();
  {
    const { J, inv, o } = setup(init);
    const s0 = searchStart(o, J);
    init.assert(not(inv(s0.b, s0.e)));
  }
  // One probe, as two queries (each is fast; together they are not): the invariant is kept,
  // and the range at least halves, 2 (e' - b') <= (e - b) + 1 (no overflow: e - b < 2^31).
  const stepQuery = (claim: 'invariant' | 'halves'): Script => {
    const q = new Script();
    const { finished, inv, o } = setup(q);
    const b = q.declare('b', W, 'unsigned');
    const e = q.declare('e', W, 'unsigned');
    q.assert(all(inv(b, e), searchContinues(o, { b, e })));
    const next = searchStep(o, { b, e }, finished);
    const left = sub(next.e, next.b);
    const ok = claim === 'invariant' ? inv(next.b, next.e) : ule(add(left, left), add(sub(e, b), bv(1, W)));
    q.assert(any(o.violated(), not(ok)));
    return q;
  };
  const step = stepQuery('invariant');
  const halves = stepQuery('halves');
  const exit = new Script();
  {
    const { J, D, finished, inv, o } = setup(exit);
    const b = exit.declare('b', W, 'unsigned');
    const e = exit.declare('e', W, 'unsigned');
    exit.assert(all(inv(b, e), not(searchContinues(o, { b, e }))));
    const result = exit.observe('returned', searchExit(o, { b, e }, J, finished, faults), 'unsigned');
    exit.observeBool('stuck', o.violated());
    exit.assert(any(o.violated(), not(eq(result, D))));
  }
  return { init, step, halves, exit };
}

function ite1(c: Bool, a: Bool, b: Bool): Bool {
  if (c.c === true) return a;
  if (c.c === false) return b;
  return { s: `(ite ${c.s} ${a.s} ${b.s})` };
}

// ---------------------------------------------------------------------------------------------
// layer-commit (per layer)

function commit(ctx: ProveContext, f: RefFacts, l: EngineLayer): Obligation {
  const jobs = jobsOf(f, l);
  const wf = f.writers[l.index]!;
  const goals = [];
  // A finished layer re-entered under the old record: every job seen finished.
  if (l.kind !== 'gap' && jobs > 0) {
    const s = new Script();
    const j = s.declare('j', W32, 'unsigned');
    const n = s.declare('n', W32, 'unsigned');
    s.assert(ult(j, bv(jobs, W32)));
    const { odd } = roundFlags(n);
    const w = jobFootprintWord(f, l, j);
    const x = add(w, bv(wf.offset, W32));
    const expected = markerTerm(bvOps(s), f, wf.slot, l.index, odd, x);
    const fresh = writerValue(s, f, wf, odd, w, s.declare('data', 16, 'signed'));
    s.observe('word', w, 'unsigned');
    s.assert(not(seenFinished(ctx, fresh, expected)));
    goals.push(
      goal('a finished job is seen unfinished under the old record', s, (v) => ({ job: v['j'] as number, round: v['n'] as number, case: 'durable job seen unfinished', stale_from: 'n/a' }), { name: 'n', w: W32 }),
    );
  }
  // The commit lands after the layer's last output byte (golden log).
  {
    const g = ctx.golden(0);
    const units = g.unitsOf(l.index);
    let lastOut = -1;
    let version = -1;
    const rec = ctx.plan.nvm.record;
    const rb = ctx.plan.nvm.recordBytes;
    for (const [a, u] of units) {
      if (a >= l.out.base && a < l.out.base + 2 * l.out.words) lastOut = Math.max(lastOut, u[u.length - 1]!);
      if ((a === rec + rb - 1 || a === rec + 2 * rb - 1) && u.length > 0) version = Math.max(version, u[u.length - 1]!);
    }
    const s = new Script();
    const lo = s.observe('last_output_unit', bv(lastOut, W32), 'signed');
    const vu = s.observe('commit_version_unit', bv(version, W32), 'signed');
    s.assert(any(eq(vu, bv(-1, W32)), ule(vu, lo)));
    goals.push(goal('the commit version lands before the layer\'s last output byte', s));
  }
  // The layer-end steps (japari/rules.ts layerEndSteps): the record write that commits
  // layer_idx + 1 carries the flipped slot state -- no commit of layer_idx + 1 lands before the flip.
  const steps = japariLayerEnd(ctx.plan, l, l.index === ctx.plan.layers.length - 1);
  {
    const s = new Script();
    const flipAt = steps.findIndex((st) => st.kind === 'flip');
    const commitAt = steps.findIndex((st) => st.kind === 'commit' && st.layerIdx === l.index + 1);
    const early = flipAt >= 0 && commitAt >= 0 && commitAt < flipAt;
    s.observe('flip_step', bv(flipAt, W32), 'signed');
    s.observe('first_commit_step', bv(commitAt, W32), 'signed');
    s.observe('negates_state', steps.some((st) => st.kind === 'flip' && st.negate) || flipAt < 0 ? bv(1, 1) : bv(0, 1), 'unsigned');
    // A flip that toggles without negating leaves psb unchanged above L and wrong below it.
    const noNegate = steps.some((st) => st.kind === 'flip' && !st.negate);
    s.assert(early || noNegate || commitAt < 0 ? TRUE : FALSE);
    goals.push(goal('layer_idx + 1 is committed before (or without) the slot state flip', s));
  }
  // The toggled turning-point table fits the record: rules.ts flipStateBit on the slot's table as
  // the layer finds it (symbolic round parity) never overflows, and L fits a u16 offset.
  {
    const s = new Script();
    const o = bvOps(s);
    const n = s.declare('n', W32, 'unsigned');
    const { odd } = roundFlags(n);
    const after = flipStateBit(o, slotTable(o, f, wf.slot, l.index, odd), o.k(wf.L));
    s.observe('turning_points', after.count, 'unsigned');
    s.observe('toggled_at', bv(wf.L, W32), 'unsigned');
    s.assert(any(o.violated(), wf.L > 0xffff ? TRUE : FALSE));
    goals.push(goal(`slot ${wf.slot}'s table exceeds ${TURNING_POINTS} entries or a u16 offset`, s));
  }
  return {
    id: 'layer-commit',
    layer: layerLabel(l),
    layerIndex: l.index,
    statement: `Committing ${l.name} (toggle a turning point at ${wf.L} in slot ${wf.slot}, negate its state, layer_idx + 1, one versioned record write) cannot make a finished layer look unfinished (re-entered under the old record every job is seen finished, nothing is recomputed) nor an unfinished one finished (the record lands after the last output byte), layer_idx + 1 lands only together with the flipped state, and the table fits the record.`,
    tiedTo: ['japari/rules.ts#layerEndSteps', 'japari/rules.ts#flipStateBit', 'common/record.ts#RecordStore.commit', 'japari/rules.ts#firstUnfinishedJob'],
    encoding: 'symbolic job and round; the commit order from the golden write log; the layer-end steps of the plan; the table size over the symbolic round parity',
    goals,
    replay: (cex) => (cex['job'] !== undefined ? replayDistinguishability(ctx, l, cex) : { note: 'a property of the plan, not of a single run' }),
    finding: (cex) => (cex['job'] !== undefined ? findingOf(ctx, f, l, cex) : undefined),
  };
}

// ---------------------------------------------------------------------------------------------

export function japariObligations(ctx: ProveContext): Obligation[] {
  const f = refFacts(ctx.plan);
  const out: Obligation[] = [];
  for (const l of ctx.plan.layers) {
    const seeks = seeksAt(l);
    if (seeks) out.push(distinguishability(ctx, f, l));
    out.push(arithmetic(f, l));
    if (l.kind === 'conv' || l.kind === 'gemm') out.push(augmentationObligation(ctx, l));
    if (seeks) out.push(seeker(ctx, f, l));
    out.push(commit(ctx, f, l));
  }
  out.push(recordObligation(ctx));
  return out;
}
