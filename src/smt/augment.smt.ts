/**
 * augmentation-transparency: the LEA multiply with the plan's ROM B matrices (footprint columns,
 * the dummy/bias row, zero filters, padding) yields exactly the reference's real outputs.
 *
 * For every LEA call of a conv/FC layer (every input tile x filter tile / call):
 *   A   symbolic: every input element of the window is an int16 variable (out-of-bounds pixels
 *       are the case 0 of the same variables); the constant -32768 at each row segment's end
 *       and the 0 padding exactly as the engine fills them (fetchConvRows, gemm)
 *   B   the plan's ROM block; footprint columns carry a symbolic dummy weight +-dw (the engine
 *       patches it at run time)
 *   claim  each real column's LEA result == the reference's dot product for that output and
 *          part (q15.ts: the part's terms in term order, the bias in part 0), computed through
 *          the same LEA arithmetic; each zero-filter column is 0; each footprint column is
 *          finish(-32768 * weight), whatever the inputs.
 * Weights: the model's concrete weights per layer, or -- on small layers (<= 64 weights, or
 * when asked) -- fully symbolic weights and biases: the layer is re-planned with distinct
 * marker values in place of its weights, which tells which ROM cell holds which weight; each
 * marker is then replaced by a variable (the plan's arrangement is independent of the values).
 */
import type { ConvLayer, GemmLayer, EngineLayer, EnginePlan } from '../engines/reference/plan.js';

import type { QConv, QGemm, QuantizedNetwork, QNode } from '../model/quantize.js';
import { logicalOfWords } from '../model/layout.js';
import { wholeLayer } from '../model/q15.js';
import { Script, type BV, type Bool, any, bv, eq, ite, neg, not } from './smtlib.js';
import { type Obligation, type Goal, goal } from './obligation.js';
import { leaDot } from './lea.smt.js';
import type { ProveContext } from './context.js';
import { layerLabel } from './labels.js';
import type { LcLeaLayer } from '../engines/japari-loopcount/plan.js';
import { loopCountPlanOf, iterationOf } from '../engines/japari-loopcount/plan.js';

const SYMBOLIC_WEIGHTS_MAX = 64;
/** Products per query (a query holds several LEA calls of a layer). */
const TERMS_PER_QUERY = 24_000;

interface Call {
  readonly label: string;
  /** A vector: per element, 'x:<name>' input variable, or a constant. */
  readonly a: readonly (string | number)[];
  /** B columns in use (stored words): per column the ROM cells (length a.length). */
  readonly cols: readonly {
    readonly kind: 'real' | 'zero' | 'footprint';
    readonly cells: readonly WeightCell[];
    /** Real: the reference terms [input element, weight cell] in term order. */
    readonly ref?: readonly (readonly [string | number, WeightCell])[];
    readonly output?: number;
  }[];
}

/** A ROM cell: a constant, or weight k / minus bias k of the layer (symbolic-weight mode). */
type WeightCell = number | { readonly w: number } | { readonly negBias: number } | 'dummy';

interface WeightSource {
  readonly symbolic: boolean;
  /** The ROM word at an offset, decoded to a cell. */
  cell(romWord: number): WeightCell;
  weight(k: number): WeightCell;
  negBias(o: number): WeightCell;
}

function qnodeOf(q: QuantizedNetwork, name: string): QConv | QGemm {
  const n = q.nodes.find((x) => x.node.name === name);
  if (!n || (n.kind !== 'conv' && n.kind !== 'gemm')) throw new Error(`no conv/gemm node ${name}`);
  return n;
}

const BIAS_MARK = 16384;

/** Re-plan with markers in place of the layer's weights (1..n) and biases (16384 + o). */
function markerPlan(ctx: ProveContext, node: string): EnginePlan {
  const q = ctx.plan.q;
  const nodes: QNode[] = q.nodes.map((n) => {
    if (n.node.name !== node || (n.kind !== 'conv' && n.kind !== 'gemm')) return n;
    const weightQ = Int16Array.from(n.weightQ, (_, i) => i + 1);
    const biasQ = Int16Array.from(n.biasQ, (_, o) => BIAS_MARK + o);
    return { ...n, weightQ, biasQ } as QNode;
  });
  return ctx.deployment.design.plan({ ...q, nodes }, { ...ctx.deployment.plan.params, faults: [], fixes: [...ctx.spec.fixes] });
}

