/**
 * The energy buffer's physics: the capacitor has a rated maximum voltage (energy above it is
 * lost), and energy is conserved -- harvested = consumed + stored + clipped -- at every power
 * cycle of any energy-driven run (a fast-check property over capacitors, thresholds, ratings and
 * harvesters, pinned seed).
 */
import { describe, it, expect } from 'vitest';
import { test as fcTest, fc } from '@fast-check/vitest';
import { loadModel } from '../../src/model/models.js';
import { Deployment, runInference } from '../../src/engines/runner.js';
import { msp430fr5994 } from '../../src/device/profile.js';
import { DEVICE_MD_VMAX, energyAt, ratedVmax, validateCapacitor, type Capacitor, type EnergyLedger, type Harvester } from '../../src/device/energy.js';
import { ConfigError } from '../../src/util/errors.js';
import type { EngineKind } from '../../src/engines/reference/plan.js';

const deployments = new Map<string, Deployment>();
function deploy(model: string, engine: EngineKind): Deployment {
  const key = `${model}/${engine}`;
  let d = deployments.get(key);
  if (!d) {
    d = new Deployment(loadModel(model).q, { engine, batch: 1, placement: 'spi-fram', profile: msp430fr5994 });
    deployments.set(key, d);
  }
  return d;
}

/** |harvested - (consumed + stored + clipped)|, and the scale it is judged against. */
function imbalance(l: EnergyLedger): { err: number; scale: number } {
  return { err: Math.abs(l.harvestedJ - (l.consumedJ + l.storedJ + l.clippedJ)), scale: Math.max(l.harvestedJ, l.consumedJ, 1e-9) };
}

const harvesterArb: fc.Arbitrary<(c: Capacitor) => Harvester> = fc.oneof(
  fc.double({ min: 1e-5, max: 2e-2, noNaN: true }).map((watts) => () => ({ kind: 'constant' as const, watts })),
  fc.record({ over: fc.double({ min: 0.01, max: 0.6, noNaN: true }), ohms: fc.double({ min: 50, max: 5000, noNaN: true }) }).map(({ over, ohms }) => (c: Capacitor) => ({ kind: 'rc' as const, vsup: c.von + over, ohms })),
  fc.array(fc.double({ min: 0, max: 2e-2, noNaN: true }), { minLength: 2, maxLength: 12 }).map((ws) => () => ({ kind: 'trace' as const, trace: { name: 'synthetic', dt: 0.02, watts: Float64Array.from([...ws, 1e-3]) } })),
);

/** What the property runs actually exercised (checked below: power failures and clipping happened). */
const seen = { runs: 0, withFailures: 0, clipped: 0, rejected: 0 };

describe('energy conservation', () => {
  fcTest.prop(
    [
      fc.record({
        model: fc.constantFrom('tiny-conv', 'tiny-fc', 'tiny-concat'),
        engine: fc.constantFrom<EngineKind>('hawaii', 'japari', 'continuous'),
        farads: fc.double({ min: 3e-6, max: 3e-4, noNaN: true }),
        voff: fc.double({ min: 1.8, max: 2.6, noNaN: true }),
        window: fc.double({ min: 0.1, max: 0.6, noNaN: true }),
        headroom: fc.option(fc.double({ min: 0, max: 0.8, noNaN: true }), { nil: undefined }),
        harvester: harvesterArb,
      }),
    ],
    { seed: 20261207, numRuns: 80 },
  )('harvested = consumed + stored + clipped at every power cycle', ({ model, engine, farads, voff, window, headroom, harvester }) => {
    const von = voff + window;
    const capacitor: Capacitor = { farads, von, voff, ...(headroom !== undefined ? { vmax: von + headroom } : {}) };
    fc.pre(ratedVmax(capacitor) >= von);
    validateCapacitor(capacitor);
    const d = deploy(model, engine);
    const m = loadModel(model);
    const ledgers: EnergyLedger[] = [];
    const ceilings: number[] = [];
    let r;
    try {
      r = runInference(d, {
        input: m.inputQ(1),
        supply: { kind: 'energy', capacitor, harvester: harvester(capacitor) },
        seed: 5,
        stallLimit: 8,
        maxPowerCycles: 300,
        onReboot: (dev) => {
          ledgers.push(dev.energyLedger());
          ceilings.push(dev.volts);
        },
      });
    } catch (e) {
      // One charge cannot fund a reboot: the device refuses the configuration (no run to judge).
      if (e instanceof ConfigError) seen.rejected++;
      fc.pre(!(e instanceof ConfigError));
      throw e;
    }
    ledgers.push(r.device.energyLedger());
    seen.runs++;
    if (r.powerCycles > 0) seen.withFailures++;
    if (ledgers[ledgers.length - 1]!.clippedJ > 0) seen.clipped++;
    for (const l of ledgers) {
      const { err, scale } = imbalance(l);
      expect(err, JSON.stringify(l)).toBeLessThanOrEqual(1e-9 * scale);
      expect(l.clippedJ).toBeGreaterThanOrEqual(0);
      expect(l.harvestedJ).toBeGreaterThanOrEqual(0);
    }
    // The capacitor never holds more than its rating allows.
    for (const v of [...ceilings, r.device.volts]) expect(v).toBeLessThanOrEqual(ratedVmax(capacitor) * (1 + 1e-12));
  });

  it('the property exercised power failures and clipping (not only trivial runs)', () => {
    expect(seen.runs).toBeGreaterThanOrEqual(60);
    expect(seen.withFailures).toBeGreaterThanOrEqual(20);
    expect(seen.clipped).toBeGreaterThanOrEqual(15);
  });

  it('a harvester stronger than the load fills the capacitor to its rating and loses the rest', () => {
    const d = deploy('lenet', 'hawaii');
    const m = loadModel('lenet');
    const capacitor: Capacitor = { farads: 100e-6, von: 2.8, voff: 2.4 };
    const r = runInference(d, { input: m.inputQ(0), supply: { kind: 'energy', capacitor, harvester: { kind: 'constant', watts: 10e-3 } }, seed: 0 });
    expect(r.completed).toBe(true);
    const l = r.device.energyLedger();
    expect(l.clippedJ).toBeGreaterThan(0);
    expect(r.device.volts).toBeCloseTo(DEVICE_MD_VMAX, 9);
    expect(l.storedJ).toBeCloseTo(energyAt(capacitor, DEVICE_MD_VMAX) - energyAt(capacitor, 2.8), 12);
  });

  it('the default rating is 3.0 V (device.md charges from Vsup = 3.0 V) and --vmax replaces it', () => {
    expect(DEVICE_MD_VMAX).toBe(3.0);
    expect(ratedVmax({ farads: 1e-4, von: 2.8, voff: 2.4 })).toBe(3.0);
    expect(ratedVmax({ farads: 1e-4, von: 2.8, voff: 2.4, vmax: 3.6 })).toBe(3.6);
    expect(() => validateCapacitor({ farads: 1e-4, von: 3.1, voff: 2.4 })).toThrow(ConfigError);
    expect(() => validateCapacitor({ farads: 1e-4, von: 3.1, voff: 2.4, vmax: 3.3 })).not.toThrow();
  });
});
