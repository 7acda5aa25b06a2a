/**
 * The float reference: every IR operator in float64 on logical, batch-free tensors ([C, H, W]
 * row-major, or [N]). Written for clarity, one plain loop nest per operator; it is the oracle
 * the importer is checked against (onnxruntime, test/model/float.test.ts) and the source of the
 * activation ranges the quantizer calibrates on.
 *
 * Per-operator semantics (ONNX Operators.md, for the operator each IR op came from):
 *   conv     y[o][i][j] = b[o] + sum_{c,u,v} w[o][c][u][v] * x[c][i*sh - pt + u][j*sw - pl + v],
 *            positions outside the input read 0 (zero padding)
 *   gemm     y[n] = b[n] + sum_k w[n][k] * x[k]
 *   relu     max(x, 0)
 *   maxpool  max over the in-bounds part of the window (padding is -infinity, never wins)
 *   gap      the mean of each channel over H*W
 *   add      elementwise sum; concat: channel stacking; reshape: the same row-major elements
 *   softmax  exp(x - max) / sum exp(x - max) over the whole tensor (the real softmax; the
 *            device engines keep the logits, which has the same argmax)
 */
import { InputError, assertNever } from '../util/errors.js';
import { numel, shapeStr, type ConvOp, type GemmOp, type MaxPoolOp, type Network, type Node, type Shape } from './ir.js';

/** Run `net` on one input (IR logical layout); returns every tensor by name, the input included. */
export function runFloat(net: Network, input: Float32Array): Map<string, Float64Array> {
  const want = numel(net.input.shape);
  if (input.length !== want) {
    throw new InputError(`${net.name}: input ${net.input.name} ${shapeStr(net.input.shape)} needs ${want} values, got ${input.length}`);
  }
  const values = new Map<string, Float64Array>();
  values.set(net.input.name, Float64Array.from(input));
  for (const node of net.nodes) {
    const ins = node.inputs.map((t) => values.get(t)!);
    const shapes = node.inputs.map((t) => net.shapes.get(t)!);
    values.set(node.output, evalNode(node, ins, shapes, net.shapes.get(node.output)!));
  }
  return values;
}

/** One node on float64 tensors of the given (IR) shapes. */
export function evalNode(node: Node, ins: readonly Float64Array[], inShapes: readonly Shape[], outShape: Shape): Float64Array {
  const op = node.op;
  switch (op.kind) {
    case 'conv':
      return conv(op, ins[0]!, inShapes[0]!, outShape);
    case 'gemm':
      return gemm(op, ins[0]!);
    case 'relu':
      return ins[0]!.map((v) => (v > 0 ? v : 0));
    case 'maxpool':
      return maxpool(op, ins[0]!, inShapes[0]!, outShape);
    case 'gap':
      return gap(ins[0]!, inShapes[0]!);
    case 'add': {
      const [a, b] = [ins[0]!, ins[1]!];
      return a.map((v, i) => v + b[i]!);
    }
    case 'concat': {
      // Channels are the outermost axis, so stacking channels is appending the inputs.
      const out = new Float64Array(numel(outShape));
      let at = 0;
      for (const x of ins) {
        out.set(x, at);
        at += x.length;
      }
      return out;
    }
    case 'reshape':
      return Float64Array.from(ins[0]!);
    case 'softmax':
      return softmax(ins[0]!);
    default:
      return assertNever(op, 'operator');
  }
}

function conv(op: ConvOp, x: Float64Array, inShape: Shape, outShape: Shape): Float64Array {
  const [ic, h, w] = inShape as [number, number, number];
  const [oc, oh, ow] = outShape as [number, number, number];
  const [kh, kw] = op.kernel;
  const [sh, sw] = op.stride;
  const [pt, pl] = op.pads;
  const y = new Float64Array(oc * oh * ow);
  for (let o = 0; o < oc; o++) {
    const b = op.bias ? op.bias[o]! : 0;
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        let acc = b;
        for (let c = 0; c < ic; c++) {
          for (let u = 0; u < kh; u++) {
            const yy = i * sh - pt + u;
            if (yy < 0 || yy >= h) continue;
            for (let v = 0; v < kw; v++) {
              const xx = j * sw - pl + v;
              if (xx < 0 || xx >= w) continue;
              acc += op.weight[((o * ic + c) * kh + u) * kw + v]! * x[(c * h + yy) * w + xx]!;
            }
          }
        }
        y[(o * oh + i) * ow + j] = acc;
      }
    }
  }
  return y;
}

function gemm(op: GemmOp, x: Float64Array): Float64Array {
  const n = op.outFeatures;
  const k = x.length;
  const y = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let acc = op.bias ? op.bias[r]! : 0;
    for (let c = 0; c < k; c++) acc += op.weight[r * k + c]! * x[c]!;
    y[r] = acc;
  }
  return y;
}

function maxpool(op: MaxPoolOp, x: Float64Array, inShape: Shape, outShape: Shape): Float64Array {
  const [ch, h, w] = inShape as [number, number, number];
  const [, oh, ow] = outShape as [number, number, number];
  const [kh, kw] = op.kernel;
  const [sh, sw] = op.stride;
  const [pt, pl] = op.pads;
  const y = new Float64Array(ch * oh * ow);
  for (let c = 0; c < ch; c++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        let m = -Infinity;
        for (let u = 0; u < kh; u++) {
          const yy = i * sh - pt + u;
          if (yy < 0 || yy >= h) continue;
          for (let v = 0; v < kw; v++) {
            const xx = j * sw - pl + v;
            if (xx < 0 || xx >= w) continue;
            const e = x[(c * h + yy) * w + xx]!;
            if (e > m) m = e;
          }
        }
        y[(c * oh + i) * ow + j] = m;
      }
    }
  }
  return y;
}

function gap(x: Float64Array, inShape: Shape): Float64Array {
  const [ch, h, w] = inShape as [number, number, number];
  const area = h * w;
  const y = new Float64Array(ch);
  for (let c = 0; c < ch; c++) {
    let s = 0;
    for (let p = 0; p < area; p++) s += x[c * area + p]!;
    y[c] = s / area;
  }
  return y;
}

function softmax(x: Float64Array): Float64Array {
  let m = -Infinity;
  for (const v of x) if (v > m) m = v;
  const e = x.map((v) => Math.exp(v - m));
  let s = 0;
  for (const v of e) s += v;
  return e.map((v) => v / s);
}

/** Index of the largest value (the first one on ties); -1 for an empty vector. */
export function argmax(v: ArrayLike<number>): number {
  let best = -1;
  let m = -Infinity;
  for (let i = 0; i < v.length; i++) {
    if (best < 0 || v[i]! > m) {
      m = v[i]!;
      best = i;
    }
  }
  return best;
}
