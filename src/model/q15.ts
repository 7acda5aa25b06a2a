/**
 * The uninterrupted Q15 reference inference: a pure function on logical tensors, the oracle
 * every engine must match bit for bit.
 *
 * An engine's arithmetic is not only "the network": the LEA produces one shifted, saturated
 * int16 per matrix multiply, so how a conv/gemm output is split into LEA dot products (input
 * channel tiles, kernel positions) and how the partial results are merged (saturating adds in a
 * fixed order) changes the bits. An `ArithmeticPlan` states that decomposition per layer; the
 * reference evaluates it directly on logical tensors (no NVM, no tiling mechanics, no
 * footprints), so it is an independent statement of what the engine must compute.
 *
 * Per-operator semantics (all engines):
 *   conv/gemm  y = merge over parts p of finish(sum of terms of p [+ (-32768) * (-b_q) in part 0])
 *              merge = sequential saturating add in part order; finish = LEA (lea.ts)
 *   relu       max(x, 0)
 *   maxpool    max over the in-bounds window (padding never wins)
 *   gap        trunc(sum / (H*W)) (a 32-bit CPU sum and a C division, truncating toward zero)
 *   add        LEA add: saturating (or wrapping when the arithmetic does not saturate)
 *   concat     channel stacking; reshape: the same row-major elements
 *   softmax    the identity on the device: logits are kept, only argmax is taken
 */
import type { Network } from './ir.js';
import { numel } from './ir.js';
import type { QuantizedNetwork, QConv, QGemm } from './quantize.js';
import { type LeaArithmetic, TI_REFERENCE_ARITHMETIC, dotQ15, addQ15 } from '../device/lea.js';
import { InputError, assertNever } from '../util/errors.js';

/** One LEA dot product's share of an output: input channels [c0, c1) (features for gemm), optionally one kernel position. */
export interface ArithPart {
  readonly c0: number;
  readonly c1: number;
  /** Only this kernel position [kh, kw]; null = the whole kernel window. */
  readonly pos: readonly [number, number] | null;
  /**
   * gemm only: the logical input features of this part, in term order (an engine that stores
   * its input in another order reads the features in that order). Overrides [c0, c1).
   */
  readonly features?: Int32Array;
}

export interface LayerArithmetic {
  readonly parts: readonly ArithPart[];
  /** Term order inside one dot product: kernel rows over H then W ('hw') or W then H ('wh'), channels innermost. */
  readonly order: 'hw' | 'wh';
}

export interface ArithmeticPlan {
  /** A short name, e.g. "reference-engine (channel tiles)" or "loop-count". */
  readonly name: string;
  readonly lea: LeaArithmetic;
  /** Per conv/gemm node name. Missing = one part covering all input channels, 'hw'. */
  readonly layers: ReadonlyMap<string, LayerArithmetic>;
}

export function wholeLayer(channels: number): LayerArithmetic {
  return { parts: [{ c0: 0, c1: channels, pos: null }], order: 'hw' };
}

/** The plainest arithmetic: each output is one LEA dot product over everything. */
export function canonicalArithmetic(lea: LeaArithmetic = TI_REFERENCE_ARITHMETIC): ArithmeticPlan {
  return { name: 'canonical (one dot product per output)', lea, layers: new Map() };
}

export interface Q15Result {
  /** Every tensor, logical layout, Q15. */
  readonly tensors: ReadonlyMap<string, Int16Array>;
  readonly output: Int16Array;
  /** Per conv/gemm node: outputs that ended at a saturation rail (-32768 or 32767). */
  readonly railed: ReadonlyMap<string, number>;
}

