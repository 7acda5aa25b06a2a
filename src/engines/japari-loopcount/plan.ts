/**
 * Deployment planning for `japari-loopcount`: JAPARI as first published (EMCLab-Sinica/JAPARI,
 * libJAPARI/src/convolution.c and fc.c), with loop-count footprints. algorithms.md "JAPARI as
 * first published (loop-count footprints)"; /tmp/research/stateful-cnn-notes.md section 6.
 *
 * What this module decides (the engine, engine.ts, only follows it; the decisions it makes at run time are rules.ts):
 *  - Tiles (japari.h): Tr = 4 output rows x Tc = 4 output columns x Tm = 8 output channels x
 *    Tn = 8 input channels, clipped at the edges. Loop order r, c, m (inter-tile), n, kr, kc
 *    (intra-tile); one "iteration" = one (r, c, m, n, kr, kc). loop_cnt numbers the iterations of
 *    a layer from 1. FC is the same scheme with one output "pixel", m-tiles of 8 outputs and
 *    n-tiles of 8 input features (fc.c).
 *  - Feature maps are stored 'hw' (never transposed), pixel-major, channels innermost, with a
 *    footprint word after every B channels (layout.ts fmapLayout(C, H, W, 'hw', B); channels
 *    rounded up to a multiple of B with zero filters). B must divide Tm = 8, so every m-tile is a
 *    whole number of B-groups and one LEA call yields [B values, FP] x (tm / B) for its pixel.
 *    FC outputs are stored like a [N, 1, 1] feature map (N rounded up to B likewise).
 *  - Per (m-tile, n-tile, kr, kc) one pre-arranged B matrix in program FRAM (ROM):
 *      rows 0..tn-1   the weights of kernel position (kr, kc) for the tile's input channels
 *      row tn         the dummy row: 0 in real columns; the engine writes dummy_w * loop_cnt into
 *                     the footprint columns at run time
 *      row tn+1       the bias row: -bias_q in real columns of the first block of an (r, c, m)
 *                     tile (n = kr = kc = 0), 0 otherwise (see "Deviation: bias" below)
 *      row tn+2       zero padding when tn + 2 is odd (LEA operands have even length)
 *    columns: the tile's tm channels with a footprint column after every B of them, padded even.
 *  - NVM (external SPI FRAM), in order: the model record shadow pair (record.ts: running,
 *    run_counter, layer_idx and one slot per LEA layer whose state is that layer's SIGN), one
 *    preservation buffer (PB) per LEA layer (Tr x Tc pixels x (Tm + Tm/B) words), the input
 *    sample region, two dedicated output copies per LEA layer (the ping-pong pair), then a pool
 *    for the outputs of non-LEA layers (reused once a tensor is dead). LEA output copies are
 *    never shared: recovery reads their stale contents (the monotonicity scan relies on what an
 *    unwritten location holds, which the published code gets from statically allocated,
 *    per-layer buffers).
 *  - The ArithmeticPlan: conv = one part per (n-tile, kr, kc) in loop order with pos [kr, kc];
 *    FC = one part per n-tile (its features in term order). Part 0 carries the bias. The LEA
 *    adds the parts in this order with saturation (op 1), which is what q15.ts evaluates.
 *
 * Deviation: bias. The published JAP_CONV/JAP_FC apply no bias (PARA.BIAS is unused). Our
 * networks have biases, so A carries one more constant element: -1.0 (-32768) in the first
 * iteration of each (r, c, m) tile, 0 in the others; with the bias row above this adds bias
 * exactly once and keeps the outputs equal to the network.
 */
import type { Network, Shape, ConvOp, GemmOp, MaxPoolOp } from '../../model/ir.js';
import { numel, shapeStr } from '../../model/ir.js';
import type { QuantizedNetwork, QConv, QGemm } from '../../model/quantize.js';
import type { ArithmeticPlan, LayerArithmetic, ArithPart } from '../../model/q15.js';
import { type Layout, fmapLayout, vecLayout, chanWord, ceilTo, logicalOfWords } from '../../model/layout.js';
import type { EngineParams, EnginePlan, TensorRef } from '../reference/plan.js';
import { defaultOpFilters, commonParams } from '../reference/plan.js';
import { recordBytes } from '../common/record.js';
import { RomImage } from '../common/rom.js';
import { type LeaArithmetic, TI_REFERENCE_ARITHMETIC } from '../../device/lea.js';
import { LEA_RAM_BASE } from '../../device/device.js';
import { ConfigError, InputError, assertNever } from '../../util/errors.js';
import { type Ops, num } from '../ops.js';
import { type LcRuleOptions, type SeekReads, copyFlip } from './rules.js';

// The footprint constants are rules of the design (rules.ts); re-exported for the plan's readers.
export { DUMMY_INPUT_SIGN0, DUMMY_INPUT_SIGN1, DUMMY_WEIGHT_SIGN0, DUMMY_WEIGHT_SIGN1 } from './rules.js';

// ---------------------------------------------------------------------------------------------
// Constants (libJAPARI japari.h)

/** Output rows, output columns, output channels and input channels per tile (japari.h). */
export const LC_TR = 4;
export const LC_TC = 4;
export const LC_TM = 8;
export const LC_TN = 8;
/** Pixels of a full tile: the unit of the engine's position counter. */
export const LC_TILE_PIXELS = LC_TR * LC_TC;
/** B values this engine supports: divisors of Tm. */
export const LC_BATCHES = [1, 2, 4, 8] as const;
/** Most LEA layers the record holds a SIGN for (the record is read into 1 KB of scratch SRAM). */
const LC_MAX_LEA_LAYERS = 64;
/** Words of a non-LEA chunk (relu, add). */
const LC_CHUNK = 256;

