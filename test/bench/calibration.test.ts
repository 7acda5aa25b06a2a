/**
 * Calibration: tiny device programs (Device events run directly) against device.md's measured
 * microbenchmarks, for both cost profiles, and hand-computed costs of short programs under
 * continuous power, a failure schedule and energy-driven supplies.
 *
 * The expected numbers are written out here from ../shared/reference/device.md, not read from
 * src/device/profile.ts, so a drifting profile fails these tests.
 */
import { describe, it, expect } from 'vitest';
import { Device, Cat, LEA_RAM_BASE, isPowerFailure, type PowerSupply } from '../../src/device/device.js';
import { msp430fr5994, msp430fr5994Tinas2024, activePowerW, type DeviceProfile } from '../../src/device/profile.js';
import { energyAt } from '../../src/device/energy.js';
import { calibrate, measure, predict, program, INAS_2021, TINAS_2024 } from '../../src/bench/calibration.js';

const HZ = 16e6;

function device(profile: DeviceProfile, supply: PowerSupply = { kind: 'continuous' }): Device {
  return new Device({ profile, placement: 'spi-fram', supply, seed: 3, rom: new Int16Array(4096), garbage: { kind: 'constant', value: 0 } });
}

/** device.md "Measured microbenchmarks at 16 MHz" (iNAS 2021), transcribed. */
const TABLE_2021 = {
  dmaRead: { fixedCycles: 424, cyclesPerWord: 64, fixedNj: 200, njPerWord: 27.0 },
  dmaWrite: { fixedCycles: 422, cyclesPerWord: 64, fixedNj: 193, njPerWord: 26.8 },
  leaMac: { fixedCycles: 616, cyclesPerElement: 1.5, fixedNj: 204, njPerElement: 0.527 },
  add: { cycles: 12, nj: 3.94 },
  mul: { cycles: 44, nj: 19.3 },
  div: { cycles: 160, nj: 43.7 },
  max: { cycles: 14, nj: 4.23 },
  reboot: { seconds: 0.07, nj: 77_880 },
};
/** device.md "2024 re-profile" (TiNAS). */
const TABLE_2024 = {
  dmaRead: { fixedCycles: 430, cyclesPerWord: 64, njPerWord: 24.1 },
  dmaWrite: { fixedCycles: 421, cyclesPerWord: 64, njPerWord: 23.9 },
  leaMac: { fixedCycles: 622, cyclesPerElement: 1.5, fixedNj: 206, njPerElement: 0.503 },
  reboot: { seconds: 0.055, nj: 77_880 },
  copySramSram: 3.89,
};

