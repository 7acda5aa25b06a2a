/**
 * Stateful, as in the reference engine (algorithms.md "Stateful (for comparison; successor of
 * JAPARI)"): the design's registration -- planner, the reference engine with Stateful's
 * preservation, the inspector -- built on stateful/rules.ts and JAPARI's turning points and
 * seeker (japari/rules.ts).
 *
 *   plan           the half-scale network (half.ts) on the reference engine; conv output
 *                  channels padded to a multiple of B with zero filters and output tiles kept
 *                  whole groups of B (Stateful-CNN's output padding, job_index_to_offset
 *                  `upper_gauss(output_tile_c, BATCH_SIZE) * BATCH_SIZE`), no footprint words
 *   conv / FC      the state enters through the LEA: the bias row of each state column gets
 *                  -(bias + offset), so the LEA writes v/2 + offset in the same transfer as the
 *                  values (Stateful-CNN common/conv.cpp sets the state column's filter entry
 *                  from old_output_offset before each LEA call)
 *   other kernels  the state clearer runs on every word read from a slot (strip_state), the
 *                  kernel computes, and the state is embedded into the last value of each group
 *                  before the write (Stateful-CNN common/op_handlers.cpp relu/concat:
 *                  strip_state ... output_val += offset)
 *   seek           only the first layer after a reboot: JAPARI's binary search over the state
 *                  words (value_finished: the word's sign differs from psb(x))
 *   layer end      flip the output slot's state (turning point at the output length rounded
 *                  down to a multiple of B) and commit with layer_idx + 1, as JAPARI
 *
 * Costs follow the build profile's `stateful` facts (reference/firmware.ts, each citing the code
 * read): the 2021 builds strip and embed states in passes over ranges (my_offset_q15_batched: an
 * LEA offset command at B = 1, a CPU add per state word otherwise; conv input rows through
 * afterInputRow, merge/Add chunks, FC input tiles and bias rows, ReLU pixels), test every value
 * read in ReLU/MaxPool/GAP/FC merges, set conv state entries at filter-tile load, and, with the
 * one-sided offset, pass only over words whose state bit is 1. The values computed never depend on
 * these facts: only device events do.
 *
 * A reconstruction, where the authors' code differs or is silent (the report says so):
 *  - the seeker searches output length / B jobs; the authors' run_recovery (Stateful-CNN
 *    common/intermittent-cnn.cpp, end_job_index = params_len / 2 under STATEFUL) searches one
 *    job per value, which probes words beyond the output when B > 1;
 *  - conv inputs are cleared by the same clearer as the other kernels' inputs;
 *  - FC state columns take psb at their own offset (not at the call's first output).
 */
import { Cat } from '../../device/device.js';
import type { EnginePlan, EngineLayer, ConvLayer, ConvSlice, GemmLayer, TensorRef } from '../reference/plan.js';
import { planReference } from '../reference/plan.js';
import { ReferenceEngine } from '../reference/engine.js';
import type { Preservation, SeekOutcome } from '../reference/preservation.js';
import { slotWordOf } from '../reference/geometry.js';
import { num } from '../ops.js';
import type { EngineDesign, FaultSet } from '../registry.js';
import type { Inspector } from '../inspect.js';
import { type JobMap, type LayerEndStep, psb, firstUnfinishedJob, layerEndSteps } from '../japari/rules.js';
import { seeksAt, convJobMap, outputWordInspector } from '../japari/design.js';
import { halfScale } from './half.js';
import {
  type StatefulRuleFaults,
  hasState,
  embedState,
  clearState,
  finishedState,
  stateSaysFinished,
  seekResult,
  stateWord,
  stateResume,
  stateJobs,
  seekEnd,
  stateTurningPoint,
} from './rules.js';

/** The rule faults of a deployment (catalogue ids). */
export function ruleFaultsOf(faults: FaultSet | readonly string[]): StatefulRuleFaults {
  const has = (id: string) => (Array.isArray(faults) ? faults.includes(id) : (faults as FaultSet).has(id));
  return {
    firstValue: has('stateful-state-first-value'),
    clearPositiveOnly: has('stateful-clear-positive-only'),
    skipOne: has('stateful-seek-skip-one'),
    publishedEnd: has('stateful-published-seek-end'),
  };
}

