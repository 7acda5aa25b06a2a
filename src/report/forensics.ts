/**
 * What happened at each power failure of a counterexample, in enough detail to read it without
 * japari: the device events around the failure, the NVM bytes the interrupted write and the
 * recovery's seeker touched -- before the failure, after it, and what the write meant to land --
 * and, job by job, what the seeker concluded next to the truth (the ledger of landed bytes).
 *
 * Three deterministic replays of the spec per failure k (the device is a function of its inputs,
 * so runs with the same schedule prefix are identical up to the point they differ):
 *   the spec itself, traced      NVM after failure k (at its reboot), the seek that follows
 *   prefix + fail at evStart     NVM right before the interrupted event (nothing of it landed)
 *   prefix only, writes logged   the bytes the interrupted write would have landed
 * where evStart is the first action of the event power failed in.
 */
import { PagedMemory } from '../device/paged.js';
import type { TraceEvent, Device } from '../device/device.js';
import { runInference, type Deployment } from '../engines/runner.js';
import type { Inspector } from '../engines/inspect.js';
import { loadModel } from '../model/models.js';
import { deploymentOf } from '../properties/replay.js';
import { jobTruth, ledgerTagReader, viewError, warmNvm, type JobTruth } from '../properties/properties.js';
import type { RunSpec } from '../properties/token.js';
import { EngineStuck } from '../util/errors.js';

/** Failures examined in detail (each costs two extra replays). */
export const MAX_DETAILED_FAILURES = 6;
const MAX_REGION_BYTES = 64;
const MAX_REGIONS = 8;
const MAX_JOB_ROWS = 24;
const STEPS_BEFORE = 8;
const STEPS_AFTER = 40;

export type ByteMark = 'landed' | 'torn' | 'changed' | 'same';

export interface ByteCell {
  readonly addr: number;
  readonly before: number;
  readonly after: number;
  /** What the interrupted write meant to put there (null: not part of it). */
  readonly intended: number | null;
  /**
   * landed  the interrupted write landed this byte
   * torn    the interrupted write was to land this byte but power failed first
   * changed differs before/after for another reason (never expected)
   * same    untouched
   */
  readonly mark: ByteMark;
  /** Read by the recovery's seeker after the reboot. */
  readonly read: boolean;
}

export interface NvmRegion {
  readonly from: number;
  readonly to: number;
  readonly what: string;
  readonly bytes: readonly ByteCell[];
}

export interface StepEvent {
  readonly action: number;
  readonly boot: number;
  readonly layer: number;
  readonly kind: TraceEvent['kind'];
  readonly label: string;
  readonly category: string;
  readonly done: number;
  readonly total: number;
  readonly nvm?: readonly [number, number];
  readonly detail?: string;
  readonly mark?: 'interrupted' | 'failure' | 'reboot' | 'seek';
}

export interface JobRow {
  readonly job: number;
  readonly seekerFinished: boolean;
  readonly workDurable: boolean;
  readonly indicatorDurable: boolean;
  /** agrees, or the property's verdict on the disagreement (properties.ts viewError). */
  readonly verdict: 'agrees' | 'unsound' | 'incomplete' | 'either';
}

export interface SeekView {
  readonly layer: number;
  readonly recoveredJob: number;
  readonly durableJobs: number;
  readonly jobs: number;
  readonly rows: readonly JobRow[];
  /** Why there are no rows (an engine whose seeker the model does not inspect job by job). */
  readonly note?: string;
}

export interface FailureForensics {
  /** 1-based index in the schedule. */
  readonly index: number;
  readonly action: number;
  readonly boot: number;
  readonly interrupted: StepEvent | null;
  readonly steps: readonly StepEvent[];
  readonly regions: readonly NvmRegion[];
  readonly seek: SeekView | null;
}

