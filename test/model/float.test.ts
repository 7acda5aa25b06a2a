/**
 * The float reference on tiny networks whose results are computed by hand in the comments.
 * (Agreement with onnxruntime on real and synthetic models is in onnx.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { argmax, runFloat } from '../../src/model/float.js';
import { inferShapes, type Network, type Node, type Op, type Shape } from '../../src/model/ir.js';
import { InputError } from '../../src/util/errors.js';

/** A chain network: input `x` of `shape`, then `ops` in order (each reads the previous tensor). */
function chain(shape: Shape, ...ops: Op[]): Network {
  const nodes: Node[] = ops.map((op, i) => ({ name: `n${i}`, op, inputs: [i === 0 ? 'x' : `t${i - 1}`], output: `t${i}` }));
  return inferShapes({ name: 'tiny', input: { name: 'x', shape }, nodes, output: `t${ops.length - 1}`, source: 'built-in' });
}

function out(net: Network, x: number[]): number[] {
  return [...runFloat(net, Float32Array.from(x)).get(net.output)!];
}

const ONE_TO_NINE = [1, 2, 3, 4, 5, 6, 7, 8, 9];

describe('runFloat on hand-computed cases', () => {
  it('conv: 1 channel, 3x3 kernel, padding 1, stride 2', () => {
    // x = [[1,2,3],[4,5,6],[7,8,9]], w = [[1,2,0],[0,4,0],[0,0,3]], b = 0.5, output 2x2.
    // y[i][j] = b + sum w[u][v] x[2i-1+u][2j-1+v] (outside reads 0):
    //   y00 = 4*x00 + 3*x11 = 4 + 15 = 19           y01 = 4*x02 = 12 (x13 is outside)
    //   y10 = 2*x10 + 4*x20 = 8 + 28 = 36           y11 = x11 + 2*x12 + 4*x22 = 5 + 12 + 36 = 53
    const net = chain([1, 3, 3], {
      kind: 'conv',
      weight: Float32Array.from([1, 2, 0, 0, 4, 0, 0, 0, 3]),
      bias: Float32Array.of(0.5),
      outChannels: 1,
      kernel: [3, 3],
      stride: [2, 2],
      pads: [1, 1, 1, 1],
    });
    expect(net.shapes.get(net.output)).toEqual([1, 2, 2]);
    expect(out(net, ONE_TO_NINE)).toEqual([19.5, 12.5, 36.5, 53.5]);
  });

  it('conv: two input channels, two output channels, asymmetric padding', () => {
    // x: channel 0 = [[1,2],[3,4]], channel 1 = all 10; 1x2 kernel, pads right 1 (top, left, bottom, right = 0,0,0,1).
    // out channel 0: w = [1, 1] on ch0, [0, 0] on ch1 -> row sums of adjacent pairs: [[3,2],[7,4]]
    // out channel 1: w = [0, 0] on ch0, [1, -1] on ch1 -> [[0,10],[0,10]], bias -1 -> [[-1,9],[-1,9]]
    const net = chain([2, 2, 2], {
      kind: 'conv',
      weight: Float32Array.from([1, 1, 0, 0, 0, 0, 1, -1]),
      bias: Float32Array.of(0, -1),
      outChannels: 2,
      kernel: [1, 2],
      stride: [1, 1],
      pads: [0, 0, 0, 1],
    });
    expect(out(net, [1, 2, 3, 4, 10, 10, 10, 10])).toEqual([3, 2, 7, 4, -1, 9, -1, 9]);
  });

  it('maxpool: padding never wins, even over negative values', () => {
    // x = -[[1,2,3],[4,5,6],[7,8,9]], 2x2 window, stride 2, pads 1 -> windows over rows {-1,0},{1,2}, cols likewise:
    // y00 = max(x00) = -1, y01 = max(x01, x02) = -2, y10 = max(x10, x20) = -4, y11 = max(x11, x12, x21, x22) = -5.
    const net = chain([1, 3, 3], { kind: 'maxpool', kernel: [2, 2], stride: [2, 2], pads: [1, 1, 1, 1] });
    expect(out(net, ONE_TO_NINE.map((v) => -v))).toEqual([-1, -2, -4, -5]);
  });

  it('relu, gap', () => {
    // relu([[1,-2],[3,-4]] | [[-1,-1],[8,0]]) = [[1,0],[3,0]] | [[0,0],[8,0]] -> means 1, 2.
    const net = chain([2, 2, 2], { kind: 'relu' }, { kind: 'gap' });
    expect(out(net, [1, -2, 3, -4, -1, -1, 8, 0])).toEqual([1, 2]);
  });

  it('reshape then gemm: y = W x + b with W [N][K]', () => {
    // x = [1, 2, 3] (from [3, 1, 1]); W = [[1, 0, -1], [2, 2, 2]], b = [10, -1] -> [1 - 3 + 10, 12 - 1] = [8, 11].
    const net = chain(
      [3, 1, 1],
      { kind: 'reshape', shape: [3] },
      { kind: 'gemm', weight: Float32Array.from([1, 0, -1, 2, 2, 2]), bias: Float32Array.of(10, -1), outFeatures: 2 },
    );
    expect(out(net, [1, 2, 3])).toEqual([8, 11]);
  });

  it('softmax is the real softmax; argmax takes the first maximum', () => {
    const net = chain([3], { kind: 'softmax' });
    const y = out(net, [0, Math.log(2), Math.log(5)]); // exp: 1, 2, 5 -> /8 (inputs are float32, hence 7 digits)
    expect(y[0]).toBeCloseTo(1 / 8, 7);
    expect(y[1]).toBeCloseTo(2 / 8, 7);
    expect(y[2]).toBeCloseTo(5 / 8, 7);
    // Large logits do not overflow (max is subtracted first).
    expect(out(net, [1000, 1000, 0]).map((v) => Math.round(v * 1e6) / 1e6)).toEqual([0.5, 0.5, 0]);
    expect(argmax([1, 3, 3, 2])).toBe(1);
    expect(argmax(Float64Array.of(-5, -1, -3))).toBe(1);
    expect(argmax([])).toBe(-1);
  });

  it('add and concat (a DAG with two readers of one tensor)', () => {
    // x [1, 1, 2] = [1, 2]; a = relu(x) = [1, 2]; s = add(x, a) = [2, 4]; k = concat(s, a) = [[2, 4], [1, 2]] as [2, 1, 2].
    const nodes: Node[] = [
      { name: 'r', op: { kind: 'relu' }, inputs: ['x'], output: 'a' },
      { name: 's', op: { kind: 'add' }, inputs: ['x', 'a'], output: 's' },
      { name: 'k', op: { kind: 'concat' }, inputs: ['s', 'a'], output: 'k' },
    ];
    const net = inferShapes({ name: 'dag', input: { name: 'x', shape: [1, 1, 2] }, nodes, output: 'k', source: 'built-in' });
    const all = runFloat(net, Float32Array.of(1, 2));
    expect(net.shapes.get('k')).toEqual([2, 1, 2]);
    expect([...all.get('k')!]).toEqual([2, 4, 1, 2]);
    // Every tensor is returned, the input included.
    expect([...all.keys()].sort()).toEqual(['a', 'k', 's', 'x']);
    expect([...all.get('x')!]).toEqual([1, 2]);
  });

  it('rejects an input of the wrong size', () => {
    const net = chain([3], { kind: 'relu' });
    expect(() => runFloat(net, new Float32Array(4))).toThrow(InputError);
  });
});
