/**
 * Exhaustive failure exploration (littlefs-style power-loss testing, on the executable model).
 *
 * linear  one power failure at every NVM write unit of the checked inference: for each k, power
 *         fails right before the (k+1)-th write unit lands, the device reboots with garbage in
 *         SRAM, and the engine recovers. Failures between two write units leave the same NVM
 *         and ledger state as failing at the next unit, so they are equivalent (exploring every
 *         action boundary gives the same verdicts: test/properties/explore.test.ts).
 * depth2  every pair of failures inside one chosen layer: the first at a write unit of that
 *         layer, the second at every write unit the recovery then performs in that layer
 *         (reboots during recovery and re-execution).
 *
 * Pass 1 runs the inference uninterrupted, logging every write unit (address, value, action,
 * layer-run) and, at every engine checkpoint, an O(1) snapshot of NVM and ledger plus the
 * defined volatile words and the engine's carry hash. Pass 2 rebuilds the state at each failure
 * point from the nearest snapshot and runs the recovery.
 *
 * Pruning (sound): a recovery run is stopped at a checkpoint where its state equals the
 * uninterrupted run's state at the same position: the same carry hash of the engine's volatile
 * variables, byte-identical NVM, and every SRAM word the uninterrupted run had defined there
 * defined with the same value. Everything the continuation reads is then equal (a correct run
 * never reads undefined words -- reading one is itself a violation), so the continuation and its
 * verdict equal the uninterrupted run's, which is checked once. test/properties/explore.test.ts
 * compares pruned and unpruned verdicts, including on broken engines.
 */
import { PagedMemory } from '../device/paged.js';
import { type Device, type VolatileSnapshot, isPowerFailure } from '../device/device.js';
import { type Deployment, makeDevice, driveInference, StopRun } from '../engines/runner.js';
import type { Inspector } from '../engines/inspect.js';
import { checkSeek, nextInferenceViolations, nextInputOf, outputDiff, progressViolation, warmNvm, userSeekViolations, userEndViolations, type Violation } from './properties.js';
import { CursorMonitor, type MonitorView } from './monitor.js';
import { EngineStuck, JapariError } from '../util/errors.js';

export interface ExploreOptions {
  readonly input: Int16Array;
  readonly warmup: readonly Int16Array[];
  readonly seed: number;
  readonly mode: ExploreMode;
  /** depth2/depth3: only failures at write units of this engine layer (every layer when absent). */
  readonly layer?: number;
  readonly prune?: boolean;
  /** Explore only points with index % n === i (or, `contiguous`, the i-th of n equal ranges). */
  readonly shard?: { readonly index: number; readonly count: number; readonly contiguous?: boolean };
  /** Also place failures at every non-write action boundary (equivalent; for the soundness test). */
  readonly everyAction?: boolean;
  /** Stop after the first failing point. */
  readonly stopAtFirst?: boolean;
  /**
   * A point fails only on violations that do not depend on data values (not
   * Violation.dataDependent): a finding search that wants a flaw's effect, not the hazard.
   */
  readonly effectsOnly?: boolean;
  /** 2: also explore the inference after one more warm-up (the other parity of the state bits); default 1. */
  readonly parities?: 1 | 2;
  /** Use full from-scratch checks instead of the incremental monitor (slow twin). */
  readonly fullChecks?: boolean;
  /**
   * Run each recovery that receives no nested failure (every recovery in linear mode, the last
   * failure's in depth 2/3) in place on the memories it starts from and roll its writes back
   * (default), or, false, on copy-on-write snapshots of them (slow twin).
   */
  readonly journal?: boolean;
  readonly onProgress?: (done: number, total: number) => void;
  /**
   * depth2/depth3, pruned: called for every recovery that nested failures were placed in, with
   * where its window ended. Nested failures after `fromUnit` were not placed: they are the
   * failures of the uninterrupted run's points from `fromUnit` on, shifted by `actionOffset`
   * (test/properties/depth.test.ts expands them and compares with the unpruned search).
   */
  readonly onWindow?: (w: RecoveryWindow) => void;
  /** Stop the search: the call throws the signal's reason (an AbortError) at the next point. */
  readonly signal?: AbortSignal;
}

export type ExploreMode = 'linear' | 'depth2' | 'depth3';

/** How many failures a schedule of this mode holds at most. */
export function depthOf(mode: ExploreMode): 1 | 2 | 3 {
  return mode === 'linear' ? 1 : mode === 'depth2' ? 2 : 3;
}

