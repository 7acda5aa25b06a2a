/**
 * The properties japari checks, stated once and shared by tests, the CLI and the library API.
 *
 *   equivalence                   a completed inference's real outputs equal the uninterrupted Q15
 *                                 reference bit for bit
 *   progress-exactness            at every seek the recovered job is never ahead of the durable
 *                                 prefix (that skips work) and never behind by more than the
 *                                 engine's granularity allows (that loses work)
 *   indicator-distinguishability  in the NVM state a seek reads, the seeker's finished/unfinished
 *                                 view of every job of the layer matches the truth (JAPARI: exactly;
 *                                 HAWAII: finished implies durable) -- torn writes, stale indicators
 *                                 of the previous inference or tensor, never-written NVM included
 *   no-garbage-reads              the engine never reads volatile memory it has not written since
 *                                 the last reboot (volatile state wrongly trusted)
 *   completion                    under a finite failure schedule the inference completes
 *   forward-progress              when every power cycle funds the engine's minimum work, the
 *                                 inference completes (src/properties/progress.ts)
 *   augmentation-transparency     the augmented network's real outputs equal the original's
 *                                 (src/properties/augmentation.ts)
 *   recovery-restartable          failures during recovery change none of the above (schedules and
 *                                 exploration place failures inside recovery; same checks)
 *
 * Ground truth of "durable": the device's ledger tags every landed NVM byte with the layer-run
 * (inference, layer) that wrote it; a job is durable iff every byte of its words was written in
 * the current layer-run. Stale bytes of earlier runs never count, even when equal in value.
 */
import type { Device } from '../device/device.js';
import { PagedMemory } from '../device/paged.js';
import type { PowerSupply, GarbagePattern } from '../device/device.js';
import { type Deployment, type RunResult, runInference, warmedUp } from '../model/engine/runner.js';
import { inspectorFor, type Inspector } from '../model/engine/inspect.js';

export const PROPERTIES = {
  equivalence: 'a completed inference equals the uninterrupted Q15 reference bit for bit',
  'progress-exactness': 'the recovered progress is never ahead of durable progress, nor behind by more than the granularity',
  'indicator-distinguishability': "the seeker's view of every job matches durable truth in every NVM state a seek reads",
  'no-garbage-reads': 'after a reboot the engine never reads volatile memory it has not written',
  completion: 'under a finite failure schedule the inference completes',
  'forward-progress': "if every power cycle funds the engine's minimum work, the inference completes",
  'augmentation-transparency': "the augmented network's real outputs equal the original network's outputs",
  'recovery-restartable': 'failures during recovery change none of the above',
} as const;
export type PropertyId = keyof typeof PROPERTIES;

export interface Violation {
  readonly property: PropertyId;
  readonly message: string;
  /** Global action index and boot at which it was observed. */
  readonly action: number;
  readonly boot: number;
  readonly layer?: number;
  readonly expectedJob?: number;
  readonly recoveredJob?: number;
  /** Jobs whose seeker view disagreed with the truth (first few). */
  readonly jobs?: readonly { readonly job: number; readonly finished: boolean; readonly durable: boolean; readonly indicator?: number }[];
  /** First output differences (index, got, want). */
  readonly diff?: readonly (readonly [number, number, number])[];
}

export interface Scenario {
  /** Quantized input of the checked inference. */
  readonly input: Int16Array;
  /** Uninterrupted inferences before it (stale indicators in NVM). */
  readonly warmup: readonly Int16Array[];
  /** Absolute action indices (counted from the checked inference's start) where power fails. */
  readonly failAt: readonly number[];
  readonly seed: number;
  readonly garbage?: GarbagePattern;
  readonly trace?: boolean;
}

export interface SeekRecord {
  readonly action: number;
  readonly boot: number;
  readonly layer: number;
  readonly recoveredJob: number;
  readonly durableJobs: number;
  readonly finishedView: number;
}

export interface CheckedRun {
  readonly violations: readonly Violation[];
  readonly result: RunResult;
  readonly seeks: readonly SeekRecord[];
  /** Jobs re-executed because recovery trailed durable progress, summed over seeks. */
  readonly reexecutedJobs: number;
}

const warmCache = new WeakMap<Deployment, Map<string, PagedMemory>>();

/** NVM after the warm-up inferences (cached per deployment and inputs). */
export function warmNvm(d: Deployment, warmup: readonly Int16Array[]): PagedMemory {
  if (warmup.length === 0) return d.installImage();
  let m = warmCache.get(d);
  if (!m) {
    m = new Map();
    warmCache.set(d, m);
  }
  const key = warmup.map((x) => `${x.length}:${hashI16(x)}`).join('|');
  let nvm = m.get(key);
  if (!nvm) {
    nvm = warmedUp(d, warmup);
    m.set(key, nvm);
  }
  return nvm.snapshot();
}

function hashI16(x: Int16Array): number {
  let h = 2166136261;
  for (let i = 0; i < x.length; i++) h = Math.imul(h ^ (x[i]! & 0xffff), 16777619) >>> 0;
  return h;
}

/** Durable truth of every job of `layer` from the device's ledger (current layer-run only). */
export function durableJobs(insp: Inspector, dev: Device, layer: number): Uint8Array {
  const n = insp.jobs(layer);
  const out = new Uint8Array(n);
  const ledger = dev.ledger;
  if (!ledger) throw new Error('durableJobs needs a device with a ledger');
  const l = insp.plan.layers[layer]!;
  const e = dev.epoch;
  const words = new Int32Array(insp.plan.B + 1);
  for (let j = 0; j < n; j++) {
    let ok = true;
    const nw = insp.jobWords(layer, j, words);
    for (let k = 0; k < nw && ok; k++) {
      const a = l.out.base + 2 * words[k]!;
      for (let b = 0; b < 2 && ok; b++) {
        const tag = ledger.readU8(2 * (a + b)) | (ledger.readU8(2 * (a + b) + 1) << 8);
        if (tag !== e) ok = false;
      }
      if (!ok) break;
    }
    out[j] = ok ? 1 : 0;
  }
  return out;
}

