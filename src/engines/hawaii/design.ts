/**
 * HAWAII (algorithms.md "HAWAII (footprinting)"): the design's registration -- planner, the
 * reference engine with HAWAII's preservation, and the inspector -- built on hawaii/rules.ts and
 * the versioned counter pair of hawaii/counters.ts.
 *
 *   inference start   reset every layer's counter pair ({0, 0} to both copies)
 *   after each write  add the values to a volatile remainder; one counter write (+B) per full B
 *   seek              at every layer start: the newer counter copy; first unfinished job = counter / B
 *   layer end         commit layer_idx + 1 (one versioned record write)
 */
import { Cat } from '../../device/device.js';
import type { EnginePlan, EngineLayer } from '../reference/plan.js';
import { planReference } from '../reference/plan.js';
import { ReferenceEngine } from '../reference/engine.js';
import { type Preservation, type SeekOutcome, NO_HOOKS } from '../reference/preservation.js';
import { valueWord, maxValuesPerWrite } from '../reference/geometry.js';
import { RecordStore } from '../common/record.js';
import type { LayerEndStep } from '../japari/rules.js';
import { num } from '../ops.js';
import type { EngineDesign } from '../registry.js';
import type { Inspector } from '../inspect.js';
import { CounterStore } from './counters.js';
import { type CounterState, type CounterWriteFaults, counterUpdate, counterWriteDue, recordEveryValue, recoveredJob, recordIncrements, versionedCounterWrite } from './rules.js';
import { planFirmware } from '../reference/plan.js';
import type { FirmwareProfile } from '../reference/firmware.js';
import { readVersion } from '../common/record.js';

/** Values of a layer the inspector reasons about (conv: every computed channel, padding included). */
export function layerValues(l: EngineLayer): number {
  if (l.kind === 'conv') return l.slices.length * l.Pout * l.Qout * l.OCp;
  return l.out.words;
}

/** HAWAII's hooks into the reference engine (one object per boot). */
export class HawaiiPreservation implements Preservation {
  readonly preserves = true;
  readonly counters: CounterStore;
  /** HAWAII `non_recorded_jobs` (static: 0 after every boot, carried across layers). */
  private remainder = 0;
  private counter: CounterState<number, boolean> = { value: 0, version: 0, newer1: false };
  private readonly uninitialised: boolean;
  private readonly counterFirst: boolean;
  /** Variant hawaii-record-every-value (catalogue.ts VARIANTS): the 2021-08 recording. */
  private readonly everyValue: boolean;
  /** Fix 'hawaii-whole-job-increments': the 2021 update sequence adds whole B only (remainder per layer). */
  private readonly wholeJobs: boolean;
  /** Fault 'hawaii-write-newer-copy': counter updates overwrite the newer copy. */
  private readonly writeFaults: CounterWriteFaults;
  private readonly remainderWord: number;
  private readonly fw: FirmwareProfile;
  /** Ablation 'indicator-preservation': the counter writes are skipped (HAWAII without footprint preservation). */
  private readonly ablated: boolean;
  /** The 2021-02 build writes each job's B values in a transfer of its own. */
  readonly splitWrites: number;

  constructor(private readonly e: ReferenceEngine) {
    this.fw = planFirmware(e.plan);
    this.ablated = e.plan.params.ablate === 'indicator-preservation';
    this.splitWrites = this.fw.hawaii.perJobValueWrites ? e.B : 0;
    this.counters = new CounterStore(e.plan.nvm.counters, e.faults.has('hawaii-single-copy'));
    this.uninitialised = e.faults.has('hawaii-remainder-uninitialised');
    this.counterFirst = e.faults.has('hawaii-counter-before-data');
    this.everyValue = e.faults.has('hawaii-record-every-value');
    this.writeFaults = { writeNewer: e.faults.has('hawaii-write-newer-copy') };
    this.wholeJobs = e.fixes.has('hawaii-whole-job-increments');
    this.remainderWord = e.plan.params.profile.sramMap.remainderWord;
  }

  boot(): void {
    // non_recorded_jobs is a static (0 after every boot); fault: an uninitialised volatile global.
    this.remainder = this.uninitialised ? this.e.dev.load(this.remainderWord) : 0;
  }

