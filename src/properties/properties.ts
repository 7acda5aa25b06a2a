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
 *                                 of the previous inference or tensor, never-written NVM included;
 *                                 and (JAPARI) the word read as a job's footprint never holds a
 *                                 data value of an earlier tensor, whose verdict would depend on
 *                                 the data (seen finished whenever the value equals the marker)
 *   no-garbage-reads              the engine never reads volatile memory it has not written since
 *                                 the last reboot (volatile state wrongly trusted)
 *   completion                    under a finite failure schedule the inference completes
 *   forward-progress              when every power cycle funds the engine's minimum work, the
 *                                 inference completes (src/properties/progress.ts)
 *   augmentation-transparency     the augmented network's real outputs equal the original's
 *                                 (src/model/augment.ts; test/model/augment.test.ts, Z3 in src/smt)
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
import { type Deployment, type RunOptions, type RunResult, runInference, warmedUp } from '../engines/runner.js';
import type { Inspector, Aliasing, TagRead } from '../engines/inspect.js';
import { UsageError } from '../util/errors.js';

export type { Aliasing, TagRead } from '../engines/inspect.js';
import { EngineStuck } from '../util/errors.js';

export const PROPERTIES = {
  equivalence: 'a completed inference equals the uninterrupted Q15 reference bit for bit',
  'progress-exactness': 'the recovered progress is never ahead of durable progress, nor behind by more than the granularity',
  'indicator-distinguishability': "the seeker's view of every job matches durable truth in every NVM state a seek reads",
  'no-garbage-reads': 'after a reboot the engine never reads volatile memory it has not written',
  completion: 'under a finite failure schedule the inference completes',
  'forward-progress': "if every power cycle funds the engine's minimum work, the inference completes",
  'augmentation-transparency': "the augmented network's real outputs equal the original network's outputs",
  'recovery-restartable': 'failures during recovery change none of the above',
  'next-inference': 'the inference after an interrupted one completes, equal to its reference, without reading garbage: a failure leaves no state the next inference trips over',
} as const;
export type PropertyId = keyof typeof PROPERTIES;

// ---------------------------------------------------------------------------------------------
// Properties of the user's own

/** What a user's property sees at a seek: the NVM state the seeker read, and its conclusion. */
export interface SeekContext {
  readonly deployment: Deployment;
  readonly layer: number;
  /** The job the engine's seeker concluded is the first unfinished one. */
  readonly job: number;
  /** One NVM byte of the state the seek read. */
  read(addr: number): number;
  /** The layer-run (ledger epoch) that last wrote an NVM byte (0: not written in this inference). */
  tag(addr: number): number;
  /** The ledger epoch of the current layer-run. */
  readonly epoch: number;
}

/** What a user's property sees at the end of the checked inference. */
export interface EndContext {
  readonly deployment: Deployment;
  readonly completed: boolean;
  /** Real outputs (logical layout), and the uninterrupted Q15 reference. */
  readonly output: Int16Array;
  readonly reference: Int16Array;
  read(addr: number): number;
}

/**
 * A property of the user's own, checked by fuzzing, exploration and replay beside the built-in
 * ones, at every seek and at the end of the inference. Each check returns a message when the
 * property is violated, null when it holds. Checks must be functions of what they are given (the
 * NVM state), never of how the run got there: exploration stops a recovery once its state equals
 * the uninterrupted run's (src/properties/explore.ts), whose end it checks once.
 */
export interface UserProperty {
  /** Lower-case letters, digits and dashes; counterexamples name it as `user:<id>`. */
  readonly id: string;
  readonly description: string;
  atSeek?(c: SeekContext): string | null;
  atEnd?(c: EndContext): string | null;
}

const userProperties = new Map<string, UserProperty>();

/** Check a user's property from now on (same id again: replaced). Returns an unregister function. */
export function registerProperty(p: UserProperty): () => void {
  if (!/^[a-z][a-z0-9-]{0,39}$/.test(p.id)) throw new UsageError(`property id ${JSON.stringify(p.id)}: use lower-case letters, digits and dashes`);
  if (p.id in PROPERTIES) throw new UsageError(`property id ${p.id} is a built-in property`);
  if (!p.atSeek && !p.atEnd) throw new UsageError(`property ${p.id} checks nothing (give atSeek or atEnd)`);
  userProperties.set(p.id, p);
  return () => {
    if (userProperties.get(p.id) === p) userProperties.delete(p.id);
  };
}

