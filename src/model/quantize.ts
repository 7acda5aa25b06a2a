/**
 * Q15 quantization of a float network.
 *
 * Policy (documented in README "Quantization"):
 *  - Every tensor t has a power-of-two scale 2^e(t): real value = q / 32768 * 2^e(t).
 *  - e(t) is the smallest integer with 2^e(t) >= max |t| over the calibration inputs (float
 *    reference), so calibrated values never saturate; values above it saturate (counted).
 *  - Pass-through operators (relu, maxpool, reshape, softmax, gap) keep their input's scale;
 *    add and concat force one scale on all operands and the result (union of scale groups).
 *  - conv/gemm fold the rescaling into the weights: w_q = trunc(w * 2^(e_in - e_out) * 32768),
 *    so one LEA multiply (sum of products >> 15) lands directly in the output scale. This needs
 *    |w| * 2^(e_in - e_out) < 1 for every weight, and |b| < 2^e_out for the bias (b_q =
 *    trunc(b * 32768 / 2^e_out), kept within +-32767 so that -b_q fits int16: the engines
 *    multiply the constant input -1.0 by the bias row -b_q, algorithms.md "Common engine
 *    structure"). e_out is raised until both hold.
 *  - Inputs and weights are truncated toward zero, as the reference engine's fixed point does
 *    (algorithms.md "Per-model fixed point": "values are truncated to Q15"), then saturated.
 */
import type { Network, Node, ConvOp, GemmOp } from './ir.js';
import { numel } from './ir.js';
import { runFloat } from './float.js';
import { InputError } from '../util/errors.js';

export interface QConv {
  readonly kind: 'conv';
  readonly node: Node;
  readonly op: ConvOp;
  /** [OC][IC][KH][KW] in the output scale relative to the input (see policy). */
  readonly weightQ: Int16Array;
  /** [OC], in the output scale, within [-32767, 32767]. */
  readonly biasQ: Int16Array;
  readonly inChannels: number;
}

export interface QGemm {
  readonly kind: 'gemm';
  readonly node: Node;
  readonly op: GemmOp;
  /** [N][K]. */
  readonly weightQ: Int16Array;
  readonly biasQ: Int16Array;
  readonly inFeatures: number;
}

export interface QOther {
  readonly kind: 'other';
  readonly node: Node;
}

export type QNode = QConv | QGemm | QOther;

export interface QuantizedNetwork {
  readonly net: Network;
  /** Scale exponent per tensor: real = q / 32768 * 2^exp. */
  readonly exps: ReadonlyMap<string, number>;
  readonly nodes: readonly QNode[];
  /** Weights that saturated when quantized (should be 0 by construction). */
  readonly weightSaturations: number;
  readonly calibrationInputs: number;
}

function ceilLog2(x: number): number {
  if (!(x > 0)) return -15; // an all-zero tensor: any scale works; keep it fine-grained
  return Math.ceil(Math.log2(x));
}

const Q = 32768;

function truncSat(x: number): number {
  const t = Math.trunc(x);
  return t > 32767 ? 32767 : t < -32768 ? -32768 : t;
}

/** Quantize a float input (logical layout) at scale 2^exp. */
export function quantizeInput(x: Float32Array | Float64Array, exp: number): Int16Array {
  const out = new Int16Array(x.length);
  const f = Q / 2 ** exp;
  for (let i = 0; i < x.length; i++) out[i] = truncSat(x[i]! * f);
  return out;
}

export function dequantize(q: Int16Array, exp: number): Float64Array {
  const out = new Float64Array(q.length);
  const f = 2 ** exp / Q;
  for (let i = 0; i < q.length; i++) out[i] = q[i]! * f;
  return out;
}

class Groups {
  private readonly parent = new Map<string, string>();
  find(x: string): string {
    let p = this.parent.get(x) ?? x;
    if (p !== x) {
      p = this.find(p);
      this.parent.set(x, p);
    }
    return p;
  }
  union(a: string, b: string): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent.set(ra, rb);
  }
}

function maxAbs(v: ArrayLike<number> | null): number {
  let m = 0;
  if (!v) return 0;
  for (let i = 0; i < v.length; i++) {
    const a = Math.abs(v[i]!);
    if (a > m) m = a;
  }
  return m;
}

