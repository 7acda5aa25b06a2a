/**
 * Coverage guidance measured (`japari mutants --fuzz-ratio --out reports/mutants`): every seeded
 * fault is fuzzed with `--strategy guided` and `--strategy random` on the same budget (schedules
 * per campaign) and the same seeds, interleaved in one run, and the time and the number of
 * schedules to the first failing schedule (before shrinking) are compared: per fault the median
 * over seeds, then the median over faults, and the ratio random / guided. A campaign that does
 * not kill its fault within the budget counts as infinitely slow (a censored sample): a median
 * over mostly unkilled campaigns is "not killed". Alongside, the coverage both strategies reach
 * against schedules and time on the correct engines.
 *
 * Times are wall-clock on the machine that ran it; schedule counts are deterministic per seed.
 */
import { FAULTS, fixesFor, type FaultSpec } from '../engines/catalogue.js';
import { verificationBuild } from '../engines/designs.js';
import { fuzz, type FuzzResult, type FuzzStrategy } from '../properties/fuzz.js';

export interface FuzzRatioOptions {
  readonly runs: number;
  readonly seeds: readonly number[];
  readonly faults?: readonly string[];
  readonly model: string;
  readonly batch: number;
  readonly onStep?: (what: string, done: number, total: number) => void;
}

export interface KillSample {
  readonly seed: number;
  readonly killed: boolean;
  /** Seconds and schedules to the first failing schedule (the whole budget when not killed). */
  readonly seconds: number;
  readonly runs: number;
  readonly property?: string;
}

export interface FaultRatioRow {
  readonly fault: string;
  readonly engine: string;
  readonly model: string;
  readonly guided: readonly KillSample[];
  readonly random: readonly KillSample[];
  /** Per strategy: median seconds and schedules to kill over seeds (Infinity: not killed in most). */
  readonly median: { readonly guided: { seconds: number; runs: number }; readonly random: { seconds: number; runs: number } };
}

export interface CoverageCurveRow {
  readonly engine: string;
  readonly strategy: FuzzStrategy;
  /** Coverage tuples reached by each schedule count of CURVE_AT, and the seconds at it. */
  readonly at: readonly { readonly runs: number; readonly tuples: number; readonly seconds: number }[];
  readonly schedulesPerSecond: number;
}

export interface FuzzRatioResult {
  readonly runs: number;
  readonly seeds: readonly number[];
  readonly model: string;
  readonly batch: number;
  readonly rows: readonly FaultRatioRow[];
  readonly summary: {
    /** Faults killed (median over seeds finite) by each strategy. */
    readonly killed: { readonly guided: number; readonly random: number };
    readonly faults: number;
    /** Median over the faults either strategy kills of the per-fault medians. */
    readonly medianSeconds: { readonly guided: number; readonly random: number };
    readonly medianRuns: { readonly guided: number; readonly random: number };
    /** random / guided (above 1: guidance kills faster). */
    readonly secondsRatio: number;
    readonly runsRatio: number;
    /** The same over the faults that either strategy needs more than one schedule for (the first schedule kills the rest either way). */
    readonly hard: { readonly faults: number; readonly medianSeconds: { readonly guided: number; readonly random: number }; readonly medianRuns: { readonly guided: number; readonly random: number }; readonly secondsRatio: number; readonly runsRatio: number };
  };
  readonly curves: readonly CoverageCurveRow[];
}

/** Median with Infinity for censored samples (the upper median of an even count). */
export function censoredMedian(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  if (s.length % 2) return s[m]!;
  const a = s[m - 1]!;
  const b = s[m]!;
  return Number.isFinite(b) ? (a + b) / 2 : b;
}

function sample(seed: number, r: FuzzResult, runs: number): KillSample {
  if (r.failedAt === undefined || !r.counterexample) return { seed, killed: false, seconds: r.seconds, runs };
  return { seed, killed: true, seconds: r.failedAtSeconds!, runs: r.failedAt, property: r.counterexample.property };
}

function campaign(f: FaultSpec, o: FuzzRatioOptions, strategy: FuzzStrategy, seed: number): FuzzResult {
  const model = f.killOn ? f.killOn.model : o.model;
  return fuzz({ model, engine: f.engine, batch: o.batch, placement: 'spi-fram', profile: 'inas2021', firmware: verificationBuild(f.engine, model), faults: [f.id], fixes: fixesFor(f.engine), seed, runs: o.runs, strategy });
}

export const CURVE_AT = [10, 25, 50, 100, 200, 400, 800] as const;

