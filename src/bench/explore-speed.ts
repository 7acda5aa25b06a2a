/**
 * Exploration speed per model, measured beside the simulator's actions/s in the same bench run:
 * single failures (points/s) and pairs of failures (pairs/s, `--depth 2`'s nested failures) on a
 * deterministic sample of first-failure points (every n-th write unit of one inference).
 *
 * The uninterrupted run is recorded once per campaign (write log, checkpoint snapshots); its cost
 * does not scale with the points, so it is measured apart (a campaign of one point) and taken off.
 * CPU seconds (this thread) are reported beside wall seconds: the machine may be shared.
 */
import { explore, type ExploreOptions, type ExploreResult } from '../properties/explore.js';
import { deploymentOf } from '../properties/replay.js';
import { warmNvm } from '../properties/properties.js';
import { loadModel } from '../model/models.js';
import { runInference } from '../engines/runner.js';
import { PagedMemory } from '../device/paged.js';
import type { NvmPlacement } from '../device/profile.js';

export interface ExplorationSpeed {
  readonly engine: string;
  readonly batch: number;
  /** Write units of the inference (first-failure points of a full linear campaign). */
  readonly write_units: number;
  /** Single failures: a contiguous slice of 1/`linear_stride` of the write units, from the middle. */
  readonly linear_stride: number;
  readonly points: number;
  readonly points_per_wall_s: number;
  readonly points_per_cpu_s: number;
  /** Pairs: every nested failure in the recovery windows of a contiguous 1/`pairs_stride` of the first failures. */
  readonly pairs_stride: number;
  readonly pairs: number;
  readonly pairs_per_wall_s: number;
  readonly pairs_per_cpu_s: number;
  /** Recording the uninterrupted run (once per campaign), wall seconds. */
  readonly setup_wall_s: number;
}

interface Timed {
  readonly r: ExploreResult;
  readonly wall: number;
  readonly cpu: number;
}

function timed(f: () => ExploreResult): Timed {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r = f();
  const c = process.cpuUsage(c0);
  return { r, wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
}

/**
 * Measure one model with one engine: about `linearPoints` single failures and the pairs under
 * about `firsts` first failures. Null when the uninterrupted inference does not complete.
 */
export function explorationSpeed(
  model: string,
  run: { readonly engine: string; readonly batch: number; readonly profile: string; readonly placement: NvmPlacement; readonly seed: number },
  o: { readonly linearPoints?: number; readonly firsts?: number } = {},
): ExplorationSpeed | null {
  const d = deploymentOf({ model, engine: run.engine, batch: run.batch, placement: run.placement, profile: run.profile, faults: [], fixes: [] });
  const m = loadModel(model);
  const base: ExploreOptions = { input: m.inputQ(1), warmup: [m.inputQ(2)], seed: run.seed, mode: 'linear' };
  const nvm = warmNvm(d, base.warmup);
  const golden = runInference(d, { input: base.input, supply: { kind: 'continuous' }, seed: run.seed, nvm, logWrites: true, ledgerMemory: new PagedMemory(2 * nvm.bytes) });
  if (!golden.completed) return null;
  const W = golden.device.writeLogLen;
  if (W === 0) return null;
  // Contiguous slices from the middle of the inference (a real campaign's points follow one
  // another; a stride would charge each sampled point the cursor's walk over the skipped units).
  const linearStride = Math.max(1, Math.ceil(W / (o.linearPoints ?? 5000)));
  const pairsStride = Math.max(1, Math.ceil(W / (o.firsts ?? 24)));
  const middle = (count: number) => ({ index: Math.floor(count / 2), count, contiguous: true });
  // JIT warm-up (discarded), then the setup: a campaign of one point.
  explore(d, { ...base, shard: middle(Math.max(1, Math.ceil(W / 500))) });
  const setup = timed(() => explore(d, { ...base, shard: middle(W) }));
  const lin = timed(() => explore(d, { ...base, shard: middle(linearStride) }));
  const pairs = timed(() => explore(d, { ...base, mode: 'depth2', shard: middle(pairsStride) }));
  const net = (t: Timed, k: 'wall' | 'cpu') => Math.max(t[k] - setup[k], 1e-9);
  // The pairs' rate: their campaign's time less the setup and its first failures at the linear rate.
  const firstsCost = (k: 'wall' | 'cpu') => (pairs.r.stats.points - pairs.r.stats.pairs) * (net(lin, k) / Math.max(1, lin.r.stats.points));
  return {
    engine: run.engine,
    batch: run.batch,
    write_units: W,
    linear_stride: linearStride,
    points: lin.r.stats.points,
    points_per_wall_s: lin.r.stats.points / net(lin, 'wall'),
    points_per_cpu_s: lin.r.stats.points / net(lin, 'cpu'),
    pairs_stride: pairsStride,
    pairs: pairs.r.stats.pairs,
    pairs_per_wall_s: pairs.r.stats.pairs / Math.max(net(pairs, 'wall') - firstsCost('wall'), 1e-9),
    pairs_per_cpu_s: pairs.r.stats.pairs / Math.max(net(pairs, 'cpu') - firstsCost('cpu'), 1e-9),
    setup_wall_s: setup.wall,
  };
}