export function registeredProperties(): readonly UserProperty[] {
  return [...userProperties.values()];
}

/** A property id as counterexamples show it: built-in ids, or `user:<id>`. */
export type AnyPropertyId = PropertyId | `user:${string}`;

function userViolation(p: UserProperty, message: string, action: number, boot: number, layer?: number): Violation {
  return { property: `user:${p.id}`, message, action, boot, ...(layer !== undefined ? { layer } : {}) };
}

/** Run every user property's seek check (properties.ts checkScenario, explore.ts). */
export function userSeekViolations(d: Deployment, dev: Device, layer: number, job: number): Violation[] {
  if (userProperties.size === 0) return [];
  const out: Violation[] = [];
  const ledger = dev.ledger;
  const c: SeekContext = {
    deployment: d,
    layer,
    job,
    read: (a) => dev.nvm.readU8(a),
    tag: ledger ? ledgerTagReader(ledger) : () => 0,
    epoch: dev.epoch,
  };
  for (const p of userProperties.values()) {
    const m = p.atSeek?.(c);
    if (m) out.push(userViolation(p, `layer ${layer}: ${m}`, dev.action, dev.boots, layer));
  }
  return out;
}

/** Run every user property's end check. */
export function userEndViolations(d: Deployment, dev: Device, completed: boolean, output: Int16Array, reference: Int16Array): Violation[] {
  if (userProperties.size === 0) return [];
  const out: Violation[] = [];
  const c: EndContext = { deployment: d, completed, output, reference, read: (a) => dev.nvm.readU8(a) };
  for (const p of userProperties.values()) {
    const m = p.atEnd?.(c);
    if (m) out.push(userViolation(p, m, dev.action, dev.boots));
  }
  return out;
}

export interface Violation {
  readonly property: AnyPropertyId;
  readonly message: string;
  /** Global action index and boot at which it was observed. */
  readonly action: number;
  readonly boot: number;
  readonly layer?: number;
  readonly expectedJob?: number;
  readonly recoveredJob?: number;
  /** Jobs whose seeker view disagreed with the truth (first few). */
  readonly jobs?: readonly { readonly job: number; readonly finished: boolean; readonly durable: boolean; readonly indicator?: number }[];
  /** Exploration with both parities: 1 when it belongs to the inference after one more warm-up. */
  readonly phase?: 1;
  /** First output differences (index, got, want). */
  readonly diff?: readonly (readonly [number, number, number])[];
  /** Only footprint words holding data (footprintAliasing): a hazard whose effect depends on the values. */
  readonly dataDependent?: boolean;
}

