import { describe, it, expect } from 'vitest';
import { tinyNetwork, tinySample } from '../../src/model/builtin.js';
import { quantize, quantizeInput } from '../../src/model/quantize.js';
import { Deployment, runInference } from '../../src/model/engine/runner.js';
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
