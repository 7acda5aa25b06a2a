/**
 * `japari-loopcount`: JAPARI as first published (EMCLab-Sinica/JAPARI, libJAPARI/src/
 * convolution.c JAP_CONV + __JAP_PG_RETRIEVE, fc.c JAP_FC + __JAP_PG_RETRIEVE_FC), with
 * loop-count footprints. Read it next to algorithms.md "JAPARI as first published",
 * src/engines/japari-loopcount/plan.ts (tiles, layouts, NVM map) and rules.ts: every decision
 * below (the dummy input and weight, the ping-pong flip, R1-R4 of the seeker, the SIGN toggle
 * and commit) is a rule there, which this engine calls on numbers with the device's reads as
 * callbacks, the inspector (design.ts) on an NVM image, and the proofs on bit-vectors.
 *
 * What is modelled
 *   Each conv/FC layer iterates r, c, m (tiles of Tr x Tc output pixels x Tm output channels),
 *   then n, kr, kc (input-channel tile and kernel position); loop_cnt numbers these iterations
 *   layer-wide from 1. One iteration is two operations:
 *     op 0  computeAndPreserve: fetch the B matrix of (m, n, kr, kc) and write dummy_w * loop_cnt
 *           into its footprint columns; per pixel of the tile: fetch the input (tn channels at the
 *           kernel position, then dummy_i, then the bias constant), one LEA matrix multiply, one
 *           SPI write of the pixel's tm + tm/B words to the preservation buffer PB[pixel].
 *     op 1  accumulate: per pixel: in the tile's first iteration write the LEA result to output
 *           copy 0; otherwise read the pixel's words from copy flip^1, LEA-add (saturating) the
 *           result, write copy flip. Then loop_cnt++ and flip ^= 1 (flip = 0 at each tile start).
 *   Footprints (rules.ts dummyInput, dummyWeight): SIGN 0: dummy input 0x0800, dummy weight
 *   16 * loop_cnt (16-bit product, wraps for loop_cnt > 2047: not guarded, as published) ->
 *   FP = +loop_cnt; SIGN 1: 0x8000 and 1 * loop_cnt -> FP = -loop_cnt. PB holds the
 *   iteration's FP; an output copy's footprint words hold the running (saturating) sum of the
 *   PB footprints of the tile's iterations.
 *
 *   seekProgress (__JAP_PG_RETRIEVE), run at the start of every conv/FC layer, after a reboot or
 *   not, because JAP_CONV/JAP_FC call it unconditionally (decision: faithful to the code; a layer
 *   starting normally finds PB footprints of the previous inference, whose sign is SIGN's
 *   opposite, and starts fresh). Every seek is reported with dev.recovered(layer, job =
 *   iterations before the resume point, position = lcPosition(iter, op, pixel)); a non-LEA layer
 *   that is the first of a boot reports (layer, 0, 0):
 *     R1  pb_1 = first footprint of PB (pixel 0, word B). Its sign differs from SIGN's (or it is
 *         0) -> the layer starts fresh at loop_cnt 1.
 *     R2  lc = |pb_1|; replay the loop counters up to lc -> (r, c, m, n, kr, kc) and flip. An lc
 *         beyond the layer's last iteration matches nothing -> fresh start (as published).
 *     R3  pb_L = last footprint of PB's last pixel of that tile. pb_1 != pb_L -> op 0 did not
 *         finish: resume op 0 at the first pixel whose last PB footprint is not pb_1, after
 *         reloading the earlier pixels' LEA results from PB.
 *     R4  pb_1 == pb_L -> op 0 finished: scan the footprints of the destination copy (flip) over
 *         the tile's pixels in op-1 order, every footprint of each pixel, for the first break in
 *         monotonicity (a value below its predecessor under SIGN 0, above it under SIGN 1). The
 *         sequence is anchored at the value that precedes the destination in the accumulation
 *         chain: the source copy's first footprint of pixel 0 (S(lc-1)), or pb_1 itself in the
 *         tile's first iteration. A break at pixel k -> reload the LEA results of pixels k.. from
 *         PB and resume op 1 at pixel k; no break -> op 1 finished, continue at lc + 1.
 *   (rules.ts seekIteration = R1/R2, unfinishedPbPixel = R3, firstBreak = R4, seekDecision.)
 *   endLayer: toggle the layer's SIGN and commit layer_idx + 1 in one versioned record write
 *   (rules.ts layerEnd; record.ts; the slot state +1 <-> SIGN 0, -1 <-> SIGN 1).
 *   relu, maxpool, gap, concat, add: no footprints (the original repository has none for them);
 *   after a reboot such a layer is recomputed from its start (its input is intact).
 *
 * State kept where
 *   NVM:      model record pair {running, run_counter, layer_idx, SIGN per conv/FC layer}, one PB
 *             per conv/FC layer, two output copies per conv/FC layer, the input sample, the
 *             outputs of the other layers.
 *   volatile: loop_cnt (16-bit, `int` in the published code), flip, the record copy, the A vector,
 *             the B matrix and the tile's LEA results in LEA RAM; all re-derived after a reboot
 *             (a fresh engine object per boot, garbage SRAM). carry() hashes the control state.
 *
 * Published scan (variant loopcount-published-scan, catalogue.ts VARIANTS)
 *   R4 above is japari's reconstruction. With the variant switched on, R4 is replaced by the
 *   published scan (rules.ts publishedScanPixel; EMCLab-Sinica/JAPARI@fc4af70
 *   libJAPARI/src/convolution.c:92-119): the source copy's first footprints from LL_MARKER = 0,
 *   down column 0 then along the break row, a return after one channel group; op 1 resumes
 *   there from the partial products in LEA RAM, which are garbage after a reboot (nothing
 *   reloads them: lines 418-424). Finding loopcount-retrieve-lost-lea.
 *
 * Deviations from the published design (choices we had to make; reports/findings/deviations.md)
 *   - Bias: the published code applies none; A carries an extra -1.0 in the first iteration of
 *     each (r, c, m) tile, times a -bias row in the B matrix (plan.ts).
 *   - SIGN is persistent, committed with layer_idx + 1 in one record write. The published demo
 *     (main.c) keeps SIG[] in volatile RAM and increments the persistent layer index separately.
 *   - Weights: pre-arranged B blocks in program FRAM, one DMA per block (as the reference engine),
 *     instead of one SPI read per weight row from external FRAM plus CPU column shuffling.
 *   - Stride and padding are supported (the published input fetch has neither).
 *   - Each LEA command completes before the SPI write of its result starts. The published
 *     __JAP_matrix_mpy_q15/__JAP_ADD start the SPI write of the LEA's destination right after
 *     launching the command and rely on the LEA finishing first.
 *   - R3 compares each PB pixel's *last* footprint with pb_1 (see "published code deviations").
 *   - R4 is a reconstruction (deviation lc-reconstructed-scan): its anchor and its full row-major
 *     scan of every destination footprint are ours, and it reloads the LEA results from PB; the
 *     published scan is the variant above.
 *
 * Published code deviations we did not model (bugs of EMCLab-Sinica/JAPARI; each is listed in
 * reports/findings/deviations.md)
 *   - JAP_CONV's `for(; itr.kc < KC; itr.kc++) ... }itr.kc;}` never resets kc, so every kr >= 1
 *     runs no kc iteration; we run every (kr, kc).
 *   - The tile clipping compares every tile size against ROWS (tc, tm, tn included); we clip
 *     each against its own bound.
 *   - __JAP_PG_RETRIEVE's op-1 scan and the resume from LEA RAM are not the default; they are
 *     the variant loopcount-published-scan (see above). Its op-0 scan reads (tm + NFPs) *bytes*
 *     per pixel and compares a pixel's first and last footprint (blind to pixels not written at
 *     all); PB offsets in op 0 miss sizeof(_q15) (deviations lc-op0-bytes, lc-pb-offset).
 *   - JAP_FC's op 1 reads the source from copy 0 instead of copy flip ^ 1, and its m loop runs
 *     `itr.m < ts.tm` in steps of 1; we run the m-tiles and ping-pong as for conv.
 */
