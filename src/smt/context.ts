/**
 * What every encoder works on: one deployment (model, engine, B, placement, fixes, LEA
 * arithmetic) with its EnginePlan, plus the user's ranges, and the way back from a
 * counterexample to a run of the executable model (RunSpec, replay token, replaySpec).
 */
import { loadModel, type LoadedModel } from '../model/models.js';
import { Deployment } from '../engines/runner.js';
import type { EngineKind, EnginePlan } from '../engines/reference/plan.js';
import type { NvmPlacement } from '../device/profile.js';
import { PROFILES } from '../device/profile.js';
import { type LeaArithmetic, TI_REFERENCE_ARITHMETIC } from '../device/lea.js';
import { type RunSpec, encodeToken } from '../properties/token.js';
import { replaySpec, deploymentOf } from '../properties/replay.js';
import type { Violation } from '../properties/properties.js';
import type { ReplayOutcome } from './obligation.js';
import { goldenRun, type GoldenRun } from './golden.js';
import { UsageError } from '../util/errors.js';

export interface ProveSpec {
  readonly model: string;
  readonly engine: EngineKind;
  readonly batch: number;
  readonly placement?: NvmPlacement;
  readonly profile?: string;
  /** Firmware build (firmware.ts); absent: the library default. */
  readonly firmware?: string;
  readonly fixes?: readonly string[];
  /** Seeded faults (engine/faults.ts): the proofs must refute a faulty engine. */
  readonly faults?: readonly string[];
  readonly arithmetic?: LeaArithmetic;
  /** Prove for at most this many jobs per layer (and binary search for every job count up to it). */
  readonly maxJobs?: number;
  /** Tile sizes of the plan (EngineParams): FC outputs per LEA call, conv output rows per tile. */
  readonly opFilters?: number;
  readonly maxRowTile?: number;
  /** Augmentation transparency with symbolic weights: 'auto' = on layers with at most 64 weights. */
  readonly weights?: 'concrete' | 'symbolic' | 'auto';
}

export interface ProveContext {
  readonly spec: Required<Omit<ProveSpec, 'maxJobs' | 'opFilters' | 'maxRowTile' | 'firmware'>> & { readonly firmware?: string; readonly maxJobs?: number; readonly opFilters?: number; readonly maxRowTile?: number };
  readonly model: LoadedModel;
  readonly deployment: Deployment;
  readonly plan: EnginePlan;
  /** Whether replays run the same deployment (RunSpec carries no arithmetic option). */
  readonly replayable: boolean;
  /** A golden run of the checked inference after `warmups` uninterrupted inferences. */
  golden(warmups: number): GoldenRun;
  /** The RunSpec of a run with `warmups` warm-up inferences and a failure schedule. */
  runSpec(warmups: number, schedule: readonly number[], input?: number): RunSpec;
  /** Replay a spec; reproduced when `expect` accepts one of its violations. */
  replay(spec: RunSpec, expect: (v: Violation) => boolean, what: string): ReplayOutcome;
  /** Replay a spec; reproduced when a seek after a reboot at `layer` recovers a job `expect` accepts. */
  replayRecovery(spec: RunSpec, layer: number, expect: (job: number) => boolean, what: string, anyBoot?: boolean, needsWrongOutput?: boolean): ReplayOutcome;
}

