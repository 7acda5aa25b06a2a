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
