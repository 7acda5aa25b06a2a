/**
 * A whole benchmark: plan the sweep, run its jobs, derive the figures, and assemble two
 * documents:
 *   BenchReport  the modelled numbers only (deterministic: same spec -> same bytes);
 *   SpeedReport  wall-clock figures (simulation speed), machine-dependent, kept apart.
 */
import { availableParallelism, cpus, platform, arch } from 'node:os';
import { PROFILES, activePowerW } from '../device/profile.js';
import { LIBRARY_DEFAULT_FIRMWARE } from '../engines/reference/firmware.js';
import type { EngineKind } from '../engines/reference/plan.js';
import { VERSION } from '../index.js';
import { type Condition, traceName } from './conditions.js';
import { planSweep, BENCH_SCHEMA, type SweepSpec, type BenchRow, type ModelInfo, type MinCapResult, type Skip, BenchExecutor } from './sweep.js';
import { runJobs } from './pool.js';
import { speedups, bestBatches, lowerBound, boundRatios, checkMinCaps, type Speedup, type BestBatch, type LowerBound, type BoundRatio, type MinCapCheck } from './derive.js';
import { calibrate, type CalibrationRow } from './calibration.js';
import { explorationSpeed, type ExplorationSpeed } from './explore-speed.js';
import { designOf } from '../engines/designs.js';
import { ConfigError, EngineStuck } from '../util/errors.js';

/** A condition as report data: traces by file name (paths differ between machines). */
export interface ConditionJson {
  readonly id: string;
  readonly supply: Condition['supply'];
  readonly description: string;
  readonly capacitor_uF: number | null;
  readonly power_mW: number | null;
  readonly von?: number;
  readonly voff?: number;
  readonly harvester?: Record<string, unknown>;
}

export interface DrawFigure {
  readonly model: string;
  readonly engine: EngineKind;
  readonly batch: number;
  /** Energy / on-time of the uninterrupted run: the average power the engine draws. */
  readonly average_draw_mW: number;
}

export interface BenchReport {
  readonly schema: typeof BENCH_SCHEMA;
  readonly command: 'bench';
  readonly japari_version: string;
  readonly profile: string;
  readonly profile_name: string;
  /** The firmware build (firmware.ts) and the ablation, if any. */
  readonly firmware: string;
  readonly ablate: string | null;
  readonly placement: string;
  readonly fixes: boolean;
  readonly input: number;
  readonly seed: number;
  readonly stall_limit: number;
  readonly max_power_cycles: number;
  readonly device: {
    readonly clock_hz: number;
    /** profile.ts activePowerW: datasheet current per MHz x clock x supply voltage. */
    readonly active_power_mW: number;
  };
  readonly conditions: readonly ConditionJson[];
  readonly models: readonly ModelInfo[];
  readonly engines: readonly EngineKind[];
  readonly batches: readonly number[];
  readonly rows: readonly BenchRow[];
  readonly skipped: readonly Skip[];
  readonly min_capacitor_harvester: string | null;
  /** The capacitors every minimum-capacitor search probes first (uF). */
  readonly min_capacitor_ladder_uF: readonly number[] | null;
  readonly derived: {
    readonly speedups: readonly Speedup[];
    readonly best_batch: readonly BestBatch[];
    readonly lower_bounds: readonly LowerBound[];
    readonly bound_ratios: readonly BoundRatio[];
    readonly min_capacitors: readonly MinCapResult[];
    readonly min_capacitor_checks: readonly MinCapCheck[];
    readonly average_draw: readonly DrawFigure[];
  };
  readonly calibration: readonly CalibrationRow[];
}

export interface ModelSpeed {
  readonly model: string;
  readonly runs: number;
  readonly wall_s: number;
  /** Modelled on-time (device active seconds) simulated. */
  readonly sim_on_s: number;
  /** Modelled latency (on-time + recharge) simulated. */
  readonly sim_latency_s: number;
  readonly actions: number;
  readonly on_s_per_wall_s: number;
  readonly latency_s_per_wall_s: number;
  readonly actions_per_wall_s: number;
  /** Loading and quantizing the model (ONNX import, float calibration runs), once, in the main thread. */
  readonly load_s: number;
  /** Uninterrupted runs (continuous power) per engine: modelled on-time per wall second and device actions per wall second. */
  readonly uninterrupted: Readonly<Record<string, { readonly runs: number; readonly on_s_per_wall_s: number; readonly actions_per_wall_s: number }>>;
  /** Exhaustive exploration on a sample of this model's failure points: points/s and pairs/s (explore-speed.ts); null when not measured. */
  readonly exploration: ExplorationSpeed | null;
}