import { type Device, Cat, type CatId } from '../../device/device.js';
import type { EnginePlan } from '../reference/plan.js';
import {
  type LoopCountPlan,
  type LcLayer,
  type LcLeaLayer,
  type LcIteration,
  type LcReluLayer,
  type LcMaxPoolLayer,
  type LcGapLayer,
  type LcConcatLayer,
  type LcAddLayer,
  iterationOf,
  outputWordOf,
  lcPosition,
  loopCountPlanOf,
  pbFirstFootprint,
  pbLastFootprint,
  anchorFootprint,
  sourceFootprint,
} from './plan.js';
import {
  type LcRuleOptions,
  type Resume,
  type SeekReads,
  HOW_FRESH,
  HOW_OP0,
  HOW_OP1,
  dummyInput,
  dummyWeight,
  layerEnd,
  loopCnt,
  seekDecision,
  sign1Of,
} from './rules.js';
import { num } from '../ops.js';
import { chanWord, type Layout } from '../../model/layout.js';
import { RecordStore, type ModelRecord } from '../common/record.js';
import { positionOf } from '../reference/engine.js';
import type { FaultSet } from '../catalogue.js';
import { assertNever, JapariError } from '../../util/errors.js';

/**
 * The rule options (rules.ts LcRuleOptions) the catalogue's loop-count faults switch on: the one
 * place each of these faults is consulted. The engine, the inspector (design.ts) and the proofs
 * (src/smt/loopcount.smt.ts) all take their options from here.
 */
