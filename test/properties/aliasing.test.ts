/**
 * Footprint aliasing (properties.ts footprintAliasing): the word a JAPARI seeker reads as a
 * job's footprint must never hold a data value of an earlier tensor -- the verdict would then
 * depend on the data. The narrow FC fixes leave FC outputs off the slot's B+1 grid, so the next
 * inference's first layer probes FC data; padding vectors to whole groups of B keeps one grid.
 */
import { describe, it, expect } from 'vitest';
import { loadModel } from '../../src/model/models.js';
import { Deployment } from '../../src/engines/runner.js';
import { msp430fr5994 } from '../../src/device/profile.js';
import { checkScenario } from '../../src/properties/properties.js';
import { fixesFor } from '../../src/engines/catalogue.js';

const NET = 'rnd:2x6x6:c8k3s1p1/r/g10:1'; // conv 8 channels, ReLU, FC with 10 outputs
const NARROW = ['japari-fc-no-footprint-recompute', 'japari-gemm-column-sign', 'japari-gemm-slice-jobs'];

function check(batch: number, fixes: readonly string[], warm: boolean) {
  const m = loadModel(NET);
  const d = new Deployment(m.q, { engine: 'japari', batch, placement: 'spi-fram', profile: msp430fr5994, fixes: [...fixes] });
  return checkScenario(d, { input: m.inputQ(1), warmup: warm ? [m.inputQ(2)] : [], failAt: [], seed: 3 });
}

describe('footprint aliasing', () => {
  for (const batch of [4, 8]) {
    it(`B = ${batch}: the narrow FC fixes leave FC data under the next inference's footprints, whatever the values`, () => {
      const r = check(batch, NARROW, true);
      const v = r.violations.find((x) => x.property === 'indicator-distinguishability');
      expect(v?.message).toMatch(/footprint word holds a data value \(-?\d+\) of gemm_\d+ \(layer \d+\) from the previous inference/);
      expect(v?.dataDependent).toBe(true);
      // The output is still right: the data happen not to equal the marker. The design is wrong anyway.
      expect(r.result.equal).toBe(true);
    });

    it(`B = ${batch}: padding vectors to whole groups (every fix) keeps the slot on one grid`, () => {
      expect(check(batch, fixesFor('japari'), true).violations).toEqual([]);
    });
  }

  it('never-written NVM (no previous inference) is not data', () => {
    expect(check(4, NARROW, false).violations).toEqual([]);
  });
});
