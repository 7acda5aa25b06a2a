/**
 * Built-in models: the trained `lenet` (data/lenet.json, written by scripts/train-lenet.ts)
 * and tiny synthetic networks for fast tests, each a validated IR Network with
 * source 'built-in'.
 *
 * lenet is japari's default model for `japari check`: a real MNIST CNN, but small enough
 * (88,400 MACs, 3,104 conv output values) to fuzz and to explore failure placements
 * exhaustively. The tiny networks exercise one structural feature each:
 *   tiny-conv     conv + relu + maxpool + flatten + gemm    [1,6,6] -> [4]
 *   tiny-fc       gemm + relu + gemm                       [12]    -> [3]
 *   tiny-concat   two branches from one input, concat, gap [2,5,5] -> [4]
 *   tiny-strided  stride 2, an odd channel count           [3,7,7] -> [3]
 *   tiny-features every plan feature in one small network     [2,3,3] -> [4]: a conv with two
 *                 input-channel slices and several filter tiles (merged partial sums), its
 *                 slices' partial sums saturating (the second half of its input channels
 *                 repeats the first, with negated weights: each slice's sum leaves the Q15
 *                 range, their saturated sum does not), a concat of two branches, an FC tail;
 *                 deployed at B = 4 = op_filters by `check`
 * Their weights are drawn from a seed (N(0, 1/sqrt(fanIn)), float32), so they are the same on
 * every run; `tinyNetwork(name, seed)` gives other draws of the same shape.
 *
 * Pure apart from reading data/lenet.json once (cached); every call returns fresh typed
 * arrays, so a caller that mutates weights or inputs cannot affect the next caller.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, UsageError, assertNever } from '../util/errors.js';
import { Rng, mixSeed } from '../util/rng.js';
import { projectRoot } from '../util/shared.js';
import { inferShapes, numel, type Network, type Node, type Op, type Shape } from './ir.js';

export const LENET_JSON = 'data/lenet.json';

export type TinyModelName = 'tiny-conv' | 'tiny-fc' | 'tiny-concat' | 'tiny-strided' | 'tiny-features';
export type BuiltinModelName = 'lenet' | TinyModelName;

export interface BuiltinModel {
  readonly name: BuiltinModelName;
  /** One line, for `japari models`. */
  readonly description: string;
}

export const BUILTIN_MODELS: readonly BuiltinModel[] = Object.freeze([
  {
    name: 'lenet',
    description:
      'LeNet-style MNIST CNN trained by scripts/train-lenet.ts: conv5x5x4, pool, conv3x3x8, pool, gemm 200->10 (88,400 MACs)',
  },
  { name: 'tiny-conv', description: 'synthetic [1,6,6] -> conv3x3x3, relu, maxpool 2, flatten, gemm -> 4' },
  { name: 'tiny-fc', description: 'synthetic [12] -> gemm 12->7, relu, gemm 7->3' },
  { name: 'tiny-concat', description: 'synthetic [2,5,5] -> (conv1x1x3, relu) || (conv3x3x2 pad 1, relu), concat, conv1x1x4, gap' },
  { name: 'tiny-strided', description: 'synthetic [3,7,7] -> conv3x3x5 stride 2, relu, flatten, gemm -> 3' },
  {
    name: 'tiny-features',
    description:
      'synthetic [2,3,3] -> conv3x3x16 (halves equal), relu, (conv3x3x8 over two input slices whose partial sums saturate, relu) || (conv1x1x4, relu), concat, flatten, gemm -> 4',
  },
]);

const TINY_NAMES: readonly TinyModelName[] = ['tiny-conv', 'tiny-fc', 'tiny-concat', 'tiny-strided', 'tiny-features'];

/** The seed the tiny networks are drawn from when loaded by name. */
export const TINY_SEED = 0x7a9a41;

export function isBuiltin(name: string): name is BuiltinModelName {
  return BUILTIN_MODELS.some((m) => m.name === name);
}

function isTiny(name: string): name is TinyModelName {
  return (TINY_NAMES as readonly string[]).includes(name);
}

function unknownModel(name: string): UsageError {
  return new UsageError(`unknown built-in model '${name}'; known: ${BUILTIN_MODELS.map((m) => m.name).join(', ')}`);
}

/** The network of a built-in model; throws UsageError naming the known models otherwise. */
export function loadBuiltin(name: string): Network {
  if (name === 'lenet') return lenetNetwork(lenetDocument());
  if (isTiny(name)) return tinyNetwork(name, TINY_SEED);
  throw unknownModel(name);
}

// ---------------------------------------------------------------------------------------
// Sample inputs.
// ---------------------------------------------------------------------------------------