/** A recovery whose write units received nested failures (ExploreOptions.onWindow). */
export interface RecoveryWindow {
  /** The failures before this recovery. */
  readonly schedule: readonly number[];
  /** The uninterrupted run's write unit the first of them fell before. */
  readonly unit: number;
  /** Write units of the recovery up to convergence (each received a nested failure, layer filter aside). */
  readonly windowUnits: number;
  /** The uninterrupted run's unit count at the state the recovery converged to; null when it never converged. */
  readonly fromUnit: number | null;
  /** Recovery action minus uninterrupted action at that state. */
  readonly actionOffset: number;
}

export interface FailurePoint {
  /** Absolute failure schedule (action indices) that reproduces this point. */
  readonly schedule: readonly number[];
  readonly violations: readonly Violation[];
  /** Write unit index (in the uninterrupted run) of the first failure, and its NVM byte. */
  readonly unit: number;
  readonly addr: number;
  readonly layer: number;
  /** 1: the point belongs to the second parity (warm-ups: secondParityWarmup). */
  readonly phase?: 1;
}

export interface ExploreStats {
  /** Failure points explored (schedules run). */
  readonly points: number;
  /** Write units of the uninterrupted inference. */
  readonly writeUnits: number;
  /** Actions of the uninterrupted inference. */
  readonly actions: number;
  readonly checkpoints: number;
  /** Recovery runs stopped by convergence. */
  readonly converged: number;
  /** Device actions executed by recovery runs (after the failure). */
  readonly recoveryActions: number;
  /** Actions an unpruned search would have executed (each recovery running to completion). */
  readonly unprunedActionsEstimate: number;
  /** Jobs re-executed (durable prefix minus recovered job), summed. */
  readonly reexecutedJobs: number;
  /** Points whose (last) failure fell strictly inside an NVM write transfer of more than one unit. */
  readonly tornPoints: number;
  /** First-failure points of the whole campaign (before sharding) that fall strictly inside such a transfer. */
  readonly tearablePoints: number;
  /** Schedules of two failures placed (depth2/depth3). */
  readonly pairs: number;
  /** Schedules of three failures placed (depth3). */
  readonly triples: number;
  /**
   * Schedules a naive enumeration would place for the same first points: every nested failure at
   * every write unit of every recovery run to completion (points / naivePoints is the reduction).
   */
  readonly naivePoints: number;
}

export interface ExploreResult {
  readonly verdict: 'pass' | 'fail';
  readonly failures: readonly FailurePoint[];
  readonly stats: ExploreStats;
  /** Violations of the uninterrupted run itself (the design fails without any failure). */
  readonly golden: readonly Violation[];
  /** No point failed, but none tore a multi-unit transfer where some could: torn writes went unchecked (verdict fail). */
  readonly vacuous: boolean;
}

/**
 * The verdict of a campaign (or of a merge of its shards): fail when a point fails, when the
 * uninterrupted run fails, or when the campaign is vacuous -- its inference has write transfers
 * of more than one unit (always on SPI FRAM, where a word lands byte by byte), yet none of its
 * points tore one, so nothing about torn writes was checked (issue 14).
 */
export function campaignVerdict(failures: number, golden: number, stats: Pick<ExploreStats, 'tornPoints' | 'tearablePoints'>): { verdict: 'pass' | 'fail'; vacuous: boolean } {
  const vacuous = failures === 0 && golden === 0 && stats.tearablePoints > 0 && stats.tornPoints === 0;
  return { verdict: failures > 0 || golden > 0 || vacuous ? 'fail' : 'pass', vacuous };
}

/**
 * Mark, in `first`, the write-log index of the first unit of every NVM write transfer `dev`
 * performs from now on (grown as needed; read it after the run). The log holds units only, and
 * two transfers landing back to back at adjacent addresses (HAWAII's outputs, then its counter)
 * look like one there, so the two device events that write NVM are wrapped on this one device.
 */
function markTransferStarts(dev: Device): { first: Uint8Array } {
  const marks = { first: new Uint8Array(1 << 12) };
  const mark = () => {
    const i = dev.writeLogLen;
    if (i >= marks.first.length) {
      const grown = new Uint8Array(Math.max(2 * marks.first.length, i + 1));
      grown.set(marks.first);
      marks.first = grown;
    }
    marks.first[i] = 1;
  };
  const dma = dev.dmaToNvm.bind(dev);
  const overlapped = dev.leaMatMulWhileWriting.bind(dev);
  dev.dmaToNvm = (...a: Parameters<Device['dmaToNvm']>) => (mark(), dma(...a));
  dev.leaMatMulWhileWriting = (...a: Parameters<Device['leaMatMulWhileWriting']>) => (mark(), overlapped(...a));
  return marks;
}

