/**
 * The benchmark sweep: every (model, engine, B, condition) of a SweepSpec run once on the
 * executable device model with `runInference`, plus a per-model baseline (the continuous
 * engine under continuous power, the compute-only work any engine must do) and, optionally,
 * a minimum-capacitor search per (model, engine, B).
 *
 * Determinism: a job's modelled figures are a function of the spec and the job alone (model,
 * input, seed, supply); jobs share no state, so the result does not depend on the order or the
 * number of worker threads. Wall-clock time is measured around each run and kept apart
 * (JobResult.wall_s), for the machine-dependent simulation-speed section only.
 *
 * What a run costs the host is bounded by the runner's own guards: an energy-driven run gives
 * up after `stallLimit` consecutive power cycles that do not advance the recovered position,
 * and after `maxPowerCycles` in all.
 */
import { performance } from 'node:perf_hooks';
import { loadModel, type LoadedModel } from '../model/models.js';
import { Deployment, runInference, type RunResult } from '../engines/runner.js';
import type { EngineKind, Ablation } from '../engines/reference/plan.js';
import { LC_BATCHES } from '../engines/japari-loopcount/plan.js';
import { fixesFor, FIXES } from '../engines/catalogue.js';
import { checkScenario } from '../properties/properties.js';
import { PROFILES, type NvmPlacement } from '../device/profile.js';
import { CATEGORIES, type Category } from '../device/device.js';
import { JapariError, UsageError, ConfigError, InputError } from '../util/errors.js';
import { type Condition, type SupplyKind, CONTINUOUS, supplyOf, withCapacitor } from './conditions.js';
import { quantizedDigest, planDigest } from './version.js';

export const BENCH_SCHEMA = 1;

export type ProfileName = keyof typeof PROFILES & string;

/** Minimum-capacitor search: bisection on log capacitance under one harvester. */
export interface MinCapSpec {
  /** The harvester (its capacitor is replaced by each probe). */
  readonly condition: Condition;
  readonly batches: readonly number[];
  /** Capacitors probed first (farads); the answer lies between two of them or below the first. */
  readonly ladderF: readonly number[];
  /** Stop when hi / lo <= 1 + tolerance. */
  readonly tolerance: number;
}

export interface SweepSpec {
  readonly models: readonly string[];
  readonly engines: readonly EngineKind[];
  readonly batches: readonly number[];
  readonly conditions: readonly Condition[];
  readonly profile: ProfileName;
  /** Firmware build (firmware.ts); absent: the library default. */
  readonly firmware?: string;
  /** An ablation (continuous power only). */
  readonly ablate?: Ablation | null;
  readonly placement: NvmPlacement;
  /** Run the corrected variants (engine/faults.ts FIXES) instead of the published engines. */
  readonly fixes: boolean;
  /** Include the per-layer breakdown in every row. */
  readonly layers: boolean;
  /** Input sample index (seed of synthetic inputs). */
  readonly input: number;
  /** Seed of the SRAM garbage after reboots. */
  readonly seed: number;
  readonly stallLimit: number;
  readonly maxPowerCycles: number;
  readonly minCap: MinCapSpec | null;
}

/** One category of a breakdown: modelled seconds (cycles / clock; recharge: off time) and energy. */
export interface CategoryFigures {
  readonly seconds: number;
  readonly energy_mJ: number;
}
export type BreakdownFigures = Record<Category, CategoryFigures>;

export interface LayerRow {
  readonly index: number;
  readonly name: string;
  readonly kind: string;
  readonly seconds: number;
  readonly energy_mJ: number;
  readonly breakdown: BreakdownFigures;
}

/** One run: the modelled figures (no wall clock). */
export interface BenchRow {
  readonly model: string;
  readonly engine: EngineKind;
  readonly batch: number;
  /** Corrections switched on (empty: the published engine). */
  readonly fixes: readonly string[];
  readonly condition: string;
  readonly supply: SupplyKind;
  readonly supply_desc: string;
  readonly capacitor_uF: number | null;
  readonly power_mW: number | null;
  readonly completed: boolean;
  readonly reason?: string;
  /** The output equals the bit-exact Q15 reference (false when not completed). */
  readonly equal: boolean;
  readonly latency_s: number;
  readonly on_time_s: number;
  readonly recharge_s: number;
  readonly power_cycles: number;
  readonly energy_mJ: number;
  readonly nvm_bytes: number;
  readonly cycles: number;
  readonly actions: number;
  readonly breakdown: BreakdownFigures;
  readonly layers?: readonly LayerRow[];
  /** A completed run of a published engine with a wrong output: which corrections fix it (attributeWrong). */
  readonly attribution?: WrongAttribution;
}

