/**
 * How well the bit-exact Q15 reference tracks the float network: top-1 agreement and the largest
 * output error (in units of the output's scale) per model, on the model's inputs; and the default
 * model's float and Q15 accuracy on its held-out MNIST digits. The figures are printed; the
 * assertions are deliberately loose floors (a regression guard, not a tuned target).
 */
import { describe, it, expect } from 'vitest';
import { loadModel } from '../../src/model/models.js';
import { runFloat, argmax } from '../../src/model/float.js';
import { runQ15, canonicalArithmetic, argmaxQ15 } from '../../src/model/q15.js';
import { dequantize, quantizeInput } from '../../src/model/quantize.js';
import { Deployment } from '../../src/engines/runner.js';
import { msp430fr5994 } from '../../src/device/profile.js';
import { sharedAvailable, SHARED_MODELS } from '../../src/util/shared.js';
import { loadMnistSplit } from '../../scripts/train-lenet.js';

function agreement(name: string, n: number) {
  const t0 = performance.now();
  const m = loadModel(name);
  const loadMs = performance.now() - t0;
  // The engines' arithmetic (input-channel tiles) is what runs on the device.
  const plan = new Deployment(m.q, { engine: 'hawaii', batch: 1, placement: 'spi-fram', profile: msp430fr5994 }).plan.arithmetic;
  const outExp = m.q.exps.get(m.net.output)!;
  let agree = 0;
  let maxErr = 0;
  for (let i = 0; i < n; i++) {
    const x = m.input(i).x;
    const f = runFloat(m.net, x).get(m.net.output)!;
    // Compare logits: softmax is the identity on the device (argmax only).
    const pre = m.net.nodes.find((nd) => nd.output === m.net.output)!.op.kind === 'softmax' ? m.net.nodes.find((nd) => nd.output === m.net.output)!.inputs[0]! : m.net.output;
    const fl = runFloat(m.net, x).get(pre)!;
    const q = dequantize(runQ15(m.q, m.inputQ(i), plan).output, outExp);
    if (argmax(f) === argmax(q)) agree++;
    for (let k = 0; k < q.length; k++) maxErr = Math.max(maxErr, Math.abs(q[k]! - fl[k]!) / 2 ** outExp);
  }
  return { loadMs, agree: agree / n, maxErr };
}

describe('Q15 reference vs float', () => {
  it('lenet (default model)', () => {
    const r = agreement('lenet', 16);
    console.log(`lenet: import+quantize ${r.loadMs.toFixed(0)} ms, top-1 agreement ${(100 * r.agree).toFixed(1)}%, max |error| ${r.maxErr.toFixed(5)} of the output scale`);
    expect(r.agree).toBeGreaterThanOrEqual(0.9);
  });

  for (const name of ['mnist', 'har', 'kws', 'cifar10'] as const) {
    it.skipIf(!sharedAvailable('models', SHARED_MODELS[name]))(`${name} (../shared/models; skipped when absent)`, () => {
      const r = agreement(name, name === 'cifar10' ? 12 : 24);
      console.log(`${name}: import+quantize ${r.loadMs.toFixed(0)} ms, top-1 agreement ${(100 * r.agree).toFixed(1)}%, max |error| ${r.maxErr.toFixed(5)} of the output scale`);
      expect(r.agree).toBeGreaterThanOrEqual(0.6);
    });
  }
});

describe('the default model on its held-out digits', () => {
  it('float and Q15 test accuracy', () => {
    const m = loadModel('lenet');
    const split = loadMnistSplit();
    const exp = m.q.exps.get(m.net.input.name)!;
    const arith = canonicalArithmetic();
    const plan = new Deployment(m.q, { engine: 'japari', batch: 1, placement: 'spi-fram', profile: msp430fr5994 }).plan.arithmetic;
    let fOk = 0;
    let qOk = 0;
    let eOk = 0;
    const n = split.test.count;
    for (let i = 0; i < n; i++) {
      const x = Float32Array.from(split.test.inputs.subarray(i * 784, (i + 1) * 784));
      const label = split.test.labels[i]!;
      if (argmax(runFloat(m.net, x).get(m.net.output)!) === label) fOk++;
      const xq = quantizeInput(x, exp);
      if (argmaxQ15(runQ15(m.q, xq, arith).output) === label) qOk++;
      if (argmaxQ15(runQ15(m.q, xq, plan).output) === label) eOk++;
    }
    console.log(`lenet on ${n} held-out digits: float ${((100 * fOk) / n).toFixed(2)}%, Q15 (one dot product per output) ${((100 * qOk) / n).toFixed(2)}%, Q15 as the engines compute it ${((100 * eOk) / n).toFixed(2)}%`);
    expect(fOk / n).toBeGreaterThan(0.97);
    expect(eOk / n).toBeGreaterThan(0.96);
  });
});
