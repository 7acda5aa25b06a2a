/**
 * `japari fuzz`: attack an engine with arbitrary power-failure schedules, on a fixed model or on
 * small random networks (`--model random`). `--strategy guided` (default) biases schedules toward
 * unseen coverage tuples (src/properties/coverage.ts); `--strategy random` draws every schedule
 * independently with fast-check. Prints the seed and the coverage reached; a failure is shrunk
 * to a minimal schedule with a replay token and a readable trace.
 *
 * Exit 0 when every schedule held, 1 on a counterexample, 2 on bad usage.
 */
import type { Command } from 'commander';
import { fuzz, FUZZ_STRATEGIES, type FuzzResult, type FuzzStrategy } from '../../properties/fuzz.js';
import { deploymentOf } from '../../properties/replay.js';
import { buildCounterexample } from '../../report/counterexample.js';
import { counterexampleFiles } from '../../report/files.js';
import { stableStringify } from '../../util/json.js';
import { ReportSet, validateOutputDir } from '../../util/fsx.js';
import { UsageError } from '../../util/errors.js';
import type { Io } from '../io.js';
import { createStyle } from '../style.js';
import { parseDuration, parseNonNegativeInt, parsePositiveInt, parseSeed } from '../units.js';
import { addVerifyFlags, checkInputIds, deploymentOfTarget, loadTargetModel, parseVerifyTarget, type RawVerifyFlags, type VerifyTarget } from '../verify-options.js';
import { createProgress } from '../progress.js';
import { resolvePath } from '../options.js';
import { type CommandContext, EXIT_CHECK_FAILED, EXIT_OK } from '../command.js';
import { SAVE_TO_HELP, saveCounterexamples } from '../save-to.js';

export const name = 'fuzz';

export interface FuzzCommandOptions {
  readonly target: VerifyTarget;
  /** Whether --input / --warmup were given (otherwise fast-check draws them). */
  readonly fixedInput: boolean;
  readonly fixedWarmup: boolean;
  readonly runs?: number;
  readonly timeS?: number;
  readonly seed: number;
  readonly strategy: FuzzStrategy;
  readonly maxFailures: number;
  readonly report?: string;
  readonly json: boolean;
  /** Corpus folder for the counterexample (save-to.ts). */
  readonly saveTo?: string;
}

interface RawFuzzFlags extends RawVerifyFlags {
  readonly runs?: string;
  readonly time?: string;
  readonly seed?: string;
  readonly strategy?: string;
  readonly maxFailures?: string;
  readonly report?: string;
  readonly json?: boolean;
  readonly saveTo?: string;
}

/** A fresh seed when none is given (printed, so the campaign replays exactly). */
export function freshSeed(): number {
  return (Date.now() ^ (process.pid << 16)) >>> 0;
}

/** What `--model random` varies per schedule (fuzz.ts): flags that fix these are refused with it. */
export const RANDOM_VARIES = { batch: [1, 2, 4, 8], placement: ['spi-fram', 'internal-fram'] } as const;

export function parseFuzzOptions(raw: RawFuzzFlags, io: Pick<Io, 'cwd'> = { cwd: process.cwd() }): FuzzCommandOptions {
  if (raw.runs !== undefined && raw.time !== undefined) throw new UsageError('--runs and --time are mutually exclusive');
  if (raw.model?.trim() === 'random') {
    for (const f of ['batch', 'placement'] as const) {
      if (raw[f] !== undefined) throw new UsageError(`--${f} cannot be combined with --model random: random networks vary ${f === 'batch' ? `B (${RANDOM_VARIES.batch.join(', ')})` : `the NVM placement (${RANDOM_VARIES.placement.join(', ')})`} per schedule`);
    }
  }
  const target = parseVerifyTarget(raw, io);
  const strategy = raw.strategy === undefined ? 'guided' : raw.strategy.trim();
  if (!(FUZZ_STRATEGIES as readonly string[]).includes(strategy)) throw new UsageError(`--strategy: ${JSON.stringify(raw.strategy)} is not one of ${FUZZ_STRATEGIES.join(', ')}`);
  return {
    target,
    fixedInput: raw.input !== undefined,
    fixedWarmup: raw.warmup !== undefined,
    ...(raw.runs !== undefined ? { runs: parsePositiveInt(raw.runs, '--runs') } : {}),
    ...(raw.time !== undefined ? { timeS: parseDuration(raw.time, '--time') } : {}),
    seed: raw.seed !== undefined ? parseSeed(raw.seed) : freshSeed(),
    strategy: strategy as FuzzStrategy,
    maxFailures: raw.maxFailures !== undefined ? parseNonNegativeInt(raw.maxFailures, '--max-failures') : 4,
    ...(raw.report !== undefined ? { report: raw.report } : {}),
    json: raw.json === true,
    ...(raw.saveTo !== undefined ? { saveTo: raw.saveTo } : {}),
  };
}

