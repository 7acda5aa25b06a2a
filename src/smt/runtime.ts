/**
 * The Z3 runtime: one worker thread that initialises Z3 (z3-solver's WebAssembly build) once
 * and then answers SMT-LIB scripts one at a time, each under a timeout.
 *
 *   verdicts       sat | unsat | unknown; `unknown` always carries the limit it hit ("timeout
 *                  30 s", "hard timeout 30 s: worker killed", "resource limit: ...")
 *   soft timeout   Z3's own `:timeout` option: Z3 stops and says unknown
 *   hard timeout   if Z3 does not answer within the timeout plus a grace period, the worker is
 *                  terminated (with every Z3 thread it started) and the query is unknown; the
 *                  next query starts a fresh worker (and initialises Z3 again)
 *   teardown       close() asks the worker to terminate Z3's pthreads
 *                  (em.PThread.terminateAllThreads) and waits for it to exit; an idle worker is
 *                  unref'd, so a forgotten close() never keeps the process alive
 *
 * The worker is plain CommonJS evaluated from a string and loads only z3-solver, so it runs the
 * same from sources (vitest) and from dist/ (the CLI), on Node 20 and later.
 */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { parseValues, type Script } from './smtlib.js';
import { JapariError } from '../util/errors.js';

export type SolverStatus = 'sat' | 'unsat' | 'unknown';

export interface SolverResult {
  readonly status: SolverStatus;
  /** Why unknown (the limit that was hit). */
  readonly reason?: string;
  /** Model values of the script's reported variables (status sat). */
  readonly values?: ReadonlyMap<string, bigint | boolean>;
  /** Wall-clock seconds of the query (not for committed reports). */
  readonly seconds: number;
}

const WORKER_SOURCE = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
if (workerData.v8flags) require('node:v8').setFlagsFromString(workerData.v8flags);
let api = null;
let ctx = null;
const ready = (async () => {
  const t0 = Date.now();
  api = await require(workerData.z3).init();
  ctx = api.Z3.mk_context(api.Z3.mk_config());
  return Date.now() - t0;
})();
// z3-solver's eval_smtlib2_string passes the script through ccall's stack string, which the
// asynchronous call may read after the stack frame is gone (seen as garbled scripts). Copy the
// text into malloc'd memory that lives until the call has finished instead.
async function evalSmt(text) {
  const em = api.em;
  const bytes = Buffer.from(text + '\u0000', 'utf8');
  const ptr = em._malloc(bytes.length);
  try {
    em.HEAPU8.set(bytes, ptr);
    return await em.async_call(em._async_Z3_eval_smtlib2_string, ctx, ptr);
  } finally {
    em._free(ptr);
  }
}
ready.then(
  (ms) => parentPort.postMessage({ kind: 'ready', ms }),
  (e) => parentPort.postMessage({ kind: 'fatal', message: String((e && e.message) || e) }),
);
function statusOf(out) {
  const lines = out.split(/\\r?\\n/).map((l) => l.trim()).filter((l) => l !== '');
  for (let i = lines.length - 1; i >= 0; i--) {
    if (lines[i] === 'sat' || lines[i] === 'unsat' || lines[i] === 'unknown') return lines[i];
  }
  return null;
}
parentPort.on('message', async (m) => {
  if (m.kind === 'close') {
    try { if (api) api.em.PThread.terminateAllThreads(); } catch (e) { /* already gone */ }
    parentPort.postMessage({ kind: 'closed' });
    process.exit(0);
    return;
  }
  try {
    await ready;
    if (m.kind === 'eval') {
      const out = await evalSmt('(reset)' + m.text);
      parentPort.postMessage({ kind: 'result', id: m.id, out });
      return;
    }
    const t0 = Date.now();
    // timeoutMs 0: no soft limit (only the hard kill bounds the query).
    const head = m.timeoutMs > 0 ? '(reset)(set-option :timeout ' + m.timeoutMs + ')' : '(reset)';
    const check = m.tactic ? (m.timeoutMs > 0 ? '(check-sat-using (try-for ' + m.tactic + ' ' + m.timeoutMs + '))' : '(check-sat-using ' + m.tactic + ')') : '(check-sat)';
    const out = await evalSmt(head + m.script + check);
    if (out.includes('(error')) {
      parentPort.postMessage({ kind: 'result', id: m.id, error: out.trim().slice(0, 2000) });
      return;
    }
    const status = statusOf(out);
    let values = '';
    let reason = '';
    if (status === 'sat' && m.values.length > 0) {
      values = await evalSmt('(get-value (' + m.values.join(' ') + '))');
    } else if (status === 'unknown') {
      reason = await evalSmt('(get-info :reason-unknown)');
    }
    parentPort.postMessage({ kind: 'result', id: m.id, status, values, reason, ms: Date.now() - t0 });
  } catch (e) {
    parentPort.postMessage({ kind: 'result', id: m.id, crash: String((e && e.message) || e) });
  }
});
`;

interface Pending {
  resolve: (msg: WorkerReply) => void;
  reject: (e: Error) => void;
}

interface WorkerReply {
  kind: 'result';
  id: number;
  status?: SolverStatus | null;
  values?: string;
  reason?: string;
  error?: string;
  crash?: string;
  out?: string;
  ms?: number;
}

export interface RuntimeOptions {
  /** Extra milliseconds Z3 gets beyond its own timeout before the worker is killed (default 3000). */
  readonly graceMs?: number;
  /** Worker threads, each with its own Z3 (default 1); queries run concurrently across them. */
  readonly workers?: number;
  /**
   * Give Z3 its own timeout (default true). Off only in tests of the hard timeout: Z3 then runs
   * unbounded and the worker is killed when the timeout plus grace expires.
   */
  readonly softTimeout?: boolean;
}

export interface CheckOptions {
  /** performance.now() by which the answer is due (time queued for a worker counts). */
  readonly deadline?: number;
  /** The limit to report when the deadline passes (the obligation's timeout). */
  readonly limitMs?: number;
  /** Skip the query if this says so when a worker becomes free. */
  readonly cancelled?: () => boolean;
}

/** "30 s", "0.05 s". */
export function fmtLimit(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : Number(s.toPrecision(3))} s`;
}

