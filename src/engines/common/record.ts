/**
 * The persistent model record: a versioned shadow pair in NVM (HAWAII's counters, the other
 * versioned pair, are in hawaii/counters.ts; both follow the rules of common/rules.ts).
 *
 * algorithms.md "Common engine structure": the record {layer_idx, running, per-slot state} is
 * written as a versioned shadow pair (two copies; the version field is written last, so a torn
 * write leaves the older copy valid). Stateful-CNN (cnn_common.h) lays it out as
 *   running u16 | run_counter u16 | layer_idx u16 | per slot {state_bit i8, n_tp u8, tp u16 x 8} | dummy u8 | version u8
 * and commits by reading both version bytes, bumping the newer version (skipping 0) and writing
 * the whole struct to the older copy in one ascending transfer.
 *
 * HAWAII counters (algorithms.md "HAWAII"): per layer {value u16, version u8, pad u8} x 2; a
 * write goes to the older copy with version+1, a read takes the newer copy.
 */
import { type Device, Cat, type CatId } from '../../device/device.js';
import { JapariError } from '../../util/errors.js';
import { num } from '../ops.js';
import { newerIsCopy1, bumpVersion as bump, writeTarget } from './rules.js';
import { TURNING_POINTS } from '../japari/rules.js';

/** Bytes of the model record for `slots` slots (Stateful-CNN cnn_common.h Model). */
export function recordBytes(slots: number): number {
  return 6 + slots * (2 + 2 * TURNING_POINTS) + 2;
}

export interface SlotState {
  /** +1 or -1 (JAPARI's state bit, the loop-count SIGN); stored as int8. */
  state: number;
  /** Number of turning points (== tps.length). */
  count: number;
  /** Sorted turning points (slot word offsets). */
  tps: number[];
}

export interface ModelRecord {
  running: number;
  runCounter: number;
  layerIdx: number;
  slots: SlotState[];
  version: number;
  /** Which copy (0/1) this record was read from or last written to (volatile bookkeeping). */
  copy: number;
}

/** Which copy a read takes (common/rules.ts newerIsCopy1, on numbers). */
export function newerCopy(v0: number, v1: number): 0 | 1 {
  return newerIsCopy1(num, v0, v1) ? 1 : 0;
}

/** The version a write gives (common/rules.ts bumpVersion, on numbers). */
export function bumpVersion(v: number): number {
  return bump(num, v);
}

export function encodeRecord(r: ModelRecord, bytes: number): Uint8Array {
  const b = new Uint8Array(bytes);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, r.running, true);
  dv.setUint16(2, r.runCounter, true);
  dv.setUint16(4, r.layerIdx, true);
  r.slots.forEach((s, i) => {
    const o = 6 + i * (2 + 2 * TURNING_POINTS);
    if (s.tps.length > TURNING_POINTS) throw new JapariError(`turning-point table overflow: ${s.tps.length} > ${TURNING_POINTS}`);
    dv.setInt8(o, s.state);
    dv.setUint8(o + 1, s.tps.length);
    for (let k = 0; k < TURNING_POINTS; k++) dv.setUint16(o + 2 + 2 * k, k < s.tps.length ? s.tps[k]! : 0xffff, true);
  });
  b[bytes - 1] = r.version;
  return b;
}

export function decodeRecord(b: Uint8Array, slots: number, copy: number): ModelRecord {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: SlotState[] = [];
  for (let i = 0; i < slots; i++) {
    const o = 6 + i * (2 + 2 * TURNING_POINTS);
    const n = Math.min(dv.getUint8(o + 1), TURNING_POINTS);
    const tps: number[] = [];
    for (let k = 0; k < n; k++) tps.push(dv.getUint16(o + 2 + 2 * k, true));
    out.push({ state: dv.getInt8(o), count: tps.length, tps });
  }
  return {
    running: dv.getUint16(0, true),
    runCounter: dv.getUint16(2, true),
    layerIdx: dv.getUint16(4, true),
    slots: out,
    version: b[b.byteLength - 1]!,
    copy,
  };
}