/**
 * The job map of a layer's output in JAPARI's shape (japari/rules.ts JobMap with the batch B and
 * Stateful's word strides): stateful/rules.ts stateJobMap numbers the state words through it.
 * Conv outputs number jobs in execution order (input slice, filter tile, output pixel, group
 * inside the call: Stateful-CNN job_index_to_offset), every other output in storage order.
 */
export function statefulJobMapOf(plan: EnginePlan, layer: EngineLayer): JobMap {
  if (layer.kind !== 'conv') return { kind: 'generic', B: plan.B, words: layer.out.words };
  // A call of otc values (a multiple of B) holds otc / B jobs and no footprint words.
  return convJobMap(plan, layer, layer.otc / plan.B, layer.otc);
}

/** The layer-end steps of a Stateful layer: JAPARI's, with Stateful's turning point. */
export function statefulLayerEnd(plan: EnginePlan, layer: EngineLayer, last: boolean): LayerEndStep[] {
  return layerEndSteps({
    layer: layer.index,
    last,
    slot: layer.out.slot,
    L: stateTurningPoint(layer.out.words, plan.B),
    commitBeforeState: false,
    noStateNegate: plan.params.faults.includes('stateful-no-state-negate'),
  });
}

/** The Stateful view of a deployment: job maps per layer and the rule faults. */
export class StatefulView {
  readonly maps: readonly JobMap[];
  readonly f: StatefulRuleFaults;
  constructor(readonly plan: EnginePlan) {
    this.maps = plan.layers.map((l) => statefulJobMapOf(plan, l));
    this.f = ruleFaultsOf(plan.params.faults);
  }
  jobs(l: number): number {
    return stateJobs(this.maps[l]!);
  }
  word(l: number, j: number): number {
    return stateWord(num, this.maps[l]!, j, this.f);
  }
  resume(l: number, j: number): number {
    return stateResume(num, this.maps[l]!, j, this.f);
  }
  /** Jobs the seeker searches (seekEnd). */
  searched(l: number): number {
    return seekEnd(this.maps[l]!, this.f);
  }
}

/** Stateful's hooks into the reference engine (one object per boot). */
export class StatefulPreservation implements Preservation {
  readonly preserves = true;
  /** Stateful-CNN `after_recovery`: set at boot, cleared by the first seek. */
  private afterRecovery = true;
  private readonly view: StatefulView;
  private readonly f: StatefulRuleFaults;

  /** The layer being run (enterLayer): the build's strip/embed pattern depends on the kernel. */
  private layer: EngineLayer | null = null;
  /** State words (and those with state +1) cleared in the current conv input row, charged by afterInputRow. */
  private rowStates = 0;
  private rowPlus = 0;
  /** The build's Stateful pattern (firmware.ts `stateful`). */
  private readonly cost: ReferenceEngine['fw']['stateful'];

  constructor(private readonly e: ReferenceEngine) {
    this.view = new StatefulView(e.plan);
    this.f = ruleFaultsOf(e.faults);
    this.cost = e.fw.stateful;
  }

  boot(): void {
    this.afterRecovery = true;
  }

  startInference(): void {}

  enterLayer(layer: EngineLayer): void {
    this.layer = layer;
    this.rowStates = 0;
    this.rowPlus = 0;
  }

  /** Ranges are stripped/embedded in one pass (merge and Add chunks, conv input rows) under this build. */
  private rangeKernel(): boolean {
    const k = this.layer?.kind;
    if (this.cost.rangePass === 'per-value') return false;
    if (k === 'merge') return !this.afterGemm();
    return k === 'add' || k === 'conv' || k === 'gemm';
  }

  /** A merge of FC partial sums (handle_gemmmerge), not of conv partial sums (handle_convmerge). */
  private afterGemm(): boolean {
    const l = this.layer;
    return l !== null && l.kind === 'merge' && this.e.plan.layers[l.index - 1]?.kind === 'gemm';
  }

