/**
 * Incremental progress truth for linear exploration (a shortcut with a slow twin).
 *
 * Linear exploration visits the NVM states after each write unit of an uninterrupted run, in
 * order. Two consecutive states differ in one unit, so the durable truth and the seeker's view
 * change for at most the one job that unit belongs to -- except when a record commit lands
 * (new layer or new slot state: recompute everything once) or a HAWAII counter moves (its view
 * is a prefix, compared in O(1)). `CursorMonitor` keeps (durable, view) per job of the resume
 * layer up to date under that rule; `checkSeek` in properties.ts computes the same from scratch.
 * test/properties/monitor.test.ts checks the two agree on every state of small runs.
 */
import type { PagedMemory } from '../device/paged.js';
import type { Inspector } from '../model/engine/inspect.js';
import { CounterStore, type ModelRecord } from '../model/engine/record.js';

export interface MonitorView {
  /** Layer a reboot would resume. */
  readonly layer: number;
  /** Length of the durable prefix of its jobs. */
  readonly durable: number;
  /** Jobs whose seeker view disagrees with durable truth (JAPARI: any way; HAWAII: finished but not durable). */
  readonly mismatches: number;
  /** First disagreeing job, or -1. */
  readonly firstMismatch: number;
  readonly seeks: boolean;
}

export class CursorMonitor {
  private layer = -1;
  private rec!: ModelRecord;
  private recKey = '';
  private durableFlags = new Uint8Array(0);
  private viewFlags = new Uint8Array(0);
  private wordToJob = new Int32Array(0);
  private mism = 0;
  private D = 0;
  private epoch = 0;
  private readonly counters: CounterStore;
  private readonly recLo: number;
  private readonly recHi: number;
  private readonly read: (a: number) => number;
  private readonly words: Int32Array;

  constructor(
    private readonly insp: Inspector,
    private readonly nvm: () => PagedMemory,
    private readonly ledger: () => PagedMemory,
  ) {
    const p = insp.plan;
    this.counters = new CounterStore(p.nvm.counters);
    this.recLo = p.nvm.record;
    this.recHi = p.nvm.record + 2 * p.nvm.recordBytes;
    this.read = (a) => this.nvm().readU8(a);
    this.words = new Int32Array(p.B + 1);
    this.refreshRecord(true);
  }

  /** The current view (after all applied units). */
  view(): MonitorView {
    const seeks = this.layer < this.insp.plan.layers.length && this.insp.seeks(this.layer);
    if (this.insp.kind === 'hawaii' && seeks) {
      const c = Math.floor(this.counters.peek(this.read, this.layer) / this.insp.plan.B);
      const mism = c > this.D ? c - this.D : 0;
      return { layer: this.layer, durable: this.D, mismatches: mism, firstMismatch: mism > 0 ? this.D : -1, seeks };
    }
    let first = -1;
    if (this.mism > 0) for (let j = 0; j < this.viewFlags.length && first < 0; j++) if (this.viewFlags[j] !== this.durableFlags[j]) first = j;
    return { layer: this.layer, durable: this.D, mismatches: this.mism, firstMismatch: first, seeks };
  }

  /** The cursor jumped over many units: recompute everything from the current memories. */
  resync(): void {
    this.refreshRecord(true);
  }

  /** One write unit landed at `addr` (the cursor memories already hold it). */
  onUnit(addr: number): void {
    if (addr >= this.recLo && addr < this.recHi) {
      this.refreshRecord(false);
      return;
    }
    const layers = this.insp.plan.layers;
    if (this.layer >= layers.length || this.insp.kind === 'none') return;
    const l = layers[this.layer]!;
    const rel = addr - l.out.base;
    if (rel < 0 || rel >= 2 * l.out.words) return;
    const j = this.wordToJob[rel >> 1]!;
    if (j >= 0) this.update(j);
  }

  private refreshRecord(force: boolean): void {
    const rec = this.insp.record(this.read);
    const key = `${rec.layerIdx}|${rec.runCounter}|${rec.running}|${rec.slots.map((s) => `${s.state}:${s.tps.join(',')}`).join(';')}`;
    if (!force && key === this.recKey) return;
    this.recKey = key;
    this.rec = rec;
    this.layer = rec.layerIdx;
    this.epoch = (((rec.runCounter & 0xff) << 8) | ((rec.layerIdx + 1) & 0xff)) & 0xffff;
    this.rebuild();
  }

  private rebuild(): void {
    const insp = this.insp;
    const layers = insp.plan.layers;
    if (this.layer >= layers.length || insp.kind === 'none') {
      this.durableFlags = new Uint8Array(0);
      this.viewFlags = new Uint8Array(0);
      this.mism = 0;
      this.D = 0;
      return;
    }
    const l = layers[this.layer]!;
    const n = insp.jobs(this.layer);
    this.wordToJob = new Int32Array(l.out.words).fill(-1);
    for (let j = 0; j < n; j++) {
      const nw = insp.jobWords(this.layer, j, this.words);
      for (let k = 0; k < nw; k++) {
        const w = this.words[k]!;
        if (w >= 0 && w < l.out.words) this.wordToJob[w] = j;
      }
    }
    this.durableFlags = new Uint8Array(n);
    this.viewFlags = new Uint8Array(n);
    this.mism = 0;
    this.D = 0;
    for (let j = 0; j < n; j++) this.update(j);
  }

  private update(j: number): void {
    const insp = this.insp;
    const l = insp.plan.layers[this.layer]!;
    const ledger = this.ledger();
    let dur = 1;
    const nw = insp.jobWords(this.layer, j, this.words);
    for (let k = 0; k < nw; k++) {
      const a = l.out.base + 2 * this.words[k]!;
      for (let b = 0; b < 2; b++) {
        const tag = ledger.readU8(2 * (a + b)) | (ledger.readU8(2 * (a + b) + 1) << 8);
        if (tag !== this.epoch) {
          dur = 0;
          break;
        }
      }
      if (!dur) break;
    }
    const before = this.viewFlags[j] !== this.durableFlags[j];
    this.durableFlags[j] = dur;
    if (insp.kind === 'japari') this.viewFlags[j] = insp.seekerFinished(this.layer, j, this.read, this.rec) ? 1 : 0;
    else this.viewFlags[j] = dur; // HAWAII views are compared as a prefix in view()
    const after = this.viewFlags[j] !== this.durableFlags[j];
    this.mism += (after ? 1 : 0) - (before ? 1 : 0);
    if (dur) while (this.D < this.durableFlags.length && this.durableFlags[this.D] === 1) this.D++;
    else if (j < this.D) this.D = j;
  }
}