/** Whether a failure right before unit k of a marked log tears its transfer (k is not a first unit). */
function tears(marks: { first: Uint8Array }, k: number): boolean {
  return k < marks.first.length ? marks.first[k] === 0 : true;
}

interface Checkpoint {
  readonly pos: number;
  /** Action index of the uninterrupted run at the checkpoint. */
  readonly action: number;
  readonly carry: number;
  readonly writeIndex: number;
  readonly nvm: PagedMemory;
  readonly ledger: PagedMemory;
  readonly vol: VolatileSnapshot;
}

interface Golden {
  readonly dev: Device;
  readonly checkpoints: Checkpoint[];
  readonly byPos: Map<number, Checkpoint>;
  readonly nvm0: PagedMemory;
  readonly ledger0: PagedMemory;
  readonly violations: Violation[];
  /** Inferences completed before the checked one. */
  readonly baseline: number;
  /** Which write units start a transfer (markTransferStarts). */
  readonly transfers: { first: Uint8Array };
  /** NVM after the uninterrupted inference. */
  readonly finalNvm: PagedMemory;
}

/** Pass 1: the uninterrupted inference with its write log and checkpoint snapshots. */
function recordGolden(d: Deployment, o: ExploreOptions, insp: Inspector): Golden {
  const nvm0 = warmNvm(d, o.warmup);
  d.writeInput(nvm0, o.input);
  const ledger0 = new PagedMemory(2 * nvm0.bytes);
  const checkpoints: Checkpoint[] = [];
  const byPos = new Map<number, Checkpoint>();
  let prevVol: VolatileSnapshot | null = null;
  const violations: Violation[] = [];
  const nvmRun = nvm0.snapshot();
  const ledgerRun = ledger0.snapshot();
  const dev = makeDevice(
    d,
    {
      input: o.input,
      supply: { kind: 'continuous' },
      seed: o.seed,
      logWrites: true,
      ledgerMemory: ledgerRun,
      onRecovered: (dv, layer, job) => violations.push(...checkSeek(insp, dv, layer, job, o.warmup.length > 0).violations, ...userSeekViolations(d, dv, layer, job)),
      onCheckpoint: (dv, pos, carry) => {
        const vol = dv.volatileSnapshot(prevVol);
        prevVol = vol;
        const cp: Checkpoint = { pos, action: dv.action, carry, writeIndex: dv.writeLogLen, nvm: dv.nvm.snapshot(), ledger: dv.ledger!.snapshot(), vol };
        checkpoints.push(cp);
        if (!byPos.has(pos)) byPos.set(pos, cp);
      },
    },
    nvmRun,
  );
  const transfers = markTransferStarts(dev);
  const { completed, reason } = driveInference(d, dev, { supply: { kind: 'continuous' } });
  if (!completed) throw new EngineStuck(`the uninterrupted inference did not complete: ${reason}`);
  const out = d.readTensor(dev.nvm, d.plan.output);
  const ref = d.reference(o.input);
  const diff = outputDiff(out, ref);
  if (diff.length > 0) {
    violations.push({ property: 'equivalence', message: `the uninterrupted inference differs from the reference at [${diff[0]![0]}]`, action: dev.action, boot: 1, diff });
  }
  if (dev.undefinedReads > 0) {
    violations.push({ property: 'no-garbage-reads', message: `the uninterrupted inference reads undefined volatile words`, action: dev.firstUndefinedRead!.action, boot: 1 });
  }
  violations.push(...userEndViolations(d, dev, completed, out, ref));
  const finalNvm = dev.nvm.snapshot();
  // The inference after the uninterrupted one (a converged recovery ends in this same state).
  violations.push(...nextInferenceViolations(d, finalNvm, nextInputOf(o), o.seed, { action: dev.action, boot: dev.boots }));
  return { dev, checkpoints, byPos, nvm0, ledger0, violations, baseline: d.completedInferences(nvm0), transfers, finalNvm };
}

/** Memories rebuilt at write unit k from the nearest checkpoint, advanced unit by unit. */
class Cursor {
  nvm: PagedMemory;
  ledger: PagedMemory;
  index = 0;
  private cp = 0;
  constructor(
    private readonly g: Golden,
    private readonly log: Device,
    private readonly onUnit: (addr: number) => void,
    private readonly onJump: () => void,
  ) {
    this.nvm = g.nvm0.snapshot();
    this.ledger = g.ledger0.snapshot();
  }