  /**
   * One strip/embed pass over `n` words at `sram` (LEA RAM) holding `states` state words, `plus`
   * of them with state +1, as the build does it (firmware.ts stateful): my_offset_q15_batched, an
   * LEA offset command at B = 1 (charged as a value-neutral LEA pass: the words were already
   * rewritten) and a CPU add per state word otherwise; under the one-sided offset only the words
   * with state bit 1 carry an offset, so only they are passed over.
   */
  private rangePass(sram: number, n: number, states: number, plus: number, label: string): void {
    const touched = this.cost.oneSidedOffset ? plus : states;
    if (n <= 0 || touched === 0) return;
    if (this.e.B === 1) this.e.dev.leaVector('max', sram, sram, sram, n, Cat.preserveIndicator, `${label} (LEA offset)`);
    else this.e.dev.cpu('add', touched, Cat.preserveIndicator, label);
  }

  /** The state a finished job carries at word `word` of tensor t: -psb(x). */
  private stateAt(t: TensorRef, word: number): number {
    return finishedState(num, psb(num, this.e.rec.slots[t.slot]!, slotWordOf(this.e.plan, t, word)));
  }

  private carries(word: number): boolean {
    return hasState(num, word, this.e.B, this.f);
  }

  seek(layer: EngineLayer): SeekOutcome {
    if (!this.afterRecovery || !seeksAt(layer)) return { resumeWord: 0, job: -1 };
    this.afterRecovery = false;
    const l = layer.index;
    const end = this.view.searched(l);
    const found = firstUnfinishedJob(num, end, (j) => this.jobFinished(layer, j), { lastJobWhenAllFinished: false });
    const job = seekResult(num, found, end, this.f);
    if (end === 0) return { resumeWord: 0, job: 0 };
    return { resumeWord: this.view.resume(l, job), job };
  }

  /** A job is finished iff its state word's sign differs from psb(x) (one NVM word read). */
  private jobFinished(layer: EngineLayer, job: number): boolean {
    const e = this.e;
    const dev = e.dev;
    const out = layer.out;
    const x = this.view.word(layer.index, job);
    if (out.base + 2 * x + 2 > e.plan.nvm.end) return false;
    dev.dmaFromNvm(out.base + 2 * x, e.stage, 1, Cat.seek, 'read state');
    dev.cpu('max', 1, Cat.seek, 'compare state');
    const v = dev.load(e.stage);
    dev.release(e.stage, 1);
    return stateSaysFinished(num, v, psb(num, e.rec.slots[out.slot]!, slotWordOf(e.plan, out, x)));
  }

  /**
   * Conv: the state columns of this call get -(bias + offset) in the bias row (the constant -1.0
   * input times it adds bias + offset), from the filter tile's ROM entry.
   */
  beforeConvCall(c: ConvLayer, s: ConvSlice, out: TensorRef, word0: number, callWords: number): void {
    const e = this.e;
    const dev = e.dev;
    const sliceWords = out.layout.words;
    const f = Math.floor(((word0 % sliceWords) % out.layout.Cs) / c.callWords);
    const rom = s.rom[f]! + s.biasRow * c.ncolsLea;
    let stores = 0;
    let states = 0;
    for (let k = 0; k < callWords; k++) {
      if (!this.carries(word0 + k)) continue;
      states++;
      const want = e.plan.rom[rom + k]! - STATE_WORD * this.stateAt(out, word0 + k);
      const addr = c.lea.b + s.biasRow * c.ncolsLea + k;
      if (dev.load(addr) !== want) {
        dev.store(addr, want);
        stores++;
      }
    }
    // 'tile-load': the entries are set when the tile is loaded (or flipped at a turning point);
    // per call the firmware only computes n_keep_state_bits.
    if (this.cost.convEmbed === 'tile-load') dev.cpu('add', 1, Cat.preserveIndicator, 'n_keep_state_bits');
    else dev.cpu('add', states, Cat.preserveIndicator, 'state query');
    dev.cpu('copy', stores, Cat.preserveIndicator, 'embed state weights');
  }