// ---------------------------------------------------------------------------------------------
// Plan types

/** A stored tensor: its layout and where its copies live. */
export interface LcTensor {
  readonly name: string;
  readonly layout: Layout;
  /** NVM byte address of each copy (LEA outputs: the ping-pong pair; others: one). */
  readonly copies: readonly number[];
  /** Index of the copy that holds the finished values (what readers read). */
  readonly final: number;
  /** The finished copy as a TensorRef (slot: the record slot of an LEA output, -1 input, -2 other). */
  readonly ref: TensorRef;
}

interface LcLayerCommon {
  readonly index: number;
  /** The IR node name. */
  readonly name: string;
  readonly out: LcTensor;
}

/** A conv or FC layer run by the loop-count scheme (FC: 1 x 1 output, 1 x 1 kernel). */
export interface LcLeaLayer extends LcLayerCommon {
  readonly kind: 'conv' | 'gemm';
  /** Record slot holding this layer's SIGN. */
  readonly slot: number;
  readonly in: TensorRef;
  /** Input channels (conv) or input features K (FC). */
  readonly C: number;
  readonly inH: number;
  readonly inW: number;
  /** Logical and computed (rounded up to B) output channels / features. */
  readonly OC: number;
  readonly OCp: number;
  readonly OH: number;
  readonly OW: number;
  readonly kh: number;
  readonly kw: number;
  readonly sh: number;
  readonly sw: number;
  readonly pt: number;
  readonly pl: number;
  /** Tile counts along rows, columns, output channels, input channels. */
  readonly nR: number;
  readonly nC: number;
  readonly nM: number;
  readonly nN: number;
  /** Iterations per (r, c, m) tile (nN * kh * kw) and in the whole layer (the largest loop_cnt). */
  readonly itersPerTile: number;
  readonly iterations: number;
  /** Preservation buffer: NVM byte address and words. */
  readonly pb: number;
  readonly pbWords: number;
  /** ROM word offset of the B block of ((m * nN + n) * kh + kr) * kw + kc. */
  readonly rom: Int32Array;
  /** FC only: stored word (within the input tensor) of each input term, in term order. */
  readonly termWords: Int32Array | null;
  /** LEA RAM word addresses: A vector, B matrix, the tile's results, the op-1 source words. */
  readonly lea: { readonly a: number; readonly b: number; readonly res: number; readonly src: number; readonly end: number };
}

export interface LcReluLayer extends LcLayerCommon {
  readonly kind: 'relu';
  readonly in: TensorRef;
  readonly chunk: number;
  readonly buf: number;
}

export interface LcMaxPoolLayer extends LcLayerCommon {
  readonly kind: 'maxpool';
  readonly in: TensorRef;
  readonly op: MaxPoolOp;
  readonly buf: number;
  readonly acc: number;
}

export interface LcGapLayer extends LcLayerCommon {
  readonly kind: 'gap';
  readonly in: TensorRef;
  readonly buf: number;
  readonly outBuf: number;
}

export interface LcConcatLayer extends LcLayerCommon {
  readonly kind: 'concat';
  readonly ins: readonly TensorRef[];
  readonly buf: number;
  readonly outBuf: number;
}

export interface LcAddLayer extends LcLayerCommon {
  readonly kind: 'add';
  readonly a: TensorRef;
  readonly b: TensorRef;
  readonly chunk: number;
  readonly x: number;
  readonly y: number;
}

export type LcLayer = LcLeaLayer | LcReluLayer | LcMaxPoolLayer | LcGapLayer | LcConcatLayer | LcAddLayer;

export interface LcNvmMap {
  readonly record: number;
  readonly recordBytes: number;
  /** Preservation buffer of each LEA layer, by record slot. */
  readonly pbs: readonly number[];
  readonly samples: number;
  /** Dedicated LEA output copies: [start, end). */
  readonly leaOutputs: readonly [number, number];
  /** Pool of non-LEA outputs: [start, end). */
  readonly pool: readonly [number, number];
  readonly end: number;
}

export interface LoopCountPlan {
  readonly B: number;
  readonly layers: readonly LcLayer[];
  /** Indices (into `layers`) of the LEA layers, by record slot. */
  readonly leaLayers: readonly number[];
  readonly nvm: LcNvmMap;
}

// ---------------------------------------------------------------------------------------------
// One iteration of an LEA layer (pure; the engine and the recovery replay both use it)

export interface LcIteration {
  /** 1-based loop_cnt (as a mathematical integer; the engine keeps a 16-bit copy). */
  readonly iter: number;
  /** (r, c, m) tile index in loop order, and the iteration's index inside it. */
  readonly tile: number;
  readonly inner: number;
  /** First iteration of its (r, c, m) tile: n = kr = kc = 0 (op 1 writes copy 0 directly). */
  readonly first: boolean;
  /** Ping-pong: op 1 reads copy flip ^ 1 and writes copy flip (rules.ts copyFlip: 0 at every tile start). */
  readonly flip: number;
  readonly r0: number;
  readonly c0: number;
  readonly m0: number;
  readonly n0: number;
  readonly kr: number;
  readonly kc: number;
  readonly tr: number;
  readonly tc: number;
  readonly tm: number;
  readonly tn: number;
  /** Pixels of the tile (tr * tc) and footprints per pixel (tm / B). */
  readonly npix: number;
  readonly nfp: number;
  /** Words one pixel's LEA call yields and stores (tm + tm / B), and LEA columns (even). */
  readonly callWords: number;
  readonly ncols: number;
  /** A-vector length: tn inputs, the dummy input, the bias constant, padded even. */
  readonly len: number;
  /** ROM word offset of the B block. */
  readonly rom: number;
}

