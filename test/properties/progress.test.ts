/**
 * Forward progress: a charge that funds the engine's minimum work (reboot + recovery + one job)
 * is enough to finish; the continuous engine, with no preservation, needs the whole inference.
 */
import { describe, it, expect } from 'vitest';
import { loadModel } from '../../src/model/models.js';
import { Deployment, runInference } from '../../src/engines/runner.js';
import { msp430fr5994 } from '../../src/device/profile.js';
import { checkForwardProgress, minimumWork, fundedSupply } from '../../src/properties/progress.js';

const deploy = (model: string, engine: 'hawaii' | 'japari' | 'continuous', batch: number) =>
  new Deployment(loadModel(model).q, { engine, batch, placement: 'spi-fram', profile: msp430fr5994 });

describe('forward progress', () => {
  for (const model of ['lenet', 'tiny-concat']) {
    for (const engine of ['hawaii', 'japari'] as const) {
      for (const batch of [1, 2, 4]) {
        it(`${model} ${engine} B=${batch}: one charge of the minimum work suffices`, () => {
          const d = deploy(model, engine, batch);
          const fp = checkForwardProgress(d, loadModel(model).inputQ(0), 1.0);
          expect(fp.completed).toBe(true);
          expect(fp.equal).toBe(true);
          expect(fp.powerCycles).toBeGreaterThan(0);
          expect(fp.minimum.joules).toBeGreaterThan(fp.minimum.rebootJ);
        });
      }
    }
  }

  it('without preservation, the minimum work of one step does not suffice', () => {
    const d = deploy('lenet', 'continuous', 1);
    const x = loadModel('lenet').inputQ(0);
    const m = minimumWork(d, x);
    const r = runInference(d, { input: x, supply: fundedSupply(m.joules * 4), seed: 0 });
    expect(r.completed).toBe(false);
    expect(r.reason).toMatch(/no forward progress/);
  });
});