  /**
   * Advance to the state with exactly k units landed. Adopts the last checkpoint snapshot at or
   * before k (so the state shares pages with the uninterrupted run, which keeps convergence
   * comparisons cheap); when that skips units, the monitor is rebuilt from scratch.
   */
  seek(k: number): void {
    const cps = this.g.checkpoints;
    let target = -1;
    while (this.cp < cps.length && cps[this.cp]!.writeIndex <= k) {
      if (cps[this.cp]!.writeIndex >= this.index) target = this.cp;
      this.cp++;
    }
    if (target >= 0) {
      const c = cps[target]!;
      const far = c.writeIndex - this.index > 4096;
      if (!far) while (this.index < c.writeIndex) this.apply();
      this.nvm = c.nvm.snapshot();
      this.ledger = c.ledger.snapshot();
      this.index = c.writeIndex;
      if (far) this.onJump();
    }
    while (this.index < k) this.apply();
  }

  private apply(): void {
    const i = this.index;
    const a = this.log.writeLogAddr[i]!;
    const v = this.log.writeLogVal[i]!;
    const e = this.log.writeLogEpoch[i]!;
    const unit = this.log.nvmWriteUnitBytes;
    this.nvm.writeU8(a, v & 0xff);
    this.ledger.writeU8(2 * a, e & 0xff);
    this.ledger.writeU8(2 * a + 1, e >> 8);
    if (unit === 2) {
      this.nvm.writeU8(a + 1, v >> 8);
      this.ledger.writeU8(2 * (a + 1), e & 0xff);
      this.ledger.writeU8(2 * (a + 1) + 1, e >> 8);
    }
    this.index++;
    this.onUnit(a);
  }
}

/**
 * The uninterrupted run's checkpoint whose state `dev` has reached, or null. `strict` also
 * requires the ledger (which layer-run last wrote each byte: the ground truth later seeks are
 * checked against) to be equal, as it must be before a further failure is treated as a failure
 * of the uninterrupted run.
 */
function converges(g: Golden, dev: Device, pos: number, carry: number, strict: boolean): Checkpoint | null {
  const cp = g.byPos.get(pos);
  if (!cp || cp.carry !== carry) return null;
  if (!dev.nvm.equals(cp.nvm)) return null;
  if (!dev.volatileMatches(cp.vol)) return null;
  if (strict && !dev.ledger!.equals(cp.ledger)) return null;
  return cp;
}

interface SubRunOutcome {
  readonly violations: Violation[];
  readonly converged: boolean;
  /** The checkpoint it converged to, and its action then. */
  readonly convergedAt: { readonly cp: Checkpoint; readonly action: number } | null;
  readonly actions: number;
  readonly reexecuted: number;
  readonly dev: Device;
  /** Transfer starts in `dev`'s write log (when recorded). */
  readonly transfers: { first: Uint8Array } | null;
}

/**
 * Run the recovery from a failure state: reboot (garbage SRAM), seek, continue until
 * convergence (when pruning) or completion. `firstSeek` checks the first seek; later seeks are
 * checked from scratch against the device's ledger.
 */