export function lcRuleOptions(faults: FaultSet): LcRuleOptions {
  return {
    firstPbOnly: faults.has('loopcount-seek-first-pb-only'),
    resumeNext: faults.has('loopcount-resume-next-iteration'),
    scanFromZero: faults.has('loopcount-scan-from-zero'),
    flipNotReset: faults.has('loopcount-flip-not-reset'),
    signNotToggled: faults.has('loopcount-sign-not-toggled'),
    publishedScan: faults.has('loopcount-published-scan'),
  };
}


/** Where a conv/FC layer resumes: iteration (loop_cnt), operation and pixel. */
export interface LcStart {
  readonly iter: number;
  readonly op: 0 | 1;
  readonly pixel: number;
  /** Why: 'fresh' (R1/R2), 'op0' (R3), 'op1' (R4 break), 'next' (R4 no break). */
  readonly why: 'fresh' | 'op0' | 'op1' | 'next';
}

const WHY: Record<number, LcStart['why']> = { [HOW_FRESH]: 'fresh', [HOW_OP0]: 'op0', [HOW_OP1]: 'op1' };

/** The engine's form of a seek decision (rules.ts Resume on numbers). */
export function lcStartOf(r: Resume<number>): LcStart {
  return { iter: r.iter, op: r.op === 1 ? 1 : 0, pixel: r.pixel, why: WHY[r.how] ?? 'next' };
}

/** SIGN (0/1) from a record slot state (+1/-1): rules.ts sign1Of. */
export function signOf(state: number): 0 | 1 {
  return sign1Of(num, state) ? 1 : 0;
}

function isLea(l: LcLayer): l is LcLeaLayer {
  return l.kind === 'conv' || l.kind === 'gemm';
}

export class LoopCountEngine {
  readonly plan: EnginePlan;
  readonly lc: LoopCountPlan;
  readonly B: number;
  readonly records: RecordStore;
  readonly faults: FaultSet;
  /** The rule options of the seeded faults (lcRuleOptions). */
  private readonly opts: LcRuleOptions;
  /** Fault loopcount-pb-footprint-first: each PB footprint is written on its own before the products. */
  private readonly pbFootprintFirst: boolean;
  private dev!: Device;
  /** Non-LEA SRAM staging for reads that strip footprints, and for single-word recovery reads (profile sramMap). */
  private readonly stage: number;
  private readonly stageWords: number;
  private rec!: ModelRecord;
  // Volatile control state (folded into carry()).
  private layer = -1;
  private sign: 0 | 1 = 0;
  /** The published `int loop_cnt` (16-bit). */
  private loopCnt = 0;
  private iter = 0;
  private op = 0;
  private pixel = 0;
  private flip = 0;
  private firstOfBoot = true;