function weightSource(ctx: ProveContext, plan: EnginePlan, node: string): WeightSource {
  const qn = qnodeOf(ctx.plan.q, node);
  const symbolic = ctx.spec.weights === 'symbolic' || (ctx.spec.weights === 'auto' && qn.weightQ.length <= SYMBOLIC_WEIGHTS_MAX);
  if (!symbolic || qn.weightQ.length >= BIAS_MARK) {
    return { symbolic: false, cell: (r) => plan.rom[r]!, weight: (k) => qn.weightQ[k]!, negBias: (o) => -qn.biasQ[o]! };
  }
  const marked = markerPlan(ctx, node);
  return {
    symbolic: true,
    cell: (r) => {
      const v = marked.rom[r]!;
      if (v === 0) return 0;
      if (v >= 1 && v <= qn.weightQ.length) return { w: v - 1 };
      if (v <= -BIAS_MARK) return { negBias: -v - BIAS_MARK };
      return v;
    },
    weight: (k) => ({ w: k }),
    negBias: (o) => ({ negBias: o }),
  };
}

// ---------------------------------------------------------------------------------------------
// Reference engine calls

function convCalls(ctx: ProveContext, c: ConvLayer, ws: WeightSource): Call[] {
  const qc = qnodeOf(ctx.plan.q, c.node) as QConv;
  const plan = ctx.plan;
  const B = plan.B;
  const aug = plan.aug;
  const la = plan.arithmetic.layers.get(c.node) ?? wholeLayer(qc.inChannels);
  const hw = c.in.layout.orient === 'hw';
  const [kh, kw] = qc.op.kernel;
  const C = qc.inChannels;
  const calls: Call[] = [];
  c.slices.forEach((s, t) => {
    const ctw = s.c1 - s.c0;
    const a: (string | number)[] = [];
    for (let p = 0; p < c.kP; p++) {
      for (let q = 0; q < c.kQ; q++) for (let ch = 0; ch < ctw; ch++) a.push(`x_${p}_${q}_${s.c0 + ch}`);
      a.push(-32768);
      if (s.segLen > c.kQ * ctw + 1) a.push(0);
    }
    const part = la.parts[t]!;
    // Reference term order: kernel positions in the part's order, channels innermost.
    const positions: [number, number][] = [];
    if (part.pos) positions.push([part.pos[0], part.pos[1]]);
    else if (la.order === 'hw') for (let r = 0; r < kh; r++) for (let q = 0; q < kw; q++) positions.push([r, q]);
    else for (let q = 0; q < kw; q++) for (let r = 0; r < kh; r++) positions.push([r, q]);
    for (let f = 0; f < c.filterTiles; f++) {
      const width = Math.min(c.otc, c.OCp - f * c.otc);
      const callWords = aug ? width + Math.floor(width / B) : width;
      const rom = s.rom[f]!;
      const cols: Call['cols'][number][] = [];
      for (let col = 0; col < callWords; col++) {
        const cells = Array.from({ length: s.L }, (_, row) => (aug && col % (B + 1) === B && row === s.biasRow ? ('dummy' as const) : ws.cell(rom + row * c.ncolsLea + col)));
        if (aug && col % (B + 1) === B) {
          cols.push({ kind: 'footprint', cells });
          continue;
        }
        const j = aug ? col - Math.floor(col / (B + 1)) : col;
        const o = f * c.otc + j;
        if (o >= c.OC) {
          cols.push({ kind: 'zero', cells });
          continue;
        }
        const ref: [string | number, WeightCell][] = [];
        for (const [r, q] of positions) {
          const [pp, qq] = hw ? [r, q] : [q, r];
          for (let ch = part.c0; ch < part.c1; ch++) ref.push([`x_${pp}_${qq}_${ch}`, ws.weight(((o * C + ch) * kh + r) * kw + q)]);
        }
        if (t === 0) ref.push([-32768, ws.negBias(o)]);
        cols.push({ kind: 'real', cells, ref, output: o });
      }
      calls.push({ label: `input tile ${t} (channels ${s.c0}..${s.c1 - 1}), filter tile ${f}`, a, cols });
    }
  });
  return calls;
}

