/**
 * The persistent model record and HAWAII's footprint counters: versioned shadow pairs in NVM.
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
import { type Device, Cat, type CatId } from '../device/device.js';
import { TURNING_POINTS } from './reference/plan.js';
import { JapariError } from '../util/errors.js';

export interface SlotState {
  /** +1 or -1 (JAPARI); stored as int8. */
  state: number;
  /** Sorted turning points (value offsets). */
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

/** Version comparison of Stateful-CNN get_newer_copy_id: |v0 - v1| == 1 -> larger, else smaller (wrap). */
export function newerCopy(v0: number, v1: number): 0 | 1 {
  if (Math.abs(v0 - v1) === 1) return v0 > v1 ? 0 : 1;
  return v0 <= v1 ? 0 : 1;
}

export function bumpVersion(v: number): number {
  const n = (v + 1) & 0xff;
  return n === 0 ? 1 : n;
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
    out.push({ state: dv.getInt8(o), tps });
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
    slots: Array.from({ length: slots }, () => ({ state: 1, tps: [] })),
    version: 1,
    copy: 0,
  };
}

/** Scratch SRAM words used for record and counter transfers (non-LEA SRAM, top of the low half). */
export const RECORD_SCRATCH = 1024;
const COUNTER_SCRATCH = 1000;

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
function readVersion(dev: Device, byteAddr: number, cat: CatId): number {
  const wordAddr = byteAddr & ~1;
  dev.dmaFromNvm(wordAddr, RECORD_SCRATCH, 1, cat, 'read version');
  const v = dev.load(RECORD_SCRATCH);
  dev.release(RECORD_SCRATCH, 1);
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
    dev.dmaFromNvm(this.copyAddr(copy), RECORD_SCRATCH, this.bytes >> 1, cat, 'load model record');
    const r = decodeRecord(sramToBytes(dev, RECORD_SCRATCH, this.bytes), this.slots, copy);
    dev.release(RECORD_SCRATCH, this.bytes >> 1);
    return r;
  }

  /** Commit: re-read both versions, write the whole record to the older copy, version last. */
  commit(dev: Device, r: ModelRecord, cat: CatId = Cat.commit): void {
    const v0 = readVersion(dev, this.copyAddr(0) + this.bytes - 1, cat);
    const v1 = readVersion(dev, this.copyAddr(1) + this.bytes - 1, cat);
    const newer = newerCopy(v0, v1);
    const older = 1 - newer;
    r.version = bumpVersion(newer === 0 ? v0 : v1);
    r.copy = older;
    bytesToSram(dev, RECORD_SCRATCH, encodeRecord(r, this.bytes));
    dev.step('commit layer');
    if (this.versionFirst) {
      const last = (this.bytes >> 1) - 1;
      dev.dmaToNvm(RECORD_SCRATCH + last, this.copyAddr(older) + 2 * last, 1, cat, 'commit record version');
    }
    dev.dmaToNvm(RECORD_SCRATCH, this.copyAddr(older), this.bytes >> 1, cat, 'commit model record');
    dev.release(RECORD_SCRATCH, this.bytes >> 1);
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

/** HAWAII per-layer footprint counters. */
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
    if (this.singleCopy) {
      dev.dmaFromNvm(this.addr(layer, 0), COUNTER_SCRATCH, 1, cat, 'read footprint counter');
      const value = dev.load(COUNTER_SCRATCH) & 0xffff;
      dev.release(COUNTER_SCRATCH, 1);
      return [value, 1, 0];
    }
    const v0 = readVersion(dev, this.addr(layer, 0) + 2, cat);
    const v1 = readVersion(dev, this.addr(layer, 1) + 2, cat);
    const copy = newerCopy(v0, v1);
    dev.dmaFromNvm(this.addr(layer, copy), COUNTER_SCRATCH, 1, cat, 'read footprint counter');
    const value = dev.load(COUNTER_SCRATCH) & 0xffff;
    dev.release(COUNTER_SCRATCH, 1);
    return [value, copy, copy === 0 ? v0 : v1];
  }

  /** One 4-byte write {value, version, pad} to the given copy. */
  write(dev: Device, layer: number, copy: number, value: number, version: number, cat: CatId, label = 'write footprint counter'): void {
    if (this.singleCopy) copy = 0;
    dev.store(COUNTER_SCRATCH, (value << 16) >> 16);
    dev.store(COUNTER_SCRATCH + 1, version & 0xff);
    dev.dmaToNvm(COUNTER_SCRATCH, this.addr(layer, copy), 2, cat, label);
    dev.release(COUNTER_SCRATCH, 2);
  }

  /** Pure view for checkers. */
  peek(read: (addr: number) => number, layer: number): number {
    if (this.singleCopy) return read(this.addr(layer, 0)) | (read(this.addr(layer, 0) + 1) << 8);
    const v0 = read(this.addr(layer, 0) + 2);
    const v1 = read(this.addr(layer, 1) + 2);
    const c = newerCopy(v0, v1);
    return read(this.addr(layer, c)) | (read(this.addr(layer, c) + 1) << 8);
  }
}

/** JAPARI expected state at value offset x: s * (-1)^(number of turning points <= x). */
export function psb(s: SlotState, x: number): number {
  let v = s.state;
  for (const tp of s.tps) {
    if (x >= tp) v = -v;
    else break;
  }
  return v;
}

/**
 * Layer completion (Stateful-CNN flip_state_bit): toggle a turning point at L (insert, or
 * remove if present) and negate the state bit. Throws when the table would exceed 8 entries
 * (the reference engine asserts).
 */
export function flipStateBit(s: SlotState, L: number): void {
  const i = s.tps.indexOf(L);
  if (i >= 0) s.tps.splice(i, 1);
  else {
    if (s.tps.length >= TURNING_POINTS) throw new TurningPointOverflow(L, s.tps.slice());
    s.tps.push(L);
    s.tps.sort((a, b) => a - b);
  }
  s.state = -s.state;
}

export class TurningPointOverflow extends JapariError {
  override name = 'TurningPointOverflow';
  constructor(
    readonly at: number,
    readonly table: number[],
  ) {
    super(`turning-point table full (${TURNING_POINTS} entries: ${table.join(', ')}) when toggling ${at}`);
  }
}