  constructor(plan: EnginePlan, faults: FaultSet = new Set()) {
    if (!plan.extra?.['loopCount']) throw new JapariError('the loop-count engine needs a loop-count plan (japari-loopcount/plan.ts)');
    this.plan = plan;
    this.lc = loopCountPlanOf(plan);
    this.B = this.lc.B;
    this.records = new RecordStore(plan.nvm.record, plan.nvm.recordBytes, plan.nvm.slots.length);
    this.faults = faults;
    this.opts = lcRuleOptions(faults);
    this.pbFootprintFirst = faults.has('loopcount-pb-footprint-first');
    this.stage = plan.params.profile.sramMap.stage;
    this.stageWords = plan.params.profile.sramMap.stageWords;
  }

  /** Hash of every volatile variable that lives across checkpoints (for sound pruning). */
  carry(): number {
    let h = 0x9e3779b1;
    const mix = (v: number) => {
      h = Math.imul(h ^ (v | 0), 0x85ebca6b) >>> 0;
      h = (h ^ (h >>> 13)) >>> 0;
    };
    mix(this.layer);
    mix(this.sign);
    mix(this.loopCnt);
    mix(this.iter);
    mix(this.op);
    mix(this.pixel);
    mix(this.flip);
    mix(this.firstOfBoot ? 1 : 0);
    const r = this.rec;
    if (r) {
      mix(r.running);
      mix(r.layerIdx);
      mix(r.runCounter);
      mix(r.version);
      mix(r.copy);
      for (const s of r.slots) mix(s.state);
    }
    return h;
  }

  // -------------------------------------------------------------------------------------------
  // Boot entry: runs until the inference in progress completes (or power fails).

  boot(dev: Device): void {
    this.dev = dev;
    this.firstOfBoot = true;
    dev.step('boot');
    const rec = this.records.load(dev);
    this.rec = rec;
    if (rec.running === 0) this.startInference(rec);
    const layers = this.lc.layers;
    for (let l = rec.layerIdx; l < layers.length; l++) {
      const layer = layers[l]!;
      this.layer = l;
      dev.enterLayer(l, rec.runCounter);
      if (isLea(layer)) {
        this.sign = signOf(rec.slots[layer.slot]!.state);
        const start = this.seekProgress(layer);
        // Every seek reports its conclusion: job = iterations before the resume point.
        dev.recovered(l, start.iter - 1, lcPosition(start.iter, start.op, start.pixel));
        this.firstOfBoot = false;
        this.runLea(layer, start);
      } else {
        // Non-LEA layers recompute from their start after a reboot.
        if (this.firstOfBoot) dev.recovered(l, 0, 0);
        this.firstOfBoot = false;
        this.runOther(layer);
      }
      this.endLayer(layer);
    }
  }

  private startInference(rec: ModelRecord): void {
    const dev = this.dev;
    dev.step('start inference');
    dev.newInference();
    rec.layerIdx = 0;
    rec.running = 1;
    this.records.commit(dev, rec);
  }

  /** Layer completion (rules.ts layerEnd): toggle SIGN (conv/FC) and commit layer_idx + 1 in one record write. */
  private endLayer(layer: LcLayer): void {
    const rec = this.rec;
    const slot = isLea(layer) ? rec.slots[layer.slot]! : null;
    const next = layerEnd(
      num,
      { state: slot?.state ?? 0, layerIdx: rec.layerIdx, running: rec.running, runCounter: rec.runCounter },
      { layer: layer.index, last: layer.index === this.lc.layers.length - 1, lea: slot !== null, opts: this.opts },
    );
    if (slot) slot.state = next.state;
    rec.layerIdx = next.layerIdx;
    rec.running = next.running;
    rec.runCounter = next.runCounter;
    this.dev.step('commit layer');
    this.records.commit(this.dev, rec);
  }

  // -------------------------------------------------------------------------------------------
  // seekProgress (__JAP_PG_RETRIEVE)

  /** One NVM word read into the staging area (recovery reads). */
  private readWord(addr: number, label: string): number {
    this.dev.dmaFromNvm(addr, this.stage, 1, Cat.seek, label);
    const v = this.dev.load(this.stage);
    this.dev.release(this.stage, 1);
    return v;
  }

  /** The plan data of iteration `iter` of `l`, with the faults that change it (rules.ts copyFlip). */
  private iteration(l: LcLeaLayer, iter: number): LcIteration {
    return iterationOf(l, this.B, iter, this.opts);
  }

