/**
 * Small ONNX files for the command-line tests, written with onnx-proto's encoder: a valid
 * fully-connected model, and the ways one can be bad (non-finite weights, a future opset, an
 * unsupported operator, weights no Q15 scale can hold, bytes that are no ONNX at all).
 */
import onnxProto from 'onnx-proto';
import type { onnx } from 'onnx-proto';

const P = onnxProto.onnx;

function floatTensor(name: string, dims: number[], data: number[]): onnx.ITensorProto {
  return { name, dims, dataType: P.TensorProto.DataType.FLOAT, floatData: data };
}

function model(nodes: onnx.INodeProto[], initializer: onnx.ITensorProto[], opset = 13, inputDims = [1, 8]): Uint8Array {
  const vi = (name: string, dims?: number[]): onnx.IValueInfoProto => ({
    name,
    type: { tensorType: { elemType: P.TensorProto.DataType.FLOAT, shape: dims ? { dim: dims.map((d) => ({ dimValue: d })) } : null } },
  });
  return P.ModelProto.encode(
    P.ModelProto.create({
      irVersion: 8,
      producerName: 'japari-test',
      opsetImport: [{ domain: '', version: opset }],
      graph: { name: 'fixture', node: nodes, initializer, input: [vi('x', inputDims)], output: [vi('y')] },
    }),
  ).finish();
}

const transB = { name: 'transB', type: P.AttributeProto.AttributeType.INT, i: 1 };

/** x[8] -> Gemm(W[4x8], b[4]) -> y: weights from a seed (small values). */
export function gemmModel(seed = 1, overrides: { w?: number[]; opset?: number } = {}): Uint8Array {
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32 - 0.5) * 0.8;
  };
  const w = overrides.w ?? Array.from({ length: 32 }, next);
  const b = Array.from({ length: 4 }, next);
  return model([{ opType: 'Gemm', input: ['x', 'W', 'b'], output: ['y'], attribute: [transB], name: 'fc' }], [floatTensor('W', [4, 8], w), floatTensor('b', [4], b)], overrides.opset);
}

/** Weight 3 of initializer W is NaN (or Infinity). */
export function nonFiniteModel(v: number): Uint8Array {
  const w = Array.from({ length: 32 }, (_, i) => (i === 3 ? v : 0.1));
  return gemmModel(1, { w });
}

/** A model declaring a newer opset than japari supports. */
export function futureOpsetModel(opset: number): Uint8Array {
  return gemmModel(1, { opset });
}

/** An operator japari does not support (Erf). */
export function unsupportedOpModel(): Uint8Array {
  return model([{ opType: 'Erf', input: ['x'], output: ['y'], name: 'erf' }], []);
}

/**
 * y = x + Gemm(x) with weights 2: the residual Add forces one scale on x and the Gemm's output,
 * but |w| x 2^(e_in - e_out) < 1 needs e_out > e_in -- no scale works, so weights saturate.
 */
export function saturatingModel(): Uint8Array {
  const w = Array.from({ length: 64 }, (_, i) => (i % 9 === 0 ? 2 : 0.01));
  return model(
    [
      { opType: 'Gemm', input: ['x', 'W', 'b'], output: ['t'], attribute: [transB], name: 'fc' },
      { opType: 'Add', input: ['x', 't'], output: ['y'], name: 'residual' },
    ],
    [floatTensor('W', [8, 8], w), floatTensor('b', [8], Array.from({ length: 8 }, () => 0))],
  );
}