function gemmCalls(ctx: ProveContext, g: GemmLayer, ws: WeightSource): Call[] {
  const qg = qnodeOf(ctx.plan.q, g.node) as QGemm;
  const plan = ctx.plan;
  const B = plan.B;
  const la = plan.arithmetic.layers.get(g.node) ?? wholeLayer(qg.inFeatures);
  const logical = logicalOfWords(g.in.layout);
  const feats = Array.from(g.inWords, (w) => logical[w]!);
  const calls: Call[] = [];
  g.tiles.forEach((tile, t) => {
    const rows = tile.r1 - tile.r0;
    const a: (string | number)[] = [];
    for (let r = tile.r0; r < tile.r1; r++) a.push(`x_${r}`);
    a.push(-32768, 0);
    const part = la.parts[t]!;
    g.calls.forEach((call, ci) => {
      const rom = tile.rom[ci]!;
      const cols: Call['cols'][number][] = [];
      for (let col = 0; col < call.words; col++) {
        const fp = call.fps && col % (B + 1) === B;
        const cells = Array.from({ length: rows + 2 }, (_, row) => (fp && row === rows ? ('dummy' as const) : ws.cell(rom + row * g.ncolsLea + col)));
        if (fp) {
          cols.push({ kind: 'footprint', cells });
          continue;
        }
        const j = call.fps ? col - Math.floor(col / (B + 1)) : col;
        const n = call.n0 + j;
        if (n >= g.N) {
          cols.push({ kind: 'zero', cells });
          continue;
        }
        const ref: [string | number, WeightCell][] = [];
        const order = part.features ?? Int32Array.from({ length: part.c1 - part.c0 }, (_, i) => part.c0 + i);
        for (const feature of order) {
          const r = feats.indexOf(feature, tile.r0);
          ref.push([r >= 0 && r < tile.r1 ? `x_${r}` : 0, ws.weight(n * qg.inFeatures + feature)]);
        }
        if (t === 0) ref.push([-32768, ws.negBias(n)]);
        cols.push({ kind: 'real', cells, ref, output: n });
      }
      calls.push({ label: `input tile ${t} (rows ${tile.r0}..${tile.r1 - 1}), call ${ci} (outputs ${call.n0}..${call.n0 + call.width - 1})`, a, cols });
    });
  });
  return calls;
}

// ---------------------------------------------------------------------------------------------
// Goals

/**
 * How the footprint columns are checked: the term a 'dummy' ROM cell stands for, and what a
 * footprint column must yield. Reference engine: the dummy weight is +-psb (a symbolic sign,
 * magnitude 1, or 2 under the fault japari-dummy-weight-2) times the dummy input -32768.
 * Loop-count engine: a symbolic dummy weight times a symbolic dummy input.
 */
interface DummyModel {
  weight(s: Script): BV;
  footprint(s: Script, input: (e: string | number) => BV, weight: BV): BV;
}