export interface Forensics {
  readonly failures: readonly FailureForensics[];
  /** Seeks (any boot) whose recovered job differs from the durable prefix, first few. */
  readonly offSeeks: readonly (SeekView & { readonly boot: number; readonly action: number })[];
  /** Failures of the schedule not examined in detail (beyond MAX_DETAILED_FAILURES, or never reached). */
  readonly omitted: number;
  /** Why there is nothing to show, when so. */
  readonly note?: string;
}

function stepOf(e: TraceEvent, mark?: StepEvent['mark']): StepEvent {
  return {
    action: e.action,
    boot: e.boot,
    layer: e.layer,
    kind: e.kind,
    label: e.label,
    category: e.category,
    done: e.done,
    total: e.total,
    ...(e.nvm ? { nvm: e.nvm } : {}),
    ...(e.detail !== undefined ? { detail: e.detail } : {}),
    ...(mark ? { mark } : {}),
  };
}

/** The seeker's view of the jobs around its conclusion, next to the ledger's truth. */
function seekView(insp: Inspector, dev: Device, layer: number, job: number): SeekView {
  const n = !insp.active || !insp.seeks(layer) ? 0 : insp.jobs(layer);
  if (n === 0 || !dev.ledger) {
    return { layer, recoveredJob: job, durableJobs: 0, jobs: n, rows: [], note: !insp.active ? 'this engine keeps no per-job indicators the model inspects job by job' : 'this layer recomputes from its start: nothing to seek' };
  }
  const read = (a: number) => dev.nvm.readU8(a);
  const rec = insp.record(read);
  const tag = ledgerTagReader(dev.ledger);
  const scratch = new Int32Array(insp.jobWordsMax + 1);
  const t: JobTruth = { work: false, indicator: false };
  let durable = -1;
  for (let j = 0; j < n && durable < 0; j++) if (!jobTruth(insp, layer, j, tag, dev.epoch, scratch, t).work) durable = j;
  if (durable < 0) durable = n;
  // A window around the recovered job and the durable prefix, and every disagreement nearby.
  const lo = Math.max(0, Math.min(job, durable) - 3);
  const hi = Math.min(n, Math.max(job, durable) + 4);
  const rows: JobRow[] = [];
  for (let j = lo; j < hi && rows.length < MAX_JOB_ROWS; j++) {
    jobTruth(insp, layer, j, tag, dev.epoch, scratch, t);
    const f = insp.seekerFinished(layer, j, read, rec);
    const e = viewError(insp.exact, f, t);
    const verdict = e ?? (f === t.work ? 'agrees' : 'either');
    rows.push({ job: j, seekerFinished: f, workDurable: t.work, indicatorDurable: t.indicator, verdict });
  }
  return { layer, recoveredJob: job, durableJobs: durable, jobs: n, rows };
}

interface MainRun {
  readonly trace: readonly TraceEvent[];
  readonly after: PagedMemory[];
  readonly seeks: Map<number, SeekView>;
  readonly off: (SeekView & { boot: number; action: number })[];
  readonly unitBytes: number;
}

function warmed(d: Deployment, spec: RunSpec): PagedMemory {
  const m = loadModel(spec.model);
  return warmNvm(
    d,
    spec.warmup.map((w) => m.inputQ(w)),
  );
}

function mainRun(d: Deployment, spec: RunSpec): MainRun {
  const m = loadModel(spec.model);
  const insp = d.inspector();
  const nvm = warmed(d, spec);
  const after: PagedMemory[] = [];
  const seeks = new Map<number, SeekView>();
  const off: (SeekView & { boot: number; action: number })[] = [];
  const r = runInference(d, {
    input: m.inputQ(spec.input),
    supply: { kind: 'schedule', failAt: spec.schedule },
    seed: spec.seed,
    garbage: spec.garbage,
    trace: true,
    nvm,
    ledgerMemory: new PagedMemory(2 * nvm.bytes),
    onReboot: (dev) => after.push(dev.nvm.snapshot()),
    onRecovered: (dev, layer, job) => {
      const first = dev.boots > 1 && !seeks.has(dev.boots);
      if (!first && off.length >= 4) return;
      const v = seekView(insp, dev, layer, job);
      if (first) seeks.set(dev.boots, v);
      // Seeks right after a reboot are shown with their failure; the others here.
      if (!first && v.rows.length > 0 && v.recoveredJob !== v.durableJobs && off.length < 4) off.push({ ...v, boot: dev.boots, action: dev.action });
    },
  });
  return { trace: r.trace ?? [], after, seeks, off, unitBytes: r.device.nvmWriteUnitBytes };
}

