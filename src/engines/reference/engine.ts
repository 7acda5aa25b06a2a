/**
 * The reference engine (Stateful-CNN's structure): the kernels every progress-preservation
 * design of that engine shares, and the hooks where a design preserves progress.
 *
 * Read it next to algorithms.md "Common engine structure". One boot runs `boot()`:
 *
 *   boot:      load the model record (versioned shadow pair)
 *              not running -> start an inference, commit
 *   per layer: seek progress           preservation.seek (HAWAII: counter / B; JAPARI: binary
 *                                      search over footprints, first layer after a reboot only)
 *              run the layer's kernel from the recovered position:
 *                fetch tile -> compute (LEA) -> preserve job (one DMA of values [+ indicators])
 *                -> update indicators (preservation.beforeWrite / afterWrite)
 *              end the layer           preservation.layerEnd: the state flips and commits
 *
 * The design's rules live in its own folder (continuous/, hawaii/, japari/, stateful/), as a
 * `Preservation` (reference/preservation.ts) built per boot; nothing here compares engine names.
 *
 * State kept where (and why it is safe):
 *   NVM:      model record pair, feature-map slots, the input sample, the design's indicators
 *   volatile: the record copy, the design's caches, filter/input tiles and results in LEA RAM;
 *             all re-derived from NVM after a reboot (the engine object is re-created per boot;
 *             LEA RAM is garbage).
 *
 * Every volatile variable that survives across checkpoints is folded into `carry()`, so that
 * exploration can prune soundly (src/properties/explore.ts).
 */
import { type Device, Cat, type CatId, SRAM_WORDS } from '../../device/device.js';
import type {
  EnginePlan,
  EngineLayer,
  ConvLayer,
  GemmLayer,
  MergeLayer,
  ReluLayer,
  MaxPoolLayer,
  GapLayer,
  ConcatLayer,
  AddLayer,
  TensorRef,
} from './plan.js';
import { chanWord, isFootprintWord } from '../../model/layout.js';
import { RecordStore, type ModelRecord } from '../common/record.js';
import { assertNever, JapariError } from '../../util/errors.js';
import type { FaultSet } from '../catalogue.js';
import type { Preservation } from './preservation.js';
import { slotWordOf } from './geometry.js';
import { num } from '../ops.js';
import { flipStateBit } from '../japari/rules.js';
import { planFirmware } from './plan.js';
import type { FirmwareProfile } from './firmware.js';

export type { SeekOutcome } from './preservation.js';

/** Checkpoint position: layer in the high part, the step's first output word in the low part. */
export function positionOf(layer: number, word: number): number {
  return layer * 4294967296 + word;
}

/** Builds a design's preservation for one boot of an engine. */
export type PreservationFactory = (engine: ReferenceEngine) => Preservation;

export class ReferenceEngine {
  readonly plan: EnginePlan;
  readonly B: number;
  readonly records: RecordStore;
  readonly faults: FaultSet;
  readonly fixes: ReadonlySet<string>;
  readonly preservation: Preservation;
  /** The device of the current boot. */
  dev!: Device;
  /** The model record as loaded at boot and updated by the engine. */
  rec!: ModelRecord;
  /** Non-LEA SRAM staging for reads that strip footprints (profile sramMap). */
  readonly stage: number;
  readonly stageWords: number;
  /** Row tile start of the conv kernel and whether a result write is pending (piggyback). */
  private rowTileStart = -1;
  private pendingWrite = 0;
  /** The firmware build (firmware.ts) and whether output writes are ablated. */
  readonly fw: FirmwareProfile;
  private readonly noOutputs: boolean;

  constructor(plan: EnginePlan, faults: FaultSet, preservation: PreservationFactory) {
    this.plan = plan;
    this.fw = planFirmware(plan);
    this.noOutputs = plan.params.ablate === 'output-preservation';
    this.B = plan.B;
    this.faults = new Set([...faults, ...plan.params.faults]);
    this.fixes = new Set(plan.params.fixes);
    this.records = new RecordStore(plan.nvm.record, plan.nvm.recordBytes, plan.nvm.slots.length, this.faults.has('record-version-first'));
    this.stage = plan.params.profile.sramMap.stage;
    this.stageWords = plan.params.profile.sramMap.stageWords;
    this.preservation = preservation(this);
  }