function subRun(
  d: Deployment,
  g: Golden,
  insp: Inspector,
  o: ExploreOptions,
  nvm: PagedMemory,
  ledger: PagedMemory,
  start: { action: number; boots: number; failures: number },
  firstSeek: ((dev: Device, layer: number, job: number) => Violation[]) | null,
  failAt: readonly number[],
  record: boolean,
  reuse?: Device,
): SubRunOutcome {
  const violations: Violation[] = [];
  let seen = 0;
  let reexecuted = 0;
  const prune = o.prune ?? true;
  let convergedAt: SubRunOutcome['convergedAt'] = null;
  const dev = makeDevice(
    d,
    {
      input: o.input,
      supply: { kind: 'schedule', failAt },
      seed: o.seed,
      logWrites: record,
      ledgerMemory: ledger,
      start,
      ...(reuse ? { reuse } : {}),
      onRecovered: (dv, layer, job) => {
        violations.push(...userSeekViolations(d, dv, layer, job));
        if (seen === 0 && firstSeek) violations.push(...firstSeek(dv, layer, job));
        else {
          const r = checkSeek(insp, dv, layer, job, o.warmup.length > 0);
          violations.push(...r.violations);
          if (seen === 0) reexecuted += Math.max(0, r.durable - job);
        }
        seen++;
      },
      onCheckpoint: prune
        ? (dv, pos, carry) => {
            if (dv.failures !== start.failures + failAt.length) return;
            // A recovery that will receive nested failures (record) must match the ledger too.
            const cp = converges(g, dv, pos, carry, record);
            if (cp) {
              convergedAt = { cp, action: dv.action };
              throw new StopRun('converged');
            }
          }
        : undefined,
    } as Parameters<typeof makeDevice>[1],
    nvm,
  );
  const transfers = record ? markTransferStarts(dev) : null;
  let converged = false;
  try {
    const { completed, reason } = driveInference(d, dev, { supply: { kind: 'schedule', failAt }, baseline: g.baseline });
    const output = d.readTensor(dev.nvm, d.plan.output);
    violations.push(...userEndViolations(d, dev, completed, output, d.reference(o.input)));
    if (!completed) violations.push({ property: 'completion', message: reason ?? 'did not complete', action: dev.action, boot: dev.boots });
    else {
      const diff = outputDiff(output, d.reference(o.input));
      if (diff.length > 0) {
        violations.push({
          property: 'equivalence',
          message: `output differs from the reference at ${diff.length}${diff.length === 8 ? '+' : ''} position(s); first: [${diff[0]![0]}] = ${diff[0]![1]}, want ${diff[0]![2]}`,
          action: dev.action,
          boot: dev.boots,
          diff,
        });
      }
    }
    // A recovery that ended in another state than the uninterrupted run's: check the next inference from it.
    if (completed && violations.length === 0 && dev.undefinedReads === 0 && !dev.nvm.equals(g.finalNvm)) {
      violations.push(...nextInferenceViolations(d, dev.nvm, nextInputOf(o), o.seed, { action: dev.action, boot: dev.boots }));
    }
  } catch (e) {
    if (e instanceof StopRun) converged = true;
    else if (isPowerFailure(e)) throw new JapariError('internal: power failure escaped a run');
    else throw e;
  }
  if (dev.undefinedReads > 0) {
    const u = dev.firstUndefinedRead!;
    violations.push({
      property: 'no-garbage-reads',
      message: `read ${dev.undefinedReads} volatile word(s) not written since the last reboot; first: SRAM word ${u.word} during "${u.label}"`,
      action: u.action,
      boot: dev.boots,
    });
  }
  return { violations, converged, convergedAt, actions: dev.action - start.action, reexecuted, dev, transfers };
}

/**
 * Explore the checked inference, and with `parities: 2` also the inference after one more
 * warm-up (phase 1): JAPARI's state bits and the loop-count SIGN alternate with every inference,
 * so the two phases see both parities. A shard explores its share of each phase's points.
 */
export function explore(d: Deployment, o: ExploreOptions): ExploreResult {
  if ((o.parities ?? 1) === 1) return explorePhase(d, o);
  let totalA = 0;
  const a = explorePhase(d, { ...o, ...(o.onProgress ? { onProgress: (done: number, total: number) => ((totalA = total), o.onProgress!(done, 2 * total)) } : {}) });
  if (o.stopAtFirst && (a.failures.length > 0 || a.golden.length > 0)) return a;
  const b = explorePhase(d, { ...o, warmup: secondParityWarmup(o), ...(o.onProgress ? { onProgress: (done: number, total: number) => o.onProgress!(totalA + done, totalA + total) } : {}) });
  const sum = (k: keyof ExploreStats) => (a.stats[k] as number) + (b.stats[k] as number);
  const stats = Object.fromEntries(Object.keys(a.stats).map((k) => [k, sum(k as keyof ExploreStats)])) as unknown as ExploreStats;
  const failures = [...a.failures, ...b.failures.map((f) => ({ ...f, phase: 1 as const }))];
  const golden = [...a.golden, ...b.golden.map((v) => ({ ...v, phase: 1 as const }))];
  return { ...campaignVerdict(failures.length, golden.length, stats), failures, golden, stats };
}

/** Warm-ups of the second parity: one more uninterrupted inference (of the first warm-up input, else the checked one). */
export function secondParityWarmup<T>(o: { readonly input: T; readonly warmup: readonly T[] }): T[] {
  return [...o.warmup, o.warmup[0] ?? o.input];
}