function roundEven(x: number): number {
  return x % 2 === 0 ? x : x + 1;
}

/**
 * The plan data of iteration `iter` (loop_cnt) of a conv/FC layer. `opts` carries the seeded
 * faults that change it (rules.ts copyFlip: loopcount-flip-not-reset); the engine, the inspector
 * and the proofs pass the same options.
 */
export function iterationOf(l: LcLeaLayer, B: number, iter: number, opts: Pick<LcRuleOptions, 'flipNotReset'> = { flipNotReset: false }): LcIteration {
  const k = iter - 1;
  const tile = Math.floor(k / l.itersPerTile);
  const inner = k % l.itersPerTile;
  const kk = l.kh * l.kw;
  const ni = Math.floor(inner / kk);
  const kr = Math.floor((inner % kk) / l.kw);
  const kc = inner % l.kw;
  const mi = tile % l.nM;
  const rc = Math.floor(tile / l.nM);
  const ci = rc % l.nC;
  const ri = Math.floor(rc / l.nC);
  const r0 = ri * LC_TR;
  const c0 = ci * LC_TC;
  const m0 = mi * LC_TM;
  const n0 = ni * LC_TN;
  const tr = Math.min(LC_TR, l.OH - r0);
  const tc = Math.min(LC_TC, l.OW - c0);
  const tm = Math.min(LC_TM, l.OCp - m0);
  const tn = Math.min(LC_TN, l.C - n0);
  const nfp = tm / B;
  const callWords = tm + nfp;
  return {
    iter,
    tile,
    inner,
    first: inner === 0,
    flip: copyFlip(num, inner, iter, opts),
    r0,
    c0,
    m0,
    n0,
    kr,
    kc,
    tr,
    tc,
    tm,
    tn,
    npix: tr * tc,
    nfp,
    callWords,
    ncols: roundEven(callWords),
    len: roundEven(tn + 2),
    rom: l.rom[((mi * l.nN + ni) * l.kh + kr) * l.kw + kc]!,
  };
}

/** Stored word (within one output copy) of pixel k's first channel of the iteration's m-tile. */
export function outputWordOf(l: LcLeaLayer, it: LcIteration, k: number): number {
  const oy = it.r0 + Math.floor(k / it.tc);
  const ox = it.c0 + (k % it.tc);
  return (oy * l.OW + ox) * l.out.layout.Cs + chanWord(l.out.layout, it.m0);
}

// The words the progress seeker reads (rules.ts seekDecision), as NVM byte addresses.

/** PB's first footprint: pixel 0, word B (R1/R2). */
export function pbFirstFootprint(l: LcLeaLayer, B: number): number {
  return l.pb + 2 * B;
}

/** The last footprint of PB pixel k, laid out as iteration `it`'s LEA calls (R3). */
export function pbLastFootprint(l: LcLeaLayer, it: LcIteration, k: number): number {
  return l.pb + 2 * (k * it.callWords + it.callWords - 1);
}

/** R4's anchor: the source copy's (flip ^ 1) first footprint of pixel 0. */
export function anchorFootprint(l: LcLeaLayer, it: LcIteration, B: number): number {
  return l.out.copies[it.flip ^ 1]! + 2 * (outputWordOf(l, it, 0) + B);
}

/** Footprint f of pixel k in the destination copy (copy flip) (R4). */
export function destFootprint(l: LcLeaLayer, it: LcIteration, B: number, k: number, f: number): number {
  return l.out.copies[it.flip]! + 2 * (outputWordOf(l, it, k) + f * (B + 1) + B);
}

/** The published scan's read: the first footprint of the tile's channel group at pixel k of the source copy (flip ^ 1). */
export function sourceFootprint(l: LcLeaLayer, it: LcIteration, B: number, k: number): number {
  return l.out.copies[it.flip ^ 1]! + 2 * (outputWordOf(l, it, k) + B);
}

/** The seeker's reads as one-word reads of NVM (`word(addr)`: the inspector's image, the proofs' terms). */
export function seekReadsOf<N>(l: LcLeaLayer, B: number, word: (addr: number) => N): SeekReads<N, LcIteration> {
  return {
    firstPb: () => word(pbFirstFootprint(l, B)),
    lastPb: (it, k) => word(pbLastFootprint(l, it, k)),
    anchor: (it) => word(anchorFootprint(l, it, B)),
    dest: (it, k, f) => word(destFootprint(l, it, B, k, f)),
    source: (it, k) => word(sourceFootprint(l, it, B, k)),
  };
}

/** Engine position of (iteration, op, pixel) inside its layer: monotone in execution order. */
export function lcPosition(iter: number, op: 0 | 1, pixel: number): number {
  return lcPositionOf(num, iter, op, pixel);
}