export interface SpeedReport {
  readonly schema: typeof BENCH_SCHEMA;
  readonly machine_dependent: true;
  readonly machine: { readonly node: string; readonly platform: string; readonly cpus: number; readonly cpu_model: string };
  readonly workers: number;
  readonly jobs: number;
  readonly total_wall_s: number;
  /** Sum of per-job wall time (across workers). */
  readonly busy_wall_s: number;
  readonly models: readonly ModelSpeed[];
  readonly slowest: readonly { readonly job: string; readonly wall_s: number }[];
}

export function conditionJson(c: Condition): ConditionJson {
  const h = c.harvester;
  return {
    id: c.id,
    supply: c.supply,
    description: c.description,
    capacitor_uF: c.capacitor_uF,
    power_mW: c.power_mW,
    ...(c.capacitor ? { von: c.capacitor.von, voff: c.capacitor.voff } : {}),
    ...(h ? { harvester: h.kind === 'trace' ? { kind: 'trace', file: `${traceName(h.path)}.trace`, mean_mW: h.meanWatts * 1e3 } : { ...h } } : {}),
  };
}

/**
 * Exploration speed of one model, in this thread after the sweep: JAPARI (else the first engine
 * of the sweep that preserves progress) at the sweep's smallest B.
 */
function explorationOf(spec: SweepSpec, model: string): ExplorationSpeed | null {
  const engine = spec.engines.find((e) => e === 'japari') ?? spec.engines.find((e) => designOf(e).preserves);
  if (!engine) return null;
  const batch = Math.min(...spec.batches);
  try {
    return explorationSpeed(model, { engine, batch, profile: spec.profile, placement: spec.placement, seed: spec.seed });
  } catch (e) {
    if (e instanceof EngineStuck || e instanceof ConfigError) return null;
    throw e;
  }
}

export function defaultWorkers(): number {
  return Math.max(1, Math.min(2, availableParallelism()));
}

export interface BenchOutcome {
  readonly report: BenchReport;
  readonly speed: SpeedReport;
}