  startInference(): void {
    if (this.e.faults.has('hawaii-no-counter-reset')) return;
    // Stateful-CNN run_model: reset_hawaii_layer_footprint for every node: {0, 0} to both copies.
    const dev = this.e.dev;
    for (let l = 0; l < this.e.plan.layers.length; l++) {
      this.counters.write(dev, l, 0, 0, 0, Cat.preserveIndicator, 'reset footprint counter');
      this.counters.write(dev, l, 1, 0, 0, Cat.preserveIndicator, 'reset footprint counter');
    }
  }

  enterLayer(): void {
    if (this.uninitialised) this.e.dev.store(this.remainderWord, this.remainder);
    // Fixes 'hawaii-layer-remainder', 'hawaii-whole-job-increments': leftovers of one layer never count for the next.
    if (this.e.fixes.has('hawaii-layer-remainder') || this.wholeJobs) this.setRemainder(0);
  }

  /** Called at every layer start (Stateful-CNN run_recovery under HAWAII). */
  seek(layer: EngineLayer): SeekOutcome {
    const [value, newer, version] = this.counters.read(this.e.dev, layer.index);
    this.counter = { value, version, newer1: newer === 1 };
    const B = this.e.B;
    const job = recoveredJob(num, value, B, { resumeNextJob: this.e.faults.has('hawaii-resume-next-job') });
    return { resumeWord: valueWord(layer, job * B), job };
  }

  private setRemainder(v: number): void {
    this.remainder = v;
    if (this.uninitialised) this.e.dev.store(this.remainderWord, v);
  }

  /** hawaii_record_footprints: count the values, write the counter once per full B. */
  private recordValues(layer: EngineLayer, values: number): void {
    if (values <= 0) return;
    const e = this.e;
    if (this.fw.hawaii.versionReadsPerUpdate > 0) return this.recordValues2021(layer, values);
    if (this.everyValue) {
      // Variant hawaii-record-every-value (37708ef): no remainder; min(B, n) per step.
      for (const add of recordEveryValue(values, e.B)) {
        const next = counterUpdate(num, this.counter, add, this.writeFaults);
        e.dev.step('update indicator');
        this.counters.write(e.dev, layer.index, next.newer1 ? 1 : 0, next.value, next.version, Cat.preserveIndicator);
        this.counter = next;
      }
      return;
    }
    if (this.uninitialised) this.remainder = e.dev.load(this.remainderWord);
    this.setRemainder(this.remainder + values);
    while (counterWriteDue(num, this.remainder, e.B)) {
      const next = counterUpdate(num, this.counter, e.B, this.writeFaults);
      e.dev.step('update indicator');
      this.counters.write(e.dev, layer.index, next.newer1 ? 1 : 0, next.value, next.version, Cat.preserveIndicator);
      this.counter = next;
      this.setRemainder(this.remainder - e.B);
    }
  }

  /**
   * The 2021 builds, each update two 1-byte version reads and one 4-byte write {value, version}
   * to the older copy (versionedCounterWrite). 37708ef ('floor-plus-one', or the variant
   * hawaii-record-every-value on any build): floor(values / B) + 1 updates adding min(B, n)
   * (recordIncrements). 672ed9a ('per-full-batch'): the static non_recorded_jobs remainder, + B
   * per full B, carried across layers. The loop and call bookkeeping cost the build's fitted
   * constants; under the ablation only they remain.
   */
  private recordValues2021(layer: EngineLayer, values: number): void {
    const e = this.e;
    const dev = e.dev;
    let incs: number[];
    if (this.wholeJobs || (this.fw.hawaii.updates === 'per-full-batch' && !this.everyValue)) {
      // 672ed9a, and fix hawaii-whole-job-increments (which also resets the remainder per layer):
      // + B per full B of the remainder, the rest waits.
      if (this.uninitialised) this.remainder = dev.load(this.remainderWord);
      this.setRemainder(this.remainder + values);
      incs = [];
      while (counterWriteDue(num, this.remainder, e.B)) {
        incs.push(e.B);
        this.setRemainder(this.remainder - e.B);
      }
    } else incs = recordIncrements(values, e.B);
    const c = this.fw.constants;
    dev.software(c.footprintCallCycles + c.footprintLoopCycles * incs.length, Cat.preserveIndicator, 'record footprints (bookkeeping)', incs.length, 1);
    if (this.ablated) return;
    for (const k of incs) {
      dev.step('update indicator');
      let w: { copy1: boolean; value: number; version: number };
      if (this.fw.hawaii.versionReadsPerUpdate > 0) {
        const v0 = readVersion(dev, this.counters.addr(layer.index, 0) + 2, Cat.preserveIndicator);
        const v1 = this.counters.singleCopy ? v0 : readVersion(dev, this.counters.addr(layer.index, 1) + 2, Cat.preserveIndicator);
        w = versionedCounterWrite(num, this.counter.value, k, v0, v1, this.writeFaults);
      } else {
        // No version reads: the volatile view of the pair picks the copy (counterUpdate's rule).
        const n = counterUpdate(num, this.counter, k, this.writeFaults);
        w = { copy1: n.newer1, value: n.value, version: n.version };
      }
      this.counters.write(dev, layer.index, w.copy1 ? 1 : 0, w.value, w.version, Cat.preserveIndicator);
      this.counter = { value: w.value, version: w.version, newer1: w.copy1 };
    }
  }

