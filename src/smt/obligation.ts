/**
 * Proof obligations: what japari proves with Z3, and how a verdict is reached.
 *
 *   obligation   one claim about one layer (or the model record) of one deployment, stated in
 *                one sentence, tied to the model functions it speaks about
 *   goal         one Z3 query: the negation of (part of) the claim. unsat = that part holds
 *   verdict      proved   every goal is unsat
 *                refuted  some goal is sat: its model is decoded into a concrete counterexample
 *                         (values, job indices, bytes) and, where it describes a run, a replay
 *                unknown  no goal is sat and some goal hit a limit (the limit is reported);
 *                         unknown is never counted as proved
 *
 * Obligations are data (built by the *.smt.ts encoders from a real EnginePlan); running them is
 * `runObligation` with a Z3Runtime.
 */
import type { Script } from './smtlib.js';
import { Script as SmtScript, toSigned, bv, ult, type BV } from './smtlib.js';
import type { Z3Runtime, CheckOptions } from './runtime.js';

export const OBLIGATION_IDS = [
  'indicator-distinguishability',
  'indicator-arithmetic',
  'augmentation-transparency',
  'seeker-exactness',
  'layer-commit',
] as const;
export type ObligationId = (typeof OBLIGATION_IDS)[number];

export type ProofVerdict = 'proved' | 'refuted' | 'unknown';

export type CexValue = number | boolean | string | readonly number[] | { readonly [k: string]: CexValue };
export type Counterexample = { readonly [k: string]: CexValue };

export interface Goal {
  /** What this query refutes, e.g. "a stale footprint equals the expected marker". */
  readonly name: string;
  readonly script: Script;
  /** Decode a model into a counterexample (values, job indices, bytes). */
  decode(values: ReadonlyMap<string, bigint | boolean>): Counterexample;
  /**
   * Optional: a reported variable to minimise on refutation (smallest job, iteration, round),
   * so counterexamples are canonical and replays short. Width and signedness of the variable.
   */
  readonly minimize?: { readonly name: string; readonly w: number };
}

export interface ReplayOutcome {
  /** The replay token (`japari replay <token>`). */
  readonly token: string;
  /** The executable model showed the same violation. */
  readonly reproduced: boolean;
  /** What the model reported (first violation), or why the replay did not reproduce. */
  readonly violation: string;
}

export interface Obligation {
  readonly id: ObligationId;
  /** "conv1 (#0)", "model record", ... */
  readonly layer: string;
  readonly layerIndex?: number;
  readonly statement: string;
  /** Model functions the claim is about (module#function). */
  readonly tiedTo: readonly string[];
  /** Bounded model checking: the bound, in words. */
  readonly bound?: string;
  /** What is symbolic and what is concrete, in words. */
  readonly encoding: string;
  readonly goals: readonly Goal[];
  /** Turn a refutation into a run of the executable model, when it describes one. */
  replay?(cex: Counterexample): ReplayOutcome | { readonly note: string };
  /** Known finding ids this obligation's refutation corresponds to (for reports). */
  readonly finding?: (cex: Counterexample) => string | undefined;
}

export interface ObligationResult {
  readonly id: ObligationId;
  readonly layer: string;
  readonly verdict: ProofVerdict;
  /** Wall-clock seconds (CLI output only; never in committed reports). */
  readonly seconds: number;
  readonly statement: string;
  readonly encoding: string;
  readonly tiedTo: readonly string[];
  readonly bound?: string;
  /** Why unknown (the limit hit). */
  readonly limit?: string;
  /** The refuted goal and its counterexample. */
  readonly goal?: string;
  readonly counterexample?: Counterexample;
  readonly replay?: ReplayOutcome | { readonly note: string };
  readonly finding?: string;
  /**
   * Other goals of the same obligation that were refuted too (a different window, SIGN or part
   * of the claim), each with its counterexample; replayed when it is a different finding.
   */
  readonly alsoRefuted?: readonly { readonly goal: string; readonly counterexample: Counterexample; readonly finding?: string; readonly replay?: ReplayOutcome | { readonly note: string } }[];
  /** Goals (queries) run. */
  readonly queries: number;
}