/**
 * Why a completed run gave a wrong output: the same run (model, engine, B, condition, input,
 * SRAM seed) repeated with each correction of the engine (catalogue.ts FIXES) on its own. A fix
 * whose run completes with the reference output names its finding as the cause.
 */
export interface WrongAttribution {
  /** Every fix of the engine tried, in catalogue order, with the run's outcome under it. */
  readonly tried: readonly { readonly fix: string; readonly outcome: 'reference output' | 'wrong output' | 'no forward progress' }[];
  /** The fixes under which the run completes with the reference output. */
  readonly fixed_by: readonly string[];
  /** Their findings (catalogue.ts FINDINGS ids). */
  readonly findings: readonly string[];
  /**
   * The mechanism: the run's power failures (the actions they cut) replayed as a schedule under
   * japari's property checks -- whether the replay gives the same output, and its first violation.
   */
  readonly replay: { readonly failures: number; readonly same_output: boolean; readonly first_violation: string | null };
}

/** A (model, engine, B) the sweep does not run, and why. */
export interface Skip {
  readonly model: string;
  readonly engine: EngineKind | '*';
  readonly batch: number | null;
  readonly reason: string;
}

export interface ModelInfo {
  readonly name: string;
  readonly description: string;
  readonly source: string;
  readonly quantized_sha256: string;
  /** Plan digest per "engine/B". */
  readonly plans: Record<string, string>;
  readonly input_kind: 'sample' | 'synthetic';
  /** Plan facts that limit what an engine's progress seeker can see (they explain stalls). */
  readonly notes: readonly string[];
  /** The continuous engine under continuous power: what any engine must at least compute. */
  readonly baseline: {
    readonly latency_s: number;
    readonly energy_mJ: number;
    readonly compute_s: number;
    readonly compute_mJ: number;
    readonly actions: number;
  };
}

export interface MinCapProbe {
  readonly capacitor_uF: number;
  readonly completed: boolean;
  readonly power_cycles: number;
  readonly latency_s: number;
  readonly reason?: string;
}

export interface MinCapResult {
  readonly model: string;
  readonly engine: EngineKind;
  readonly batch: number;
  readonly harvester: string;
  /** Smallest capacitance probed that completes (null: none up to the range's top). */
  readonly min_capacitor_uF: number | null;
  /** Largest capacitance probed that does not (null: even the ladder's bottom completes). */
  readonly max_failing_uF: number | null;
  /** Ladder capacitors below max_failing_uF that complete all the same (completion is not monotone). */
  readonly completes_below_uF: readonly number[];
  /** The latency at the minimum capacitor. */
  readonly latency_s: number | null;
  readonly probes: readonly MinCapProbe[];
}

export type Job =
  | { readonly kind: 'baseline'; readonly id: number; readonly model: string }
  | { readonly kind: 'run'; readonly id: number; readonly model: string; readonly engine: EngineKind; readonly batch: number; readonly condition: number }
  | { readonly kind: 'mincap'; readonly id: number; readonly model: string; readonly engine: EngineKind; readonly batch: number };

export type JobResult =
  | { readonly kind: 'baseline'; readonly id: number; readonly info: ModelInfo; readonly wall_s: number }
  | { readonly kind: 'run'; readonly id: number; readonly row: BenchRow; readonly wall_s: number }
  | { readonly kind: 'mincap'; readonly id: number; readonly result: MinCapResult; readonly wall_s: number; readonly sim_on_s: number; readonly actions: number };

// ---------------------------------------------------------------------------------------------
// Which combinations run

