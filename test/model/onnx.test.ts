/**
 * ONNX import: the four real models (../shared/models) import to the expected IR and the float
 * reference agrees with onnxruntime on every tensor the IR names; small synthetic models cover
 * the attributes the real ones do not use; bad input is a one-line InputError naming the node.
 */
import { readFileSync } from 'node:fs';
import onnxProto from 'onnx-proto';
import { beforeAll, describe, expect, it } from 'vitest';
import { argmax, runFloat } from '../../src/model/float.js';
import { numel, paramCount, type Network, type OpKind } from '../../src/model/ir.js';
import { importOnnx, toLogicalInput } from '../../src/model/onnx.js';
import { InputError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { SHARED_MODELS, sharedAvailable, sharedPath, type SharedModelName } from '../../src/util/shared.js';
import {
  attrFloat,
  attrInt,
  attrInts,
  attrString,
  buildModel,
  floatTensor,
  int64Tensor,
  maxAbsError,
  node,
  ortSession,
  type ModelSpec,
} from './onnx-helpers.js';

const RELATIVE_TOLERANCE = 1e-4;

interface Agreement {
  /** Max |float - ort| on the network output, and that output's scale (max |ort|). */
  readonly outputErr: number;
  readonly outputScale: number;
  /** Worst error over every compared tensor, relative to that tensor's scale. */
  readonly worstRelative: number;
  readonly worstTensor: string;
  readonly tensorsCompared: number;
  readonly argmaxAgrees: boolean;
}

/**
 * Run `bytes` on onnxruntime and `net` on runFloat for one input in the ONNX layout, comparing
 * the output and every intermediate IR tensor that carries an ONNX tensor's name.
 */
async function agreement(bytes: Uint8Array, net: Network, inputs: readonly Float32Array[]): Promise<Agreement> {
  const session = await ortSession(bytes, [...net.shapes.keys()]);
  const dims = [1, ...net.onnxInput!.shape];
  let outputErr = 0;
  let outputScale = 0;
  let worstRelative = 0;
  let worstTensor = '';
  let tensorsCompared = 0;
  let argmaxAgrees = true;
  try {
    for (const x of inputs) {
      const ref = await session.run(x, dims);
      const mine = runFloat(net, toLogicalInput(net, x));
      for (const [name, r] of ref) {
        const ours = name === session.outputs[0] ? mine.get(net.output) : mine.get(name);
        if (!ours) continue;
        expect(ours.length, `tensor ${name}`).toBe(r.length);
        const { err, scale } = maxAbsError(ours, r);
        const rel = err / Math.max(scale, 1e-6);
        if (rel > worstRelative) [worstRelative, worstTensor] = [rel, name];
        tensorsCompared++;
        if (name === session.outputs[0]) {
          outputErr = Math.max(outputErr, err);
          outputScale = Math.max(outputScale, scale);
          if (argmax(ours) !== argmax(r)) argmaxAgrees = false;
        }
      }
    }
  } finally {
    await session.release();
  }
  return { outputErr, outputScale, worstRelative, worstTensor, tensorsCompared, argmaxAgrees };
}

function kinds(net: Network): OpKind[] {
  return net.nodes.map((n) => n.op.kind);
}

function outShapes(net: Network, kind: OpKind): number[][] {
  return net.nodes.filter((n) => n.op.kind === kind).map((n) => [...net.shapes.get(n.output)!]);
}

function expectInputError(f: () => unknown, ...fragments: string[]): void {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'an InputError').toBeInstanceOf(InputError);
  const msg = (caught as Error).message;
  expect(msg.includes('\n'), `one line: ${msg}`).toBe(false);
  for (const f of fragments) expect(msg).toContain(f);
}

// ---------------------------------------------------------------------------------------------
// The real models
// ---------------------------------------------------------------------------------------------

const HAVE_MODELS = sharedAvailable('models');