describe('calibration against device.md microbenchmarks', () => {
  for (const n of [1, 17, 100, 512]) {
    it(`iNAS 2021: DMA read / write of ${n} words, LEA MAC of ${n} elements`, () => {
      const t = TABLE_2021;
      const rd = measure(msp430fr5994, program('dma-read', n));
      expect(rd.cycles).toBeCloseTo(t.dmaRead.fixedCycles + t.dmaRead.cyclesPerWord * n, 9);
      expect(rd.nj).toBeCloseTo(t.dmaRead.fixedNj + t.dmaRead.njPerWord * n, 9);
      const wr = measure(msp430fr5994, program('dma-write', n));
      expect(wr.cycles).toBeCloseTo(t.dmaWrite.fixedCycles + t.dmaWrite.cyclesPerWord * n, 9);
      expect(wr.nj).toBeCloseTo(t.dmaWrite.fixedNj + t.dmaWrite.njPerWord * n, 9);
      const mac = measure(msp430fr5994, program('lea-mac', n));
      expect(mac.cycles).toBeCloseTo(t.leaMac.fixedCycles + t.leaMac.cyclesPerElement * n, 9);
      expect(mac.nj).toBeCloseTo(t.leaMac.fixedNj + t.leaMac.njPerElement * n, 9);
    });
  }

  it('iNAS 2021: CPU operations and reboot', () => {
    const t = TABLE_2021;
    for (const [id, row] of [
      ['cpu-add', t.add],
      ['cpu-mul', t.mul],
      ['cpu-div', t.div],
      ['cpu-max', t.max],
    ] as const) {
      const one = measure(msp430fr5994, program(id, 1));
      expect(one.cycles, id).toBe(row.cycles);
      expect(one.nj, id).toBeCloseTo(row.nj, 12);
      const ten = measure(msp430fr5994, program(id, 10));
      expect(ten.cycles, id).toBe(10 * row.cycles);
      expect(ten.nj, id).toBeCloseTo(10 * row.nj, 9);
    }
    const rb = measure(msp430fr5994, program('reboot', 1));
    expect(rb.cycles).toBe(t.reboot.seconds * HZ);
    expect(rb.seconds).toBeCloseTo(t.reboot.seconds, 12);
    expect(rb.nj).toBe(t.reboot.nj);
  });

  it('TiNAS 2024: DMA, LEA MAC, reboot and word copies', () => {
    const t = TABLE_2024;
    const n = 300;
    const p = msp430fr5994Tinas2024;
    const rd = predict(p, 'dma-read');
    expect(rd.fixedCycles).toBeCloseTo(t.dmaRead.fixedCycles, 9);
    expect(rd.cyclesPerElement).toBeCloseTo(t.dmaRead.cyclesPerWord, 9);
    expect(rd.njPerElement).toBeCloseTo(t.dmaRead.njPerWord, 9);
    const wr = predict(p, 'dma-write');
    expect(wr.fixedCycles).toBeCloseTo(t.dmaWrite.fixedCycles, 9);
    expect(wr.cyclesPerElement).toBeCloseTo(t.dmaWrite.cyclesPerWord, 9);
    expect(wr.njPerElement).toBeCloseTo(t.dmaWrite.njPerWord, 9);
    const mac = measure(p, program('lea-mac', n));
    expect(mac.cycles).toBeCloseTo(t.leaMac.fixedCycles + t.leaMac.cyclesPerElement * n, 9);
    expect(mac.nj).toBeCloseTo(t.leaMac.fixedNj + t.leaMac.njPerElement * n, 9);
    const rb = measure(p, program('reboot', 1));
    expect(rb.seconds).toBeCloseTo(t.reboot.seconds, 12);
    expect(rb.nj).toBe(t.reboot.nj);
    expect(measure(p, program('copy-sram-sram', 1)).nj).toBeCloseTo(t.copySramSram, 12);
    // The CPU rows are not re-profiled: the 2024 profile keeps the 2021 numbers.
    expect(measure(p, program('cpu-mul', 1))).toMatchObject({ cycles: TABLE_2021.mul.cycles });
  });

  it('the calibration table of the report is exact for every number device.md gives', () => {
    for (const [id, p] of [
      ['inas2021', msp430fr5994],
      ['tinas2024', msp430fr5994Tinas2024],
    ] as const) {
      const rows = calibrate(id, p);
      expect(rows.map((r) => r.id)).toEqual((id === 'inas2021' ? INAS_2021 : TINAS_2024).map((m) => m.id));
      for (const r of rows) expect(r.max_rel_error, `${id} ${r.id}`).toBeLessThan(1e-9);
    }
  });

  it('the modelled active power is the datasheet current x clock x supply voltage', () => {
    // device.md: "Active current about 118 uA/MHz (about 1.9 mA at 16 MHz)"; 3.0 V.
    expect(activePowerW(msp430fr5994)).toBeCloseTo(118e-6 * 16 * 3.0, 12);
    // The add microbenchmark's energy per cycle is within 10% of the datasheet's.
    expect(3.94 / 12 / ((activePowerW(msp430fr5994) / HZ) * 1e9)).toBeGreaterThan(0.9);
  });
});

