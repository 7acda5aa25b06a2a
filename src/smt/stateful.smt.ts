/**
 * Proof obligations for the reference engine with Stateful's states in value signs
 * (src/engines/stateful: rules.ts, design.ts). Every goal calls the design's rules over bvOps, so
 * a seeded fault in a rule is a fault in the proof.
 *
 * indicator-distinguishability (the deployment's state words)
 *   symbolic: a half-scale value v in [-0x4000, 0x3fff], the slot's expectation psb(x) in
 *   {+1, -1}, the old word at x (any int16 carrying the unfinished state psb(x): an earlier
 *   round's state word, or never-written 0 where psb(x) = +1).
 *   Claim: the word a finished job writes, embedState(v, -psb(x)), does not wrap (so the LEA's
 *   saturating add of the offset equals the CPU's wrapping one) and the seeker sees it finished;
 *   the old word is seen unfinished; a torn word (new low byte, old high byte: SPI FRAM lands
 *   bytes little-endian in ascending order) is seen unfinished unless it equals the new word.
 * indicator-arithmetic (the deployment)
 *   the state clearer is exact: clearState(embedState(v, s)) == v for every half-scale v and
 *   state s; and every bias-row entry the engine forms, -(bias + offset), fits int16 (the plan's
 *   half-scale biases are within +-0x3fff).
 * seeker-exactness (per seeking layer), by composition:
 *   job map: for every job j < J (symbolic), its state word x = stateWord(j) lies in the output,
 *   carries a state (hasState) and is the job's last word (the job is [x - B + 1, x]);
 *   write order (golden write log of the layer-run, tables over the symbolic job index): the
 *   state word's high byte is the last byte of its job to land, and jobs complete in index
 *   order -- with the distinguishability lemma, the finished jobs are exactly the durable prefix;
 *   binary search: japari.smt.ts binarySearchScripts (JAPARI's search, which Stateful shares),
 *   by induction for every job count; the seek's result (seekResult) is the search's answer.
 * layer-commit (per layer): the layer-end steps flip (negate) the slot state in the record
 *   write that commits layer_idx + 1, and the turning point fits a u16 offset. Plus the model
 *   record (record.smt.ts) and augmentation transparency of the LEA layers (augment.smt.ts).
 */
import type { EngineLayer } from '../engines/reference/plan.js';
import { seeksAt } from '../engines/japari/design.js';
import { statefulJobMapOf, statefulLayerEnd, ruleFaultsOf } from '../engines/stateful/design.js';
import {
  STATE_OFFSET,
  type StatefulRuleFaults,
  embedState,
  clearState,
  stateOfWord,
  stateSaysFinished,
  hasState,
  stateWord,
  stateResume,
  stateJobs,
  seekEnd,
  seekResult,
  stateTurningPoint,
} from '../engines/stateful/rules.js';
import { bvOps, type BvOps } from './ops.smt.js';
import { Script, type BV, type Bool, add, all, any, bv, eq, ite, not, lookup, sle, ult, ule, uge, TRUE, FALSE } from './smtlib.js';
import { type Obligation, goal } from './obligation.js';
import { tornWord, W32 } from './reference.smt.js';
import { binarySearchScripts } from './japari.smt.js';
import { augmentationObligation } from './augment.smt.js';
import { recordObligation } from './record.smt.js';
import type { ProveContext } from './context.js';
import { layerLabel } from './labels.js';

const HALF_MIN = -STATE_OFFSET;
const HALF_MAX = STATE_OFFSET - 1;

/** A symbolic half-scale value, a psb(x) in {+1, -1} and the 16-bit terms around them. */
function stateSetup(s: Script): { o: BvOps; v: BV; p: BV; neg: Bool } {
  const o = bvOps(s);
  const v16 = s.declare('v', 16, 'signed');
  const neg = s.declareBool('psb_negative', true);
  const v = o.fromI16(v16);
  s.assert(all(sle(bv(HALF_MIN, W32), v), sle(v, bv(HALF_MAX, W32))));
  const p = ite(neg, bv(-1, W32), bv(1, W32));
  return { o, v, p, neg };
}

const TIED_RULES = ['stateful/rules.ts#embedState', 'stateful/rules.ts#stateOfWord', 'stateful/rules.ts#stateSaysFinished'];