export interface Scenario {
  /** Quantized input of the checked inference. */
  readonly input: Int16Array;
  /** Uninterrupted inferences before it (stale indicators in NVM). */
  readonly warmup: readonly Int16Array[];
  /** Absolute action indices (counted from the checked inference's start) where power fails. */
  readonly failAt: readonly number[];
  /**
   * Start from this NVM instead of the image after `warmup` (a soak: the NVM the previous,
   * interrupted inference left; counts as warmed up). Not modified.
   */
  readonly startNvm?: PagedMemory;
  readonly seed: number;
  readonly garbage?: GarbagePattern;
  readonly trace?: boolean;
  /** Observers of the checked inference (coverage-guided fuzzing): power failures and checkpoints. */
  readonly observe?: Pick<RunOptions, 'onFailure' | 'onCheckpoint'>;
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

/**
 * Ground truth of one job from a ledger (which layer-run wrote each byte):
 *   work       every value word of the job landed in the current layer-run (its work is done)
 *   indicator  its own indicator word landed in the current layer-run (JAPARI's footprint); for
 *              engines without per-job indicators (HAWAII) this equals `work`
 */
export interface JobTruth {
  work: boolean;
  indicator: boolean;
}

export function ledgerTagReader(ledger: PagedMemory): TagRead {
  return (a) => ledger.readU8(2 * a) | (ledger.readU8(2 * a + 1) << 8);
}

function wordLanded(tag: TagRead, addr: number, epoch: number): boolean {
  return tag(addr) === epoch && tag(addr + 1) === epoch;
}

export function jobTruth(insp: Inspector, layer: number, job: number, tag: TagRead, epoch: number, scratch: Int32Array, out: JobTruth): JobTruth {
  const base = insp.outputBase(layer);
  let work = true;
  const n = insp.jobWords(layer, job, scratch);
  for (let k = 0; k < n && work; k++) work = wordLanded(tag, base + 2 * scratch[k]!, epoch);
  const ia = insp.indicatorAddr(layer, job);
  out.work = work;
  out.indicator = ia < 0 ? work : work && wordLanded(tag, ia, epoch);
  return out;
}

/**
 * How a seeker's view of one job may relate to the truth:
 *   unsound     seen finished, but its work is not durable (recovery would skip work)
 *   incomplete  its work and its own indicator landed, yet it is seen unfinished (exact engines:
 *               a written indicator must be recognised; HAWAII's counter may lag, so never)
 * A job whose work landed but whose indicator is torn or missing may be seen either way: its
 * work is done, and redoing it is the granularity the engine pays for.
 */
export function viewError(exact: boolean, finished: boolean, t: JobTruth): 'unsound' | 'incomplete' | null {
  if (finished && !t.work) return 'unsound';
  if (exact && !finished && t.indicator) return 'incomplete';
  return null;
}

/** A design-specific hazard at job `job`'s indicator (JAPARI: it holds an earlier tensor's data). */
export function footprintAliasing(insp: Inspector, read: (addr: number) => number, epoch: number, layer: number, job: number, tag: TagRead, warmed: boolean): Aliasing | null {
  return insp.aliasing ? insp.aliasing(read, epoch, layer, job, tag, warmed) : null;
}

export interface LayerTruth {
  /** Leading jobs whose work is durable. */
  readonly work: number;
  /** Leading jobs whose work and indicator are durable. */
  readonly indicated: number;
}

/** Progress exactness of a recovered job against the truth (shared by fuzzing and exploration). */
export function progressViolation(insp: Inspector, layer: number, job: number, truth: LayerTruth, action: number, boot: number): Violation | null {
  if (job > truth.work) {
    return {
      property: 'progress-exactness',
      message: `layer ${layer}: recovered job ${job} is ahead of the ${truth.work} job(s) whose work is durable (work would be skipped)`,
      action,
      boot,
      layer,
      expectedJob: truth.work,
      recoveredJob: job,
    };
  }
  const floor = insp.exact ? truth.indicated : truth.work - insp.maxLagJobs(layer);
  if (job < floor) {
    return {
      property: 'progress-exactness',
      message: insp.exact
        ? `layer ${layer}: recovered job ${job} is behind the ${truth.indicated} job(s) whose indicators are durable (work lost)`
        : `layer ${layer}: recovered job ${job} trails the durable prefix ${truth.work} by more than ${insp.maxLagJobs(layer)} job(s) (work lost)`,
      action,
      boot,
      layer,
      expectedJob: insp.exact ? truth.indicated : truth.work,
      recoveredJob: job,
    };
  }
  return null;
}

export type ViewBad = { job: number; finished: boolean; error: 'unsound' | 'incomplete' } | { job: number; finished: boolean; error: 'aliased'; alias: Aliasing; writerName: string };

function aliasMessage(layer: number, b: ViewBad): string {
  if (b.error !== 'aliased') return '';
  return `layer ${layer}: job ${b.job}'s footprint word holds a data value (${b.alias.value}) of ${b.writerName} (layer ${b.alias.writer}) from ${b.alias.previous ? 'the previous' : 'this'} inference: whether the job is seen finished depends on the data`;
}

export function distinguishabilityViolation(layer: number, bad: readonly ViewBad[], action: number, boot: number): Violation {
  const b = bad[0]!;
  return {
    property: 'indicator-distinguishability',
    message:
      b.error === 'unsound'
        ? `layer ${layer}: job ${b.job} is seen finished but its work is not durable (a stale or forged indicator)`
        : b.error === 'incomplete'
          ? `layer ${layer}: job ${b.job} wrote its indicator, yet the seeker sees it unfinished`
          : aliasMessage(layer, b),
    action,
    boot,
    layer,
    jobs: bad.map((x) => ({ job: x.job, finished: x.finished, durable: x.error === 'incomplete' })),
    ...(bad.every((x) => x.error === 'aliased') ? { dataDependent: true } : {}),
  };
}

/**
 * Check the seek the engine just concluded against the truth; returns violations (empty when
 * the design behaves). Pure apart from reading the device's NVM and ledger.
 */
export function checkSeek(insp: Inspector, dev: Device, layer: number, job: number, warmed = false): { violations: Violation[]; durable: number; finished: number } {
  const violations: Violation[] = [];
  if (!insp.active || !insp.seeks(layer)) return { violations, durable: 0, finished: 0 };
  if (!dev.ledger) throw new Error('checkSeek needs a device with a ledger');
  const read = (a: number) => dev.nvm.readU8(a);
  const rec = insp.record(read);
  const tag = ledgerTagReader(dev.ledger);
  const scratch = new Int32Array(insp.jobWordsMax + 1);
  const t: JobTruth = { work: false, indicator: false };
  const n = insp.jobs(layer);
  let work = -1;
  let indicated = -1;
  let finishedCount = 0;
  const bad: ViewBad[] = [];
  for (let j = 0; j < n; j++) {
    jobTruth(insp, layer, j, tag, dev.epoch, scratch, t);
    if (work < 0 && !t.work) work = j;
    if (indicated < 0 && !t.indicator) indicated = j;
    const f = insp.seekerFinished(layer, j, read, rec);
    if (f) finishedCount++;
    const e = viewError(insp.exact, f, t);
    if (e && bad.length < 8) bad.push({ job: j, finished: f, error: e });
    else if (!e && !t.indicator && bad.length < 8) {
      const alias = footprintAliasing(insp, read, dev.epoch, layer, j, tag, warmed);
      if (alias) bad.push({ job: j, finished: f, error: 'aliased', alias, writerName: insp.layerName(alias.writer) });
    }
  }
  const truth = { work: work < 0 ? n : work, indicated: indicated < 0 ? n : indicated };
  if (bad.length > 0) violations.push(distinguishabilityViolation(layer, bad, dev.action, dev.boots));
  const pv = progressViolation(insp, layer, job, truth, dev.action, dev.boots);
  if (pv) violations.push(pv);
  return { violations, durable: truth.work, finished: finishedCount };
}

export function outputDiff(got: Int16Array, want: Int16Array, max = 8): [number, number, number][] {
  const d: [number, number, number][] = [];
  for (let i = 0; i < Math.max(got.length, want.length) && d.length < max; i++) {
    if (got[i] !== want[i]) d.push([i, got[i] ?? NaN, want[i] ?? NaN]);
  }
  return d;
}

/**
 * A warm-up inference (uninterrupted) that does not complete: the design fails before the
 * checked inference starts. The completion violation and the run are the warm-up's.
 */
function stuckWarmup(d: Deployment, sc: Scenario, cause: EngineStuck): CheckedRun {
  let nvm = d.installImage();
  for (let i = 0; i < sc.warmup.length; i++) {
    const r = runInference(d, { input: sc.warmup[i]!, supply: { kind: 'continuous' }, seed: 0, nvm });
    if (!r.completed) {
      const message = `warm-up inference ${i + 1} of ${sc.warmup.length} (uninterrupted, before the checked one) did not complete: ${r.reason ?? 'unknown reason'}`;
      return { violations: [{ property: 'completion', message, action: r.actions, boot: r.device.boots }], result: r, seeks: [], reexecutedJobs: 0 };
    }
    nvm = r.device.nvm;
  }
  throw cause;
}

/**
 * Input of the inference after the checked one: the first warm-up input when there is one (its
 * stale data then differs from the checked input's), else the checked input.
 */
export function nextInputOf(sc: { readonly input: Int16Array; readonly warmup: readonly Int16Array[] }): Int16Array {
  return sc.warmup[0] ?? sc.input;
}

/**
 * The 'next-inference' violations of one uninterrupted inference of `input` started from `nvm`
 * (left unchanged), stamped with the checked run's last action and boot.
 */
export function nextInferenceViolations(d: Deployment, nvm: PagedMemory, input: Int16Array, seed: number, at: { readonly action: number; readonly boot: number }): Violation[] {
  const r = runInference(d, { input, supply: { kind: 'continuous' }, seed, nvm });
  const what = (m: string): Violation => ({ property: 'next-inference', message: `the next (uninterrupted) inference ${m}`, action: at.action, boot: at.boot });
  if (!r.completed) return [what(`does not complete: ${r.reason ?? 'unknown reason'}`)];
  const out: Violation[] = [];
  if (!r.equal) {
    const diff = outputDiff(r.output, r.reference);
    out.push({ ...what(`differs from its reference at ${diff.length}${diff.length === 8 ? '+' : ''} position(s); first: [${diff[0]![0]}] = ${diff[0]![1]}, want ${diff[0]![2]}`), diff });
  }
  if (r.undefinedReads > 0) out.push(what(`reads ${r.undefinedReads} volatile word(s) not written since its power-on`));
  return out;
}

/**
 * The final NVM of the uninterrupted checked inference and its next inference's violations
 * (cached per deployment, warm-up, input and seed). A completed interrupted run whose final NVM
 * equals it has the same next inference; only runs that end elsewhere need their own.
 */
const nextCache = new WeakMap<Deployment, Map<string, { readonly final: PagedMemory; readonly next: readonly Violation[] }>>();
export function uninterruptedNext(d: Deployment, sc: Pick<Scenario, 'input' | 'warmup' | 'seed'>): { readonly final: PagedMemory; readonly next: readonly Violation[] } {
  let m = nextCache.get(d);
  if (!m) {
    m = new Map();
    nextCache.set(d, m);
  }
  const key = [sc.input, ...sc.warmup].map((x) => `${x.length}:${hashI16(x)}`).join('|') + `|${sc.seed}`;
  let e = m.get(key);
  if (!e) {
    const r = runInference(d, { input: sc.input, supply: { kind: 'continuous' }, seed: sc.seed, nvm: warmNvm(d, sc.warmup) });
    const final = r.device.nvm.snapshot();
    e = { final, next: r.completed ? nextInferenceViolations(d, final, nextInputOf(sc), sc.seed, { action: r.actions, boot: r.device.boots }) : [] };
    m.set(key, e);
  }
  return e;
}

/** Run one scenario with every property monitored. */
export function checkScenario(d: Deployment, sc: Scenario): CheckedRun {
  const insp = d.inspector();
  let nvm: PagedMemory;
  const warmed = sc.warmup.length > 0 || sc.startNvm !== undefined;
  try {
    nvm = sc.startNvm ?? warmNvm(d, sc.warmup);
  } catch (e) {
    if (!(e instanceof EngineStuck)) throw e;
    return stuckWarmup(d, sc, e);
  }
  const ledger = new PagedMemory(2 * nvm.bytes);
  const violations: Violation[] = [];
  const seeks: SeekRecord[] = [];
  let reexecutedJobs = 0;
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
    ...(sc.observe?.onFailure ? { onFailure: sc.observe.onFailure } : {}),
    ...(sc.observe?.onCheckpoint ? { onCheckpoint: sc.observe.onCheckpoint } : {}),
    onRecovered: (dev, layer, job) => {
      const r = checkSeek(insp, dev, layer, job, warmed);
      violations.push(...r.violations, ...userSeekViolations(d, dev, layer, job));
      if (dev.boots !== lastBootChecked && dev.boots > 1) reexecutedJobs += Math.max(0, r.durable - job);
      lastBootChecked = dev.boots;
      seeks.push({ action: dev.action, boot: dev.boots, layer, recoveredJob: job, durableJobs: r.durable, finishedView: r.finished });
    },
  });
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
  violations.push(...userEndViolations(d, result.device, result.completed, result.output, result.reference));
  if (result.completed && violations.length === 0) {
    // The inference after this one, from the state this one left.
    const u = uninterruptedNext(d, sc);
    const at = { action: result.actions, boot: result.device.boots };
    if (result.device.nvm.equals(u.final)) violations.push(...u.next.map((v) => ({ ...v, ...at })));
    else violations.push(...nextInferenceViolations(d, result.device.nvm, nextInputOf(sc), sc.seed, at));
  }
  return { violations, result, seeks, reexecutedJobs };
}