/** Equality goals for a layer's LEA calls, batched into queries of at most TERMS_PER_QUERY products. */
function callGoals(ctx: ProveContext, calls: readonly Call[], title: string, dummy: DummyModel): Goal[] {
  const goals: Goal[] = [];
  let batch: Call[] = [];
  let terms = 0;
  const flush = () => {
    if (batch.length === 0) return;
    const calls0 = batch;
    batch = [];
    terms = 0;
    const s = new Script();
    const vars = new Map<string, BV>();
    const input = (e: string | number): BV => {
      if (typeof e === 'number') return bv(e, 16);
      let v = vars.get(e);
      if (!v) {
        v = s.declare(e, 16, 'signed');
        vars.set(e, v);
      }
      return v;
    };
    const dummyWeight = dummy.weight(s);
    const wvars = new Map<string, BV>();
    const cellTerm = (c: WeightCell): BV => {
      if (typeof c === 'number') return bv(c, 16);
      if (c === 'dummy') return dummyWeight;
      const key = 'w' in c ? `w_${c.w}` : `b_${c.negBias}`;
      let v = wvars.get(key);
      if (!v) {
        v = s.declare(key, 16, 'signed');
        wvars.set(key, v);
      }
      return 'w' in c ? v : neg(v);
    };
    const arith = ctx.plan.params.arithmetic;
    const bad: Bool[] = [];
    const labels: string[] = [];
    for (const call of calls0) {
      const a = call.a.map(input);
      call.cols.forEach((col, ci) => {
        const got = leaDot(s, a, col.cells.map(cellTerm), arith);
        let want: BV;
        if (col.kind === 'footprint') want = dummy.footprint(s, input, dummyWeight);
        else if (col.kind === 'zero') want = bv(0, 16);
        else want = leaDot(s, col.ref!.map(([x]) => input(x)), col.ref!.map(([, w]) => cellTerm(w)), arith);
        bad.push(s.defineBool(not(eq(got, want)), 'bad'));
        labels.push(`${call.label}, column ${ci} (${col.kind}${col.output !== undefined ? ` output ${col.output}` : ''})`);
      });
    }
    let which: BV = bv(-1, 16);
    for (let i = bad.length - 1; i >= 0; i--) which = ite(bad[i]!, bv(i, 16), which);
    s.observe('column', which, 'signed');
    s.assert(any(...bad));
    goals.push(goal(`${title} ${calls0[0]!.label} .. ${calls0[calls0.length - 1]!.label}`, s, (v) => ({ where: labels[v['column'] as number] ?? 'unknown' })));
  };
  for (const call of calls) {
    const t = call.a.length * call.cols.length;
    if (terms + t > TERMS_PER_QUERY) flush();
    batch.push(call);
    terms += t;
  }
  flush();
  return goals;
}

export function augmentationObligation(ctx: ProveContext, l: EngineLayer): Obligation {
  const node = (l as ConvLayer | GemmLayer).node;
  const ws = weightSource(ctx, ctx.plan, node);
  const calls = l.kind === 'conv' ? convCalls(ctx, l, ws) : gemmCalls(ctx, l as GemmLayer, ws);
  const aug = ctx.plan.aug;
  const weights = ws.symbolic ? 'fully symbolic weights and biases (the layer re-planned with markers)' : "the model's concrete weights";
  return {
    id: 'augmentation-transparency',
    layer: layerLabel(l),
    layerIndex: l.index,
    statement: aug
      ? `Each of the ${calls.length} LEA calls of ${l.name} (augmented B matrices: footprint columns, dummy/bias row, zero filters) yields exactly the reference outputs in its real columns, 0 in zero filters, and -32768 x dummy weight in footprint columns, for every input.`
      : `Each of the ${calls.length} LEA calls of ${l.name} (no augmentation: B matrices with the bias row) yields exactly the reference outputs, for every input.`,
    tiedTo: ['reference/plan.ts#planReference (ROM B matrices)', 'reference.ts#fetchConvRows', 'reference.ts#gemm', 'q15.ts#convQ15', 'q15.ts#gemmQ15', 'lea.ts#dotGeneric'],
    encoding: `symbolic inputs (int16 bit-vectors); ${weights}; LEA arithmetic ${JSON.stringify(ctx.plan.params.arithmetic)}`,
    goals: callGoals(ctx, calls, `${l.name}: LEA calls`, {
      weight: (sc) => {
        const dw = ctx.plan.params.faults.includes('japari-dummy-weight-2') ? 2 : 1;
        return ite(sc.declareBool('dummy_negative', true), bv(-dw, 16), bv(dw, 16));
      },
      footprint: (sc, _input, w) => leaDot(sc, [bv(-32768, 16)], [w], ctx.plan.params.arithmetic),
    }),
  };
}