function isRandom(t: VerifyTarget): boolean {
  return t.model === 'random';
}

/** The deployment figures of the JSON report: for random networks, what varies instead of B = 1. */
function targetJson(o: FuzzCommandOptions): Record<string, unknown> {
  const t = o.target;
  const d: Record<string, unknown> = { ...deploymentOfTarget(t) };
  if (isRandom(t)) {
    delete d['batch'];
    delete d['placement'];
    d['varies'] = { model: 'random networks', batch: [...RANDOM_VARIES.batch], placement: [...RANDOM_VARIES.placement] };
  }
  d['input'] = o.fixedInput ? t.input : 'drawn';
  d['warmup'] = o.fixedWarmup ? t.warmup : 'drawn';
  return d;
}

export function fuzzJson(o: FuzzCommandOptions, r: FuzzResult, events?: number): Record<string, unknown> {
  const ce = r.counterexample;
  return {
    schema: 1,
    command: 'fuzz',
    ...targetJson(o),
    verdict: r.verdict,
    seed: r.seed,
    strategy: r.strategy,
    runs: r.runs,
    interrupted: r.interrupted,
    seconds: r.seconds,
    schedules_per_second: r.schedulesPerSecond,
    coverage: { tuples: r.coverage.tuples, curve: r.coverage.curve.map((p) => ({ runs: p.runs, seconds: p.seconds, tuples: p.tuples })) },
    ...(r.failedAt !== undefined ? { failed_at_run: r.failedAt } : {}),
    ...(ce
      ? {
          counterexample: {
            property: ce.property,
            replay: ce.token,
            schedule: ce.spec.schedule,
            model: ce.spec.model,
            batch: ce.spec.batch,
            input: ce.spec.input,
            warmup: ce.spec.warmup,
            garbage: ce.spec.garbage,
            shrinks: ce.shrinks,
            failures: ce.spec.schedule.length,
            ...(events !== undefined ? { events } : {}),
            violations: ce.violations.map((v) => ({ property: v.property, message: v.message, boot: v.boot, action: v.action })),
          },
        }
      : {}),
  };
}

/**
 * Write a counterexample report (JSON, Markdown, SVG, HTML) into `dir` as one report set: all
 * files appear together or none does. Returns the paths written.
 */
export function writeCounterexampleFiles(dir: string, base: string, spec: Parameters<typeof buildCounterexample>[0]): string[] {
  const set = new ReportSet(dir);
  try {
    for (const [name, text] of Object.entries(counterexampleFiles(buildCounterexample(spec), base))) set.write(name, text);
    return set.commit();
  } finally {
    set.abort();
  }
}

/** "B=2 on lenet", or, for random networks, what varies. */
function describeTarget(o: FuzzCommandOptions): string {
  const t = o.target;
  const what = isRandom(t) ? `on random networks (B in ${RANDOM_VARIES.batch.join(', ')}; NVM ${RANDOM_VARIES.placement.join(' or ')})` : `B=${t.batch} on ${t.model}`;
  const inputs = `${o.fixedInput ? `input ${t.input}` : 'drawn inputs'}, ${o.fixedWarmup ? `warm-up ${t.warmup.length ? t.warmup.join(',') : 'none'}` : 'drawn warm-ups'}`;
  return `${t.engine} ${what}${t.faults.length ? ` with fault(s) ${t.faults.join(', ')}` : ''}${t.fixes.length ? ` with fix(es) ${t.fixes.join(', ')}` : ''}, ${inputs}`;
}

/** "412 tuples; 50% by run 40 (1.2 s), 90% by run 610 (14.0 s)": coverage reached against runs and time. */
export function coverageLine(r: FuzzResult): string {
  const c = r.coverage;
  if (c.tuples === 0) return '0 tuples (no power failure placed)';
  const at = (f: number) => {
    const p = c.curve.find((x) => x.tuples >= f * c.tuples)!;
    return `${Math.round(f * 100)}% by run ${p.runs} (${p.seconds.toFixed(1)} s)`;
  };
  return `${c.tuples} tuples (layer, event, tear, job position, seeker view, recovery depth); ${at(0.5)}, ${at(0.9)}`;
}

