/**
 * Build profiles (src/engines/reference/firmware.ts): each build's structure runs bit-exactly on
 * every reference-engine design, under continuous power and with power failures; the facts of
 * firmware-2021.md show up in the plan and in the device events; the library default is the
 * behaviour before build profiles; ablations change only costs.
 */
import { describe, it, expect } from 'vitest';
import { tinyNetwork, tinySample } from '../../src/model/builtin.js';
import { quantize, quantizeInput } from '../../src/model/quantize.js';
import { loadModel } from '../../src/model/models.js';
import { Deployment, runInference } from '../../src/engines/runner.js';
import { msp430fr5994 } from '../../src/device/profile.js';
import { FIRMWARE, FIRMWARE_IDS, firmwareOf, LIBRARY_DEFAULT_FIRMWARE, DEFAULT_FIRMWARE } from '../../src/engines/reference/firmware.js';
import { recordIncrements, versionedCounterWrite } from '../../src/engines/hawaii/rules.js';
import { num } from '../../src/engines/ops.js';
import { UsageError } from '../../src/util/errors.js';
import type { Ablation } from '../../src/engines/reference/plan.js';

function tiny(name: 'tiny-conv' | 'tiny-fc' | 'tiny-concat' | 'tiny-strided') {
  const net = tinyNetwork(name, 7);
  const q = quantize(net, [1, 2, 3, 4].map((s) => tinySample(net, s)));
  return { q, x: quantizeInput(tinySample(net, 99), q.exps.get(net.input.name)!) };
}

const params = (engine: string, batch: number, firmware?: string, ablate?: Ablation) => ({
  engine,
  batch,
  placement: 'spi-fram' as const,
  profile: msp430fr5994,
  ...(firmware ? { firmware } : {}),
  ...(ablate ? { ablate } : {}),
});

