/**
 * Test helpers: build small ONNX models with onnx-proto's encoder, and run models (with extra
 * intermediate outputs) on onnxruntime-node, the float reference the importer is checked against.
 */
import onnxProto from 'onnx-proto';
import type { onnx } from 'onnx-proto';
import * as ort from 'onnxruntime-node';

const P = onnxProto.onnx;
const AT = P.AttributeProto.AttributeType;

// -- building models ------------------------------------------------------------------------------

export type Attr = onnx.IAttributeProto;

export const attrInt = (name: string, i: number): Attr => ({ name, type: AT.INT, i });
export const attrInts = (name: string, ints: number[]): Attr => ({ name, type: AT.INTS, ints });
export const attrFloat = (name: string, f: number): Attr => ({ name, type: AT.FLOAT, f });
export const attrString = (name: string, s: string): Attr => ({ name, type: AT.STRING, s: new TextEncoder().encode(s) });

export function floatTensor(name: string, dims: number[], data: ArrayLike<number>): onnx.ITensorProto {
  return { name, dims, dataType: P.TensorProto.DataType.FLOAT, floatData: Array.from(data) };
}

export function int64Tensor(name: string, dims: number[], data: number[]): onnx.ITensorProto {
  return { name, dims, dataType: P.TensorProto.DataType.INT64, int64Data: data };
}

export function node(opType: string, inputs: string[], outputs: string[], attribute: Attr[] = [], name = outputs[0]!): onnx.INodeProto {
  return { opType, input: inputs, output: outputs, attribute, name };
}

function valueInfo(name: string, dims?: (number | string)[]): onnx.IValueInfoProto {
  const shape = dims ? { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } : null;
  return { name, type: { tensorType: { elemType: P.TensorProto.DataType.FLOAT, shape } } };
}

export interface ModelSpec {
  readonly input: { readonly name: string; readonly dims: (number | string)[] };
  readonly output: string;
  readonly nodes: onnx.INodeProto[];
  readonly initializers?: onnx.ITensorProto[];
  readonly opset?: number;
}

/** Encode a one-input, one-output float model (IR version 8, ai.onnx opset 13 unless given). */
export function buildModel(spec: ModelSpec): Uint8Array {
  const model = P.ModelProto.create({
    irVersion: 8,
    producerName: 'japari-test',
    opsetImport: [{ domain: '', version: spec.opset ?? 13 }],
    graph: {
      name: 'test',
      node: spec.nodes,
      initializer: spec.initializers ?? [],
      input: [valueInfo(spec.input.name, spec.input.dims)],
      output: [valueInfo(spec.output)],
    },
  });
  return P.ModelProto.encode(model).finish();
}

// -- onnxruntime ----------------------------------------------------------------------------------

/**
 * An onnxruntime session on `bytes` that also returns the intermediate tensors `extra` (added as
 * graph outputs; names that are not node outputs are skipped).
 */
export async function ortSession(bytes: Uint8Array, extra: readonly string[] = []): Promise<OrtModel> {
  const model = P.ModelProto.decode(bytes);
  const graph = model.graph!;
  const produced = new Set((graph.node ?? []).flatMap((n) => n.output ?? []));
  const outputs = new Set((graph.output ?? []).map((o) => o.name ?? ''));
  graph.output ??= [];
  for (const t of extra) {
    if (produced.has(t) && !outputs.has(t)) {
      graph.output.push(P.ValueInfoProto.create({ name: t, type: { tensorType: { elemType: P.TensorProto.DataType.FLOAT } } }));
      outputs.add(t);
    }
  }
  const session = await ort.InferenceSession.create(P.ModelProto.encode(model).finish());
  return new OrtModel(session, [...outputs]);
}

export class OrtModel {
  constructor(
    private readonly session: ort.InferenceSession,
    readonly outputs: readonly string[],
  ) {}

  /** Run one sample given in the ONNX input layout (`dims` include the batch axis). */
  async run(data: Float32Array, dims: number[]): Promise<Map<string, Float32Array>> {
    const feeds = { [this.session.inputNames[0]!]: new ort.Tensor('float32', data, dims) };
    const res = await this.session.run(feeds);
    const out = new Map<string, Float32Array>();
    for (const name of this.outputs) out.set(name, res[name]!.data as Float32Array);
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

// -- comparing --------------------------------------------------------------------------------------

/** Max |a - b| and the reference's scale max |b|. */
export function maxAbsError(a: ArrayLike<number>, b: ArrayLike<number>): { err: number; scale: number } {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let err = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    err = Math.max(err, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return { err, scale };
}