export function runFuzzRatio(o: FuzzRatioOptions): FuzzRatioResult {
  const faults = (FAULTS as readonly FaultSpec[]).filter((f) => !o.faults || o.faults.includes(f.id));
  const rows: FaultRatioRow[] = [];
  const total = faults.length * o.seeds.length * 2 + 4;
  let done = 0;
  for (const f of faults) {
    const guided: KillSample[] = [];
    const random: KillSample[] = [];
    for (const [i, seed] of o.seeds.entries()) {
      // Interleaved, and in alternating order, so machine load falls on both alike.
      const order: FuzzStrategy[] = i % 2 === 0 ? ['guided', 'random'] : ['random', 'guided'];
      for (const strategy of order) {
        o.onStep?.(`${f.id} ${strategy} seed ${seed}`, done++, total);
        const s = sample(seed, campaign(f, o, strategy, seed), o.runs);
        (strategy === 'guided' ? guided : random).push(s);
      }
    }
    const med = (xs: KillSample[]) => ({ seconds: censoredMedian(xs.map((x) => (x.killed ? x.seconds : Infinity))), runs: censoredMedian(xs.map((x) => (x.killed ? x.runs : Infinity))) });
    rows.push({ fault: f.id, engine: f.engine, model: f.killOn ? f.killOn.model : o.model, guided, random, median: { guided: med(guided), random: med(random) } });
  }
  const either = rows.filter((r) => Number.isFinite(r.median.guided.seconds) || Number.isFinite(r.median.random.seconds));
  const hardRows = either.filter((r) => r.median.guided.runs > 1 || r.median.random.runs > 1);
  const over = (rs: readonly FaultRatioRow[], s: 'guided' | 'random', k: 'seconds' | 'runs') => censoredMedian(rs.map((r) => r.median[s][k]));
  const medianSeconds = { guided: over(either, 'guided', 'seconds'), random: over(either, 'random', 'seconds') };
  const medianRuns = { guided: over(either, 'guided', 'runs'), random: over(either, 'random', 'runs') };
  const hardSeconds = { guided: over(hardRows, 'guided', 'seconds'), random: over(hardRows, 'random', 'seconds') };
  const hardRuns = { guided: over(hardRows, 'guided', 'runs'), random: over(hardRows, 'random', 'runs') };
  const curves: CoverageCurveRow[] = [];
  const maxRuns = CURVE_AT[CURVE_AT.length - 1]!;
  for (const engine of ['japari', 'hawaii'] as const) {
    for (const strategy of ['guided', 'random'] as const) {
      o.onStep?.(`coverage of the corrected ${engine} engine, ${strategy}`, done++, total);
      const r = fuzz({ model: o.model, engine, batch: o.batch, placement: 'spi-fram', profile: 'inas2021', firmware: verificationBuild(engine, o.model), faults: [], fixes: fixesFor(engine), seed: o.seeds[0]!, runs: maxRuns, strategy });
      const at = CURVE_AT.map((runs) => {
        const reached = r.coverage.curve.filter((p) => p.runs <= runs);
        const last = reached[reached.length - 1];
        return { runs, tuples: last?.tuples ?? 0, seconds: last?.seconds ?? 0 };
      });
      curves.push({ engine, strategy, at, schedulesPerSecond: r.schedulesPerSecond });
    }
  }
  return {
    runs: o.runs,
    seeds: o.seeds,
    model: o.model,
    batch: o.batch,
    rows,
    summary: {
      killed: { guided: rows.filter((r) => Number.isFinite(r.median.guided.seconds)).length, random: rows.filter((r) => Number.isFinite(r.median.random.seconds)).length },
      faults: rows.length,
      medianSeconds,
      medianRuns,
      secondsRatio: medianSeconds.random / medianSeconds.guided,
      runsRatio: medianRuns.random / medianRuns.guided,
      hard: { faults: hardRows.length, medianSeconds: hardSeconds, medianRuns: hardRuns, secondsRatio: hardSeconds.random / hardSeconds.guided, runsRatio: hardRuns.random / hardRuns.guided },
    },
    curves,
  };
}

const fmt = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : 'not killed');
const fmtRuns = (x: number) => (Number.isFinite(x) ? String(x) : 'not killed');

