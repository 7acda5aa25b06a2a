/**
 * The network IR: a small, validated DAG of the operators japari's engines run.
 *
 * Tensors are logical and batch-free: feature maps are [C, H, W] (1-D signals are [C, 1, W]),
 * vectors are [N]. Layout in NVM is an engine concern (src/engines/reference/plan.ts); the IR and the
 * references (float.ts, q15.ts) speak logical tensors only.
 *
 * Operators (ONNX names in brackets):
 *   conv     [Conv]: 2-D convolution, group 1, stride, padding; 1-D conv is H = 1
 *   gemm     [Gemm, MatMul (+Add)]: y = W x + b, W is [N][K]
 *   relu     [Relu]
 *   maxpool  [MaxPool]
 *   gap      [GlobalAveragePool]
 *   add      [Add] of two feature maps of one shape
 *   concat   [Concat] along channels
 *   reshape  [Flatten, Reshape, Squeeze, Unsqueeze]: same elements, new shape (row-major order)
 *   softmax  [Softmax]: monotone; on the device the logits are kept and only argmax is taken
 * Transposes are folded into the input layout at import (src/model/onnx.ts) or rejected.
 */
import { InputError } from '../util/errors.js';

export type Shape = readonly number[];

export interface ConvOp {
  readonly kind: 'conv';
  /** [OC][IC][KH][KW], row-major. */
  readonly weight: Float32Array;
  /** [OC] or null. */
  readonly bias: Float32Array | null;
  readonly outChannels: number;
  readonly kernel: readonly [number, number];
  readonly stride: readonly [number, number];
  /** [top, left, bottom, right] */
  readonly pads: readonly [number, number, number, number];
}

export interface GemmOp {
  readonly kind: 'gemm';
  /** [N][K], row-major: y[n] = sum_k weight[n*K + k] * x[k] + bias[n]. */
  readonly weight: Float32Array;
  readonly bias: Float32Array | null;
  readonly outFeatures: number;
}

export interface MaxPoolOp {
  readonly kind: 'maxpool';
  readonly kernel: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly pads: readonly [number, number, number, number];
}

export type Op =
  | ConvOp
  | GemmOp
  | { readonly kind: 'relu' }
  | MaxPoolOp
  | { readonly kind: 'gap' }
  | { readonly kind: 'add' }
  | { readonly kind: 'concat' }
  | { readonly kind: 'reshape'; readonly shape: Shape }
  | { readonly kind: 'softmax' };

export type OpKind = Op['kind'];

export interface Node {
  /** Unique name (the ONNX node name, or a generated one). */
  readonly name: string;
  readonly op: Op;
  /** Names of input tensors (activations only; weights live in the op). */
  readonly inputs: readonly string[];
  readonly output: string;
}

export interface Network {
  readonly name: string;
  readonly input: { readonly name: string; readonly shape: Shape };
  /** Topologically ordered. */
  readonly nodes: readonly Node[];
  readonly output: string;
  /** Shapes of every tensor (input, and each node's output), filled by `inferShapes`. */
  readonly shapes: ReadonlyMap<string, Shape>;
  /** Where it came from (file path, or "built-in"). */
  readonly source: string;
  /**
   * The ONNX graph input this network was imported from (src/model/onnx.ts): its batch-free
   * shape, and `perm` such that IR input axis i is ONNX input axis perm[i] (ONNX Transpose
   * convention), or null when the data order is the same. `toLogicalInput` applies it.
   */
  readonly onnxInput?: { readonly name: string; readonly shape: Shape; readonly perm: readonly number[] | null };
}

export function numel(s: Shape): number {
  let n = 1;
  for (const d of s) n *= d;
  return n;
}

export function shapeStr(s: Shape): string {
  return `[${s.join(', ')}]`;
}

function convOutDim(inp: number, k: number, stride: number, padLo: number, padHi: number): number {
  return Math.floor((inp + padLo + padHi - k) / stride) + 1;
}

function fail(node: Node, msg: string): never {
  throw new InputError(`node ${node.name} (${node.op.kind}): ${msg}`);
}

