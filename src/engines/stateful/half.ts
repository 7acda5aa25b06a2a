/**
 * Stateful's half-scale storage (algorithms.md "Stateful": "Values are kept at half scale").
 *
 * A Q15 word q at scale 2^e means q / 32768 * 2^e; storing v/2 at scale 2^e is storing v at scale
 * 2^(e+1). So the half-scale network is the quantized network with every stored tensor's
 * exponent raised by one -- all but the input sample, which the sensor writes at its own scale --
 * and every conv/gemm weight re-folded by the quantizer's rule (model/quantize.ts foldWeights):
 * the layers reading the sample get halved weights, as the authors' conv halves the filters of
 * the first layer (EMCLab-Sinica/Stateful-CNN common/conv.cpp: `my_scale_q15(filter_tmp, 0x4000,
 * ...)` when the input slot is SLOT_TEST_SET), and every bias lands at half scale. The LEA then
 * computes half-scale values directly and the other kernels are unchanged: the bit-exact
 * reference of a Stateful deployment is this network's Q15 reference, and the precision lost is
 * exactly one bit per value (reports/verification/stateful-accuracy.md measures what it costs).
 */
import type { QuantizedNetwork } from '../../model/quantize.js';
import { foldWeights } from '../../model/quantize.js';

const cache = new WeakMap<QuantizedNetwork, QuantizedNetwork>();

/**
 * Marks a half-scale network, also in copies made by spreading it (a proof re-plans the
 * deployment's own network with marker weights: it must not be halved again).
 */
const HALF = Symbol('stateful half scale');

/** The network as Stateful stores it: every tensor but the input at twice the scale (idempotent). */
export function halfScale(q: QuantizedNetwork): QuantizedNetwork {
  if ((q as { [HALF]?: true })[HALF]) return q;
  let h = cache.get(q);
  if (!h) {
    const input = q.net.input.name;
    const exps = new Map<string, number>();
    for (const [t, e] of q.exps) exps.set(t, t === input ? e : e + 1);
    h = { ...q, exps, ...foldWeights(q.net, exps), [HALF]: true } as QuantizedNetwork;
    cache.set(q, h);
  }
  return h;
}