/** NVM at the k-th reboot of a run with this schedule (null when it never gets there). */
function nvmAtReboot(d: Deployment, spec: RunSpec, schedule: readonly number[], k: number): PagedMemory | null {
  const m = loadModel(spec.model);
  const snaps: PagedMemory[] = [];
  runInference(d, {
    input: m.inputQ(spec.input),
    supply: { kind: 'schedule', failAt: schedule },
    seed: spec.seed,
    garbage: spec.garbage,
    nvm: warmed(d, spec),
    onReboot: (dev) => snaps.push(dev.nvm.snapshot()),
  });
  return snaps[k - 1] ?? null;
}

/** Bytes the write units of actions [from, to) land, in a run with this schedule. */
function intendedBytes(d: Deployment, spec: RunSpec, schedule: readonly number[], from: number, to: number): Map<number, number> {
  const m = loadModel(spec.model);
  const r = runInference(d, {
    input: m.inputQ(spec.input),
    supply: { kind: 'schedule', failAt: schedule },
    seed: spec.seed,
    garbage: spec.garbage,
    nvm: warmed(d, spec),
    logWrites: true,
  });
  const dev = r.device;
  const out = new Map<number, number>();
  for (let i = 0; i < dev.writeLogLen; i++) {
    const a = dev.writeLogAction[i]!;
    if (a < from || a >= to) continue;
    const addr = dev.writeLogAddr[i]!;
    const v = dev.writeLogVal[i]!;
    out.set(addr, v & 0xff);
    if (dev.nvmWriteUnitBytes === 2) out.set(addr + 1, v >> 8);
  }
  return out;
}

function mergeRanges(rs: { from: number; to: number; what: string }[]): { from: number; to: number; what: string }[] {
  const sorted = [...rs].sort((a, b) => a.from - b.from || a.to - b.to);
  const out: { from: number; to: number; what: string }[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.from <= last.to) {
      last.to = Math.max(last.to, r.to);
      if (!last.what.split('; ').includes(r.what)) last.what = `${last.what}; ${r.what}`;
    } else out.push({ ...r });
  }
  return out;
}

