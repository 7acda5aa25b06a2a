/**
 * Verification power: run every seeded fault (engine/faults.ts) against fuzzing, linear
 * exploration and the proofs, and record per fault and technique whether it was killed, the
 * effort and time to the first detection, and the size of the shrunk counterexample.
 *
 * Each fault is a small variant of a correct engine: the engine with every fix switched on
 * (reports/findings/), so that a kill is the fault's doing, not a published finding's.
 * A fault no technique kills is either argued equivalent (EQUIVALENT below, with the reason)
 * or a hole in japari.
 */
import { FAULTS, fixesFor, type FaultSpec } from '../engines/catalogue.js';
import { verificationBuild } from '../engines/designs.js';
import { fuzz } from './fuzz.js';
import { replaySpec } from './replay.js';
import { runCampaign } from './campaign.js';
import { encodeToken, type RunSpec } from './token.js';

export type Technique = 'fuzz' | 'explore' | 'prove';
export const TECHNIQUES: readonly Technique[] = ['fuzz', 'explore', 'prove'];

export interface TechniqueOutcome {
  readonly technique: Technique;
  readonly killed: boolean;
  /** Wall-clock seconds to the first detection (or of the whole budget when not killed). */
  readonly seconds: number;
  /** Deterministic effort to the first detection: schedules (fuzz), failure points (explore), obligations (prove). */
  readonly effort: number;
  readonly budget: string;
  readonly property?: string;
  /** Failures in the shrunk schedule and device events in its trace. */
  readonly failures?: number;
  readonly events?: number;
  readonly replay?: string;
  readonly detail?: string;
}

export interface MutantRow {
  readonly fault: string;
  readonly engine: string;
  readonly area: string;
  readonly description: string;
  readonly outcomes: readonly TechniqueOutcome[];
  readonly killed: boolean;
  /** Why the fault cannot change outputs or progress, when no technique kills it. */
  readonly equivalent?: string;
}

/**
 * Faults argued equivalent on the layouts japari's engines produce (each must still be attacked
 * by every technique; the argument is reported when none kills it).
 */
export const EQUIVALENT: Readonly<Record<string, string>> = {
  'japari-seek-trusts-sign':
    "On the corrected engine every tensor of a slot keeps one B+1 footprint grid (fix japari-pad-vector-groups), so the word at a footprint position holds a footprint (+1 = 0x0001, -1 = 0xffff), never-written 0 (only where the marker is -1: beyond every earlier tensor the slot's psb is +1), or a torn mix that keeps the old high byte; none shares the marker's high byte without equalling it or completing the job. Comparing the sign byte alone decides like the full comparison: Z3 proves every obligation with this seeker (the prove column). On a published layout, with FC data under later footprints, the fault is live (test/properties/equivalent.test.ts).",
};

/** Proofs are registered by src/smt (kept out of this module: no z3-solver import here). */
export type ProveTechnique = (spec: Omit<RunSpec, 'schedule'>) => Promise<TechniqueOutcome>;
let proveTechnique: ProveTechnique | null = null;
export function registerProveTechnique(p: ProveTechnique): void {
  proveTechnique = p;
}

export interface MutantsOptions {
  /** CI subset: smaller budgets and models. */
  readonly quick: boolean;
  readonly faults?: readonly string[];
  readonly techniques?: readonly Technique[];
  readonly seed?: number;
  readonly onRow?: (row: MutantRow) => void;
}

/**
 * The run a fault is explored on: the default model after a warm-up inference (stale state of the
 * previous inference in NVM), B = 2 for the CI subset, B = 1 (the most write units) otherwise --
 * or the fault's own network and B (catalogue.ts FaultSpec.killOn) when its engine's published
 * form fails on the default model.
 */