  /**
   * rules.ts seekDecision with the device's reads: one-word DMA reads of PB footprints and of the
   * source copy's anchor, one DMA per destination pixel (its footprints compared in order), and
   * the CPU work of each comparison and of the loop-counter replay.
   */
  seekProgress(l: LcLeaLayer): LcStart {
    const dev = this.dev;
    const B = this.B;
    const out = l.out;
    dev.step('seek progress');
    let staged = 0;
    const release = (): void => {
      if (staged > 0) dev.release(this.stage, staged);
      staged = 0;
    };
    const reads: SeekReads<number, LcIteration> = {
      firstPb: () => {
        const v = this.readWord(pbFirstFootprint(l, B), 'read first PB footprint');
        dev.cpu('max', 1, Cat.seek, 'compare footprint sign');
        return v;
      },
      replayed: (lc) => dev.cpu('add', Math.min(lc, l.iterations), Cat.seek, 'replay loop counters'),
      lastPb: (it, k) => this.readWord(pbLastFootprint(l, it, k), k === it.npix - 1 ? 'read last PB footprint' : 'read PB footprint'),
      anchor: (it) => this.readWord(anchorFootprint(l, it, B), 'read source footprint'),
      source: (it, k) => this.readWord(sourceFootprint(l, it, B, k), 'read source footprint'),
      // One DMA per pixel of the destination copy; its footprints (plan.ts destFootprint) are
      // compared from the staging copy.
      dest: (it, k, f) => {
        if (f === 0) {
          release();
          dev.dmaFromNvm(out.copies[it.flip]! + 2 * outputWordOf(l, it, k), this.stage, it.callWords, Cat.seek, 'read output footprints');
          staged = it.callWords;
        }
        return dev.load(this.stage + f * (B + 1) + B);
      },
      compared: () => dev.cpu('max', 1, Cat.seek, 'compare footprints'),
    };
    const r = seekDecision(num, { sign1: this.sign === 1, iterations: l.iterations, opts: this.opts }, reads, (lc, decide) => decide(this.iteration(l, lc)));
    release();
    return lcStartOf(r);
  }

  // -------------------------------------------------------------------------------------------
  // Conv / FC

  private runLea(l: LcLeaLayer, start: LcStart): void {
    for (let iter = start.iter; iter <= l.iterations; iter++) {
      const it = this.iteration(l, iter);
      this.iter = iter;
      this.flip = it.flip;
      this.loopCnt = loopCnt(num, iter); // int loop_cnt
      if (iter === start.iter && start.op === 1) {
        // The published JAP_CONV continues op 1 from LEA RAM, which the reboot has lost
        // (variant loopcount-published-scan); the reconstruction reloads the products from PB.
        if (!this.opts.publishedScan) this.reloadResults(l, it, start.pixel, it.npix);
        this.accumulate(l, it, start.pixel);
        continue;
      }
      const from = iter === start.iter ? start.pixel : 0;
      if (from > 0) this.reloadResults(l, it, 0, from);
      this.computeAndPreserve(l, it, from);
      this.accumulate(l, it, 0);
    }
    this.iter = 0;
  }

  /** Recovery: the LEA results of pixels [k0, k1) of this iteration, back from PB. */
  private reloadResults(l: LcLeaLayer, it: LcIteration, k0: number, k1: number): void {
    const dev = this.dev;
    dev.step('reload LEA results');
    for (let k = k0; k < k1; k++) {
      const res = l.lea.res + k * it.ncols;
      dev.dmaFromNvm(l.pb + 2 * k * it.callWords, res, it.callWords, Cat.seek, 'reload LEA results from PB');
      if (it.ncols > it.callWords) dev.store(res + it.callWords, 0);
    }
  }