/** Read a reported value as a number (signed or unsigned as declared). */
export function valueOf(values: ReadonlyMap<string, bigint | boolean>, s: Script, name: string): number | boolean {
  const r = s.reported.find((x) => x.name === name);
  const v = values.get(name);
  if (v === undefined || r === undefined) return NaN;
  if (typeof v === 'boolean') return v;
  return Number(r.as === 'signed' ? toSigned(v, r.w) : v);
}

/** Every reported value of a script, decoded (the default counterexample). */
export function reportedValues(values: ReadonlyMap<string, bigint | boolean>, s: Script): Record<string, number | boolean> {
  const out: Record<string, number | boolean> = {};
  for (const r of s.reported) out[r.name] = valueOf(values, s, r.name);
  return out;
}

/** A goal whose counterexample is simply its reported values. */
export function goal(name: string, script: Script, extra?: (v: Record<string, number | boolean>) => Counterexample, minimize?: Goal['minimize']): Goal {
  return {
    name,
    script,
    decode: (values) => {
      const v = reportedValues(values, script);
      return extra ? { ...v, ...extra(v) } : v;
    },
    ...(minimize ? { minimize } : {}),
  };
}

export interface RunOptions {
  /** Per obligation, milliseconds. */
  readonly timeoutMs: number;
  /** Skip the replay of refutations (the replay runs the executable model). */
  readonly replay?: boolean;
}

/**
 * Definitive answers of identical scripts (same SMT-LIB text) are reused within the process:
 * lemmas shared by many layers (binary search, record, periodicity of a slot) are proved once.
 */
const cache = new Map<string, { readonly status: 'sat' | 'unsat'; readonly values?: ReadonlyMap<string, bigint | boolean> }>();

/** Forget every cached answer (canonical reports start from a clean slate). */
export function clearAnswerCache(): void {
  cache.clear();
}

function keyOf(s: Script): string {
  const t = s.text();
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0;
  }
  return `${t.length}:${h1.toString(16)}:${h2.toString(16)}:${s.reported.map((r) => r.name).join(',')}`;
}

async function check(z3: Z3Runtime, s: Script, timeoutMs: number, o: CheckOptions = {}): Promise<{ status: 'sat' | 'unsat' | 'unknown'; reason?: string; values?: ReadonlyMap<string, bigint | boolean> }> {
  const key = keyOf(s);
  const hit = cache.get(key);
  if (hit) return hit;
  const r = await z3.check(s, timeoutMs, o);
  if (r.status !== 'unknown') {
    if (cache.size > 4096) cache.clear();
    cache.set(key, r.status === 'sat' ? { status: 'sat', values: r.values! } : { status: 'unsat' });
  }
  return r;
}

/**
 * Run one obligation: every goal under the obligation's remaining time budget; the first sat
 * goal refutes it (its minimised counterexample is decoded and replayed).
 */