function explorePhase(d: Deployment, o: ExploreOptions): ExploreResult {
  const insp = d.inspector();
  const depth = depthOf(o.mode);
  let g: Golden;
  try {
    g = recordGolden(d, o, insp);
  } catch (e) {
    // The design fails without any power failure (its warm-up or uninterrupted run never
    // completes): a completion violation of the uninterrupted run, replayable with no failure.
    if (!(e instanceof EngineStuck)) throw e;
    const none = { points: 0, writeUnits: 0, actions: 0, checkpoints: 0, converged: 0, recoveryActions: 0, unprunedActionsEstimate: 0, reexecutedJobs: 0, tornPoints: 0, tearablePoints: 0, pairs: 0, triples: 0, naivePoints: 0 };
    return { ...campaignVerdict(0, 1, none), failures: [], golden: [{ property: 'completion', message: e.message, action: 0, boot: 1 }], stats: none };
  }
  const log = g.dev;
  const W = log.writeLogLen;
  const totalActions = log.action;
  let monitorRef: CursorMonitor | null = null;
  const cursor = new Cursor(
    g,
    log,
    (addr) => monitorRef?.onUnit(addr),
    () => monitorRef?.resync(),
  );
  const monitor = o.fullChecks ? null : new CursorMonitor(insp, () => cursor.nvm, () => cursor.ledger, o.warmup.length > 0);
  monitorRef = monitor;

  // Failure points: (unit index k, action at which power fails).
  const points: { k: number; action: number }[] = [];
  let lastAction = -1;
  for (let k = 0; k < W; k++) {
    const a = log.writeLogAction[k]!;
    if (o.everyAction) for (let b = lastAction + 1; b < a; b++) points.push({ k, action: b });
    points.push({ k, action: a });
    lastAction = a;
  }
  const layerOfUnit = (k: number) => (log.writeLogEpoch[k]! & 0xff) - 1;
  const inLayer = (epoch: number) => o.layer === undefined || (epoch & 0xff) - 1 === o.layer;
  let chosen = points;
  if (o.layer !== undefined) {
    if (depth === 1) throw new JapariError('a layer filter applies to depth-2 and depth-3 exploration');
    chosen = points.filter((p) => layerOfUnit(p.k) === o.layer);
  }
  // A point tears a transfer when power fails right before a unit that is not its transfer's first.
  const tearing = (p: { k: number; action: number }) => p.action === log.writeLogAction[p.k] && tears(g.transfers, p.k);
  const tearablePoints = chosen.reduce((n, p) => n + (tearing(p) ? 1 : 0), 0);
  if (o.shard) {
    const { index, count, contiguous } = o.shard;
    if (contiguous) {
      const per = Math.ceil(chosen.length / count);
      chosen = chosen.slice(index * per, (index + 1) * per);
    } else {
      chosen = chosen.filter((_, i) => i % count === index);
    }
  }
  const prune = o.prune ?? true;
  // Depth 3, pruned: a nested pair after a recovery's convergence is a pair of the uninterrupted
  // run; a naive enumeration would place, under it, as many third failures as that pair's
  // recovery has units. `naiveSuffix[k]` sums, over the uninterrupted run's units u >= k, the
  // units of the full recovery from a failure at u (computed by a pre-pass, unsharded).
  const naiveSuffix = depth === 3 && prune ? fullRecoveryUnitSuffix(d, g, insp, o, layerOfUnit) : null;

  const failures: FailurePoint[] = [];
  const counts = (v: Violation) => !(o.effectsOnly && v.dataDependent);
  let converged = 0;
  let recoveryActions = 0;
  let unpruned = 0;
  let reexecutedJobs = 0;
  let explored = 0;
  let tornPoints = 0;
  let pairs = 0;
  let triples = 0;
  let naive = 0;
  let stop = false;
  let firstsDone = 0;
  const total = chosen.length;
  let retired: Device | undefined;
  /**
   * The check of a recovery's first seek from the incremental monitor's view of the state it
   * reads (no write happened since the failure); checkSeek from scratch is its slow twin.
   */
  const monitoredSeek =
    (mv: MonitorView) =>
    (dev: Device, layer: number, job: number): Violation[] => {
      if (layer !== mv.layer) return checkSeek(insp, dev, layer, job, o.warmup.length > 0).violations;
      if (!mv.seeks) return []; // a layer that recomputes from its start by design (JAPARI's GAP)
      const vs: Violation[] = [];
      if (mv.mismatches > 0) {
        const full = checkSeek(insp, dev, layer, job, o.warmup.length > 0);
        vs.push(...full.violations.filter((v) => v.property === 'indicator-distinguishability'));
      }
      reexecutedJobs += Math.max(0, mv.truth.work - job);
      const pv = progressViolation(insp, layer, job, mv.truth, dev.action, dev.boots);
      if (pv) vs.push(pv);
      return vs;
    };
  // Units of the uninterrupted run from k on that the layer filter admits.
  const goldenSuffix = new Float64Array(W + 1);
  for (let k = W - 1; k >= 0; k--) goldenSuffix[k] = goldenSuffix[k + 1]! + (inLayer(log.writeLogEpoch[k]!) ? 1 : 0);
  /** Units (the layer filter admits) the full, unpruned recovery of `r` writes. */
  const fullUnits = (r: SubRunOutcome) => {
    let n = 0;
    for (let i = 0; i < r.dev.writeLogLen; i++) if (inLayer(r.dev.writeLogEpoch[i]!)) n++;
    return n + (r.convergedAt ? goldenSuffix[r.convergedAt.cp.writeIndex]! : 0);
  };

  /**
   * Nested failures at every write unit of the recorded recovery `sub` (which started from the
   * state `nvm0`/`led0` after the failures `prefix`): each is a new failure point, explored to
   * convergence, and (below `depth`) itself the parent of further nested failures. Where `sub`
   * converged to the uninterrupted run, later units are not placed: their states are states of
   * the uninterrupted run, which the shallower search already places failures at.
   */
  const nested = (sub: SubRunOutcome, nvm0: PagedMemory, led0: PagedMemory, prefix: readonly number[], firstUnit: number, layer: number): void => {
    const level = prefix.length; // failures so far
    const dv = sub.dev;
    const n2 = dv.writeLogLen;
    if (prune && o.onWindow) {
      o.onWindow({ schedule: prefix, unit: firstUnit, windowUnits: n2, fromUnit: sub.convergedAt ? sub.convergedAt.cp.writeIndex : null, actionOffset: sub.convergedAt ? sub.convergedAt.action - sub.convergedAt.cp.action : 0 });
    }
    const nvm2 = nvm0.snapshot();
    const led2 = led0.snapshot();
    // The window's states follow one another unit by unit: the same incremental monitor as the cursor's.
    const mon = o.fullChecks ? null : new CursorMonitor(insp, () => nvm2, () => led2, o.warmup.length > 0);
    let applied = 0;
    for (let k2 = 0; k2 < n2 && !stop; k2++) {
      const ep = dv.writeLogEpoch[k2]!;
      while (applied < k2) {
        const a = dv.writeLogAddr[applied]!;
        const v = dv.writeLogVal[applied]!;
        const e = dv.writeLogEpoch[applied]!;
        nvm2.writeU8(a, v & 0xff);
        led2.writeU8(2 * a, e & 0xff);
        led2.writeU8(2 * a + 1, e >> 8);
        if (dv.nvmWriteUnitBytes === 2) {
          nvm2.writeU8(a + 1, v >> 8);
          led2.writeU8(2 * (a + 1), e & 0xff);
          led2.writeU8(2 * (a + 1) + 1, e >> 8);
        }
        applied++;
        mon?.onUnit(a);
      }
      if (!inLayer(ep)) continue;
      const a2 = dv.writeLogAction[k2]!;
      const deeper = level + 1 < depth;
      const start2 = { action: a2, boots: level + 2, failures: level + 1 };
      const seek2 = mon ? monitoredSeek(mon.view()) : null;
      let r: SubRunOutcome;
      let nvmS: PagedMemory | null = null;
      let ledS: PagedMemory | null = null;
      if (!deeper && o.journal !== false) {
        // The last failure of a schedule: in place on the window's memories, rolled back after.
        nvm2.startJournal();
        led2.startJournal();
        try {
          r = subRun(d, g, insp, o, nvm2, led2, start2, seek2, [], false, retired);
        } finally {
          nvm2.rollback();
          led2.rollback();
        }
      } else {
        nvmS = nvm2.snapshot();
        ledS = led2.snapshot();
        // The run mutates the memories it is given: keep the failure state for its own nested failures.
        r = subRun(d, g, insp, o, deeper ? nvmS.snapshot() : nvmS, deeper ? ledS.snapshot() : ledS, start2, seek2, [], deeper, deeper ? undefined : retired);
      }
      if (!deeper) retired = r.dev;
      explored++;
      if (level + 1 === 2) pairs++;
      else triples++;
      if (tears(sub.transfers!, k2)) tornPoints++;
      recoveryActions += r.actions;
      unpruned += totalActions - prefix[0]!;
      if (r.converged) converged++;
      const schedule = [...prefix, a2];
      if (r.violations.some(counts)) {
        failures.push({ schedule, violations: r.violations, unit: firstUnit, addr: log.writeLogAddr[firstUnit]!, layer });
        if (o.stopAtFirst) {
          stop = true;
          break;
        }
      }
      if (deeper) {
        // Naive triples under this pair: every unit of its full recovery.
        naive += fullUnits(r);
        nested(r, nvmS!, ledS!, schedule, firstUnit, layer);
      }
    }
    // Naive nested failures after the window: under a pair of the uninterrupted run (depth 3),
    // all of its full recovery's units; at the last level, one each.
    if (sub.convergedAt && level + 1 < depth && naiveSuffix) naive += naiveSuffix[sub.convergedAt.cp.writeIndex]!;
  };

  for (const pt of chosen) {
    if (stop) break;
    o.signal?.throwIfAborted();
    cursor.seek(pt.k);
    const firstSeek = monitor ? monitoredSeek(monitor.view()) : null;
    const start = { action: pt.action, boots: 2, failures: 1 };
    const deeper = depth > 1;
    let first: SubRunOutcome;
    let nvm1: PagedMemory | null = null;
    let led1: PagedMemory | null = null;
    if (!deeper && o.journal !== false) {
      // In place on the cursor's memories, rolled back afterwards (no copy-on-write copies).
      cursor.nvm.startJournal();
      cursor.ledger.startJournal();
      try {
        first = subRun(d, g, insp, o, cursor.nvm, cursor.ledger, start, firstSeek, [], false, retired);
      } finally {
        cursor.nvm.rollback();
        cursor.ledger.rollback();
      }
    } else {
      nvm1 = cursor.nvm.snapshot();
      led1 = cursor.ledger.snapshot();
      first = subRun(d, g, insp, o, deeper ? nvm1.snapshot() : nvm1, deeper ? led1.snapshot() : led1, start, firstSeek, [], deeper, deeper ? undefined : retired);
    }
    if (!deeper) retired = first.dev;
    explored++;
    naive++;
    if (tearing(pt)) tornPoints++;
    recoveryActions += first.actions;
    unpruned += totalActions - pt.action;
    reexecutedJobs += first.reexecuted;
    if (first.converged) converged++;
    const layer = layerOfUnit(pt.k);
    if (first.violations.some(counts)) {
      failures.push({ schedule: [pt.action], violations: first.violations, unit: pt.k, addr: log.writeLogAddr[pt.k]!, layer });
      if (o.stopAtFirst) break;
    }
    if (deeper) {
      naive += fullUnits(first);
      nested(first, nvm1!, led1!, [pt.action], pt.k, layer);
    }
    o.onProgress?.(++firstsDone, total);
  }
  const stats: ExploreStats = {
    points: explored,
    writeUnits: W,
    actions: totalActions,
    checkpoints: g.checkpoints.length,
    converged,
    recoveryActions,
    unprunedActionsEstimate: unpruned,
    reexecutedJobs,
    tornPoints,
    tearablePoints,
    pairs,
    triples,
    naivePoints: naive,
  };
  return { ...campaignVerdict(failures.length, g.violations.length, stats), failures, golden: g.violations, stats };
}