  /** Hash of every volatile variable that lives across checkpoints (for sound pruning). */
  carry(): number {
    let h = 0x9e3779b1;
    const mix = (v: number) => {
      h = Math.imul(h ^ (v | 0), 0x85ebca6b) >>> 0;
      h = (h ^ (h >>> 13)) >>> 0;
    };
    this.preservation.carry(mix);
    mix(this.rowTileStart);
    mix(this.pendingWrite);
    if (this.pendingWrite) {
      mix(this.pending.buf);
      mix(this.pending.word);
      mix(this.pending.n);
    }
    const r = this.rec;
    if (r) {
      mix(r.running);
      mix(r.layerIdx);
      mix(r.runCounter);
      mix(r.version);
      mix(r.copy);
      for (const s of r.slots) {
        mix(s.state);
        mix(s.count);
        for (const t of s.tps) mix(t);
      }
    }
    return h;
  }

  // -------------------------------------------------------------------------------------------
  // Boot entry: runs until the inference in progress completes (or power fails).

  boot(dev: Device): void {
    this.dev = dev;
    const p = this.preservation;
    p.boot();
    dev.step('boot');
    const rec = this.records.load(dev);
    this.rec = rec;
    if (rec.running === 0) {
      this.startInference(rec);
    } else if (!p.preserves) {
      // No progress preservation: a reboot restarts the inference from the first layer.
      rec.layerIdx = 0;
    }
    const layers = this.plan.layers;
    const firstLayer = rec.layerIdx;
    for (let l = rec.layerIdx; l < layers.length; l++) {
      const layer = layers[l]!;
      dev.enterLayer(l, rec.runCounter);
      // Every buffer of the previous layer is dead: each kernel loads what it reads.
      dev.release(0, SRAM_WORDS);
      p.enterLayer(layer);
      dev.step('seek progress');
      const seek = p.seek(layer);
      // Every real seek reports its conclusion (the properties check it against durable truth);
      // the first layer after a boot reports even when it did not seek (it then restarts at 0).
      if (seek.job >= 0) dev.recovered(l, seek.job, seek.resumeWord);
      else if (l === firstLayer && p.preserves && dev.boots > 1) dev.recovered(l, 0, 0);
      this.runLayer(layer, seek.resumeWord);
      this.endLayer(layer);
    }
  }

  private startInference(rec: ModelRecord): void {
    const dev = this.dev;
    dev.step('start inference');
    dev.newInference();
    rec.layerIdx = 0;
    this.preservation.startInference();
    rec.running = 1;
    this.records.commit(dev, rec);
  }

  /** Complete a layer: the design's steps (reference/preservation.ts layerEnd), in order. */
  private endLayer(layer: EngineLayer): void {
    const dev = this.dev;
    const rec = this.rec;
    const last = layer.index === this.plan.layers.length - 1;
    for (const step of this.preservation.layerEnd(layer, last)) {
      if (step.kind === 'flip') {
        const slot = rec.slots[step.slot]!;
        const t = flipStateBit(num, slot, step.L);
        slot.state = step.negate ? t.state : -t.state;
        slot.count = t.count;
        slot.tps = t.tps.slice(0, t.count);
      } else {
        rec.layerIdx = step.layerIdx;
        if (step.last && rec.running !== 0) {
          rec.running = 0;
          rec.runCounter = (rec.runCounter + 1) & 0xffff;
        }
        this.records.commit(dev, rec);
      }
    }
  }

  /** Offset (in words) of a tensor word inside its slot: what turning points speak about. */
  slotWordOf(t: TensorRef, word: number): number {
    return slotWordOf(this.plan, t, word);
  }

  // -------------------------------------------------------------------------------------------
  // Preservation helpers

  /** Number of real values among output words [word0, word0+n). */
  realValues(out: TensorRef, word0: number, n: number): number {
    const l = out.layout;
    if (l.fpEvery === 0) return n;
    let c = 0;
    for (let i = 0; i < n; i++) if (!isFootprintWord(l, (word0 + i) % l.words)) c++;
    return c;
  }

