/**
 * Pure views of an engine's progress indicators, for the properties (no device cost, no state).
 * Each design gives one (EngineDesign.inspector, src/engines/registry.ts), built from the same
 * rule functions its engine runs (the design folder's rules.ts), so a disagreement with the
 * truth is a property of the design, not of a second implementation.
 *
 * For a layer of a deployment:
 *   jobs(l)               the jobs the progress seeker reasons about, in execution order
 *   jobWords(l, j)        the value words of job j (offsets in the layer's output): its work is
 *                         durable when they all landed
 *   indicatorAddr(l, j)   the NVM byte address of the word that marks job j finished (a
 *                         footprint in the output, or a word of the design's own elsewhere), or
 *                         -1 when the design has no per-job indicator (HAWAII's counter is one
 *                         word per layer)
 *   seekerFinished(...)   what the engine's seeker concludes about job j from this NVM, exactly as
 *                         the engine computes it
 *   finishedPrefix(...)   when the seeker's view is a prefix by construction (a counter), its length
 *   exact                 "finished" must coincide with "durable" (per-job indicators); false when
 *                         indicators may lag behind the data (a counter)
 *   maxLagJobs(l)         how far the recovered progress may trail durable progress
 *   aliasing(...)         a design-specific hazard: the word read as job j's indicator holds a data
 *                         value of an earlier tensor (the verdict then depends on the data)
 */
import type { EnginePlan } from './reference/plan.js';
import type { ModelRecord } from './common/record.js';

export type NvmRead = (addr: number) => number;

/** Reads the ledger tag (layer-run) of an NVM byte. */
export type TagRead = (byteAddr: number) => number;

/** An earlier tensor's data value in the word a seeker reads as a job's indicator. */
export interface Aliasing {
  readonly writer: number;
  /** Written by the previous inference (false: by this one). */
  readonly previous: boolean;
  readonly value: number;
}

export interface Inspector {
  /** False for a design without progress indicators (nothing to check at seeks). */
  readonly active: boolean;
  readonly exact: boolean;
  readonly plan: EnginePlan;
  /** Layers the engine runs, and the NVM byte address and stored words of each one's output. */
  readonly layers: number;
  layerName(layer: number): string;
  outputBase(layer: number): number;
  outputWords(layer: number): number;
  jobs(layer: number): number;
  /** Write job `job`'s value words into `out` (length >= jobWordsMax) and return how many there are. */
  jobWords(layer: number, job: number, out: Int32Array): number;
  /** Most value words of one job (sizes the scratch of jobWords). */
  readonly jobWordsMax: number;
  indicatorAddr(layer: number, job: number): number;
  seekerFinished(layer: number, job: number, read: NvmRead, rec: ModelRecord): boolean;
  finishedPrefix?(layer: number, read: NvmRead): number;
  maxLagJobs(layer: number): number;
  /** The record a reboot would load, and where it lies in NVM (bytes [lo, hi)). */
  record(read: NvmRead): ModelRecord;
  readonly recordRange: readonly [number, number];
  /** Does this layer seek at all (JAPARI's GAP recomputes)? */
  seeks(layer: number): boolean;
  aliasing?(read: NvmRead, epoch: number, layer: number, job: number, tag: TagRead, warmed: boolean): Aliasing | null;
}

/** The inspector of a design without progress indicators (continuous). */
export function inactiveInspector(plan: EnginePlan, record: (read: NvmRead) => ModelRecord): Inspector {
  return {
    active: false,
    exact: false,
    plan,
    layers: plan.layers.length,
    layerName: (l) => plan.layers[l]?.name ?? `#${l}`,
    outputBase: (l) => plan.layers[l]!.out.base,
    outputWords: (l) => plan.layers[l]!.out.words,
    jobs: () => 0,
    jobWords: () => 0,
    jobWordsMax: 1,
    indicatorAddr: () => -1,
    seekerFinished: () => false,
    maxLagJobs: () => 0,
    record,
    recordRange: [plan.nvm.record, plan.nvm.record + 2 * plan.nvm.recordBytes],
    seeks: () => false,
  };
}

/** A signed 16-bit word from two bytes (little-endian). */
export function read16(read: NvmRead, addr: number): number {
  return ((read(addr) | (read(addr + 1) << 8)) << 16) >> 16;
}
