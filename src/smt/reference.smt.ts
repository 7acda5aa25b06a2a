/**
 * The reference engine's JAPARI indicator machinery over bit-vector terms, built on the very
 * rules the engine runs (src/engines/japari/rules.ts, through the symbolic Ops instance of
 * ops.smt.ts):
 *
 *   refFacts(plan)           the static history of every NVM slot: which layers write it, in
 *                            order, the turning point each completion toggles (japari/design.ts
 *                            layerTurningPoint), and the slot's turning-point table before each
 *                            writer in an even and an odd round (flipStateBit applied in order)
 *   slotTable(...)           that table for a symbolic round parity (a TpTable of terms)
 *   psbTerm(...)             rules.ts psb(table, x) on it: +1 or -1 as a rule term
 *   jobFootprintWord(...)    rules.ts jobFootprintWord of the layer's job map (japari/design.ts jobMapOf)
 *   writerValue(...)         what a layer's kernel writes at a slot word: its footprint (the LEA
 *                            dot product of the dummy input and the dummy weight dw * psb(x), or
 *                            the CPU marker -psb(x)) or a data value (a free variable)
 *
 * Lemma (slot-state periodicity, proved by japari.smt.ts periodicityScript with the same
 * flipStateBit): one inference's flips F of a slot satisfy F(F(S)) = S for every table S over the
 * slot's turning points, so the state depends only on the inference count's parity; the encoders
 * use the parity of a symbolic round n.
 *
 * Every function takes constant terms to constant terms (smtlib.ts folds constants), so tests
 * compare them with the executable model on concrete values without Z3.
 */
import type { EnginePlan, EngineLayer } from '../engines/reference/plan.js';
import { jobMapOf, layerTurningPoint, dummyWeightOf } from '../engines/japari/design.js';
import { type TpTable, flipStateBit, psb, jobFootprintWord as ruleFootprintWord } from '../engines/japari/rules.js';
import { type Ops, num } from '../engines/ops.js';
import { type BvOps, bvOps } from './ops.smt.js';
import type { LeaArithmetic } from '../device/lea.js';
import {
  type BV,
  type Bool,
  type Script,
  add,
  all,
  bv,
  concat,
  extract,
  eq,
  ite,
  not,
  sub,
  uge,
  ult,
  urem,
  FALSE,
} from './smtlib.js';
import { leaDot } from './lea.smt.js';

/** Width of word offsets, job indices and rounds. */
export const W32 = 32;

export interface WriterFacts {
  readonly layer: number;
  readonly name: string;
  readonly kind: EngineLayer['kind'];
  readonly slot: number;
  /** Slot word of the tensor's word 0 (reference.ts slotWordOf). */
  readonly offset: number;
  /** Stored words of all slices. */
  readonly words: number;
  readonly sliceWords: number;
  readonly fpEvery: number;
  readonly fpEnd: number;
  /** flipStateBit position: output words rounded down to a multiple of B + 1. */
  readonly L: number;
  /** How footprints are produced: the LEA (conv, gemm) or the CPU (markers). */
  readonly indicator: 'lea' | 'cpu';
  /** gemm: the calls of one slice (stored offset and words). */
  readonly calls?: readonly { readonly off: number; readonly words: number }[];
}

export interface SlotFacts {
  readonly slot: number;
  /** Writer layers in execution order. */
  readonly writers: readonly number[];
  /** Distinct turning points toggled by the writers, ascending. */
  readonly universe: readonly number[];
  /**
   * The slot's table as writer k of `writers` finds it (index k; index writers.length: after the
   * whole inference), in an even round [0] and an odd round [1]. `overflow` names the first
   * toggle that would need a ninth entry (the engine then gets stuck), or null.
   */
  readonly tables: readonly [readonly TpTable<number>[], readonly TpTable<number>[]];
  readonly overflow: string | null;
}

export interface RefFacts {
  readonly plan: EnginePlan;
  /** Fix 'japari-gemm-slice-jobs' (FC partial sums numbered slice by slice). */
  readonly sliceJobs: boolean;
  /** Fix 'japari-fc-no-footprint-recompute' (FC outputs without footprints are recomputed). */
  readonly noFootprintRecompute: boolean;
  readonly B: number;
  readonly arith: LeaArithmetic;
  /** Fix 'japari-gemm-column-sign'. */
  readonly perColumn: boolean;
  /** Dummy weight magnitude (1; the fault japari-dummy-weight-2 makes it 2). */
  readonly dummyWeight: number;
  readonly writers: readonly WriterFacts[];
  readonly slots: readonly SlotFacts[];
}

/** japari/design.ts slicedGemmFix: FC partial sums with several slices, under the fix. */
export function slicedGemm(plan: EnginePlan, l: EngineLayer): boolean {
  return jobMapOf(plan, l).kind === 'sliced';
}