export function fuzzRatioJson(r: FuzzRatioResult): Record<string, unknown> {
  // JSON has no Infinity: unkilled medians are null.
  const fin = (x: number) => (Number.isFinite(x) ? x : null);
  return {
    schema: 'japari.fuzz-ratio/1',
    runs_per_campaign: r.runs,
    seeds: r.seeds,
    model: r.model,
    batch: r.batch,
    summary: {
      faults: r.summary.faults,
      killed: r.summary.killed,
      median_seconds: { guided: fin(r.summary.medianSeconds.guided), random: fin(r.summary.medianSeconds.random) },
      median_schedules: { guided: fin(r.summary.medianRuns.guided), random: fin(r.summary.medianRuns.random) },
      seconds_ratio_random_over_guided: fin(r.summary.secondsRatio),
      schedules_ratio_random_over_guided: fin(r.summary.runsRatio),
      beyond_first_schedule: {
        faults: r.summary.hard.faults,
        median_seconds: { guided: fin(r.summary.hard.medianSeconds.guided), random: fin(r.summary.hard.medianSeconds.random) },
        median_schedules: { guided: fin(r.summary.hard.medianRuns.guided), random: fin(r.summary.hard.medianRuns.random) },
        seconds_ratio_random_over_guided: fin(r.summary.hard.secondsRatio),
        schedules_ratio_random_over_guided: fin(r.summary.hard.runsRatio),
      },
    },
    rows: r.rows.map((x) => ({
      fault: x.fault,
      engine: x.engine,
      model: x.model,
      median: { guided: { seconds: fin(x.median.guided.seconds), schedules: fin(x.median.guided.runs) }, random: { seconds: fin(x.median.random.seconds), schedules: fin(x.median.random.runs) } },
      guided: x.guided,
      random: x.random,
    })),
    coverage_curves: r.curves,
  };
}

export function fuzzRatioMarkdown(r: FuzzRatioResult, wallSeconds: number): string {
  const s = r.summary;
  const lines = [
    '# Coverage-guided fuzzing against random fuzzing',
    '',
    `Every seeded fault (src/engines/catalogue.ts, on the engine with every fix) fuzzed with \`--strategy guided\` and \`--strategy random\`, ${r.runs} schedules per campaign, seeds ${r.seeds.join(', ')}, on ${r.model} B = ${r.batch} (loop-count faults on their own network, catalogue.ts killOn); both strategies in one run, interleaved. Time and schedules to kill: to the first failing schedule, before shrinking. Per fault the median over the seeds (a campaign that does not kill counts as infinitely slow), then the median over the ${s.faults} faults of the faults either strategy kills. Generated by \`japari mutants --fuzz-ratio --out reports/mutants\` in ${wallSeconds.toFixed(0)} s; times are wall-clock on that machine (2 cores shared with other work), schedule counts are deterministic per seed.`,
    '',
    '| | guided | random | ratio random / guided |',
    '| --- | --- | --- | --- |',
    `| faults killed (median over seeds) | ${s.killed.guided}/${s.faults} | ${s.killed.random}/${s.faults} | |`,
    `| median time to kill | ${fmt(s.medianSeconds.guided)} s | ${fmt(s.medianSeconds.random)} s | **${fmt(s.secondsRatio)}** |`,
    `| median schedules to kill | ${fmtRuns(s.medianRuns.guided)} | ${fmtRuns(s.medianRuns.random)} | **${fmt(s.runsRatio)}** |`,
    `| the ${s.hard.faults} faults either needs more than one schedule for: median time | ${fmt(s.hard.medianSeconds.guided)} s | ${fmt(s.hard.medianSeconds.random)} s | **${fmt(s.hard.secondsRatio)}** |`,
    `| the same: median schedules | ${fmtRuns(s.hard.medianRuns.guided)} | ${fmtRuns(s.hard.medianRuns.random)} | **${fmt(s.hard.runsRatio)}** |`,
    '',
    'Most faults die at the first schedule whichever the strategy (guided runs the random campaign\'s own cases first and every third run); the second pair of rows compares the rest, where the bias matters. A campaign that does not kill counts as infinitely slow, so a fault one strategy kills in most seeds and the other does not weighs fully.',
    '',
    '## Coverage reached against schedules and time (corrected engines, seed ' + r.seeds[0] + ')',
    '',
    'Coverage tuples: (layer, event, tear, job position, seeker view, recovery depth), src/properties/coverage.ts.',
    '',
    `| engine | strategy | ${CURVE_AT.map((n) => `${n} schedules`).join(' | ')} | schedules/s |`,
    `| --- | --- | ${CURVE_AT.map(() => '---').join(' | ')} | --- |`,
    ...r.curves.map((c) => `| ${c.engine} | ${c.strategy} | ${c.at.map((p) => `${p.tuples} (${p.seconds.toFixed(1)} s)`).join(' | ')} | ${c.schedulesPerSecond.toFixed(0)} |`),
    '',
    '## Per fault',
    '',
    '| fault | engine | model | guided: median s / schedules | random: median s / schedules | guided kills | random kills |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...r.rows.map(
      (x) =>
        `| \`${x.fault}\` | ${x.engine} | ${x.model} | ${fmt(x.median.guided.seconds)} / ${fmtRuns(x.median.guided.runs)} | ${fmt(x.median.random.seconds)} / ${fmtRuns(x.median.random.runs)} | ${x.guided.filter((k) => k.killed).length}/${x.guided.length} | ${x.random.filter((k) => k.killed).length}/${x.random.length} |`,
    ),
    '',
  ];
  return lines.join('\n');
}
