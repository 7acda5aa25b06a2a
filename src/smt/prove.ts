/**
 * Proving a deployment: build the obligations of its engine from the real EnginePlan and run
 * them through the Z3 runtime, one result per (obligation, layer).
 *
 * Which obligations a design has: src/smt/designs.ts (hawaii.smt.ts, japari.smt.ts,
 * loopcount.smt.ts, and the common record and augmentation obligations).
 */
import { type ProveSpec, proveContext } from './context.js';
import { type ObligationId, type ObligationResult, runObligation, OBLIGATION_IDS } from './obligation.js';
import { obligationsFor } from './designs.js';
import { type Z3Runtime, sharedZ3 } from './runtime.js';
import { UsageError } from '../util/errors.js';

export interface ProveOptions extends ProveSpec {
  /** Only this obligation (all when absent). */
  readonly obligation?: ObligationId;
  /** Only layers whose label contains this text. */
  readonly layer?: string;
  /** Per obligation, milliseconds. */
  readonly timeoutMs: number;
  /** Replay refutations on the executable model (default true). */
  readonly replay?: boolean;
}

export interface ProofReport {
  readonly schema: 1;
  readonly model: string;
  readonly engine: string;
  readonly batch: number;
  readonly placement: string;
  readonly fixes: readonly string[];
  readonly arithmetic: unknown;
  readonly max_jobs?: number;
  readonly op_filters: number;
  readonly max_row_tile: number;
  readonly obligations: readonly ObligationResult[];
  readonly counts: { readonly proved: number; readonly refuted: number; readonly unknown: number };
}

export function parseObligationId(text: string): ObligationId {
  if ((OBLIGATION_IDS as readonly string[]).includes(text)) return text as ObligationId;
  throw new UsageError(`--obligation: expected one of ${OBLIGATION_IDS.join(', ')}, got ${JSON.stringify(text)}`);
}

/** Build and run the obligations; `onResult` sees each result as it arrives. */
export async function prove(opts: ProveOptions, z3: Z3Runtime = sharedZ3(), onResult?: (r: ObligationResult) => void): Promise<ProofReport> {
  const ctx = proveContext(opts);
  const every = obligationsFor(ctx);
  const all = every.filter((o) => (opts.obligation === undefined || o.id === opts.obligation) && (opts.layer === undefined || o.layer.includes(opts.layer)));
  // A filter that selects nothing proves nothing: a usage error naming what exists, never PROVED.
  if (all.length === 0) {
    const ids = [...new Set(every.map((o) => o.id))];
    if (opts.obligation !== undefined && !ids.includes(opts.obligation)) {
      throw new UsageError(`--obligation ${opts.obligation}: the ${ctx.spec.engine} engine has no such obligation (it has: ${ids.join(', ')})`);
    }
    const layers = [...new Set(every.filter((o) => opts.obligation === undefined || o.id === opts.obligation).map((o) => o.layer))];
    const shown = layers.slice(0, 16).map((l) => JSON.stringify(l)).join(', ');
    throw new UsageError(`--layer ${JSON.stringify(opts.layer)} matches no layer${opts.obligation ? ` of ${opts.obligation}` : ''} (layers: ${shown}${layers.length > 16 ? `, ... ${layers.length} in all` : ''})`);
  }
  // Obligations run concurrently across the runtime's workers; results keep their order.
  const results: ObligationResult[] = new Array(all.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < all.length) {
      const i = next++;
      const r = await runObligation(z3, all[i]!, { timeoutMs: opts.timeoutMs, replay: opts.replay !== false });
      results[i] = r;
      onResult?.(r);
    }
  };
  await Promise.all(Array.from({ length: Math.min(z3.size, all.length) }, lane));
  const count = (v: ObligationResult['verdict']) => results.filter((r) => r.verdict === v).length;
  return {
    schema: 1,
    model: ctx.spec.model,
    engine: ctx.spec.engine,
    batch: ctx.spec.batch,
    placement: ctx.spec.placement,
    fixes: ctx.spec.fixes,
    arithmetic: ctx.spec.arithmetic,
    ...(ctx.spec.maxJobs !== undefined ? { max_jobs: ctx.spec.maxJobs } : {}),
    op_filters: ctx.plan.params.opFilters,
    max_row_tile: ctx.plan.params.maxRowTile,
    obligations: results,
    counts: { proved: count('proved'), refuted: count('refuted'), unknown: count('unknown') },
  };
}

export { obligationsFor };
