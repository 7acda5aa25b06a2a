/**
 * Proof obligations for the reference engine with HAWAII footprint counters
 * (src/engines/hawaii: rules.ts, counters.ts, design.ts).
 *
 * indicator-distinguishability (per layer): the versioned counter pair. Symbolic number k of
 *   completed counter writes since the inference's reset (32-bit: every k) and torn prefix t of
 *   write k + 1 (bytes value-lo, value-hi, version, pad land in order): a reboot reads exactly
 *   the value of write k while the version byte has not landed, of write k + 1 once it has --
 *   never a torn mix, never an older write, never the previous inference's counter (reset).
 *   Writes follow recordValues: write i (i >= 1) goes to copy i mod 2 with version
 *   ((i - 1) mod 255) + 1 and value i * B; the reset leaves {0, version 0} in both copies.
 * indicator-arithmetic (per layer): for every k up to the layer's most counter writes, k * B fits
 *   the u16 counter and counter / B == k (the recovered job).
 * seeker-exactness (per layer): the remainder model of recordValues. Symbolic remainder r0 the
 *   layer starts with (0 after a reboot; the sum of the earlier layers' counted values of the
 *   same boot mod B otherwise, a concrete set; {0} with the fix hawaii-layer-remainder),
 *   symbolic failure point: inside data write i + 1 after u of its units, or after data write i
 *   and q of the counter writes it triggers. Claim: the recovered job counter / B is never
 *   ahead of the durable jobs and trails them by at most the engine's lag.
 * layer-commit (per layer): the commit's version byte lands after the layer's last output and
 *   counter byte (golden write log), and a finished layer re-entered under the old record
 *   recomputes at most its last partial job.
 */
import type { EngineLayer } from '../engines/reference/plan.js';
import { countedValues, valueWord, maxValuesPerWrite } from '../engines/reference/geometry.js';
import { type CounterWriteFaults, counterUpdate, counterWriteDue, recoveredJob, versionedCounterWrite } from '../engines/hawaii/rules.js';
import { planFirmware } from '../engines/reference/plan.js';
import { bvOps } from './ops.smt.js';
import { Script, type BV, type Bool, add, all, any, bv, eq, extract, ite, lookup, mul, not, sle, sub, udiv, ugt, ule, ult, zext, FALSE, TRUE, urem } from './smtlib.js';
import { type Obligation, type Counterexample, goal } from './obligation.js';
import { newerIsCopy1, prevVersion, eq1 } from './record.smt.js';
import { augmentationObligation } from './augment.smt.js';
import { recordObligation } from './record.smt.js';
import type { ProveContext } from './context.js';
import { layerLabel } from './labels.js';
import { runInference } from '../engines/runner.js';
import { warmNvm } from '../properties/properties.js';

export { countedValues };

/** The counter-write faults of the deployment (hawaii/rules.ts CounterWriteFaults). */
function writeFaults(ctx: ProveContext): CounterWriteFaults {
  return { writeNewer: ctx.plan.params.faults.includes('hawaii-write-newer-copy') };
}