  /**
   * Preserve output words [word0, word0+n) from SRAM in one transfer, then update indicators.
   * Words before `countFrom` were already counted by HAWAII before a reboot (an aligned tile
   * re-executed from its start): they are rewritten but not counted again.
   */
  private preserve(layer: EngineLayer, bufWord: number, word0: number, n: number, countFrom = word0, perWord = false): void {
    if (n <= 0) return;
    const out = layer.out;
    this.dev.step('preserve job');
    const from = Math.min(word0 + n, Math.max(word0, countFrom));
    const fresh = this.realValues(out, from, word0 + n - from);
    const p = this.preservation;
    // Transfer size: one word on the per-element paths, one job of B values where the build
    // writes each job in a transfer of its own (Preservation.splitWrites), else the whole vector.
    // The design's hooks run once around the vector (hawaii_record_footprints per LEA call).
    const chunk = perWord ? 1 : (p.splitWrites ?? 0) > 0 ? p.splitWrites! : n;
    p.beforeWrite(layer, out, bufWord, word0, n, fresh);
    if (this.noOutputs) {
      this.dev.landUncharged(bufWord, out.base + 2 * word0, n);
    } else {
      for (let i = 0; i < n; i += chunk) {
        const k = Math.min(chunk, n - i);
        this.dev.dmaToNvm(bufWord + i, out.base + 2 * (word0 + i), k, Cat.preserveOutput, k === n ? 'preserve job' : 'preserve part', p.indicatorWords(out, word0 + i, k));
      }
    }
    p.afterWrite(layer, fresh);
  }

  /** The buffer's contents are dead once preserved: say so, so that pruning may ignore them. */
  private releaseAfter(bufWord: number, n: number): void {
    this.dev.release(bufWord, n);
  }

  /** Read `n` words of a tensor starting at `word` into SRAM (one transfer per <= 512 words, LIMIT_DMA_SIZE). */
  private fetch(t: TensorRef, word: number, sram: number, n: number, cat: CatId, label: string): void {
    for (let done = 0; done < n; done += 512) {
      const k = Math.min(512, n - done);
      this.dev.dmaFromNvm(t.base + 2 * (word + done), sram + done, k, cat, label);
    }
    this.preservation.clearInputs?.(t, sram, word, n);
  }

  // -------------------------------------------------------------------------------------------
  // Kernels

  private runLayer(layer: EngineLayer, resume: number): void {
    switch (layer.kind) {
      case 'conv':
        return this.conv(layer, resume);
      case 'gemm':
        return this.gemm(layer, resume);
      case 'merge':
        return this.merge(layer, resume);
      case 'relu':
        return this.relu(layer, resume);
      case 'maxpool':
        return this.maxpool(layer, resume);
      case 'gap':
        return this.gap(layer);
      case 'concat':
        if (!this.fw.transform.concatMetadata) return this.concat(layer, resume);
        // The build's Concat is metadata: japari's storage still gets the concatenated tensor,
        // but the copies cost nothing (firmware-2021.md "Graph transformation").
        this.dev.uncharged = true;
        try {
          return this.concat(layer, resume);
        } finally {
          this.dev.uncharged = false;
        }
      case 'add':
        return this.add(layer, resume);
      default:
        return assertNever(layer, 'layer');
    }
  }

