/**
 * Hand-picked power-failure scenarios, each named, for the published HAWAII and JAPARI engines:
 * every one recovers to the bit-exact reference. Failure points are located in the trace of the
 * uninterrupted run (so they stay meaningful when costs or layouts change).
 */
import { describe, it, expect } from 'vitest';
import { loadModel } from '../../src/model/models.js';
import { Deployment, runInference, warmedUp, type RunResult } from '../../src/engines/runner.js';
import { msp430fr5994 } from '../../src/device/profile.js';
import type { TraceEvent } from '../../src/device/device.js';
import { DEVICE_MD_CAPACITOR, DEVICE_MD_RC } from '../../src/device/energy.js';

type Pick = (trace: readonly TraceEvent[], B: number) => number[];

const transfer = (e: TraceEvent) => e.kind === 'dma-write' || e.kind === 'lea+dma-write';
const outputs = (t: readonly TraceEvent[]) => t.filter((e) => transfer(e) && /preserve job/.test(e.label) && e.total >= 8);
const nth = <T,>(xs: readonly T[], f: number) => xs[Math.floor(xs.length * f)]!;

const SCENARIOS: Record<'hawaii' | 'japari', Record<string, Pick>> = {
  japari: {
    'mid-transfer of outputs': (t) => [nth(outputs(t), 0.3).action + 3],
    'mid-transfer of a footprint (its low byte landed)': (t, B) => [nth(outputs(t), 0.5).action + 2 * B + 1],
    "between a job's values and its footprint": (t, B) => [nth(outputs(t), 0.6).action + 2 * B],
    'during the layer commit': (t) => [nth(t.filter((e) => e.label === 'commit model record'), 0.5).action + 20],
    'during recovery (a second failure while seeking)': (t) => {
      const first = nth(outputs(t), 0.4).action + 5;
      return [first, first + 3]; // the reboot's record load / first footprint reads
    },
  },
  hawaii: {
    'mid-transfer of outputs': (t) => [nth(outputs(t), 0.3).action + 3],
    'mid-transfer of a footprint counter': (t) => [nth(t.filter((e) => e.label === 'write footprint counter'), 0.5).action + 2],
    "between a job's values and its counter": (t) => [nth(t.filter((e) => e.label === 'write footprint counter'), 0.7).action],
    'during the layer commit': (t) => [nth(t.filter((e) => e.label === 'commit model record'), 0.5).action + 20],
    'during recovery (a second failure while reading the counter)': (t) => {
      const first = nth(outputs(t), 0.4).action + 5;
      return [first, first + 4];
    },
  },
};

function expectReference(r: RunResult): void {
  expect(r.completed).toBe(true);
  expect(r.undefinedReads).toBe(0);
  expect(Array.from(r.output)).toEqual(Array.from(r.reference));
}

for (const model of ['lenet', 'tiny-conv', 'tiny-strided']) {
  describe(`named failure scenarios on ${model}`, () => {
    for (const engine of ['hawaii', 'japari'] as const) {
      for (const B of [1, 2, 4]) {
        for (const [name, pick] of Object.entries(SCENARIOS[engine])) {
          it(`${engine} B=${B}: ${name}`, () => {
            const m = loadModel(model);
            const d = new Deployment(m.q, { engine, batch: B, placement: 'spi-fram', profile: msp430fr5994 });
            const warm = warmedUp(d, [m.inputQ(2)]); // stale indicators of a previous inference
            const golden = runInference(d, { input: m.inputQ(1), supply: { kind: 'continuous' }, seed: 1, nvm: warm, trace: true });
            const failAt = pick(golden.trace!, B);
            const r = runInference(d, { input: m.inputQ(1), supply: { kind: 'schedule', failAt }, seed: 1, nvm: warm, trace: true });
            expect(r.powerCycles).toBe(failAt.length);
            expectReference(r);
          });
        }
      }
    }
  });
}

describe('energy-driven runs on the device.md setting (100 uF, RC 3.0 V / 1 kOhm, Von 2.8 V, Voff 2.4 V)', () => {
  const supply = { kind: 'energy' as const, capacitor: DEVICE_MD_CAPACITOR, harvester: DEVICE_MD_RC };
  for (const engine of ['hawaii', 'japari'] as const) {
    it(`${engine} completes bit-exactly over many power cycles`, () => {
      const m = loadModel('lenet');
      const d = new Deployment(m.q, { engine, batch: 1, placement: 'spi-fram', profile: msp430fr5994 });
      const r = runInference(d, { input: m.inputQ(0), supply, seed: 4 });
      expectReference(r);
      expect(r.powerCycles).toBeGreaterThan(10);
      expect(r.rechargeS).toBeGreaterThan(0);
    });
  }

  it('continuous (no progress preservation) is reported as making no forward progress', () => {
    const m = loadModel('lenet');
    const d = new Deployment(m.q, { engine: 'continuous', batch: 1, placement: 'spi-fram', profile: msp430fr5994 });
    const r = runInference(d, { input: m.inputQ(0), supply, seed: 4 });
    expect(r.completed).toBe(false);
    expect(r.reason).toMatch(/no forward progress/);
  });
});