/** Why an engine cannot run at B (null: it can). Plan-time limits (LEA tiling) are found later. */
export function unsupportedBatch(engine: EngineKind, batch: number): string | null {
  if (engine === 'continuous' && batch !== 1) return 'the continuous engine keeps no progress indicator, so B does not apply (it runs at B = 1 only)';
  if (engine === 'japari-loopcount' && !(LC_BATCHES as readonly number[]).includes(batch)) {
    return `the loop-count engine needs B to divide its output-channel tile Tm = 8 (B in ${LC_BATCHES.join(', ')})`;
  }
  if (!Number.isInteger(batch) || batch < 1 || batch > 64) return 'B must be an integer in [1, 64]';
  return null;
}

function engineParams(spec: SweepSpec, engine: EngineKind, batch: number) {
  return {
    engine,
    batch,
    placement: spec.placement,
    profile: PROFILES[spec.profile]!,
    ...(spec.firmware !== undefined ? { firmware: spec.firmware } : {}),
    ...(spec.ablate ? { ablate: spec.ablate } : {}),
    ...(spec.fixes ? { fixes: fixesFor(engine) } : {}),
  };
}

export function fixesOf(spec: SweepSpec, engine: EngineKind): string[] {
  return spec.fixes ? fixesFor(engine) : [];
}

// ---------------------------------------------------------------------------------------------
// Executing jobs (one executor per thread: caches models and deployments)

function figures(b: RunResult['breakdown'], hz: number): BreakdownFigures {
  const out = {} as Record<Category, CategoryFigures>;
  for (const c of CATEGORIES) out[c] = { seconds: b[c].cycles / hz, energy_mJ: b[c].nj / 1e6 };
  return out;
}

function layerNames(d: Deployment): { name: string; kind: string }[] {
  return d.plan.stages.map((l) => ({ name: l.name, kind: l.kind }));
}

export class BenchExecutor {
  private readonly deployments = new Map<string, Deployment>();

  constructor(readonly spec: SweepSpec) {}

  model(name: string): LoadedModel {
    return loadModel(name);
  }

  deployment(model: string, engine: EngineKind, batch: number): Deployment {
    const key = `${model}|${engine}|${batch}`;
    let d = this.deployments.get(key);
    if (!d) {
      d = new Deployment(this.model(model).q, engineParams(this.spec, engine, batch));
      this.deployments.set(key, d);
    }
    return d;
  }

  /** One inference under `cond`; expected failures (a capacitor that cannot fund a reboot) become data. */
  run(model: string, engine: EngineKind, batch: number, cond: Condition): { row: BenchRow; wall_s: number } {
    const m = this.model(model);
    const d = this.deployment(model, engine, batch);
    const hz = PROFILES[this.spec.profile]!.clockHz;
    const input = m.inputQ(this.spec.input);
    const t0 = performance.now();
    let r: RunResult | null = null;
    let error: string | null = null;
    try {
      r = runInference(d, {
        input,
        supply: supplyOf(cond),
        seed: this.spec.seed,
        stallLimit: this.spec.stallLimit,
        maxPowerCycles: this.spec.maxPowerCycles,
      });
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      error = e.message;
    }
    const wall_s = (performance.now() - t0) / 1e3;
    const base = {
      model,
      engine,
      batch,
      fixes: fixesOf(this.spec, engine),
      condition: cond.id,
      supply: cond.supply,
      supply_desc: cond.description,
      capacitor_uF: cond.capacitor_uF,
      power_mW: cond.power_mW,
    };
    if (!r) {
      // The device model refused the configuration (e.g. one charge cannot fund a reboot):
      // no forward progress is possible; report it as such with zero figures.
      const zero = {} as Record<Category, CategoryFigures>;
      for (const c of CATEGORIES) zero[c] = { seconds: 0, energy_mJ: 0 };
      return {
        row: { ...base, completed: false, reason: `no forward progress: ${error}`, equal: false, latency_s: 0, on_time_s: 0, recharge_s: 0, power_cycles: 0, energy_mJ: 0, nvm_bytes: 0, cycles: 0, actions: 0, breakdown: zero },
        wall_s,
      };
    }
    const row: BenchRow = {
      ...base,
      completed: r.completed,
      ...(r.reason !== undefined ? { reason: r.reason } : {}),
      equal: r.completed && r.equal,
      latency_s: r.latencyS,
      on_time_s: r.onTimeS,
      recharge_s: r.rechargeS,
      power_cycles: r.powerCycles,
      energy_mJ: r.energyMJ,
      nvm_bytes: r.nvmBytesWritten,
      cycles: r.cycles,
      actions: r.actions,
      breakdown: figures(r.breakdown, hz),
      ...(this.spec.layers ? { layers: this.layerRows(d, r, hz) } : {}),
      ...(r.completed && !r.equal && !this.spec.fixes ? { attribution: this.attributeWrong(model, engine, batch, cond) } : {}),
    };
    return { row, wall_s };
  }