  /**
   * Conv: input tile -> filter tile -> output column -> output row tile -> output row.
   * One LEA call per output pixel and filter tile; its result is written while the next call
   * computes (piggyback).
   */
  private conv(c: ConvLayer, resume: number): void {
    const dev = this.dev;
    const out = c.out;
    const sliceWords = out.layout.words;
    if (resume >= out.words) return;
    const Cs = out.layout.Cs;
    const B = this.B;
    // Footprint words in the output layout (JAPARI): one after every B values of a call.
    const aug = out.layout.fpEvery > 0;
    const pres = this.preservation;
    // Decode the resume position.
    const t0 = Math.floor(resume / sliceWords);
    const rem0 = resume % sliceWords;
    const k0 = Math.floor(rem0 / Cs);
    const ch0 = rem0 % Cs;
    const f0 = Math.floor(ch0 / c.callWords);
    const first0 = ch0 % c.callWords;
    const q0 = Math.floor(k0 / c.Pout);
    const p0 = k0 % c.Pout;
    let resuming = true;
    const npix = c.Pout * c.Qout;
    for (let t = t0; t < c.slices.length; t++) {
      const s = c.slices[t]!;
      for (let f = resuming ? f0 : 0; f < c.filterTiles; f++) {
        const width = Math.min(c.otc, c.OCp - f * c.otc);
        const callWords = aug ? width + Math.floor(width / B) : width;
        dev.step('fetch tile');
        // Fault 'cache-trusted-after-reboot': the resumed filter tile is assumed still in LEA RAM.
        if (!(resuming && this.faults.has('cache-trusted-after-reboot') && dev.boots > 1)) {
          dev.release(c.lea.b, c.lea.a - c.lea.b);
          this.fetchFilters(c, s, f, width);
        }
        for (let q = resuming ? q0 : 0; q < c.Qout; q++) {
          // Row tiles stay aligned to multiples of rowTile; a resume inside a tile fetches the
          // whole tile and starts computing at the resume row.
          let tileStart = resuming ? p0 - (p0 % c.rowTile) : 0;
          let p = resuming ? p0 : 0;
          while (p < c.Pout) {
            const rows = Math.min(c.rowTile, c.Pout - tileStart);
            this.flushPending(c);
            this.rowTileStart = tileStart;
            this.fetchConvRows(c, s, q, tileStart, rows);
            for (let i = p - tileStart; i < rows; i++, p++) {
              const k = q * c.Pout + p;
              const word0 = t * sliceWords + k * Cs + f * c.callWords;
              const first = resuming ? first0 : 0;
              resuming = false;
              dev.progress(c.index, (t * c.filterTiles + f) * npix + k);
              dev.checkpoint(positionOf(c.index, word0 + first), this.carry());
              pres.beforeConvCall(c, s, out, word0, callWords);
              const aWord = c.lea.a + i * c.sP * s.segLen;
              const cBuf = (k & 1) === 0 ? c.lea.c0 : c.lea.c1;
              dev.step('compute');
              if (this.plan.params.piggyback && this.pendingWrite !== 0) {
                const pw = this.pending;
                const fresh = this.realValues(out, pw.word, pw.n);
                pres.beforeWrite(c, out, pw.buf, pw.word, pw.n, fresh);
                dev.leaMatMulWhileWriting(
                  aWord,
                  s.L,
                  c.lea.b,
                  c.ncolsLea,
                  cBuf,
                  pw.buf,
                  out.base + 2 * pw.word,
                  pw.n,
                  Cat.compute,
                  Cat.preserveOutput,
                  'compute + preserve job',
                  pres.indicatorWords(out, pw.word, pw.n),
                );
                this.pendingWrite = 0;
                this.releaseAfter(pw.buf < c.lea.c1 ? c.lea.c0 : c.lea.c1, c.ncolsLea);
                pres.afterWrite(c, fresh);
              } else {
                dev.leaMatMul(aWord, s.L, c.lea.b, c.ncolsLea, cBuf, Cat.compute, 'compute');
              }
              this.pending = { buf: cBuf + first, word: word0 + first, n: callWords - first };
              this.pendingWrite = 1;
              if (!this.plan.params.piggyback) this.flushPending(c);
            }
            tileStart += rows;
          }
          this.flushPending(c);
        }
      }
    }
    this.flushPending(c);
    this.rowTileStart = -1;
  }

  private pending = { buf: 0, word: 0, n: 0 };

  /**
   * Load one filter tile into LEA RAM. The 2021 builds copy per (filter, kh, kw) with an
   * interleave (conv.cpp): as many my_memcpy_from_param calls, here as many contiguous parts of
   * the same words (each call pays the per-call cost; the words are the same). The later code
   * copies the tile in one call.
   */
  private fetchFilters(c: ConvLayer, s: ConvLayer['slices'][number], f: number, width: number): void {
    const words = s.L * c.ncolsLea;
    const calls = this.fw.transform.filterCopyPerKernelPosition ? Math.min(words, width * c.kP * c.kQ) : 1;
    for (let i = 0; i < calls; i++) {
      const a = Math.floor((i * words) / calls);
      const b = Math.floor(((i + 1) * words) / calls);
      if (b > a) this.dev.dmaFromRom(s.rom[f]! + a, c.lea.b + a, b - a, Cat.fetch, 'fetch filter tile');
    }
  }

  /** Stored word of input channel `ch` (fault 'japari-strip-wrong-position' keeps footprints, drops values). */
  private inputChanWord(L: TensorRef['layout'], ch: number): number {
    const w = chanWord(L, ch);
    if (this.faults.has('japari-strip-wrong-position') && L.fpEvery > 0 && ch % L.fpEvery === L.fpEvery - 1) return w + 1;
    return w;
  }

  private flushPending(layer: EngineLayer): void {
    if (this.pendingWrite === 0) return;
    const pw = this.pending;
    this.pendingWrite = 0;
    this.preserve(layer, pw.buf, pw.word, pw.n);
    if (layer.kind === 'conv') this.releaseAfter(pw.buf < layer.lea.c1 ? layer.lea.c0 : layer.lea.c1, layer.ncolsLea);
  }