export interface BuiltinSample {
  /** e.g. 'test-digit-3' (lenet) or 'seeded-0' (tiny models). */
  readonly name: string;
  /** Logical input tensor, row-major in the network's input shape. */
  readonly input: Float32Array;
  readonly shape: Shape;
  /** The true class (lenet's digits); null for synthetic inputs. */
  readonly label: number | null;
}

const TINY_SAMPLE_COUNT = 4;
const TINY_CALIBRATION_COUNT = 8;

/** Inputs that ship with a model: lenet's held-out test digits, or seeded inputs for tiny nets. */
export function builtinSamples(name: string): BuiltinSample[] {
  if (name === 'lenet') {
    const doc = lenetDocument();
    return doc.samples.map((s, k) => ({
      name: `test-digit-${k}`,
      input: Float32Array.from(s.input),
      shape: doc.input.shape,
      label: s.label,
    }));
  }
  if (isTiny(name)) return seededSamples(name, 'seeded', 0, TINY_SAMPLE_COUNT);
  throw unknownModel(name);
}

/** Inputs for Q15 scale calibration: lenet's stored training digits, or seeded inputs. */
export function builtinCalibration(name: string): BuiltinSample[] {
  if (name === 'lenet') {
    const doc = lenetDocument();
    return doc.calibration.map((s, k) => ({
      name: `train-digit-${k}`,
      input: Float32Array.from(s.input),
      shape: doc.input.shape,
      label: s.label,
    }));
  }
  // Seeds disjoint from the samples', so calibration never sees the inputs it is judged on.
  if (isTiny(name)) return seededSamples(name, 'calibration', 1000, TINY_CALIBRATION_COUNT);
  throw unknownModel(name);
}

function seededSamples(name: TinyModelName, prefix: string, firstSeed: number, count: number): BuiltinSample[] {
  const net = loadBuiltin(name);
  return Array.from({ length: count }, (_, k) => ({
    name: `${prefix}-${k}`,
    input: tinySample(net, firstSeed + k),
    shape: net.input.shape,
    label: null,
  }));
}

/**
 * A seeded input for any network: uniform in [0, 1) for lenet (pixel intensities), in
 * [-1, 1) otherwise. Same input size and seed -> same values.
 */
export function tinySample(net: Network, seed: number): Float32Array {
  const rng = new Rng(mixSeed(0x5a3917, seed, numel(net.input.shape)));
  const out = new Float32Array(numel(net.input.shape));
  const pixels = net.name === 'lenet';
  for (let i = 0; i < out.length; i++) out[i] = pixels ? rng.float() : 2 * rng.float() - 1;
  return out;
}

// ---------------------------------------------------------------------------------------
// lenet: data/lenet.json (schema 1).
// ---------------------------------------------------------------------------------------

type LenetLayer =
  | {
      readonly name: string;
      readonly kind: 'conv';
      readonly outChannels: number;
      readonly kernel: [number, number];
      readonly stride: [number, number];
      readonly pads: [number, number, number, number];
      readonly weight: number[];
      readonly bias: number[];
    }
  | {
      readonly name: string;
      readonly kind: 'maxpool';
      readonly kernel: [number, number];
      readonly stride: [number, number];
      readonly pads: [number, number, number, number];
    }
  | { readonly name: string; readonly kind: 'gemm'; readonly outFeatures: number; readonly weight: number[]; readonly bias: number[] }
  | { readonly name: string; readonly kind: 'reshape'; readonly shape: number[] }
  | { readonly name: string; readonly kind: 'relu' };

interface StoredInput {
  readonly label: number;
  readonly mnistIndex: number;
  readonly input: number[];
}

/** The parts of data/lenet.json that builtin.ts reads (the file records more: training, etc.). */
export interface LenetDocument {
  readonly schema: 1;
  readonly name: 'lenet';
  readonly description: string;
  readonly architecture: string;
  readonly trainedOn: { readonly package: string; readonly train: number; readonly test: number; readonly split: string };
  readonly floatTestAccuracy: number;
  readonly input: { readonly name: string; readonly shape: [number, number, number] };
  readonly layers: readonly LenetLayer[];
  readonly calibration: readonly StoredInput[];
  readonly samples: readonly (StoredInput & { readonly floatPrediction: number })[];
}

let cachedLenet: LenetDocument | null = null;

/** data/lenet.json, parsed and checked once. */
export function lenetDocument(): LenetDocument {
  if (cachedLenet) return cachedLenet;
  const path = join(projectRoot(), LENET_JSON);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new InputError(`cannot read built-in model ${path}: ${(e as Error).message} (regenerate it with scripts/train-lenet.ts)`);
  }
  cachedLenet = deepFreeze(checkLenetDocument(raw, path));
  return cachedLenet;
}