function distinguishability(ctx: ProveContext): Obligation {
  const torn = ctx.spec.placement === 'spi-fram';
  // The new word does not wrap, and the seeker sees it finished.
  const s0 = new Script();
  {
    const { o, v, p } = stateSetup(s0);
    const word = embedState(o, v, o.neg(p));
    s0.observe('written', o.toI16(word), 'signed');
    const exact = eq(word, o.add(v, o.mul(o.neg(p), o.k(STATE_OFFSET))));
    s0.assert(any(not(exact), not(stateSaysFinished(o, word, p))));
  }
  // The old word (unfinished state) is seen unfinished, and so is a torn mix of the two.
  const s1 = new Script();
  {
    const { o, v, p } = stateSetup(s1);
    const old16 = s1.declare('old', 16, 'signed');
    const old = o.fromI16(old16);
    s1.assert(eq(stateOfWord(o, old), p)); // the old word carries the unfinished state psb(x)
    const fresh = o.toI16(embedState(o, v, o.neg(p)));
    const mix = s1.observe('torn', tornWord(fresh, old16), 'signed');
    const seenOld = stateSaysFinished(o, old, p);
    const seenTorn = all(stateSaysFinished(o, o.fromI16(mix), p), not(eq(mix, fresh)));
    s1.assert(any(seenOld, torn ? seenTorn : FALSE));
  }
  return {
    id: 'indicator-distinguishability',
    layer: 'state words',
    statement:
      "For every half-scale value v in [-0x4000, 0x3fff] and expectation psb(x), the state word a finished job writes (v/2 with the offset of state -psb(x)) does not wrap and is seen finished, while the old word (state psb(x), or never-written 0 where psb(x) = +1) and a torn mix of the two (new low byte, old high byte) are seen unfinished.",
    tiedTo: TIED_RULES,
    bound: `half-scale values v in [${HALF_MIN}, ${HALF_MAX}] (|v/2| < 0x4000: the full-scale value did not saturate)`,
    encoding: 'symbolic v (int16), psb(x) in {+1, -1} and old word (int16); the rules over 32-bit bit-vectors',
    goals: [
      goal('a finished state word wraps or is seen unfinished', s0),
      goal(torn ? 'an old or torn state word is seen finished' : 'an old state word is seen finished', s1),
    ],
    replay: () => ({ note: 'a property of the state encoding, not of a single run' }),
  };
}

function clearer(ctx: ProveContext, f: StatefulRuleFaults): Obligation {
  const s0 = new Script();
  {
    const { o, v, p } = stateSetup(s0);
    const stored = embedState(o, v, p);
    const back = s0.observe('cleared', o.toI16(clearState(o, stored, f)), 'signed');
    s0.observe('stored', o.toI16(stored), 'signed');
    s0.assert(not(eq(o.fromI16(back), v)));
  }
  // Bias-row entries -(bias + offset) fit int16: the plan's biases at half scale.
  let maxBias = 0;
  for (const l of ctx.plan.layers) {
    if (l.kind !== 'conv' && l.kind !== 'gemm') continue;
    const q = ctx.plan.q.nodes.find((n) => n.node.name === l.node);
    if (q && (q.kind === 'conv' || q.kind === 'gemm')) for (const b of q.biasQ) maxBias = Math.max(maxBias, Math.abs(b));
  }
  const s1 = new Script();
  {
    const m = s1.observe('largest_bias', bv(maxBias, W32), 'signed');
    s1.assert(ult(bv(HALF_MAX, W32), m));
  }
  return {
    id: 'indicator-arithmetic',
    layer: 'state clearer',
    statement: 'The state clearer returns exactly the half-scale value a state word was embedded with, for every value in [-0x4000, 0x3fff] and either state, and every bias-row entry the engine forms for a state column, -(bias + offset), fits int16.',
    tiedTo: ['stateful/rules.ts#clearState', 'stateful/rules.ts#embedState', 'stateful/design.ts#StatefulPreservation.beforeConvCall'],
    bound: `half-scale values v in [${HALF_MIN}, ${HALF_MAX}]`,
    encoding: "symbolic v (int16) and state; the plan's largest half-scale bias (concrete)",
    goals: [goal('the clearer does not return the embedded value', s0), goal('a half-scale bias exceeds 0x3fff (its bias-row entry with the offset overflows int16)', s1)],
    replay: () => ({ note: 'a property of the state encoding, not of a single run' }),
  };
}

