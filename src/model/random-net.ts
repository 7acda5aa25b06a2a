/**
 * Small random networks from a compact, replayable description (used by fuzzing; the fast-check
 * arbitrary in src/properties/network.arb.ts generates these descriptions).
 *
 *   rnd:<input>:<layer>/<layer>/...:<seed>
 *   input:  CxHxW (feature map) or N (vector)
 *   layers: c<oc>k<k>s<s>p<p>   conv k x k, stride s, padding p (1x1 and strided included)
 *           r                   relu
 *           m<k>s<s>            maxpool (skipped when the window exceeds the feature map)
 *           a                   global average pool
 *           x<oc1>.<oc2>        a fire-style block: conv1x1(oc1) and conv3x3 pad 1(oc2) of the
 *                               same input, each + relu, concatenated
 *           g<n>                gemm to n outputs (flattens a feature map first)
 *
 * Weights and biases are drawn from the seed (normal, 1/sqrt(fan-in)), so a description plus a
 * seed is the whole network.
 */
import type { Network, Node, Shape, Op } from './ir.js';
import { inferShapes, numel } from './ir.js';
import { Rng } from '../util/rng.js';
import { UsageError } from '../util/errors.js';

export interface RandomNetSpec {
  readonly input: readonly number[];
  readonly layers: readonly string[];
  readonly seed: number;
}

export function formatRandomNet(s: RandomNetSpec): string {
  return `rnd:${s.input.join('x')}:${s.layers.join('/')}:${s.seed}`;
}

export function parseRandomNet(name: string): RandomNetSpec {
  const m = /^rnd:([0-9x]+):([a-z0-9./]*):([0-9]+)$/.exec(name);
  if (!m) throw new UsageError(`bad random network description ${JSON.stringify(name)} (rnd:<input>:<layers>:<seed>)`);
  const input = m[1]!.split('x').map(Number);
  if (input.some((d) => !Number.isInteger(d) || d < 1 || d > 64) || (input.length !== 1 && input.length !== 3)) {
    throw new UsageError(`random network input must be N or CxHxW with dimensions 1..64, got ${m[1]}`);
  }
  return { input, layers: m[2] === '' ? [] : m[2]!.split('/'), seed: Number(m[3]) };
}

export function randomNetwork(name: string): Network {
  const spec = parseRandomNet(name);
  const rng = new Rng(spec.seed);
  const nodes: Node[] = [];
  const shapes = new Map<string, Shape>();
  let cur = 'x';
  shapes.set(cur, spec.input);
  let n = 0;
  const fresh = () => `t${n++}`;
  const add = (op: Op, inputs: string[]): string => {
    const out = fresh();
    const node: Node = { name: `${op.kind}_${n}`, op, inputs, output: out };
    nodes.push(node);
    // Infer the shape incrementally so later layers can size their weights.
    const net = inferShapes({ name: 'tmp', input: { name: 'x', shape: spec.input }, nodes, output: out, source: 'random' });
    shapes.set(out, net.shapes.get(out)!);
    return out;
  };
  const normal = (len: number, fanIn: number) => {
    const a = new Float32Array(len);
    const sd = 1 / Math.sqrt(Math.max(1, fanIn));
    for (let i = 0; i < len; i++) a[i] = Math.fround(rng.normal() * sd);
    return a;
  };
  const conv = (input: string, oc: number, k: number, s: number, p: number): string => {
    const sh = shapes.get(input)!;
    const ic = sh[0]!;
    return add(
      {
        kind: 'conv',
        weight: normal(oc * ic * k * k, ic * k * k),
        bias: normal(oc, ic * k * k),
        outChannels: oc,
        kernel: [k, k],
        stride: [s, s],
        pads: [p, p, p, p],
      },
      [input],
    );
  };
  for (const l of spec.layers) {
    let mm: RegExpExecArray | null;
    if ((mm = /^c([0-9]+)k([0-9]+)s([0-9]+)p([0-9]+)$/.exec(l))) {
      cur = conv(cur, Number(mm[1]), Number(mm[2]), Number(mm[3]), Number(mm[4]));
    } else if (l === 'r') {
      cur = add({ kind: 'relu' }, [cur]);
    } else if ((mm = /^m([0-9]+)s([0-9]+)$/.exec(l))) {
      const k = Number(mm[1]);
      const s = Number(mm[2]);
      const sh = shapes.get(cur)!;
      // A window larger than the feature map is skipped (the description stays valid).
      if (sh.length === 3 && sh[1]! >= k && sh[2]! >= k) cur = add({ kind: 'maxpool', kernel: [k, k], stride: [s, s], pads: [0, 0, 0, 0] }, [cur]);
    } else if (l === 'a') {
      cur = add({ kind: 'gap' }, [cur]);
    } else if ((mm = /^x([0-9]+)\.([0-9]+)$/.exec(l))) {
      const a = add({ kind: 'relu' }, [conv(cur, Number(mm[1]), 1, 1, 0)]);
      const b = add({ kind: 'relu' }, [conv(cur, Number(mm[2]), 3, 1, 1)]);
      cur = add({ kind: 'concat' }, [a, b]);
    } else if ((mm = /^g([0-9]+)$/.exec(l))) {
      const sh = shapes.get(cur)!;
      if (sh.length !== 1) cur = add({ kind: 'reshape', shape: [numel(sh)] }, [cur]);
      const k = numel(shapes.get(cur)!);
      const nOut = Number(mm[1]);
      cur = add({ kind: 'gemm', weight: normal(nOut * k, k), bias: normal(nOut, k), outFeatures: nOut }, [cur]);
    } else {
      throw new UsageError(`random network: unknown layer ${JSON.stringify(l)}`);
    }
  }
  if (nodes.length === 0) throw new UsageError('random network: needs at least one layer');
  return inferShapes({ name, input: { name: 'x', shape: spec.input }, nodes, output: cur, source: 'random' });
}

/** Input ids at or above this are extreme inputs (see randomNetInput). */
export const EXTREME_INPUTS = 1_000_000;

/**
 * A seeded input in [-1, 1); ids >= EXTREME_INPUTS give extreme inputs instead: every value is
 * -4, -1, 0, 1 or 4 times the calibrated range, so quantization saturates them to Q15's rails and
 * the layers see -32768 / 32767 (and their saturated products).
 */
export function randomNetInput(net: Network, seed: number): Float32Array {
  const rng = new Rng(seed * 7919 + 17);
  const x = new Float32Array(numel(net.input.shape));
  const extreme = seed >= EXTREME_INPUTS;
  for (let i = 0; i < x.length; i++) x[i] = extreme ? [-4, -1, 0, 1, 4][rng.int(0, 4)]! : Math.fround(rng.float() * 2 - 1);
  return x;
}
