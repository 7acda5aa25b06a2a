/**
 * The device: copy-on-write NVM, torn writes, garbage after reboot, cost accounting of a tiny
 * program against hand-computed cycles and energy, and the capacitor arithmetic.
 */
import { describe, it, expect } from 'vitest';
import { Device, Cat, LEA_RAM_BASE, isPowerFailure, type PowerSupply } from '../../src/device/device.js';
import { PagedMemory } from '../../src/device/paged.js';
import { msp430fr5994 as P } from '../../src/device/profile.js';
import { energyAt, usableEnergy, rechargeSeconds, voltageAt, parsePowerTrace, DEVICE_MD_CAPACITOR, DEVICE_MD_RC } from '../../src/device/energy.js';
import { ConfigError } from '../../src/util/errors.js';

function device(supply: PowerSupply = { kind: 'continuous' }, extra: Partial<ConstructorParameters<typeof Device>[0]> = {}) {
  return new Device({ profile: P, placement: 'spi-fram', supply, seed: 1, rom: Int16Array.from([10, -20, 30, -40]), ...extra });
}

function failsWith(f: () => void): boolean {
  try {
    f();
    return false;
  } catch (e) {
    if (isPowerFailure(e)) return true;
    throw e;
  }
}

describe('copy-on-write NVM', () => {
  it('a snapshot is independent of later writes on either side', () => {
    const m = new PagedMemory(64 * 1024);
    m.writeI16(100, -2);
    const s = m.snapshot();
    m.writeI16(100, 7);
    s.writeI16(102, 9);
    expect(s.readI16(100)).toBe(-2);
    expect(m.readI16(100)).toBe(7);
    expect(m.readI16(102)).toBe(0);
    expect(s.readI16(102)).toBe(9);
    expect(m.firstDifference(s)).toBe(100);
    expect(m.pagesDifferingFrom(s)).toBe(1);
    const t = m.snapshot();
    expect(t.equals(m)).toBe(true);
  });

  it('never-written NVM reads as zero; values are little-endian', () => {
    const m = new PagedMemory(64 * 1024);
    expect(m.readI16(5000)).toBe(0);
    m.writeI16(10, 0x1234);
    expect(m.readU8(10)).toBe(0x34);
    expect(m.readU8(11)).toBe(0x12);
  });
});

describe('torn writes', () => {
  it('SPI FRAM lands a transfer byte by byte, ascending: a failure keeps the landed prefix', () => {
    // Three words 0x0102, 0x0304, 0x0506 over old contents 0xFFFF; fail after 3 bytes.
    const nvm = new PagedMemory(P.nvm['spi-fram'].bytes);
    for (let i = 0; i < 6; i++) nvm.writeU8(200 + i, 0xff);
    const dev = device({ kind: 'schedule', failAt: [3] }, { nvm });
    [0x0102, 0x0304, 0x0506].forEach((v, i) => dev.store(LEA_RAM_BASE + i, v));
    expect(failsWith(() => dev.dmaToNvm(LEA_RAM_BASE, 200, 3, Cat.preserveOutput, 'w'))).toBe(true);
    expect(dev.nvm.readI16(200)).toBe(0x0102);
    expect(dev.nvm.readU8(202)).toBe(0x04); // low byte of the second word landed
    expect(dev.nvm.readU8(203)).toBe(0xff); // its high byte did not: torn word 0xFF04
    expect(dev.nvm.readI16(204)).toBe(-1);
    expect(dev.action).toBe(3);
  });

  it('internal FRAM writes whole words: a failure never splits one', () => {
    const dev = new Device({ profile: P, placement: 'internal-fram', supply: { kind: 'schedule', failAt: [1] }, seed: 1, rom: new Int16Array(1) });
    dev.store(LEA_RAM_BASE, 0x0a0b);
    dev.store(LEA_RAM_BASE + 1, 0x0c0d);
    expect(failsWith(() => dev.dmaToNvm(LEA_RAM_BASE, 0, 2, Cat.preserveOutput, 'w'))).toBe(true);
    expect(dev.nvm.readI16(0)).toBe(0x0a0b);
    expect(dev.nvm.readI16(2)).toBe(0);
  });

  it('an LEA command that power interrupts leaves no result', () => {
    const dev = device({ kind: 'schedule', failAt: [0] });
    dev.store(LEA_RAM_BASE, 16384);
    dev.store(LEA_RAM_BASE + 1, 16384);
    dev.store(LEA_RAM_BASE + 2, 1234);
    expect(failsWith(() => dev.leaMatMul(LEA_RAM_BASE, 1, LEA_RAM_BASE + 1, 1, LEA_RAM_BASE + 2, Cat.compute, 'mpy'))).toBe(true);
    expect(dev.sram[LEA_RAM_BASE + 2]).toBe(1234);
  });
});

describe('volatile memory after a power failure', () => {
  it('holds seeded garbage, never zeros, and every word is undefined', () => {
    const dev = device();
    dev.store(LEA_RAM_BASE, 77);
    dev.reboot();
    const words = Array.from(dev.sram.subarray(0, 4096));
    expect(words.filter((w) => w === 0).length).toBeLessThan(10);
    expect(dev.defined.indexOf(1)).toBe(-1);
    // Reading garbage is recorded.
    dev.load(LEA_RAM_BASE);
    expect(dev.undefinedReads).toBe(1);
    // The garbage is a function of the seed and the boot number.
    const again = device();
    again.reboot();
    expect(Array.from(again.sram.subarray(0, 64))).toEqual(words.slice(0, 64));
    const other = device(undefined, { seed: 2 });
    other.reboot();
    expect(Array.from(other.sram.subarray(0, 64))).not.toEqual(words.slice(0, 64));
  });
});

