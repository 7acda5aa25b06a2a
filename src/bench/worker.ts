/**
 * Worker-thread entry of a benchmark sweep (src/bench/pool.ts): executes the jobs it is sent,
 * one at a time, and posts each result back. The spec arrives as workerData.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { BenchExecutor, type Job, type SweepSpec } from './sweep.js';
import { errorToWire } from '../util/errors.js';
import { loadModulesFromEnv } from '../properties/modules.js';

// Engine modules the parent loaded (--engine-module): their designs must exist here too.
await loadModulesFromEnv();
const exec = new BenchExecutor(workerData as SweepSpec);
parentPort!.on('message', (job: Job | null) => {
  if (job === null) {
    parentPort!.close();
    return;
  }
  try {
    parentPort!.postMessage({ ok: true, result: exec.exec(job) });
  } catch (e) {
    // The wire form keeps the error's class across the thread boundary (util/errors.ts).
    parentPort!.postMessage({ ok: false, id: job.id, error: errorToWire(e) });
  }
});