/**
 * Parameter counts from ../shared/models/README.md. The README counts every initializer element,
 * including the int64 target shapes of Reshape nodes (2 elements each); the IR holds only conv
 * and gemm weights and biases, so paramCount is the README count minus those shape elements.
 */
const README_PARAMS: Record<SharedModelName, number> = { mnist: 5998, har: 13850, kws: 79646, cifar10: 73546 };

/** Seeded inputs in each model's ONNX layout and its authors' input range. */
function sampleInputs(model: SharedModelName, n: number, count: number): Float32Array[] {
  return Array.from({ length: count }, (_, s) => {
    const rng = new Rng(0x5eed0000 + s);
    return Float32Array.from({ length: n }, () => {
      switch (model) {
        case 'mnist': // ONNX model zoo: grey levels scaled to [0, 1]; the graph has no Div/Sub preprocessing
        case 'cifar10':
          return rng.float();
        case 'har': // UCI-HAR inertial signals, roughly unit scale
          return rng.normal();
        case 'kws': // MFCC features, tens of units (the authors' input scale is 120)
          return 30 * rng.normal();
      }
    });
  });
}

describe.skipIf(!HAVE_MODELS)(
  HAVE_MODELS ? 'real ONNX models (../shared/models)' : 'real ONNX models: SKIPPED, ../shared/models is absent (set JAPARI_SHARED)',
  () => {
    const nets = new Map<SharedModelName, Network>();
    const bytes = new Map<SharedModelName, Uint8Array>();
    beforeAll(() => {
      for (const [k, file] of Object.entries(SHARED_MODELS) as [SharedModelName, string][]) {
        bytes.set(k, readFileSync(sharedPath('models', file)));
        nets.set(k, importOnnx(sharedPath('models', file)));
      }
    });

    it('mnist-8: conv/relu/maxpool x2, one reshape, gemm; biases folded; SAME_UPPER padding', () => {
      const net = nets.get('mnist')!;
      expect(net.input).toEqual({ name: 'Input3', shape: [1, 28, 28] });
      expect(kinds(net)).toEqual(['conv', 'relu', 'maxpool', 'conv', 'relu', 'maxpool', 'reshape', 'gemm']);
      expect(outShapes(net, 'conv')).toEqual([
        [8, 28, 28],
        [16, 14, 14],
      ]);
      expect(outShapes(net, 'maxpool')).toEqual([
        [8, 14, 14],
        [16, 4, 4],
      ]);
      const conv = net.nodes[0]!.op;
      expect(conv.kind === 'conv' && conv.pads).toEqual([2, 2, 2, 2]);
      expect(conv.kind === 'conv' && conv.bias !== null).toBe(true);
      expect(net.shapes.get(net.output)).toEqual([10]);
      expect(net.output).toBe('Plus214_Output_0');
    });

    it('HAR-CNN: 1-D convs stay [C, 1, W]; Unsqueeze/Squeeze/Dropout vanish', () => {
      const net = nets.get('har')!;
      expect(net.input.shape).toEqual([9, 1, 128]);
      expect(net.onnxInput).toEqual({ name: 'inputs:0', shape: [9, 128], perm: null });
      expect(kinds(net)).toEqual(['conv', 'relu', 'maxpool', 'conv', 'relu', 'maxpool', 'conv', 'relu', 'maxpool', 'reshape', 'gemm']);
      expect(outShapes(net, 'conv')).toEqual([
        [18, 1, 128],
        [36, 1, 64],
        [72, 1, 32],
      ]);
      expect(outShapes(net, 'maxpool')).toEqual([
        [18, 1, 64],
        [36, 1, 32],
        [72, 1, 16],
      ]);
      const conv = net.nodes[0]!.op;
      expect(conv.kind === 'conv' && [conv.kernel, conv.pads]).toEqual([
        [1, 2],
        [0, 0, 0, 1],
      ]);
      expect(net.shapes.get(net.output)).toEqual([6]);
    });

    it('KWS-DNN_S: four gemms with relus and a softmax; the input is the flattened [250]', () => {
      const net = nets.get('kws')!;
      expect(net.input.shape).toEqual([250]);
      expect(net.onnxInput).toEqual({ name: 'Mfcc:0', shape: [25, 10], perm: null });
      expect(kinds(net)).toEqual(['gemm', 'relu', 'gemm', 'relu', 'gemm', 'relu', 'gemm', 'softmax']);
      expect(outShapes(net, 'gemm')).toEqual([[144], [144], [144], [12]]);
    });

    it('SqueezeNet: the NHWC Transpose folds into the input; fire modules concat on channels', () => {
      const net = nets.get('cifar10')!;
      expect(net.input).toEqual({ name: 'input_1', shape: [3, 32, 32] });
      expect(net.onnxInput).toEqual({ name: 'input_1', shape: [32, 32, 3], perm: [2, 0, 1] });
      const count = (k: OpKind): number => kinds(net).filter((x) => x === k).length;
      expect([count('conv'), count('relu'), count('maxpool'), count('concat'), count('gap'), count('softmax'), count('reshape')]).toEqual([
        11, 11, 1, 3, 1, 1, 0,
      ]);
      expect(outShapes(net, 'concat')).toEqual([
        [128, 7, 7],
        [128, 7, 7],
        [256, 7, 7],
      ]);
      expect(net.shapes.get(net.output)).toEqual([10]);
    });

    it('paramCount is the README count minus the int64 Reshape shapes', () => {
      for (const k of Object.keys(SHARED_MODELS) as SharedModelName[]) {
        const graph = onnxProto.onnx.ModelProto.decode(bytes.get(k)!).graph!;
        let all = 0;
        let shapeElems = 0;
        for (const t of graph.initializer ?? []) {
          const n = (t.dims ?? []).reduce<number>((a, d) => a * Number(d), 1);
          all += n;
          if (t.dataType === onnxProto.onnx.TensorProto.DataType.INT64) shapeElems += n;
        }
        expect(all, k).toBe(README_PARAMS[k]);
        expect(paramCount(nets.get(k)!), k).toBe(README_PARAMS[k] - shapeElems);
      }
      expect(paramCount(nets.get('mnist')!)).toBe(5994);
      expect(paramCount(nets.get('har')!)).toBe(13848);
      expect(paramCount(nets.get('kws')!)).toBe(79644);
      expect(paramCount(nets.get('cifar10')!)).toBe(73546);
    });

    it('toLogicalInput turns SqueezeNet HWC data into CHW', () => {
      const net = nets.get('cifar10')!;
      const hwc = new Float32Array(32 * 32 * 3);
      for (let h = 0; h < 32; h++) for (let w = 0; w < 32; w++) for (let c = 0; c < 3; c++) hwc[(h * 32 + w) * 3 + c] = 10000 * c + 100 * h + w;
      const chw = toLogicalInput(net, hwc);
      for (let c = 0; c < 3; c++) for (let h = 0; h < 32; h++) for (let w = 0; w < 32; w++) expect(chw[(c * 32 + h) * 32 + w]).toBe(10000 * c + 100 * h + w);
      expect(() => toLogicalInput(net, new Float32Array(5))).toThrow(InputError);
    });

    for (const model of Object.keys(SHARED_MODELS) as SharedModelName[]) {
      it(`${model}: runFloat agrees with onnxruntime on every named tensor (4 seeded inputs)`, async () => {
        const net = nets.get(model)!;
        const inputs = sampleInputs(model, numel(net.onnxInput!.shape), 4);
        const a = await agreement(bytes.get(model)!, net, inputs);
        console.log(
          `[float vs onnxruntime] ${model}: output max abs err ${a.outputErr.toExponential(2)} (output scale ${a.outputScale.toPrecision(3)}); ` +
            `worst relative err ${a.worstRelative.toExponential(2)} at ${a.worstTensor} over ${a.tensorsCompared} tensor comparisons`,
        );
        expect(a.tensorsCompared).toBeGreaterThan(4);
        expect(a.outputErr).toBeLessThan(RELATIVE_TOLERANCE * a.outputScale);
        expect(a.worstRelative).toBeLessThan(RELATIVE_TOLERANCE);
        expect(a.argmaxAgrees).toBe(true);
      });
    }

    it('runFloat runs SqueezeNet in well under a second', () => {
      const net = nets.get('cifar10')!;
      const x = toLogicalInput(net, sampleInputs('cifar10', 32 * 32 * 3, 1)[0]!);
      const t0 = performance.now();
      runFloat(net, x);
      expect(performance.now() - t0).toBeLessThan(1000);
    });
  },
);