/** lcPosition over Ops (the proofs compare resume positions symbolically). */
export function lcPositionOf<N, B>(o: Ops<N, B>, iter: N, op: N, pixel: N): N {
  return o.add(o.add(o.mul(o.sub(iter, o.k(1)), o.k(2 * LC_TILE_PIXELS)), o.mul(op, o.k(LC_TILE_PIXELS))), pixel);
}

// ---------------------------------------------------------------------------------------------
// Planning: one method per layer kind (the dispatch in `planLoopCount`), then the NVM map.

interface Pending {
  readonly name: string;
  readonly layout: Layout;
  /** 2 for LEA outputs, 1 otherwise. */
  readonly copies: number;
  readonly final: number;
  readonly producer: number;
  lastUse: number;
  readonly slot: number;
}

/** [C, H, W] of a feature-map shape (rank 2 [C, W] is [C, 1, W]); null for vectors. */
function asFmap(s: Shape): [number, number, number] | null {
  if (s.length === 3) return [s[0]!, s[1]!, s[2]!];
  if (s.length === 2) return [s[0]!, 1, s[1]!];
  return null;
}

/**
 * Layers are built once every tensor has an address (the NVM map): a build turns tensor names
 * into their NVM references. `pbAddr` (the PB of each record slot) is filled there too.
 */
type Build = (ref: (t: string) => TensorRef, out: (t: string) => LcTensor, pbAddr: readonly number[]) => LcLayer;

/** One node of the network as the planner sees it. */
interface NodeCtx {
  readonly qn: QuantizedNetwork['nodes'][number];
  readonly where: string;
  readonly outShape: Shape;
  /** Index of the layer this node becomes. */
  readonly li: number;
}

/** The state of one planning pass: tensors and their uses, ROM blocks, LEA RAM use, layer builds. */
class LcPlanner {
  readonly net: Network;
  readonly B: number;
  private readonly usable: number;
  /** reshape/softmax outputs are views of their input's storage. */
  private readonly alias = new Map<string, string>();
  readonly tensors = new Map<string, Pending>();
  readonly inputLayout: Layout;
  private readonly romImage = new RomImage();
  leaWordsUsed = 0;
  readonly arithLayers = new Map<string, LayerArithmetic>();
  readonly builds: Build[] = [];
  /** Indices (into the layers) of the LEA layers, by record slot. */
  readonly leaLayers: number[] = [];

  constructor(q: QuantizedNetwork, B: number, usable: number) {
    this.net = q.net;
    this.B = B;
    this.usable = usable;
    const inShape = this.net.input.shape;
    const inF = asFmap(inShape);
    this.inputLayout = inF ? fmapLayout(inF[0], inF[1], inF[2], 'hw', 0) : vecLayout(numel(inShape), 0);
    this.tensors.set(this.net.input.name, { name: this.net.input.name, layout: this.inputLayout, copies: 1, final: 0, producer: -1, lastUse: -1, slot: -1 });
  }

  resolve(t: string): string {
    let r = t;
    while (this.alias.has(r)) r = this.alias.get(r)!;
    return r;
  }

  private layoutOf(t: string): Layout {
    return this.tensors.get(t)!.layout;
  }

  private define(name: string, layout: Layout, lea: boolean, final: number, producer: number, slot: number): void {
    this.tensors.set(name, { name, layout, copies: lea ? 2 : 1, final, producer, lastUse: -1, slot });
  }

  private use(t: string, li: number): void {
    const s = this.tensors.get(t)!;
    s.lastUse = Math.max(s.lastUse, li);
  }

  private useLea(end: number, where: string): void {
    const used = end - LEA_RAM_BASE;
    if (used > this.usable) throw new ConfigError(`${where}: needs ${used} words of LEA RAM, the device has ${this.usable}`);
    this.leaWordsUsed = Math.max(this.leaWordsUsed, used);
  }

  /** LEA buffers of an LEA layer: A, B, the results of a full tile, the op-1 source. */
  private leaBuffers(tnMax: number, tmMax: number, pixels: number, where: string): LcLeaLayer['lea'] {
    const B = this.B;
    const ncols = roundEven(tmMax + tmMax / B);
    const len = roundEven(tnMax + 2);
    const a = LEA_RAM_BASE;
    const b = a + len;
    const res = b + len * ncols;
    const src = res + pixels * ncols;
    const end = src + ncols;
    this.useLea(end, `${where}: loop-count tile Tr ${LC_TR} x Tc ${LC_TC} x Tm ${tmMax} x Tn ${tnMax}`);
    return { a, b, res, src, end };
  }

  /** The one dispatch: each IR node becomes a layer (or a view, reshape/softmax). */
  node(qn: QuantizedNetwork['nodes'][number]): void {
    const node = qn.node;
    const c: NodeCtx = { qn, where: `node ${node.name} (${node.op.kind})`, outShape: this.net.shapes.get(node.output)!, li: this.builds.length };
    switch (node.op.kind) {
      case 'reshape':
      case 'softmax':
        return this.view(c);
      case 'conv':
        return this.conv(c);
      case 'gemm':
        return this.gemm(c);
      case 'relu':
        return this.relu(c);
      case 'maxpool':
        return this.maxpool(c);
      case 'gap':
        return this.gap(c);
      case 'concat':
        return this.concat(c);
      case 'add':
        return this.add(c);
      default:
        return assertNever(node.op, 'operator');
    }
  }