/** Per job: the write unit of the state word's high byte, and the last unit of the job's other bytes (golden log). */
function jobUnits(ctx: ProveContext, l: EngineLayer, f: StatefulRuleFaults, J: number): { stateHi: number[]; others: number[] } {
  const units = ctx.golden(0).unitsOf(l.index);
  const m = statefulJobMapOf(ctx.plan, l);
  const B = ctx.plan.B;
  const first = (a: number): number => units.get(a)?.[0] ?? -1;
  const stateHi: number[] = [];
  const others: number[] = [];
  const o = bvOps();
  for (let j = 0; j < J; j++) {
    const x = o.constant(stateWord(o, m, o.k(j), f))!;
    const start = o.constant(stateResume(o, m, o.k(j), f))!;
    const hi = l.out.base + 2 * x + 1;
    stateHi.push(first(hi));
    let last = -1;
    for (let w = start; w < start + B; w++) {
      for (const a of [l.out.base + 2 * w, l.out.base + 2 * w + 1]) if (a !== hi) last = Math.max(last, first(a));
    }
    others.push(last);
  }
  return { stateHi, others };
}

function seeker(ctx: ProveContext, l: EngineLayer, f: StatefulRuleFaults): Obligation {
  const m = statefulJobMapOf(ctx.plan, l);
  const B = ctx.plan.B;
  const J = Math.min(stateJobs(m), ctx.spec.maxJobs ?? Infinity);
  // Job map: the state word lies in the output, carries a state and ends its job.
  const s0 = new Script();
  {
    const o = bvOps(s0);
    const j = s0.declare('job', W32, 'unsigned');
    s0.assert(ult(j, bv(J, W32)));
    const x = s0.observe('state_word', stateWord(o, m, j, f), 'unsigned');
    const start = s0.observe('first_word', stateResume(o, m, j, f), 'unsigned');
    const ok = all(ult(x, bv(l.out.words, W32)), hasState(o, x, B, f), eq(o.add(start, o.k(B - 1)), x), ule(start, x));
    s0.assert(not(ok));
  }
  // Write order: the state's high byte is its job's last byte to land; jobs complete in order.
  const s1 = new Script();
  {
    const { stateHi, others } = jobUnits(ctx, l, f, J);
    const top = Math.max(1, ...stateHi, ...others) + 2;
    const width = Math.max(2, Math.ceil(Math.log2(top + 2)) + 1);
    const j = s1.declare('job', W32, 'unsigned');
    s1.assert(ult(j, bv(J, W32)));
    const sv = stateHi.map((u) => u + 1); // -1 (never written) -> 0
    const ov = others.map((u) => u + 1);
    const hi = s1.observe('state_high_unit', lookup(sv, j, width), 'unsigned');
    const lo = s1.observe('other_last_unit', lookup(ov, j, width), 'unsigned');
    const next = lookup(sv, add(j, bv(1, W32)), width, top);
    const inOrder = any(uge(j, bv(J - 1, W32)), ult(hi, next));
    s1.assert(any(eq(hi, bv(0, width)), ule(hi, lo), not(inOrder)));
  }
  // The search covers exactly the output's jobs (seekEnd): no probe lands past the output.
  const s3 = new Script();
  {
    const end = s3.observe('searched_jobs', bv(seekEnd(m, f), W32), 'unsigned');
    s3.observe('output_jobs', bv(stateJobs(m), W32), 'unsigned');
    s3.assert(not(eq(end, bv(stateJobs(m), W32))));
  }
  // The seek's result is the search's answer (seekResult), for every job count and prefix.
  const maxJ = ctx.spec.maxJobs ?? 0x7fffffff;
  const bs = binarySearchScripts(maxJ, { lastJobWhenAllFinished: false });
  const s2 = new Script();
  {
    const o = bvOps(s2);
    const Jv = s2.declare('J', W32, 'unsigned');
    const D = s2.declare('D', W32, 'unsigned');
    s2.assert(all(uge(Jv, bv(1, W32)), ule(Jv, bv(maxJ, W32)), ule(D, Jv)));
    const r = s2.observe('resumed', seekResult(o, D, Jv, f), 'unsigned');
    s2.assert(not(eq(r, D)));
  }
  return {
    id: 'seeker-exactness',
    layer: layerLabel(l),
    layerIndex: l.index,
    statement: `After every prefix of ${l.name}'s write sequence the seeker's finished predicate is true exactly for the durable jobs (each job's state word is its last word, its high byte lands last, jobs complete in order; a torn state word reads unfinished by indicator-distinguishability), and the seek resumes at the first unfinished job.`,
    tiedTo: ['stateful/rules.ts#stateWord', 'stateful/rules.ts#stateResume', 'stateful/rules.ts#hasState', 'stateful/rules.ts#seekResult', 'stateful/rules.ts#seekEnd', 'japari/rules.ts#searchStep', 'japari/rules.ts#searchExit', 'reference/engine.ts#preserve'],
    bound: `${J} jobs of ${B} values (symbolic job index); one layer-run's golden write units; binary search by induction for every job count 1 <= J <= ${maxJ}`,
    encoding: 'symbolic job index over the job map; write order from the golden write log as tables over the job index; symbolic J, D and loop state for the search',
    goals: [
      goal("a job's state word is outside the output, carries no state, or is not the job's last word", s0, undefined, { name: 'job', w: W32 }),
      goal("write order: a job's state high byte is not its last byte to land, or jobs complete out of order", s1, undefined, { name: 'job', w: W32 }),
      goal("the search covers other jobs than the output's (its probes leave the output)", s3),
      goal('binary search: the invariant fails initially', bs.init),
      goal('binary search: an iteration breaks the invariant', bs.step),
      goal('binary search: an iteration does not halve the range', bs.halves),
      goal('binary search: the exit returns something other than the durable prefix', bs.exit),
      goal('the seek resumes elsewhere than the first unfinished job', s2),
    ],
    replay: () => ({ note: 'a property of the plan and the seeker, not of a single run' }),
  };
}

