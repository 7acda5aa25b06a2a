/**
 * The faults argued equivalent on the corrected engine (mutants.ts EQUIVALENT) are live faults,
 * not dead code: on a published layout, where FC data sit under later footprints, they change
 * what the seeker concludes.
 */
import { describe, it, expect } from 'vitest';
import { loadModel } from '../../src/model/models.js';
import { Deployment } from '../../src/engines/runner.js';
import { msp430fr5994 } from '../../src/device/profile.js';
import { explore } from '../../src/properties/explore.js';
import { EQUIVALENT } from '../../src/properties/mutants.js';

const NET = 'rnd:3x7x7:c6k3s1p1/r/c5k1s1p0/r/g7:5'; // FC partial sums off the grid at B = 4
// The Feb 2021 FC tiling slices this FC's 245 inputs (the later code's keeps it whole at B = 4).
const FIRMWARE = 'stateful-cnn-2021-02';
const NARROW = ['japari-fc-no-footprint-recompute', 'japari-gemm-column-sign', 'japari-gemm-slice-jobs'];

/** Failing points where recovery skips work or the output is wrong. */
function skipsWork(faults: string[]): number {
  const m = loadModel(NET);
  const d = new Deployment(m.q, { engine: 'japari', batch: 4, placement: 'spi-fram', profile: msp430fr5994, firmware: FIRMWARE, faults, fixes: NARROW });
  const r = explore(d, { input: m.inputQ(1), warmup: [m.inputQ(2)], seed: 3, mode: 'linear' });
  return r.failures.filter((f) => f.violations.some((v) => v.property === 'equivalence' || (v.property === 'progress-exactness' && /ahead/.test(v.message)))).length;
}

describe('equivalent faults are live on published layouts', () => {
  it('japari-seek-trusts-sign is argued equivalent, yet misjudges FC data under footprints', () => {
    expect(EQUIVALENT['japari-seek-trusts-sign']).toMatch(/grid/);
    expect(skipsWork(['japari-seek-trusts-sign'])).toBeGreaterThan(skipsWork([]));
  });
});