  /** op 0: B matrix with this iteration's footprint weights; per pixel one LEA call and one PB write. */
  private computeAndPreserve(l: LcLeaLayer, it: LcIteration, from: number): void {
    const dev = this.dev;
    const B = this.B;
    const lea = l.lea;
    dev.step('fetch weights');
    dev.dmaFromRom(it.rom, lea.b, it.len * it.ncols, Cat.fetch, 'fetch weights');
    // __JAP_FETCH_WEIGHT: the dummy row's footprint columns get dummy_w * loop_cnt (16-bit).
    dev.step('footprint weights');
    const w = dummyWeight(num, this.sign === 1, this.iter);
    dev.cpu('mul', 1, Cat.preserveIndicator, 'dummy weight');
    for (let f = 0; f < it.nfp; f++) dev.store(lea.b + it.tn * it.ncols + f * (B + 1) + B, w);
    dev.cpu('copy', it.nfp, Cat.preserveIndicator, 'footprint weights');
    const dummyI = dummyInput(num, this.sign === 1);
    for (let k = from; k < it.npix; k++) {
      this.op = 0;
      this.pixel = k;
      const pos = lcPosition(it.iter, 0, k);
      dev.progress(l.index, pos);
      dev.checkpoint(positionOf(l.index, pos), this.carry());
      this.fetchInput(l, it, k, dummyI);
      dev.step('compute');
      const res = lea.res + k * it.ncols;
      dev.leaMatMul(lea.a, it.len, lea.b, it.ncols, res, Cat.compute, 'compute');
      dev.release(lea.a, it.len);
      dev.step('preserve partial products');
      if (this.pbFootprintFirst) {
        for (let f = 0; f < it.nfp; f++) {
          const w = f * (B + 1) + B;
          dev.dmaToNvm(res + w, l.pb + 2 * (k * it.callWords + w), 1, Cat.preserveIndicator, 'write PB footprint', 1);
        }
      }
      dev.dmaToNvm(res, l.pb + 2 * k * it.callWords, it.callWords, Cat.preserveOutput, 'write PB', it.nfp);
    }
    dev.release(lea.b, it.len * it.ncols);
  }

  /** A = [tn inputs at the kernel position (0 outside the input), dummy_i, bias constant, pad]. */
  private fetchInput(l: LcLeaLayer, it: LcIteration, k: number, dummyI: number): void {
    const dev = this.dev;
    const a = l.lea.a;
    const inp = l.in;
    const L = inp.layout;
    dev.step('fetch input');
    let copies = 0;
    if (l.kind === 'gemm') {
      const words = l.termWords!;
      const w0 = words[it.n0]!;
      const w1 = words[it.n0 + it.tn - 1]!;
      copies += this.readStripped(inp.base, w0, w1 - w0 + 1, a, it.tn, (i) => words[it.n0 + i]! - w0);
    } else {
      const oy = it.r0 + Math.floor(k / it.tc);
      const ox = it.c0 + (k % it.tc);
      const iy = oy * l.sh - l.pt + it.kr;
      const ix = ox * l.sw - l.pl + it.kc;
      if (iy < 0 || iy >= l.inH || ix < 0 || ix >= l.inW) {
        for (let i = 0; i < it.tn; i++) dev.store(a + i, 0);
        copies += it.tn;
      } else {
        const pix = (iy * l.inW + ix) * L.Cs;
        const w0 = chanWord(L, it.n0);
        const span = chanWord(L, it.n0 + it.tn - 1) - w0 + 1;
        copies += this.readStripped(inp.base, pix + w0, span, a, it.tn, (i) => chanWord(L, it.n0 + i) - w0);
      }
    }
    dev.store(a + it.tn, dummyI);
    dev.store(a + it.tn + 1, it.first ? -32768 : 0);
    if (it.len > it.tn + 2) dev.store(a + it.tn + 2, 0);
    dev.cpu('copy', copies + it.len - it.tn, Cat.fetch, 'assemble input');
  }

  /**
   * One DMA of `span` stored words starting at word `word0` of a tensor; when they hold more than
   * the `n` wanted values (footprints in between), stage them and compact on the CPU.
   * Returns the CPU copies made.
   */
  private readStripped(base: number, word0: number, span: number, dst: number, n: number, offsetOf: (i: number) => number): number {
    const dev = this.dev;
    if (span === n) {
      dev.dmaFromNvm(base + 2 * word0, dst, n, Cat.fetch, 'fetch input');
      return 0;
    }
    if (span > this.stageWords) throw new JapariError(`input run of ${span} words exceeds the staging buffer`);
    dev.dmaFromNvm(base + 2 * word0, this.stage, span, Cat.fetch, 'fetch input');
    for (let i = 0; i < n; i++) dev.store(dst + i, dev.load(this.stage + offsetOf(i)));
    dev.release(this.stage, span);
    return n;
  }

