/**
 * HAWAII's per-layer footprint counters in NVM (algorithms.md "HAWAII"): a versioned shadow pair
 * per layer, {value u16, version u8, pad u8} x 2. A write goes to the older copy with the newer
 * copy's version bumped, a read takes the newer copy (common/rules.ts, the rules the model record
 * follows too).
 */
import { type Device, type CatId, Cat } from '../../device/device.js';
import { num } from '../ops.js';
import { newerIsCopy1 } from '../common/rules.js';
import { readVersion } from '../common/record.js';

export class CounterStore {
  constructor(
    readonly base: number,
    /** Fault 'hawaii-single-copy': one counter per layer, written in place, read without versions. */
    readonly singleCopy = false,
  ) {}

  addr(layer: number, copy: number): number {
    return this.base + layer * 8 + copy * 4;
  }

  /** Recovery: two one-byte version reads and the newer copy's value. Returns [value, newerCopy, version]. */
  read(dev: Device, layer: number, cat: CatId = Cat.seek): [number, 0 | 1, number] {
    const COUNTER_SCRATCH = dev.profile.sramMap.counterScratch;
    if (this.singleCopy) {
      dev.dmaFromNvm(this.addr(layer, 0), COUNTER_SCRATCH, 1, cat, 'read footprint counter');
      const value = dev.load(COUNTER_SCRATCH) & 0xffff;
      dev.release(COUNTER_SCRATCH, 1);
      return [value, 1, 0];
    }
    const v0 = readVersion(dev, this.addr(layer, 0) + 2, cat);
    const v1 = readVersion(dev, this.addr(layer, 1) + 2, cat);
    const copy = newerIsCopy1(num, v0, v1) ? 1 : 0;
    dev.dmaFromNvm(this.addr(layer, copy), COUNTER_SCRATCH, 1, cat, 'read footprint counter');
    const value = dev.load(COUNTER_SCRATCH) & 0xffff;
    dev.release(COUNTER_SCRATCH, 1);
    return [value, copy, copy === 0 ? v0 : v1];
  }

  /** One 4-byte write {value, version, pad} to the given copy. */
  write(dev: Device, layer: number, copy: number, value: number, version: number, cat: CatId, label = 'write footprint counter'): void {
    if (this.singleCopy) copy = 0;
    const COUNTER_SCRATCH = dev.profile.sramMap.counterScratch;
    dev.store(COUNTER_SCRATCH, (value << 16) >> 16);
    dev.store(COUNTER_SCRATCH + 1, version & 0xff);
    dev.dmaToNvm(COUNTER_SCRATCH, this.addr(layer, copy), 2, cat, label);
    dev.release(COUNTER_SCRATCH, 2);
  }

  /** Pure view for checkers: the counter a reboot would read. */
  peek(read: (addr: number) => number, layer: number): number {
    if (this.singleCopy) return read(this.addr(layer, 0)) | (read(this.addr(layer, 0) + 1) << 8);
    const c = newerIsCopy1(num, read(this.addr(layer, 0) + 2), read(this.addr(layer, 1) + 2)) ? 1 : 0;
    return read(this.addr(layer, c)) | (read(this.addr(layer, c) + 1) << 8);
  }
}