  /** FC: the call's weight rows were just loaded from ROM; the state columns' bias entries get the offset. */
  beforeGemmCall(g: GemmLayer, call: GemmLayer['calls'][number], rows: number, word0: number): void {
    const e = this.e;
    const dev = e.dev;
    let states = 0;
    for (let k = 0; k < call.words; k++) {
      if (!this.carries(word0 + k)) continue;
      const addr = g.lea.b + rows * g.ncolsLea + k;
      dev.store(addr, dev.load(addr) - STATE_WORD * this.stateAt(g.out, word0 + k));
      states++;
    }
    if (this.cost.rangePass === 'batched') {
      // handle_gemm: my_offset_q15_batched(filter_ptr, -offset, ...) on the bias row of every call,
      // whatever the offset (it may be 0 under the one-sided encoding).
      const row = g.lea.b + rows * g.ncolsLea;
      if (e.B === 1) dev.leaVector('max', row, row, row, call.words, Cat.preserveIndicator, 'embed state weights (LEA offset)');
      else dev.cpu('add', states, Cat.preserveIndicator, 'embed state weights');
      return;
    }
    dev.cpu('add', states, Cat.preserveIndicator, 'state query');
    dev.cpu('copy', states, Cat.preserveIndicator, 'embed state weights');
  }

  /** CPU kernels: embed the state into the last value of each group in the buffer. */
  embedIndicators(out: TensorRef, bufWord: number, word0: number, n: number): void {
    let count = 0;
    let plus = 0;
    for (let i = 0; i < n; i++) {
      if (!this.carries(word0 + i)) continue;
      const st = this.stateAt(out, word0 + i);
      this.e.dev.store(bufWord + i, embedState(num, this.e.dev.load(bufWord + i), st));
      count++;
      if (st > 0) plus++;
    }
    const dev = this.e.dev;
    if (this.rangeKernel()) {
      this.rangePass(bufWord, n, count, plus, 'embed states');
      return;
    }
    const l = this.layer;
    if (l?.kind === 'relu' && !l.perElement && this.cost.reluPixelPass && this.cost.rangePass === 'batched') {
      // handle_relu (NHWC): one my_offset_q15_batched pass per output pixel, when its offset is
      // non-zero under the one-sided encoding: an LEA offset command at B = 1, CPU adds otherwise.
      if (this.e.B === 1) {
        const Cs = out.layout.Cs;
        for (let i = 0; i < n; i++) {
          if ((word0 + i) % Cs !== 0) continue;
          if (this.cost.oneSidedOffset && this.stateAt(out, word0 + i) <= 0) continue;
          const len = Math.min(Cs, n - i);
          dev.leaVector('max', bufWord + i, bufWord + i, bufWord + i, len, Cat.preserveIndicator, 'embed states (LEA offset)');
        }
      } else {
        dev.cpu('add', this.cost.oneSidedOffset ? plus : count, Cat.preserveIndicator, 'embed states');
      }
      return;
    }
    dev.cpu('add', count, Cat.preserveIndicator, 'embed states');
  }

  /** GAP: the state word stores its average with the offset. */
  embedValue(out: TensorRef, w: number, v: number): number {
    if (!this.carries(w)) return v;
    this.e.dev.cpu('add', 1, Cat.preserveIndicator, 'embed state');
    return embedState(num, v, this.stateAt(out, w));
  }

  /** The state clearer on every slot word a kernel reads (the input sample carries no states). */
  clearInputs(t: TensorRef, sram: number, word: number, n: number): void {
    if (t.slot < 0) return;
    const dev = this.e.dev;
    let count = 0;
    let plus = 0;
    for (let i = 0; i < n; i++) {
      if (!this.carries(word + i)) continue;
      const stored = dev.load(sram + i);
      if (stored >= 0) plus++;
      dev.store(sram + i, clearState(num, stored, this.f));
      count++;
    }
    if (this.rangeKernel()) {
      // Conv: the pass runs once per input row (afterInputRow); merge/Add: once per chunk read.
      if (this.layer?.kind === 'conv') {
        this.rowStates += count;
        this.rowPlus += plus;
      } else {
        this.rangePass(sram, n, count, plus, 'strip states');
      }
      return;
    }
    const k = this.layer?.kind;
    if (this.cost.valueStateTest && (k === 'relu' || k === 'maxpool' || k === 'gap' || this.afterGemm())) {
      // handle_relu / maxpool_patch / handle_globalaveragepool / handle_gemmmerge: every value
      // read is tested, the ones carrying an offset are stripped.
      dev.cpu('max', n, Cat.preserveIndicator, 'state test');
      dev.cpu('add', this.cost.oneSidedOffset ? plus : count, Cat.preserveIndicator, 'clear states');
      return;
    }
    dev.cpu('add', count, Cat.preserveIndicator, 'clear states');
  }