// ---------------------------------------------------------------------------------------------
// Synthetic models: attributes and patterns the real ones do not exercise, checked against ORT
// ---------------------------------------------------------------------------------------------

function seeded(n: number, seed: number, scale = 1): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => scale * rng.normal());
}

/** A 1-D pipeline: Conv1d (pads, stride) -> Relu -> MaxPool1d -> Flatten -> Gemm(transB, alpha, beta). */
const conv1dSpec: ModelSpec = {
  input: { name: 'x', dims: ['N', 4, 16] },
  output: 'y',
  nodes: [
    node('Conv', ['x', 'W', 'B'], ['c'], [attrInts('kernel_shape', [3]), attrInts('pads', [1, 1]), attrInts('strides', [2])]),
    node('Relu', ['c'], ['r']),
    node('MaxPool', ['r'], ['p'], [attrInts('kernel_shape', [2]), attrInts('strides', [2])]),
    node('Flatten', ['p'], ['f']),
    node('Gemm', ['f', 'G', 'C'], ['y'], [attrInt('transB', 1), attrFloat('alpha', 0.5), attrFloat('beta', 2)]),
  ],
  initializers: [
    floatTensor('W', [6, 4, 3], seeded(72, 1)),
    floatTensor('B', [6], seeded(6, 2)),
    floatTensor('G', [5, 24], seeded(120, 3)),
    floatTensor('C', [5], seeded(5, 4)),
  ],
};