  /** A wrong output of the published engine: the same run under each fix of the engine (WrongAttribution). */
  attributeWrong(model: string, engine: EngineKind, batch: number, cond: Condition): WrongAttribution {
    const m = this.model(model);
    const tried: { fix: string; outcome: 'reference output' | 'wrong output' | 'no forward progress' }[] = [];
    const fixed: string[] = [];
    for (const fix of fixesFor(engine)) {
      const d = new Deployment(m.q, { ...engineParams(this.spec, engine, batch), fixes: [fix] });
      let r: RunResult | null = null;
      try {
        r = runInference(d, { input: m.inputQ(this.spec.input), supply: supplyOf(cond), seed: this.spec.seed, stallLimit: this.spec.stallLimit, maxPowerCycles: this.spec.maxPowerCycles });
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
      }
      const outcome = !r || !r.completed ? 'no forward progress' : r.equal ? 'reference output' : 'wrong output';
      tried.push({ fix, outcome });
      if (outcome === 'reference output') fixed.push(fix);
    }
    const findings = [...new Set(fixed.map((f) => FIXES.find((x) => x.id === f)!.finding))];
    // The published run again, noting where each power failure cut it, then that schedule checked.
    const d = this.deployment(model, engine, batch);
    const input = m.inputQ(this.spec.input);
    const cuts: number[] = [];
    const r = runInference(d, { input, supply: supplyOf(cond), seed: this.spec.seed, stallLimit: this.spec.stallLimit, maxPowerCycles: this.spec.maxPowerCycles, onFailure: (dev) => cuts.push(dev.action) });
    const checked = checkScenario(d, { input, warmup: [], failAt: cuts, seed: this.spec.seed });
    const same = checked.result.completed && checked.result.output.length === r.output.length && checked.result.output.every((x, i) => x === r.output[i]);
    const v = checked.violations[0];
    const first = v ? `${v.property} (boot ${v.boot}): ${v.message}` : null;
    return { tried, fixed_by: fixed, findings, replay: { failures: cuts.length, same_output: same, first_violation: first } };
  }

  private layerRows(d: Deployment, r: RunResult, hz: number): LayerRow[] {
    const names = layerNames(d);
    return r.device.layerBreakdown(names.length).map((b, i) => {
      const f = figures(b, hz);
      let seconds = 0;
      let energy = 0;
      for (const c of CATEGORIES) {
        seconds += f[c].seconds;
        energy += f[c].energy_mJ;
      }
      return { index: i, name: names[i]!.name, kind: names[i]!.kind, seconds, energy_mJ: energy, breakdown: f };
    });
  }

  baseline(model: string): { info: ModelInfo; wall_s: number } {
    const m = this.model(model);
    const { row, wall_s } = this.run(model, 'continuous', 1, CONTINUOUS);
    if (!row.completed) throw new JapariError(`${model}: the continuous engine did not complete under continuous power: ${row.reason}`);
    const plans: Record<string, string> = {};
    const notes: string[] = [];
    for (const e of this.spec.engines) {
      for (const b of this.spec.batches) {
        if (unsupportedBatch(e, b)) continue;
        try {
          const d = this.deployment(model, e, b);
          plans[`${e}/B${b}`] = planDigest(d.plan);
          if (e === 'japari') notes.push(...japariBlindSpots(d, b));
        } catch (err) {
          if (!(err instanceof ConfigError || err instanceof InputError)) throw err;
        }
      }
    }
    const info: ModelInfo = {
      name: model,
      description: m.description,
      source: m.net.source,
      quantized_sha256: quantizedDigest(m.q),
      plans,
      input_kind: m.input(this.spec.input).kind,
      notes,
      baseline: {
        latency_s: row.latency_s,
        energy_mJ: row.energy_mJ,
        compute_s: row.breakdown.compute.seconds,
        compute_mJ: row.breakdown.compute.energy_mJ,
        actions: row.actions,
      },
    };
    return { info, wall_s };
  }