/** The record as flashed with the program (Stateful-CNN first_run): state +1, no turning points. */
export function initialRecord(slots: number): ModelRecord {
  return {
    running: 0,
    runCounter: 0,
    layerIdx: 0,
    slots: Array.from({ length: slots }, () => ({ state: 1, count: 0, tps: [] })),
    version: 1,
    copy: 0,
  };
}


function bytesToSram(dev: Device, word: number, bytes: Uint8Array): void {
  for (let i = 0; i < bytes.length; i += 2) dev.store(word + (i >> 1), (bytes[i]! | ((bytes[i + 1] ?? 0) << 8)) << 16 >> 16);
}

function sramToBytes(dev: Device, word: number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i += 2) {
    const v = dev.load(word + (i >> 1));
    b[i] = v & 0xff;
    if (i + 1 < n) b[i + 1] = (v >> 8) & 0xff;
  }
  return b;
}

/** Read one version byte (as the word that holds it, one DMA element). */
export function readVersion(dev: Device, byteAddr: number, cat: CatId): number {
  const wordAddr = byteAddr & ~1;
  const scratch = dev.profile.sramMap.recordScratch;
  dev.dmaFromNvm(wordAddr, scratch, 1, cat, 'read version');
  const v = dev.load(scratch);
  dev.release(scratch, 1);
  return byteAddr & 1 ? (v >> 8) & 0xff : v & 0xff;
}

export class RecordStore {
  constructor(
    readonly base: number,
    readonly bytes: number,
    readonly slots: number,
    /** Fault 'record-version-first': the version word is written before the record. */
    readonly versionFirst = false,
  ) {}

  copyAddr(copy: number): number {
    return this.base + copy * this.bytes;
  }

  /** Boot: two one-byte version reads, then the newer copy. */
  load(dev: Device, cat: CatId = Cat.seek): ModelRecord {
    const v0 = readVersion(dev, this.copyAddr(0) + this.bytes - 1, cat);
    const v1 = readVersion(dev, this.copyAddr(1) + this.bytes - 1, cat);
    const copy = newerCopy(v0, v1);
    const scratch = dev.profile.sramMap.recordScratch;
    dev.dmaFromNvm(this.copyAddr(copy), scratch, this.bytes >> 1, cat, 'load model record');
    const r = decodeRecord(sramToBytes(dev, scratch, this.bytes), this.slots, copy);
    dev.release(scratch, this.bytes >> 1);
    return r;
  }

  /** Commit: re-read both versions, write the whole record to the older copy, version last. */
  commit(dev: Device, r: ModelRecord, cat: CatId = Cat.commit): void {
    const v0 = readVersion(dev, this.copyAddr(0) + this.bytes - 1, cat);
    const v1 = readVersion(dev, this.copyAddr(1) + this.bytes - 1, cat);
    // common/rules.ts writeTarget: the older copy, with the newer copy's version bumped.
    const target = writeTarget(num, v0, v1);
    const older = target.copy1 ? 1 : 0;
    r.version = target.version;
    r.copy = older;
    const scratch = dev.profile.sramMap.recordScratch;
    bytesToSram(dev, scratch, encodeRecord(r, this.bytes));
    dev.step('commit layer');
    if (this.versionFirst) {
      const last = (this.bytes >> 1) - 1;
      dev.dmaToNvm(scratch + last, this.copyAddr(older) + 2 * last, 1, cat, 'commit record version');
    }
    dev.dmaToNvm(scratch, this.copyAddr(older), this.bytes >> 1, cat, 'commit model record');
    dev.release(scratch, this.bytes >> 1);
  }

  /** Pure view for checkers: the record a reboot would load from this NVM. */
  peek(read: (addr: number) => number): ModelRecord {
    const v0 = read(this.copyAddr(0) + this.bytes - 1);
    const v1 = read(this.copyAddr(1) + this.bytes - 1);
    const copy = newerCopy(v0, v1);
    const b = new Uint8Array(this.bytes);
    for (let i = 0; i < this.bytes; i++) b[i] = read(this.copyAddr(copy) + i);
    return decodeRecord(b, this.slots, copy);
  }
}