/** SAME_LOWER conv + [1, C, 1, 1] bias Add, SAME_UPPER maxpool, GAP, MatMul + Add, Softmax (opset 13). */
const samePadSpec: ModelSpec = {
  input: { name: 'x', dims: [1, 2, 7, 6] },
  output: 'y',
  nodes: [
    node('Conv', ['x', 'W'], ['c'], [attrInts('kernel_shape', [3, 3]), attrInts('strides', [2, 2]), attrString('auto_pad', 'SAME_LOWER')]),
    node('Add', ['cb', 'c'], ['a']),
    node('MaxPool', ['a'], ['p'], [attrInts('kernel_shape', [3, 3]), attrInts('strides', [2, 1]), attrString('auto_pad', 'SAME_UPPER')]),
    node('Relu', ['p'], ['r']),
    node('GlobalAveragePool', ['r'], ['g']),
    node('Flatten', ['g'], ['f']),
    node('MatMul', ['f', 'M'], ['m']),
    node('Add', ['m', 'mb'], ['l']),
    node('Softmax', ['l'], ['y']),
  ],
  initializers: [
    floatTensor('W', [3, 2, 3, 3], seeded(54, 5)),
    floatTensor('cb', [1, 3, 1, 1], seeded(3, 6)),
    floatTensor('M', [3, 5], seeded(15, 7)),
    floatTensor('mb', [5], seeded(5, 8)),
  ],
};

