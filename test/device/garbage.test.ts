/**
 * SRAM garbage after power-on: Device.fillGarbage copies the last pattern drawn when the
 * (seed, boot) pair repeats (exploration's sub-runs all reboot alike); drawGarbage is its slow twin.
 */
import { describe, it, expect } from 'vitest';
import { Device, drawGarbage, SRAM_WORDS } from '../../src/device/device.js';
import { msp430fr5994 } from '../../src/device/profile.js';

function device(seed: number, start?: { action: number; boots: number; failures: number }, reuse?: Device): Device {
  return new Device({ profile: msp430fr5994, placement: 'spi-fram', supply: { kind: 'continuous' }, seed, rom: new Int16Array(0), ...(start ? { start } : {}), ...(reuse ? { reuse } : {}) });
}

function expected(seed: number, boots: number): Uint32Array {
  const w = new Uint32Array(SRAM_WORDS / 2);
  drawGarbage(w, seed, boots);
  return w;
}

describe('garbage after power-on', () => {
  it('the cached pattern equals the drawn one, whatever the order of seeds and boots', () => {
    let prev: Device | undefined;
    for (const [seed, boots] of [[3, 2], [3, 2], [4, 2], [3, 2], [3, 3], [3, 3], [0xffffffff, 2], [3, 2]] as const) {
      const d = device(seed, { action: 10, boots, failures: boots - 1 }, prev);
      expect(new Uint32Array(d.sram.buffer)).toEqual(expected(seed >>> 0, boots));
      expect(d.defined.every((x) => x === 0)).toBe(true);
      prev = d;
    }
  });

  it('reboots draw the next boot pattern; different seeds and boots differ', () => {
    const d = device(7);
    expect(new Uint32Array(d.sram.buffer)).toEqual(expected(7, 1));
    d.reboot();
    expect(new Uint32Array(d.sram.buffer)).toEqual(expected(7, 2));
    d.reboot();
    expect(new Uint32Array(d.sram.buffer)).toEqual(expected(7, 3));
    expect(expected(7, 2)).not.toEqual(expected(7, 3));
    expect(expected(7, 2)).not.toEqual(expected(8, 2));
  });
});

describe('journaled NVM', () => {
  it('rollback restores every byte written since startJournal, through writeU8 and writeBytes, sharing or not', async () => {
    const { PagedMemory } = await import('../../src/device/paged.js');
    const m = new PagedMemory(1 << 16);
    for (let a = 0; a < 4096; a += 7) m.writeU8(a, a & 0xff);
    const before = m.snapshot();
    m.startJournal();
    m.writeBytes(250, Uint8Array.from({ length: 600 }, (_, i) => (i * 13) & 0xff), 0, 600);
    m.writeU8(3, 99);
    m.writeU8(3, 100);
    const mid = m.snapshot(); // a snapshot taken while journaling keeps its state
    m.writeU8(60000, 5);
    expect(m.equals(before)).toBe(false);
    m.rollback();
    expect(m.firstDifference(before)).toBe(-1);
    expect(mid.readU8(3)).toBe(100);
    expect(mid.readU8(251)).toBe(13);
    expect(() => m.rollback()).toThrow(/not journaling/);
  });
});
