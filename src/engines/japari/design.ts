/**
 * JAPARI with state-bit footprints, as in the reference engine (algorithms.md "JAPARI (model
 * augmentation), as in the reference engine"): the design's registration -- planner, the
 * reference engine with JAPARI's preservation, and the inspector -- built on the rules of
 * japari/rules.ts.
 *
 *   layout         one footprint word after every B values of every Conv/FC call (the extra
 *                  filters of the augmentation), written in the same transfer as the values
 *   preservation   footprint weights psb(x) patched into each call's footprint columns; markers
 *                  -psb(x) rewritten by ReLU, pooling, merge, add and GAP
 *   seek           only the first layer after a reboot: binary search over the footprints
 *   layer end      flip the output slot's state (turning point at L) and commit with layer_idx + 1
 */
import { Cat } from '../../device/device.js';
import type { EnginePlan, EngineLayer, ConvLayer, ConvSlice, GemmLayer, TensorRef } from '../reference/plan.js';
import { planReference } from '../reference/plan.js';
import { ReferenceEngine } from '../reference/engine.js';
import type { Preservation, SeekOutcome } from '../reference/preservation.js';
import { slotWordOf } from '../reference/geometry.js';
import { isFootprintWord } from '../../model/layout.js';
import { RecordStore } from '../common/record.js';
import { num } from '../ops.js';
import type { EngineDesign, FaultSet } from '../registry.js';
import type { Inspector, NvmRead } from '../inspect.js';
import { read16 } from '../inspect.js';
import {
  type JobMap,
  type LayerEndStep,
  psb,
  jobCount,
  jobFootprintWord,
  resumeWord,
  footprintSaysFinished,
  firstUnfinishedJob,
  layerEndSteps,
  turningPointOf,
} from './rules.js';
import { footprintAliasing } from './aliasing.js';

/** Fix 'japari-gemm-slice-jobs' applies to FC layers whose partial sums have several slices. */
export function slicedGemmFix(fixes: readonly string[] | ReadonlySet<string>, layer: EngineLayer): boolean {
  const has = (id: string) => (Array.isArray(fixes) ? fixes.includes(id) : (fixes as ReadonlySet<string>).has(id));
  return layer.kind === 'gemm' && layer.out.slices > 1 && has('japari-gemm-slice-jobs');
}

/**
 * The job map of a layer's output (japari/rules.ts JobMap), with the faults and fixes that change
 * it applied: 'japari-fc-no-footprint-recompute' (an FC output without footprints has no jobs),
 * 'japari-gemm-slice-jobs' (FC partial sums numbered per slice), 'japari-job-map-unpadded' (a
 * fault: the zero filters that pad channels to a multiple of B are forgotten).
 */
export function jobMapOf(plan: EnginePlan, layer: EngineLayer): JobMap {
  const B = plan.B;
  const fixes = plan.params.fixes;
  const out = layer.out;
  if (fixes.includes('japari-fc-no-footprint-recompute') && out.layout.fpEvery === 0 && out.slot >= 0) return { kind: 'none', B, words: out.words };
  if (slicedGemmFix(fixes, layer)) {
    const sliceWords = out.layout.words;
    return { kind: 'sliced', B, words: out.words, sliceWords, perSlice: Math.floor(sliceWords / (B + 1)) };
  }
  if (layer.jobMap === 'generic') return { kind: 'generic', B, words: out.words };
  const c = layer as ConvLayer;
  const jobsPerCall = plan.params.faults.includes('japari-job-map-unpadded') ? Math.max(1, Math.floor(Math.min(c.otc, c.OC) / B)) : c.otc / B;
  return convJobMap(plan, c, jobsPerCall, c.callWords);
}

/**
 * The job map of a conv output: per input slice, filter tile, output pixel and job inside one LEA
 * call of `callWords` stored words holding `jobsPerCall` jobs (Stateful-CNN job_index_to_offset).
 */
