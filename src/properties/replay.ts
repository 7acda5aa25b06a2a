/**
 * Scenarios by spec: the deployment a replay token's RunSpec describes, and the replay of a spec
 * with every property monitored. Fuzzing, exploration campaigns, the proofs' refutations, the
 * findings and the CLI all replay through here (no module needs the fuzzer to replay).
 */
import { loadModel } from '../model/models.js';
import { Deployment } from '../engines/runner.js';
import { PROFILES } from '../device/profile.js';
import { checkScenario, type CheckedRun } from './properties.js';
import { paramsOf, type RunSpec } from './token.js';
import { UsageError } from '../util/errors.js';

const deployments = new Map<string, Deployment>();

/** The deployment a run spec describes (cached). */
export function deploymentOf(s: Pick<RunSpec, 'model' | 'engine' | 'batch' | 'placement' | 'profile' | 'faults' | 'fixes' | 'firmware'>): Deployment {
  const key = JSON.stringify([s.model, s.engine, s.batch, s.placement, s.profile, s.faults, s.fixes, s.firmware ?? null]);
  let d = deployments.get(key);
  if (!d) {
    if (!(s.profile in PROFILES)) throw new UsageError(`unknown device profile ${s.profile} (known: ${Object.keys(PROFILES).join(', ')})`);
    d = new Deployment(loadModel(s.model).q, paramsOf({ ...s, input: 0, warmup: [], seed: 0, garbage: { kind: 'random' }, schedule: [] }));
    if (deployments.size > 64) deployments.clear();
    deployments.set(key, d);
  }
  return d;
}

/** Replay a spec with every property monitored. */
export function replaySpec(s: RunSpec, trace = false): CheckedRun {
  const d = deploymentOf(s);
  const m = loadModel(s.model);
  return checkScenario(d, {
    input: m.inputQ(s.input),
    warmup: s.warmup.map((w) => m.inputQ(w)),
    failAt: s.schedule,
    seed: s.seed,
    garbage: s.garbage,
    trace,
  });
}