export async function runObligation(z3: Z3Runtime, o: Obligation, opts: RunOptions): Promise<ObligationResult> {
  const t0 = performance.now();
  const deadline = t0 + opts.timeoutMs;
  const base = { id: o.id, layer: o.layer, statement: o.statement, encoding: o.encoding, tiedTo: o.tiedTo, ...(o.bound ? { bound: o.bound } : {}) };
  let unknown: string | null = null;
  let queries = 0;
  // Every goal is queued at once (the runtime's workers take them concurrently); verdicts are
  // read in goal order.
  const answers = o.goals.map((g) => {
    const tg = performance.now();
    return check(z3, g.script, opts.timeoutMs, { deadline, limitMs: opts.timeoutMs }).then((r) => {
      if (process.env['JAPARI_SMT_TRACE']) process.stderr.write(`smt ${o.id} ${o.layer} | ${g.name} | ${r.status} ${((performance.now() - tg) / 1000).toFixed(2)} s, ${g.script.size} chars\n`);
      return r;
    });
  });
  for (let gi = 0; gi < o.goals.length; gi++) {
    const g = o.goals[gi]!;
    const r = await answers[gi]!;
    if (r.reason !== 'cancelled') queries++;
    if (r.status === 'unsat') continue;
    if (r.status === 'unknown') {
      // A later goal may still refute; remember the limit.
      unknown = r.reason ?? 'unknown';
      continue;
    }
    let values = r.values!;
    if (g.minimize) {
      const m = await minimise(z3, g, values, Math.max(1000, opts.timeoutMs - (performance.now() - t0)));
      values = m.values;
      queries += m.queries;
    }
    const cex = g.decode(values);
    const replay = opts.replay === false || !o.replay ? undefined : o.replay(cex);
    const finding = o.finding?.(cex);
    // The remaining goals still run: other refuted parts are reported (each distinct finding
    // replayed once).
    const also: NonNullable<ObligationResult['alsoRefuted']>[number][] = [];
    const findings = new Set([finding]);
    for (let k = gi + 1; k < o.goals.length; k++) {
      const rk = await answers[k]!;
      if (rk.reason !== 'cancelled') queries++;
      if (rk.status !== 'sat') continue;
      const ck = o.goals[k]!.decode(rk.values!);
      const fk = o.finding?.(ck);
      const rep = fk !== undefined && !findings.has(fk) && opts.replay !== false && o.replay ? o.replay(ck) : undefined;
      findings.add(fk);
      also.push({ goal: o.goals[k]!.name, counterexample: ck, ...(fk ? { finding: fk } : {}), ...(rep ? { replay: rep } : {}) });
    }
    return {
      ...base,
      verdict: 'refuted',
      seconds: (performance.now() - t0) / 1000,
      goal: g.name,
      counterexample: cex,
      ...(replay ? { replay } : {}),
      ...(finding ? { finding } : {}),
      ...(also.length > 0 ? { alsoRefuted: also } : {}),
      queries,
    };
  }
  const seconds = (performance.now() - t0) / 1000;
  if (unknown !== null) return { ...base, verdict: 'unknown', seconds, limit: unknown, queries };
  return { ...base, verdict: 'proved', seconds, queries };
}

/**
 * Find the smallest value of the goal's `minimize` variable (unsigned) that still satisfies the
 * goal, by bisection with extra bound assertions (each a fresh copy of the script).
 */
async function minimise(z3: Z3Runtime, g: Goal, first: ReadonlyMap<string, bigint | boolean>, budgetMs: number): Promise<{ values: ReadonlyMap<string, bigint | boolean>; queries: number }> {
  const m = g.minimize!;
  let best = first;
  let hi = first.get(m.name) as bigint | undefined;
  if (hi === undefined) return { values: first, queries: 0 };
  let lo = 0n;
  let queries = 0;
  const t0 = performance.now();
  while (lo < hi && performance.now() - t0 < budgetMs) {
    const mid = (lo + hi) / 2n;
    const s = withBound(g.script, m.name, m.w, mid + 1n);
    queries++;
    const r = await check(z3, s, Math.max(500, budgetMs - (performance.now() - t0)));
    if (r.status === 'sat') {
      best = r.values!;
      hi = best.get(m.name) as bigint;
    } else if (r.status === 'unsat') {
      lo = mid + 1n;
    } else break;
  }
  return { values: best, queries };
}

/** A copy of a script with `name < bound` (unsigned) added. */
function withBound(s: Script, name: string, w: number, bound: bigint): Script {
  const copy = new SmtScript(s.logic);
  copy.tactic = s.tactic;
  const text = s.text().replace(/^\(set-logic [^)]*\)\n/, '');
  copy.raw(text);
  for (const r of s.reported) copy.reported.push(r);
  const v: BV = { w, s: name };
  copy.assert(ult(v, bv(bound, w)));
  return copy;
}