export function convJobMap(plan: EnginePlan, c: ConvLayer, jobsPerCall: number, callWords: number): JobMap {
  const perTile = c.Pout * c.Qout * jobsPerCall;
  const perSlice = c.filterTiles * perTile;
  return {
    kind: 'conv',
    B: plan.B,
    words: c.out.words,
    sliceWords: c.out.layout.words,
    Cs: c.out.layout.Cs,
    callWords,
    jobsPerCall,
    perTile,
    perSlice,
    jobs: c.slices.length * perSlice,
  };
}

/** Does the seeker run at this layer after a reboot? (GAP always recomputes: no run_recovery.) */
export function seeksAt(layer: EngineLayer): boolean {
  return layer.kind !== 'gap';
}

/** The turning point a layer toggles when it completes (fix japari-gemm-slice-jobs: the whole partial-sum length). */
export function layerTurningPoint(plan: EnginePlan, layer: EngineLayer): number {
  return turningPointOf(layer.out.words, plan.B, slicedGemmFix(plan.params.fixes, layer));
}

/** The layer-end steps of a JAPARI layer (japari/rules.ts layerEndSteps with this plan's faults). */
export function japariLayerEnd(plan: EnginePlan, layer: EngineLayer, last: boolean): LayerEndStep[] {
  return layerEndSteps({
    layer: layer.index,
    last,
    slot: layer.out.slot,
    L: layerTurningPoint(plan, layer),
    commitBeforeState: plan.params.faults.includes('japari-commit-before-state'),
    noStateNegate: plan.params.faults.includes('japari-no-state-negate'),
  });
}

/** Footprint filters' dummy weight magnitude (1; fault 'japari-dummy-weight-2': 2). */
export function dummyWeightOf(faults: FaultSet | readonly string[]): number {
  return (Array.isArray(faults) ? faults.includes('japari-dummy-weight-2') : (faults as FaultSet).has('japari-dummy-weight-2')) ? 2 : 1;
}

/** JAPARI's hooks into the reference engine (one object per boot). */
export class JapariPreservation implements Preservation {
  readonly preserves = true;
  /** Stateful-CNN `after_recovery`: set at boot, cleared by the first seek. */
  private afterRecovery = true;
  private readonly maps = new Map<number, JobMap>();
  private readonly dummyWeight: number;

  constructor(private readonly e: ReferenceEngine) {
    this.dummyWeight = dummyWeightOf(e.faults);
  }

  boot(): void {
    // Fault 'japari-no-recovery': the after-reboot flag is cleared before anyone seeks.
    this.afterRecovery = !this.e.faults.has('japari-no-recovery');
  }

  startInference(): void {}

  enterLayer(): void {}

  private mapOf(layer: EngineLayer): JobMap {
    let m = this.maps.get(layer.index);
    if (!m) {
      m = jobMapOf(this.e.plan, layer);
      this.maps.set(layer.index, m);
    }
    return m;
  }

  /** The marker a finished job carries at output word `word`: -psb(x). */
  private marker(t: TensorRef, word: number): number {
    return -psb(num, this.e.rec.slots[t.slot]!, slotWordOf(this.e.plan, t, word));
  }

  seek(layer: EngineLayer): SeekOutcome {
    if (!this.afterRecovery) return { resumeWord: 0, job: -1 };
    if (!seeksAt(layer)) return { resumeWord: 0, job: -1 };
    this.afterRecovery = false;
    const map = this.mapOf(layer);
    const end = jobCount(map);
    const faults = this.e.faults;
    let job = firstUnfinishedJob(num, end, (j) => this.jobFinished(layer, map, j), { lastJobWhenAllFinished: faults.has('japari-seek-last-job') });
    if (faults.has('japari-seek-skip-one')) job = Math.min(job + 1, end);
    // A layer without jobs (FC outputs without footprints, fixed) restarts from its start.
    if (end === 0) return { resumeWord: 0, job: 0 };
    return { resumeWord: resumeWord(num, map, job), job };
  }