  /**
   * Fill the A rows of one row tile for output column q: input rows along P, each a segment of
   * kQ pixels x the slice's channels, then the constant -1.0 (and a 0 pad to even length).
   */
  private fetchConvRows(c: ConvLayer, s: ConvLayer['slices'][number], q: number, p: number, rows: number): void {
    const dev = this.dev;
    const inp = c.in;
    const L = inp.layout;
    const Cs = L.Cs;
    const ctw = s.c1 - s.c0;
    const pLo = p * c.sP - c.padP;
    const nRows = (rows - 1) * c.sP + c.kP;
    const qLo = q * c.sQ - c.padQ;
    const qa = Math.max(0, qLo);
    const qb = Math.min(c.Qin - 1, qLo + c.kQ - 1);
    const allChannels = s.c0 === 0 && s.c1 === L.C && Cs === L.C;
    dev.step('fetch tile');
    dev.release(c.lea.a, c.lea.c0 - c.lea.a);
    let zeros = 0;
    let copies = 0;
    for (let r = 0; r < nRows; r++) {
      const seg = c.lea.a + r * s.segLen;
      const pin = pLo + r;
      if (pin < 0 || pin >= c.Pin || qa > qb) {
        for (let i = 0; i < c.kQ * ctw; i++) dev.store(seg + i, 0);
        zeros += c.kQ * ctw;
      } else {
        for (let kq = 0; kq < qa - qLo; kq++) for (let i = 0; i < ctw; i++) dev.store(seg + kq * ctw + i, 0);
        for (let kq = qb - qLo + 1; kq < c.kQ; kq++) for (let i = 0; i < ctw; i++) dev.store(seg + kq * ctw + i, 0);
        zeros += (c.kQ - (qb - qa + 1)) * ctw;
        const pixel0 = pin * c.Qin + qa;
        const dst = seg + (qa - qLo) * ctw;
        if (allChannels) {
          // One read per input row: the kQ pixels are contiguous.
          this.fetch(inp, pixel0 * Cs, dst, (qb - qa + 1) * Cs, Cat.fetch, 'fetch input row');
        } else if (s.c0 === 0 && s.c1 === L.C) {
          // All channels but with footprints: read the row, strip footprints on the CPU.
          const n = (qb - qa + 1) * Cs;
          if (n > this.stageWords) throw new JapariError(`${c.name}: input row of ${n} words exceeds the staging buffer`);
          this.fetch(inp, pixel0 * Cs, this.stage, n, Cat.fetch, 'fetch input row');
          for (let px = 0; px <= qb - qa; px++) {
            for (let ch = 0; ch < ctw; ch++) dev.store(dst + px * ctw + ch, dev.load(this.stage + px * Cs + this.inputChanWord(L, ch)));
          }
          copies += (qb - qa + 1) * ctw;
        } else {
          // A partial channel tile: one read per pixel.
          const w0 = chanWord(L, s.c0);
          const span = chanWord(L, s.c1 - 1) - w0 + 1;
          for (let px = 0; px <= qb - qa; px++) {
            const pixelWord = (pixel0 + px) * Cs;
            if (span === ctw) {
              this.fetch(inp, pixelWord + w0, dst + px * ctw, ctw, Cat.fetch, 'fetch input pixel');
            } else {
              this.fetch(inp, pixelWord + w0, this.stage, span, Cat.fetch, 'fetch input pixel');
              for (let ch = 0; ch < ctw; ch++) dev.store(dst + px * ctw + ch, dev.load(this.stage + this.inputChanWord(L, s.c0 + ch) - w0));
              copies += ctw;
            }
          }
        }
        // The row's input words are in LEA RAM: a design may strip states over the row (Stateful).
        this.preservation.afterInputRow?.(c, dst, (qb - qa + 1) * ctw);
      }
      dev.store(seg + c.kQ * ctw, -32768);
      if (s.segLen > c.kQ * ctw + 1) dev.store(seg + c.kQ * ctw + 1, 0);
    }
    dev.release(this.stage, this.stageWords);
    dev.cpu('copy', zeros + copies + nRows, Cat.fetch, 'assemble input rows');
  }

