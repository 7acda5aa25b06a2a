/**
 * Figures derived from the sweep's rows (pure functions of the rows, so as deterministic):
 *  - speedup of each engine over HAWAII per (model, B, condition);
 *  - the best B per (model, engine, condition);
 *  - each run's latency over a lower bound for its (model, condition);
 *  - cross-checks of the minimum-capacitor search against the sweep's own runs.
 */
import type { EngineKind } from '../engines/reference/plan.js';
import type { BenchRow, MinCapResult, ModelInfo } from './sweep.js';
import { type Condition, secondsToHarvest } from './conditions.js';
import { usableEnergy } from '../device/energy.js';

export type SpeedupStatus = 'both-complete' | 'engine-failed' | 'hawaii-failed' | 'both-failed';

export interface Speedup {
  readonly model: string;
  readonly batch: number;
  readonly condition: string;
  readonly engine: EngineKind;
  /** HAWAII latency / engine latency (> 1: the engine is faster); null unless both completed. */
  readonly speedup: number | null;
  readonly status: SpeedupStatus;
  readonly hawaii_latency_s: number | null;
  readonly latency_s: number | null;
}

const key = (...xs: (string | number)[]): string => xs.join('|');

function index(rows: readonly BenchRow[]): Map<string, BenchRow> {
  const m = new Map<string, BenchRow>();
  for (const r of rows) m.set(key(r.model, r.engine, r.batch, r.condition), r);
  return m;
}

/** A run counts when it completed with the reference output (a wrong output is not a result). */
export function usable(r: BenchRow | undefined): r is BenchRow {
  return r !== undefined && r.completed && r.equal;
}

/**
 * Speedup over HAWAII for every engine other than HAWAII, per (model, B, condition) where HAWAII
 * ran. The continuous engine (no preservation; B does not apply) is compared with its B = 1 run
 * at every B: it is the cost of computing without preserving anything.
 */
export function speedups(rows: readonly BenchRow[]): Speedup[] {
  const ix = index(rows);
  const out: Speedup[] = [];
  for (const h of rows) {
    if (h.engine !== 'hawaii') continue;
    const engines = [...new Set(rows.filter((r) => r.model === h.model && r.engine !== 'hawaii').map((r) => r.engine))];
    for (const engine of engines) {
      const r = ix.get(key(h.model, engine, engine === 'continuous' ? 1 : h.batch, h.condition));
      if (!r) continue;
      const hOk = usable(h);
      const eOk = usable(r);
      out.push({
        model: h.model,
        batch: h.batch,
        condition: h.condition,
        engine,
        speedup: hOk && eOk ? h.latency_s / r.latency_s : null,
        status: hOk && eOk ? 'both-complete' : hOk ? 'engine-failed' : eOk ? 'hawaii-failed' : 'both-failed',
        hawaii_latency_s: hOk ? h.latency_s : null,
        latency_s: eOk ? r.latency_s : null,
      });
    }
  }
  return out;
}

export interface BestBatch {
  readonly model: string;
  readonly engine: EngineKind;
  readonly condition: string;
  /** null: no B completed. */
  readonly batch: number | null;
  readonly latency_s: number | null;
  /** Latency at every B tried (null: did not complete). */
  readonly by_batch: Record<string, number | null>;
}

/** The B with the lowest latency per (model, engine, condition); ties go to the smaller B. */
export function bestBatches(rows: readonly BenchRow[]): BestBatch[] {
  const groups = new Map<string, BenchRow[]>();
  for (const r of rows) {
    if (r.engine === 'continuous') continue;
    const k = key(r.model, r.engine, r.condition);
    const g = groups.get(k);
    if (g) g.push(r);
    else groups.set(k, [r]);
  }
  const out: BestBatch[] = [];
  for (const g of groups.values()) {
    let best: BenchRow | null = null;
    const by: Record<string, number | null> = {};
    for (const r of [...g].sort((a, b) => a.batch - b.batch)) {
      by[String(r.batch)] = usable(r) ? r.latency_s : null;
      if (usable(r) && (!best || r.latency_s < best.latency_s)) best = r;
    }
    const f = g[0]!;
    out.push({ model: f.model, engine: f.engine, condition: f.condition, batch: best ? best.batch : null, latency_s: best ? best.latency_s : null, by_batch: by });
  }
  return out;
}