/** Inputs: the checked inference uses input 0; warm-up k uses input k + 1. */
export function proveContext(spec: ProveSpec): ProveContext {
  const full = {
    model: spec.model,
    engine: spec.engine,
    batch: spec.batch,
    placement: spec.placement ?? 'spi-fram',
    profile: spec.profile ?? 'inas2021',
    ...(spec.firmware !== undefined ? { firmware: spec.firmware } : {}),
    fixes: [...(spec.fixes ?? [])].sort(),
    faults: [...(spec.faults ?? [])].sort(),
    arithmetic: spec.arithmetic ?? TI_REFERENCE_ARITHMETIC,
    weights: spec.weights ?? 'auto',
    ...(spec.maxJobs !== undefined ? { maxJobs: spec.maxJobs } : {}),
    ...(spec.opFilters !== undefined ? { opFilters: spec.opFilters } : {}),
    ...(spec.maxRowTile !== undefined ? { maxRowTile: spec.maxRowTile } : {}),
  };
  if (!(full.profile in PROFILES)) throw new UsageError(`unknown device profile ${full.profile}`);
  const model = loadModel(full.model);
  const deployment = new Deployment(model.q, {
    engine: full.engine,
    batch: full.batch,
    placement: full.placement,
    profile: PROFILES[full.profile]!,
    ...(full.firmware !== undefined ? { firmware: full.firmware } : {}),
    fixes: full.fixes,
    faults: full.faults,
    arithmetic: full.arithmetic,
    ...(full.opFilters !== undefined ? { opFilters: full.opFilters } : {}),
    ...(full.maxRowTile !== undefined ? { maxRowTile: full.maxRowTile } : {}),
  });
  // Replay tokens describe the default arithmetic and tiles only.
  const defaultArith = JSON.stringify(full.arithmetic) === JSON.stringify(TI_REFERENCE_ARITHMETIC) && full.opFilters === undefined && full.maxRowTile === undefined;
  const inputs = (k: number) => model.inputQ(k);
  const ctx: ProveContext = {
    spec: full,
    model,
    deployment,
    plan: deployment.plan,
    replayable: defaultArith,
    golden: (warmups) =>
      goldenRun(
        deployment,
        inputs(0),
        Array.from({ length: warmups }, (_, k) => inputs(k + 1)),
      ),
    runSpec: (warmups, schedule, input = 0) => ({
      model: full.model,
      engine: full.engine,
      batch: full.batch,
      placement: full.placement,
      profile: full.profile,
      ...(full.firmware !== undefined ? { firmware: full.firmware } : {}),
      faults: full.faults,
      fixes: full.fixes,
      input,
      warmup: Array.from({ length: warmups }, (_, k) => input + k + 1),
      seed: 0,
      garbage: { kind: 'random' },
      schedule: [...schedule],
    }),
    replayRecovery: (rs, layer, expect, what, anyBoot, needsWrongOutput) => recoveryReplay(defaultArith, rs, layer, expect, what, anyBoot, needsWrongOutput),
    replay: (rs, expect, what) => {
      const token = encodeToken(rs);
      if (!defaultArith) return { token, reproduced: false, violation: 'not replayed: replay tokens carry no LEA arithmetic or tile option (the deployment uses a non-default one)' };
      // The replay must run the very deployment the proof spoke about.
      void deploymentOf(rs);
      const run = replaySpec(rs);
      const hit = run.violations.find(expect);
      if (hit) return { token, reproduced: true, violation: `${hit.property}: ${hit.message}` };
      const first = run.violations[0];
      return {
        token,
        reproduced: false,
        violation: first ? `expected ${what}; the model reported ${first.property}: ${first.message}` : `expected ${what}; the model reported no violation`,
      };
    },
  };
  return ctx;
}

function recoveryReplay(defaultArith: boolean, rs: RunSpec, layer: number, expect: (job: number) => boolean, what: string, anyBoot = false, needsWrongOutput = false): ReplayOutcome {
  const token = encodeToken(rs);
  if (!defaultArith) return { token, reproduced: false, violation: 'not replayed: replay tokens carry no LEA arithmetic option' };
  const run = replaySpec(rs);
  const seek = run.seeks.find((k) => (anyBoot || k.boot > 1) && k.layer === layer);
  const first = run.violations[0];
  const also = first ? `; ${first.property}: ${first.message}` : '';
  const wrong = run.violations.some((v) => v.property === 'equivalence');
  // "Reproduced" means what `japari replay` of the token reports: a violation (exit 1), not
  // only the predicted recovery -- a recovery the model judges harmless replays as a pass.
  if (seek && expect(seek.recoveredJob) && (!needsWrongOutput || wrong) && first) return { token, reproduced: true, violation: `recovery at layer ${layer} concluded job ${seek.recoveredJob} (${what})${also}` };
  const seen = seek ? `job ${seek.recoveredJob}` : 'nothing';
  return { token, reproduced: false, violation: `expected ${what}; the model recovered ${seen} at layer ${layer}${first ? also : ', and the replay reports no violation (japari replay passes)'}` };
}