/** NHWC input + Transpose, two branches joined by Add and Concat, Squeeze with axes as an input (opset 13). */
const branchSpec: ModelSpec = {
  input: { name: 'x', dims: ['N', 6, 5, 3] },
  output: 'y',
  nodes: [
    node('Transpose', ['x'], ['t'], [attrInts('perm', [0, 3, 1, 2])]),
    node('Conv', ['t', 'Wa', 'Ba'], ['ca']),
    node('Relu', ['ca'], ['ra']),
    node('Conv', ['t', 'Wb'], ['cb'], [attrInts('pads', [1, 1, 1, 1])]),
    node('Relu', ['cb'], ['rb']),
    node('Add', ['ra', 'rb'], ['s']),
    node('Concat', ['s', 'ra'], ['k'], [attrInt('axis', -3)]),
    node('Conv', ['k', 'Wc', 'Bc'], ['cc']),
    node('GlobalAveragePool', ['cc'], ['g']),
    node('Squeeze', ['g', 'axes'], ['y']),
  ],
  initializers: [
    floatTensor('Wa', [4, 3, 1, 1], seeded(12, 9)),
    floatTensor('Ba', [4], seeded(4, 10)),
    floatTensor('Wb', [4, 3, 3, 3], seeded(108, 11)),
    floatTensor('Wc', [2, 8, 3, 3], seeded(144, 12)),
    floatTensor('Bc', [2], seeded(2, 13)),
    int64Tensor('axes', [2], [2, 3]),
  ],
};

/** Reshape with 0 and -1 entries, a Reshape of a constant weight, Dropout and Identity (opset 11). */
const reshapeSpec: ModelSpec = {
  opset: 11,
  input: { name: 'x', dims: [1, 4, 3, 3] },
  output: 'y',
  nodes: [
    node('Reshape', ['Wraw', 'wshape'], ['W']),
    node('Reshape', ['x', 'target'], ['f']),
    node('Dropout', ['f'], ['d'], [attrFloat('ratio', 0.3)]),
    node('Identity', ['d'], ['i']),
    node('MatMul', ['i', 'W'], ['y']),
  ],
  initializers: [
    floatTensor('Wraw', [4, 9, 7], seeded(252, 14)),
    int64Tensor('wshape', [2], [36, -1]),
    int64Tensor('target', [2], [0, -1]),
  ],
};

describe('synthetic models agree with onnxruntime', () => {
  const cases: [string, ModelSpec, string[]][] = [
    ['1-D conv, 1-D maxpool, flatten, gemm transB/alpha/beta', conv1dSpec, ['conv', 'relu', 'maxpool', 'reshape', 'gemm']],
    ['SAME_LOWER / SAME_UPPER, bias fold, gap, matmul + add, softmax', samePadSpec, ['conv', 'maxpool', 'relu', 'gap', 'gemm', 'softmax']],
    ['input transpose, add, concat, squeeze (opset 13)', branchSpec, ['conv', 'relu', 'conv', 'relu', 'add', 'concat', 'conv', 'gap']],
    ['reshape 0/-1, constant reshape, dropout, identity', reshapeSpec, ['gemm']],
  ];
  for (const [title, spec, expected] of cases) {
    it(title, async () => {
      const bytes = buildModel(spec);
      const net = importOnnx(bytes, { name: title });
      expect(kinds(net)).toEqual(expected);
      const inputs = [1, 2, 3].map((s) => seeded(numel(net.onnxInput!.shape), 100 + s));
      const a = await agreement(bytes, net, inputs);
      expect(a.worstRelative).toBeLessThan(RELATIVE_TOLERANCE);
      expect(a.outputErr).toBeLessThan(RELATIVE_TOLERANCE * Math.max(a.outputScale, 1e-6));
    });
  }

  it('the 1-D pipeline keeps [C, 1, W] and folds Gemm alpha/beta into weights', () => {
    const net = importOnnx(buildModel(conv1dSpec));
    expect(net.input.shape).toEqual([4, 1, 16]);
    const conv = net.nodes[0]!.op;
    expect(conv.kind === 'conv' && [conv.kernel, conv.stride, conv.pads]).toEqual([
      [1, 3],
      [1, 2],
      [0, 1, 0, 1],
    ]);
    expect(net.shapes.get(net.nodes[0]!.output)).toEqual([6, 1, 8]);
    expect(net.shapes.get(net.output)).toEqual([5]);
  });

  it('SAME_LOWER puts the odd padding unit first', () => {
    const net = importOnnx(buildModel(samePadSpec));
    const conv = net.nodes[0]!.op;
    // H: in 7, stride 2 -> out 4, total pad (4-1)*2+3-7 = 2 -> [1, 1]; W: in 6 -> out 3, total (3-1)*2+3-6 = 1 -> [1, 0].
    expect(conv.kind === 'conv' && conv.pads).toEqual([1, 1, 1, 0]);
    const pool = net.nodes[1]!.op;
    // H: in 4, stride 2 -> out 2, total (2-1)*2+3-4 = 1 -> SAME_UPPER [0, 1]; W: in 3, stride 1 -> total 2 -> [1, 1].
    expect(pool.kind === 'maxpool' && pool.pads).toEqual([0, 1, 1, 1]);
  });
});

