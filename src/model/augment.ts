/**
 * JAPARI's model augmentation as a pure transformation: network -> augmented network, with the
 * mapping from augmented outputs back to real outputs and footprints.
 *
 * algorithms.md "JAPARI ... as in the reference engine": after every B real filters insert one
 * footprint filter, and append one dummy input element to every input vector. Footprint filters
 * have weight 0 on every real input and a non-zero dummy weight on the dummy input; real filters
 * have weight 0 -- or the bias -- on it. With the dummy input at -1.0 (-32768) one LEA multiply
 * yields [f0..f(B-1), FP, fB.., FP, ...] where FP = -(dummy weight). Conv layers first round the
 * channel count up to a multiple of B with zero filters; FC layers give only full groups of B a
 * footprint (a trailing partial group gets none).
 *
 * The engines (plan.ts) build their LEA operands from the same rule; `augmentedOutput` evaluates
 * an augmented layer directly, so augmentation transparency -- the real outputs equal the
 * original network's -- is checkable on its own (src/properties/augmentation.ts, and as a Z3
 * obligation in src/smt).
 */
import type { QuantizedNetwork, QConv, QGemm } from './quantize.js';
import { ceilTo } from './layout.js';
import { dotQ15, type LeaArithmetic, TI_REFERENCE_ARITHMETIC } from '../device/lea.js';

export type AugmentedOutput =
  | { readonly kind: 'real'; readonly channel: number }
  | { readonly kind: 'zero'; readonly channel: number }
  | { readonly kind: 'footprint'; readonly covers: readonly [number, number] };

export interface AugmentedLayer {
  readonly node: string;
  readonly kind: 'conv' | 'gemm';
  /** What each augmented output (filter) is. */
  readonly outputs: readonly AugmentedOutput[];
  /** Real inputs per filter (IC x KH x KW for conv, K for FC); the dummy input comes last. */
  readonly realInputs: number;
  /** [augmented output][realInputs + 1] Q15 weights; the last column multiplies the dummy input. */
  readonly weights: Int16Array;
}

export interface AugmentedNetwork {
  readonly B: number;
  readonly dummyInput: number;
  readonly layers: ReadonlyMap<string, AugmentedLayer>;
}

export const DUMMY_INPUT = -32768;

/** Augment every conv/FC layer for granularity B; `dummyWeight` is the footprint filters' weight (+-1). */
export function augmentNetwork(q: QuantizedNetwork, B: number, dummyWeight = 1): AugmentedNetwork {
  const layers = new Map<string, AugmentedLayer>();
  for (const qn of q.nodes) {
    if (qn.kind === 'other') continue;
    const conv = qn.kind === 'conv';
    const real = conv ? (qn as QConv).op.outChannels : (qn as QGemm).op.outFeatures;
    const realInputs = conv ? (qn as QConv).inChannels * (qn as QConv).op.kernel[0] * (qn as QConv).op.kernel[1] : (qn as QGemm).inFeatures;
    const padded = conv ? ceilTo(real, B) : real;
    const outputs: AugmentedOutput[] = [];
    for (let c = 0; c < padded; c++) {
      outputs.push(c < real ? { kind: 'real', channel: c } : { kind: 'zero', channel: c });
      // A footprint after every full group of B (conv groups are all full after padding).
      if ((c + 1) % B === 0) outputs.push({ kind: 'footprint', covers: [c + 1 - B, c + 1] });
    }
    const cols = realInputs + 1;
    const weights = new Int16Array(outputs.length * cols);
    outputs.forEach((o, i) => {
      if (o.kind === 'footprint') {
        weights[i * cols + realInputs] = dummyWeight;
      } else if (o.kind === 'real') {
        const w = qn.weightQ;
        for (let k = 0; k < realInputs; k++) weights[i * cols + k] = w[o.channel * realInputs + k]!;
        // The bias rides on the dummy input: (-1.0) x (-b) = b.
        weights[i * cols + realInputs] = -qn.biasQ[o.channel]!;
      }
    });
    layers.set(qn.node.name, { node: qn.node.name, kind: qn.kind, outputs, realInputs, weights });
  }
  return { B, dummyInput: DUMMY_INPUT, layers };
}

/**
 * One augmented layer on one input vector (the kernel window, or the FC input, in the original
 * weight order): every augmented output as the LEA computes it with the dummy input appended.
 */
export function augmentedOutput(layer: AugmentedLayer, input: Int16Array, arith: LeaArithmetic = TI_REFERENCE_ARITHMETIC): Int16Array {
  const cols = layer.realInputs + 1;
  const a = new Int16Array(cols);
  a.set(input.subarray(0, layer.realInputs));
  a[layer.realInputs] = DUMMY_INPUT;
  const out = new Int16Array(layer.outputs.length);
  for (let i = 0; i < layer.outputs.length; i++) out[i] = dotQ15(a, 0, layer.weights, i * cols, 1, cols, arith);
  return out;
}

/** The real outputs of an augmented output vector (footprints and zero filters removed). */
export function realOutputs(layer: AugmentedLayer, augmented: Int16Array): Int16Array {
  const out: number[] = [];
  layer.outputs.forEach((o, i) => {
    if (o.kind === 'real') out[o.channel] = augmented[i]!;
  });
  return Int16Array.from(out);
}