  /** FC: per input tile, per call of op_filters outputs: fetch weight rows, one LEA multiply, preserve. */
  private gemm(g: GemmLayer, resume: number): void {
    const dev = this.dev;
    const out = g.out;
    const sliceWords = out.layout.words;
    if (resume >= out.words) return;
    const t0 = Math.floor(resume / sliceWords);
    const w0 = resume % sliceWords;
    let j0 = g.calls.findIndex((cl) => w0 < cl.off + cl.words);
    if (j0 < 0) j0 = g.calls.length;
    const first0 = j0 < g.calls.length ? w0 - g.calls[j0]!.off : 0;
    let resuming = true;
    for (let t = t0; t < g.tiles.length; t++) {
      const tile = g.tiles[t]!;
      const rows = tile.r1 - tile.r0;
      // Fetch the input tile: runs of consecutive stored words (JAPARI: B values between footprints).
      dev.step('fetch tile');
      let r = tile.r0;
      while (r < tile.r1) {
        let e = r + 1;
        while (e < tile.r1 && g.inWords[e] === g.inWords[e - 1]! + 1 && e - r < 512) e++;
        this.fetch(g.in, g.inWords[r]!, g.lea.a + (r - tile.r0), e - r, Cat.fetch, 'fetch input');
        r = e;
      }
      dev.store(g.lea.a + rows, -32768);
      dev.store(g.lea.a + rows + 1, 0);
      for (let j = resuming ? j0 : 0; j < g.calls.length; j++) {
        const call = g.calls[j]!;
        const first = resuming ? first0 : 0;
        resuming = false;
        const word0 = t * sliceWords + call.off;
        dev.progress(g.index, t * g.calls.length + j);
        dev.checkpoint(positionOf(g.index, word0 + first), this.carry());
        dev.step('fetch tile');
        dev.release(g.lea.b, g.lea.c0 - g.lea.b);
        // One read per weight row (Stateful-CNN gemm: my_memcpy_from_param per row); under
        // JAPARI the 2021 builds copy one B-group (+ its footprint column) per call.
        const group = call.fps && this.fw.japari.fcWeightCopyPerGroup ? this.B + 1 : g.ncolsLea;
        for (let row = 0; row < rows + 2; row++) {
          for (let c0 = 0; c0 < g.ncolsLea; c0 += group) {
            const w = c0 + group >= call.words ? g.ncolsLea - c0 : group;
            dev.dmaFromRom(tile.rom[j]! + row * g.ncolsLea + c0, g.lea.b + row * g.ncolsLea + c0, w, Cat.fetch, 'fetch weight row');
            if (w !== group) break;
          }
        }
        this.preservation.beforeGemmCall(g, call, rows, word0);
        dev.step('compute');
        dev.leaMatMul(g.lea.a, rows + 2, g.lea.b, g.ncolsLea, g.lea.c0, Cat.compute, 'compute');
        this.preserve(g, g.lea.c0 + first, word0 + first, call.words - first);
        this.releaseAfter(g.lea.c0, g.ncolsLea);
      }
    }
  }

  /** Merge partial sums: per chunk, add the slices with the LEA, re-embed markers, preserve. */
  private merge(m: MergeLayer, resume: number): void {
    const dev = this.dev;
    const total = m.out.words;
    const sliceWords = m.in.layout.words;
    for (let o = resume - (resume % m.chunk); o < total; o += m.chunk) {
      const n = Math.min(m.chunk, total - o);
      dev.progress(m.index, o);
      dev.checkpoint(positionOf(m.index, o), this.carry());
      dev.step('fetch tile');
      this.fetch(m.in, o, m.lea.acc, n, Cat.fetch, 'fetch partial sums');
      for (let t = 1; t < m.in.slices; t++) {
        this.fetch(m.in, t * sliceWords + o, m.lea.tmp, n, Cat.fetch, 'fetch partial sums');
        dev.step('compute');
        dev.leaVector('add', m.lea.acc, m.lea.tmp, m.lea.acc, n, Cat.compute, 'merge');
      }
      if (this.fw.transform.mergeScales) {
        // The 2021 builds' merge scales every value with one LEA command (conv.cpp ConvMerge).
        // japari folds the scale into the weights (README "Quantization"), so the command is
        // charged as a value-neutral LEA pass over the chunk (max(x, x) = x).
        dev.step('compute');
        dev.leaVector('max', m.lea.acc, m.lea.acc, m.lea.acc, n, Cat.compute, 'merge scale');
      }
      this.preservation.embedIndicators(m.out, m.lea.acc, o, n);
      this.preserve(m, m.lea.acc, o, n, resume);
      this.releaseAfter(m.lea.acc, m.lea.end - m.lea.acc);
    }
  }

