/**
 * Exploration campaigns: one deployment and input explored exhaustively, split across worker
 * threads on this machine and shardable across machines (`--shard i/n`: this machine explores
 * the failure points whose index is i modulo n; the union of all shards is the whole search).
 *
 * Workers run the compiled module dist/src/properties/explore-worker.js; where it is absent
 * (running from sources, e.g. under vitest) the campaign runs in-process.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../model/models.js';
import { deploymentOf } from './replay.js';
import { campaignVerdict, explore, type ExploreMode, type ExploreResult, type FailurePoint } from './explore.js';
import type { RunSpec } from './token.js';
import { projectRoot } from '../util/shared.js';
import { errorFromWire, errorToWire, type WireError } from '../util/errors.js';

export interface CampaignSpec {
  /** Model, engine, parameters, input, warm-up, seed (schedule ignored). */
  readonly run: Omit<RunSpec, 'schedule'>;
  readonly mode: ExploreMode;
  readonly layer?: number;
  readonly prune: boolean;
  readonly shard: { readonly index: number; readonly count: number; readonly contiguous?: boolean };
  readonly stopAtFirst?: boolean;
  /** Count only violations that do not depend on data values (explore.ts ExploreOptions.effectsOnly). */
  readonly effectsOnly?: boolean;
  /** 2: also the inference after one more warm-up (both parities of the state bits); default 1. */
  readonly parities?: 1 | 2;
}

export interface CampaignResult extends ExploreResult {
  readonly seconds: number;
  readonly workers: number;
  readonly pointsPerSecond: number;
}

/** Run one shard of a campaign in this thread. */
export function exploreShard(c: CampaignSpec, onProgress?: (done: number, total: number) => void, signal?: AbortSignal): ExploreResult {
  const d = deploymentOf(c.run);
  const m = loadModel(c.run.model);
  return explore(d, {
    input: m.inputQ(c.run.input),
    warmup: c.run.warmup.map((w) => m.inputQ(w)),
    seed: c.run.seed,
    mode: c.mode,
    ...(c.layer !== undefined ? { layer: c.layer } : {}),
    prune: c.prune,
    shard: c.shard,
    ...(c.stopAtFirst ? { stopAtFirst: true } : {}),
    ...(c.effectsOnly ? { effectsOnly: true } : {}),
    ...(c.parities === 2 ? { parities: 2 as const } : {}),
    ...(onProgress ? { onProgress } : {}),
    ...(signal ? { signal } : {}),
  });
}

function workerScript(): string | null {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return join(here, '..', 'explore-worker.js');
  const built = join(projectRoot(), 'dist', 'src', 'properties', 'explore-worker.js');
  return existsSync(built) ? built : null;
}

/** Combine the results of disjoint sub-shards of one campaign (the verdict is recomputed from the sums). */
export function merge(parts: readonly ExploreResult[]): ExploreResult {
  const failures: FailurePoint[] = parts.flatMap((p) => p.failures).sort((a, b) => (a.phase ?? 0) - (b.phase ?? 0) || a.unit - b.unit || a.schedule.length - b.schedule.length || (a.schedule[1] ?? 0) - (b.schedule[1] ?? 0) || (a.schedule[2] ?? 0) - (b.schedule[2] ?? 0));
  const s0 = parts[0]!.stats;
  const sum = (k: keyof ExploreResult['stats']) => parts.reduce((acc, p) => acc + (p.stats[k] as number), 0);
  const stats = {
    points: sum('points'),
    writeUnits: s0.writeUnits,
    actions: s0.actions,
    checkpoints: s0.checkpoints,
    converged: sum('converged'),
    recoveryActions: sum('recoveryActions'),
    unprunedActionsEstimate: sum('unprunedActionsEstimate'),
    reexecutedJobs: sum('reexecutedJobs'),
    tornPoints: sum('tornPoints'),
    tearablePoints: s0.tearablePoints,
    pairs: sum('pairs'),
    triples: sum('triples'),
    naivePoints: sum('naivePoints'),
  };
  return { ...campaignVerdict(failures.length, parts[0]!.golden.length, stats), failures, golden: parts[0]!.golden, stats };
}

/**
 * Run a campaign shard with `workers` threads (each explores a sub-shard). Deterministic: the
 * merged result does not depend on the number of workers.
 */
export async function runCampaign(c: CampaignSpec, count: number, onProgress?: (done: number, total: number) => void, signal?: AbortSignal): Promise<CampaignResult> {
  signal?.throwIfAborted();
  const t0 = performance.now();
  const script = count > 1 ? workerScript() : null;
  let result: ExploreResult;
  let used = 1;
  if (!script) {
    result = exploreShard(c, onProgress, signal);
  } else {
    used = count;
    const workers: Worker[] = [];
    const done = new Array<number>(count).fill(0);
    const totals = new Array<number>(count).fill(0);
    const parts = await Promise.all(
      Array.from({ length: count }, (_, w) => {
        // Each worker takes a contiguous range of this shard's points (cheap cursor jumps).
        const sub: CampaignSpec = { ...c, shard: c.shard.count === 1 ? { index: w, count, contiguous: true } : { index: c.shard.index + w * c.shard.count, count: c.shard.count * count } };
        return new Promise<ExploreResult>((resolve, reject) => {
          const worker = new Worker(script, { workerData: sub });
          workers.push(worker);
          // An abort stops every worker at once (their partial results are dropped).
          const onAbort = () => {
            void worker.terminate();
            reject(signal!.reason);
          };
          signal?.addEventListener('abort', onAbort, { once: true });
          worker.on('exit', () => signal?.removeEventListener('abort', onAbort));
          worker.on('message', (msg: { kind: 'progress'; done: number; total: number } | { kind: 'result'; result: ExploreResult } | { kind: 'error'; error: WireError }) => {
            if (msg.kind === 'error') {
              // The same class as in the worker (an InputError stays exit 2); stop the others.
              for (const x of workers) if (x !== worker) void x.terminate();
              reject(errorFromWire(msg.error, `exploration worker ${w}`));
            } else if (msg.kind === 'progress') {
              done[w] = msg.done;
              totals[w] = msg.total;
              onProgress?.(
                done.reduce((a, b) => a + b, 0),
                totals.reduce((a, b) => a + b, 0),
              );
            } else {
              resolve(msg.result);
            }
          });
          worker.on('error', (e) => reject(errorFromWire(errorToWire(e), `exploration worker ${w}`)));
          worker.on('exit', (code) => {
            if (code !== 0) reject(new Error(`exploration worker ${w} exited with code ${code}`));
          });
        });
      }),
    );
    result = merge(parts);
  }
  const seconds = (performance.now() - t0) / 1000;
  return { ...result, seconds, workers: used, pointsPerSecond: result.stats.points / Math.max(seconds, 1e-9) };
}
