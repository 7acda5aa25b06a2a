/**
 * Resolving a model name to a quantized network with calibration and sample inputs.
 *
 *   lenet, tiny-*            built-in (src/model/builtin.ts)
 *   mnist, har, kws, cifar10 the real models in ../shared/models (used in place, never copied)
 *   path/to/model.onnx       any ONNX file within the supported operator set
 *   rnd:<input>:<layers>:<s> a small random network (src/model/random-net.ts), for fuzzing
 *
 * Calibration and sample inputs (documented assumptions):
 *   lenet and mnist-8 (both [1,28,28], pixels in [0,1]): real MNIST digits stored with lenet;
 *   HAR, KWS, SqueezeNet: no dataset ships with the models, so inputs are seeded normal
 *   draws at a per-model spread: HAR 1.0 (normalised inertial signals), KWS 30 (MFCC
 *   magnitudes; the authors' input scale is 120), CIFAR-10 1.0 (normalised pixels);
 *   other ONNX files: uniform in [-1, 1).
 */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { stableStringify } from '../util/json.js';
import type { Network } from './ir.js';
import { numel } from './ir.js';
import { importOnnx, toLogicalInput } from './onnx.js';
import { loadBuiltin, builtinSamples, builtinCalibration, isBuiltin, tinySample, BUILTIN_MODELS } from './builtin.js';
import { quantize, quantizeInput, type QuantizedNetwork } from './quantize.js';
import { Rng, mixSeed } from '../util/rng.js';
import { randomNetwork, randomNetInput } from './random-net.js';
import { SHARED_MODELS, sharedPath, sharedAvailable, type SharedModelName } from '../util/shared.js';
import { UsageError, InputError } from '../util/errors.js';

export interface LoadedModel {
  /** The name the user gave (lenet, mnist, path...). */
  readonly name: string;
  readonly net: Network;
  readonly q: QuantizedNetwork;
  /** Number of stored samples (0: inputs are drawn from a seed). */
  readonly sampleCount: number;
  /** A float input (logical layout) for `--input n`. */
  input(n: number): { readonly x: Float32Array; readonly label?: number; readonly kind: 'sample' | 'synthetic' };
  /** Quantized input for `--input n`. */
  inputQ(n: number): Int16Array;
  readonly description: string;
  /**
   * What the model is, as a content hash (sha256, hex): of the ONNX file's bytes, or of the
   * network definition for built-in and random models. Replay tokens record it, so a token never
   * silently replays a different model. Computed on first use.
   */
  readonly contentHash: string;
}

export const SHARED_MODEL_NAMES = Object.keys(SHARED_MODELS) as SharedModelName[];

const SPREAD: Record<string, number> = { har: 1.0, kws: 30, cifar10: 1.0 };

function normalInput(net: Network, seed: number, spread: number): Float32Array {
  const rng = new Rng(mixSeed(0x5eed, seed));
  const x = new Float32Array(numel(net.input.shape));
  for (let i = 0; i < x.length; i++) x[i] = Math.fround(rng.normal() * spread);
  return x;
}

function uniformInput(net: Network, seed: number): Float32Array {
  const rng = new Rng(mixSeed(0x5eee, seed));
  const x = new Float32Array(numel(net.input.shape));
  for (let i = 0; i < x.length; i++) x[i] = Math.fround(rng.float() * 2 - 1);
  return x;
}

const cache = new Map<string, LoadedModel>();
const defined = new Set<string>();

/**
 * Make a network of the caller's own available under a name (library API): every part of japari
 * that takes a model name -- deployments, fuzzing, exploration, replay within this process --
 * then finds it. Calibration inputs set the Q15 scales (quantize.ts); samples are the inputs
 * `--input n` selects (without samples, inputs are seeded uniform draws in [-1, 1)). The name
 * must not shadow a built-in or shared model, a path or a random-network spec.
 */
export function defineModel(
  name: string,
  net: Network,
  o: { readonly calibration?: readonly Float32Array[]; readonly samples?: readonly { readonly x: Float32Array; readonly label?: number }[]; readonly description?: string } = {},
): LoadedModel {
  if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(name) || isBuiltin(name) || name in SHARED_MODELS || name === 'random') {
    throw new UsageError(`model name ${JSON.stringify(name)}: use letters, digits, - and _, not a built-in, shared or reserved name`);
  }
  if (cache.has(name) && !defined.has(name)) throw new UsageError(`model name ${JSON.stringify(name)} is already loaded`);
  const samples = (o.samples ?? []).map((s) => ({ ...s }));
  const calibration = o.calibration && o.calibration.length > 0 ? [...o.calibration] : samples.length > 0 ? samples.map((s) => s.x) : Array.from({ length: 8 }, (_, k) => uniformInput(net, k));
  const m = finish(name, net, calibration, samples, (seed) => uniformInput(net, seed), o.description ?? `${name} (defined by the caller)`);
  cache.set(name, m);
  defined.add(name);
  return m;
}