/** The remainders layer l can start with (reference.ts recordValues; 0 after a reboot). */
export function startRemainders(ctx: ProveContext, l: number): Map<number, number> {
  const B = ctx.plan.B;
  const out = new Map<number, number>([[0, l]]);
  if (ctx.spec.fixes.includes('hawaii-layer-remainder') || ctx.spec.fixes.includes('hawaii-whole-job-increments')) return out;
  let sum = 0;
  for (let f = l - 1; f >= 0; f--) {
    sum += countedValues(ctx.plan.layers[f]!);
    const r = sum % B;
    if (!out.has(r)) out.set(r, f);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

/**
 * Invariant of a counter pair between writes: the reset ({0, 0} in both copies, copy 0 read as
 * newer), or the newer copy holds version v != 0 and the other the version before it (0 after
 * the first write).
 */
function counterInvariant(c1: Bool, v: BV, other: BV): Bool {
  const reset = all(not(c1), eq(v, bv(0, 8)), eq(other, bv(0, 8)));
  const firstWrite = all(eq(v, bv(1, 8)), eq(other, bv(0, 8)));
  return any(reset, firstWrite, all(not(eq(v, bv(0, 8))), eq(other, prevVersion(v))));
}

function counterDistinguishability(ctx: ProveContext, l: EngineLayer): Obligation {
  const B = ctx.plan.B;
  // Base: the reset state satisfies the invariant and reads copy 0.
  const base = new Script();
  base.assert(not(all(counterInvariant(FALSE, bv(0, 8), bv(0, 8)), not(newerIsCopy1(bv(0, 8), bv(0, 8))))));
  // Step: one counter write (recordValues) torn after t of its 4 bytes.
  const s = new Script();
  const c1 = s.declareBool('newer_is_copy1', true);
  const v = s.declare('version', 8, 'unsigned');
  const vo = s.declare('other_version', 8, 'unsigned');
  const val = s.declare('value', 16, 'unsigned');
  const valo = s.declare('other_value', 16, 'unsigned');
  const t = s.declare('t', 8, 'unsigned');
  s.assert(all(counterInvariant(c1, v, vo), ule(t, bv(4, 8))));
  const v0 = ite(c1, vo, v);
  const v1 = ite(c1, v, vo);
  const readsRight = eq1(newerIsCopy1(v0, v1), c1);
  // hawaii/rules.ts counterUpdate: value + B to the older copy, version bumped; its bytes land
  // in order value lo, value hi, version, pad.
  const o = bvOps(s);
  const next = counterUpdate(o, { value: o.fromU(val), version: o.fromU(v), newer1: c1 }, B, writeFaults(ctx));
  const writesOlder = eq1(next.newer1, not(c1));
  const nv = extract(next.value, 15, 0);
  const nver = extract(next.version, 7, 0);
  const { read, want, keeps } = tornCounterWrite(s, { c1, v, vo, val, valo, t, nv, nver, target1: next.newer1 });
  s.assert(not(all(readsRight, writesOlder, eq(read, want), keeps)));
  return {
    id: 'indicator-distinguishability',
    layer: layerLabel(l),
    layerIndex: l.index,
    statement: `A reboot during ${l.name} reads exactly the value of the last completely written counter write (the reset 0 when none), never a torn value/version mix, an older write or the previous inference's counter, for every number of writes.`,
    tiedTo: ['hawaii/counters.ts#CounterStore.read', 'hawaii/counters.ts#CounterStore.write', 'common/rules.ts#newerIsCopy1', 'common/rules.ts#bumpVersion', 'hawaii/rules.ts#counterUpdate', 'hawaii/design.ts#startInference'],
    encoding: 'induction over the number of counter writes (every count): symbolic versions, values and torn prefix t (0..4 bytes: value lo, value hi, version, pad)',
    goals: [goal('the reset counter pair violates the invariant', base), goal('a torn counter write is read as a mix or an older value, or breaks the invariant', s)],
  };
}

/**
 * A counter write {nv, nver} to copy `target1` (copy 1 is newer iff c1; newer version v, value
 * val; older version vo, value valo) torn after t of its bytes (value lo, value hi, version, pad):
 * what a reboot reads, what it should read (the new value once the version byte has landed, the
 * old one before), and whether the pair then selects the written copy under the invariant again.
 * The faithful write targets the older copy (target1 = not c1); fault hawaii-write-newer-copy the
 * newer one.
 */
function tornCounterWrite(
  s: Script,
  x: { readonly c1: Bool; readonly v: BV; readonly vo: BV; readonly val: BV; readonly valo: BV; readonly t: BV; readonly nv: BV; readonly nver: BV; readonly target1: Bool },
): { read: BV; want: BV; keeps: Bool } {
  const { c1, v, vo, val, valo, t, nv, nver, target1 } = x;
  // The pair before the write, by copy.
  const ver0 = ite(c1, vo, v);
  const ver1 = ite(c1, v, vo);
  const val0 = ite(c1, valo, val);
  const val1 = ite(c1, val, valo);
  const tval = ite(target1, val1, val0);
  const tver = ite(target1, ver1, ver0);
  const lo = ite(ugt(t, bv(0, 8)), extract(nv, 7, 0), extract(tval, 7, 0));
  const hi = ite(ugt(t, bv(1, 8)), extract(nv, 15, 8), extract(tval, 15, 8));
  const wver = ite(ugt(t, bv(2, 8)), nver, tver);
  const wval: BV = { w: 16, s: `(concat ${hi.s} ${lo.s})` };
  const r0 = ite(target1, ver0, wver);
  const r1 = ite(target1, wver, ver1);
  const read1 = newerIsCopy1(r0, r1);
  const read = s.observe('read', ite(eq1(read1, target1), wval, ite(read1, val1, val0)), 'unsigned');
  const want = s.observe('want', ite(ugt(t, bv(2, 8)), nv, val), 'unsigned');
  const landed = all(eq1(read1, target1), counterInvariant(target1, nver, ite(target1, r0, r1)));
  const keeps = ite1(ugt(t, bv(2, 8)), landed, eq1(read1, c1));
  return { read, want, keeps };
}

/**
 * The 2021 builds' update sequence (firmware-2021.md; hawaii/design.ts recordValues2021): per
 * preserved vector floor(len/B)+1 updates, each two 1-byte version reads from NVM, then one 4-byte
 * write {value + k, newer version + 1} to the older copy (versionedCounterWrite), k = min(B, n):
 * B, ..., B, then len mod B -- the extra write may add 0. Symbolic pair state (the invariant),
 * symbolic increment k in 0..B and torn prefix t (value lo, value hi, version, pad): the version
 * reads select the copy the invariant says is newer; a reboot reads the old value while the
 * version byte has not landed and value + k once it has -- a valid copy, never a torn mix -- and
 * the invariant holds again.
 */
function counterUpdate2021(ctx: ProveContext, l: EngineLayer): Obligation {
  const B = ctx.plan.B;
  const base = new Script();
  base.assert(not(all(counterInvariant(FALSE, bv(0, 8), bv(0, 8)), not(newerIsCopy1(bv(0, 8), bv(0, 8))))));
  const s = new Script();
  const c1 = s.declareBool('newer_is_copy1', true);
  const v = s.declare('version', 8, 'unsigned');
  const vo = s.declare('other_version', 8, 'unsigned');
  const val = s.declare('value', 16, 'unsigned');
  const valo = s.declare('other_value', 16, 'unsigned');
  const k = s.declare('increment', 16, 'unsigned');
  const t = s.declare('t', 8, 'unsigned');
  s.assert(all(counterInvariant(c1, v, vo), ule(t, bv(4, 8)), ule(k, bv(B, 16))));
  // The two version reads see NVM: copy 0 and copy 1's version bytes.
  const v0 = ite(c1, vo, v);
  const v1 = ite(c1, v, vo);
  const o = bvOps(s);
  const w = versionedCounterWrite(o, o.fromU(val), o.fromU(k), o.fromU(v0), o.fromU(v1), writeFaults(ctx));
  const writesOlder = eq1(w.copy1, not(c1));
  const nv = extract(w.value, 15, 0);
  const nver = extract(w.version, 7, 0);
  const { read, want, keeps } = tornCounterWrite(s, { c1, v, vo, val, valo, t, nv, nver, target1: w.copy1 });
  s.assert(not(all(writesOlder, eq(read, want), keeps)));
  return {
    id: 'indicator-distinguishability',
    layer: layerLabel(l),
    layerIndex: l.index,
    statement: `A reboot during ${l.name}'s counter update sequence of the 2021 builds (two version reads, one versioned 4-byte write; on 37708ef floor(len/B)+1 per vector, the last adding len mod B, possibly 0; on 672ed9a one + B per full B) reads a valid copy: the old value while the version byte has not landed, the new one once it has; never a torn mix.`,
    tiedTo: ['hawaii/rules.ts#versionedCounterWrite', 'hawaii/rules.ts#recordIncrements', 'hawaii/design.ts#recordValues2021', 'hawaii/counters.ts#CounterStore.write', 'common/rules.ts#newerIsCopy1', 'common/rules.ts#bumpVersion'],
    encoding: 'induction over the number of updates: symbolic pair state under the invariant, versions read from NVM, increment k in 0..B, torn prefix t (0..4 bytes: value lo, value hi, version, pad)',
    goals: [goal('the reset counter pair violates the invariant', base), goal('a torn 2021 counter update is read as a mix or an older value, writes the newer copy, or breaks the invariant', s)],
  };
}

function counterArithmetic(ctx: ProveContext, l: EngineLayer): Obligation {
  const B = ctx.plan.B;
  const total = countedValues(l);
  const maxWrites = Math.floor((total + B - 1) / B);
  const s = new Script();
  const k = s.declare('k', 32, 'unsigned');
  s.assert(ule(k, bv(maxWrites, 32)));
  const exact = mul(zext(k, 40), bv(B, 40));
  const stored = zext(extract(exact, 15, 0), 32);
  s.observe('counter', stored, 'unsigned');
  // hawaii/rules.ts recoveredJob: the job recovery resumes at from this counter.
  const o = bvOps(s);
  const job = recoveredJob(o, stored, B, { resumeNextJob: ctx.plan.params.faults.includes('hawaii-resume-next-job') });
  s.observe('recovered_job', job, 'unsigned');
  s.assert(any(ugt(exact, bv(0xffff, 40)), not(eq(job, k))));
  return {
    id: 'indicator-arithmetic',
    layer: layerLabel(l),
    layerIndex: l.index,
    statement: `For every number of counter writes k <= ${maxWrites} (${total} counted values, plus a carried remainder), the counter k * ${B} fits its u16 field and counter / B recovers k.`,
    tiedTo: ['hawaii/rules.ts#counterUpdate', 'hawaii/rules.ts#recoveredJob', 'hawaii/counters.ts#CounterStore.write', 'hawaii/design.ts#seek'],
    encoding: 'symbolic k (32-bit), exact product at 40 bits',
    goals: [goal('the counter overflows its u16 field', s, undefined, { name: 'k', w: 32 })],
  };
}

// ---------------------------------------------------------------------------------------------
// seeker-exactness: the remainder model

interface DataWrites {
  /** Cumulative counted values after data write i (index 0 = before any). */
  readonly cum: number[];
  /** Units of data write i + 1 (index i). */
  readonly units: number[];
  /** Counted values of each write. */
  readonly values: number[];
  /** Value words land in execution order (checked on the log). */
  readonly ordered: boolean;
  readonly total: number;
}

function dataWrites(ctx: ProveContext, l: EngineLayer): DataWrites {
  const g = ctx.golden(0);
  const lo = l.out.base;
  const hi = l.out.base + 2 * l.out.words;
  const cum = [0];
  const units: number[] = [];
  const values: number[] = [];
  let lastAction = -2;
  let cur = 0;
  const flush = () => {
    if (cur > 0) {
      units.push(cur);
      const v = Math.floor(cur / (ctx.spec.placement === 'spi-fram' ? 2 : 1));
      values.push(v);
      cum.push(cum[cum.length - 1]! + v);
    }
    cur = 0;
  };
  const order: number[] = [];
  for (let i = 0; i < g.length; i++) {
    if (g.layer[i] !== l.index) continue;
    const a = g.addr[i]!;
    if (a < lo || a >= hi) continue;
    if (g.action[i] !== lastAction + 1) flush();
    lastAction = g.action[i]!;
    cur++;
    order.push(a);
  }
  flush();
  // Values land in execution order: the word of value v lands before value v + 1's.
  const total = countedValues(l);
  const firstLanding = new Map<number, number>();
  order.forEach((a, i) => {
    const w = (a - lo) >> 1;
    if (!firstLanding.has(w)) firstLanding.set(w, i);
  });
  let ordered = true;
  let prev = -1;
  for (let v = 0; v < total && ordered; v++) {
    const at = firstLanding.get(valueWord(l, v));
    if (at === undefined || at < prev) ordered = false;
    else prev = at;
  }
  return { cum, units, values, ordered, total };
}

/** HAWAII's GAP records nothing: both seeker obligations say so for it. */
function gapSeekStatement(l: EngineLayer): string {
  return `${l.name} counts nothing and recomputes from its start after every reboot (HAWAII's GAP): nothing to seek.`;
}

function remainderSeeker(ctx: ProveContext, l: EngineLayer): Obligation {
  const B = ctx.plan.B;
  const insp = ctx.deployment.inspector();
  const lag = insp.maxLagJobs(l.index);
  const rems = startRemainders(ctx, l.index);
  const dw = dataWrites(ctx, l);
  const M = dw.units.length;
  const s = new Script();
  const goals = [];
  if (l.kind === 'gap' || M === 0) {
    s.assert(FALSE);
  } else {
    const i = s.declare('i', 32, 'unsigned');
    const r0 = s.declare('r0', 32, 'unsigned');
    const u = s.declare('u', 32, 'unsigned');
    const q = s.declare('q', 32, 'unsigned');
    const during = s.declareBool('during_data_write', true);
    s.assert(any(...[...rems.keys()].map((r) => eq(r0, bv(r, 32)))));
    s.assert(ule(i, bv(M, 32)));
    const Ci = s.observe('counted', lookup(dw.cum, i, 32), 'unsigned');
    const Cprev = s.define(ite(eq(i, bv(0, 32)), bv(0, 32), lookup(dw.cum, sub(i, bv(1, 32)), 32)), 'cprev');
    const unitsNext = s.define(lookup(dw.units, i, 32), 'units');
    const K = (c: BV) => udiv(add(r0, c), bv(B, 32));
    const Ki = K(Ci);
    const Kprev = K(Cprev);
    // (a) inside data write i + 1: u < its units; every counter write of writes <= i done.
    // (b) after data write i (i >= 1): q of its n_i counter writes done.
    s.assert(ite1(during, all(ult(i, bv(M, 32)), ult(u, unitsNext)), all(ugt(i, bv(0, 32)), ule(q, sub(Ki, Kprev)))));
    const unitsPerValue = ctx.spec.placement === 'spi-fram' ? 2 : 1;
    const durableValues = s.observe('durable_values', ite(during, add(Ci, udiv(u, bv(unitsPerValue, 32))), Ci), 'unsigned');
    // hawaii/rules.ts recoveredJob on the counter after that many writes (B per write).
    const o = bvOps(s);
    const writes = ite(during, Ki, add(Kprev, q));
    const counterJobs = s.observe('recovered_job', recoveredJob(o, mul(writes, bv(B, 32)), B, { resumeNextJob: ctx.plan.params.faults.includes('hawaii-resume-next-job') }), 'unsigned');
    const jobsTotal = Math.ceil(dw.total / B);
    const durableJobs = s.observe('durable_jobs', ite(eq(durableValues, bv(dw.total, 32)), bv(jobsTotal, 32), udiv(durableValues, bv(B, 32))), 'unsigned');
    const ahead = s.observeBool('ahead', ugt(counterJobs, durableJobs));
    const behind = s.observeBool('behind', Number.isFinite(lag) ? ugt(durableJobs, add(counterJobs, bv(lag, 32))) : FALSE);
    s.assert(any(ahead, behind, dw.ordered ? FALSE : TRUE));
  }
  goals.push(remainderLoopGoal(ctx, l));
  goals.push(
    goal('the recovered job is ahead of, or lags too far behind, the durable jobs', s, (v) => ({
      ...(v['during_data_write'] ? {} : { u: 'n/a' }),
      ...(v['during_data_write'] ? { q: 'n/a' } : {}),
      layer_start_remainder_from: rems.get(v['r0'] as number) ?? -1,
    }), M > 0 && l.kind !== 'gap' ? { name: 'i', w: 32 } : undefined),
  );
  return {
    id: 'seeker-exactness',
    layer: layerLabel(l),
    layerIndex: l.index,
    statement:
      l.kind === 'gap'
        ? gapSeekStatement(l)
        : `After every failure point of ${l.name} (inside a data write, or between the counter writes it triggers) the versioned counter yields a job that is durable (never ahead) and trails the durable jobs by at most ${lag} job(s).`,
    tiedTo: ['hawaii/rules.ts#counterWriteDue', 'hawaii/rules.ts#counterUpdate', 'hawaii/rules.ts#recoveredJob', 'hawaii/design.ts#recordValues', 'reference/engine.ts#preserve', 'reference/geometry.ts#valueWord', 'hawaii/design.ts#hawaiiInspector'],
    bound: `one layer-run from its start: every failure point among its ${M} data writes (BMC depth 1 failure); start remainders ${JSON.stringify([...rems.keys()].sort((a, b) => a - b))}`,
    encoding: `symbolic write index i, units u, counter writes q, start remainder r0; the data-write sizes from the golden write log${dw.ordered ? '' : ' (values do NOT land in execution order: refuted)'}; a layer-run resumed at a counter c0 starts with remainder 0 and reduces to r0 = 0`,
    goals,
    replay: (cex) => replayRemainder(ctx, l, cex, rems),
    finding: (cex) => ((cex['r0'] as number) > 0 ? 'hawaii-remainder-crosses-layers' : undefined),
  };
}

/**
 * The closed form the remainder model uses, proved on hawaii/design.ts recordValues' loop (the
 * rules counterWriteDue and counterUpdate): from a start remainder r < B, adding v values (at
 * most one write's) performs exactly floor((r + v) / B) counter writes, each + B, and leaves the
 * remainder (r + v) mod B.
 */
function remainderLoopGoal(ctx: ProveContext, l: EngineLayer): ReturnType<typeof goal> {
  const B = ctx.plan.B;
  const maxV = Math.max(1, maxValuesPerWrite(l));
  const s = new Script();
  const o = bvOps(s);
  const r = s.declare('r0', 32, 'unsigned');
  const v = s.declare('values', 32, 'unsigned');
  s.assert(all(ult(r, bv(B, 32)), ule(v, bv(maxV, 32))));
  const start = { rem: add(r, v), writes: bv(0, 32), counter: { value: o.k(0), version: o.k(1), newer1: FALSE as Bool } };
  const end = o.loop(
    Math.ceil((B - 1 + maxV) / B) + 1,
    start,
    (st) => counterWriteDue(o, st.rem, B),
    (st) => ({ rem: o.sub(st.rem, o.k(B)), writes: o.add(st.writes, o.k(1)), counter: counterUpdate(o, st.counter, B) }),
  );
  const total = add(r, v);
  s.observe('writes', end.writes, 'unsigned');
  s.assert(any(o.violated(), not(eq(end.writes, udiv(total, bv(B, 32)))), not(eq(end.rem, urem(total, bv(B, 32)))), not(eq(end.counter.value, mul(end.writes, bv(B, 32))))));
  return goal(`recordValues: adding up to ${maxV} values to a remainder below ${B} does not write the counter floor((r + v) / B) times`, s);
}

function ite1(c: Bool, a: Bool, b: Bool): Bool {
  if (c.c === true) return a;
  if (c.c === false) return b;
  return { s: `(ite ${c.s} ${a.s} ${b.s})` };
}

/**
 * A refutation with start remainder r0 > 0 becomes a run: a first failure inside the layer f
 * whose boot accumulates r0 (the reboot makes the next boot start there), then a second one in
 * layer l right after the counter write that got ahead.
 */
function replayRemainder(ctx: ProveContext, l: EngineLayer, cex: Counterexample, rems: Map<number, number>): ReturnType<NonNullable<Obligation['replay']>> {
  const r0 = cex['r0'] as number;
  const from = rems.get(r0);
  if (from === undefined) return { note: 'no boot yields this remainder' };
  const g = ctx.golden(0);
  const fl = ctx.plan.layers[from]!;
  let a1 = -1;
  if (r0 > 0) {
    // Power fails right before layer `from` writes its first output: the next boot starts there.
    for (let i = 0; i < g.length && a1 < 0; i++) if (g.layer[i] === from && g.addr[i]! >= fl.out.base && g.addr[i]! < fl.out.base + 2 * fl.out.words) a1 = g.action[i]!;
    if (a1 < 0) return { note: `layer ${fl.name} writes nothing` };
  }
  // Find the counter write in the second boot: run with the first failure and log writes.
  const counterAt = ctx.plan.nvm.counters + 8 * l.index;
  const run = runInference(ctx.deployment, {
    input: ctx.model.inputQ(0),
    supply: { kind: 'schedule', failAt: a1 >= 0 ? [a1] : [] },
    seed: 0,
    logWrites: true,
    nvm: warmNvm(ctx.deployment, []),
  });
  const dev = run.device;
  const wantJob = cex['recovered_job'] as number;
  // The counter write whose value is wantJob * B (its version byte lands last: unit 3 of 4).
  let a2 = -1;
  for (let i = 0; i < dev.writeLogLen; i++) {
    if (dev.writeLogAction[i]! < a1) continue;
    const a = dev.writeLogAddr[i]!;
    if ((a === counterAt || a === counterAt + 4) && i + 2 < dev.writeLogLen && ((dev.writeLogEpoch[i]! & 0xff) - 1) === l.index) {
      const value = dev.writeLogVal[i]! | (dev.writeLogVal[i + 1]! << 8);
      if (value === wantJob * ctx.plan.B) {
        a2 = dev.writeLogAction[i + 2]! + 1;
        break;
      }
    }
  }
  if (a2 < 0) return { note: `the run never writes counter ${wantJob * ctx.plan.B} in ${l.name}` };
  const schedule = a1 >= 0 ? [a1, a2] : [a2];
  return ctx.replay(ctx.runSpec(0, schedule), (v) => v.property === 'progress-exactness' && v.layer === l.index, `a progress violation at ${l.name}`);
}

// ---------------------------------------------------------------------------------------------
// seeker-exactness on the 2021 builds: the counter counts values (recordIncrements)

/** The preserved vectors of a layer in the golden run, with the counter updates after each. */
interface Vectors2021 {
  /** Values landed before vector m (index 0 = 0; index M = total). */
  readonly cum: number[];
  /** Counter updates written after each vector (golden write log). */
  readonly updates: number[];
  /** Values land in execution order and every vector is followed by floor(len/B)+1 updates. */
  readonly faithful: boolean;
  readonly why: string;
  readonly total: number;
}

/**
 * The layer's preserved vectors from the golden write log: maximal runs of output units not
 * interrupted by a write to the layer's counter pair (hawaii_record_footprints runs once per
 * vector, after its data). Checked against the engine's rule: floor(len/B)+1 updates after each.
 */
function vectors2021(ctx: ProveContext, l: EngineLayer): Vectors2021 {
  const g = ctx.golden(0);
  const B = ctx.plan.B;
  const lo = l.out.base;
  const hi = l.out.base + 2 * l.out.words;
  const cA = ctx.plan.nvm.counters + 8 * l.index;
  const upv = ctx.spec.placement === 'spi-fram' ? 2 : 1;
  const cum = [0];
  const updates: number[] = [];
  let cur = 0;
  let cu = 0;
  const close = () => {
    cum.push(cum[cum.length - 1]! + Math.floor(cur / upv));
    updates.push(cu / 4);
    cur = 0;
    cu = 0;
  };
  for (let i = 0; i < g.length; i++) {
    if (g.layer[i] !== l.index) continue;
    const a = g.addr[i]!;
    if (a >= lo && a < hi) {
      if (cu > 0) close();
      cur++;
    } else if (a >= cA && a < cA + 8 && (cur > 0 || cum.length > 1)) cu++;
  }
  if (cur > 0 || cu > 0) close();
  const dw = dataWrites(ctx, l);
  const total = cum[cum.length - 1]!;
  let why = '';
  if (!dw.ordered) why = 'values do NOT land in execution order';
  else if (total !== dw.total) why = `the vectors hold ${total} values, the layer counts ${dw.total}`;
  else {
    const m = updates.findIndex((u, k) => u !== Math.floor((cum[k + 1]! - cum[k]!) / B) + 1);
    if (m >= 0) why = `vector ${m} (${cum[m + 1]! - cum[m]!} values) is followed by ${updates[m]} counter updates, not floor(len/B)+1`;
  }
  return { cum, updates, faithful: why === '', why, total };
}

/**
 * cum[x] as a term: a lookup over the vectors, or -- when the vector lengths repeat with a short
 * period P (sum S per period; the last period may be cut) -- floor(x / P) * S + pre[x mod P],
 * which keeps large layers small for the solver. The two agree on every x <= M (checked here);
 * SEEKER2021_ENCODING.periodic = false selects the plain lookup (the twin the tests compare with).
 */
export const SEEKER2021_ENCODING = { periodic: true };

function cumOf(v: Vectors2021): (x: BV) => BV {
  const M = v.cum.length - 1;
  if (!SEEKER2021_ENCODING.periodic) return (x) => lookup(v.cum, x, 32);
  const lens = v.cum.slice(1).map((c, k) => c - v.cum[k]!);
  let P = 0;
  for (let p = 1; p <= Math.min(64, M); p++) {
    if (lens.every((l, k) => l === lens[k % p])) {
      P = p;
      break;
    }
  }
  if (P === 0 || M < 4 * P) return (x) => lookup(v.cum, x, 32);
  const pre = [0];
  for (let k = 0; k < P; k++) pre.push(pre[k]! + lens[k]!);
  const S = pre[P]!;
  for (let x = 0; x <= M; x++) if (Math.floor(x / P) * S + pre[x % P]! !== v.cum[x]) throw new Error(`periodic cum disagrees at ${x}`);
  return (x) => add(mul(udiv(x, bv(P, 32)), bv(S, 32)), lookup(pre, urem(x, bv(P, 32)), 32));
}

/**
 * Seeker exactness under the 2021 builds' recording (hawaii/rules.ts recordIncrements, design.ts
 * recordValues2021): after each preserved vector of len values the counter gets floor(len/B)+1
 * updates adding min(B, n), so it counts values, and the first unfinished job is counter / B
 * (recoveredJob). A resumed run restarts at job * B and records the rest of that vector again.
 *
 * Two boots of the layer (BMC depth 2): boot 1 from the layer start (counter 0), failing inside a
 * vector after k of its values landed or after its data and q of its updates; boot 2 resumed
 * at recoveredJob(counter) * B with that counter, writing the tail of the vector holding the
 * resume point and the vectors after it, failing likewise. At each failure the job recovered
 * from the counter must not be ahead of the durable jobs, trail them by at most the lag, and --
 * once a vector's updates are all written -- equal the first job not yet durably written.
 */
function seeker2021(ctx: ProveContext, l: EngineLayer): Obligation {
  const B = ctx.plan.B;
  const lag = ctx.deployment.inspector().maxLagJobs(l.index);
  const v = vectors2021(ctx, l);
  const M = v.cum.length - 1;
  const T = v.total;
  const resumeNext = ctx.plan.params.faults.includes('hawaii-resume-next-job');
  const s = new Script();
  const o = bvOps(s);
  const k32 = (n: number) => bv(n, 32);
  const max = (a: BV, b: BV) => ite(ugt(a, b), a, b);
  const min = (a: BV, b: BV) => ite(ult(a, b), a, b);
  const active = l.kind !== 'gap' && M > 0;
  if (!active) s.assert(FALSE);
  else {
    /** One failure in a boot that starts at value p with counter c and durable prefix d. */
    const failure = (tag: string, p: BV, c: BV, d: BV) => {
      const m = s.declare(`${tag}_first_vector`, 32, 'unsigned');
      const i = s.declare(`${tag}_vector`, 32, 'unsigned');
      const during = s.declareBool(`${tag}_during_data`, true);
      const k = s.declare(`${tag}_values_landed`, 32, 'unsigned');
      const q = s.declare(`${tag}_updates_done`, 32, 'unsigned');
      const cumAt = cumOf(v);
      const start = s.observe(`${tag}_start`, ite(eq(i, m), p, cumAt(i)), 'unsigned');
      const end = s.define(cumAt(add(i, k32(1))), `${tag}_end`);
      const len = s.define(sub(end, start), `${tag}_len`);
      const n = s.define(add(udiv(len, k32(B)), k32(1)), `${tag}_n`);
      s.assert(all(ult(m, k32(M)), ule(cumAt(m), p), ult(p, cumAt(add(m, k32(1)))), ule(m, i), ult(i, k32(M))));
      s.assert(ite1(during, ult(k, len), ule(q, n)));
      const before = add(c, sub(start, p));
      const c2 = s.observe(`${tag}_counter`, ite(during, before, add(before, min(mul(q, k32(B)), len))), 'unsigned');
      const d2 = s.observe(`${tag}_durable_values`, max(d, ite(during, add(start, k), end)), 'unsigned');
      const job = s.observe(`${tag}_recovered_job`, recoveredJob(o, c2, B, { resumeNextJob: resumeNext }), 'unsigned');
      const durableJobs = s.observe(`${tag}_durable_jobs`, ite(eq(d2, k32(T)), k32(Math.ceil(T / B)), udiv(d2, k32(B))), 'unsigned');
      const ahead = s.observeBool(`${tag}_ahead`, ugt(job, durableJobs));
      const behind = Number.isFinite(lag) ? ugt(durableJobs, add(job, k32(lag))) : FALSE;
      // The first job not durably written: d / B, or none (ceil(T / B)) once the layer's values all are.
      const firstUndurable = ite(eq(d2, k32(T)), k32(Math.ceil(T / B)), udiv(d2, k32(B)));
      // Re-entering a finished layer from a counter of T redoes its last partial job: allowed (lag).
      const unequal = all(not(during), eq(q, n), not(eq(job, firstUndurable)), not(all(eq(d2, k32(T)), eq(job, k32(Math.floor(T / B))))));
      return { c: c2, d: d2, job, bad: s.observeBool(`${tag}_violated`, any(ahead, behind, unequal)) };
    };
    const f1 = failure('boot1', k32(0), k32(0), k32(0));
    const second = s.declareBool('second_failure', true);
    const p2 = s.define(mul(f1.job, k32(B)), 'resume');
    const f2 = failure('boot2', p2, f1.c, f1.d);
    s.assert(any(f1.bad, all(second, not(f1.bad), ult(p2, k32(T)), f2.bad), v.faithful ? FALSE : TRUE));
  }
  return {
    id: 'seeker-exactness',
    layer: layerLabel(l),
    layerIndex: l.index,
    statement:
      l.kind === 'gap'
        ? gapSeekStatement(l)
        : `Under the 2021 recording (floor(len/B)+1 counter updates per preserved vector, adding min(B, n)), after every failure point of ${l.name} in its first run and in a run resumed from the counter, the job counter / B is never ahead of the durable jobs, trails them by at most ${lag} job(s), and equals the first job not yet durably written once a vector's updates are all written.`,
    tiedTo: ['hawaii/rules.ts#recordIncrements', 'hawaii/rules.ts#versionedCounterWrite', 'hawaii/rules.ts#recoveredJob', 'hawaii/design.ts#recordValues2021', 'hawaii/design.ts#seek', 'reference/engine.ts#preserve', 'hawaii/design.ts#hawaiiInspector'],
    bound: `two failures in the layer (its first run and one run resumed from the counter; BMC depth 2) over its ${M} preserved vectors`,
    encoding: `symbolic failure points (vector, values landed or counter updates done) in each boot, the resume point recoveredJob(counter) * B and the vector holding it; vector sizes and updates per vector from the golden write log${v.faithful ? '' : ` (${v.why}: refuted)`}`,
    goals: [goal('the job recovered from the 2021 counter is ahead of, lags too far behind, or (after a vector\'s updates) differs from the first job not durably written', s, undefined, active ? { name: 'boot1_vector', w: 32 } : undefined)],
    replay: (cex) => replaySeeker2021(ctx, l, v, cex),
    // Ahead after a resumed run recounted the values of a partial job (a counter off the multiples of B).
    finding: (cex) => (cex['second_failure'] === true && cex['boot2_ahead'] === true && (cex['boot1_counter'] as number) % B !== 0 ? 'hawaii-2021-08-partial-increments' : undefined),
  };
}

/**
 * A seeker2021 refutation as a run: boot 1 fails at its failure point (mapped to the golden write
 * log), boot 2 at its own (mapped to the write log of the run with the first failure).
 */
function replaySeeker2021(ctx: ProveContext, l: EngineLayer, v: Vectors2021, cex: Counterexample): ReturnType<NonNullable<Obligation['replay']>> {
  const cA = ctx.plan.nvm.counters + 8 * l.index;
  const upv = ctx.spec.placement === 'spi-fram' ? 2 : 1;
  interface Log { readonly n: number; addr(i: number): number; action(i: number): number; layer(i: number): number }
  /** The action to fail before: value `at` not landed (during), or after `q` updates following value end - 1. */
  const point = (log: Log, from: number, tag: string): number | string => {
    const i = cex[`${tag}_vector`] as number;
    const during = cex[`${tag}_during_data`] as boolean;
    const dataAt = (pos: number, after: number): number => {
      const a = l.out.base + 2 * valueWord(l, pos);
      for (let x = 0; x < log.n; x++) if (log.action(x) >= after && log.layer(x) === l.index && log.addr(x) === a) return x;
      return -1;
    };
    if (during) {
      const pos = (cex[`${tag}_start`] as number) + (cex[`${tag}_values_landed`] as number);
      const x = dataAt(pos, from);
      return x < 0 ? `value ${pos} of ${l.name} never lands` : log.action(x);
    }
    const last = dataAt(v.cum[i + 1]! - 1, from);
    if (last < 0) return `value ${v.cum[i + 1]! - 1} of ${l.name} never lands`;
    const q = cex[`${tag}_updates_done`] as number;
    let x = last + upv - 1;
    if (q === 0) return log.action(x) + 1;
    let seen = 0;
    for (let y = x + 1; y < log.n; y++) {
      const a = log.addr(y);
      if (log.layer(y) !== l.index || a < cA || a >= cA + 8) continue;
      seen++;
      if (seen === 4 * q) return log.action(y) + 1;
    }
    return `fewer than ${q} counter updates after vector ${i}`;
  };
  const g = ctx.golden(0);
  const a1 = point({ n: g.length, addr: (i) => g.addr[i]!, action: (i) => g.action[i]!, layer: (i) => g.layer[i]! }, 0, 'boot1');
  if (typeof a1 === 'string') return { note: a1 };
  const schedule = [a1];
  if (cex['second_failure'] === true && cex['boot1_violated'] !== true) {
    const run = runInference(ctx.deployment, { input: ctx.model.inputQ(0), supply: { kind: 'schedule', failAt: [a1] }, seed: 0, logWrites: true, nvm: warmNvm(ctx.deployment, []) });
    const dev = run.device;
    const layerOf = (i: number) => (dev.writeLogEpoch[i]! & 0xff) - 1;
    const a2 = point({ n: dev.writeLogLen, addr: (i) => dev.writeLogAddr[i]!, action: (i) => dev.writeLogAction[i]!, layer: layerOf }, a1, 'boot2');
    if (typeof a2 === 'string') return { note: a2 };
    if (a2 <= a1) return { note: `the second failure point (action ${a2}) is not after the first (${a1})` };
    schedule.push(a2);
  }
  return ctx.replay(ctx.runSpec(0, schedule), (x) => x.property === 'progress-exactness' && x.layer === l.index, `a progress violation at ${l.name}`);
}

// ---------------------------------------------------------------------------------------------

function hawaiiCommit(ctx: ProveContext, l: EngineLayer): Obligation {
  const g = ctx.golden(0);
  const units = g.unitsOf(l.index);
  const rec = ctx.plan.nvm.record;
  const rb = ctx.plan.nvm.recordBytes;
  const counterAt = ctx.plan.nvm.counters + 8 * l.index;
  let lastOut = -1;
  let lastCounter = -1;
  let version = -1;
  for (const [a, u] of units) {
    const last = u[u.length - 1]!;
    if (a >= l.out.base && a < l.out.base + 2 * l.out.words) lastOut = Math.max(lastOut, last);
    if (a >= counterAt && a < counterAt + 8) lastCounter = Math.max(lastCounter, last);
    if (a === rec + rb - 1 || a === rec + 2 * rb - 1) version = Math.max(version, last);
  }
  const s = new Script();
  const vu = s.observe('commit_version_unit', bv(version, 32), 'signed');
  const lo = s.observe('last_output_unit', bv(lastOut, 32), 'signed');
  const lc = s.observe('last_counter_unit', bv(lastCounter, 32), 'signed');
  s.assert(any(eq(vu, bv(-1, 32)), sle(vu, lo), sle(vu, lc)));
  const goals = [goal('the commit lands before the layer\'s last output or counter byte', s)];
  // Re-entering: the final counter covers every full job (r0 >= 0 only adds).
  const B = ctx.plan.B;
  const total = countedValues(l);
  const s2 = new Script();
  const r0 = s2.declare('r0', 32, 'unsigned');
  s2.assert(ult(r0, bv(B, 32)));
  const finalJobs = s2.observe('final_counter_job', udiv(add(r0, bv(total, 32)), bv(B, 32)), 'unsigned');
  s2.assert(ult(finalJobs, bv(Math.floor(total / B), 32)));
  goals.push(goal('a finished layer re-entered recomputes more than its last partial job', s2));
  return {
    id: 'layer-commit',
    layer: layerLabel(l),
    layerIndex: l.index,
    statement: `Committing ${l.name} (layer_idx + 1, one versioned record write) happens after its last output and counter byte, and re-entering it under the old record recomputes at most its last partial job (idempotently: its input is intact).`,
    tiedTo: ['reference.ts#endLayer', 'record.ts#RecordStore.commit', 'reference.ts#seekProgress'],
    encoding: 'commit order from the golden write log; symbolic start remainder',
    goals,
  };
}

export function hawaiiObligations(ctx: ProveContext): Obligation[] {
  const out: Obligation[] = [];
  for (const l of ctx.plan.layers) {
    out.push(planFirmware(ctx.plan).hawaii.versionReadsPerUpdate > 0 ? counterUpdate2021(ctx, l) : counterDistinguishability(ctx, l));
    out.push(counterArithmetic(ctx, l));
    if (l.kind === 'conv' || l.kind === 'gemm') out.push(augmentationObligation(ctx, l));
    // The 2021 recording counts values; with fix hawaii-whole-job-increments it counts whole B with
    // a per-layer remainder, which the remainder model describes.
    // 672ed9a ('per-full-batch' with version reads) counts whole B with a remainder carried across
    // layers, which the remainder model describes too; the variant hawaii-record-every-value puts
    // 37708ef's recording on it.
    const fw = planFirmware(ctx.plan).hawaii;
    const everyValue = fw.versionReadsPerUpdate > 0 && ctx.plan.params.faults.includes('hawaii-record-every-value');
    const valuesCounted = (fw.updates === 'floor-plus-one' || everyValue) && !ctx.spec.fixes.includes('hawaii-whole-job-increments');
    out.push(valuesCounted ? seeker2021(ctx, l) : remainderSeeker(ctx, l));
    out.push(hawaiiCommit(ctx, l));
  }
  out.push(recordObligation(ctx));
  return out;
}