  /** reshape / softmax: a view of the input's storage (no data moves). */
  private view({ qn, where, outShape }: NodeCtx): void {
    const node = qn.node;
    const src = this.resolve(node.inputs[0]!);
    const from = this.layoutOf(src);
    const target = asFmap(outShape);
    const flatToVec = outShape.length === 1;
    const same =
      target !== null &&
      ((from.kind === 'fmap' && target[0] === from.C && target[1] === from.H && target[2] === from.W) ||
        (from.kind === 'vec' && target[0] === from.C && target[1] === 1 && target[2] === 1));
    if (node.op.kind === 'reshape' && !flatToVec && !same) {
      throw new InputError(`${where}: cannot reshape ${shapeStr(this.net.shapes.get(node.inputs[0]!)!)} to ${shapeStr(outShape)} without moving data`);
    }
    this.alias.set(node.output, src);
  }

  private conv({ qn, where, outShape, li }: NodeCtx): void {
    const B = this.B;
    const node = qn.node;
    const op = node.op as ConvOp;
    const qc = qn as QConv;
    const src = this.resolve(node.inputs[0]!);
    const inL = this.layoutOf(src);
    if (inL.kind !== 'fmap' || inL.orient !== 'hw') throw new InputError(`${where}: input must be an 'hw' feature map`);
    const [kh, kw] = op.kernel;
    const [sh, sw] = op.stride;
    const [pt, pl] = op.pads;
    const [OC, OH, OW] = outShape as [number, number, number];
    const C = qc.inChannels;
    const OCp = ceilTo(OC, B);
    const nR = Math.ceil(OH / LC_TR);
    const nC = Math.ceil(OW / LC_TC);
    const nM = Math.ceil(OCp / LC_TM);
    const nN = Math.ceil(C / LC_TN);
    const lea = this.leaBuffers(Math.min(LC_TN, C), Math.min(LC_TM, OCp), Math.min(LC_TR, OH) * Math.min(LC_TC, OW), where);
    // ROM blocks and the arithmetic parts (one per (n-tile, kr, kc), loop order).
    const rom = new Int32Array(nM * nN * kh * kw);
    for (let mi = 0; mi < nM; mi++) {
      const m0 = mi * LC_TM;
      const tm = Math.min(LC_TM, OCp - m0);
      const ncols = roundEven(tm + tm / B);
      for (let ni = 0; ni < nN; ni++) {
        const n0 = ni * LC_TN;
        const tn = Math.min(LC_TN, C - n0);
        const len = roundEven(tn + 2);
        for (let kr = 0; kr < kh; kr++) {
          for (let kc = 0; kc < kw; kc++) {
            const m = new Int16Array(len * ncols);
            const firstBlock = ni === 0 && kr === 0 && kc === 0;
            for (let j = 0; j < tm; j++) {
              const o = m0 + j;
              if (o >= OC) continue; // zero filter (channels rounded up to a multiple of B)
              const col = j + Math.floor(j / B);
              for (let i = 0; i < tn; i++) m[i * ncols + col] = qc.weightQ[((o * C + n0 + i) * kh + kr) * kw + kc]!;
              if (firstBlock) m[(tn + 1) * ncols + col] = -qc.biasQ[o]!;
            }
            rom[((mi * nN + ni) * kh + kr) * kw + kc] = this.romImage.add(m);
          }
        }
      }
    }
    const parts: ArithPart[] = [];
    for (let ni = 0; ni < nN; ni++) {
      for (let kr = 0; kr < kh; kr++) {
        for (let kc = 0; kc < kw; kc++) parts.push({ c0: ni * LC_TN, c1: Math.min(C, (ni + 1) * LC_TN), pos: [kr, kc] });
      }
    }
    this.arithLayers.set(node.name, { parts, order: 'hw' });
    const itersPerTile = nN * kh * kw;
    const slot = this.leaLayers.length;
    this.leaLayers.push(li);
    this.use(src, li);
    this.define(node.output, fmapLayout(OC, OH, OW, 'hw', B), true, (itersPerTile - 1) % 2, li, slot);
    const pbWords = Math.min(LC_TR, OH) * Math.min(LC_TC, OW) * (Math.min(LC_TM, OCp) + Math.min(LC_TM, OCp) / B);
    this.builds.push((ref, out, pbAddr) => ({
      kind: 'conv',
      index: li,
      name: node.name,
      slot,
      in: ref(src),
      out: out(node.output),
      C,
      inH: inL.H,
      inW: inL.W,
      OC,
      OCp,
      OH,
      OW,
      kh,
      kw,
      sh,
      sw,
      pt,
      pl,
      nR,
      nC,
      nM,
      nN,
      itersPerTile,
      iterations: nR * nC * nM * itersPerTile,
      pb: pbAddr[slot]!,
      pbWords,
      rom,
      termWords: null,
      lea,
    }));
  }

