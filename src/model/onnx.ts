/**
 * ONNX import: decode a ModelProto (npm `onnx-proto`, protobufjs 6) and lower its graph to the
 * network IR of ir.ts. Operator semantics cited below are those of the ONNX operator
 * specification (onnx/docs/Operators.md) for the model's ai.onnx opset.
 *
 * What is modelled: inference of one sample. ONNX activations carry a leading batch axis N; IR
 * tensors are batch-free. Every activation is tracked by its batch-free ONNX shape, and N is
 * taken as 1 where a shape computation needs a number (Reshape targets, Flatten). An operator
 * that would move, merge or drop the batch axis is rejected.
 *
 * Views. Reshape, Flatten, Squeeze, Unsqueeze, Identity, Dropout (inference: identity) and a
 * Transpose that only moves size-1 axes keep the row-major order of the data, so they emit
 * nothing: the ONNX tensor becomes a *view* (another shape) of an existing IR tensor. An IR
 * `reshape` node is emitted only where an operator needs its input in a shape the IR tensor does
 * not have (Conv/MaxPool/Concat want [C, H, W], Gemm wants [K]). Consecutive reshapes are thereby
 * folded into one and no-op reshapes vanish; a view of the network input fixes the input's IR
 * shape instead (HAR's Unsqueeze makes the input [9, 1, 128], KWS's Reshape makes it [250]).
 *
 * Orientation. A 1-D signal is [C, 1, W] in the IR. tf2onnx writes 1-D max pooling as
 * Unsqueeze(axis 3) + MaxPool kernel [k, 1] on [C, W, 1]; [C, W, 1] and [C, 1, W] hold the same
 * data, so a Conv/MaxPool whose input is such a view is lowered with H and W swapped (kernel
 * [1, k]) when its output also keeps a size-1 spatial axis. HAR thus stays [C, 1, W] throughout.
 *
 * Folds. Initializers and Constant nodes are constants; Reshape-like operators and Transpose on
 * constants are evaluated at import. Add(x, constant) right after a Conv, Gemm or MatMul (through
 * views only, with nobody else reading the intermediate) becomes that node's bias when the
 * constant broadcast onto x is constant per output channel. MatMul(x, B) becomes gemm with
 * weight B^T; Gemm honours alpha, beta and transB. The folded node's output takes the name of
 * the Add's output, so every IR tensor named after an ONNX tensor holds exactly its values.
 *
 * Input layout. A Transpose reading the (otherwise unread) network input is folded into the
 * input: `Network.onnxInput` records the ONNX input shape and the permutation, and
 * `toLogicalInput` converts ONNX-layout data (SqueezeNet's NHWC) into the IR's [C, H, W].
 * Any other Transpose that reorders data is rejected.
 *
 * Errors are InputError with one line naming the node and operator. Every attribute is read or
 * rejected (`Attrs.finish`): nothing is ignored silently.
 */
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import onnxProto from 'onnx-proto';
import type { onnx } from 'onnx-proto';
import { InputError } from '../util/errors.js';
import { inferNodeShape, inferShapes, numel, shapeStr, type Network, type Node, type Op, type Shape } from './ir.js';

/* onnx-proto is CommonJS: under Node's ESM loader only its default export (module.exports) exists. */
const { ModelProto } = onnxProto.onnx;

// ---------------------------------------------------------------------------------------------
// Public entry points
// ---------------------------------------------------------------------------------------------

export interface ImportOptions {
  /** Network name; defaults to the file's base name, else the graph's name. */
  readonly name?: string;
}

/** Decode an ONNX model (a file path or its bytes) and lower it to a shape-checked Network. */
export function importOnnx(source: string | Uint8Array, opts: ImportOptions = {}): Network {
  const bytes = typeof source === 'string' ? readModelFile(source) : source;
  const model = decodeModel(bytes);
  const graph = model.graph!;
  const fallbackName = typeof source === 'string' ? basename(source, extname(source)) : graph.name || 'onnx';
  const lowering = new Lowering(opsetOf(model), graph);
  return lowering.finish(opts.name ?? fallbackName, typeof source === 'string' ? source : 'bytes');
}

/**
 * Convert one input given in the ONNX input's layout (batch-free, row-major) into the IR
 * input's logical layout, e.g. SqueezeNet's [32, 32, 3] (HWC) into [3, 32, 32].
 */
export function toLogicalInput(net: Network, data: Float32Array): Float32Array {
  const src = net.onnxInput;
  const expected = numel(src?.shape ?? net.input.shape);
  if (data.length !== expected) {
    throw new InputError(`input of ${net.name} needs ${expected} values, got ${data.length}`);
  }
  if (!src || !src.perm) return Float32Array.from(data);
  return transposeData(data, src.shape, src.perm, new Float32Array(data.length));
}

// ---------------------------------------------------------------------------------------------
// Decoding: bytes -> ModelProto, TensorProto -> Constant, AttributeProto -> Attrs
// ---------------------------------------------------------------------------------------------

function readModelFile(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new InputError(`cannot read ONNX model ${path}: ${(e as Error).message}`);
  }
}

function decodeModel(bytes: Uint8Array): onnx.ModelProto {
  let model: onnx.ModelProto;
  try {
    model = ModelProto.decode(bytes);
  } catch (e) {
    throw new InputError(`not an ONNX model: ${(e as Error).message}`);
  }
  // Protobuf decodes many byte strings "successfully"; an ONNX model must at least have a graph.
  if (!model.graph || (model.graph.node ?? []).length === 0) throw new InputError('not an ONNX model: it has no graph nodes');
  return model;
}

/**
 * The newest ai.onnx opset whose semantics this importer implements. Every supported operator
 * was checked against its versions up to opset 21 (ONNX 1.16): the changes after opset 14 to
 * Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Identity and Constant (19, 21) only add
 * element types. Later opsets are not reviewed here, so a model that declares one is refused
 * rather than imported with possibly different semantics.
 */
export const MAX_ONNX_OPSET = 21;

/** The model's ai.onnx opset version (operator semantics, e.g. Squeeze's axes, depend on it). */
function opsetOf(model: onnx.ModelProto): number {
  const entry = model.opsetImport.find((o) => !o.domain || o.domain === 'ai.onnx');
  if (!entry) throw new InputError('not an ONNX model: it imports no ai.onnx opset');
  const v = toInt(entry.version ?? 0);
  if (v > MAX_ONNX_OPSET) throw new InputError(`the model uses ai.onnx opset ${v}; japari supports opsets up to ${MAX_ONNX_OPSET} (re-export the model with opset <= ${MAX_ONNX_OPSET})`);
  return v;
}

/** protobufjs gives int64 fields as a number or a Long. */
function toInt(v: number | { toNumber(): number }): number {
  return typeof v === 'number' ? v : v.toNumber();
}

type DType = 'float' | 'int';

/** A tensor known at import time, with its full ONNX shape (batch axis included, if any). */
interface Constant {
  readonly kind: 'constant';
  readonly name: string;
  readonly dims: Shape;
  readonly data: Float64Array;
  readonly dtype: DType;
}

/** A run-time tensor: a view (batch-free ONNX `shape`) of the IR tensor `tensor`. */
interface Activation {
  readonly kind: 'activation';
  readonly tensor: string;
  readonly shape: Shape;
}

type Value = Constant | Activation;