/** One worker thread with its own Z3, answering one query at a time. */
class Z3Slot {
  private worker: Worker | null = null;
  private ready: Promise<void> | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(private readonly owner: Z3Runtime) {}

  get alive(): boolean {
    return this.worker !== null;
  }

  start(): Promise<void> {
    if (this.ready) return this.ready;
    const z3 = createRequire(import.meta.url).resolve('z3-solver');
    // execArgv: [] -- the worker is CommonJS even when the parent runs with --input-type=module.
    const w = new Worker(WORKER_SOURCE, { eval: true, execArgv: [], workerData: { z3, v8flags: process.env['JAPARI_Z3_V8FLAGS'] ?? '' } });
    this.worker = w;
    this.owner.initialisations++;
    this.ready = new Promise<void>((resolve, reject) => {
      w.on('message', (msg: { kind: string; message?: string; id?: number }) => {
        if (msg.kind === 'ready') {
          w.unref();
          resolve();
        } else if (msg.kind === 'fatal') reject(new JapariError(`Z3 failed to initialise: ${msg.message}`));
        else if (msg.kind === 'result') {
          const p = this.pending.get(msg.id!);
          if (p) {
            this.pending.delete(msg.id!);
            p.resolve(msg as unknown as WorkerReply);
          }
        }
      });
      w.on('error', (e) => {
        reject(e);
        this.failAll(e);
      });
      w.on('exit', () => {
        if (this.worker === w) {
          this.worker = null;
          this.ready = null;
        }
        this.failAll(new JapariError('the Z3 worker exited'));
      });
    });
    return this.ready;
  }

  private failAll(e: Error): void {
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.reject(e);
    }
  }

  send(msg: Record<string, unknown>, hardMs: number): Promise<WorkerReply | 'killed'> {
    const w = this.worker!;
    const id = this.nextId++;
    w.ref();
    return new Promise<WorkerReply | 'killed'>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.owner.kills++;
        this.worker = null;
        this.ready = null;
        void w.terminate();
        resolve('killed');
      }, hardMs);
      this.pending.set(id, {
        resolve: (r) => {
          clearTimeout(timer);
          w.unref();
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      w.postMessage({ ...msg, id });
    });
  }

  async restart(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    this.ready = null;
    if (w) await w.terminate();
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    this.ready = null;
    if (!w) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => void w.terminate().then(() => resolve()), 5000);
      w.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      w.ref();
      w.postMessage({ kind: 'close' });
    });
  }
}

export class Z3Runtime {
  private readonly slots: Z3Slot[];
  private readonly idle: Z3Slot[];
  private readonly waiting: ((s: Z3Slot) => void)[] = [];
  private closed = false;
  /** How many times Z3 was initialised (once per worker, again after a hard-timeout kill). */
  initialisations = 0;
  /** Workers killed on a hard timeout. */
  kills = 0;
  private readonly graceMs: number;
  private readonly softTimeout: boolean;

  constructor(o: RuntimeOptions = {}) {
    this.graceMs = o.graceMs ?? 3000;
    this.softTimeout = o.softTimeout ?? true;
    const n = Math.max(1, Math.floor(o.workers ?? 1));
    this.slots = Array.from({ length: n }, () => new Z3Slot(this));
    this.idle = [...this.slots];
  }

  /** Worker threads the runtime may use. */
  get size(): number {
    return this.slots.length;
  }

  /** Whether any worker (and its Z3 threads) is alive. */
  get alive(): boolean {
    return this.slots.some((s) => s.alive);
  }

