/**
 * The verification sections of `japari check` on the default model: exhaustive single-failure
 * exploration, a small fuzzing campaign, and the published-design findings replayed (each must
 * still fail as recorded on the published engine and pass with its fix).
 */
import type { CheckSection, CheckResult } from './check-section.js';
import { explore } from '../properties/explore.js';
import { fuzz } from '../properties/fuzz.js';
import { deploymentOf } from '../properties/replay.js';
import { FINDINGS, FindingLost, evaluateFinding, findingAvailable, type FindingOutcome } from '../report/findings.js';
import { encodeToken } from '../properties/token.js';
import { BUILTIN_DESIGNS } from '../engines/designs.js';
import { FINDINGS as CATALOGUE_FINDINGS, type FindingSpec } from '../engines/catalogue.js';
import { loadModel } from '../model/models.js';

/** The built-in network that exercises every plan feature, and its B (= op_filters). */
export const FEATURES_MODEL = 'tiny-features';
export const FEATURES_BATCH = 4;

/**
 * Exploration: every write unit of one inference of the default model (HAWAII and JAPARI, B = 1),
 * and of tiny-features for every design that preserves progress, each after one and after two
 * warm-ups (both parities), with the inference after each interrupted one checked.
 */
export const exploreSection: CheckSection = {
  id: 'explore',
  title: 'one power failure at every NVM write unit, both parities (after one and after two warm-up inferences), and the inference after each interrupted one',
  run(ctx) {
    const out: CheckResult[] = [];
    for (const engine of ['hawaii', 'japari'] as const) {
      const run = { model: ctx.modelName, engine, batch: 1, placement: ctx.placement, profile: ctx.profileName, firmware: ctx.firmware, faults: [], fixes: [], input: 1, warmup: [2], seed: 3, garbage: { kind: 'random' as const } };
      const r = explore(deploymentOf(run), { input: ctx.model.inputQ(1), warmup: [ctx.model.inputQ(2)], seed: 3, mode: 'linear', parities: 2 });
      const f = r.failures[0];
      out.push({
        name: `${engine} B=1`,
        status: r.verdict,
        detail:
          r.verdict === 'pass'
            ? `held at all ${r.stats.points} failure points (${r.stats.converged} recoveries converged)`
            : `${r.failures.length} failing point(s); first: ${f ? `${f.violations[0]!.property}, replay ${encodeToken({ ...run, ...(f.phase === 1 ? { warmup: [2, 2] } : {}), schedule: f.schedule })}` : r.golden[0]?.message}`,
        data: { points: r.stats.points, failing_points: r.failures.length, converged: r.stats.converged },
      });
    }
    // Every design that preserves progress, on the built-in network that exercises every plan
    // feature (input slices and filter tiles with merges, saturating partial sums, a concat, an
    // FC tail), at B = op_filters (4).
    for (const design of BUILTIN_DESIGNS) {
      if (!design.preserves) continue;
      const batch = design.batches && !design.batches.includes(FEATURES_BATCH) ? Math.max(...design.batches.filter((b) => b <= FEATURES_BATCH)) : FEATURES_BATCH;
      const model = loadModel(FEATURES_MODEL);
      const run = { model: FEATURES_MODEL, engine: design.kind, batch, placement: ctx.placement, profile: ctx.profileName, firmware: ctx.firmware, faults: [], fixes: [], input: 1, warmup: [2], seed: 3, garbage: { kind: 'random' as const } };
      const r = explore(deploymentOf(run), { input: model.inputQ(1), warmup: [model.inputQ(2)], seed: 3, mode: 'linear', parities: 2 });
      const f = r.failures[0];
      // A design the catalogue says breaks on this model without any power failure (a known
      // finding) is n/a there, and only when its uninterrupted run does fail; any other failure
      // of the uninterrupted run fails the check.
      const known = (CATALOGUE_FINDINGS as readonly FindingSpec[]).find((k) => k.engine === design.kind && (k.provenance.reach.models ?? []).includes(FEATURES_MODEL));
      if (r.golden.length > 0 && known) {
        const g = r.golden[0]!;
        out.push({
          name: `${design.kind} B=${batch} on ${FEATURES_MODEL}`,
          status: 'n/a',
          detail: `known finding ${known.id} (${known.provenance.status}): its uninterrupted inference already violates ${g.property} on ${FEATURES_MODEL} (${g.message}); ${r.failures.length} of ${r.stats.points} failure points fail; replay ${encodeToken({ ...run, ...(g.phase === 1 ? { warmup: [2, 2] } : {}), schedule: [] })}`,
          data: { points: r.stats.points, failing_points: r.failures.length, golden_violations: r.golden.length, known_finding: known.id },
        });
        continue;
      }
      out.push({
        name: `${design.kind} B=${batch} on ${FEATURES_MODEL}`,
        status: r.verdict,
        detail:
          r.verdict === 'pass'
            ? `held at all ${r.stats.points} failure points of both parities (${r.stats.tornPoints} tore a write)`
            : `${r.failures.length} failing point(s); first: ${f ? `${f.violations[0]!.property}, replay ${encodeToken({ ...run, ...(f.phase === 1 ? { warmup: [2, 2] } : {}), schedule: f.schedule })}` : r.golden[0]?.message}`,
        data: { points: r.stats.points, failing_points: r.failures.length, converged: r.stats.converged },
      });
    }
    return out;
  },
};

/** A small coverage-guided fuzzing campaign (fixed seed) on the default model. */
export const fuzzSection: CheckSection = {
  id: 'fuzz',
  title: 'coverage-guided power-failure schedules (seed 20261128)',
  run(ctx) {
    const out: CheckResult[] = [];
    for (const engine of ['hawaii', 'japari'] as const) {
      const r = fuzz({ model: ctx.modelName, engine, batch: 2, placement: ctx.placement, profile: ctx.profileName, firmware: ctx.firmware, faults: [], fixes: [], seed: 20261128, runs: 40 });
      out.push({
        name: `${engine} B=2`,
        status: r.verdict,
        detail: r.counterexample ? `${r.counterexample.property}: replay ${r.counterexample.token}` : `held for ${r.runs} schedules (${r.coverage.tuples} coverage tuples)`,
        data: { runs: r.runs, seed: r.seed, strategy: r.strategy, coverage_tuples: r.coverage.tuples },
      });
    }
    return out;
  },
};

/**
 * The recorded findings still reproduce on the published designs, and the fixes hold. Each is
 * rediscovered by its deterministic search (findings.ts); one no longer found fails, named.
 */
export const findingsSection: CheckSection = {
  id: 'findings',
  title: 'published-design findings (reports/findings/) reproduce; corrected variants pass',
  run() {
    const out: CheckResult[] = [];
    for (const f of FINDINGS) {
      if (!findingAvailable(f) || f.engine === 'japari-loopcount') continue;
      let o: FindingOutcome;
      try {
        o = evaluateFinding(f);
      } catch (e) {
        if (!(e instanceof FindingLost)) throw e;
        out.push({ name: f.id, status: 'fail', detail: e.message, data: { lost: true } });
        continue;
      }
      const ok = o.properties.length > 0 && (f.fix === undefined || o.fixedPasses === true);
      out.push({
        name: f.id,
        status: ok ? 'pass' : 'fail',
        detail: `published design violates ${o.properties.join(', ')}${f.fix ? `; with fix ${f.fix} ${o.fixedPasses ? 'it passes' : 'it STILL FAILS'}` : ''}`,
        data: { properties: o.properties, ...(f.fix ? { fix: f.fix, fixed_passes: o.fixedPasses } : {}) },
      });
    }
    return out;
  },
};
