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
import { FIRMWARE, FIRMWARE_IDS, firmwareOf, LIBRARY_DEFAULT_FIRMWARE, DEFAULT_FIRMWARE, registerFirmwareVariant } from '../../src/engines/reference/firmware.js';
import { recordIncrements, versionedCounterWrite } from '../../src/engines/hawaii/rules.js';
import { num } from '../../src/engines/ops.js';
import { ConfigError, UsageError } from '../../src/util/errors.js';
import { type Ablation, slotLayoutFor, convInputTile } from '../../src/engines/reference/plan.js';

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

  it('the 2021 builds take slot count and size from transform.py per model, doubled under JAPARI; others keep japari rule', () => {
    for (const firmware of ['stateful-cnn-2021-02', 'stateful-cnn-2021-08']) {
      const fw = firmwareOf(firmware);
      expect(slotLayoutFor(fw, 'mnist', false)).toMatchObject({ slots: 2, slotBytes: 26000, convTileLimit: 26000 });
      expect(slotLayoutFor(fw, 'mnist', true)).toMatchObject({ slots: 2, slotBytes: 52000 });
      expect(slotLayoutFor(fw, 'cifar10', false)).toMatchObject({ slots: 3, slotBytes: 65000 });
      expect(slotLayoutFor(fw, 'cifar10', true)).toMatchObject({ slots: 3, slotBytes: 130000 });
      expect(slotLayoutFor(fw, 'kws', false)).toMatchObject({ slots: 2, slotBytes: 20000 });
      expect(slotLayoutFor(fw, 'kws', true).origin).toContain('doubled for JAPARI');
      for (const other of ['lenet', 'har', 'tiny-conv']) expect(slotLayoutFor(fw, other, false)).toMatchObject({ slots: 3, slotBytes: null, convTileLimit: null });
    }
    expect(slotLayoutFor(FIRMWARE['stateful-cnn-later'], 'mnist', true)).toMatchObject({ slots: 3, slotBytes: null });
    // An explicit slot count replaces the config's.
    expect(slotLayoutFor(firmwareOf('stateful-cnn-2021-08'), 'mnist', false, 4).slots).toBe(4);
  });

  it('japari rule (unconfigured models): every slot is the largest stored tensor rounded up to 16 bytes', () => {
    const { q } = tiny('tiny-conv');
    for (const firmware of FIRMWARE_IDS) {
      const p = new Deployment(q, params('japari', 2, firmware)).plan;
      const largest = Math.max(...p.layers.map((l) => 2 * l.out.words));
      expect(p.nvm.slotBytes).toBe(Math.ceil(largest / 16) * 16);
      expect(p.nvm.origin).toContain("japari's rule");
    }
  });

  it('a configured slot too small for a tensor: ConfigError naming it, its bytes and the slot bytes and origin; nothing planned', () => {
    const { q } = tiny('tiny-conv');
    // A build variant whose config for this network has 40-byte slots and no tile rule: the first
    // stored tensor (conv partial sums, 4 x 4 x 3 values) does not fit.
    const id = registerFirmwareVariant('stateful-cnn-2021-08', 'nvm-test-small', (f) => ({
      ...f,
      nvm: { ...f.nvm!, convTileFitsSlot: false, models: { [q.net.name]: { slots: 2, slotBytes: 40 } } },
    }));
    let err: unknown;
    try {
      new Deployment(q, params('hawaii', 1, id));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).not.toContain('\n');
    expect(msg).toMatch(/tensor \S+#partials \(partial sums of 1 input tile before the merge\) needs \d+ bytes, its NVM slot holds 40 \(.*2 slots of 40 bytes/);
    // JAPARI: the footprint-extended tensor, against the doubled slot.
    expect(() => new Deployment(q, params('japari', 1, id))).toThrow(/with JAPARI footprints, B = 1\) needs \d+ bytes, its NVM slot holds 80 \(.*doubled for JAPARI/);
  });

  it('the transform.py slot rule for conv partial sums: it never changes the tile, it refuses a tile whose partial sums overflow a slot', () => {
    // C = 8, OC = 16, 10 x 10 outputs: the LEA tile is 8 channels, params_len = 8 / 8 * 1600 * 2 = 3200 bytes.
    const fit = (slotBytes: number) => ({ tensor: 'c#partials', outValues: 1600, slotBytes, origin: 'cfg' });
    expect(convInputTile(8, 16, 3, 3, 1884, 4, 'x')).toBe(8);
    expect(convInputTile(8, 16, 3, 3, 1884, 4, 'x', fit(3201))).toBe(8);
    expect(() => convInputTile(8, 16, 3, 3, 1884, 4, 'node c (conv)', fit(3200))).toThrow(
      /^node c \(conv\): tensor c#partials \(partial sums of 1 input tile before the merge\) needs 3200 bytes, an NVM slot holds 3200 \(cfg\)/,
    );
    // A tile of 2 channels (LEA-bound): 4 slices, params_len 4 x 3200.
    const ict = convInputTile(16, 64, 5, 5, 1884, 4, 'y');
    expect(ict).toBeLessThan(16);
    expect(convInputTile(16, 64, 5, 5, 1884, 4, 'y', { ...fit((16 / ict) * 3200 + 1), outValues: 1600 })).toBe(ict);
    expect(() => convInputTile(16, 64, 5, 5, 1884, 4, 'y', fit((16 / ict) * 3200))).toThrow(`partial sums of ${16 / ict} input tiles`);
  });

  it('the authors models fit their configured slots on both 2021 builds, every design and B', () => {
    for (const model of ['mnist', 'kws', 'cifar10']) {
      let m;
      try {
        m = loadModel(model);
      } catch {
        console.warn(`skipped ${model}: ../shared/models is not present`);
        continue;
      }
      for (const firmware of ['stateful-cnn-2021-02', 'stateful-cnn-2021-08']) {
        for (const engine of ['continuous', 'hawaii', 'japari', 'stateful']) {
          for (const batch of engine === 'continuous' ? [1] : [1, 2, 4]) {
            const p = new Deployment(m.q, params(engine, batch, firmware)).plan;
            const cfg = { mnist: [2, 26000], kws: [2, 20000], cifar10: [3, 65000] }[model]!;
            expect([model, p.nvm.slots.length, p.nvm.slotBytes]).toEqual([model, cfg[0], engine === 'japari' ? 2 * cfg[1]! : cfg[1]]);
            for (const l of p.layers) expect(2 * l.out.words).toBeLessThanOrEqual(p.nvm.slotBytes);
            // Slots follow one another (intermediate_values_offset(slot) = base + slot * size).
            expect(p.nvm.slots.map((b, i) => b - p.nvm.slots[0]! - i * p.nvm.slotBytes)).toEqual(p.nvm.slots.map(() => 0));
          }
        }
      }
    }
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