export interface LowerBound {
  readonly model: string;
  readonly condition: string;
  readonly lower_bound_s: number;
  /** Which term binds: the compute time, or the time to harvest the compute energy. */
  readonly basis: 'compute time' | 'harvest';
}

/**
 * A lower bound on any engine's latency for (model, condition): the compute-only work of the
 * model (the continuous engine's 'compute' category under continuous power: LEA and CPU
 * arithmetic, no data movement, no preservation) must run, taking at least its cycles, and
 * its energy must come from the capacitor's initial usable charge 1/2 C (Von^2 - Voff^2) plus
 * what the harvester delivers (at most its peak power; traces integrated from t = 0).
 */
export function lowerBound(info: ModelInfo, cond: Condition): LowerBound {
  const tCompute = info.baseline.compute_s;
  if (cond.supply === 'continuous' || !cond.capacitor) return { model: info.name, condition: cond.id, lower_bound_s: tCompute, basis: 'compute time' };
  const need = info.baseline.compute_mJ / 1e3 - usableEnergy(cond.capacitor);
  const tHarvest = secondsToHarvest(cond, need);
  return tHarvest > tCompute
    ? { model: info.name, condition: cond.id, lower_bound_s: tHarvest, basis: 'harvest' }
    : { model: info.name, condition: cond.id, lower_bound_s: tCompute, basis: 'compute time' };
}

export interface BoundRatio {
  readonly model: string;
  readonly engine: EngineKind;
  readonly batch: number;
  readonly condition: string;
  /** Latency / lower bound (>= 1); null when the run did not complete. */
  readonly ratio: number | null;
}

export function boundRatios(rows: readonly BenchRow[], bounds: readonly LowerBound[]): BoundRatio[] {
  const lb = new Map(bounds.map((b) => [key(b.model, b.condition), b.lower_bound_s]));
  return rows.map((r) => {
    const b = lb.get(key(r.model, r.condition));
    return { model: r.model, engine: r.engine, batch: r.batch, condition: r.condition, ratio: usable(r) && b !== undefined && b > 0 ? r.latency_s / b : null };
  });
}

export interface MinCapCheck {
  readonly model: string;
  readonly engine: EngineKind;
  readonly batch: number;
  /** Sweep runs under the same harvester at or above the minimum that did not complete. */
  readonly above_min_failed: readonly string[];
  /** Capacitors below the minimum (sweep runs and ladder probes) that completed all the same. */
  readonly below_min_completed: readonly string[];
}

/**
 * Completion need not be monotone in capacitance. Cross-check the search with the sweep's own
 * runs under the same harvester: runs at or above the minimum that fail (the minimum holds
 * only on the ladder and the bisection), and capacitors below it that complete anyway.
 */
export function checkMinCaps(results: readonly MinCapResult[], rows: readonly BenchRow[], harvesterSupply: string, supplyKind: string): MinCapCheck[] {
  return results.map((m) => {
    const above: string[] = [];
    const below = new Set<string>(m.completes_below_uF.map((c) => `${c} uF`));
    for (const r of rows) {
      if (r.model !== m.model || r.engine !== m.engine || r.batch !== m.batch || r.supply !== supplyKind || r.capacitor_uF === null) continue;
      if (!r.supply_desc.endsWith(harvesterSupply)) continue;
      if (m.min_capacitor_uF !== null && r.capacitor_uF >= m.min_capacitor_uF && !r.completed) above.push(`${r.capacitor_uF} uF`);
      if (m.max_failing_uF !== null && r.capacitor_uF <= m.max_failing_uF && r.completed) below.add(`${r.capacitor_uF} uF`);
    }
    const num = (s: string) => parseFloat(s);
    return { model: m.model, engine: m.engine, batch: m.batch, above_min_failed: above, below_min_completed: [...below].sort((a, b) => num(a) - num(b)) };
  });
}