function commit(ctx: ProveContext, l: EngineLayer): Obligation {
  const last = l.index === ctx.plan.layers.length - 1;
  const steps = statefulLayerEnd(ctx.plan, l, last);
  const s = new Script();
  const flipAt = steps.findIndex((st) => st.kind === 'flip');
  const commitAt = steps.findIndex((st) => st.kind === 'commit' && st.layerIdx === l.index + 1);
  const negates = steps.every((st) => st.kind !== 'flip' || st.negate);
  s.observe('flip_step', bv(flipAt, W32), 'signed');
  s.observe('first_commit_step', bv(commitAt, W32), 'signed');
  s.observe('negates_state', bv(negates ? 1 : 0, 1), 'unsigned');
  const L = stateTurningPoint(l.out.words, ctx.plan.B);
  s.observe('turning_point', bv(L, W32), 'unsigned');
  const ok = l.out.slot < 0 || (flipAt >= 0 && commitAt > flipAt && negates && L <= 0xffff);
  s.assert(ok ? FALSE : TRUE);
  return {
    id: 'layer-commit',
    layer: layerLabel(l),
    layerIndex: l.index,
    statement: `Completing ${l.name} toggles a turning point at ${L} (the output length rounded down to a multiple of B, a u16 offset) and negates the slot state before the record write that commits layer_idx + 1.`,
    tiedTo: ['japari/rules.ts#layerEndSteps', 'stateful/design.ts#statefulLayerEnd', 'stateful/rules.ts#stateTurningPoint'],
    encoding: 'the layer-end steps of the plan (concrete)',
    goals: [goal('layer_idx + 1 is committed before or without a negating state flip, or the turning point exceeds a u16 offset', s)],
    replay: () => ({ note: 'a property of the plan, not of a single run' }),
  };
}

export function statefulObligations(ctx: ProveContext): Obligation[] {
  const f = ruleFaultsOf(ctx.plan.params.faults);
  const out: Obligation[] = [distinguishability(ctx), clearer(ctx, f)];
  for (const l of ctx.plan.layers) {
    if (l.kind === 'conv' || l.kind === 'gemm') out.push(augmentationObligation(ctx, l));
    if (seeksAt(l) && stateJobs(statefulJobMapOf(ctx.plan, l)) > 0) out.push(seeker(ctx, l, f));
    out.push(commit(ctx, l));
  }
  out.push(recordObligation(ctx));
  return out;
}