export function prefixLength(flags: Uint8Array): number {
  let i = 0;
  while (i < flags.length && flags[i] === 1) i++;
  return i;
}

/**
 * Check the seek the engine just concluded against the truth; returns violations (empty when
 * the design behaves). Pure apart from reading the device's NVM and ledger.
 */
export function checkSeek(insp: Inspector, dev: Device, layer: number, job: number): { violations: Violation[]; durable: number; finished: number } {
  const violations: Violation[] = [];
  if (insp.kind === 'none' || !insp.seeks(layer)) return { violations, durable: 0, finished: 0 };
  const read = (a: number) => dev.nvm.readU8(a);
  const rec = insp.record(read);
  const truth = durableJobs(insp, dev, layer);
  const D = prefixLength(truth);
  const bad: { job: number; finished: boolean; durable: boolean; indicator?: number }[] = [];
  let finishedCount = 0;
  for (let j = 0; j < truth.length; j++) {
    const f = insp.seekerFinished(layer, j, read, rec);
    if (f) finishedCount++;
    const d = truth[j] === 1;
    const wrong = insp.exact ? f !== d : f && !d;
    if (wrong && bad.length < 8) bad.push({ job: j, finished: f, durable: d });
  }
  if (bad.length > 0) {
    violations.push({
      property: 'indicator-distinguishability',
      message: `layer ${layer}: the seeker's view disagrees with durable truth for job ${bad[0]!.job} (seen ${bad[0]!.finished ? 'finished' : 'unfinished'}, truly ${bad[0]!.durable ? 'durable' : 'not durable'})`,
      action: dev.action,
      boot: dev.boots,
      layer,
      jobs: bad,
    });
  }
  const lag = insp.maxLagJobs(layer);
  if (job > D) {
    violations.push({
      property: 'progress-exactness',
      message: `layer ${layer}: recovered job ${job} is ahead of the durable prefix ${D} (work would be skipped)`,
      action: dev.action,
      boot: dev.boots,
      layer,
      expectedJob: D,
      recoveredJob: job,
    });
  } else if (D - job > lag) {
    violations.push({
      property: 'progress-exactness',
      message: `layer ${layer}: recovered job ${job} trails the durable prefix ${D} by more than ${lag} job(s) (work lost)`,
      action: dev.action,
      boot: dev.boots,
      layer,
      expectedJob: D,
      recoveredJob: job,
    });
  }
  return { violations, durable: D, finished: finishedCount };
}

export function outputDiff(got: Int16Array, want: Int16Array, max = 8): [number, number, number][] {
  const d: [number, number, number][] = [];
  for (let i = 0; i < Math.max(got.length, want.length) && d.length < max; i++) {
    if (got[i] !== want[i]) d.push([i, got[i] ?? NaN, want[i] ?? NaN]);
  }
  return d;
}

/** Run one scenario with every property monitored. */
export function checkScenario(d: Deployment, sc: Scenario): CheckedRun {
  const insp = inspectorFor(d.plan);
  const nvm = warmNvm(d, sc.warmup);
  const ledger = new PagedMemory(2 * nvm.bytes);
  const violations: Violation[] = [];
  const seeks: SeekRecord[] = [];
  let reexecutedJobs = 0;
  let bootsSeen = 0;
  let lastBootChecked = -1;
  const supply: PowerSupply = { kind: 'schedule', failAt: sc.failAt };
  const result = runInference(d, {
    input: sc.input,
    supply,
    seed: sc.seed,
    ...(sc.garbage ? { garbage: sc.garbage } : {}),
    trace: sc.trace ?? false,
    nvm,
    ledgerMemory: ledger,
    onRecovered: (dev, layer, job) => {
      const r = checkSeek(insp, dev, layer, job);
      violations.push(...r.violations);
      if (dev.boots !== lastBootChecked && dev.boots > 1) reexecutedJobs += Math.max(0, r.durable - job);
      lastBootChecked = dev.boots;
      seeks.push({ action: dev.action, boot: dev.boots, layer, recoveredJob: job, durableJobs: r.durable, finishedView: r.finished });
    },
    onReboot: () => {
      bootsSeen++;
    },
  });
  void bootsSeen;
  if (result.undefinedReads > 0) {
    const u = result.device.firstUndefinedRead!;
    violations.push({
      property: 'no-garbage-reads',
      message: `read ${result.undefinedReads} volatile word(s) not written since the last reboot; first: SRAM word ${u.word} during "${u.label}"`,
      action: u.action,
      boot: result.device.boots,
    });
  }
  if (!result.completed) {
    violations.push({ property: 'completion', message: result.reason ?? 'did not complete', action: result.actions, boot: result.device.boots });
  } else if (!result.equal) {
    const diff = outputDiff(result.output, result.reference);
    violations.push({
      property: 'equivalence',
      message: `output differs from the reference at ${diff.length}${diff.length === 8 ? '+' : ''} position(s); first: [${diff[0]![0]}] = ${diff[0]![1]}, want ${diff[0]![2]}`,
      action: result.actions,
      boot: result.device.boots,
      diff,
    });
  }
  return { violations, result, seeks, reexecutedJobs };
}