/** TensorProto.DataType values (onnx.proto3). */
const DT = { FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, BOOL: 9, DOUBLE: 11 } as const;

function decodeTensor(t: onnx.ITensorProto, where: string): Constant {
  const name = t.name ?? '';
  const what = `${where}: tensor '${name}'`;
  if (t.dataLocation === onnxProto.onnx.TensorProto.DataLocation.EXTERNAL) {
    throw new InputError(`${what} keeps its data in an external file, which is not supported`);
  }
  if (t.segment) throw new InputError(`${what} is segmented, which is not supported`);
  const dims = (t.dims ?? []).map(toInt);
  const n = dims.reduce((a, b) => a * b, 1);
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : null;
  const fromRaw = (size: number, get: (v: DataView, off: number) => number): Float64Array => {
    if (raw!.length !== n * size) throw new InputError(`${what} has ${raw!.length} raw bytes for shape ${shapeStr(dims)}`);
    const view = new DataView(raw!.buffer, raw!.byteOffset, raw!.byteLength);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = get(view, i * size); // raw_data is little-endian (onnx.proto)
    return out;
  };
  let data: Float64Array;
  let dtype: DType = 'int';
  switch (t.dataType) {
    case DT.FLOAT:
      dtype = 'float';
      data = raw ? fromRaw(4, (v, o) => v.getFloat32(o, true)) : Float64Array.from(t.floatData ?? []);
      break;
    case DT.DOUBLE:
      dtype = 'float';
      data = raw ? fromRaw(8, (v, o) => v.getFloat64(o, true)) : Float64Array.from(t.doubleData ?? []);
      break;
    case DT.INT64:
      data = raw ? fromRaw(8, (v, o) => Number(v.getBigInt64(o, true))) : Float64Array.from((t.int64Data ?? []).map(toInt));
      break;
    case DT.INT32:
      data = raw ? fromRaw(4, (v, o) => v.getInt32(o, true)) : Float64Array.from(t.int32Data ?? []);
      break;
    case DT.INT16:
      data = raw ? fromRaw(2, (v, o) => v.getInt16(o, true)) : Float64Array.from(t.int32Data ?? []);
      break;
    case DT.UINT16:
      data = raw ? fromRaw(2, (v, o) => v.getUint16(o, true)) : Float64Array.from(t.int32Data ?? []);
      break;
    case DT.INT8:
      data = raw ? fromRaw(1, (v, o) => v.getInt8(o)) : Float64Array.from(t.int32Data ?? []);
      break;
    case DT.UINT8:
    case DT.BOOL:
      data = raw ? fromRaw(1, (v, o) => v.getUint8(o)) : Float64Array.from(t.int32Data ?? []);
      break;
    default:
      throw new InputError(`${what} has data type ${t.dataType ?? 0}, which is not supported`);
  }
  if (data.length !== n) throw new InputError(`${what} holds ${data.length} values for shape ${shapeStr(dims)}`);
  if (dtype === 'float') {
    // Quantization scales come from max |w|: one NaN or infinity would poison a whole layer.
    let bad = 0;
    let first = -1;
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(data[i]!)) {
        bad++;
        if (first < 0) first = i;
      }
    }
    if (bad > 0) throw new InputError(`${what} holds ${bad} value(s) that are NaN or infinite (first at index ${first}: ${data[first]}); weights must be finite`);
  }
  return { kind: 'constant', name, dims, data, dtype };
}

/** AttributeProto.AttributeType values (onnx.proto3). */
const AT = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;
const AT_NAMES: Record<number, string> = { 1: 'FLOAT', 2: 'INT', 3: 'STRING', 4: 'TENSOR', 5: 'GRAPH', 6: 'FLOATS', 7: 'INTS', 8: 'STRINGS' };

/**
 * A node's attributes. Reading one marks it understood; `finish` rejects any attribute that was
 * never read, so an attribute the importer does not implement is an error, never ignored.
 */
class Attrs {
  private readonly byName = new Map<string, onnx.IAttributeProto>();
  private readonly understood = new Set<string>();

  constructor(
    private readonly where: string,
    list: readonly onnx.IAttributeProto[],
  ) {
    for (const a of list) {
      const name = a.name ?? '';
      if (this.byName.has(name)) throw new InputError(`${where}: attribute ${name} is given twice`);
      this.byName.set(name, a);
    }
  }

  private get(name: string, type: number): onnx.IAttributeProto | undefined {
    const a = this.byName.get(name);
    if (!a) return undefined;
    this.understood.add(name);
    if (a.refAttrName) throw new InputError(`${this.where}: attribute ${name} refers to a function attribute, which is not supported`);
    // IR version 1 models may leave `type` unset (0); then the field we read decides.
    if (a.type && a.type !== type) {
      throw new InputError(`${this.where}: attribute ${name} has type ${AT_NAMES[a.type] ?? a.type}, expected ${AT_NAMES[type]}`);
    }
    return a;
  }

  int(name: string, dflt: number): number {
    const a = this.get(name, AT.INT);
    return a ? toInt(a.i ?? 0) : dflt;
  }

  float(name: string, dflt: number): number {
    const a = this.get(name, AT.FLOAT);
    return a ? (a.f ?? 0) : dflt;
  }

  ints(name: string): number[] | undefined {
    const a = this.get(name, AT.INTS);
    return a ? (a.ints ?? []).map(toInt) : undefined;
  }

  floats(name: string): number[] | undefined {
    const a = this.get(name, AT.FLOATS);
    return a ? [...(a.floats ?? [])] : undefined;
  }

  string(name: string): string | undefined {
    const a = this.get(name, AT.STRING);
    return a ? Buffer.from(a.s ?? new Uint8Array(0)).toString('utf8') : undefined;
  }