/** Output shape of one node given its input shapes; throws InputError naming the node. */
export function inferNodeShape(node: Node, ins: readonly Shape[]): Shape {
  const op = node.op;
  const want = (n: number): void => {
    if (ins.length !== n) fail(node, `expects ${n} input(s), got ${ins.length}`);
  };
  switch (op.kind) {
    case 'conv': {
      want(1);
      const x = ins[0]!;
      if (x.length !== 3) fail(node, `input must be [C, H, W], got ${shapeStr(x)}`);
      const [c, h, w] = x as [number, number, number];
      const [kh, kw] = op.kernel;
      const ic = op.weight.length / (op.outChannels * kh * kw);
      if (!Number.isInteger(ic) || ic !== c) fail(node, `weight expects ${ic} input channels, input has ${c}`);
      if (op.bias && op.bias.length !== op.outChannels) fail(node, `bias has ${op.bias.length} values for ${op.outChannels} channels`);
      if (op.stride[0] < 1 || op.stride[1] < 1) fail(node, `stride must be >= 1`);
      const oh = convOutDim(h, kh, op.stride[0], op.pads[0], op.pads[2]);
      const ow = convOutDim(w, kw, op.stride[1], op.pads[1], op.pads[3]);
      if (oh < 1 || ow < 1) fail(node, `kernel ${kh}x${kw} does not fit input ${shapeStr(x)} with the given padding`);
      return [op.outChannels, oh, ow];
    }
    case 'gemm': {
      want(1);
      const k = numel(ins[0]!);
      if (ins[0]!.length !== 1) fail(node, `input must be a vector, got ${shapeStr(ins[0]!)} (flatten it first)`);
      if (op.weight.length !== op.outFeatures * k) fail(node, `weight has ${op.weight.length} values, expected ${op.outFeatures} x ${k}`);
      if (op.bias && op.bias.length !== op.outFeatures) fail(node, `bias has ${op.bias.length} values for ${op.outFeatures} outputs`);
      return [op.outFeatures];
    }
    case 'relu':
    case 'softmax':
      want(1);
      return ins[0]!;
    case 'maxpool': {
      want(1);
      const x = ins[0]!;
      if (x.length !== 3) fail(node, `input must be [C, H, W], got ${shapeStr(x)}`);
      const oh = convOutDim(x[1]!, op.kernel[0], op.stride[0], op.pads[0], op.pads[2]);
      const ow = convOutDim(x[2]!, op.kernel[1], op.stride[1], op.pads[1], op.pads[3]);
      if (oh < 1 || ow < 1) fail(node, `window does not fit input ${shapeStr(x)}`);
      return [x[0]!, oh, ow];
    }
    case 'gap': {
      want(1);
      const x = ins[0]!;
      if (x.length !== 3) fail(node, `input must be [C, H, W], got ${shapeStr(x)}`);
      return [x[0]!];
    }
    case 'add': {
      want(2);
      if (shapeStr(ins[0]!) !== shapeStr(ins[1]!)) fail(node, `operands differ in shape: ${shapeStr(ins[0]!)} vs ${shapeStr(ins[1]!)}`);
      return ins[0]!;
    }
    case 'concat': {
      if (ins.length < 2) fail(node, `expects at least 2 inputs`);
      const first = ins[0]!;
      if (first.length !== 3) fail(node, `inputs must be [C, H, W]`);
      let c = 0;
      for (const s of ins) {
        if (s.length !== 3 || s[1] !== first[1] || s[2] !== first[2]) fail(node, `inputs differ in spatial shape`);
        c += s[0]!;
      }
      return [c, first[1]!, first[2]!];
    }
    case 'reshape': {
      want(1);
      if (numel(op.shape) !== numel(ins[0]!)) fail(node, `cannot reshape ${shapeStr(ins[0]!)} to ${shapeStr(op.shape)}`);
      return op.shape;
    }
  }
}

/** Validate the DAG and compute every tensor's shape. */
export function inferShapes(
  net: Omit<Network, 'shapes'> & { shapes?: ReadonlyMap<string, Shape> },
): Network {
  const shapes = new Map<string, Shape>();
  if (net.input.shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new InputError(`input ${net.input.name} has an invalid shape ${shapeStr(net.input.shape)}`);
  }
  shapes.set(net.input.name, net.input.shape);
  const names = new Set<string>();
  for (const node of net.nodes) {
    if (names.has(node.name)) throw new InputError(`duplicate node name ${node.name}`);
    names.add(node.name);
    const ins = node.inputs.map((t) => {
      const s = shapes.get(t);
      if (!s) fail(node, `input tensor ${t} is not produced before this node`);
      return s;
    });
    if (shapes.has(node.output)) fail(node, `tensor ${node.output} is produced twice`);
    shapes.set(node.output, inferNodeShape(node, ins));
  }
  if (!shapes.has(net.output)) throw new InputError(`network output ${net.output} is never produced`);
  return { ...net, shapes };
}

/** Number of nodes that read each tensor (the output counts as one extra reader). */
export function readers(net: Network): Map<string, number> {
  const r = new Map<string, number>();
  for (const n of net.nodes) for (const t of n.inputs) r.set(t, (r.get(t) ?? 0) + 1);
  r.set(net.output, (r.get(net.output) ?? 0) + 1);
  return r;
}

export function paramCount(net: Network): number {
  let n = 0;
  for (const node of net.nodes) {
    const op = node.op;
    if (op.kind === 'conv' || op.kind === 'gemm') n += op.weight.length + (op.bias?.length ?? 0);
  }
  return n;
}