describe('cost accounting of a tiny program', () => {
  it('charges the cost table event by event (hand-computed)', () => {
    const dev = device();
    dev.dmaFromRom(0, LEA_RAM_BASE, 4, Cat.fetch, 'weights'); // ROM block DMA: 30 + 2 x 4 cycles at active power
    dev.dmaFromNvm(0, LEA_RAM_BASE + 4, 2, Cat.fetch, 'input'); // SPI read: 424 + 64 x 2 cycles
    dev.leaMatMul(LEA_RAM_BASE + 4, 2, LEA_RAM_BASE, 2, LEA_RAM_BASE + 8, Cat.compute, 'mpy'); // 616 + 1.5 x 4
    dev.dmaToNvm(LEA_RAM_BASE + 8, 100, 2, Cat.preserveOutput, 'out'); // 422 + 32 x 4 bytes
    dev.cpu('add', 3, Cat.compute, 'add'); // 3 x 12
    const cycles = 30 + 2 * 4 + (424 + 64 * 2) + (616 + 1.5 * 4) + (422 + 32 * 4) + 3 * 12;
    const nj = 30 * (3.94 / 12) + 2 * (3.94 / 12) * 4 + (200 + 27.0 * 2) + (204 + 0.527 * 4) + (193 + 13.4 * 4) + 3 * 3.94;
    expect(dev.cycles).toBeCloseTo(cycles, 9);
    expect(dev.nj).toBeCloseTo(nj, 9);
    expect(dev.catCycles[Cat.fetch]).toBeCloseTo(30 + 8 + 424 + 128, 9);
    expect(dev.catCycles[Cat.preserveOutput]).toBeCloseTo(422 + 128, 9);
    expect(dev.seconds).toBeCloseTo(cycles / 16e6, 12);
    expect(dev.action).toBe(1 + 1 + 1 + 4 + 1);
    expect(dev.nvmBytesWritten).toBe(4);
  });

  it('a reboot costs 70 ms and 77.88 uJ (device.md)', () => {
    const dev = device();
    dev.reboot();
    expect(dev.seconds).toBeCloseTo(0.07, 12);
    expect(dev.nj).toBeCloseTo(77_880, 9);
  });
});

describe('capacitor arithmetic (device.md)', () => {
  it('E = 1/2 C V^2; one 100 uF charge between 2.8 V and 2.4 V holds 104 uJ', () => {
    expect(energyAt(DEVICE_MD_CAPACITOR, 2.8)).toBeCloseTo(0.5 * 100e-6 * 2.8 * 2.8, 15);
    expect(usableEnergy(DEVICE_MD_CAPACITOR)).toBeCloseTo(0.5 * 100e-6 * (2.8 ** 2 - 2.4 ** 2), 15);
    expect(usableEnergy(DEVICE_MD_CAPACITOR) * 1e6).toBeCloseTo(104, 6);
    expect(voltageAt(DEVICE_MD_CAPACITOR, energyAt(DEVICE_MD_CAPACITOR, 2.6))).toBeCloseTo(2.6, 12);
  });

  it('RC recharge: t = -R C ln((Von - Vsup) / (V - Vsup))', () => {
    expect(rechargeSeconds(DEVICE_MD_CAPACITOR, DEVICE_MD_RC, 2.4, 2.8, 0)).toBeCloseTo(-1000 * 100e-6 * Math.log((2.8 - 3.0) / (2.4 - 3.0)), 12);
    expect(rechargeSeconds(DEVICE_MD_CAPACITOR, { kind: 'rc', vsup: 2.7, ohms: 1000 }, 2.4, 2.8, 0)).toBe(Infinity);
  });

  it('constant power and recorded traces recharge by integrating the power', () => {
    const need = usableEnergy(DEVICE_MD_CAPACITOR);
    expect(rechargeSeconds(DEVICE_MD_CAPACITOR, { kind: 'constant', watts: 2e-3 }, 2.4, 2.8, 0)).toBeCloseTo(need / 2e-3, 12);
    const trace = parsePowerTrace('sec RSSI,mW\n0.00\t1.0\n0.02\t3.0\n0.04\t0.0\n', 't');
    // 1 mW for 20 ms (20 uJ), 3 mW for 20 ms (60 uJ), 0 mW for 20 ms, then the trace loops:
    // 1 mW for 20 ms (20 uJ more) and the remaining ~4 uJ at 3 mW.
    const t = rechargeSeconds(DEVICE_MD_CAPACITOR, { kind: 'trace', trace }, 2.4, 2.8, 0);
    expect(t).toBeCloseTo(0.06 + 0.02 + (need - 100e-6) / 3e-3, 9);
  });

  it('energy-driven runs die at Voff mid-event, recharge to Von and pay the reboot', () => {
    const supply: PowerSupply = { kind: 'energy', capacitor: DEVICE_MD_CAPACITOR, harvester: { kind: 'constant', watts: 0.5e-3 } };
    const dev = device(supply);
    let failed = false;
    for (let i = 0; i < 10_000 && !failed; i++) failed = failsWith(() => dev.cpu('mul', 100, Cat.compute, 'work'));
    expect(failed).toBe(true);
    expect(dev.volts).toBeCloseTo(2.4, 9);
    dev.reboot();
    expect(dev.rechargeS).toBeGreaterThan(0);
    expect(dev.volts).toBeLessThan(2.8);
  });

  it('a capacitor that cannot fund one reboot is a configuration error', () => {
    const dev = device({ kind: 'energy', capacitor: { farads: 1e-6, von: 2.8, voff: 2.4 }, harvester: { kind: 'constant', watts: 1e-3 } });
    expect(failsWith(() => dev.cpu('mul', 100_000, Cat.compute, 'x'))).toBe(true);
    expect(() => dev.reboot()).toThrow(ConfigError);
  });
});