export function refFacts(plan: EnginePlan): RefFacts {
  const B = plan.B;
  const writers: WriterFacts[] = plan.layers.map((l) => {
    const lay = l.out.layout;
    const calls = l.kind === 'gemm' ? l.calls.map((c) => ({ off: c.off, words: c.words })) : undefined;
    return {
      layer: l.index,
      name: l.name,
      kind: l.kind,
      slot: l.out.slot,
      offset: (l.out.base - plan.nvm.slots[l.out.slot]!) / 2,
      words: l.out.words,
      sliceWords: lay.words,
      fpEvery: lay.fpEvery,
      fpEnd: lay.fpEnd,
      // The turning point the layer's completion toggles (japari/design.ts layerTurningPoint).
      L: layerTurningPoint(plan, l),
      indicator: l.kind === 'conv' || l.kind === 'gemm' ? 'lea' : 'cpu',
      ...(calls ? { calls } : {}),
    };
  });
  const slots: SlotFacts[] = plan.nvm.slots.map((_, slot) => {
    const ws = writers.filter((w) => w.slot === slot);
    // Turning points are slot words (record.ts), toggled at L (the engine's tensors start at the slot base).
    const universe = [...new Set(ws.map((w) => w.L))].sort((a, b) => a - b);
    const { tables, overflow } = slotHistory(ws.map((w) => ({ L: w.L, name: w.name })));
    return { slot, writers: ws.map((w) => w.layer), universe, tables, overflow };
  });
  return {
    plan,
    sliceJobs: plan.params.fixes.includes('japari-gemm-slice-jobs'),
    noFootprintRecompute: plan.params.fixes.includes('japari-fc-no-footprint-recompute'),
    B,
    arith: plan.params.arithmetic,
    perColumn: plan.params.fixes.includes('japari-gemm-column-sign'),
    dummyWeight: dummyWeightOf(plan.params.faults),
    writers,
    slots,
  };
}

/**
 * The tables a slot goes through: from the table as flashed (state +1, no turning points), each
 * writer's completion applies rules.ts flipStateBit at its L; one inference, then the next. An
 * overflow is recorded (the numeric instance with recording requirements), not thrown.
 */
function slotHistory(writers: readonly { readonly L: number; readonly name: string }[]): { tables: [TpTable<number>[], TpTable<number>[]]; overflow: string | null } {
  let overflow: string | null = null;
  const o: Ops<number, boolean> = {
    ...num,
    require: (c, err) => {
      if (!c && overflow === null) overflow = err().message;
    },
  };
  let t: TpTable<number> = { state: 1, count: 0, tps: [] };
  const rounds: [TpTable<number>[], TpTable<number>[]] = [[], []];
  for (const r of [0, 1] as const) {
    for (const w of writers) {
      rounds[r].push(t);
      const next = flipStateBit(o, t, w.L);
      t = { state: next.state, count: next.count, tps: next.tps.slice(0, next.count) };
    }
    rounds[r].push(t);
  }
  return { tables: rounds, overflow };
}

/** The index into a slot's history a layer `before` finds the slot at (its earlier writers have flipped). */
function historyIndex(sf: SlotFacts, before: number): number {
  return sf.writers.filter((w) => w < before).length;
}

/**
 * The slot's turning-point table as layer `before` finds it, in a round of parity `odd`: the even
 * and odd rounds' concrete tables, selected by the symbolic parity entry by entry.
 */
export function slotTable(o: BvOps, f: RefFacts, slot: number, before: number, odd: Bool): TpTable<BV> {
  const sf = f.slots[slot]!;
  const k = historyIndex(sf, before);
  const even = sf.tables[0][k]!;
  const oddT = sf.tables[1][k]!;
  const entry = (t: TpTable<number>, i: number) => (i < t.count ? t.tps[i]! : 0xffff);
  const n = Math.max(even.count, oddT.count, 1);
  return {
    state: o.ite(odd, o.k(oddT.state), o.k(even.state)),
    count: o.ite(odd, o.k(oddT.count), o.k(even.count)),
    tps: Array.from({ length: n }, (_, i) => o.ite(odd, o.k(entry(oddT, i)), o.k(entry(even, i)))),
  };
}

/** rules.ts psb(S, x) for the slot state layer `before` sees in a round of parity `odd`: +1 or -1 (rule term). */
export function psbTerm(o: BvOps, f: RefFacts, slot: number, before: number, odd: Bool, x: BV): BV {
  return psb(o, slotTable(o, f, slot, before, odd), o.fromU(x));
}

/** The marker a finished job carries at slot word x: -psb(x), as a 16-bit term. */
export function markerTerm(o: BvOps, f: RefFacts, slot: number, before: number, odd: Bool, x: BV): BV {
  return o.toI16(o.neg(psbTerm(o, f, slot, before, odd, x)));
}

/** The 16-bit psb value +1 / -1 of a sign. */
export function psbValue(negative: Bool): BV {
  return ite(negative, bv(-1, 16), bv(1, 16));
}

/** rules.ts jobFootprintWord of the layer's job map (japari/design.ts jobMapOf), over a symbolic 32-bit job. */
export function jobFootprintWord(f: RefFacts, layer: EngineLayer, j: BV): BV {
  return ruleFootprintWord(bvOps(), jobMapOf(f.plan, layer), j);
}