  beforeWrite(layer: EngineLayer, _out: unknown, _buf: number, _word0: number, _n: number, fresh: number): void {
    if (this.counterFirst) this.recordValues(layer, fresh);
  }

  afterWrite(layer: EngineLayer, fresh: number): void {
    if (!this.counterFirst) this.recordValues(layer, fresh);
  }

  layerEnd(layer: EngineLayer, last: boolean): readonly LayerEndStep[] {
    return [{ kind: 'commit', layerIdx: layer.index + 1, last }];
  }

  carry(mix: (v: number) => void): void {
    mix(this.remainder);
    mix(this.counter.value);
    mix(this.counter.newer1 ? 1 : 0);
    mix(this.counter.version);
  }

  beforeConvCall = NO_HOOKS.beforeConvCall;
  beforeGemmCall = NO_HOOKS.beforeGemmCall;
  embedIndicators = NO_HOOKS.embedIndicators;
  gapIndicator = NO_HOOKS.gapIndicator;
  indicatorWords = NO_HOOKS.indicatorWords;
}

/** The inspector: the counter's newer copy, read as the seeker reads it. */
export function hawaiiInspector(plan: EnginePlan): Inspector {
  const records = new RecordStore(plan.nvm.record, plan.nvm.recordBytes, plan.nvm.slots.length);
  const counters = new CounterStore(plan.nvm.counters);
  const layers = plan.layers;
  const B = plan.B;
  // The seeker's view: jobs below counter / B are finished (the fault hawaii-resume-next-job
  // changes only where the engine resumes, which progress exactness checks).
  const prefix = (l: number, read: (a: number) => number) => recoveredJob(num, counters.peek(read, l), B, { resumeNextJob: false });
  return {
    active: true,
    exact: false,
    plan,
    layers: layers.length,
    layerName: (l) => layers[l]!.name,
    outputBase: (l) => layers[l]!.out.base,
    outputWords: (l) => layers[l]!.out.words,
    jobs: (l) => Math.ceil(layerValues(layers[l]!) / B),
    jobWords: (l, j, out) => {
      const total = layerValues(layers[l]!);
      let n = 0;
      for (let v = j * B; v < Math.min(total, (j + 1) * B); v++) out[n++] = valueWord(layers[l]!, v);
      return n;
    },
    jobWordsMax: B,
    indicatorAddr: () => -1,
    seekerFinished: (l, j, read) => j < prefix(l, read),
    finishedPrefix: prefix,
    // GAP records nothing and recomputes; otherwise one write's values plus the remainder.
    maxLagJobs: (l) => (layers[l]!.kind === 'gap' ? Infinity : Math.ceil((maxValuesPerWrite(layers[l]!) + B - 1) / B)),
    record: (read) => records.peek(read),
    recordRange: [plan.nvm.record, plan.nvm.record + 2 * plan.nvm.recordBytes],
    seeks: () => true,
  };
}

export const hawaii: EngineDesign = {
  kind: 'hawaii',
  title: 'HAWAII (footprint counters)',
  source: 'algorithms.md "HAWAII (footprinting)"',
  preserves: true,
  plan: (q, params) => planReference(q, params, { footprints: false }),
  engine: (plan, faults) => new ReferenceEngine(plan, faults, (e) => new HawaiiPreservation(e)),
  inspector: hawaiiInspector,
};