  /**
   * The smallest capacitor with which (model, engine, B) completes an inference under the
   * spec's min-cap harvester. Completion need not be monotone in capacitance (where power fails
   * moves with the capacitor, and an engine may lose progress it cannot see), so the search
   * first probes a ladder of capacitors, takes the largest ladder value that fails, and bisects
   * (on log capacitance) between it and the next ladder value, which completes like every
   * larger one. Ladder values below the failure that do complete are reported as non-monotone.
   */
  minCapacitor(model: string, engine: EngineKind, batch: number): { result: MinCapResult; wall_s: number; sim_on_s: number; actions: number } {
    const mc = this.spec.minCap;
    if (!mc) throw new JapariError('no minimum-capacitor search in this sweep');
    const probes: MinCapProbe[] = [];
    let wall = 0;
    let simOn = 0;
    let actions = 0;
    const rows = new Map<number, BenchRow>();
    const probe = (farads: number): boolean => {
      const { row, wall_s } = this.run(model, engine, batch, withCapacitor(mc.condition, farads));
      wall += wall_s;
      simOn += row.on_time_s;
      actions += row.actions;
      probes.push({ capacitor_uF: row.capacitor_uF!, completed: row.completed, power_cycles: row.power_cycles, latency_s: row.latency_s, ...(row.reason !== undefined ? { reason: row.reason } : {}) });
      rows.set(farads, row);
      return row.completed;
    };
    const ladder = [...mc.ladderF].sort((a, b) => a - b);
    const ok = ladder.map(probe);
    const topFail = ok.lastIndexOf(false);
    let minF: number | null = null;
    let maxFail: number | null = null;
    if (topFail < 0) {
      minF = ladder[0]!;
    } else if (topFail === ladder.length - 1) {
      maxFail = ladder[topFail]!;
    } else {
      let lo = ladder[topFail]!;
      let hi = ladder[topFail + 1]!;
      while (hi / lo > 1 + mc.tolerance) {
        // Geometric midpoint, rounded to 3 significant digits in uF so reports read cleanly.
        const mid = roundSig(Math.sqrt(lo * hi) * 1e6, 3) / 1e6;
        if (!(mid > lo && mid < hi)) break;
        if (probe(mid)) hi = mid;
        else lo = mid;
      }
      minF = hi;
      maxFail = lo;
    }
    const below = ladder.filter((_, i) => ok[i] && topFail >= 0 && i < topFail).map((f) => roundSig(f * 1e6, 6));
    const at = minF !== null ? rows.get(minF) : undefined;
    return {
      result: {
        model,
        engine,
        batch,
        harvester: mc.condition.description.replace(/^[^,]*, /, ''),
        min_capacitor_uF: minF !== null ? roundSig(minF * 1e6, 6) : null,
        max_failing_uF: maxFail !== null ? roundSig(maxFail * 1e6, 6) : null,
        completes_below_uF: below,
        latency_s: at ? at.latency_s : null,
        probes,
      },
      wall_s: wall,
      sim_on_s: simOn,
      actions,
    };
  }

  exec(job: Job): JobResult {
    switch (job.kind) {
      case 'baseline': {
        const r = this.baseline(job.model);
        return { kind: 'baseline', id: job.id, ...r };
      }
      case 'run': {
        const r = this.run(job.model, job.engine, job.batch, this.spec.conditions[job.condition]!);
        return { kind: 'run', id: job.id, ...r };
      }
      case 'mincap': {
        const r = this.minCapacitor(job.model, job.engine, job.batch);
        return { kind: 'mincap', id: job.id, ...r };
      }
    }
  }
}

/**
 * Where JAPARI's progress seeker is blind, from the plan alone. The seeker probes job j's
 * footprint at stored word j (B + 1) + B of a layer's output (algorithms.md "Progress seeker").
 * In an FC layer that only holds when every LEA call writes whole B-groups with footprints and
 * every partial-sum slice is a multiple of B + 1 words; otherwise the probed words past the first
 * gap are values, progress there is invisible, and a reboot redoes the rest of the layer.
 */