export async function runFuzz(o: FuzzCommandOptions, io: Io): Promise<number> {
  const st = createStyle(io);
  const t = o.target;
  // Everything the campaign needs is checked before it starts (exit 2 at once).
  if (o.report) validateOutputDir(o.report, '--report', io.cwd);
  if (o.saveTo !== undefined) validateOutputDir(o.saveTo, '--save-to', io.cwd);
  if (!isRandom(t)) {
    const m = loadTargetModel(io, t.model);
    checkInputIds(m, [
      ...(o.fixedInput ? [{ id: t.input, option: '--input' }] : []),
      ...(o.fixedWarmup ? t.warmup.map((id) => ({ id, option: '--warmup' })) : []),
    ]);
    deploymentOf({ ...deploymentOfTarget(t) });
  }
  io.err(`fuzzing ${describeTarget(o)}, ${o.strategy} schedules, seed ${o.seed}\n`);
  const progress = createProgress(io, 'fuzz');
  const t0 = performance.now();
  const total = o.runs ?? (o.timeS === undefined ? 200 : undefined);
  const r = fuzz({
    ...deploymentOfTarget(t),
    seed: o.seed,
    strategy: o.strategy,
    maxFailures: o.maxFailures,
    ...(o.fixedInput ? { input: t.input } : {}),
    ...(o.fixedWarmup ? { warmup: t.warmup } : {}),
    ...(o.runs !== undefined ? { runs: o.runs } : {}),
    ...(o.timeS !== undefined ? { timeLimitS: o.timeS } : {}),
    onProgress: (runs) => {
      if (total !== undefined) progress.update(runs, total, 'schedules');
      else progress.update((performance.now() - t0) / 1000, o.timeS!, `s, ${runs} schedules`);
    },
  });
  progress.done();
  let events: number | undefined;
  const ce = r.counterexample;
  if (ce) {
    const rep = buildCounterexample(ce.spec);
    events = rep.stats.events;
    if (o.report) {
      const files = writeCounterexampleFiles(resolvePath(io, o.report), `counterexample-${ce.property}`, ce.spec);
      io.err(`wrote ${files.join(', ')}\n`);
    }
    if (o.saveTo !== undefined) saveCounterexamples(io, o.saveTo, [{ spec: ce.spec, source: `japari fuzz ${describeTarget(o)}, seed ${r.seed}: ${ce.property}` }], 'fail');
    if (o.json) io.out(stableStringify(fuzzJson(o, r, events)) + '\n');
    else {
      const where = isRandom(t) ? ` on ${ce.spec.model}, B = ${ce.spec.batch}, NVM ${ce.spec.placement}` : '';
      io.out(`${st.verdict('fail')} ${ce.property} after ${r.runs} ${r.strategy} schedule(s), shrunk in ${ce.shrinks} step(s) (seed ${r.seed})${where}; ${r.coverage.tuples} coverage tuples reached\n`);
      io.out(`  power fails before action(s): ${ce.spec.schedule.length ? ce.spec.schedule.join(', ') : 'none (fails without any power failure)'}\n`);
      io.out(`  ${ce.violations[0]!.message}\n`);
      io.out(`  replay: japari replay ${ce.token}\n`);
    }
    return EXIT_CHECK_FAILED;
  }
  if (o.json) io.out(stableStringify(fuzzJson(o, r)) + '\n');
  else {
    io.out(`${st.verdict('pass')} held for ${r.runs} ${r.strategy} schedule(s)${r.interrupted ? ' (time limit)' : ''} in ${r.seconds.toFixed(1)} s (${r.schedulesPerSecond.toFixed(0)} schedules/s), seed ${r.seed}\n`);
    io.out(`  coverage: ${coverageLine(r)}\n`);
  }
  return EXIT_OK;
}

export function register(program: Command, ctx: CommandContext): void {
  const cmd = program
    .command(name)
    .description('attack an engine with power-failure schedules (coverage-guided or random) and shrink any failure to a replayable counterexample');
  addVerifyFlags(cmd, { drawnInputs: true })
    .option('--runs <n>', 'number of schedules (default 200)')
    .option('--time <duration>', 'fuzz for this long instead, e.g. 60s')
    .option('--seed <n>', 'campaign seed (default: a fresh one, printed)')
    .option('--strategy <s>', 'guided: bias schedules toward unseen coverage tuples (default); random: independent fast-check draws')
    .option('--max-failures <k>', 'at most k power failures per schedule (default 4)')
    .option('--report <dir>', 'write the counterexample report (JSON, Markdown, SVG timeline) here')
    .option('--json', 'print one JSON document')
    .option('--save-to <dir>', SAVE_TO_HELP)
    .action(async (raw: RawFuzzFlags) => ctx.setExit(await runFuzz(parseFuzzOptions(raw, ctx.io), ctx.io)));
}