/** Choose scales from calibration inputs (logical layout) and quantize every weight. */
export function quantize(net: Network, calibration: readonly Float32Array[]): QuantizedNetwork {
  if (calibration.length === 0) throw new InputError(`quantizing ${net.name}: need at least one calibration input`);
  const range = new Map<string, number>();
  for (const x of calibration) {
    if (x.length !== numel(net.input.shape)) {
      throw new InputError(`calibration input has ${x.length} values, network input ${net.input.name} needs ${numel(net.input.shape)}`);
    }
    const acts = runFloat(net, x);
    for (const [t, v] of acts) range.set(t, Math.max(range.get(t) ?? 0, maxAbs(v)));
  }

  // Scale groups: pass-through ops share their input's scale; add/concat unify operands.
  const g = new Groups();
  for (const n of net.nodes) {
    switch (n.op.kind) {
      case 'relu':
      case 'maxpool':
      case 'reshape':
      case 'softmax':
      case 'gap':
        g.union(n.output, n.inputs[0]!);
        break;
      case 'add':
      case 'concat':
        for (const t of n.inputs) g.union(n.output, t);
        break;
      case 'conv':
      case 'gemm':
        break;
    }
  }
  const need = new Map<string, number>();
  const require = (t: string, e: number): boolean => {
    const r = g.find(t);
    const cur = need.get(r);
    if (cur === undefined || e > cur) {
      need.set(r, e);
      return true;
    }
    return false;
  };
  for (const [t, m] of range) require(t, ceilLog2(m));
  // Weight and bias constraints depend on the input's scale: iterate to a fixpoint.
  for (let iter = 0; iter < 64; iter++) {
    let changed = false;
    for (const n of net.nodes) {
      const op = n.op;
      if (op.kind !== 'conv' && op.kind !== 'gemm') continue;
      const eIn = need.get(g.find(n.inputs[0]!))!;
      const wMax = maxAbs(op.weight);
      // |w| * 2^(eIn - eOut) < 1  <=>  eOut > eIn + log2 |w|max
      if (wMax > 0) changed = require(n.output, eIn + Math.floor(Math.log2(wMax)) + 1) || changed;
      const bMax = maxAbs(op.bias);
      if (bMax > 0) changed = require(n.output, Math.floor(Math.log2(bMax)) + 1) || changed;
    }
    if (!changed) break;
  }
  const exps = new Map<string, number>();
  for (const t of net.shapes.keys()) exps.set(t, need.get(g.find(t)) ?? 0);

  return { net, exps, ...foldWeights(net, exps), calibrationInputs: calibration.length };
}

/**
 * Quantize every conv/gemm's weights and bias for given tensor scales (the policy above: the
 * rescaling folded into the weights, truncation, saturation). `quantize` uses it with the scales
 * it chooses; a design that stores tensors at other scales (Stateful's half scale) re-folds with it.
 */
export function foldWeights(net: Network, exps: ReadonlyMap<string, number>): { nodes: QNode[]; weightSaturations: number } {
  let weightSaturations = 0;
  const nodes: QNode[] = net.nodes.map((node): QNode => {
    const op = node.op;
    if (op.kind !== 'conv' && op.kind !== 'gemm') return { kind: 'other', node };
    const eIn = exps.get(node.inputs[0]!)!;
    const eOut = exps.get(node.output)!;
    const f = Q * 2 ** (eIn - eOut);
    const weightQ = new Int16Array(op.weight.length);
    for (let i = 0; i < weightQ.length; i++) {
      const x = op.weight[i]! * f;
      if (Math.trunc(x) > 32767 || Math.trunc(x) < -32768) weightSaturations++;
      weightQ[i] = truncSat(x);
    }
    const outs = op.kind === 'conv' ? op.outChannels : op.outFeatures;
    const biasQ = new Int16Array(outs);
    if (op.bias) {
      const fb = Q / 2 ** eOut;
      for (let i = 0; i < outs; i++) biasQ[i] = Math.max(-32767, Math.min(32767, Math.trunc(op.bias[i]! * fb)));
    }
    if (op.kind === 'conv') {
      const inChannels = op.weight.length / (op.outChannels * op.kernel[0] * op.kernel[1]);
      return { kind: 'conv', node, op, weightQ, biasQ, inChannels };
    }
    return { kind: 'gemm', node, op, weightQ, biasQ, inFeatures: op.weight.length / op.outFeatures };
  });
  return { nodes, weightSaturations };
}
