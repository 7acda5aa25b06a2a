/**
 * Running a sweep's jobs: in this thread, or on worker threads that pull jobs from a shared
 * queue (the compiled dist/src/bench/worker.js; without it, in this thread). Results come back
 * sorted by job id, so the output does not depend on scheduling.
 */
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { BenchExecutor, type Job, type JobResult, type SweepSpec } from './sweep.js';
import { projectRoot } from '../util/shared.js';
import { JapariError, errorFromWire, type WireError } from '../util/errors.js';

function workerScript(): string | null {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return join(here, '..', 'worker.js');
  const built = join(projectRoot(), 'dist', 'src', 'bench', 'worker.js');
  return existsSync(built) ? built : null;
}

/** Heavier jobs first, so the last job to finish is a short one (better balance across workers). */
function dispatchOrder(jobs: readonly Job[], models: readonly string[]): Job[] {
  const weight = (j: Job): number => {
    const m = models.indexOf(j.model) + 1;
    const e = j.kind === 'baseline' ? 1 : j.engine === 'japari-loopcount' ? 4 : 2;
    return (j.kind === 'mincap' ? 12 : 1) * m * e;
  };
  return [...jobs].sort((a, b) => weight(b) - weight(a) || a.id - b.id);
}

export interface PoolOptions {
  readonly workers: number;
  readonly onResult?: (r: JobResult, done: number, total: number) => void;
  /** Run in this thread even when workers > 1 (tests run TypeScript sources). */
  readonly inProcess?: boolean;
}

export interface PoolOutcome {
  readonly results: JobResult[];
  /** Worker threads used (1: this thread). */
  readonly workers: number;
  readonly wall_s: number;
}

export async function runJobs(spec: SweepSpec, jobs: readonly Job[], models: readonly string[], o: PoolOptions): Promise<PoolOutcome> {
  const t0 = performance.now();
  const order = dispatchOrder(jobs, models);
  const results: JobResult[] = [];
  const script = o.workers > 1 && !o.inProcess ? workerScript() : null;
  if (!script) {
    const exec = new BenchExecutor(spec);
    for (const j of order) {
      const r = exec.exec(j);
      results.push(r);
      o.onResult?.(r, results.length, order.length);
    }
  } else {
    const n = Math.min(o.workers, order.length);
    let next = 0;
    const workers: Worker[] = [];
    let failed = false;
    await Promise.all(
      Array.from(
        { length: n },
        () =>
          new Promise<void>((resolve, reject) => {
            const w = new Worker(script, { workerData: spec });
            workers.push(w);
            const fail = (e: Error) => {
              // One failed job ends the sweep: stop every worker, not just this one.
              if (!failed) for (const x of workers) void x.terminate();
              failed = true;
              reject(e);
            };
            const feed = () => w.postMessage(next < order.length && !failed ? order[next++]! : null);
            w.on('message', (msg: { ok: true; result: JobResult } | { ok: false; id: number; error: WireError }) => {
              if (!msg.ok) {
                // Bad input keeps its class (exit 2); anything else is an internal error naming the job.
                fail(errorFromWire(msg.error, `bench job ${msg.id}`));
                return;
              }
              results.push(msg.result);
              o.onResult?.(msg.result, results.length, order.length);
              feed();
            });
            w.on('error', fail);
            w.on('exit', (code) => (code === 0 || failed ? resolve() : fail(new JapariError(`bench worker exited with code ${code}`))));
            feed();
          }),
      ),
    );
  }
  results.sort((a, b) => a.id - b.id);
  return { results, workers: script ? Math.min(o.workers, order.length) : 1, wall_s: (performance.now() - t0) / 1e3 };
}