function exploreModel(f: FaultSpec, quick: boolean): { model: string; batch: number; warmup: number[] } {
  if (f.killOn) return { model: f.killOn.model, batch: quick ? f.killOn.quickBatch : f.killOn.batch, warmup: [2] };
  return { model: 'lenet', batch: quick ? 2 : 1, warmup: [2] };
}

/** The network the proofs run a fault on (B = 2): the fault's own (killOn), else tiny-concat for the CI subset, lenet otherwise. */
function proveModel(f: FaultSpec, quick: boolean): string {
  return f.killOn ? f.killOn.model : quick ? 'tiny-concat' : 'lenet';
}

/**
 * Fuzzing: a campaign on random networks (odd channel counts, concat, FC and conv stacks, extreme
 * inputs), then, if the fault survived, one on tiny-concat (several layers share slots, so faults
 * whose effect needs two failures in different layers get a chance).
 */
async function viaFuzz(f: FaultSpec, o: MutantsOptions): Promise<TechniqueOutcome> {
  const runs = o.quick ? 150 : 500;
  const tinyRuns = 4 * runs;
  const budget = `${runs} schedules on random networks, then ${tinyRuns} on tiny-concat`;
  const t0 = performance.now();
  let effort = 0;
  for (const model of ['random', 'tiny-concat']) {
    // Fast-check's independent draws, as the committed matrix was measured: coverage guidance is
    // compared with them fault by fault in reports/mutants/coverage.md (japari mutants --fuzz-ratio).
    const r = fuzz({ model, engine: f.engine, batch: model === 'random' ? 1 : 2, placement: 'spi-fram', profile: 'inas2021', firmware: verificationBuild(f.engine, model), faults: [f.id], fixes: fixesFor(f.engine), seed: o.seed ?? 20261128, runs: model === 'random' ? runs : tinyRuns, strategy: 'random' });
    effort += r.runs;
    const ce = r.counterexample;
    if (!ce) continue;
    const events = replaySpec(ce.spec, true).result.trace?.length ?? 0;
    return {
      technique: 'fuzz',
      killed: true,
      seconds: (performance.now() - t0) / 1000,
      effort,
      budget,
      property: ce.property,
      failures: ce.spec.schedule.length,
      events,
      replay: ce.token,
    };
  }
  return { technique: 'fuzz', killed: false, seconds: (performance.now() - t0) / 1000, effort, budget };
}

/**
 * Exploration: every write unit of the default model, then, if the fault survived, of a small
 * random network whose FC partial sums (two input tiles, 7 outputs at B = 4: trailing partial
 * groups) share NVM slots with feature maps -- the configuration where footprint grids of
 * successive tensors do not line up.
 */
const EXPLORE_EXTRA = { model: 'rnd:3x7x7:c6k3s1p1/r/c5k1s1p0/r/g7:5', batch: 4 };
/** Then the built-in network with every plan feature (slices, filter tiles, merges, saturating partial sums, concat, FC tail) at B = op_filters. */
const EXPLORE_FEATURES = { model: 'tiny-features', batch: 4 };