/** The cached document is shared by every caller, so nobody may change it. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

function checkLenetDocument(raw: unknown, path: string): LenetDocument {
  const bad = (what: string): never => {
    throw new InputError(`${path} is malformed: ${what}`);
  };
  if (raw === null || typeof raw !== 'object') return bad('not a JSON object');
  const doc = raw as Partial<LenetDocument>;
  if (doc.schema !== 1) bad(`schema ${String(doc.schema)}, expected 1`);
  if (doc.name !== 'lenet') bad(`name ${String(doc.name)}`);
  const shape = doc.input?.shape;
  if (!Array.isArray(shape) || shape.length !== 3) return bad('input.shape is not [C, H, W]');
  if (!Array.isArray(doc.layers) || doc.layers.length === 0) bad('no layers');
  const pixels = numel(shape);
  for (const list of ['samples', 'calibration'] as const) {
    const items = doc[list];
    if (!Array.isArray(items)) return bad(`${list} missing`);
    items.forEach((s, k) => {
      if (!Array.isArray(s.input) || s.input.length !== pixels) bad(`${list}[${k}] does not hold ${pixels} values`);
      if (!Number.isInteger(s.label)) bad(`${list}[${k}] has no label`);
    });
  }
  return doc as LenetDocument;
}

const f32 = (values: readonly number[]): Float32Array => Float32Array.from(values);

function lenetOp(layer: LenetLayer): Op {
  switch (layer.kind) {
    case 'conv':
      return {
        kind: 'conv',
        weight: f32(layer.weight),
        bias: f32(layer.bias),
        outChannels: layer.outChannels,
        kernel: [layer.kernel[0], layer.kernel[1]],
        stride: [layer.stride[0], layer.stride[1]],
        pads: [layer.pads[0], layer.pads[1], layer.pads[2], layer.pads[3]],
      };
    case 'maxpool':
      return {
        kind: 'maxpool',
        kernel: [layer.kernel[0], layer.kernel[1]],
        stride: [layer.stride[0], layer.stride[1]],
        pads: [layer.pads[0], layer.pads[1], layer.pads[2], layer.pads[3]],
      };
    case 'gemm':
      return { kind: 'gemm', weight: f32(layer.weight), bias: f32(layer.bias), outFeatures: layer.outFeatures };
    case 'reshape':
      return { kind: 'reshape', shape: [...layer.shape] };
    case 'relu':
      return { kind: 'relu' };
    default:
      return assertNever(layer, 'lenet layer');
  }
}

/** The stored layers form a chain: each node reads the previous node's output. */
function lenetNetwork(doc: LenetDocument): Network {
  const nodes: Node[] = [];
  let prev = doc.input.name;
  for (const layer of doc.layers) {
    nodes.push({ name: layer.name, op: lenetOp(layer), inputs: [prev], output: layer.name });
    prev = layer.name;
  }
  return inferShapes({
    name: 'lenet',
    input: { name: doc.input.name, shape: [...doc.input.shape] },
    nodes,
    output: prev,
    source: 'built-in',
  });
}

// ---------------------------------------------------------------------------------------
// Tiny synthetic networks.
// ---------------------------------------------------------------------------------------

/** Draws float32 weights N(0, 1/sqrt(fanIn)) and small biases, in a fixed order. */
class WeightDraw {
  private readonly rng: Rng;
  constructor(seed: number) {
    this.rng = new Rng(seed);
  }
  weights(count: number, fanIn: number): Float32Array {
    const std = 1 / Math.sqrt(fanIn);
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = this.rng.normal() * std;
    return out;
  }
  bias(count: number): Float32Array {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = 0.1 * this.rng.normal();
    return out;
  }
  conv(inChannels: number, outChannels: number, k: number, stride: number, pad: number): Op {
    return {
      kind: 'conv',
      weight: this.weights(outChannels * inChannels * k * k, inChannels * k * k),
      bias: this.bias(outChannels),
      outChannels,
      kernel: [k, k],
      stride: [stride, stride],
      pads: [pad, pad, pad, pad],
    };
  }
  gemm(inFeatures: number, outFeatures: number): Op {
    return {
      kind: 'gemm',
      weight: this.weights(outFeatures * inFeatures, inFeatures),
      bias: this.bias(outFeatures),
      outFeatures,
    };
  }
}

const RELU: Op = { kind: 'relu' };

/** One node whose output tensor is named after it. */
function node(name: string, op: Op, ...inputs: string[]): Node {
  return { name, op, inputs, output: name };
}

