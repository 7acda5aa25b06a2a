/**
 * `japari fuzz`: attack an engine with arbitrary power-failure schedules (fast-check), on a fixed
 * model or on small random networks (`--model random`). Prints the seed; a failure is shrunk to
 * a minimal schedule with a replay token and a readable trace.
 *
 * Exit 0 when every schedule held, 1 on a counterexample, 2 on bad usage.
 */
import type { Command } from 'commander';
import { join } from 'node:path';
import { fuzz, type FuzzResult } from '../../properties/fuzz.js';
import { buildCounterexample, counterexampleMarkdown, counterexampleSvg } from '../../report/counterexample.js';
import { stableStringify } from '../../util/json.js';
import { writeFileAtomicSync as writeFileAtomic } from '../../util/fsx.js';
import { UsageError } from '../../util/errors.js';
import type { Io } from '../io.js';
import { createStyle } from '../style.js';
import { parseDuration, parseNonNegativeInt, parsePositiveInt, parseSeed } from '../units.js';
import { addVerifyFlags, deploymentOfTarget, parseVerifyTarget, type RawVerifyFlags, type VerifyTarget } from '../verify-options.js';
import { resolvePath } from '../options.js';
import { type CommandContext, EXIT_CHECK_FAILED, EXIT_OK } from '../command.js';

export const name = 'fuzz';

export interface FuzzCommandOptions {
  readonly target: VerifyTarget;
  readonly runs?: number;
  readonly timeS?: number;
  readonly seed: number;
  readonly maxFailures: number;
  readonly report?: string;
  readonly json: boolean;
}

interface RawFuzzFlags extends RawVerifyFlags {
  readonly runs?: string;
  readonly time?: string;
  readonly seed?: string;
  readonly maxFailures?: string;
  readonly report?: string;
  readonly json?: boolean;
}

/** A fresh seed when none is given (printed, so the campaign replays exactly). */
export function freshSeed(): number {
  return (Date.now() ^ (process.pid << 16)) >>> 0;
}

export function parseFuzzOptions(raw: RawFuzzFlags): FuzzCommandOptions {
  if (raw.runs !== undefined && raw.time !== undefined) throw new UsageError('--runs and --time are mutually exclusive');
  const target = parseVerifyTarget({ ...raw, ...(raw.model === undefined ? {} : { model: raw.model }) });
  return {
    target,
    ...(raw.runs !== undefined ? { runs: parsePositiveInt(raw.runs, '--runs') } : {}),
    ...(raw.time !== undefined ? { timeS: parseDuration(raw.time, '--time') } : {}),
    seed: raw.seed !== undefined ? parseSeed(raw.seed) : freshSeed(),
    maxFailures: raw.maxFailures !== undefined ? parseNonNegativeInt(raw.maxFailures, '--max-failures') : 4,
    ...(raw.report !== undefined ? { report: raw.report } : {}),
    json: raw.json === true,
  };
}

export function fuzzJson(o: FuzzCommandOptions, r: FuzzResult, events?: number): Record<string, unknown> {
  const t = o.target;
  const ce = r.counterexample;
  return {
    schema: 1,
    command: 'fuzz',
    ...deploymentOfTarget(t),
    verdict: r.verdict,
    seed: r.seed,
    runs: r.runs,
    interrupted: r.interrupted,
    seconds: r.seconds,
    schedules_per_second: r.schedulesPerSecond,
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

export function writeCounterexampleFiles(dir: string, base: string, spec: Parameters<typeof buildCounterexample>[0]): string[] {
  const rep = buildCounterexample(spec);
  const files = [join(dir, `${base}.json`), join(dir, `${base}.md`), join(dir, `${base}.svg`)];
  writeFileAtomic(files[0]!, stableStringify(rep, 2) + '\n');
  writeFileAtomic(files[1]!, counterexampleMarkdown(rep, `${base}.svg`));
  writeFileAtomic(files[2]!, counterexampleSvg(rep));
  return files;
}

export async function runFuzz(o: FuzzCommandOptions, io: Io): Promise<number> {
  const st = createStyle(io);
  const t = o.target;
  if (!o.json) io.err(`fuzzing ${t.engine} B=${t.batch} on ${t.model}${t.faults.length ? ` with fault(s) ${t.faults.join(', ')}` : ''}${t.fixes.length ? ` with fix(es) ${t.fixes.join(', ')}` : ''}, seed ${o.seed}\n`);
  const r = fuzz({
    ...deploymentOfTarget(t),
    seed: o.seed,
    maxFailures: o.maxFailures,
    ...(o.runs !== undefined ? { runs: o.runs } : {}),
    ...(o.timeS !== undefined ? { timeLimitS: o.timeS } : {}),
  });
  let events: number | undefined;
  const ce = r.counterexample;
  if (ce) {
    const rep = buildCounterexample(ce.spec);
    events = rep.stats.events;
    if (o.report) {
      const files = writeCounterexampleFiles(resolvePath(io, o.report), `counterexample-${ce.property}`, ce.spec);
      if (!o.json) io.err(`wrote ${files.join(', ')}\n`);
    }
    if (o.json) io.out(stableStringify(fuzzJson(o, r, events)) + '\n');
    else {
      io.out(`${st.verdict('fail')} ${ce.property} after ${r.runs} schedule(s), shrunk in ${ce.shrinks} step(s) (seed ${r.seed})\n`);
      io.out(`  power fails before action(s): ${ce.spec.schedule.length ? ce.spec.schedule.join(', ') : 'none'}\n`);
      io.out(`  ${ce.violations[0]!.message}\n`);
      io.out(`  replay: japari replay ${ce.token}\n`);
    }
    return EXIT_CHECK_FAILED;
  }
  if (o.json) io.out(stableStringify(fuzzJson(o, r)) + '\n');
  else io.out(`${st.verdict('pass')} held for ${r.runs} schedule(s)${r.interrupted ? ' (time limit)' : ''} in ${r.seconds.toFixed(1)} s (${r.schedulesPerSecond.toFixed(0)} schedules/s), seed ${r.seed}\n`);
  return EXIT_OK;
}

export function register(program: Command, ctx: CommandContext): void {
  const cmd = program
    .command(name)
    .description('attack an engine with arbitrary power-failure schedules (fast-check) and shrink any failure to a replayable counterexample');
  addVerifyFlags(cmd)
    .option('--runs <n>', 'number of schedules (default 200)')
    .option('--time <duration>', 'fuzz for this long instead, e.g. 60s')
    .option('--seed <n>', 'fast-check seed (default: a fresh one, printed)')
    .option('--max-failures <k>', 'at most k power failures per schedule (default 4)')
    .option('--report <dir>', 'write the counterexample report (JSON, Markdown, SVG timeline) here')
    .option('--json', 'print one JSON document')
    .action(async (raw: RawFuzzFlags) => ctx.setExit(await runFuzz(parseFuzzOptions(raw), ctx.io)));
}