export function loadModel(spec: string): LoadedModel {
  const hit = cache.get(spec);
  if (hit) return hit;
  const m = resolve(spec);
  cache.set(spec, m);
  return m;
}

function finish(
  name: string,
  net: Network,
  calibration: Float32Array[],
  samples: { x: Float32Array; label?: number }[],
  synth: (seed: number) => Float32Array,
  description: string,
  hash: () => string = () => definitionHash(net),
): LoadedModel {
  const q = quantize(net, calibration);
  const exp = q.exps.get(net.input.name)!;
  const input = (n: number) =>
    samples.length > 0
      ? { ...samples[((n % samples.length) + samples.length) % samples.length]!, kind: 'sample' as const }
      : { x: synth(n), kind: 'synthetic' as const };
  let contentHash: string | null = null;
  return {
    name,
    net,
    q,
    sampleCount: samples.length,
    input,
    inputQ: (n) => quantizeInput(input(n).x, exp),
    description,
    get contentHash() {
      return (contentHash ??= hash());
    },
  };
}

/** sha256 of a network's definition (its IR with every weight), for models without a file. */
function definitionHash(net: Network): string {
  return createHash('sha256').update(stableStringify(net, 0)).digest('hex');
}

/** sha256 of a model file's bytes. */
function fileHash(path: string): string {
  try {
    return createHash('sha256').update(readFileSync(path)).digest('hex');
  } catch (e) {
    throw new InputError(`cannot read ONNX model ${path}: ${(e as Error).message}`);
  }
}

function resolve(spec: string): LoadedModel {
  if (isBuiltin(spec)) {
    const net = loadBuiltin(spec);
    const desc = BUILTIN_MODELS.find((m) => m.name === spec)!.description;
    if (spec === 'lenet') {
      const cal = builtinCalibration('lenet').map((s) => s.input);
      const samples = builtinSamples("lenet").map((s) => (s.label === null ? { x: s.input } : { x: s.input, label: s.label }));
      return finish(spec, net, cal, samples, () => samples[0]!.x, desc);
    }
    const cal = Array.from({ length: 8 }, (_, i) => tinySample(net, 1000 + i));
    return finish(spec, net, cal, [], (s) => tinySample(net, s), desc);
  }
  if ((SHARED_MODEL_NAMES as string[]).includes(spec)) {
    const file = SHARED_MODELS[spec as SharedModelName];
    if (!sharedAvailable('models', file)) {
      throw new UsageError(`model ${spec} needs ../shared/models/${file}, which is not present (set JAPARI_SHARED to the shared folder)`);
    }
    const net = importOnnx(sharedPath('models', file), { name: spec });
    const fileH = fileHash(sharedPath('models', file));
    if (spec === 'mnist') {
      const cal = builtinCalibration('lenet').map((s) => s.input);
      const samples = builtinSamples("lenet").map((s) => (s.label === null ? { x: s.input } : { x: s.input, label: s.label }));
      return finish(spec, net, cal, samples, () => samples[0]!.x, `${file} from ../shared/models (MNIST digits as inputs)`, () => fileH);
    }
    const spread = SPREAD[spec]!;
    const cal = Array.from({ length: 16 }, (_, i) => normalInput(net, 1000 + i, spread));
    return finish(spec, net, cal, [], (s) => normalInput(net, s, spread), `${file} from ../shared/models (synthetic normal inputs, spread ${spread})`, () => fileH);
  }
  if (spec.startsWith('rnd:')) {
    const net = randomNetwork(spec);
    const cal = Array.from({ length: 8 }, (_, i) => randomNetInput(net, 1000 + i));
    return finish(spec, net, cal, [], (s) => randomNetInput(net, s), `random network ${spec}`);
  }
  if (spec.endsWith('.onnx')) {
    const net = importOnnx(spec);
    const fileH = fileHash(spec);
    const cal = Array.from({ length: 16 }, (_, i) => uniformInput(net, 1000 + i));
    return finish(spec, net, cal, [], (s) => uniformInput(net, s), `${spec} (synthetic uniform inputs in [-1, 1))`, () => fileH);
  }
  const known = [...BUILTIN_MODELS.map((m) => m.name), ...SHARED_MODEL_NAMES].join(', ');
  throw new UsageError(`unknown model ${JSON.stringify(spec)}: use one of ${known}, or a path ending in .onnx`);
}

/** Read an input from a JSON file: an array of numbers in the ONNX input layout (batch-free). */
export function readInputFile(m: LoadedModel, path: string): Int16Array {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new InputError(`cannot read input ${path}: ${(e as Error).message}`);
  }
  const flat = Array.isArray(data) ? (data.flat(Infinity) as unknown[]) : null;
  const n = numel(m.net.input.shape);
  if (!flat || flat.length !== n || flat.some((v) => typeof v !== 'number' || !Number.isFinite(v))) {
    throw new InputError(`input ${path}: expected a JSON array of ${n} finite numbers`);
  }
  const x = toLogicalInput(m.net, Float32Array.from(flat as number[]));
  return quantizeInput(x, m.q.exps.get(m.net.input.name)!);
}
