/**
 * Symbolic twins of the reference engine's indicator machinery (src/model/engine/reference.ts,
 * record.ts, layout.ts), over bit-vector terms:
 *
 *   slotFacts(plan)          the static history of every NVM slot: which layers write it, in
 *                            order, and the turning points their completions toggle
 *   negPsb(...)              record.ts psb(s, x) < 0 for the slot state a layer sees, with the
 *                            inference count reduced to its parity (lemma below)
 *   jobFootprintWord(...)    ReferenceEngine.jobFootprintWord
 *   writerValue(...)         what a layer's kernel writes at a slot word: its footprint (the LEA
 *                            dot product of the dummy input and the dummy weight, or the CPU
 *                            marker) or a data value (a free variable)
 *
 * Lemma (slot-state periodicity): a slot's state after n inferences is F^n(S0), where F (one
 * inference) negates the state bit once per writer and toggles each writer's turning point
 * (insert if absent, remove if present). Toggling is an involution and negation too, so F(F(S))
 * = S for every S: the state depends only on n mod 2. `periodicityGoal` proves F(F(S)) = S over
 * an arbitrary (symbolic) table and state bit; the encoders then use the parity of a symbolic n.
 *
 * Every function takes constant terms to constant terms (smtlib.ts folds constants), so tests
 * compare them with the engine's own functions on concrete values without Z3.
 */
import type { EnginePlan, EngineLayer, ConvLayer } from '../engines/reference/plan.js';
import type { LeaArithmetic } from '../device/lea.js';
import {
  type BV,
  type Bool,
  type Script,
  add,
  all,
  bv,
  bxor,
  concat,
  extract,
  eq,
  ite,
  mul,
  not,
  sub,
  udiv,
  uge,
  ult,
  urem,
  FALSE,
  TRUE,
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
  /** Per universe entry: toggled an odd number of times per inference. */
  readonly perInference: readonly boolean[];
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

/** reference.ts slicedGemmFix: FC partial sums with several slices, under the fix. */
export function slicedGemm(plan: EnginePlan, l: EngineLayer): boolean {
  return l.kind === 'gemm' && l.out.slices > 1 && plan.params.fixes.includes('japari-gemm-slice-jobs');
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
      // reference.ts endLayer (fix japari-gemm-slice-jobs: FC partial sums flip their whole length).
      L: slicedGemm(plan, l) ? l.out.words : Math.floor(l.out.words / (B + 1)) * (B + 1),
      indicator: l.kind === 'conv' || l.kind === 'gemm' ? 'lea' : 'cpu',
      ...(calls ? { calls } : {}),
    };
  });
  const slots: SlotFacts[] = plan.nvm.slots.map((_, slot) => {
    const ws = writers.filter((w) => w.slot === slot);
    // Turning points are slot words (record.ts), toggled at L (the engine's tensors start at the slot base).
    const universe = [...new Set(ws.map((w) => w.L))].sort((a, b) => a - b);
    const perInference = universe.map((u) => ws.filter((w) => w.L === u).length % 2 === 1);
    return { slot, writers: ws.map((w) => w.layer), universe, perInference };
  });
  return {
    plan,
    sliceJobs: plan.params.fixes.includes('japari-gemm-slice-jobs'),
    noFootprintRecompute: plan.params.fixes.includes('japari-fc-no-footprint-recompute'),
    B,
    arith: plan.params.arithmetic,
    perColumn: plan.params.fixes.includes('japari-gemm-column-sign'),
    dummyWeight: plan.params.faults.includes('japari-dummy-weight-2') ? 2 : 1,
    writers,
    slots,
  };
}

/**
 * The slot's state as the layer `before` sees it (its writers < before have toggled), in a round
 * of parity `odd`: the turning-point mask over the universe and whether the state bit is -1.
 */