/** Examine every failure of the spec (up to MAX_DETAILED_FAILURES). */
export function buildForensics(spec: RunSpec): Forensics {
  const d = deploymentOf(spec);
  let run: MainRun;
  try {
    run = mainRun(d, spec);
  } catch (e) {
    if (e instanceof EngineStuck) return { failures: [], offSeeks: [], omitted: spec.schedule.length, note: `no detail: ${e.message}` };
    throw e;
  }
  const { trace } = run;
  const failures: FailureForensics[] = [];
  const failIdx = trace.flatMap((e, i) => (e.kind === 'failure' ? [i] : []));
  for (let k = 1; k <= Math.min(failIdx.length, MAX_DETAILED_FAILURES); k++) {
    const fi = failIdx[k - 1]!;
    const fe = trace[fi]!;
    const prev = fi > 0 ? trace[fi - 1]! : null;
    const interrupted = prev && prev.kind !== 'failure' && prev.kind !== 'reboot' && prev.kind !== 'note' ? prev : null;
    // The recovery after this failure: from its reboot to the seeker's conclusion (or the next failure).
    const rebootAt = trace.findIndex((e, i) => i > fi && e.kind === 'reboot');
    let seekAt = -1;
    for (let i = Math.max(rebootAt, fi); rebootAt >= 0 && i < trace.length; i++) {
      const e = trace[i]!;
      if (e.kind === 'note' && e.label === 'seek progress') {
        seekAt = i;
        break;
      }
      if (e.kind === 'failure' && i > fi) break;
    }
    const lo = Math.max(0, (interrupted ? fi - 1 : fi) - STEPS_BEFORE);
    const hi = Math.min(trace.length, (seekAt >= 0 ? seekAt : fi) + 1 + (seekAt >= 0 ? 2 : STEPS_AFTER), fi + STEPS_AFTER);
    const steps = trace.slice(lo, hi).map((e, j) => {
      const i = lo + j;
      const mark = i === fi ? 'failure' : interrupted && i === fi - 1 ? 'interrupted' : i === rebootAt ? 'reboot' : i === seekAt ? 'seek' : undefined;
      return stepOf(e, mark);
    });

    // NVM: the interrupted write's range and what the recovery read before its conclusion.
    const ranges: { from: number; to: number; what: string }[] = [];
    const isWrite = interrupted && (interrupted.kind === 'dma-write' || interrupted.kind === 'lea+dma-write') && interrupted.nvm;
    if (isWrite) ranges.push({ from: interrupted.nvm![0], to: interrupted.nvm![1], what: `interrupted write "${interrupted.label}"` });
    const reads = new Set<number>();
    if (rebootAt >= 0) {
      const end = seekAt >= 0 ? seekAt : Math.min(trace.length, rebootAt + STEPS_AFTER);
      for (let i = rebootAt; i < end; i++) {
        const e = trace[i]!;
        if (e.kind === 'dma-read' && e.nvm && e.done > 0) {
          ranges.push({ from: e.nvm[0], to: e.nvm[1], what: `read by the recovery: "${e.label}"` });
          for (let a = e.nvm[0]; a < e.nvm[1]; a++) reads.add(a);
        }
      }
    }
    const clipped = mergeRanges(ranges)
      .slice(0, MAX_REGIONS)
      .map((r) => (r.to - r.from > MAX_REGION_BYTES ? { ...r, to: r.from + MAX_REGION_BYTES, what: `${r.what} (first ${MAX_REGION_BYTES} bytes)` } : r));
    const after = run.after[k - 1] ?? null;
    let regions: NvmRegion[] = [];
    if (after) {
      const prefix = spec.schedule.slice(0, k - 1);
      const evStart = interrupted ? interrupted.action : fe.action;
      const before = evStart < fe.action ? nvmAtReboot(d, spec, [...prefix, evStart], k) : after;
      const intended = isWrite ? intendedBytes(d, spec, prefix, interrupted.action, interrupted.action + interrupted.total) : new Map<number, number>();
      const landedTo = isWrite ? interrupted.nvm![0] + interrupted.done * run.unitBytes : -1;
      regions = clipped.map((r) => {
        const bytes: ByteCell[] = [];
        for (let a = r.from; a < r.to; a++) {
          const b = before ? before.readU8(a) : after.readU8(a);
          const v = after.readU8(a);
          const want = intended.get(a);
          const inWrite = isWrite && a >= interrupted.nvm![0] && a < interrupted.nvm![1];
          const mark: ByteMark = inWrite ? (a < landedTo ? 'landed' : 'torn') : b !== v ? 'changed' : 'same';
          bytes.push({ addr: a, before: b, after: v, intended: want ?? null, mark, read: reads.has(a) });
        }
        return { from: r.from, to: r.to, what: r.what, bytes };
      });
    }
    failures.push({
      index: k,
      action: fe.action,
      boot: fe.boot,
      interrupted: interrupted ? stepOf(interrupted, 'interrupted') : null,
      steps,
      regions,
      seek: run.seeks.get(fe.boot + 1) ?? null,
    });
  }
  return { failures, offSeeks: run.off, omitted: spec.schedule.length - failures.length };
}
