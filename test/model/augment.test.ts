/**
 * Augmentation transparency: the augmented network's real outputs equal the original network's,
 * and each footprint output is -(dummy weight), for random networks, inputs (extremes included)
 * and every B -- the property fast-check states once (src/properties/properties.ts) and Z3
 * proves per layer (src/smt).
 */
import { describe, it, expect } from 'vitest';
import { test as fcTest, fc } from '@fast-check/vitest';
import { loadModel } from '../../src/model/models.js';
import { augmentNetwork, augmentedOutput, realOutputs } from '../../src/model/augment.js';
import { dotQ15, TI_REFERENCE_ARITHMETIC } from '../../src/device/lea.js';
import { randomNetworkArb } from '../../src/properties/network.arb.js';
import type { QConv, QGemm } from '../../src/model/quantize.js';

/** The original layer's output for one input vector: one LEA dot product per output. */
function original(qn: QConv | QGemm, x: Int16Array): Int16Array {
  const n = qn.kind === 'conv' ? qn.op.outChannels : qn.op.outFeatures;
  const k = x.length;
  const out = new Int16Array(n);
  const a = new Int16Array(k + 1);
  a.set(x);
  a[k] = -32768;
  const b = new Int16Array(k + 1);
  for (let o = 0; o < n; o++) {
    b.set(qn.weightQ.subarray(o * k, (o + 1) * k));
    b[k] = -qn.biasQ[o]!;
    out[o] = dotQ15(a, 0, b, 0, 1, k + 1, TI_REFERENCE_ARITHMETIC);
  }
  return out;
}

const q15 = fc.oneof(fc.integer({ min: -32768, max: 32767 }), fc.constantFrom(-32768, 32767, 0, -1, 1));

describe('augmentation transparency', () => {
  fcTest.prop([randomNetworkArb, fc.constantFrom(1, 2, 3, 4, 8), fc.constantFrom(1, -1), fc.array(q15, { minLength: 600, maxLength: 600 })], { seed: 31, numRuns: 60 })(
    'random networks, every B, both dummy weights, extreme inputs',
    (name, B, dummy, pool) => {
      const q = loadModel(name).q;
      const aug = augmentNetwork(q, B, dummy);
      for (const qn of q.nodes) {
        if (qn.kind === 'other') continue;
        const layer = aug.layers.get(qn.node.name)!;
        const x = Int16Array.from(pool.slice(0, layer.realInputs));
        const out = augmentedOutput(layer, x);
        expect(Array.from(realOutputs(layer, out))).toEqual(Array.from(original(qn, x)));
        layer.outputs.forEach((o, i) => {
          if (o.kind === 'footprint') expect(out[i]).toBe(-dummy);
          if (o.kind === 'zero') expect(out[i]).toBe(0);
        });
      }
    },
  );

  it('layout: a footprint after every B outputs, conv channels padded to a multiple of B, FC trailing groups without one', () => {
    const q = loadModel('tiny-strided').q; // conv with 5 channels, FC with 3 outputs
    const aug = augmentNetwork(q, 2);
    const kinds = (n: string) => aug.layers.get(n)!.outputs.map((o) => (o.kind === 'footprint' ? 'F' : o.kind === 'zero' ? '0' : 'r')).join('');
    const [conv, gemm] = q.nodes.filter((n) => n.kind !== 'other').map((n) => n.node.name);
    expect(kinds(conv!)).toBe('rrFrrFr0F');
    expect(kinds(gemm!)).toBe('rrFr');
  });
});