// ---------------------------------------------------------------------------------------------
// Bad input
// ---------------------------------------------------------------------------------------------

const tinyConv = (attrs: ReturnType<typeof attrInt>[], name = 'Conv_12'): ModelSpec => ({
  input: { name: 'x', dims: [1, 4, 5, 5] },
  output: 'y',
  nodes: [node('Conv', ['x', 'W'], ['y'], attrs, name)],
  initializers: [floatTensor('W', [2, 4, 3, 3], seeded(72, 20))],
});

describe('importOnnx rejects what it cannot represent, naming the node', () => {
  it('malformed bytes', () => {
    expectInputError(() => importOnnx(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x22])), 'not an ONNX model');
    expectInputError(() => importOnnx(new TextEncoder().encode('this is not a protobuf at all')), 'not an ONNX model');
    expectInputError(() => importOnnx(new Uint8Array(0)), 'not an ONNX model');
  });

  it('a missing file', () => {
    expectInputError(() => importOnnx('/nonexistent/model.onnx'), 'cannot read ONNX model');
  });

  it('an unsupported operator', () => {
    const spec: ModelSpec = {
      input: { name: 'x', dims: [1, 8] },
      output: 'y',
      nodes: [node('Relu', ['x'], ['r']), node('Erf', ['r'], ['y'], [], 'Erf_7')],
    };
    expectInputError(() => importOnnx(buildModel(spec)), 'node Erf_7 (Erf): operator Erf is not supported');
  });

  it('Conv attributes it does not implement', () => {
    expectInputError(() => importOnnx(buildModel(tinyConv([attrInt('group', 2)]))), 'node Conv_12 (Conv): group=2 is not supported');
    expectInputError(() => importOnnx(buildModel(tinyConv([attrInts('dilations', [2, 2])]))), 'node Conv_12 (Conv): dilations=[2,2]');
    expectInputError(() => importOnnx(buildModel(tinyConv([attrString('auto_pad', 'WEIRD')]))), 'auto_pad=WEIRD');
    expectInputError(() => importOnnx(buildModel(tinyConv([attrInt('frobnicate', 1)]))), 'node Conv_12 (Conv): attribute frobnicate is not supported');
    expectInputError(() => importOnnx(buildModel(tinyConv([attrInts('kernel_shape', [5, 5])]))), 'kernel_shape=[5,5] disagrees');
  });

  it('MaxPool ceil_mode=1 and an unused attribute on Relu', () => {
    const pool: ModelSpec = {
      input: { name: 'x', dims: [1, 2, 6, 6] },
      output: 'y',
      nodes: [node('MaxPool', ['x'], ['y'], [attrInts('kernel_shape', [2, 2]), attrInt('ceil_mode', 1)], 'pool')],
    };
    expectInputError(() => importOnnx(buildModel(pool)), 'node pool (MaxPool): ceil_mode=1 is not supported');
    const relu: ModelSpec = { input: { name: 'x', dims: [1, 3] }, output: 'y', nodes: [node('Relu', ['x'], ['y'], [attrFloat('alpha', 0.1)], 'act')] };
    expectInputError(() => importOnnx(buildModel(relu)), 'node act (Relu): attribute alpha is not supported');
  });

  it('a missing initializer', () => {
    const spec = { ...tinyConv([]), initializers: [] };
    expectInputError(() => importOnnx(buildModel(spec)), 'node Conv_12 (Conv)', "'W' is neither an initializer");
  });

  it('dynamic shapes', () => {
    const dynInput: ModelSpec = { input: { name: 'x', dims: ['N', 'C', 4] }, output: 'y', nodes: [node('Relu', ['x'], ['y'])] };
    expectInputError(() => importOnnx(buildModel(dynInput)), 'input x axis 1 is dynamic');
    const dynReshape: ModelSpec = {
      input: { name: 'x', dims: [1, 2] },
      output: 'y',
      nodes: [node('Relu', ['x'], ['s']), node('Reshape', ['x', 's'], ['y'], [], 'rs')],
    };
    expectInputError(() => importOnnx(buildModel(dynReshape)), 'node rs (Reshape): input shape must be a constant');
  });

  it('a Reshape or Squeeze that would move or drop the batch axis', () => {
    const flat: ModelSpec = {
      input: { name: 'x', dims: [1, 2, 3] },
      output: 'y',
      nodes: [node('Reshape', ['x', 'target'], ['y'], [], 'rs')],
      initializers: [int64Tensor('target', [1], [-1])],
    };
    expectInputError(() => importOnnx(buildModel(flat)), 'node rs (Reshape): [1, 2, 3] -> [6] does not keep the batch axis first');
    const squeeze: ModelSpec = {
      input: { name: 'x', dims: [1, 1, 3] },
      output: 'y',
      nodes: [node('Squeeze', ['x', 'axes'], ['y'], [], 'sq')],
      initializers: [int64Tensor('axes', [1], [0])],
    };
    expectInputError(() => importOnnx(buildModel(squeeze)), 'node sq (Squeeze): squeezing the batch axis is not supported');
  });

  it('a Transpose that reorders data inside the network', () => {
    const spec: ModelSpec = {
      input: { name: 'x', dims: [1, 2, 3, 4] },
      output: 'y',
      nodes: [node('Relu', ['x'], ['r']), node('Transpose', ['r'], ['y'], [attrInts('perm', [0, 1, 3, 2])], 'tr')],
    };
    expectInputError(() => importOnnx(buildModel(spec)), 'node tr (Transpose): perm=[0,1,3,2] reorders the data');
  });

  it('an Add of a constant that is not a per-channel bias', () => {
    const spec: ModelSpec = {
      ...tinyConv([attrInts('pads', [1, 1, 1, 1])]),
      output: 'y',
      nodes: [node('Conv', ['x', 'W'], ['c'], [attrInts('pads', [1, 1, 1, 1])], 'conv'), node('Add', ['c', 'k'], ['y'], [], 'add')],
      initializers: [floatTensor('W', [2, 4, 3, 3], seeded(72, 20)), floatTensor('k', [5], seeded(5, 21))],
    };
    expectInputError(() => importOnnx(buildModel(spec)), 'node add (Add)', 'not constant per channel of conv');
  });

  it('Gemm transA=1', () => {
    const spec: ModelSpec = {
      input: { name: 'x', dims: [1, 4] },
      output: 'y',
      nodes: [node('Gemm', ['x', 'B'], ['y'], [attrInt('transA', 1)], 'fc')],
      initializers: [floatTensor('B', [4, 3], seeded(12, 22))],
    };
    expectInputError(() => importOnnx(buildModel(spec)), 'node fc (Gemm): transA=1 is not supported');
  });
});
