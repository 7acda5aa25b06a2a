/**
 * The `proofs` section of `japari check`: the Z3 obligations of the default model for HAWAII and
 * JAPARI at B = 1 and 2, one row per (engine, B, obligation) over all layers.
 *
 *   PASS  every layer's obligation proved
 *   n/a   refuted only by known findings of the published design (finding ids in the detail,
 *         each refutation's replay reproduces on the executable model)
 *   FAIL  an unexpected refutation, a refutation that does not reproduce, or unknown (a limit
 *         was hit: unknown is never a pass)
 */
import type { CheckSection, CheckResult, CheckContext } from './check-section.js';
import { FINDING_IDS } from '../engines/catalogue.js';
import { prove } from '../smt/prove.js';
import { OBLIGATION_IDS, type ObligationResult } from '../smt/obligation.js';
import { sharedZ3, closeSharedZ3 } from '../smt/runtime.js';

export const PROOF_ENGINES = ['hawaii', 'japari'] as const;
export const PROOF_BATCHES: readonly number[] = [1, 2];
/** Per obligation (each is a handful of Z3 queries). */
export const PROOF_TIMEOUT_MS = 20_000;
/**
 * An obligation left unknown at PROOF_TIMEOUT_MS is asked once more, alone, with this limit: on a
 * loaded machine a solver that needs 25 s must not fail the check, and an unknown at the second
 * limit still fails it (unknown is never a pass).
 */
export const PROOF_RETRY_TIMEOUT_MS = 120_000;

/** Findings of published designs the project already knows (the catalogue, src/engines/catalogue.ts). */
export const KNOWN_FINDINGS: readonly string[] = FINDING_IDS;

export function summarise(engine: string, batch: number, id: string, rs: readonly ObligationResult[]): CheckResult {
  const name = `${engine} B=${batch} ${id}`;
  const proved = rs.filter((r) => r.verdict === 'proved').length;
  const unknown = rs.filter((r) => r.verdict === 'unknown');
  const refuted = rs.filter((r) => r.verdict === 'refuted');
  const seconds = rs.reduce((t, r) => t + r.seconds, 0);
  const data = { engine, batch, obligation: id, proved, refuted: refuted.length, unknown: unknown.length, layers: rs.map((r) => ({ layer: r.layer, verdict: r.verdict, ...(r.finding ? { finding: r.finding } : {}) })) };
  if (unknown.length > 0) return { name, status: 'fail', detail: `unknown on ${unknown.map((r) => `${r.layer} (${r.limit})`).join(', ')}`, data };
  const unexpected = refuted.filter((r) => !r.finding || !KNOWN_FINDINGS.includes(r.finding) || !(r.replay && 'reproduced' in r.replay && r.replay.reproduced));
  if (unexpected.length > 0) {
    return { name, status: 'fail', detail: `refuted on ${unexpected.map((r) => `${r.layer}${r.finding ? ` (${r.finding})` : ''}`).join(', ')}`, data };
  }
  if (refuted.length > 0) {
    const ids = [...new Set(refuted.map((r) => r.finding!))].join(', ');
    return { name, status: 'n/a', detail: `known finding ${ids} on ${refuted.map((r) => r.layer).join(', ')} (replays reproduce); ${proved} layer(s) proved`, data };
  }
  if (rs.length === 0) return { name, status: 'n/a', detail: 'no layer of this deployment carries the obligation', data };
  return { name, status: 'pass', detail: `proved on ${proved} layer(s), ${seconds.toFixed(1)} s`, data };
}

export const proofsSection: CheckSection = {
  id: 'proofs',
  title: `Z3 proofs of the progress-indicator obligations for HAWAII and JAPARI at B = ${PROOF_BATCHES.join(', ')}`,
  async run(ctx: CheckContext): Promise<CheckResult[]> {
    const out: CheckResult[] = [];
    try {
      for (const engine of PROOF_ENGINES) {
        for (const batch of PROOF_BATCHES) {
          const spec = { model: ctx.modelName, engine, batch, placement: ctx.placement, profile: ctx.profileName, firmware: ctx.firmware };
          const report = await prove({ ...spec, timeoutMs: PROOF_TIMEOUT_MS }, sharedZ3());
          const results: ObligationResult[] = [];
          for (const r of report.obligations) {
            if (r.verdict !== 'unknown') {
              results.push(r);
              continue;
            }
            const again = await prove({ ...spec, obligation: r.id, layer: r.layer, timeoutMs: PROOF_RETRY_TIMEOUT_MS }, sharedZ3());
            const same = again.obligations.filter((x) => x.id === r.id && x.layer === r.layer);
            results.push(same.length === 1 ? same[0]! : r);
          }
          for (const id of OBLIGATION_IDS) out.push(summarise(engine, batch, id, results.filter((r) => r.id === id)));
        }
      }
    } finally {
      await closeSharedZ3();
    }
    return out;
  },
};