export function slotState(f: RefFacts, slot: number, before: number, odd: Bool): { mask: Bool[]; negative: Bool } {
  const sf = f.slots[slot]!;
  const earlier = sf.writers.filter((w) => w < before);
  const mask = sf.universe.map((u, i) => {
    const prefix = earlier.filter((w) => f.writers[w]!.L === u).length % 2 === 1;
    return bxor(sf.perInference[i]! ? odd : FALSE, prefix ? TRUE : FALSE);
  });
  const negative = bxor(sf.writers.length % 2 === 1 ? odd : FALSE, earlier.length % 2 === 1 ? TRUE : FALSE);
  return { mask, negative };
}

/** psb(S, x) == -1 for the state of `slot` before layer `before` (record.ts psb). */
export function psbNegative(f: RefFacts, slot: number, before: number, odd: Bool, x: BV): Bool {
  const st = slotState(f, slot, before, odd);
  const sf = f.slots[slot]!;
  let p = st.negative;
  sf.universe.forEach((u, i) => {
    p = bxor(p, all(st.mask[i]!, uge(x, bv(u, x.w))));
  });
  return p;
}

/** The 16-bit psb value: +1 or -1. */
export function psbValue(neg: Bool): BV {
  return ite(neg, bv(-1, 16), bv(1, 16));
}

/** ReferenceEngine.jobFootprintWord's conv job counts: per LEA call, per filter tile, per input slice. */
export function convJobCounts(cl: ConvLayer, B: number): { jobsPerCall: number; perTile: number; perSlice: number } {
  const jobsPerCall = cl.otc / B;
  const perTile = cl.Pout * cl.Qout * jobsPerCall;
  return { jobsPerCall, perTile, perSlice: cl.filterTiles * perTile };
}

/** ReferenceEngine.jobFootprintWord over a symbolic job index (32-bit). */
export function jobFootprintWord(f: RefFacts, layer: EngineLayer, j: BV): BV {
  const B = f.B;
  const c = (v: number) => bv(v, j.w);
  if (slicedGemm(f.plan, layer)) {
    const sw = layer.out.layout.words;
    const perSlice = Math.floor(sw / (B + 1));
    if (perSlice === 0) return c(layer.out.words + B);
    return sub(add(mul(udiv(j, c(perSlice)), c(sw)), mul(add(urem(j, c(perSlice)), c(1)), c(B + 1))), c(1));
  }
  if (layer.jobMap === 'generic') return sub(mul(add(j, c(1)), c(B + 1)), c(1));
  const cl = layer as ConvLayer;
  const { jobsPerCall, perTile, perSlice } = convJobCounts(cl, B);
  const sliceWords = cl.out.layout.words;
  const t = udiv(j, c(perSlice));
  const r = urem(j, c(perSlice));
  const fi = udiv(r, c(perTile));
  const r2 = urem(r, c(perTile));
  const k = udiv(r2, c(jobsPerCall));
  const i = urem(r2, c(jobsPerCall));
  return add(
    add(add(mul(t, c(sliceWords)), mul(k, c(cl.out.layout.Cs))), add(mul(fi, c(cl.callWords)), mul(i, c(B + 1)))),
    c(B),
  );
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
  const x = add(w, bv(wf.offset, w.w));
  if (wf.indicator === 'cpu') return psbValue(not(psbNegative(f, wf.slot, wf.layer, odd, x)));
  const ref = wf.kind === 'gemm' && !f.perColumn ? add(gemmCallStart(wf, w), bv(wf.offset, w.w)) : x;
  const neg = psbNegative(f, wf.slot, wf.layer, odd, ref);
  const weight = ite(neg, bv(-f.dummyWeight, 16), bv(f.dummyWeight, 16));
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

/** Layers whose seeker the engine runs (JAPARI's GAP recomputes instead). */
export function seekingLayers(plan: EnginePlan): EngineLayer[] {
  return plan.layers.filter((l) => l.kind !== 'gap');
}

/** n == 0 and n odd, from a 32-bit round variable. */
export function roundFlags(n: BV): { first: Bool; odd: Bool } {
  return { first: eq(n, bv(0, n.w)), odd: eq({ w: 1, s: `((_ extract 0 0) ${n.s})`, ...(n.c !== undefined ? { c: n.c & 1n } : {}) }, bv(1, 1)) };
}