/** Run the Q15 reference. `input` is quantized, in the logical layout. */
export function runQ15(q: QuantizedNetwork, input: Int16Array, plan: ArithmeticPlan): Q15Result {
  const net: Network = q.net;
  if (input.length !== numel(net.input.shape)) {
    throw new InputError(`input has ${input.length} values, ${net.input.name} needs ${numel(net.input.shape)}`);
  }
  const t = new Map<string, Int16Array>();
  const railed = new Map<string, number>();
  t.set(net.input.name, input);
  const get = (name: string): Int16Array => t.get(name)!;
  for (const qn of q.nodes) {
    const node = qn.node;
    const shapeOf = (name: string) => net.shapes.get(name)!;
    let out: Int16Array;
    switch (node.op.kind) {
      case 'conv': {
        const la = plan.layers.get(node.name) ?? wholeLayer((qn as QConv).inChannels);
        out = convQ15(qn as QConv, get(node.inputs[0]!), shapeOf(node.inputs[0]!), shapeOf(node.output), la, plan.lea);
        break;
      }
      case 'gemm': {
        const la = plan.layers.get(node.name) ?? wholeLayer((qn as QGemm).inFeatures);
        out = gemmQ15(qn as QGemm, get(node.inputs[0]!), la, plan.lea);
        break;
      }
      case 'relu': {
        const x = get(node.inputs[0]!);
        out = new Int16Array(x.length);
        for (let i = 0; i < x.length; i++) out[i] = x[i]! > 0 ? x[i]! : 0;
        break;
      }
      case 'maxpool':
        out = maxPoolQ15(get(node.inputs[0]!), shapeOf(node.inputs[0]!), shapeOf(node.output), node.op);
        break;
      case 'gap': {
        const [c, h, w] = shapeOf(node.inputs[0]!) as [number, number, number];
        const x = get(node.inputs[0]!);
        out = new Int16Array(c);
        for (let ch = 0; ch < c; ch++) {
          let s = 0;
          for (let i = 0; i < h * w; i++) s += x[ch * h * w + i]!;
          out[ch] = Math.trunc(s / (h * w));
        }
        break;
      }
      case 'add': {
        const a = get(node.inputs[0]!);
        const b = get(node.inputs[1]!);
        out = new Int16Array(a.length);
        for (let i = 0; i < a.length; i++) out[i] = addQ15(a[i]!, b[i]!, plan.lea);
        break;
      }
      case 'concat': {
        const parts = node.inputs.map(get);
        out = new Int16Array(parts.reduce((s, p) => s + p.length, 0));
        let off = 0;
        for (const p of parts) {
          out.set(p, off);
          off += p.length;
        }
        break;
      }
      case 'reshape':
      case 'softmax':
        out = get(node.inputs[0]!);
        break;
      default:
        return assertNever(node.op, 'operator');
    }
    if (qn.kind !== 'other') {
      let r = 0;
      for (let i = 0; i < out.length; i++) if (out[i] === 32767 || out[i] === -32768) r++;
      railed.set(node.name, r);
    }
    t.set(node.output, out);
  }
  return { tensors: t, output: get(net.output), railed };
}

