import { describe, it, expect } from 'vitest';
import { tinyNetwork, tinySample } from '../../src/model/builtin.js';
import { quantize, quantizeInput } from '../../src/model/quantize.js';
import { Deployment, runInference } from '../../src/engines/runner.js';
import { msp430fr5994 } from '../../src/device/profile.js';

describe('engine smoke', () => {
  for (const name of ['tiny-conv', 'tiny-fc', 'tiny-concat', 'tiny-strided'] as const) {
    for (const engine of ['continuous', 'hawaii', 'japari'] as const) {
      for (const batch of [1, 2, 4]) {
        it(`${name} ${engine} B=${batch}`, () => {
          const net = tinyNetwork(name, 7);
          const cal = [1, 2, 3, 4].map((s) => tinySample(net, s));
          const q = quantize(net, cal);
          const d = new Deployment(q, { engine, batch, placement: 'spi-fram', profile: msp430fr5994 });
          const x = quantizeInput(tinySample(net, 99), q.exps.get(net.input.name)!);
          const r = runInference(d, { input: x, supply: { kind: 'continuous' }, seed: 1 });
          expect(r.completed).toBe(true);
          expect(Array.from(r.output)).toEqual(Array.from(r.reference));
          expect(r.undefinedReads).toBe(0);
        });
      }
    }
  }
});

import { loadModel } from '../../src/model/models.js';
import { sharedAvailable, SHARED_MODELS } from '../../src/util/shared.js';
import { inferShapes } from '../../src/model/ir.js';
import { ConfigError } from '../../src/util/errors.js';

describe('every engine reproduces the Q15 reference on the shared models (continuous power)', () => {
  for (const name of ['mnist', 'har', 'kws', 'cifar10'] as const) {
    describe.skipIf(!sharedAvailable('models', SHARED_MODELS[name]))(`${name} (skipped when ../shared/models is absent)`, () => {
      for (const engine of ['continuous', 'hawaii', 'japari', 'japari-loopcount'] as const) {
        for (const batch of engine === 'japari-loopcount' ? [2] : [1, 2, 4]) {
          it(`${engine} B=${batch}`, () => {
            const m = loadModel(name);
            const d = new Deployment(m.q, { engine, batch, placement: 'spi-fram', profile: msp430fr5994 });
            const r = runInference(d, { input: m.inputQ(0), supply: { kind: 'continuous' }, seed: 1 });
            expect(r.completed).toBe(true);
            expect(Array.from(r.output)).toEqual(Array.from(r.reference));
          });
        }
      }
    });
  }
});

describe('memory planning', () => {
  it('a layer that cannot be tiled into the LEA RAM is a ConfigError that says why', () => {
    const k = 23;
    const ic = 64;
    const net = inferShapes({
      name: 'too-big',
      input: { name: 'x', shape: [ic, 24, 24] },
      nodes: [{ name: 'big', op: { kind: 'conv', weight: new Float32Array(4 * ic * k * k), bias: null, outChannels: 4, kernel: [k, k], stride: [1, 1], pads: [0, 0, 0, 0] }, inputs: ['x'], output: 'y' }],
      output: 'y',
      source: 'test',
    });
    const q = quantize(net, [new Float32Array(ic * 24 * 24).fill(0.5)]);
    expect(() => new Deployment(q, { engine: 'hawaii', batch: 1, placement: 'spi-fram', profile: msp430fr5994 })).toThrow(ConfigError);
    expect(() => new Deployment(q, { engine: 'hawaii', batch: 1, placement: 'spi-fram', profile: msp430fr5994 })).toThrow(/big.*LEA RAM/);
  });
});