  private gemm({ qn, where, li }: NodeCtx): void {
    const B = this.B;
    const node = qn.node;
    const op = node.op as GemmOp;
    const qg = qn as QGemm;
    const src = this.resolve(node.inputs[0]!);
    const inL = this.layoutOf(src);
    // Input terms: the stored words that hold a logical feature, in storage order
    // (footprints and padded channels are skipped).
    const logical = logicalOfWords(inL);
    const words: number[] = [];
    const feats: number[] = [];
    for (let w = 0; w < inL.words; w++) {
      if (logical[w]! < 0) continue;
      words.push(w);
      feats.push(logical[w]!);
    }
    const K = words.length;
    if (K !== qg.inFeatures) throw new InputError(`${where}: input holds ${K} features, the weights expect ${qg.inFeatures}`);
    const N = op.outFeatures;
    const Np = ceilTo(N, B);
    const nM = Math.ceil(Np / LC_TM);
    const nN = Math.ceil(K / LC_TN);
    const lea = this.leaBuffers(Math.min(LC_TN, K), Math.min(LC_TM, Np), 1, where);
    const rom = new Int32Array(nM * nN);
    for (let mi = 0; mi < nM; mi++) {
      const m0 = mi * LC_TM;
      const tm = Math.min(LC_TM, Np - m0);
      const ncols = roundEven(tm + tm / B);
      for (let ni = 0; ni < nN; ni++) {
        const n0 = ni * LC_TN;
        const tn = Math.min(LC_TN, K - n0);
        const len = roundEven(tn + 2);
        const m = new Int16Array(len * ncols);
        for (let j = 0; j < tm; j++) {
          const o = m0 + j;
          if (o >= N) continue;
          const col = j + Math.floor(j / B);
          for (let i = 0; i < tn; i++) m[i * ncols + col] = qg.weightQ[o * K + feats[n0 + i]!]!;
          if (ni === 0) m[(tn + 1) * ncols + col] = -qg.biasQ[o]!;
        }
        rom[mi * nN + ni] = this.romImage.add(m);
      }
    }
    const parts: ArithPart[] = [];
    for (let ni = 0; ni < nN; ni++) {
      const f = Int32Array.from(feats.slice(ni * LC_TN, Math.min(K, (ni + 1) * LC_TN)));
      parts.push({ c0: 0, c1: 0, pos: null, features: f });
    }
    this.arithLayers.set(node.name, { parts, order: 'hw' });
    const slot = this.leaLayers.length;
    this.leaLayers.push(li);
    this.use(src, li);
    this.define(node.output, fmapLayout(N, 1, 1, 'hw', B), true, (nN - 1) % 2, li, slot);
    const tm0 = Math.min(LC_TM, Np);
    this.builds.push((ref, out, pbAddr) => ({
      kind: 'gemm',
      index: li,
      name: node.name,
      slot,
      in: ref(src),
      out: out(node.output),
      C: K,
      inH: 1,
      inW: 1,
      OC: N,
      OCp: Np,
      OH: 1,
      OW: 1,
      kh: 1,
      kw: 1,
      sh: 1,
      sw: 1,
      pt: 0,
      pl: 0,
      nR: 1,
      nC: 1,
      nM,
      nN,
      itersPerTile: nN,
      iterations: nM * nN,
      pb: pbAddr[slot]!,
      pbWords: tm0 + tm0 / B,
      rom,
      termWords: Int32Array.from(words),
      lea,
    }));
  }

  private relu({ qn, where, li }: NodeCtx): void {
    const node = qn.node;
    const src = this.resolve(node.inputs[0]!);
    const inL = this.layoutOf(src);
    this.use(src, li);
    this.define(node.output, inL, false, 0, li, -2);
    const chunk = Math.min(inL.words, LC_CHUNK);
    this.useLea(LEA_RAM_BASE + chunk, where);
    this.builds.push((ref, out) => ({ kind: 'relu', index: li, name: node.name, in: ref(src), out: out(node.output), chunk, buf: LEA_RAM_BASE }));
  }

  private maxpool({ qn, where, outShape, li }: NodeCtx): void {
    const node = qn.node;
    const op = node.op as MaxPoolOp;
    const src = this.resolve(node.inputs[0]!);
    const inL = this.layoutOf(src);
    if (inL.kind !== 'fmap' || inL.orient !== 'hw') throw new InputError(`${where}: input must be an 'hw' feature map`);
    const [, OH, OW] = outShape as [number, number, number];
    this.use(src, li);
    this.define(node.output, fmapLayout(inL.C, OH, OW, 'hw', inL.fpEvery), false, 0, li, -2);
    this.useLea(LEA_RAM_BASE + 2 * inL.Cs, where);
    this.builds.push((ref, out) => ({
      kind: 'maxpool',
      index: li,
      name: node.name,
      in: ref(src),
      out: out(node.output),
      op,
      buf: LEA_RAM_BASE,
      acc: LEA_RAM_BASE + inL.Cs,
    }));
  }

  private gap({ qn, where, li }: NodeCtx): void {
    const node = qn.node;
    const src = this.resolve(node.inputs[0]!);
    const inL = this.layoutOf(src);
    if (inL.kind !== 'fmap' || inL.orient !== 'hw') throw new InputError(`${where}: input must be an 'hw' feature map`);
    this.use(src, li);
    this.define(node.output, fmapLayout(inL.C, 1, 1, 'hw', inL.fpEvery), false, 0, li, -2);
    this.useLea(LEA_RAM_BASE + 2 * inL.Cs, where);
    this.builds.push((ref, out) => ({ kind: 'gap', index: li, name: node.name, in: ref(src), out: out(node.output), buf: LEA_RAM_BASE, outBuf: LEA_RAM_BASE + inL.Cs }));
  }