describe('build profiles', () => {
  it('an unknown build is a usage error naming the builds', () => {
    expect(() => firmwareOf('stateful-cnn-2020')).toThrow(UsageError);
    expect(() => firmwareOf('x')).toThrow(FIRMWARE_IDS.join(', '));
    expect(DEFAULT_FIRMWARE).toBe('stateful-cnn-2021-08');
  });

  it('every fact cites its source', () => {
    for (const id of FIRMWARE_IDS) expect(Object.keys(FIRMWARE[id].sources).length).toBeGreaterThan(0);
    expect(FIRMWARE['stateful-cnn-2021-02'].overlap).toBe(false);
    expect(FIRMWARE['stateful-cnn-2021-08'].overlap).toBe(true);
  });

  for (const name of ['tiny-conv', 'tiny-fc', 'tiny-concat', 'tiny-strided'] as const) {
    for (const firmware of FIRMWARE_IDS) {
      for (const engine of ['continuous', 'hawaii', 'japari']) {
        for (const batch of engine === 'continuous' ? [1] : [1, 2, 4]) {
          it(`${name} ${engine} B=${batch} on ${firmware}: bit-exact, no undefined reads`, () => {
            const { q, x } = tiny(name);
            const d = new Deployment(q, params(engine, batch, firmware));
            const r = runInference(d, { input: x, supply: { kind: 'continuous' }, seed: 1 });
            expect(r.completed).toBe(true);
            expect(Array.from(r.output)).toEqual(Array.from(r.reference));
            expect(r.undefinedReads).toBe(0);
          });
        }
      }
    }
  }

  it('power failures at every 37th action: the 2021 builds still recover bit-exactly', () => {
    const { q, x } = tiny('tiny-conv');
    for (const firmware of ['stateful-cnn-2021-02', 'stateful-cnn-2021-08']) {
      for (const engine of ['hawaii', 'japari']) {
        for (const batch of [1, 2]) {
          const d = new Deployment(q, params(engine, batch, firmware));
          const failAt = Array.from({ length: 40 }, (_, i) => 5 + 37 * (i + 1) * (i + 2));
          const r = runInference(d, { input: x, supply: { kind: 'schedule', failAt }, seed: 3 });
          expect([firmware, engine, batch, r.completed]).toEqual([firmware, engine, batch, true]);
          expect(Array.from(r.output)).toEqual(Array.from(r.reference));
        }
      }
    }
  });

  it('no firmware = the behaviour before build profiles (stateful-cnn-later), event for event', () => {
    const { q, x } = tiny('tiny-conv');
    for (const engine of ['continuous', 'hawaii', 'japari']) {
      const a = runInference(new Deployment(q, params(engine, 2)), { input: x, supply: { kind: 'continuous' }, seed: 1 });
      const b = runInference(new Deployment(q, params(engine, 2, LIBRARY_DEFAULT_FIRMWARE)), { input: x, supply: { kind: 'continuous' }, seed: 1 });
      expect([a.cycles, a.actions]).toEqual([b.cycles, b.actions]);
    }
  });

  it('the 2021 plan: a merge after every Conv/Gemm, op_filters 4, the later plan merges only split layers', () => {
    const { q } = tiny('tiny-conv');
    const later = new Deployment(q, params('hawaii', 1, 'stateful-cnn-later')).plan;
    const fw = new Deployment(q, params('hawaii', 1, 'stateful-cnn-2021-08')).plan;
    const computes = fw.layers.filter((l) => l.kind === 'conv' || l.kind === 'gemm');
    const merges = fw.layers.filter((l) => l.kind === 'merge');
    expect(merges.map((m) => m.node)).toEqual(computes.map((c) => c.node));
    expect(later.layers.filter((l) => l.kind === 'merge').length).toBeLessThan(merges.length);
    for (const g of fw.layers) if (g.kind === 'gemm') expect(g.opFilters).toBe(4);
    expect(fw.params.piggyback).toBe(true);
    expect(new Deployment(q, params('hawaii', 1, 'stateful-cnn-2021-02')).plan.params.piggyback).toBe(false);
  });

  it('HAWAII on the 2021 builds: floor(len/B)+1 updates per vector, each two 1-byte version reads and one 4-byte write', () => {
    expect(recordIncrements(5, 2)).toEqual([2, 2, 1]);
    expect(recordIncrements(4, 2)).toEqual([2, 2, 0]);
    expect(recordIncrements(3, 1)).toEqual([1, 1, 1, 0]);
    const { q, x } = tiny('tiny-fc');
    for (const B of [1, 2, 4]) {
      const d = new Deployment(q, params('hawaii', B, 'stateful-cnn-2021-08'));
      const r = runInference(d, { input: x, supply: { kind: 'continuous' }, seed: 1, trace: true });
      const ev = r.trace!;
      const writes = ev.filter((e) => e.label === 'write footprint counter');
      const versionReads = ev.filter((e) => e.label === 'read version' && e.category === 'preserve-indicator');
      expect(versionReads.length).toBe(2 * writes.length);
      for (const w of writes) expect(w.nvm![1] - w.nvm![0]).toBe(4);
      // Expected count: sum over preserve events of floor(values / B) + 1 (no footprints under HAWAII).
      let expected = 0;
      for (const e of ev) if (e.kind.includes('dma-write') && e.category === 'preserve-output') expected += Math.floor((e.nvm![1] - e.nvm![0]) / 2 / B) + 1;
      expect(writes.length).toBe(expected);
    }
  });

  it('the versioned counter write goes to the older copy with the newer version + 1', () => {
    expect(versionedCounterWrite(num, 10, 2, 3, 4)).toEqual({ copy1: false, value: 12, version: 5 });
    expect(versionedCounterWrite(num, 10, 2, 7, 6)).toEqual({ copy1: true, value: 12, version: 8 });
    expect(versionedCounterWrite(num, 0, 1, 255, 0)).toEqual({ copy1: false, value: 1, version: 1 });
  });

  it('ablations change costs only: outputs stay bit-exact; no output writes / no counter writes are charged', () => {
    const { q, x } = tiny('tiny-conv');
    const run = (engine: string, ablate?: Ablation) =>
      runInference(new Deployment(q, params(engine, 2, 'stateful-cnn-2021-08', ablate)), { input: x, supply: { kind: 'continuous' }, seed: 1, trace: true });
    const base = run('continuous');
    const noOut = run('continuous', 'output-preservation');
    expect(Array.from(noOut.output)).toEqual(Array.from(noOut.reference));
    expect(noOut.breakdown['preserve-output'].cycles).toBe(0);
    expect(noOut.latencyS).toBeLessThan(base.latencyS);
    const h = run('hawaii');
    const hNo = run('hawaii', 'indicator-preservation');
    expect(Array.from(hNo.output)).toEqual(Array.from(hNo.reference));
    expect(hNo.trace!.filter((e) => e.label === 'write footprint counter' && e.category === 'preserve-indicator').length).toBe(0);
    expect(hNo.latencyS).toBeLessThan(h.latencyS);
    const j = run('japari', 'output-preservation');
    expect(j.breakdown['preserve-output'].cycles).toBe(0);
  });

  it('JAPARI on the 2021 builds copies FC weights one B-group per call (B = 1: op_filters times the Baseline)', () => {
    const m = loadModel('lenet');
    const count = (engine: string, firmware: string) => {
      const r = runInference(new Deployment(m.q, params(engine, 1, firmware)), { input: m.inputQ(0), supply: { kind: 'continuous' }, seed: 1, trace: true });
      return r.trace!.filter((e) => e.label === 'fetch weight row').length;
    };
    const base = count('continuous', 'stateful-cnn-2021-08');
    const jap = count('japari', 'stateful-cnn-2021-08');
    // Per weight row: one call per call of op_filters outputs (Baseline), one per output (JAPARI, B = 1).
    const plan = new Deployment(m.q, params('japari', 1, 'stateful-cnn-2021-08')).plan;
    let rows = 0;
    let perOutput = 0;
    for (const g of plan.layers) {
      if (g.kind !== 'gemm') continue;
      for (const t of g.tiles) {
        rows += (t.r1 - t.r0 + 2) * g.calls.length;
        perOutput += (t.r1 - t.r0 + 2) * g.calls.reduce((s, c) => s + c.width, 0);
      }
    }
    expect([base, jap]).toEqual([rows, perOutput]);
    expect(jap).toBeGreaterThan(3 * base); // 4 x for full calls of op_filters 4
    expect(count('japari', 'stateful-cnn-later')).toBe(count('continuous', 'stateful-cnn-later'));
  });
});