  /** ReLU in tiles of 16 values (+ footprints), on the CPU. */
  private relu(r: ReluLayer, resume: number): void {
    const dev = this.dev;
    const total = r.out.words;
    const l = r.out.layout;
    // Resume at the start of the tile holding the first unfinished job (at most one tile again).
    for (let o = resume - (resume % r.tile); o < total; o += r.tile) {
      const n = Math.min(r.tile, total - o);
      dev.progress(r.index, o);
      dev.checkpoint(positionOf(r.index, o), this.carry());
      dev.step('fetch tile');
      if (r.perElement) for (let i = 0; i < n; i++) this.fetch(r.in, o + i, r.buf + i, 1, Cat.fetch, 'fetch value');
      else this.fetch(r.in, o, r.buf, n, Cat.fetch, 'fetch tile');
      dev.step('compute');
      let values = 0;
      for (let i = 0; i < n; i++) {
        if (isFootprintWord(l, o + i)) continue;
        const v = dev.load(r.buf + i);
        if (v < 0) dev.store(r.buf + i, 0);
        values++;
      }
      dev.cpu('max', values, Cat.compute, 'relu');
      this.footprintModulo(r.out, values);
      this.preservation.embedIndicators(r.out, r.buf, o, n);
      if (r.perElement) {
        // One read and one write per value, each recorded on its own (op_handlers.cpp, 2021).
        for (let i = 0; i < n; i++) this.preserve(r, r.buf + i, o + i, 1, resume, true);
      } else {
        this.preserve(r, r.buf, o, n, resume);
      }
      this.releaseAfter(r.buf, n);
    }
  }

  /**
   * JAPARI's footprint position test `% (BATCH_SIZE + 1)` per element: a software division in
   * builds where BATCH_SIZE is a runtime global (firmware-2021.md; op_handlers.cpp, pooling.cpp).
   */
  private footprintModulo(out: TensorRef, values: number): void {
    if (out.layout.fpEvery > 0 && this.fw.japari.runtimeModulo) this.dev.cpu('div', values, Cat.preserveIndicator, 'footprint position modulo');
  }

  /** MaxPool: per output pixel, read each in-bounds window pixel, take the channel-wise max. */
  private maxpool(m: MaxPoolLayer, resume: number): void {
    const dev = this.dev;
    const inL = m.in.layout;
    const outL = m.out.layout;
    const Cs = outL.Cs;
    const hw = inL.orient === 'hw';
    const [kh, kw] = m.op.kernel;
    const [sh, sw] = m.op.stride;
    const [pt, pl] = m.op.pads;
    const npix = outL.H * outL.W;
    for (let k = Math.floor(resume / Cs); k < npix; k++) {
      const first = k === Math.floor(resume / Cs) ? resume % Cs : 0;
      const oy = hw ? Math.floor(k / outL.W) : k % outL.H;
      const ox = hw ? k % outL.W : Math.floor(k / outL.H);
      dev.progress(m.index, k);
      dev.checkpoint(positionOf(m.index, k * Cs + first), this.carry());
      let taken = 0;
      for (let r = 0; r < kh; r++) {
        const iy = oy * sh - pt + r;
        if (iy < 0 || iy >= inL.H) continue;
        for (let s = 0; s < kw; s++) {
          const ix = ox * sw - pl + s;
          if (ix < 0 || ix >= inL.W) continue;
          const px = hw ? iy * inL.W + ix : ix * inL.H + iy;
          dev.step('fetch tile');
          if (m.perElement) {
            // One output value at a time: a single-word read per window element (pooling.cpp, 2021).
            const dst = taken === 0 ? m.acc : m.buf;
            for (let w = 0; w < Cs; w++) this.fetch(m.in, px * Cs + w, dst + w, 1, Cat.fetch, 'fetch window value');
          } else {
            this.fetch(m.in, px * Cs, taken === 0 ? m.acc : m.buf, Cs, Cat.fetch, 'fetch window pixel');
          }
          if (taken > 0) {
            dev.step('compute');
            for (let c = 0; c < inL.C; c++) {
              const w = chanWord(inL, c);
              const v = dev.load(m.buf + w);
              if (v > dev.load(m.acc + w)) dev.store(m.acc + w, v);
            }
            dev.cpu('max', inL.C, Cat.compute, 'maxpool');
          }
          taken++;
        }
      }
      this.footprintModulo(m.out, inL.C);
      this.preservation.embedIndicators(m.out, m.acc, k * Cs, Cs);
      this.preserve(m, m.acc + first, k * Cs + first, Cs - first, k * Cs + first, m.perElement);
      this.releaseAfter(m.buf, 2 * Cs);
    }
  }