function convQ15(
  q: QConv,
  x: Int16Array,
  inShape: readonly number[],
  outShape: readonly number[],
  la: LayerArithmetic,
  arith: LeaArithmetic,
): Int16Array {
  const [ic, ih, iw] = inShape as [number, number, number];
  const [oc, oh, ow] = outShape as [number, number, number];
  const [kh, kw] = q.op.kernel;
  const [sh, sw] = q.op.stride;
  const [pt, pl] = q.op.pads;
  const out = new Int16Array(oc * oh * ow);
  const maxLen = ic * kh * kw + 1;
  const a = new Int16Array(maxLen);
  const b = new Int16Array(maxLen);
  const w = q.weightQ;
  // Kernel positions of each part, flattened [r0, s0, r1, s1, ...] in the part's term order.
  const positions = la.parts.map((part) => {
    const rs: number[] = [];
    if (part.pos) rs.push(part.pos[0], part.pos[1]);
    else if (la.order === 'hw') for (let r = 0; r < kh; r++) for (let s = 0; s < kw; s++) rs.push(r, s);
    else for (let s = 0; s < kw; s++) for (let r = 0; r < kh; r++) rs.push(r, s);
    return rs;
  });
  for (let o = 0; o < oc; o++) {
    for (let y = 0; y < oh; y++) {
      for (let xo = 0; xo < ow; xo++) {
        let acc = 0;
        for (let pi = 0; pi < la.parts.length; pi++) {
          const part = la.parts[pi]!;
          const rs = positions[pi]!;
          let n = 0;
          for (let k = 0; k < rs.length; k += 2) {
            const r = rs[k]!;
            const s = rs[k + 1]!;
            const iy = y * sh - pt + r;
            const ix = xo * sw - pl + s;
            const inside = iy >= 0 && iy < ih && ix >= 0 && ix < iw;
            for (let c = part.c0; c < part.c1; c++) {
              a[n] = inside ? x[(c * ih + iy) * iw + ix]! : 0;
              b[n] = w[((o * ic + c) * kh + r) * kw + s]!;
              n++;
            }
          }
          if (pi === 0) {
            a[n] = -32768;
            b[n] = -q.biasQ[o]!;
            n++;
          }
          const v = dotQ15(a, 0, b, 0, 1, n, arith);
          acc = pi === 0 ? v : addQ15(acc, v, arith);
        }
        out[(o * oh + y) * ow + xo] = acc;
      }
    }
  }
  return out;
}

function gemmQ15(q: QGemm, x: Int16Array, la: LayerArithmetic, arith: LeaArithmetic): Int16Array {
  const n = q.op.outFeatures;
  const k = q.inFeatures;
  const out = new Int16Array(n);
  const a = new Int16Array(k + 1);
  const b = new Int16Array(k + 1);
  for (let o = 0; o < n; o++) {
    let acc = 0;
    for (let pi = 0; pi < la.parts.length; pi++) {
      const part = la.parts[pi]!;
      let len = 0;
      if (part.features) {
        for (let j = 0; j < part.features.length; j++) {
          const i = part.features[j]!;
          a[len] = x[i]!;
          b[len] = q.weightQ[o * k + i]!;
          len++;
        }
      } else {
        for (let i = part.c0; i < part.c1; i++) {
          a[len] = x[i]!;
          b[len] = q.weightQ[o * k + i]!;
          len++;
        }
      }
      if (pi === 0) {
        a[len] = -32768;
        b[len] = -q.biasQ[o]!;
        len++;
      }
      const v = dotQ15(a, 0, b, 0, 1, len, arith);
      acc = pi === 0 ? v : addQ15(acc, v, arith);
    }
    out[o] = acc;
  }
  return out;
}

function maxPoolQ15(
  x: Int16Array,
  inShape: readonly number[],
  outShape: readonly number[],
  op: { kernel: readonly [number, number]; stride: readonly [number, number]; pads: readonly [number, number, number, number] },
): Int16Array {
  const [c, ih, iw] = inShape as [number, number, number];
  const [, oh, ow] = outShape as [number, number, number];
  const out = new Int16Array(c * oh * ow);
  for (let ch = 0; ch < c; ch++) {
    for (let y = 0; y < oh; y++) {
      for (let xo = 0; xo < ow; xo++) {
        let m = -32769;
        for (let r = 0; r < op.kernel[0]; r++) {
          const iy = y * op.stride[0] - op.pads[0] + r;
          if (iy < 0 || iy >= ih) continue;
          for (let s = 0; s < op.kernel[1]; s++) {
            const ix = xo * op.stride[1] - op.pads[1] + s;
            if (ix < 0 || ix >= iw) continue;
            const v = x[(ch * ih + iy) * iw + ix]!;
            if (v > m) m = v;
          }
        }
        out[(ch * oh + y) * ow + xo] = m;
      }
    }
  }
  return out;
}

export function argmaxQ15(v: Int16Array): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}
