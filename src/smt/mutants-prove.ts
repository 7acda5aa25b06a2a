/**
 * The proofs as a technique of the kill matrix (src/properties/mutants.ts): a seeded fault is
 * killed when an obligation is refuted on the faulted deployment. Registered on import, so the
 * properties module never imports z3-solver.
 */
import { registerProveTechnique, type TechniqueOutcome } from '../properties/mutants.js';
import { prove } from './prove.js';
import { replaySpec } from '../properties/replay.js';
import { decodeToken } from '../properties/token.js';

registerProveTechnique(async (spec): Promise<TechniqueOutcome> => {
  const t0 = performance.now();
  const report = await prove({
    model: spec.model,
    engine: spec.engine,
    batch: spec.batch,
    placement: spec.placement,
    profile: spec.profile,
    ...(spec.firmware !== undefined ? { firmware: spec.firmware } : {}),
    faults: spec.faults,
    fixes: spec.fixes,
    timeoutMs: 30_000,
  });
  const seconds = (performance.now() - t0) / 1000;
  const budget = `every obligation on ${spec.model} B=${spec.batch}${spec.firmware !== undefined ? ` (${spec.firmware})` : ''} (30 s each)`;
  const i = report.obligations.findIndex((o) => o.verdict === 'refuted');
  if (i < 0) return { technique: 'prove', killed: false, seconds, effort: report.obligations.length, budget };
  const o = report.obligations[i]!;
  const replay = o.replay && 'token' in o.replay ? o.replay : undefined;
  const events = replay ? (replaySpec(decodeToken(replay.token), true).result.trace?.length ?? 0) : undefined;
  return {
    technique: 'prove',
    killed: true,
    seconds,
    effort: i + 1,
    budget,
    property: o.id,
    ...(replay ? { replay: replay.token, failures: decodeToken(replay.token).schedule.length, events: events! } : {}),
    detail: `${o.id} refuted at ${o.layer}${o.goal ? ` (${o.goal})` : ''}${replay ? (replay.reproduced ? '; replays on the model' : '; does not replay') : ''}`,
  };
});