  /** op 1: accumulate each pixel's result into the ping-pong output pair. */
  private accumulate(l: LcLeaLayer, it: LcIteration, from: number): void {
    const dev = this.dev;
    const lea = l.lea;
    const out = l.out;
    for (let k = from; k < it.npix; k++) {
      this.op = 1;
      this.pixel = k;
      const pos = lcPosition(it.iter, 1, k);
      dev.progress(l.index, pos);
      dev.checkpoint(positionOf(l.index, pos), this.carry());
      const word = outputWordOf(l, it, k);
      const res = lea.res + k * it.ncols;
      dev.step('accumulate output');
      if (it.first) {
        dev.dmaToNvm(res, out.copies[0]! + 2 * word, it.callWords, Cat.preserveOutput, 'write output copy 0', it.nfp);
      } else {
        dev.dmaFromNvm(out.copies[it.flip ^ 1]! + 2 * word, lea.src, it.callWords, Cat.fetch, 'read partial sums');
        if (it.ncols > it.callWords) dev.store(lea.src + it.callWords, 0);
        dev.leaVector('add', res, lea.src, lea.src, it.ncols, Cat.compute, 'accumulate');
        dev.dmaToNvm(lea.src, out.copies[it.flip]! + 2 * word, it.callWords, Cat.preserveOutput, `write output copy ${it.flip}`, it.nfp);
        dev.release(lea.src, it.ncols);
      }
      dev.release(res, it.ncols);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Layers without footprints: recomputed from their start after a reboot.

  private runOther(l: Exclude<LcLayer, LcLeaLayer>): void {
    switch (l.kind) {
      case 'relu':
        return this.relu(l);
      case 'maxpool':
        return this.maxpool(l);
      case 'gap':
        return this.gap(l);
      case 'concat':
        return this.concat(l);
      case 'add':
        return this.add(l);
      default:
        return assertNever(l, 'layer');
    }
  }

  private at(l: LcLayer, ordinal: number): void {
    this.op = 0;
    this.pixel = ordinal;
    this.dev.progress(l.index, ordinal);
    this.dev.checkpoint(positionOf(l.index, ordinal), this.carry());
  }

  private fetch(base: number, word: number, sram: number, n: number, cat: CatId, label: string): void {
    this.dev.dmaFromNvm(base + 2 * word, sram, n, cat, label);
  }

  /** ReLU over chunks of stored words (footprint positions are clamped too: they may hold anything). */
  private relu(r: LcReluLayer): void {
    const dev = this.dev;
    const total = r.out.layout.words;
    for (let o = 0; o < total; o += r.chunk) {
      const n = Math.min(r.chunk, total - o);
      this.at(r, o);
      dev.step('fetch tile');
      this.fetch(r.in.base, o, r.buf, n, Cat.fetch, 'fetch tile');
      dev.step('compute');
      for (let i = 0; i < n; i++) if (dev.load(r.buf + i) < 0) dev.store(r.buf + i, 0);
      dev.cpu('max', n, Cat.compute, 'relu');
      dev.step('preserve output');
      dev.dmaToNvm(r.buf, r.out.ref.base + 2 * o, n, Cat.preserveOutput, 'write output');
      dev.release(r.buf, n);
    }
  }

  /** MaxPool: per output pixel, the channel-wise max of the in-bounds window pixels. */
  private maxpool(m: LcMaxPoolLayer): void {
    const dev = this.dev;
    const inL = m.in.layout;
    const outL = m.out.layout;
    const Cs = inL.Cs;
    const [kh, kw] = m.op.kernel;
    const [sh, sw] = m.op.stride;
    const [pt, pl] = m.op.pads;
    for (let k = 0; k < outL.H * outL.W; k++) {
      const oy = Math.floor(k / outL.W);
      const ox = k % outL.W;
      this.at(m, k);
      let taken = 0;
      for (let r = 0; r < kh; r++) {
        const iy = oy * sh - pt + r;
        if (iy < 0 || iy >= inL.H) continue;
        for (let s = 0; s < kw; s++) {
          const ix = ox * sw - pl + s;
          if (ix < 0 || ix >= inL.W) continue;
          dev.step('fetch tile');
          this.fetch(m.in.base, (iy * inL.W + ix) * Cs, taken === 0 ? m.acc : m.buf, Cs, Cat.fetch, 'fetch window pixel');
          if (taken > 0) {
            dev.step('compute');
            for (let i = 0; i < Cs; i++) {
              const v = dev.load(m.buf + i);
              if (v > dev.load(m.acc + i)) dev.store(m.acc + i, v);
            }
            dev.cpu('max', Cs, Cat.compute, 'maxpool');
          }
          taken++;
        }
      }
      dev.step('preserve output');
      dev.dmaToNvm(m.acc, m.out.ref.base + 2 * k * Cs, Cs, Cat.preserveOutput, 'write output pixel');
      dev.release(m.buf, 2 * Cs);
    }
  }

  /** GlobalAveragePool: 32-bit sums per stored word, then trunc(sum / (H*W)); one write. */
  private gap(g: LcGapLayer): void {
    const dev = this.dev;
    const inL = g.in.layout;
    const Cs = inL.Cs;
    const npix = inL.H * inL.W;
    // The sums live in registers/SRAM and are lost on a reboot: one checkpoint at the start.
    const sums = new Float64Array(Cs);
    this.at(g, 0);
    for (let k = 0; k < npix; k++) {
      dev.step('fetch tile');
      this.fetch(g.in.base, k * Cs, g.buf, Cs, Cat.fetch, 'fetch pixel');
      for (let i = 0; i < Cs; i++) sums[i]! += dev.load(g.buf + i);
      dev.cpu('add', Cs, Cat.compute, 'accumulate');
      dev.release(g.buf, Cs);
    }
    for (let i = 0; i < Cs; i++) dev.store(g.outBuf + i, Math.trunc(sums[i]! / npix));
    dev.cpu('div', Cs, Cat.compute, 'average');
    dev.step('preserve output');
    dev.dmaToNvm(g.outBuf, g.out.ref.base, Cs, Cat.preserveOutput, 'write output');
    dev.release(g.outBuf, Cs);
  }

  /** Concat along channels: per output pixel, gather every input's channels. */
  private concat(c: LcConcatLayer): void {
    const dev = this.dev;
    const outL: Layout = c.out.layout;
    const Cs = outL.Cs;
    for (let k = 0; k < outL.H * outL.W; k++) {
      this.at(c, k);
      for (let i = 0; i < Cs; i++) dev.store(c.outBuf + i, 0);
      let base = 0;
      let copies = 0;
      for (const inp of c.ins) {
        const L = inp.layout;
        dev.step('fetch tile');
        this.fetch(inp.base, k * L.Cs, c.buf, L.Cs, Cat.fetch, 'fetch input pixel');
        for (let ch = 0; ch < L.C; ch++) dev.store(c.outBuf + chanWord(outL, base + ch), dev.load(c.buf + chanWord(L, ch)));
        dev.release(c.buf, L.Cs);
        copies += L.C;
        base += L.C;
      }
      dev.cpu('copy', copies + Cs, Cat.compute, 'concat');
      dev.step('preserve output');
      dev.dmaToNvm(c.outBuf, c.out.ref.base + 2 * k * Cs, Cs, Cat.preserveOutput, 'write output pixel');
      dev.release(c.outBuf, Cs);
    }
  }

  /** Add two feature maps chunk by chunk with the LEA (saturating). */
  private add(a: LcAddLayer): void {
    const dev = this.dev;
    const total = a.out.layout.words;
    for (let o = 0; o < total; o += a.chunk) {
      const n = Math.min(a.chunk, total - o);
      this.at(a, o);
      dev.step('fetch tile');
      this.fetch(a.a.base, o, a.x, n, Cat.fetch, 'fetch operand');
      this.fetch(a.b.base, o, a.y, n, Cat.fetch, 'fetch operand');
      dev.step('compute');
      dev.leaVector('add', a.x, a.y, a.x, n, Cat.compute, 'add');
      dev.step('preserve output');
      dev.dmaToNvm(a.x, a.out.ref.base + 2 * o, n, Cat.preserveOutput, 'write output');
      dev.release(a.x, 2 * a.chunk);
    }
  }
}
