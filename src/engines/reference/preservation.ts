/**
 * Where a progress-preservation design plugs into the reference engine's kernels
 * (reference/engine.ts). Each design of algorithms.md that runs on the reference engine --
 * continuous (none), HAWAII, JAPARI, Stateful -- implements this interface in its own folder,
 * built once per boot (volatile state starts afresh, as after a reboot), and keeps its rules
 * as pure functions in that folder's rules.ts.
 *
 * The kernels call the hooks at fixed points of their loops; a hook may issue device events
 * (reads, writes, CPU work) but never changes what the kernels compute for real values.
 */
import type { EngineLayer, ConvLayer, ConvSlice, GemmLayer, TensorRef } from './plan.js';
import type { LayerEndStep } from '../japari/rules.js';

export interface SeekOutcome {
  /** Output word (within the layer's output, all slices) to resume at. */
  readonly resumeWord: number;
  /** Job index the seeker concluded is the first unfinished one (-1 when it did not seek). */
  readonly job: number;
}

export interface Preservation {
  /**
   * False for an engine without progress preservation (continuous): a reboot restarts the
   * inference from its first layer, and nothing is reported as a recovery.
   */
  readonly preserves: boolean;
  /** When > 0: the kernels write outputs in transfers of at most this many words, each with its own hooks (a build's per-job writes). */
  readonly splitWrites?: number;
  /** A boot starts (before the model record is loaded). */
  boot(): void;
  /** A new inference starts (after layer_idx is reset, before the record commit that sets it running). */
  startInference(): void;
  /** The engine enters a layer (its SRAM buffers released). */
  enterLayer(layer: EngineLayer): void;
  /** Where the layer resumes (job -1: no seek, resume at 0). */
  seek(layer: EngineLayer): SeekOutcome;
  /** Conv: right before the LEA call that computes output words [word0, word0 + callWords). */
  beforeConvCall(c: ConvLayer, s: ConvSlice, out: TensorRef, word0: number, callWords: number): void;
  /** FC: after the call's weight rows are in LEA RAM, before the LEA call (`rows` input rows). */
  beforeGemmCall(g: GemmLayer, call: GemmLayer['calls'][number], rows: number, word0: number): void;
  /** Rewrite the indicator positions of an SRAM buffer holding output words [word0, word0 + n). */
  embedIndicators(out: TensorRef, bufWord: number, word0: number, n: number): void;
  /** The word the GAP writes at output word w when it is an indicator, else null. */
  gapIndicator(out: TensorRef, w: number): number | null;
  /** How many of output words [word0, word0 + n) are indicators (their cost is preserve-indicator). */
  indicatorWords(out: TensorRef, word0: number, n: number): number;
  /** Right before the data write of output words [word0, word0 + n) holding `fresh` new values. */
  beforeWrite(layer: EngineLayer, out: TensorRef, bufWord: number, word0: number, n: number, fresh: number): void;
  /** Right after that write. */
  afterWrite(layer: EngineLayer, fresh: number): void;
  /** The state flips and record commits that complete a layer, in order. */
  layerEnd(layer: EngineLayer, last: boolean): readonly LayerEndStep[];
  /** Mix the design's volatile state that lives across checkpoints into the carry hash. */
  carry(mix: (v: number) => void): void;
  /**
   * Optional (Stateful's state clearer): after a kernel read tensor words [word, word + n) into
   * SRAM at `sram`, turn the stored words back into the values the kernels compute with.
   */
  clearInputs?(t: TensorRef, sram: number, word: number, n: number): void;
  /**
   * Optional (Stateful): a conv input row of `n` words at `sram` (LEA RAM) is complete, after the
   * clearInputs calls of its reads: the firmware's per-row strip pass (its cost only).
   */
  afterInputRow?(c: ConvLayer, sram: number, n: number): void;
  /** Optional (Stateful): the word the GAP stores at output word w for its computed value v. */
  embedValue?(out: TensorRef, w: number, v: number): number;
}

/** Hooks that do nothing: a design overrides what it needs. */
export const NO_HOOKS: Omit<Preservation, 'preserves' | 'seek' | 'layerEnd'> = {
  boot: () => undefined,
  startInference: () => undefined,
  enterLayer: () => undefined,
  beforeConvCall: () => undefined,
  beforeGemmCall: () => undefined,
  embedIndicators: () => undefined,
  gapIndicator: () => null,
  indicatorWords: () => 0,
  beforeWrite: () => undefined,
  afterWrite: () => undefined,
  carry: () => undefined,
};