describe('hand-computed tiny programs', () => {
  it('continuous power: read 10 words, MAC 10 elements, write 10 words, 3 adds', () => {
    const dev = device(msp430fr5994);
    dev.dmaFromNvm(0, LEA_RAM_BASE, 10, Cat.fetch, 'read');
    for (let i = 0; i < 10; i++) dev.store(LEA_RAM_BASE + 10 + i, 1);
    dev.leaMatMul(LEA_RAM_BASE, 10, LEA_RAM_BASE + 10, 1, LEA_RAM_BASE + 20, Cat.compute, 'mac');
    dev.dmaToNvm(LEA_RAM_BASE, 100, 10, Cat.preserveOutput, 'write');
    dev.cpu('add', 3, Cat.compute, 'adds');
    // (424 + 640) + (616 + 15) + (422 + 640) + 36 = 2793 cycles.
    expect(dev.cycles).toBeCloseTo(2793, 9);
    // (200 + 270) + (204 + 5.27) + (193 + 268) + 11.82 = 1152.09 nJ.
    expect(dev.nj).toBeCloseTo(1152.09, 9);
    expect(dev.seconds).toBeCloseTo(2793 / HZ, 15);
    const b = dev.breakdown();
    expect(b.fetch.cycles).toBeCloseTo(1064, 9);
    expect(b.compute.cycles).toBeCloseTo(631 + 36, 9);
    expect(b['preserve-output'].cycles).toBeCloseTo(1062, 9);
    expect(b['preserve-output'].nj).toBeCloseTo(461, 9);
    expect(dev.nvmBytesWritten).toBe(20);
    expect(dev.action).toBe(1 + 1 + 20 + 1); // read, LEA, 20 SPI bytes, CPU step
  });

  it('a torn SPI write lands a prefix of its bytes and charges only what ran', () => {
    const dev = device(msp430fr5994, { kind: 'schedule', failAt: [7] });
    for (let i = 0; i < 8; i++) dev.store(i, 0x1111 * (i + 1));
    let failed = false;
    try {
      dev.dmaToNvm(0, 0, 8, Cat.preserveOutput, 'write');
    } catch (e) {
      failed = isPowerFailure(e);
    }
    expect(failed).toBe(true);
    // 7 of 16 bytes landed: the setup plus 7 x 32 cycles, 193 + 7 x 13.4 nJ.
    expect(dev.nvmBytesWritten).toBe(7);
    expect(dev.cycles).toBeCloseTo(422 + 7 * 32, 9);
    expect(dev.nj).toBeCloseTo(193 + 7 * 13.4, 9);
    expect(Array.from({ length: 8 }, (_, i) => dev.nvm.readU8(i))).toEqual([0x11, 0x11, 0x22, 0x22, 0x33, 0x33, 0x44, 0x00]);
  });

  it('the LEA overlapped with a DMA write takes the longer time and the sum of the energies', () => {
    const dev = device(msp430fr5994);
    for (let i = 0; i < 64; i++) dev.store(LEA_RAM_BASE + i, 1);
    // LEA: 1 x 16 by 16 x 2 = 32 MACs: 616 + 48 = 664 cycles; DMA write of 8 words: 422 + 512 = 934 cycles.
    dev.leaMatMulWhileWriting(LEA_RAM_BASE, 16, LEA_RAM_BASE + 16, 2, LEA_RAM_BASE + 48, LEA_RAM_BASE, 0, 8, Cat.compute, Cat.preserveOutput, 'pair');
    expect(dev.cycles).toBeCloseTo(Math.max(664, 934), 9);
    expect(dev.nj).toBeCloseTo(204 + 0.527 * 32 + 193 + 26.8 * 8, 9);
  });

  it('constant harvester: the capacitor loses the event energy and gains P x duration', () => {
    const cap = { farads: 100e-6, von: 2.8, voff: 2.4 };
    const dev = device(msp430fr5994, { kind: 'energy', capacitor: cap, harvester: { kind: 'constant', watts: 1e-3 } });
    const e0 = energyAt(cap, 2.8); // 392 uJ
    dev.dmaFromNvm(0, 0, 100, Cat.fetch, 'read');
    const t = (424 + 6400) / HZ;
    const e1 = e0 - (200 + 2700) * 1e-9 + 1e-3 * t;
    expect(dev.volts).toBeCloseTo(Math.sqrt((2 * e1) / cap.farads), 12);
  });

  it('RC harvester: the device dies at Voff and recharges in -R C ln((Von - Vsup) / (Voff - Vsup))', () => {
    const cap = { farads: 100e-6, von: 2.8, voff: 2.4 };
    const dev = device(msp430fr5994, { kind: 'energy', capacitor: cap, harvester: { kind: 'rc', vsup: 3.0, ohms: 1000 } });
    let failed = false;
    try {
      // About 104 uJ in the capacitor; 200 reads of 512 words cost far more.
      for (let i = 0; i < 200; i++) dev.dmaFromNvm(0, 0, 512, Cat.fetch, 'read');
    } catch (e) {
      failed = isPowerFailure(e);
    }
    expect(failed).toBe(true);
    expect(dev.volts).toBeCloseTo(2.4, 9);
    // Energy drawn = usable charge + what the harvester gave during the on-time (between 0.56 and 1.44 mW).
    const usable = energyAt(cap, 2.8) - energyAt(cap, 2.4);
    const drawn = dev.nj * 1e-9;
    expect(drawn).toBeGreaterThan(usable + 0.56e-3 * dev.onSeconds * 0.999);
    expect(drawn).toBeLessThan(usable + 1.44e-3 * dev.onSeconds * 1.001);
    dev.reboot();
    expect(dev.rechargeS).toBeCloseTo(-1000 * 100e-6 * Math.log((2.8 - 3.0) / (2.4 - 3.0)), 12);
    // The reboot: 70 ms and 77.88 uJ, with the harvester delivering at its Von power meanwhile.
    const expected = energyAt(cap, 2.8) - 77.88e-6 + ((2.8 * 0.2) / 1000) * 0.07;
    expect(dev.volts).toBeCloseTo(Math.sqrt((2 * expected) / cap.farads), 12);
  });
});