/**
 * For depth 3: suffix sums, over the uninterrupted run's write units u >= k, of the units the
 * full recovery from a single failure at u writes, honouring the layer filter (what a naive
 * enumeration places as third failures under the pairs a converged recovery stands for).
 */
function fullRecoveryUnitSuffix(d: Deployment, g: Golden, insp: Inspector, o: ExploreOptions, layerOfUnit: (k: number) => number): Float64Array {
  const W = g.dev.writeLogLen;
  const suffix = new Float64Array(W + 1);
  const cursor = new Cursor(g, g.dev, () => {}, () => {});
  const per = new Float64Array(W);
  for (let k = 0; k < W; k++) {
    if (o.layer !== undefined && layerOfUnit(k) !== o.layer) continue;
    cursor.seek(k);
    const r = subRun(d, g, insp, { ...o, prune: true }, cursor.nvm.snapshot(), cursor.ledger.snapshot(), { action: g.dev.writeLogAction[k]!, boots: 2, failures: 1 }, null, [], true);
    let units = 0;
    for (let i = 0; i < r.dev.writeLogLen; i++) if (o.layer === undefined || (r.dev.writeLogEpoch[i]! & 0xff) - 1 === o.layer) units++;
    if (r.convergedAt) for (let u = r.convergedAt.cp.writeIndex; u < W; u++) if (o.layer === undefined || layerOfUnit(u) === o.layer) units++;
    per[k] = units;
  }
  for (let k = W - 1; k >= 0; k--) suffix[k] = suffix[k + 1]! + per[k]!;
  return suffix;
}