  /** A job is finished iff its footprint equals -psb(x) (one NVM word read). */
  private jobFinished(layer: EngineLayer, map: JobMap, job: number): boolean {
    const e = this.e;
    const dev = e.dev;
    const out = layer.out;
    const x = jobFootprintWord(num, map, job);
    if (out.base + 2 * x + 2 > e.plan.nvm.end) return false;
    dev.dmaFromNvm(out.base + 2 * x, e.stage, 1, Cat.seek, 'read footprint');
    dev.cpu('max', 1, Cat.seek, 'compare footprint');
    const v = dev.load(e.stage);
    dev.release(e.stage, 1);
    return footprintSaysFinished(num, v, this.marker(out, x), { trustsSign: e.faults.has('japari-seek-trusts-sign') });
  }

  /** Set the footprint columns' dummy weights of this call to psb(x) of each footprint word. */
  beforeConvCall(c: ConvLayer, s: ConvSlice, out: TensorRef, word0: number, callWords: number): void {
    const e = this.e;
    const dev = e.dev;
    const B = e.B;
    const slot = e.rec.slots[out.slot]!;
    let stores = 0;
    for (let k = B; k < callWords; k += B + 1) {
      const want = this.dummyWeight * psb(num, slot, slotWordOf(e.plan, out, word0 + k));
      const addr = c.lea.b + s.biasRow * c.ncolsLea + k;
      if (dev.load(addr) !== want) {
        dev.store(addr, want);
        stores++;
      }
    }
    dev.cpu('add', Math.ceil(callWords / (B + 1)), Cat.preserveIndicator, 'state query');
    dev.cpu('copy', stores, Cat.preserveIndicator, 'flip footprint weights');
  }

  /**
   * The FC call's footprint columns get the dummy weight psb at the call's first output offset
   * (Stateful-CNN); fix 'japari-gemm-column-sign': psb at each footprint's own offset.
   */
  beforeGemmCall(g: GemmLayer, call: GemmLayer['calls'][number], rows: number, word0: number): void {
    if (!call.fps) return;
    const e = this.e;
    const out = g.out;
    const perColumn = e.fixes.has('japari-gemm-column-sign');
    const slot = e.rec.slots[out.slot]!;
    for (let k = e.B; k < call.words; k += e.B + 1) {
      const want = this.dummyWeight * psb(num, slot, slotWordOf(e.plan, out, perColumn ? word0 + k : word0));
      e.dev.store(g.lea.b + rows * g.ncolsLea + k, want);
    }
    e.dev.cpu('copy', Math.floor(call.words / (e.B + 1)), Cat.preserveIndicator, 'footprint weights');
  }

  /** Rewrite footprint positions of an SRAM buffer holding output words [word0, word0+n) with markers. */
  embedIndicators(out: TensorRef, bufWord: number, word0: number, n: number): void {
    const l = out.layout;
    const sliceWords = l.words;
    let count = 0;
    // Fault 'japari-relu-stale-marker': the marker of the buffer's first word for every footprint.
    const stale = this.e.faults.has('japari-relu-stale-marker');
    for (let i = 0; i < n; i++) {
      const w = word0 + i;
      if (isFootprintWord(l, w % sliceWords)) {
        this.e.dev.store(bufWord + i, this.marker(out, stale ? word0 : w));
        count++;
      }
    }
    this.e.dev.cpu('copy', count, Cat.preserveIndicator, 'embed footprints');
  }

  gapIndicator(out: TensorRef, w: number): number | null {
    return isFootprintWord(out.layout, w) ? this.marker(out, w) : null;
  }

  indicatorWords(out: TensorRef, word0: number, n: number): number {
    return n - this.e.realValues(out, word0, n);
  }

  /** Fault 'japari-footprint-first': each footprint is written on its own before its values. */
  beforeWrite(_layer: EngineLayer, out: TensorRef, bufWord: number, word0: number, n: number): void {
    if (!this.e.faults.has('japari-footprint-first')) return;
    const l = out.layout;
    for (let i = 0; i < n; i++) {
      if (isFootprintWord(l, (word0 + i) % l.words)) this.e.dev.dmaToNvm(bufWord + i, out.base + 2 * (word0 + i), 1, Cat.preserveIndicator, 'preserve footprint', 1);
    }
  }