  tensor(name: string): onnx.ITensorProto | undefined {
    const a = this.get(name, AT.TENSOR);
    if (a && !a.t) throw new InputError(`${this.where}: attribute ${name} holds no tensor`);
    return a?.t ?? undefined;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** Every attribute must have been understood. */
  finish(): void {
    for (const name of this.byName.keys()) {
      if (!this.understood.has(name)) throw new InputError(`${this.where}: attribute ${name} is not supported`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Shape and data helpers (pure)
// ---------------------------------------------------------------------------------------------

function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Row-major strides of a shape. */
function stridesOf(dims: Shape): number[] {
  const s = new Array<number>(dims.length);
  let acc = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= dims[i]!;
  }
  return s;
}

/** out[i0..] = data[index with axis i taken from input axis perm[i]] (ONNX Transpose). */
function transposeData<T extends Float32Array | Float64Array>(data: T, dims: Shape, perm: readonly number[], out: T): T {
  const inStrides = stridesOf(dims);
  const outDims = perm.map((p) => dims[p]!);
  const step = perm.map((p) => inStrides[p]!);
  const idx = new Array<number>(outDims.length).fill(0);
  for (let o = 0, src = 0; o < out.length; o++) {
    out[o] = data[src]!;
    // Advance the output index like an odometer and move the source offset along.
    for (let a = outDims.length - 1; a >= 0; a--) {
      idx[a]!++;
      src += step[a]!;
      if (idx[a]! < outDims[a]!) break;
      src -= step[a]! * outDims[a]!;
      idx[a] = 0;
    }
  }
  return out;
}

/**
 * Materialise `data` (shape `dims`) broadcast onto `target` by ONNX multidirectional (numpy)
 * broadcasting, or null when that would change the target's shape.
 */
function broadcastTo(dims: Shape, data: Float64Array, target: Shape): Float64Array | null {
  if (dims.length > target.length) return null;
  const lead = target.length - dims.length;
  const src = stridesOf(dims);
  const step = target.map((t, i) => {
    if (i < lead) return 0;
    const d = dims[i - lead]!;
    return d === t ? src[i - lead]! : d === 1 ? 0 : NaN;
  });
  if (step.some((s) => Number.isNaN(s))) return null;
  const out = new Float64Array(numel(target));
  const idx = new Array<number>(target.length).fill(0);
  for (let o = 0, s = 0; o < out.length; o++) {
    out[o] = data[s]!;
    for (let a = target.length - 1; a >= 0; a--) {
      idx[a]!++;
      s += step[a]!;
      if (idx[a]! < target[a]!) break;
      s -= step[a]! * target[a]!;
      idx[a] = 0;
    }
  }
  return out;
}

/** Normalise a possibly negative axis for a tensor of `rank` axes, or null when out of range. */
function normAxis(axis: number, rank: number): number | null {
  const a = axis < 0 ? axis + rank : axis;
  return a >= 0 && a < rank ? a : null;
}

/** A Conv/MaxPool window in 2-D IR form: 1-D windows are H = 1. */
interface Window {
  readonly kernel: readonly [number, number];
  readonly stride: readonly [number, number];
  /** [top, left, bottom, right] */
  readonly pads: readonly [number, number, number, number];
  /** The input's spatial size in this orientation. */
  readonly input: readonly [number, number];
}

/** The same window with H and W exchanged. */
function swapWindow(w: Window): Window {
  return {
    kernel: [w.kernel[1], w.kernel[0]],
    stride: [w.stride[1], w.stride[0]],
    pads: [w.pads[1], w.pads[0], w.pads[3], w.pads[2]],
    input: [w.input[1], w.input[0]],
  };
}

/** Exchange the last two axes of a [outer][a][b] array. */
function swapLastTwo(data: Float64Array, outer: number, a: number, b: number): Float64Array {
  return transposeData(data, [outer, a, b], [0, 2, 1], new Float64Array(data.length));
}

// ---------------------------------------------------------------------------------------------
// Lowering: one pass over the (topologically ordered) ONNX nodes
// ---------------------------------------------------------------------------------------------

/** An IR node under construction: a folded bias may still replace `op` and rename `output`. */
interface Draft {
  readonly name: string;
  op: Op;
  readonly inputs: readonly string[];
  output: string;
}

interface NodeCtx {
  readonly name: string;
  readonly opType: string;
}

function fail(ctx: NodeCtx, msg: string): never {
  throw new InputError(`node ${ctx.name} (${ctx.opType}): ${msg}`);
}

/**
 * The state of one lowering: ONNX values, IR drafts and shapes, views and generated names, with
 * the primitives every operator handler uses (values, layout, emission). The handlers
 * themselves are module functions, one per op_type, dispatched by OP_HANDLERS.
 */
class Lowering {
  /** ONNX tensor name -> what it is. */
  readonly values = new Map<string, Value>();
  /** ONNX tensor name -> number of node inputs reading it. */
  private readonly consumers = new Map<string, number>();
  private readonly graphOutputs: readonly string[];
  private readonly drafts: Draft[] = [];
  /** IR tensor -> the draft producing it. */
  readonly producer = new Map<string, Draft>();
  /** IR tensor -> its IR shape. The network input is absent until its layout is fixed. */
  readonly irShapes = new Map<string, Shape>();
  /** IR tensor -> the ONNX tensors that are views of it. */
  readonly aliases = new Map<string, string[]>();
  /** `${tensor}@${shape}` -> the reshape already emitted for that demand. */
  private readonly reshapes = new Map<string, string>();
  /** Every ONNX tensor name and every IR name handed out, so generated names never collide. */
  readonly takenTensors = new Set<string>();
  private readonly takenNodes = new Set<string>();
  readonly inputName: string;
  readonly inputShape: Shape;
  /** Folded input Transpose: IR input axis i is ONNX input axis inputPerm[i]. */
  inputPerm: number[] | null = null;

  constructor(
    readonly opset: number,
    graph: onnx.IGraphProto,
  ) {
    const nodes = graph.node ?? [];
    for (const t of graph.initializer ?? []) {
      const c = decodeTensor(t, 'initializer');
      this.values.set(c.name, c);
      this.takenTensors.add(c.name);
    }
    if ((graph.sparseInitializer ?? []).length > 0) throw new InputError('sparse initializers are not supported');
    // IR version 3 models (mnist-8) also list their initializers as graph inputs.
    const inputs = (graph.input ?? []).filter((i) => !this.values.has(i.name ?? ''));
    if (inputs.length !== 1) {
      throw new InputError(`the graph has ${inputs.length} run-time inputs (${inputs.map((i) => i.name).join(', ')}); exactly one is supported`);
    }
    const input = inputs[0]!;
    this.inputName = input.name ?? '';
    this.inputShape = batchFreeInputShape(input);
    this.takenTensors.add(this.inputName);
    this.values.set(this.inputName, { kind: 'activation', tensor: this.inputName, shape: this.inputShape });
    this.aliases.set(this.inputName, [this.inputName]);

    this.graphOutputs = (graph.output ?? []).map((o) => o.name ?? '');
    if (this.graphOutputs.length !== 1) throw new InputError(`the graph has ${this.graphOutputs.length} outputs; exactly one is supported`);
    for (const n of nodes) {
      for (const t of n.input ?? []) if (t) this.consumers.set(t, (this.consumers.get(t) ?? 0) + 1);
      for (const t of n.output ?? []) if (t) this.takenTensors.add(t);
    }
    nodes.forEach((n, i) => this.lowerNode(n, i));
  }

  /** Close the graph: fix the input layout if nothing did, name the output, infer shapes. */
  finish(name: string, source: string): Network {
    const outName = this.graphOutputs[0]!;
    const v = this.values.get(outName);
    if (!v) throw new InputError(`graph output ${outName} is never produced`);
    if (v.kind !== 'activation') throw new InputError(`graph output ${outName} is a constant`);
    if (v.tensor === this.inputName) throw new InputError(`graph output ${outName} is the input: the graph computes nothing`);
    let output = v.tensor;
    // The IR output has the ONNX output's batch-free shape, so outputs compare element for element.
    if (!sameShape(this.irShapes.get(v.tensor)!, v.shape)) {
      output = this.emitReshape({ name: `${outName}/reshape`, opType: 'output' }, v.tensor, v.shape, outName);
    }
    const nodes: Node[] = this.drafts.map((d) => ({ name: d.name, op: d.op, inputs: d.inputs, output: d.output }));
    return inferShapes({
      name,
      input: { name: this.inputName, shape: this.irShapes.get(this.inputName)! },
      nodes,
      output,
      source,
      onnxInput: { name: this.inputName, shape: this.inputShape, perm: this.inputPerm },
    });
  }

  // -- values ----------------------------------------------------------------------------------

  private value(ctx: NodeCtx, name: string): Value {
    const v = this.values.get(name);
    if (!v) fail(ctx, `input '${name}' is neither an initializer, a Constant, nor the output of an earlier node`);
    return v;
  }

  activation(ctx: NodeCtx, v: Value | null, role: string): Activation {
    if (!v) fail(ctx, `input ${role} is missing`);
    if (v.kind !== 'activation') fail(ctx, `input ${role} ('${v.name}') is a constant; ${ctx.opType} of constants is not supported`);
    return v;
  }

  constant(ctx: NodeCtx, v: Value | null, role: string, dtype: DType): Constant {
    if (!v) fail(ctx, `input ${role} is missing`);
    if (v.kind !== 'constant') fail(ctx, `input ${role} must be a constant (an initializer or Constant), it is computed at run time`);
    if (v.dtype !== dtype) fail(ctx, `input ${role} ('${v.name}') must be a ${dtype} tensor`);
    return v;
  }

  setConstant(out: string, dims: Shape, data: Float64Array, dtype: DType): void {
    this.values.set(out, { kind: 'constant', name: out, dims, data, dtype });
  }

  /** ONNX tensor `out` is a view of IR tensor `tensor` with batch-free shape `shape`. */
  setView(out: string, tensor: string, shape: Shape): void {
    this.values.set(out, { kind: 'activation', tensor, shape });
    this.aliases.get(tensor)!.push(out);
  }

  /**
   * True when the data of IR tensor `tensor` flows along one chain only: every ONNX tensor
   * viewing it has exactly one reader and none is a graph output. Then the next node may
   * rewrite how the tensor is produced (fold a bias into it, transpose the input).
   */
  isPrivateChain(tensor: string): boolean {
    return this.aliases.get(tensor)!.every((n) => this.consumers.get(n) === 1 && !this.graphOutputs.includes(n));
  }

  // -- layout ----------------------------------------------------------------------------------

  /** The IR shape of `a`'s tensor; a still-open input layout is fixed to its natural IR shape. */
  layoutOf(ctx: NodeCtx, a: Activation): Shape {
    const cur = this.irShapes.get(a.tensor);
    if (cur) return cur;
    const shape = naturalIrShape(ctx, a.shape);
    this.irShapes.set(a.tensor, shape);
    return shape;
  }

  /** An IR tensor holding `a` in IR shape `want`: `a`'s own, or a (shared) reshape of it. */
  demand(ctx: NodeCtx, a: Activation, want: Shape): string {
    const cur = this.irShapes.get(a.tensor);
    if (!cur) {
      this.irShapes.set(a.tensor, want); // the network input takes the first layout asked of it
      return a.tensor;
    }
    if (sameShape(cur, want)) return a.tensor;
    const key = `${a.tensor}@${shapeStr(want)}`;
    const done = this.reshapes.get(key);
    if (done) return done;
    const out = this.emitReshape({ name: `${ctx.name}/reshape`, opType: ctx.opType }, a.tensor, want, `${a.tensor}/${want.join('x')}`);
    this.reshapes.set(key, out);
    return out;
  }

  // -- emission --------------------------------------------------------------------------------

  private fresh(taken: Set<string>, base: string): string {
    let name = base;
    for (let k = 1; taken.has(name); k++) name = `${base}_${k}`;
    taken.add(name);
    return name;
  }

  /** Append an IR node; its output is IR tensor `output` with the shape ir.ts infers. */
  private emit(nodeName: string, op: Op, inputs: readonly string[], output: string): Draft {
    const draft: Draft = { name: nodeName, op, inputs, output };
    const node: Node = { name: nodeName, op, inputs, output };
    const shape = inferNodeShape(node, inputs.map((t) => this.irShapes.get(t)!));
    this.drafts.push(draft);
    this.producer.set(output, draft);
    this.irShapes.set(output, shape);
    if (!this.aliases.has(output)) this.aliases.set(output, []);
    return draft;
  }

  private emitReshape(ctx: NodeCtx, from: string, shape: Shape, outBase: string): string {
    const out = this.fresh(this.takenTensors, outBase);
    this.emit(this.fresh(this.takenNodes, ctx.name), { kind: 'reshape', shape }, [from], out);
    return out;
  }

  /** Emit the IR node for ONNX node `ctx` producing ONNX tensor `out` (also the IR tensor's name). */
  emitFor(ctx: NodeCtx, op: Op, inputs: readonly string[], out: string, view?: (ir: Shape) => Shape): void {
    this.emit(ctx.name, op, inputs, out);
    this.aliases.get(out)!.push(out);
    const ir = this.irShapes.get(out)!;
    this.values.set(out, { kind: 'activation', tensor: out, shape: view ? view(ir) : ir });
  }

  // -- nodes -----------------------------------------------------------------------------------

  private lowerNode(node: onnx.INodeProto, index: number): void {
    const opType = node.opType ?? '';
    const name = this.fresh(this.takenNodes, node.name || `${opType}_${index}`);
    const ctx: NodeCtx = { name, opType };
    if (node.domain && node.domain !== 'ai.onnx') fail(ctx, `operator domain '${node.domain}' is not supported`);
    const outputs = node.output ?? [];
    const out = outputs[0];
    if (!out) fail(ctx, 'the node has no output');
    outputs.slice(1).forEach((extra, k) => {
      if (extra && ((this.consumers.get(extra) ?? 0) > 0 || this.graphOutputs.includes(extra))) {
        fail(ctx, `output #${k + 1} ('${extra}') is used; only the first output is supported`);
      }
    });
    const attrs = new Attrs(`node ${name} (${opType})`, node.attribute ?? []);
    const ins = (node.input ?? []).map((t) => (t ? this.value(ctx, t) : null));
    this.lowerOp(ctx, attrs, ins, out);
    attrs.finish();
  }

  private lowerOp(ctx: NodeCtx, attrs: Attrs, ins: readonly (Value | null)[], out: string): void {
    const handler = OP_HANDLERS.get(ctx.opType);
    if (!handler) fail(ctx, `operator ${ctx.opType} is not supported`);
    handler(this, ctx, attrs, ins, out);
  }
}

// ---------------------------------------------------------------------------------------------
// Operator handlers: one per ONNX op_type, dispatched by OP_HANDLERS
// ---------------------------------------------------------------------------------------------

/** Lowers one ONNX node (its input count not yet checked) into `g`. */
type OpHandler = (g: Lowering, ctx: NodeCtx, attrs: Attrs, ins: readonly (Value | null)[], out: string) => void;

function arity(ctx: NodeCtx, ins: readonly (Value | null)[], min: number, max = min): void {
  if (ins.length < min || ins.length > max) fail(ctx, `expects ${min === max ? min : `${min}..${max}`} inputs, got ${ins.length}`);
}

/** The supported ai.onnx operators. */
const OP_HANDLERS = new Map<string, OpHandler>([
  ['Constant', (g, ctx, attrs, ins, out) => (arity(ctx, ins, 0), lowerConstant(g, ctx, attrs, out))],
  ['Identity', (g, ctx, _attrs, ins, out) => (arity(ctx, ins, 1), reshapeLike(g, ctx, ins[0]!, out, (full) => full))],
  ['Dropout', (g, ctx, attrs, ins, out) => (arity(ctx, ins, 1, 3), lowerDropout(g, ctx, attrs, ins, out))],
  ['Reshape', lowerReshape],
  ['Flatten', lowerFlatten],
  ['Squeeze', lowerSqueeze],
  ['Unsqueeze', lowerUnsqueeze],
  ['Transpose', (g, ctx, attrs, ins, out) => (arity(ctx, ins, 1), lowerTranspose(g, ctx, attrs, ins[0]!, out))],
  ['Conv', (g, ctx, attrs, ins, out) => (arity(ctx, ins, 2, 3), lowerConv(g, ctx, attrs, ins, out))],
  ['MaxPool', (g, ctx, attrs, ins, out) => (arity(ctx, ins, 1), lowerMaxPool(g, ctx, attrs, ins[0]!, out))],
  ['GlobalAveragePool', (g, ctx, _attrs, ins, out) => (arity(ctx, ins, 1), lowerGap(g, ctx, ins[0]!, out))],
  ['Relu', lowerRelu],
  ['Softmax', (g, ctx, attrs, ins, out) => (arity(ctx, ins, 1), lowerSoftmax(g, ctx, attrs, ins[0]!, out))],
  ['Add', (g, ctx, _attrs, ins, out) => (arity(ctx, ins, 2), lowerAdd(g, ctx, ins[0]!, ins[1]!, out))],
  ['Concat', lowerConcat],
  ['MatMul', (g, ctx, _attrs, ins, out) => (arity(ctx, ins, 2), lowerMatMul(g, ctx, ins[0]!, ins[1]!, out))],
  ['Gemm', (g, ctx, attrs, ins, out) => (arity(ctx, ins, 2, 3), lowerGemm(g, ctx, attrs, ins, out))],
]);

function lowerReshape(g: Lowering, ctx: NodeCtx, attrs: Attrs, ins: readonly (Value | null)[], out: string): void {
  arity(ctx, ins, 2);
  const target = [...g.constant(ctx, ins[1]!, 'shape', 'int').data];
  // allowzero (opset 14): 1 makes a 0 in the target a real zero-size axis.
  const allowZero = attrs.int('allowzero', 0) !== 0;
  reshapeLike(g, ctx, ins[0]!, out, (full) => resolveReshape(ctx, full, target, allowZero));
}

function lowerFlatten(g: Lowering, ctx: NodeCtx, attrs: Attrs, ins: readonly (Value | null)[], out: string): void {
  arity(ctx, ins, 1);
  const axis = attrs.int('axis', 1);
  reshapeLike(g, ctx, ins[0]!, out, (full) => {
    const a = axis < 0 ? axis + full.length : axis;
    if (a < 0 || a > full.length) fail(ctx, `axis=${axis} is out of range for rank ${full.length}`);
    return [numel(full.slice(0, a)), numel(full.slice(a))];
  });
}

function lowerSqueeze(g: Lowering, ctx: NodeCtx, attrs: Attrs, ins: readonly (Value | null)[], out: string): void {
  // axes: an attribute before opset 13, an optional input from 13 on.
  const axes = g.opset >= 13 ? (arity(ctx, ins, 1, 2), optionalInts(g, ctx, ins[1], 'axes')) : (arity(ctx, ins, 1), attrs.ints('axes'));
  reshapeLike(g, ctx, ins[0]!, out, (full, batched) => squeezeShape(ctx, full, axes, batched));
}

function lowerUnsqueeze(g: Lowering, ctx: NodeCtx, attrs: Attrs, ins: readonly (Value | null)[], out: string): void {
  const axes = g.opset >= 13 ? (arity(ctx, ins, 2), optionalInts(g, ctx, ins[1], 'axes')) : (arity(ctx, ins, 1), attrs.ints('axes'));
  if (!axes) fail(ctx, 'axes are required');
  reshapeLike(g, ctx, ins[0]!, out, (full, batched) => unsqueezeShape(ctx, full, axes, batched));
}

function lowerRelu(g: Lowering, ctx: NodeCtx, _attrs: Attrs, ins: readonly (Value | null)[], out: string): void {
  arity(ctx, ins, 1);
  const x = g.activation(ctx, ins[0]!, 'X');
  g.layoutOf(ctx, x);
  g.emitFor(ctx, { kind: 'relu' }, [x.tensor], out, () => x.shape);
}

function optionalInts(g: Lowering, ctx: NodeCtx, v: Value | null | undefined, role: string): number[] | undefined {
  return v ? [...g.constant(ctx, v, role, 'int').data] : undefined;
}

function lowerConstant(g: Lowering, ctx: NodeCtx, attrs: Attrs, out: string): void {
  const t = attrs.tensor('value');
  const f = attrs.float('value_float', NaN);
  const fs = attrs.floats('value_floats');
  const i = attrs.has('value_int') ? attrs.int('value_int', 0) : undefined;
  const is = attrs.ints('value_ints');
  // Any other value_* attribute (sparse_value, value_string(s)) is left unread: finish() rejects it.
  if (t) {
    const c = decodeTensor(t, `node ${ctx.name} (Constant)`);
    return g.setConstant(out, c.dims, c.data, c.dtype);
  }
  if (!Number.isNaN(f)) return g.setConstant(out, [], Float64Array.of(f), 'float');
  if (fs) return g.setConstant(out, [fs.length], Float64Array.from(fs), 'float');
  if (i !== undefined) return g.setConstant(out, [], Float64Array.of(i), 'int');
  if (is) return g.setConstant(out, [is.length], Float64Array.from(is), 'int');
  if (!attrs.has('sparse_value') && !attrs.has('value_string') && !attrs.has('value_strings')) fail(ctx, 'no value attribute');
}

/** Dropout at inference is the identity (Operators.md, Dropout: "Y = X" when not training). */
function lowerDropout(g: Lowering, ctx: NodeCtx, attrs: Attrs, ins: readonly (Value | null)[], out: string): void {
  attrs.float('ratio', 0.5); // irrelevant at inference
  attrs.int('seed', 0); // opset 12: irrelevant at inference
  if (attrs.has('is_test') && attrs.int('is_test', 1) === 0) fail(ctx, 'is_test=0 (training mode) is not supported');
  const training = ins[2];
  if (training) {
    const t = g.constant(ctx, training, 'training_mode', 'int');
    if (t.data.some((v) => v !== 0)) fail(ctx, 'training_mode=true is not supported');
  }
  if (ins[1] && ins[1].kind !== 'constant') fail(ctx, 'input ratio must be a constant');
  reshapeLike(g, ctx, ins[0]!, out, (full) => full);
}

/**
 * A data-order-preserving operator: on a constant it is evaluated; on an activation it makes a
 * view. `shapeOf` maps the full input shape to the full output shape; for activations the full
 * shape is [1, ...batch-free] (`batched` = true) and the batch axis must stay in front.
 */
function reshapeLike(g: Lowering, ctx: NodeCtx, v: Value | null, out: string, shapeOf: (full: Shape, batched: boolean) => Shape): void {
  if (!v) fail(ctx, 'input data is missing');
  if (v.kind === 'constant') return g.setConstant(out, shapeOf(v.dims, false), v.data, v.dtype);
  const full = [1, ...v.shape];
  const res = shapeOf(full, true);
  if (res.length === 0 || res[0] !== 1) {
    fail(ctx, `${shapeStr(full)} -> ${shapeStr(res)} does not keep the batch axis first`);
  }
  g.setView(out, v.tensor, res.slice(1));
}

function lowerTranspose(g: Lowering, ctx: NodeCtx, attrs: Attrs, v: Value, out: string): void {
  const rank = v.kind === 'constant' ? v.dims.length : v.shape.length + 1;
  const perm = attrs.ints('perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
  if (perm.length !== rank || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
    fail(ctx, `perm=[${perm}] is not a permutation of ${rank} axes`);
  }
  if (v.kind === 'constant') {
    const data = transposeData(v.data, v.dims, perm, new Float64Array(v.data.length));
    return g.setConstant(out, perm.map((p) => v.dims[p]!), data, v.dtype);
  }
  if (perm[0] !== 0) fail(ctx, `perm=[${perm}] moves the batch axis`);
  const bf = perm.slice(1).map((p) => p - 1);
  const shape = bf.map((p) => v.shape[p]!);
  // Moving only size-1 axes keeps the data order: a view.
  const moved = bf.filter((p) => v.shape[p] !== 1);
  if (moved.every((p, i) => i === 0 || moved[i - 1]! < p)) return g.setView(out, v.tensor, shape);
  // A transpose of the input that nothing else reads is folded into the input layout.
  const foldable =
    v.tensor === g.inputName &&
    !g.irShapes.has(g.inputName) &&
    g.inputPerm === null &&
    sameShape(v.shape, g.inputShape) &&
    g.isPrivateChain(g.inputName);
  if (!foldable) fail(ctx, `perm=[${perm}] reorders the data; only a transpose of the network input can be folded`);
  g.inputPerm = bf;
  g.setView(out, v.tensor, shape);
}

/** Window attributes shared by Conv and MaxPool (auto_pad, pads, strides, dilations). */
function window(ctx: NodeCtx, attrs: Attrs, kernel: readonly number[], spatialIn: readonly number[]): Window {
  const r = kernel.length;
  if (r !== 1 && r !== 2) fail(ctx, `${r}-D windows are not supported`);
  if (spatialIn.length !== r) fail(ctx, `input of spatial rank ${spatialIn.length} does not match a ${r}-D kernel`);
  const strides = attrs.ints('strides') ?? new Array<number>(r).fill(1);
  if (strides.length !== r || strides.some((s) => s < 1)) fail(ctx, `strides=[${strides}] is invalid`);
  const dil = attrs.ints('dilations');
  if (dil && dil.some((d) => d !== 1)) fail(ctx, `dilations=[${dil}] is not supported`);
  const autoPad = attrs.string('auto_pad') ?? 'NOTSET';
  let pads = attrs.ints('pads');
  if (pads && (pads.length !== 2 * r || pads.some((p) => p < 0))) fail(ctx, `pads=[${pads}] is invalid`);
  switch (autoPad) {
    case 'NOTSET':
      pads ??= new Array<number>(2 * r).fill(0);
      break;
    case 'VALID':
      if (pads && pads.some((p) => p !== 0)) fail(ctx, `auto_pad=VALID with pads=[${pads}]`);
      pads = new Array<number>(2 * r).fill(0);
      break;
    case 'SAME_UPPER':
    case 'SAME_LOWER': {
      if (pads && pads.some((p) => p !== 0)) fail(ctx, `auto_pad=${autoPad} with explicit pads=[${pads}]`);
      // Operators.md (Conv, auto_pad): output = ceil(input / stride); the total padding is
      // split evenly, the odd unit at the end (SAME_UPPER) or at the beginning (SAME_LOWER).
      const begin: number[] = [];
      const end: number[] = [];
      for (let i = 0; i < r; i++) {
        const outDim = Math.ceil(spatialIn[i]! / strides[i]!);
        const total = Math.max(0, (outDim - 1) * strides[i]! + kernel[i]! - spatialIn[i]!);
        const small = Math.floor(total / 2);
        begin.push(autoPad === 'SAME_UPPER' ? small : total - small);
        end.push(autoPad === 'SAME_UPPER' ? total - small : small);
      }
      pads = [...begin, ...end];
      break;
    }
    default:
      fail(ctx, `auto_pad=${autoPad} is not supported`);
  }
  // ONNX pads are [x1_begin, x2_begin, ..., x1_end, x2_end]; the IR's are [top, left, bottom, right].
  if (r === 1) {
    return { kernel: [1, kernel[0]!], stride: [1, strides[0]!], pads: [0, pads[0]!, 0, pads[1]!], input: [1, spatialIn[0]!] };
  }
  return {
    kernel: [kernel[0]!, kernel[1]!],
    stride: [strides[0]!, strides[1]!],
    pads: [pads[0]!, pads[1]!, pads[2]!, pads[3]!],
    input: [spatialIn[0]!, spatialIn[1]!],
  };
}

/**
 * Emit a windowed op (Conv/MaxPool) over `x` with `channels` channels. `build` makes the op
 * for a window orientation (`swapped`: H and W exchanged, see the header's "Orientation").
 * The ONNX output is a view in the ONNX orientation, rank `spatial` + 1.
 */
function emitWindowed(
  g: Lowering,
  ctx: NodeCtx,
  x: Activation,
  channels: number,
  win: Window,
  spatial: number,
  build: (w: Window, swapped: boolean) => Op,
  out: string,
): void {
  const cur = g.irShapes.get(x.tensor);
  const [h, w] = win.input;
  const want: Shape = [channels, h, w];
  let swapped = false;
  if (cur && !sameShape(cur, want) && sameShape(cur, [channels, w, h]) && (h === 1 || w === 1)) {
    const op = build(swapWindow(win), true);
    const probe = inferNodeShape({ name: ctx.name, op, inputs: [x.tensor], output: out }, [cur]);
    swapped = probe[1] === 1 || probe[2] === 1; // the output keeps one order for both orientations
  }
  const input = swapped ? x.tensor : g.demand(ctx, x, want);
  const op = build(swapped ? swapWindow(win) : win, swapped);
  g.emitFor(ctx, op, [input], out, (ir) => {
    const [c, oh, ow] = swapped ? [ir[0]!, ir[2]!, ir[1]!] : [ir[0]!, ir[1]!, ir[2]!];
    return spatial === 1 ? [c, ow] : [c, oh, ow];
  });
}

function lowerConv(g: Lowering, ctx: NodeCtx, attrs: Attrs, ins: readonly (Value | null)[], out: string): void {
  const x = g.activation(ctx, ins[0]!, 'X');
  const w = g.constant(ctx, ins[1]!, 'W', 'float');
  const b = ins[2] ? g.constant(ctx, ins[2], 'B', 'float') : null;
  const group = attrs.int('group', 1);
  if (group !== 1) fail(ctx, `group=${group} is not supported`);
  const [oc, ic, ...kernel] = w.dims as number[];
  if (oc === undefined || ic === undefined || kernel.length < 1) fail(ctx, `weight shape ${shapeStr(w.dims)} is not [M, C, k...]`);
  const ks = attrs.ints('kernel_shape');
  if (ks && !sameShape(ks, kernel)) fail(ctx, `kernel_shape=[${ks}] disagrees with weight shape ${shapeStr(w.dims)}`);
  if (x.shape[0] !== ic) fail(ctx, `input ${shapeStr(x.shape)} has ${x.shape[0]} channels, the weight expects ${ic}`);
  if (b && b.data.length !== oc) fail(ctx, `bias has ${b.data.length} values for ${oc} output channels`);
  const win = window(ctx, attrs, kernel, x.shape.slice(1));
  const bias = b ? Float32Array.from(b.data) : null;
  emitWindowed(g, 
    ctx,
    x,
    ic,
    win,
    kernel.length,
    (wn, swapped) => ({
      kind: 'conv',
      weight: Float32Array.from(swapped ? swapLastTwo(w.data, oc * ic, wn.kernel[1], wn.kernel[0]) : w.data),
      bias,
      outChannels: oc,
      kernel: wn.kernel,
      stride: wn.stride,
      pads: wn.pads,
    }),
    out,
  );
}

function lowerMaxPool(g: Lowering, ctx: NodeCtx, attrs: Attrs, v: Value, out: string): void {
  const x = g.activation(ctx, v, 'X');
  const kernel = attrs.ints('kernel_shape');
  if (!kernel) fail(ctx, 'kernel_shape is required');
  const ceil = attrs.int('ceil_mode', 0);
  if (ceil !== 0) fail(ctx, `ceil_mode=${ceil} is not supported`);
  // storage_order only affects the Indices output, which lowerNode already refuses when used.
  const order = attrs.int('storage_order', 0);
  if (order !== 0) fail(ctx, `storage_order=${order} is not supported`);
  const win = window(ctx, attrs, kernel, x.shape.slice(1));
  emitWindowed(g, ctx, x, x.shape[0]!, win, kernel.length, (wn) => ({ kind: 'maxpool', kernel: wn.kernel, stride: wn.stride, pads: wn.pads }), out);
}

function lowerGap(g: Lowering, ctx: NodeCtx, v: Value, out: string): void {
  const x = g.activation(ctx, v, 'X');
  if (x.shape.length !== 2 && x.shape.length !== 3) fail(ctx, `input ${shapeStr(x.shape)} is not [C, W] or [C, H, W]`);
  const c = x.shape[0]!;
  // The mean over all positions of a channel does not care how they are laid out.
  const cur = g.irShapes.get(x.tensor);
  const input = cur && cur.length === 3 && cur[0] === c ? x.tensor : g.demand(ctx, x, naturalIrShape(ctx, x.shape));
  g.emitFor(ctx, { kind: 'gap' }, [input], out, () => x.shape.map((d, i) => (i === 0 ? d : 1)));
}

/**
 * Softmax over all batch-free elements. Before opset 13 the input is coerced to 2-D at `axis`
 * (default 1), so axis 1 means all of them; from 13 on it is over one axis (default -1),
 * which equals all of them when every other batch-free axis has size 1.
 */
function lowerSoftmax(g: Lowering, ctx: NodeCtx, attrs: Attrs, v: Value, out: string): void {
  const x = g.activation(ctx, v, 'X');
  const rank = x.shape.length + 1;
  const axis = attrs.int('axis', g.opset >= 13 ? -1 : 1);
  const a = normAxis(axis, rank);
  if (a === null || a === 0) fail(ctx, `axis=${axis} is not supported`);
  if (g.opset >= 13 && x.shape.some((d, i) => i !== a - 1 && d !== 1)) {
    fail(ctx, `axis=${axis} on ${shapeStr(x.shape)} is a softmax over part of the tensor, which is not supported`);
  }
  g.layoutOf(ctx, x);
  g.emitFor(ctx, { kind: 'softmax' }, [x.tensor], out, () => x.shape);
}

function lowerAdd(g: Lowering, ctx: NodeCtx, a: Value, b: Value, out: string): void {
  if (a.kind === 'activation' && b.kind === 'activation') {
    if (!sameShape(a.shape, b.shape)) fail(ctx, `broadcasting Add of ${shapeStr(a.shape)} and ${shapeStr(b.shape)} is not supported`);
    const shape = g.layoutOf(ctx, a);
    const bt = g.demand(ctx, b, shape);
    return g.emitFor(ctx, { kind: 'add' }, [a.tensor, bt], out, () => a.shape);
  }
  if (a.kind === 'activation' && b.kind === 'constant') return foldBias(g, ctx, a, b, out);
  if (a.kind === 'constant' && b.kind === 'activation') return foldBias(g, ctx, b, a, out);
  fail(ctx, 'Add of two constants is not supported');
}

/** Add(x, c) after a Conv/Gemm becomes (part of) that node's bias; see the header's "Folds". */
function foldBias(g: Lowering, ctx: NodeCtx, x: Activation, c: Constant, out: string): void {
  const p = g.producer.get(x.tensor);
  const op = p?.op;
  if (!p || !op || (op.kind !== 'conv' && op.kind !== 'gemm')) {
    fail(ctx, `Add of the constant '${c.name}' is supported only as the bias of a directly preceding Conv, Gemm or MatMul`);
  }
  if (!g.isPrivateChain(x.tensor)) fail(ctx, `cannot fold '${c.name}' into ${p.name}: its output is also read elsewhere`);
  if (c.dtype !== 'float') fail(ctx, `constant '${c.name}' is not a float tensor`);
  const full = [1, ...x.shape];
  const bc = broadcastTo(c.dims, c.data, full);
  if (!bc) fail(ctx, `constant '${c.name}' ${shapeStr(c.dims)} does not broadcast onto ${shapeStr(full)}`);
  const channels = op.kind === 'conv' ? op.outChannels : op.outFeatures;
  const per = bc.length / channels;
  const bias = new Float32Array(channels);
  for (let ch = 0; ch < channels; ch++) {
    const v = bc[ch * per]!;
    for (let j = 1; j < per; j++) {
      if (bc[ch * per + j] !== v) fail(ctx, `constant '${c.name}' ${shapeStr(c.dims)} is not constant per channel of ${p.name}`);
    }
    bias[ch] = (op.bias?.[ch] ?? 0) + v;
  }
  p.op = op.kind === 'conv' ? { ...op, bias } : { ...op, bias };
  // Rename the IR tensor after the Add's output: it now holds the Add's values.
  const old = p.output;
  if (g.takenTensors.has(out) && g.irShapes.has(out)) fail(ctx, `output '${out}' is produced twice`);
  p.output = out;
  g.producer.delete(old);
  g.producer.set(out, p);
  g.irShapes.set(out, g.irShapes.get(old)!);
  g.irShapes.delete(old);
  g.aliases.set(out, [...g.aliases.get(old)!, out]);
  g.aliases.delete(old);
  g.values.set(out, { kind: 'activation', tensor: out, shape: x.shape });
}

function lowerConcat(g: Lowering, ctx: NodeCtx, attrs: Attrs, ins: readonly (Value | null)[], out: string): void {
  if (ins.length < 2) fail(ctx, `expects at least 2 inputs, got ${ins.length}`);
  const xs = ins.map((v, i) => g.activation(ctx, v, `#${i}`));
  const rank = xs[0]!.shape.length;
  if (xs.some((x) => x.shape.length !== rank)) fail(ctx, 'inputs differ in rank');
  const axis = attrs.int('axis', NaN);
  if (Number.isNaN(axis)) fail(ctx, 'axis is required');
  if (normAxis(axis, rank + 1) !== 1) fail(ctx, `axis=${axis} is not the channel axis (only channel concatenation is supported)`);
  const inputs = xs.map((x) => g.demand(ctx, x, naturalIrShape(ctx, x.shape, true)));
  const channels = xs.reduce((s, x) => s + x.shape[0]!, 0);
  g.emitFor(ctx, { kind: 'concat' }, inputs, out, () => [channels, ...xs[0]!.shape.slice(1)]);
}

/** MatMul(x, B) with x [K] (batch-free) and a constant B [K, N]: gemm with weight B^T. */
function lowerMatMul(g: Lowering, ctx: NodeCtx, a: Value, b: Value, out: string): void {
  const x = g.activation(ctx, a, 'A');
  const w = g.constant(ctx, b, 'B', 'float');
  if (x.shape.length !== 1) fail(ctx, `input A ${shapeStr(x.shape)} (batch-free) is not a vector; batched MatMul is not supported`);
  if (w.dims.length !== 2 || w.dims[0] !== x.shape[0]) fail(ctx, `B ${shapeStr(w.dims)} does not match A with ${x.shape[0]} features`);
  const [k, n] = w.dims as [number, number];
  const weight = Float32Array.from(transposeData(w.data, [k, n], [1, 0], new Float64Array(k * n)));
  const input = g.demand(ctx, x, [k]);
  g.emitFor(ctx, { kind: 'gemm', weight, bias: null, outFeatures: n }, [input], out);
}

/** Gemm: Y = alpha * A' * B' + beta * C (Operators.md, Gemm), A being the batch-free row. */
function lowerGemm(g: Lowering, ctx: NodeCtx, attrs: Attrs, ins: readonly (Value | null)[], out: string): void {
  const x = g.activation(ctx, ins[0]!, 'A');
  const b = g.constant(ctx, ins[1]!, 'B', 'float');
  const c = ins[2] ? g.constant(ctx, ins[2], 'C', 'float') : null;
  const transA = attrs.int('transA', 0);
  if (transA !== 0) fail(ctx, `transA=${transA} is not supported (it would put the batch axis second)`);
  const transB = attrs.int('transB', 0);
  const alpha = attrs.float('alpha', 1);
  const beta = attrs.float('beta', 1);
  if (x.shape.length !== 1) fail(ctx, `input A ${shapeStr(x.shape)} (batch-free) is not a vector`);
  if (b.dims.length !== 2) fail(ctx, `B ${shapeStr(b.dims)} is not a matrix`);
  const k = x.shape[0]!;
  const [n, kb] = transB ? [b.dims[0]!, b.dims[1]!] : [b.dims[1]!, b.dims[0]!];
  if (kb !== k) fail(ctx, `B ${shapeStr(b.dims)} (transB=${transB}) does not match A with ${k} features`);
  const nk = transB ? b.data : transposeData(b.data, [k, n], [1, 0], new Float64Array(k * n));
  const weight = Float32Array.from(nk, (v) => alpha * v);
  let bias: Float32Array | null = null;
  if (c) {
    const bc = broadcastTo(c.dims, c.data, [1, n]);
    if (!bc) fail(ctx, `C ${shapeStr(c.dims)} does not broadcast onto [1, ${n}]`);
    bias = Float32Array.from(bc, (v) => beta * v);
  }
  const input = g.demand(ctx, x, [k]);
  g.emitFor(ctx, { kind: 'gemm', weight, bias, outFeatures: n }, [input], out);
}

// ---------------------------------------------------------------------------------------------
// Shape rules of the reshape-like operators (full shapes, batch axis included)
// ---------------------------------------------------------------------------------------------

/** The batch-free shape of the graph input; axis 0 is the batch (symbolic or 1). */
function batchFreeInputShape(input: onnx.IValueInfoProto): Shape {
  const name = input.name ?? '';
  const tt = input.type?.tensorType;
  if (!tt) throw new InputError(`input ${name} is not a tensor`);
  if (tt.elemType !== DT.FLOAT) throw new InputError(`input ${name} has element type ${tt.elemType ?? 0}; only float is supported`);
  const dims = tt.shape?.dim ?? [];
  if (!tt.shape || dims.length < 2) throw new InputError(`input ${name} has no [N, ...] shape (dynamic or unbatched input shapes are not supported)`);
  const batch = dims[0]!;
  if (!batch.dimParam && batch.dimValue != null && toInt(batch.dimValue) > 1) {
    throw new InputError(`input ${name} has a fixed batch of ${toInt(batch.dimValue)}; the IR runs one sample (batch 1)`);
  }
  return dims.slice(1).map((d, i) => {
    const v = d.dimValue != null ? toInt(d.dimValue) : 0;
    if (d.dimParam || v < 1) throw new InputError(`input ${name} axis ${i + 1} is dynamic ('${d.dimParam ?? '?'}'); its size must be fixed`);
    return v;
  });
}

/** The IR shape a batch-free tensor takes by default: [N], [C, H, W], or [C, 1, W] for [C, W]. */
function naturalIrShape(ctx: NodeCtx, shape: Shape, alwaysMap = false): Shape {
  if (shape.length === 3) return shape;
  if (shape.length === 2) return [shape[0]!, 1, shape[1]!];
  if (shape.length === 1) return alwaysMap ? [shape[0]!, 1, 1] : shape;
  return fail(ctx, `a tensor of shape ${shapeStr(shape)} (batch-free) cannot be represented`);
}

/** Reshape's target (Operators.md, Reshape): 0 copies the input axis (unless allowzero), -1 is inferred. */
function resolveReshape(ctx: NodeCtx, full: Shape, target: readonly number[], allowZero: boolean): Shape {
  const total = numel(full);
  const out = target.map((d, i) => {
    if (d === 0 && !allowZero) {
      if (i >= full.length) fail(ctx, `target [${target}] copies axis ${i}, which the input ${shapeStr(full)} lacks`);
      return full[i]!;
    }
    if (d < -1) fail(ctx, `target [${target}] has an invalid entry ${d}`);
    return d;
  });
  const inferred = out.filter((d) => d === -1).length;
  if (inferred > 1) fail(ctx, `target [${target}] has more than one -1`);
  if (inferred === 1) {
    const known = out.reduce((p, d) => (d === -1 ? p : p * d), 1);
    if (known === 0 || total % known !== 0) fail(ctx, `cannot reshape ${shapeStr(full)} to [${target}]`);
    out[out.indexOf(-1)] = total / known;
  }
  if (numel(out) !== total) fail(ctx, `cannot reshape ${shapeStr(full)} to [${target}]`);
  return out;
}

function squeezeShape(ctx: NodeCtx, full: Shape, axes: readonly number[] | undefined, batched: boolean): Shape {
  if (!axes) return full.filter((d, i) => d !== 1 || (batched && i === 0)); // never squeeze the batch
  const drop = new Set<number>();
  for (const ax of axes) {
    const a = normAxis(ax, full.length);
    if (a === null) fail(ctx, `axis ${ax} is out of range for rank ${full.length}`);
    if (batched && a === 0) fail(ctx, 'squeezing the batch axis is not supported');
    if (full[a] !== 1) fail(ctx, `axis ${ax} of ${shapeStr(full)} has size ${full[a]}, not 1`);
    drop.add(a);
  }
  return full.filter((_, i) => !drop.has(i));
}

function unsqueezeShape(ctx: NodeCtx, full: Shape, axes: readonly number[], batched: boolean): Shape {
  const rank = full.length + axes.length;
  const ins = new Set<number>();
  for (const ax of axes) {
    const a = normAxis(ax, rank);
    if (a === null || ins.has(a)) fail(ctx, `axes [${axes}] are invalid for output rank ${rank}`);
    if (batched && a === 0) fail(ctx, 'inserting an axis before the batch axis is not supported');
    ins.add(a);
  }
  const out: number[] = [];
  let j = 0;
  for (let i = 0; i < rank; i++) out.push(ins.has(i) ? 1 : full[j++]!);
  return out;
}