/** layout.ts isFootprintWord for a writer, at tensor word `w` (all slices). */
export function isFootprint(f: RefFacts, wf: WriterFacts, w: BV): Bool {
  if (wf.fpEvery === 0) return FALSE;
  const xs = urem(w, bv(wf.sliceWords, w.w));
  return all(ult(xs, bv(wf.fpEnd, w.w)), eq(urem(xs, bv(f.B + 1, w.w)), bv(f.B, w.w)));
}

/** The gemm call holding tensor word `w`: its first word (Stateful-CNN's sign reference). */
export function gemmCallStart(wf: WriterFacts, w: BV): BV {
  const sw = bv(wf.sliceWords, w.w);
  const xs = urem(w, sw);
  const slice0 = sub(w, xs);
  const calls = wf.calls!;
  let start: BV = bv(calls[calls.length - 1]!.off, w.w);
  for (let i = calls.length - 2; i >= 0; i--) start = ite(ult(xs, bv(calls[i + 1]!.off, w.w)), bv(calls[i]!.off, w.w), start);
  return add(slice0, start);
}

/**
 * The footprint value a layer's kernel writes at tensor word `w` (when it is a footprint word),
 * in a round of parity `odd`: conv -- the LEA computes the dummy input -32768 times the dummy
 * weight dw * psb(x) (reference.ts patchFootprintWeights); gemm -- the same with psb at the
 * call's first word (faithful) or at x (fix japari-gemm-column-sign); other layers -- the CPU
 * writes the marker -psb(x) (writeMarkers).
 */
export function footprintValue(s: Script, f: RefFacts, wf: WriterFacts, odd: Bool, w: BV): BV {
  const o = bvOps(s);
  const x = add(w, bv(wf.offset, w.w));
  if (wf.indicator === 'cpu') return markerTerm(o, f, wf.slot, wf.layer, odd, x);
  const ref = wf.kind === 'gemm' && !f.perColumn ? add(gemmCallStart(wf, w), bv(wf.offset, w.w)) : x;
  // japari/design.ts beforeConvCall / beforeGemmCall: the dummy weight is dw * psb(x).
  const weight = o.toI16(o.mul(o.k(f.dummyWeight), psbTerm(o, f, wf.slot, wf.layer, odd, ref)));
  return leaDot(s, [bv(-32768, 16)], [weight], f.arith);
}

/** What writer `wf` leaves at tensor word `w`: its footprint, or `data` (any int16). */
export function writerValue(s: Script, f: RefFacts, wf: WriterFacts, odd: Bool, w: BV, data: BV): BV {
  return ite(isFootprint(f, wf, w), footprintValue(s, f, wf, odd, w), data);
}

/**
 * The stale content of slot word `x` when layer `l` starts in round n (`odd` = n mod 2,
 * `first` = n == 0): the value of the most recent earlier layer-run that wrote x -- an earlier
 * writer of this inference, else a writer of the previous inference (l itself at the latest),
 * else never-written NVM (0). Data words are free variables declared in `s` (one per writer
 * and inference), named `${prefix}_d<layer>` / `${prefix}_p<layer>`.
 */
export function staleValue(s: Script, f: RefFacts, l: number, odd: Bool, first: Bool, x: BV, prefix: string): { value: BV; source: BV } {
  const slot = f.writers[l]!.slot;
  const sf = f.slots[slot]!;
  const before = sf.writers.filter((w) => w < l).reverse();
  const previous = sf.writers.filter((w) => w >= l).reverse();
  // Sources in the order they are looked at: [writer, previous inference?].
  const chain: { w: number; prev: boolean }[] = [...before.map((w) => ({ w, prev: false })), ...previous.map((w) => ({ w, prev: true }))];
  let value: BV = bv(0, 16);
  let source: BV = bv(-1, 16);
  for (let i = chain.length - 1; i >= 0; i--) {
    const { w, prev } = chain[i]!;
    const wf = f.writers[w]!;
    const local = sub(x, bv(wf.offset, x.w));
    const covers = all(uge(x, bv(wf.offset, x.w)), ult(local, bv(wf.words, x.w)));
    const cond = prev ? all(not(first), covers) : covers;
    const data = s.declare(`${prefix}_${prev ? 'p' : 'd'}${w}`, 16, 'signed');
    const v = writerValue(s, f, wf, prev ? not(odd) : odd, local, data);
    value = ite(cond, v, value);
    source = ite(cond, bv(prev ? 1000 + w : w, 16), source);
  }
  return { value, source };
}

/** The 16-bit word a torn write leaves: the new low byte landed, the old high byte not yet. */
export function tornWord(newV: BV, oldV: BV): BV {
  return concat(extract(oldV, 15, 8), extract(newV, 7, 0));
}

/** n == 0 and n odd, from a 32-bit round variable. */
export function roundFlags(n: BV): { first: Bool; odd: Bool } {
  return { first: eq(n, bv(0, n.w)), odd: eq({ w: 1, s: `((_ extract 0 0) ${n.s})`, ...(n.c !== undefined ? { c: n.c & 1n } : {}) }, bv(1, 1)) };
}