  afterWrite(): void {}

  layerEnd(layer: EngineLayer, last: boolean): readonly LayerEndStep[] {
    return japariLayerEnd(this.e.plan, layer, last);
  }

  carry(mix: (v: number) => void): void {
    mix(this.afterRecovery ? 1 : 0);
  }
}

/**
 * The inspector of a design whose job j is marked by one word of the layer's output (JAPARI's
 * footprint, Stateful's state word): the job's B value words start at `firstWord(l, j)`, its
 * indicator is word `word(l, j)`, and the seeker's verdict is `finished(stored, psb(x))`.
 */
export function outputWordInspector(
  plan: EnginePlan,
  d: {
    jobs(l: number): number;
    firstWord(l: number, j: number): number;
    word(l: number, j: number): number;
    finished(stored: number, psbAtX: number): boolean;
    seeks(l: number): boolean;
  },
): Inspector {
  const records = new RecordStore(plan.nvm.record, plan.nvm.recordBytes, plan.nvm.slots.length);
  const layers = plan.layers;
  const B = plan.B;
  return {
    active: true,
    exact: true,
    plan,
    layers: layers.length,
    layerName: (l) => layers[l]!.name,
    outputBase: (l) => layers[l]!.out.base,
    outputWords: (l) => layers[l]!.out.words,
    jobs: (l) => d.jobs(l),
    jobWords: (l, j, out) => {
      const first = d.firstWord(l, j);
      for (let i = 0; i < B; i++) out[i] = first + i;
      return B;
    },
    jobWordsMax: B,
    indicatorAddr: (l, j) => layers[l]!.out.base + 2 * d.word(l, j),
    seekerFinished: (l, j, read: NvmRead, rec) => {
      const layer = layers[l]!;
      const x = d.word(l, j);
      const addr = layer.out.base + 2 * x;
      if (addr + 2 > plan.nvm.end) return false;
      return d.finished(read16(read, addr), psb(num, rec.slots[layer.out.slot]!, slotWordOf(plan, layer.out, x)));
    },
    maxLagJobs: () => 0,
    record: (read) => records.peek(read),
    recordRange: [plan.nvm.record, plan.nvm.record + 2 * plan.nvm.recordBytes],
    seeks: (l) => d.seeks(l),
  };
}

/** The inspector: the engine's job map, psb and finished predicate on a NVM image. */
export function japariInspector(plan: EnginePlan): Inspector {
  const layers = plan.layers;
  const B = plan.B;
  const maps = layers.map((l) => jobMapOf(plan, l));
  const trustsSign = plan.params.faults.includes('japari-seek-trusts-sign');
  const insp: Inspector = {
    ...outputWordInspector(plan, {
      jobs: (l) => jobCount(maps[l]!),
      firstWord: (l, j) => jobFootprintWord(num, maps[l]!, j) - B,
      word: (l, j) => jobFootprintWord(num, maps[l]!, j),
      finished: (stored, p) => footprintSaysFinished(num, stored, -p, { trustsSign }),
      seeks: (l) => seeksAt(layers[l]!) && maps[l]!.kind !== 'none',
    }),
    aliasing: (read, epoch, l, j, tag, warmed) => footprintAliasing(insp, read, epoch, l, j, tag, warmed),
  };
  return insp;
}

export const japari: EngineDesign = {
  kind: 'japari',
  title: 'JAPARI (state-bit footprints, reference engine)',
  source: 'algorithms.md "JAPARI (model augmentation), as in the reference engine (state-bit footprints)"',
  preserves: true,
  plan: (q, params) => planReference(q, params, { footprints: true }),
  engine: (plan, faults) => new ReferenceEngine(plan, faults, (e) => new JapariPreservation(e)),
  inspector: japariInspector,
};