  private concat({ qn, where, outShape, li }: NodeCtx): void {
    const node = qn.node;
    const srcs = node.inputs.map((t) => this.resolve(t));
    const ls = srcs.map((s) => this.layoutOf(s));
    if (ls.some((l) => l.kind !== 'fmap' || l.orient !== 'hw')) throw new InputError(`${where}: inputs must be 'hw' feature maps`);
    const [C, H, W] = outShape as [number, number, number];
    for (const s of srcs) this.use(s, li);
    const outL = fmapLayout(C, H, W, 'hw', this.B);
    this.define(node.output, outL, false, 0, li, -2);
    const inMax = Math.max(...ls.map((l) => l.Cs));
    this.useLea(LEA_RAM_BASE + inMax + outL.Cs, where);
    this.builds.push((ref, out) => ({
      kind: 'concat',
      index: li,
      name: node.name,
      ins: srcs.map(ref),
      out: out(node.output),
      buf: LEA_RAM_BASE,
      outBuf: LEA_RAM_BASE + inMax,
    }));
  }

  private add({ qn, where, li }: NodeCtx): void {
    const node = qn.node;
    const a = this.resolve(node.inputs[0]!);
    const b = this.resolve(node.inputs[1]!);
    const la = this.layoutOf(a);
    const lb = this.layoutOf(b);
    if (la.words !== lb.words || la.Cs !== lb.Cs || la.fpEvery !== lb.fpEvery || la.orient !== lb.orient) {
      throw new InputError(`${where}: operands are stored in different layouts`);
    }
    this.use(a, li);
    this.use(b, li);
    this.define(node.output, la, false, 0, li, -2);
    const chunk = Math.min(la.words, LC_CHUNK);
    this.useLea(LEA_RAM_BASE + 2 * chunk, where);
    this.builds.push((ref, out) => ({
      kind: 'add',
      index: li,
      name: node.name,
      a: ref(a),
      b: ref(b),
      out: out(node.output),
      chunk,
      x: LEA_RAM_BASE,
      y: LEA_RAM_BASE + chunk,
    }));
  }

  /** The program image: every ROM block, in the order they were added. */
  rom(): Int16Array {
    return this.romImage.image();
  }
}

/** Where every NVM buffer lives: record pair | PBs | input sample | LEA output copies | pool of other outputs. */
interface NvmLayout {
  readonly recBytes: number;
  readonly record: number;
  readonly pbAddr: readonly number[];
  readonly pbBytes: number;
  readonly samples: number;
  readonly leaStart: number;
  readonly leaEnd: number;
  readonly poolStart: number;
  readonly poolEnd: number;
  readonly addrOf: ReadonlyMap<string, readonly number[]>;
}

function layoutNvm(pl: LcPlanner): NvmLayout {
  const B = pl.B;
  const recBytes = recordBytes(pl.leaLayers.length);
  const record = 0;
  let cursor = ceilTo(2 * recBytes, 16);
  const pbAddr: number[] = [];
  const pbBytes = 2 * LC_TILE_PIXELS * (LC_TM + LC_TM / B);
  for (let s = 0; s < pl.leaLayers.length; s++) {
    pbAddr.push(cursor);
    cursor += ceilTo(pbBytes, 16);
  }
  const samples = cursor;
  cursor = ceilTo(samples + 2 * pl.inputLayout.words, 256);
  const addrOf = new Map<string, number[]>();
  const leaStart = cursor;
  for (const t of pl.tensors.values()) {
    if (t.copies !== 2) continue;
    const bytes = ceilTo(2 * t.layout.words, 16);
    addrOf.set(t.name, [cursor, cursor + bytes]);
    cursor += 2 * bytes;
  }
  const leaEnd = cursor;
  // Pool: first fit over freed ranges; a non-LEA output is freed after its last reader.
  const poolStart = cursor;
  let poolEnd = poolStart;
  const free: [number, number][] = [];
  const live: Pending[] = [];
  const byProducer = new Map<number, Pending>();
  for (const t of pl.tensors.values()) if (t.copies === 1 && t.producer >= 0) byProducer.set(t.producer, t);
  for (let li = 0; li < pl.builds.length; li++) {
    for (let i = live.length - 1; i >= 0; i--) {
      const t = live[i]!;
      if (t.lastUse < li) {
        const a = addrOf.get(t.name)![0]!;
        free.push([a, a + ceilTo(2 * t.layout.words, 16)]);
        live.splice(i, 1);
      }
    }
    free.sort((x, y) => x[0] - y[0]);
    for (let i = 0; i + 1 < free.length; ) {
      if (free[i]![1] === free[i + 1]![0]) {
        free[i]![1] = free[i + 1]![1];
        free.splice(i + 1, 1);
      } else i++;
    }
    const t = byProducer.get(li);
    if (!t) continue;
    const bytes = ceilTo(2 * t.layout.words, 16);
    const hole = free.findIndex(([a, b]) => b - a >= bytes);
    let addr: number;
    if (hole >= 0) {
      addr = free[hole]![0];
      free[hole]![0] += bytes;
      if (free[hole]![0] === free[hole]![1]) free.splice(hole, 1);
    } else {
      addr = poolEnd;
      poolEnd += bytes;
    }
    addrOf.set(t.name, [addr]);
    live.push(t);
  }
  return { recBytes, record, pbAddr, pbBytes, samples, leaStart, leaEnd, poolStart, poolEnd, addrOf };
}