async function viaExplore(f: FaultSpec, o: MutantsOptions): Promise<TechniqueOutcome> {
  const first = exploreModel(f, o.quick);
  const t0 = performance.now();
  let effort = 0;
  const budget = `every write unit of ${first.model} B=${first.batch}, then of ${EXPLORE_EXTRA.model} B=${EXPLORE_EXTRA.batch}, then of ${EXPLORE_FEATURES.model} B=${EXPLORE_FEATURES.batch}`;
  for (const { model, batch } of [first, EXPLORE_EXTRA, EXPLORE_FEATURES]) {
    const run = { model, engine: f.engine, batch, placement: 'spi-fram' as const, profile: 'inas2021', firmware: verificationBuild(f.engine, model), faults: [f.id], fixes: fixesFor(f.engine), input: 1, warmup: [2], seed: 3, garbage: { kind: 'random' as const } };
    // A network the corrected design itself fails on without any failure would "kill" every fault
    // of it (tiny-features' saturated values and Stateful's value encoding): skip it for this design.
    if (model === EXPLORE_FEATURES.model && replaySpec({ ...run, faults: [], schedule: [] }).violations.length > 0) continue;
    const r = await runCampaign({ run, mode: 'linear', prune: true, shard: { index: 0, count: 1 }, stopAtFirst: true }, 1);
    const fail = r.failures[0];
    if (!fail && r.golden.length === 0) {
      effort += r.stats.points;
      continue;
    }
    effort += fail ? r.stats.points : 0;
    const spec: RunSpec = { ...run, schedule: fail ? fail.schedule : [] };
    const events = replaySpec(spec, true).result.trace?.length ?? 0;
    return {
      technique: 'explore',
      killed: true,
      seconds: (performance.now() - t0) / 1000,
      effort,
      budget,
      property: (fail ? fail.violations[0]! : r.golden[0]!).property,
      failures: spec.schedule.length,
      events,
      replay: encodeToken(spec),
      ...(fail ? {} : { detail: 'fails without any power failure' }),
    };
  }
  return { technique: 'explore', killed: false, seconds: (performance.now() - t0) / 1000, effort, budget };
}

export async function runMutants(o: MutantsOptions): Promise<MutantRow[]> {
  const techniques = o.techniques ?? TECHNIQUES;
  const rows: MutantRow[] = [];
  for (const f of FAULTS as readonly FaultSpec[]) {
    if (o.faults && !o.faults.includes(f.id)) continue;
    const outcomes: TechniqueOutcome[] = [];
    if (techniques.includes('fuzz')) outcomes.push(await viaFuzz(f, o));
    if (techniques.includes('explore')) outcomes.push(await viaExplore(f, o));
    if (techniques.includes('prove') && proveTechnique) {
      const model = proveModel(f, o.quick);
      outcomes.push(await proveTechnique({ model, engine: f.engine, batch: 2, placement: 'spi-fram', profile: 'inas2021', firmware: verificationBuild(f.engine, model), faults: [f.id], fixes: fixesFor(f.engine), input: 1, warmup: [2], seed: 3, garbage: { kind: 'random' } }));
    }
    const killed = outcomes.some((x) => x.killed);
    const row: MutantRow = {
      fault: f.id,
      engine: f.engine,
      area: f.area,
      description: f.description,
      outcomes,
      killed,
      ...(!killed && EQUIVALENT[f.id] ? { equivalent: EQUIVALENT[f.id] } : {}),
    };
    rows.push(row);
    o.onRow?.(row);
  }
  return rows;
}

export interface KillSummary {
  readonly faults: number;
  readonly killed: number;
  readonly equivalent: number;
  readonly survivors: readonly string[];
  readonly perTechnique: Readonly<Record<string, { readonly killed: number; readonly of: number; readonly medianSeconds: number; readonly medianFailures: number; readonly medianEvents: number }>>;
}

function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function summarize(rows: readonly MutantRow[]): KillSummary {
  const per: Record<string, { killed: number; of: number; medianSeconds: number; medianFailures: number; medianEvents: number }> = {};
  for (const t of TECHNIQUES) {
    const outs = rows.flatMap((r) => r.outcomes.filter((x) => x.technique === t));
    if (outs.length === 0) continue;
    const k = outs.filter((x) => x.killed);
    per[t] = {
      killed: k.length,
      of: outs.length,
      medianSeconds: median(k.map((x) => x.seconds)),
      medianFailures: median(k.map((x) => x.failures ?? 0)),
      medianEvents: median(k.map((x) => x.events ?? 0)),
    };
  }
  return {
    faults: rows.length,
    killed: rows.filter((r) => r.killed).length,
    equivalent: rows.filter((r) => !r.killed && r.equivalent).length,
    survivors: rows.filter((r) => !r.killed && !r.equivalent).map((r) => r.fault),
    perTechnique: per,
  };
}
