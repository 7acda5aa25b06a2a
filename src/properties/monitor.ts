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
import type { Inspector } from '../engines/inspect.js';
import type { ModelRecord } from '../engines/common/record.js';
import { footprintAliasing, jobTruth, viewError, type JobTruth, type LayerTruth, type TagRead } from './properties.js';

export interface MonitorView {
  /** Layer a reboot would resume. */
  readonly layer: number;
  /** Leading jobs whose work is durable, and whose work and indicator are durable. */
  readonly truth: LayerTruth;
  /** Jobs whose seeker view is unsound or incomplete (see properties.ts viewError) or reads aliased data (footprintAliasing). */
  readonly mismatches: number;
  readonly seeks: boolean;
}

export class CursorMonitor {
  private layer = -1;
  private rec!: ModelRecord;
  private recKey = '';
  private work = new Uint8Array(0);
  private ind = new Uint8Array(0);
  private bad = new Uint8Array(0);
  private wordToJob = new Int32Array(0);
  /** Indicator words outside the layer's output (by even byte address) and their jobs. */
  private outsideToJob = new Map<number, number>();
  private mism = 0;
  private dWork = 0;
  private dInd = 0;
  private epoch = 0;
  private readonly recLo: number;
  private readonly recHi: number;
  private readonly read: (a: number) => number;
  private readonly tag: TagRead;
  private readonly scratch: Int32Array;
  private readonly t: JobTruth = { work: false, indicator: false };

  constructor(
    private readonly insp: Inspector,
    private readonly nvm: () => PagedMemory,
    ledger: () => PagedMemory,
    /** A previous inference ran before (properties.ts footprintAliasing). */
    private readonly warmed = false,
  ) {
    [this.recLo, this.recHi] = insp.recordRange;
    this.read = (a) => this.nvm().readU8(a);
    this.tag = (a) => {
      const l = ledger();
      return l.readU8(2 * a) | (l.readU8(2 * a + 1) << 8);
    };
    this.scratch = new Int32Array(insp.jobWordsMax + 1);
    this.refreshRecord(true);
  }

  /** The current view (after all applied units). */
  view(): MonitorView {
    const insp = this.insp;
    const seeks = this.layer < insp.layers && insp.active && insp.seeks(this.layer);
    const truth = { work: this.dWork, indicated: this.dInd };
    if (insp.finishedPrefix && seeks) {
      // A prefix view (HAWAII: j < counter / B): unsound iff it reaches past durable work.
      const c = insp.finishedPrefix(this.layer, this.read);
      return { layer: this.layer, truth, mismatches: c > this.dWork ? c - this.dWork : 0, seeks };
    }
    return { layer: this.layer, truth, mismatches: this.mism, seeks };
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
    const insp = this.insp;
    if (this.layer >= insp.layers || !insp.active) return;
    const rel = addr - insp.outputBase(this.layer);
    if (rel < 0 || rel >= 2 * insp.outputWords(this.layer)) {
      // An indicator the design keeps outside the layer's output.
      const k = this.outsideToJob.get(addr & ~1);
      if (k !== undefined) this.update(k);
      return;
    }
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
    const n = this.layer >= insp.layers || !insp.active ? 0 : insp.jobs(this.layer);
    this.work = new Uint8Array(n);
    this.ind = new Uint8Array(n);
    this.bad = new Uint8Array(n);
    this.mism = 0;
    this.dWork = 0;
    this.dInd = 0;
    // A layer without jobs maps no word (a stale map of the previous layer would route its units to jobs it has not).
    if (n === 0) {
      this.wordToJob = new Int32Array(0);
      return;
    }
    const words = insp.outputWords(this.layer);
    const base = insp.outputBase(this.layer);
    this.wordToJob = new Int32Array(words).fill(-1);
    this.outsideToJob = new Map();
    for (let j = 0; j < n; j++) {
      const nw = insp.jobWords(this.layer, j, this.scratch);
      for (let k = 0; k < nw; k++) {
        const w = this.scratch[k]!;
        if (w >= 0 && w < words) this.wordToJob[w] = j;
      }
      const ia = insp.indicatorAddr(this.layer, j);
      if (ia < 0) continue;
      const iw = (ia - base) >> 1;
      if (ia >= base && iw < words) this.wordToJob[iw] = j;
      else this.outsideToJob.set(ia & ~1, j);
    }
    for (let j = 0; j < n; j++) this.update(j);
  }

  private update(j: number): void {
    const insp = this.insp;
    const t = jobTruth(insp, this.layer, j, this.tag, this.epoch, this.scratch, this.t);
    this.work[j] = t.work ? 1 : 0;
    this.ind[j] = t.indicator ? 1 : 0;
    const before = this.bad[j]!;
    // A prefix view (HAWAII's counter) is not stored per job: view() compares the prefix instead.
    const err = insp.finishedPrefix ? null : viewError(insp.exact, insp.seekerFinished(this.layer, j, this.read, this.rec), t);
    const aliased = !err && !t.indicator && footprintAliasing(insp, this.read, this.epoch, this.layer, j, this.tag, this.warmed) !== null;
    this.bad[j] = err || aliased ? 1 : 0;
    this.mism += this.bad[j]! - before;
    this.dWork = advance(this.work, this.dWork, j);
    this.dInd = advance(this.ind, this.dInd, j);
  }
}

/** Keep a prefix length up to date after flags[j] changed. */
function advance(flags: Uint8Array, d: number, j: number): number {
  if (flags[j] === 0) return j < d ? j : d;
  if (j !== d) return d;
  while (d < flags.length && flags[d] === 1) d++;
  return d;
}