  /**
   * A conv input row is in LEA RAM: the build's strip pass over it. Under 'batched' the firmware
   * falls back to a per-value loop (a state test and a subtraction per value) when the input
   * tile is narrower than B (conv.cpp handle_conv_inner_loop).
   */
  afterInputRow(c: ConvLayer, sram: number, n: number): void {
    if (!this.rangeKernel() || c.in.slot < 0) {
      this.rowStates = 0;
      this.rowPlus = 0;
      return;
    }
    const states = this.rowStates;
    const plus = this.rowPlus;
    this.rowStates = 0;
    this.rowPlus = 0;
    const narrow = Math.max(...c.slices.map((s) => s.c1 - s.c0)) < this.e.B;
    if (narrow) {
      // The per-value loop: a state test per value, a subtraction per value whose state bit is 1.
      this.e.dev.cpu('max', n, Cat.preserveIndicator, 'state test');
      this.e.dev.cpu('add', this.cost.oneSidedOffset ? plus : states, Cat.preserveIndicator, 'strip states');
      return;
    }
    this.rangePass(sram, n, states, plus, 'strip states');
  }

  gapIndicator(): number | null {
    return null;
  }

  indicatorWords(): number {
    return 0;
  }

  beforeWrite(): void {}

  afterWrite(): void {}

  layerEnd(layer: EngineLayer, last: boolean): readonly LayerEndStep[] {
    return statefulLayerEnd(this.e.plan, layer, last);
  }

  carry(mix: (v: number) => void): void {
    // rowStates is 0 at every checkpoint (a row's pass is charged before the conv calls).
    mix(this.afterRecovery ? 1 : 0);
  }
}

/** The offset as a bias-row entry unit: the row entry -offset makes the LEA add +offset. */
const STATE_WORD = 0x4000;

/** The inspector: the engine's job map, psb and state predicate on a NVM image (JAPARI's shape). */
export function statefulInspector(plan: EnginePlan): Inspector {
  const view = new StatefulView(plan);
  return outputWordInspector(plan, {
    jobs: (l) => view.jobs(l),
    firstWord: (l, j) => view.resume(l, j),
    word: (l, j) => view.word(l, j),
    finished: (stored, p) => stateSaysFinished(num, stored, p),
    seeks: (l) => seeksAt(plan.layers[l]!),
  });
}

/** Stored words of a tensor -> its half-scale values: the state clearer on every state word. */
function decodeStored(plan: EnginePlan, t: TensorRef, stored: Int16Array): Int16Array {
  if (t.slot < 0) return stored;
  const f = ruleFaultsOf(plan.params.faults);
  const out = Int16Array.from(stored);
  for (let w = 0; w < out.length; w++) if (hasState(num, w, plan.B, f)) out[w] = clearState(num, out[w]!, f);
  return out;
}

export const stateful: EngineDesign = {
  kind: 'stateful',
  title: 'Stateful (states in value signs, half scale, reference engine)',
  source: 'algorithms.md "Stateful (for comparison; successor of JAPARI)"; EMCLab-Sinica/Stateful-CNN',
  preserves: true,
  plan: (q, params) => planReference(halfScale(q), params, { footprints: false, groups: true }),
  engine: (plan, faults) => new ReferenceEngine(plan, faults, (e) => new StatefulPreservation(e)),
  inspector: statefulInspector,
  decodeStored,
};