describe('NVM layout', () => {
  it('a network that does not fit the NVM: a ConfigError naming the tensor, the bytes it needs and the bytes there are', () => {
    const { q } = tiny('tiny-conv');
    const small = { ...msp430fr5994, nvm: { ...msp430fr5994.nvm, 'spi-fram': { ...msp430fr5994.nvm['spi-fram'], bytes: 300 } } };
    expect(() => new Deployment(q, { ...params('hawaii', 1, 'stateful-cnn-2021-08'), profile: small })).toThrow(/tensor \S+ needs \d+ bytes in each of \d+ NVM slots .*spi-fram has 300/);
  });
});

describe('Concat as metadata', () => {
  it('the 2021 builds charge nothing for a Concat (no data moves); the later build materialises it at a cost', () => {
    const { q, x } = tiny('tiny-concat');
    for (const [firmware, free] of [['stateful-cnn-2021-08', true], ['stateful-cnn-later', false]] as const) {
      const d = new Deployment(q, params('hawaii', 1, firmware));
      const r = runInference(d, { input: x, supply: { kind: 'continuous' }, seed: 1 });
      expect(Array.from(r.output)).toEqual(Array.from(r.reference));
      const li = d.plan.layers.findIndex((l) => l.kind === 'concat');
      expect(li).toBeGreaterThanOrEqual(0);
      const lb = r.device.layerBreakdown(d.plan.layers.length)[li]!;
      // The node still runs (seek and layer commit); its data movement is what costs nothing.
      const cycles = lb.fetch.cycles + lb.compute.cycles + lb['preserve-output'].cycles + lb['preserve-indicator'].cycles;
      expect([firmware, cycles === 0]).toEqual([firmware, free]);
    }
  });
});