/** A tiny synthetic network drawn from `seed` (loadBuiltin uses TINY_SEED). */
export function tinyNetwork(name: TinyModelName, seed: number): Network {
  const draw = new WeightDraw(mixSeed(seed, TINY_NAMES.indexOf(name)));
  const net = (shape: Shape, nodes: Node[]): Network =>
    inferShapes({ name, input: { name: 'input', shape }, nodes, output: nodes[nodes.length - 1]!.output, source: 'built-in' });
  switch (name) {
    case 'tiny-conv':
      // [1,6,6] -> [3,4,4] -> [3,2,2] -> [12] -> [4]
      return net(
        [1, 6, 6],
        [
          node('conv', draw.conv(1, 3, 3, 1, 0), 'input'),
          node('relu', RELU, 'conv'),
          node('pool', { kind: 'maxpool', kernel: [2, 2], stride: [2, 2], pads: [0, 0, 0, 0] }, 'relu'),
          node('flatten', { kind: 'reshape', shape: [12] }, 'pool'),
          node('fc', draw.gemm(12, 4), 'flatten'),
        ],
      );
    case 'tiny-fc':
      // [12] -> [7] -> [3]
      return net([12], [node('fc1', draw.gemm(12, 7), 'input'), node('relu', RELU, 'fc1'), node('fc2', draw.gemm(7, 3), 'relu')]);
    case 'tiny-concat':
      // [2,5,5] -> ([3,5,5] || [2,5,5]) -> [5,5,5] -> [4,5,5] -> [4]
      return net(
        [2, 5, 5],
        [
          node('branch_a', draw.conv(2, 3, 1, 1, 0), 'input'),
          node('relu_a', RELU, 'branch_a'),
          node('branch_b', draw.conv(2, 2, 3, 1, 1), 'input'),
          node('relu_b', RELU, 'branch_b'),
          node('concat', { kind: 'concat' }, 'relu_a', 'relu_b'),
          node('mix', draw.conv(5, 4, 1, 1, 0), 'concat'),
          node('gap', { kind: 'gap' }, 'mix'),
        ],
      );
    case 'tiny-strided':
      // [3,7,7] -> [5,3,3] -> [45] -> [3]
      return net(
        [3, 7, 7],
        [
          node('conv', draw.conv(3, 5, 3, 2, 0), 'input'),
          node('relu', RELU, 'conv'),
          node('flatten', { kind: 'reshape', shape: [45] }, 'relu'),
          node('fc', draw.gemm(45, 3), 'flatten'),
        ],
      );
    case 'tiny-features': {
      // [2,3,3] -> [16,3,3] -> ([8,3,3] || [4,3,3]) -> [12,3,3] -> [108] -> [4]
      // dup: output channel c + 8 repeats channel c, so relu_dup's halves are equal.
      const dup = draw.conv(2, 8, 3, 1, 1) as Extract<Op, { kind: 'conv' }>;
      const dupW = new Float32Array(2 * dup.weight.length);
      dupW.set(dup.weight, 0);
      dupW.set(dup.weight, dup.weight.length);
      const dupB = new Float32Array(16);
      dupB.set(dup.bias!, 0);
      dupB.set(dup.bias!, 8);
      // sat: positive weights over input channels 0..7, negated over 8..15, so the two
      // input-channel slices' partial sums cancel in exact arithmetic but each is far outside
      // the output scale: both saturate, and the merge adds the two rails.
      const sat = draw.conv(16, 8, 3, 1, 1) as Extract<Op, { kind: 'conv' }>;
      const satW = Float32Array.from(sat.weight);
      for (let oc = 0; oc < 8; oc++) {
        for (let ic = 0; ic < 8; ic++) {
          for (let k = 0; k < 9; k++) {
            // Positive over the first half (the relu'd inputs add up), negated over the second.
            const w = 0.25 + Math.abs(satW[(oc * 16 + ic) * 9 + k]!);
            satW[(oc * 16 + ic) * 9 + k] = w;
            satW[(oc * 16 + ic + 8) * 9 + k] = -w;
          }
        }
      }
      return net(
        [2, 3, 3],
        [
          node('dup', { ...dup, weight: dupW, bias: dupB, outChannels: 16 }, 'input'),
          node('relu_dup', RELU, 'dup'),
          node('sat', { ...sat, weight: satW }, 'relu_dup'),
          node('relu_sat', RELU, 'sat'),
          node('side', draw.conv(16, 4, 1, 1, 0), 'relu_dup'),
          node('relu_side', RELU, 'side'),
          node('concat', { kind: 'concat' }, 'relu_sat', 'relu_side'),
          node('flatten', { kind: 'reshape', shape: [108] }, 'concat'),
          node('fc', draw.gemm(108, 4), 'flatten'),
        ],
      );
    }
    default:
      return assertNever(name, 'tiny model');
  }
}