export function planLoopCount(q: QuantizedNetwork, p: EngineParams): EnginePlan {
  const net: Network = q.net;
  const common = commonParams(p);
  const profile = common.profile;
  const B = p.batch;
  if (!(LC_BATCHES as readonly number[]).includes(B)) {
    throw new ConfigError(`japari-loopcount: B must divide the output-channel tile Tm = ${LC_TM} (1, 2, 4 or 8), got B = ${p.batch}`);
  }
  const arith: LeaArithmetic = p.arithmetic ?? TI_REFERENCE_ARITHMETIC;
  const params = {
    engine: p.engine,
    batch: B,
    placement: p.placement,
    profile,
    // The loop-count design is not one of the measured builds: it records the build for replay
    // and pays its per-transfer overheads; the build's graph transformation does not apply.
    firmware: common.fw.id,
    firmwareConstants: common.constants,
    ablate: common.ablate,
    piggyback: false,
    arithmetic: arith,
    opFilters: p.opFilters ?? defaultOpFilters(net.name),
    maxRowTile: LC_TR,
    slots: 0,
    faults: [...(p.faults ?? [])].sort(),
    fixes: [...(p.fixes ?? [])].sort(),
  };

  const pl = new LcPlanner(q, B, profile.sram.leaUsableWords);
  for (const qn of q.nodes) pl.node(qn);
  if (pl.builds.length === 0) throw new InputError(`${net.name}: the network has no layer the engines run`);
  if (pl.leaLayers.length > LC_MAX_LEA_LAYERS) throw new ConfigError(`${net.name}: ${pl.leaLayers.length} conv/FC layers, the loop-count engine's record holds at most ${LC_MAX_LEA_LAYERS}`);
  const outputName = pl.resolve(net.output);
  pl.tensors.get(outputName)!.lastUse = Infinity;

  const m = layoutNvm(pl);
  const end = m.poolEnd;
  const nvmBytes = profile.nvm[p.placement].bytes;
  if (end > nvmBytes) throw new ConfigError(`${net.name}: the loop-count engine needs ${end} bytes of NVM (B = ${B}), ${p.placement} has ${nvmBytes}`);

  const lcTensor = (name: string): LcTensor => {
    const t = pl.tensors.get(name)!;
    if (t.producer < 0) {
      const ref: TensorRef = { name, slot: -1, base: m.samples, layout: t.layout, slices: 1, words: t.layout.words };
      return { name, layout: t.layout, copies: [m.samples], final: 0, ref };
    }
    const copies = m.addrOf.get(name);
    if (!copies) throw new ConfigError(`internal: tensor ${name} has no NVM buffer`);
    const ref: TensorRef = { name, slot: t.slot, base: copies[t.final]!, layout: t.layout, slices: 1, words: t.layout.words };
    return { name, layout: t.layout, copies, final: t.final, ref };
  };
  const layers = pl.builds.map((b) => b((t) => lcTensor(t).ref, lcTensor, m.pbAddr));

  const arithmetic: ArithmeticPlan = {
    name: `loop-count JAPARI (Tn = ${LC_TN} channel tiles, one part per kernel position; ${arith === TI_REFERENCE_ARITHMETIC ? 'TI arithmetic' : 'custom arithmetic'})`,
    lea: arith,
    layers: pl.arithLayers,
  };
  const loopCount: LoopCountPlan = {
    B,
    layers,
    leaLayers: pl.leaLayers,
    nvm: { record: m.record, recordBytes: m.recBytes, pbs: m.pbAddr, samples: m.samples, leaOutputs: [m.leaStart, m.leaEnd], pool: [m.poolStart, m.poolEnd], end },
  };
  return {
    q,
    params: { ...params, slots: pl.leaLayers.length },
    aug: true,
    B,
    // The reference engine's layer list does not describe this engine; see `loopCount`.
    layers: [],
    input: lcTensor(net.input.name).ref,
    output: lcTensor(outputName).ref,
    outputTensor: outputName,
    nvm: {
      record: m.record,
      recordBytes: m.recBytes,
      // No HAWAII counters: this points at the first PB (zero bytes of counters).
      counters: m.pbAddr[0] ?? m.samples,
      samples: m.samples,
      // One record slot per LEA layer (its SIGN); the address is that layer's PB.
      slots: m.pbAddr,
      slotBytes: ceilTo(m.pbBytes, 16),
      end,
      origin: 'loop-count engine: one preservation buffer per LEA layer, each the largest rounded up to 16 bytes',
    },
    rom: pl.rom(),
    arithmetic,
    leaWordsUsed: pl.leaWordsUsed,
    stages: layers.map((l) => ({ name: l.name, kind: l.kind })),
    extra: { loopCount },
  };
}
/** The loop-count plan of a deployment planned for 'japari-loopcount'. */
export function loopCountPlanOf(plan: EnginePlan): LoopCountPlan {
  const lc = plan.extra?.['loopCount'] as LoopCountPlan | undefined;
  if (!lc) throw new ConfigError(`the plan is for engine ${plan.params.engine}, not japari-loopcount`);
  return lc;
}

/** The LEA layer of a loop-count plan by IR node name. */
export function lcLeaLayer(plan: EnginePlan, node: string): LcLeaLayer {
  const l = loopCountPlanOf(plan).layers.find((x) => x.name === node);
  if (!l || (l.kind !== 'conv' && l.kind !== 'gemm')) throw new InputError(`no conv/FC layer named ${node}`);
  return l;
}