// ---------------------------------------------------------------------------------------------
// Loop-count engine calls (plan-loopcount.ts ROM blocks)

export function loopCountAugmentation(ctx: ProveContext, l: LcLeaLayer): Obligation {
  const plan = ctx.plan;
  const B = plan.B;
  const ws = weightSource(ctx, plan, l.name);
  const lcMarked = ws.symbolic ? loopCountPlanOf(markerPlan(ctx, l.name)).layers.find((x) => x.name === l.name) as LcLeaLayer : l;
  const calls: Call[] = [];
  const seen = new Set<number>();
  const logical = l.termWords ? logicalOfWords(l.in.layout) : null;
  const featureOf = (term: number): number => logical![l.termWords![term]!]!;
  for (let iter = 1; iter <= l.iterations; iter++) {
    const it = iterationOf(l, B, iter);
    const itM = ws.symbolic ? iterationOf(lcMarked, B, iter) : it;
    const key = ((it.m0 / 8) * l.nN + it.n0 / 8) * l.kh * l.kw + it.kr * l.kw + it.kc;
    if (seen.has(key)) continue;
    seen.add(key);
    const a: (string | number)[] = [];
    for (let i = 0; i < it.tn; i++) a.push(`x_${it.n0 + i}`);
    a.push(`dummy_input`);
    a.push(it.first ? -32768 : 0);
    if (it.len > it.tn + 2) a.push(0);
    const cols: Call['cols'][number][] = [];
    for (let col = 0; col < it.callWords; col++) {
      const fp = col % (B + 1) === B;
      const cells = Array.from({ length: it.len }, (_, row) => (fp && row === it.tn ? ('dummy' as const) : ws.cell(itM.rom + row * it.ncols + col)));
      if (fp) {
        cols.push({ kind: 'footprint', cells });
        continue;
      }
      const o = it.m0 + col - Math.floor(col / (B + 1));
      if (o >= l.OC) {
        cols.push({ kind: 'zero', cells });
        continue;
      }
      const ref: [string | number, WeightCell][] = [];
      for (let i = 0; i < it.tn; i++) {
        const ch = it.n0 + i;
        const k = l.kind === 'conv' ? ((o * l.C + ch) * l.kh + it.kr) * l.kw + it.kc : o * l.C + (l.termWords ? featureOf(ch) : ch);
        ref.push([`x_${ch}`, ws.weight(k)]);
      }
      if (it.first) ref.push([-32768, ws.negBias(o)]);
      cols.push({ kind: 'real', cells, ref, output: o });
    }
    calls.push({ label: `m-tile ${it.m0 / 8}, n-tile ${it.n0 / 8}, kernel (${it.kr}, ${it.kc})`, a, cols });
  }
  const goals = callGoals(ctx, calls, 'ROM blocks', {
    weight: (sc) => sc.declare('dummy_weight', 16, 'signed'),
    footprint: (sc, input, w) => leaDot(sc, [input('dummy_input')], [w], ctx.plan.params.arithmetic),
  });
  const weights = ws.symbolic ? 'fully symbolic weights and biases (the layer re-planned with markers)' : "the model's concrete weights";
  return {
    id: 'augmentation-transparency',
    layer: layerLabel(l),
    layerIndex: l.index,
    statement: `Each of the ${calls.length} ROM blocks of ${l.name} (dummy row, bias row, footprint columns) yields exactly the reference part of every real output, 0 in zero filters, and dummy input x dummy weight in footprint columns, for every input and dummy input.`,
    tiedTo: ['plan-loopcount.ts#planLoopCount (ROM blocks)', 'loopcount.ts#computeAndPreserve', 'loopcount.ts#fetchInput', 'q15.ts#convQ15', 'lea.ts#dotGeneric'],
    encoding: `symbolic inputs and dummy input (int16); ${weights}; the footprint weight symbolic`,
    goals,
  };
}