export function japariBlindSpots(d: Deployment, batch: number): string[] {
  const out: string[] = [];
  for (const l of d.plan.layers) {
    if (l.kind !== 'gemm') continue;
    const without = l.calls.filter((c) => !c.fps).length;
    const sliceWords = l.out.words / Math.max(1, l.out.slices);
    if (without === l.calls.length) {
      out.push(`JAPARI B=${batch}: FC layer ${l.name} writes no footprint at all (${l.opFilters} outputs per LEA call < B = ${batch}): the seeker probes values, not footprints, so progress inside it is invisible after a reboot and in practice one charge must fund the whole layer.`);
    } else if (sliceWords % (batch + 1) !== 0 && l.out.slices > 1) {
      out.push(
        `JAPARI B=${batch}: FC layer ${l.name} stores ${l.out.slices} partial-sum slices of ${sliceWords} words (N = ${l.N}, a trailing group of ${l.N % batch} without footprint), not a multiple of B + 1 = ${batch + 1}: the seeker's footprint positions past the first slice fall on values, so progress there is invisible after a reboot.`,
      );
    } else if (without > 0) {
      out.push(`JAPARI B=${batch}: FC layer ${l.name}: ${without} of ${l.calls.length} LEA calls write no footprint (the trailing N mod B = ${l.N % batch} outputs).`);
    }
  }
  return out;
}

export function roundSig(x: number, digits: number): number {
  return x === 0 ? 0 : +x.toPrecision(digits);
}

// ---------------------------------------------------------------------------------------------
// Planning the job list

export interface SweepPlan {
  readonly models: readonly string[];
  readonly jobs: readonly Job[];
  readonly skipped: readonly Skip[];
  /** Wall seconds to load and quantize each model (the first load in this process; machine-dependent). */
  readonly loadSeconds: Readonly<Record<string, number>>;
}

/**
 * Which jobs to run: models that cannot be loaded (an absent shared model) and combinations an
 * engine does not support (B, or a plan that does not fit the device) are skipped with the reason.
 */
export function planSweep(spec: SweepSpec, exec: BenchExecutor = new BenchExecutor(spec)): SweepPlan {
  const skipped: Skip[] = [];
  const models: string[] = [];
  const jobs: Job[] = [];
  const loadSeconds: Record<string, number> = {};
  let id = 0;
  for (const model of spec.models) {
    try {
      const t0 = performance.now();
      exec.model(model);
      loadSeconds[model] = (performance.now() - t0) / 1e3;
    } catch (e) {
      if (!(e instanceof UsageError || e instanceof InputError || e instanceof ConfigError)) throw e;
      skipped.push({ model, engine: '*', batch: null, reason: e.message });
      continue;
    }
    models.push(model);
    jobs.push({ kind: 'baseline', id: id++, model });
    const combos: { engine: EngineKind; batch: number }[] = [];
    for (const engine of spec.engines) {
      for (const batch of spec.batches) {
        const why = unsupportedBatch(engine, batch);
        if (why) {
          // Say it once per engine and B, not once per model.
          if (!skipped.some((s) => s.engine === engine && s.batch === batch && s.reason === why)) skipped.push({ model: '*', engine, batch, reason: why });
          continue;
        }
        try {
          exec.deployment(model, engine, batch);
        } catch (e) {
          if (!(e instanceof ConfigError || e instanceof InputError)) throw e;
          skipped.push({ model, engine, batch, reason: e.message });
          continue;
        }
        combos.push({ engine, batch });
      }
    }
    for (const { engine, batch } of combos) {
      for (let c = 0; c < spec.conditions.length; c++) jobs.push({ kind: 'run', id: id++, model, engine, batch, condition: c });
    }
    if (spec.minCap) {
      for (const { engine, batch } of combos) {
        if (!spec.minCap.batches.includes(batch)) continue;
        jobs.push({ kind: 'mincap', id: id++, model, engine, batch });
      }
    }
  }
  return { models, jobs, skipped, loadSeconds };
}