export async function runBench(
  spec: SweepSpec,
  o: { readonly workers: number; readonly inProcess?: boolean; readonly onProgress?: (done: number, total: number, what: string) => void },
): Promise<BenchOutcome> {
  const exec = new BenchExecutor(spec);
  const plan = planSweep(spec, exec);
  const describe = (id: number): string => {
    const j = plan.jobs[id]!;
    if (j.kind === 'baseline') return `${j.model} baseline`;
    if (j.kind === 'mincap') return `${j.model} ${j.engine} B=${j.batch} min capacitor`;
    return `${j.model} ${j.engine} B=${j.batch} ${spec.conditions[j.condition]!.id}`;
  };
  const pool = await runJobs(spec, plan.jobs, plan.models, {
    workers: o.workers,
    ...(o.inProcess !== undefined ? { inProcess: o.inProcess } : {}),
    onResult: (r, done, total) => o.onProgress?.(done, total, describe(r.id)),
  });
  const rows: BenchRow[] = [];
  const infos: ModelInfo[] = [];
  const minCaps: MinCapResult[] = [];
  const perModel = new Map<string, { runs: number; wall: number; on: number; lat: number; actions: number; unint: Map<string, { runs: number; wall: number; on: number; actions: number }> }>();
  const acc = (m: string) => {
    let a = perModel.get(m);
    if (!a) perModel.set(m, (a = { runs: 0, wall: 0, on: 0, lat: 0, actions: 0, unint: new Map() }));
    return a;
  };
  const timings: { job: string; wall_s: number }[] = [];
  let busy = 0;
  for (const r of pool.results) {
    const job = plan.jobs[r.id]!;
    const a = acc(job.model);
    busy += r.wall_s;
    timings.push({ job: describe(r.id), wall_s: r.wall_s });
    switch (r.kind) {
      case 'baseline':
        infos.push(r.info);
        a.runs++;
        a.wall += r.wall_s;
        a.on += r.info.baseline.latency_s;
        a.lat += r.info.baseline.latency_s;
        a.actions += r.info.baseline.actions;
        break;
      case 'run':
        rows.push(r.row);
        if (r.row.supply === 'continuous') {
          const u = a.unint.get(r.row.engine) ?? { runs: 0, wall: 0, on: 0, actions: 0 };
          u.runs++;
          u.wall += r.wall_s;
          u.on += r.row.on_time_s;
          u.actions += r.row.actions;
          a.unint.set(r.row.engine, u);
        }
        a.runs++;
        a.wall += r.wall_s;
        a.on += r.row.on_time_s;
        a.lat += r.row.latency_s;
        a.actions += r.row.actions;
        break;
      case 'mincap':
        minCaps.push(r.result);
        a.runs += r.result.probes.length;
        a.wall += r.wall_s;
        a.on += r.sim_on_s;
        a.lat += r.result.probes.reduce((s, p) => s + p.latency_s, 0);
        a.actions += r.actions;
        break;
    }
  }
  const profile = PROFILES[spec.profile]!;
  const infoBy = new Map(infos.map((i) => [i.name, i]));
  const bounds: LowerBound[] = [];
  for (const m of plan.models) for (const c of spec.conditions) bounds.push(lowerBound(infoBy.get(m)!, c));
  const mcHarvester = spec.minCap ? spec.minCap.condition.description.replace(/^[^,]*, /, '') : null;
  const draws: DrawFigure[] = rows
    .filter((r) => r.supply === 'continuous' && r.completed && r.on_time_s > 0)
    .map((r) => ({ model: r.model, engine: r.engine, batch: r.batch, average_draw_mW: (r.energy_mJ / r.on_time_s) }));
  const report: BenchReport = {
    schema: BENCH_SCHEMA,
    command: 'bench',
    japari_version: VERSION,
    profile: spec.profile,
    profile_name: profile.name,
    firmware: spec.firmware ?? LIBRARY_DEFAULT_FIRMWARE,
    ablate: spec.ablate ?? null,
    placement: spec.placement,
    fixes: spec.fixes,
    input: spec.input,
    seed: spec.seed,
    stall_limit: spec.stallLimit,
    max_power_cycles: spec.maxPowerCycles,
    device: { clock_hz: profile.clockHz, active_power_mW: activePowerW(profile) * 1e3 },
    conditions: spec.conditions.map(conditionJson),
    models: infos,
    engines: spec.engines,
    batches: spec.batches,
    rows,
    skipped: plan.skipped,
    min_capacitor_harvester: mcHarvester,
    min_capacitor_ladder_uF: spec.minCap ? [...spec.minCap.ladderF].sort((a, b) => a - b).map((f) => +(f * 1e6).toPrecision(6)) : null,
    derived: {
      speedups: speedups(rows),
      best_batch: bestBatches(rows),
      lower_bounds: bounds,
      bound_ratios: boundRatios(rows, bounds),
      min_capacitors: minCaps,
      min_capacitor_checks: spec.minCap && mcHarvester ? checkMinCaps(minCaps, rows, mcHarvester, spec.minCap.condition.supply) : [],
      average_draw: draws,
    },
    calibration: [...calibrate('inas2021', PROFILES['inas2021']!), ...calibrate('tinas2024', PROFILES['tinas2024']!)],
  };
  const models: ModelSpeed[] = plan.models.map((m) => {
    const a = acc(m);
    const w = Math.max(a.wall, 1e-9);
    return {
      model: m,
      runs: a.runs,
      wall_s: a.wall,
      sim_on_s: a.on,
      sim_latency_s: a.lat,
      actions: a.actions,
      on_s_per_wall_s: a.on / w,
      latency_s_per_wall_s: a.lat / w,
      actions_per_wall_s: a.actions / w,
      load_s: plan.loadSeconds[m] ?? 0,
      exploration: explorationOf(spec, m),
      uninterrupted: Object.fromEntries(
        [...a.unint].map(([e, u]) => [e, { runs: u.runs, on_s_per_wall_s: u.on / Math.max(u.wall, 1e-9), actions_per_wall_s: u.actions / Math.max(u.wall, 1e-9) }]),
      ),
    };
  });
  const cpuList = cpus();
  const speed: SpeedReport = {
    schema: BENCH_SCHEMA,
    machine_dependent: true,
    machine: { node: process.version, platform: `${platform()}-${arch()}`, cpus: availableParallelism(), cpu_model: cpuList[0]?.model.trim() ?? 'unknown' },
    workers: pool.workers,
    jobs: plan.jobs.length,
    total_wall_s: pool.wall_s,
    busy_wall_s: busy,
    models,
    slowest: [...timings].sort((a, b) => b.wall_s - a.wall_s).slice(0, 10),
  };
  return { report, speed };
}