  /** GlobalAveragePool: recomputed from the start after every reboot; one write per output word. */
  private gap(g: GapLayer): void {
    const dev = this.dev;
    const inL = g.in.layout;
    const outL = g.out.layout;
    const npix = inL.H * inL.W;
    const sums = new Float64Array(inL.C); // 32-bit accumulators in registers/SRAM; lost on reboot
    dev.checkpoint(positionOf(g.index, 0), this.carry());
    for (let k = 0; k < npix; k++) {
      dev.step('fetch tile');
      this.fetch(g.in, k * inL.Cs, g.buf, inL.Cs, Cat.fetch, 'fetch pixel');
      for (let c = 0; c < inL.C; c++) sums[c]! += dev.load(g.buf + chanWord(inL, c));
      dev.cpu('add', inL.C, Cat.compute, 'accumulate');
      dev.release(g.buf, inL.Cs);
    }
    for (let w = 0; w < outL.words; w++) {
      dev.progress(g.index, w);
      const indicator = this.preservation.gapIndicator(g.out, w);
      let v: number;
      if (indicator !== null) {
        v = indicator;
      } else {
        let c = -1;
        for (let cc = 0; cc < outL.C; cc++) if (chanWord(outL, cc) === w) c = cc;
        v = c < 0 ? 0 : Math.trunc(sums[c]! / npix);
        dev.cpu('div', 1, Cat.compute, 'average');
        if (this.preservation.embedValue) v = this.preservation.embedValue(g.out, w, v);
      }
      dev.store(g.out1, v);
      dev.step('preserve job');
      if (this.noOutputs) dev.landUncharged(g.out1, g.out.base + 2 * w, 1);
      else dev.dmaToNvm(g.out1, g.out.base + 2 * w, 1, Cat.preserveOutput, 'preserve value', indicator !== null ? 1 : 0);
    }
    this.releaseAfter(g.out1, 1);
  }

  /** Concat along channels (materialised): per output pixel, gather every input's channels. */
  private concat(c: ConcatLayer, resume: number): void {
    const dev = this.dev;
    const outL = c.out.layout;
    const Cs = outL.Cs;
    const npix = outL.H * outL.W;
    for (let k = Math.floor(resume / Cs); k < npix; k++) {
      const first = k === Math.floor(resume / Cs) ? resume % Cs : 0;
      dev.progress(c.index, k);
      dev.checkpoint(positionOf(c.index, k * Cs + first), this.carry());
      let base = 0;
      let copies = 0;
      for (let i = 0; i < Cs; i++) dev.store(c.outBuf + i, 0);
      for (const inp of c.ins) {
        const L = inp.layout;
        dev.step('fetch tile');
        this.fetch(inp, k * L.Cs, c.buf, L.Cs, Cat.fetch, 'fetch input pixel');
        for (let ch = 0; ch < L.C; ch++) dev.store(c.outBuf + chanWord(outL, base + ch), dev.load(c.buf + chanWord(L, ch)));
        copies += L.C;
        base += L.C;
      }
      dev.cpu('copy', copies + Cs, Cat.compute, 'concat');
      this.preservation.embedIndicators(c.out, c.outBuf, k * Cs, Cs);
      this.preserve(c, c.outBuf + first, k * Cs + first, Cs - first);
      this.releaseAfter(c.buf, c.outBuf - c.buf + Cs);
    }
  }

  /** Add two feature maps chunk by chunk with the LEA. */
  private add(a: AddLayer, resume: number): void {
    const dev = this.dev;
    const total = a.out.words;
    for (let o = resume - (resume % a.chunk); o < total; o += a.chunk) {
      const n = Math.min(a.chunk, total - o);
      dev.progress(a.index, o);
      dev.checkpoint(positionOf(a.index, o), this.carry());
      dev.step('fetch tile');
      this.fetch(a.a, o, a.lea.x, n, Cat.fetch, 'fetch operand');
      this.fetch(a.b, o, a.lea.y, n, Cat.fetch, 'fetch operand');
      dev.step('compute');
      dev.leaVector('add', a.lea.x, a.lea.y, a.lea.x, n, Cat.compute, 'add');
      this.preservation.embedIndicators(a.out, a.lea.x, o, n);
      this.preserve(a, a.lea.x, o, n, resume);
      this.releaseAfter(a.lea.x, 2 * a.chunk);
    }
  }
}