  private acquire(): Promise<Z3Slot> {
    const s = this.idle.pop();
    if (s) return Promise.resolve(s);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(s: Z3Slot): void {
    const next = this.waiting.shift();
    if (next) next(s);
    else this.idle.push(s);
  }

  private async withSlot<T>(f: (s: Z3Slot) => Promise<T>): Promise<T> {
    if (this.closed) throw new JapariError('the Z3 runtime is closed');
    const slot = await this.acquire();
    try {
      return await f(slot);
    } finally {
      this.release(slot);
    }
  }

  /**
   * Check a script's satisfiability under `timeoutMs`. Reported variables are read back when
   * it is satisfiable. Never throws for a hard timeout (that is `unknown`); throws JapariError
   * when Z3 rejects the script (an encoding bug).
   */
  check(script: Script, timeoutMs: number, o: CheckOptions = {}): Promise<SolverResult> {
    const text = script.text();
    const values = script.reported.map((r) => r.name);
    const limitMs = timeoutMs;
    return this.withSlot(async (slot) => {
      const t0 = performance.now();
      if (o.cancelled?.()) return { status: 'unknown' as const, reason: 'cancelled', seconds: 0 };
      // Time spent queued for a worker counts against the deadline.
      timeoutMs = o.deadline !== undefined ? Math.min(limitMs, o.deadline - t0) : limitMs;
      if (timeoutMs <= 0) return { status: 'unknown' as const, reason: `timeout ${fmtLimit(o.limitMs ?? limitMs)}`, seconds: 0 };
      try {
        await slot.start();
      } catch (e) {
        return { status: 'unknown' as const, reason: `resource limit: ${(e as Error).message}`, seconds: (performance.now() - t0) / 1000 };
      }
      const limit = fmtLimit(o.limitMs ?? limitMs);
      let r: WorkerReply | 'killed';
      try {
        r = await slot.send({ kind: 'check', script: text, values, tactic: script.tactic, timeoutMs: this.softTimeout ? Math.max(1, Math.round(timeoutMs)) : 0 }, timeoutMs + this.graceMs);
      } catch (e) {
        return { status: 'unknown' as const, reason: `resource limit: Z3 worker failed (${(e as Error).message})`, seconds: (performance.now() - t0) / 1000 };
      }
      const seconds = (performance.now() - t0) / 1000;
      if (r === 'killed') return { status: 'unknown' as const, reason: `hard timeout ${limit}: Z3 did not stop, worker killed`, seconds };
      if (r.error) throw new JapariError(`Z3 rejected an obligation's script: ${r.error}`);
      if (r.crash) {
        // The WebAssembly module may be unusable after an abort (out of memory): start afresh.
        await slot.restart();
        return { status: 'unknown' as const, reason: `resource limit: ${r.crash}`, seconds };
      }
      const status = r.status ?? 'unknown';
      if (status === 'unknown') {
        const why = (r.reason ?? '').replace(/[()":]/g, ' ').replace(/\s+/g, ' ').trim().replace(/^reason-unknown\s*/, '');
        const reason = /timeout|canceled|cancelled|incomplete/i.test(why) || (r.ms ?? 0) >= timeoutMs * 0.95 ? `timeout ${limit}` : `solver gave up: ${why || 'incomplete'}`;
        return { status, reason, seconds };
      }
      return status === 'sat' ? { status, values: parseValues(r.values ?? ''), seconds } : { status, seconds };
    });
  }

  /** Evaluate raw SMT-LIB text (after a reset) and return Z3's output (differential tests). */
  evaluate(text: string, timeoutMs = 60_000): Promise<string> {
    return this.withSlot(async (slot) => {
      await slot.start();
      const r = await slot.send({ kind: 'eval', text }, timeoutMs);
      if (r === 'killed') throw new JapariError(`Z3 evaluation exceeded ${fmtLimit(timeoutMs)}`);
      if (r.crash) throw new JapariError(`Z3 crashed: ${r.crash}`);
      return r.out ?? '';
    });
  }

  /** Terminate Z3's threads and the workers; the runtime cannot be used afterwards. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Wait for queries in flight (every slot idle again), then close each worker.
    await Promise.all(this.slots.map(() => this.acquire()));
    await Promise.all(this.slots.map((s) => s.close()));
  }
}

let shared: Z3Runtime | null = null;

/**
 * The process-wide runtime (Z3 initialised once per worker, for the whole process): as many
 * workers as cores, at most 2 (JAPARI_Z3_WORKERS overrides).
 */
export function sharedZ3(): Z3Runtime {
  if (!shared) {
    const env = Number(process.env['JAPARI_Z3_WORKERS']);
    shared = new Z3Runtime({ workers: Number.isInteger(env) && env > 0 ? env : Math.min(2, availableParallelism()) });
  }
  return shared;
}

/** Close the process-wide runtime (CLI teardown, test afterAll). */
export async function closeSharedZ3(): Promise<void> {
  const s = shared;
  shared = null;
  if (s) await s.close();
}
