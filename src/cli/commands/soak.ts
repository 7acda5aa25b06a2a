/**
 * `japari soak`: one device, hundreds of inferences back to back with random power failures, its
 * NVM carried across them (src/properties/soak.ts): long enough by default (300 inferences) to
 * wrap the model record's 8-bit version and the run counter's low byte. Prints the seed, how
 * long it took and what state it reached; a violation names the inference and how to reproduce
 * it.
 *
 * Exit 0 when every inference held, 1 on a violation, 2 on bad usage.
 */
import type { Command } from 'commander';
import { soak, SOAK_DEFAULT_INFERENCES, type SoakResult } from '../../properties/soak.js';
import { deploymentOf } from '../../properties/replay.js';
import { stableStringify } from '../../util/json.js';
import { UsageError } from '../../util/errors.js';
import type { Io } from '../io.js';
import { createStyle } from '../style.js';
import { parseNonNegativeInt, parsePositiveInt, parseSeed } from '../units.js';
import { addVerifyFlags, deploymentOfTarget, loadTargetModel, parseVerifyTarget, type RawVerifyFlags, type VerifyTarget } from '../verify-options.js';
import { createProgress } from '../progress.js';
import { freshSeed } from './fuzz.js';
import { type CommandContext, EXIT_CHECK_FAILED, EXIT_OK } from '../command.js';

export const name = 'soak';

export interface SoakCommandOptions {
  readonly target: VerifyTarget;
  readonly seed: number;
  readonly inferences: number;
  readonly maxFailures: number;
  readonly json: boolean;
}

interface RawSoakFlags extends RawVerifyFlags {
  readonly seed?: string;
  readonly inferences?: string;
  readonly maxFailures?: string;
  readonly json?: boolean;
}

export function parseSoakOptions(raw: RawSoakFlags, io: Pick<Io, 'cwd'> = { cwd: process.cwd() }): SoakCommandOptions {
  for (const f of ['input', 'warmup'] as const) {
    if (raw[f] !== undefined) throw new UsageError(`--${f} does not apply to soak: every inference draws its input from the seed, and each runs on the NVM the previous one left`);
  }
  if (raw.model?.trim() === 'random') throw new UsageError('--model random does not apply to soak: one device runs one model');
  return {
    target: parseVerifyTarget(raw, io),
    seed: raw.seed !== undefined ? parseSeed(raw.seed) : freshSeed(),
    inferences: raw.inferences !== undefined ? parsePositiveInt(raw.inferences, '--inferences') : SOAK_DEFAULT_INFERENCES,
    maxFailures: raw.maxFailures !== undefined ? parseNonNegativeInt(raw.maxFailures, '--max-failures') : 3,
    json: raw.json === true,
  };
}

export function soakJson(o: SoakCommandOptions, r: SoakResult): Record<string, unknown> {
  const t = o.target;
  return {
    schema: 1,
    command: 'soak',
    ...deploymentOfTarget(t),
    seed: r.seed,
    verdict: r.verdict,
    inferences: r.inferences,
    requested_inferences: o.inferences,
    max_failures_per_inference: o.maxFailures,
    power_failures: r.failures,
    interrupted_inferences: r.interrupted,
    seconds: r.seconds,
    record_version_wraps: r.versionWraps,
    record_version: r.lastVersion,
    run_counter: r.runCounter,
    run_counter_low_byte_wraps: r.runCounterWraps,
    max_turning_points: r.maxTurningPoints,
    turning_point_capacity: r.turningPointCapacity,
    state_bit_flips: r.stateFlips,
    ...(r.failure
      ? {
          failure: {
            inference: r.failure.inference,
            input: r.failure.input,
            schedule: r.failure.schedule,
            properties: [...new Set(r.failure.violations.map((v) => v.property))],
            message: r.failure.violations[0]!.message,
            ...(r.failure.token ? { replay: r.failure.token } : {}),
            reproduce: `japari soak ${reproduceFlags(o)} --inferences ${r.failure.inference + 1}`,
          },
        }
      : {}),
  };
}

function reproduceFlags(o: SoakCommandOptions): string {
  const t = o.target;
  return [`--model ${t.model}`, `--engine ${t.engine}`, `--batch ${t.batch}`, `--placement ${t.placement}`, `--profile ${t.profile}`, ...(t.faults.length ? [`--fault ${t.faults.join(',')}`] : []), ...(t.fixes.length ? [`--fix ${t.fixes.join(',')}`] : []), `--max-failures ${o.maxFailures}`, `--seed ${o.seed}`].join(' ');
}

export async function runSoak(o: SoakCommandOptions, io: Io): Promise<number> {
  const st = createStyle(io);
  const t = o.target;
  loadTargetModel(io, t.model);
  deploymentOf(deploymentOfTarget(t));
  io.err(`soaking ${t.engine} B=${t.batch} on ${t.model}: ${o.inferences} inferences, up to ${o.maxFailures} power failure(s) each, seed ${o.seed}\n`);
  const progress = createProgress(io, 'soak');
  const r = soak({ run: deploymentOfTarget(t), seed: o.seed, inferences: o.inferences, maxFailures: o.maxFailures, onProgress: (done, total) => progress.update(done, total, 'inferences') });
  progress.done();
  if (o.json) {
    io.out(stableStringify(soakJson(o, r)) + '\n');
    return r.verdict === 'pass' ? EXIT_OK : EXIT_CHECK_FAILED;
  }
  const state = `record version wrapped ${r.versionWraps} time(s) (now ${r.lastVersion}), run counter ${r.runCounter} (low byte wrapped ${r.runCounterWraps} time(s)), state bits flipped ${r.stateFlips} time(s), at most ${r.maxTurningPoints} of ${r.turningPointCapacity} turning points in a slot`;
  if (r.failure) {
    const f = r.failure;
    io.out(`${st.verdict('fail')} inference ${f.inference + 1} of ${o.inferences} (input ${f.input}, power fails before action(s) ${f.schedule.join(', ') || 'none'}): ${f.violations[0]!.property}: ${f.violations[0]!.message}\n`);
    io.out(`  after ${r.failures} power failure(s) in ${r.seconds.toFixed(1)} s; ${state}\n`);
    io.out(`  reproduce: japari soak ${reproduceFlags(o)} --inferences ${f.inference + 1}\n`);
    if (f.token) io.out(`  replay (the earlier inferences uninterrupted): japari replay ${f.token}\n`);
    else io.out('  (it needs the earlier inferences\' power failures: no single-inference replay token reproduces it)\n');
    return EXIT_CHECK_FAILED;
  }
  io.out(`${st.verdict('pass')} ${r.inferences} inferences held, ${r.failures} power failure(s) in ${r.interrupted} of them, in ${r.seconds.toFixed(1)} s (seed ${r.seed})\n`);
  io.out(`  ${state}\n`);
  if (r.versionWraps === 0) io.out(`  note: the record version did not wrap; run more inferences (--inferences) to exercise the wrap\n`);
  return EXIT_OK;
}

export function register(program: Command, ctx: CommandContext): void {
  const cmd = program.command(name).description('run hundreds of inferences back to back on one device with random power failures (state that accumulates: version wraps, state bits, turning points)');
  addVerifyFlags(cmd)
    .option('--inferences <n>', `inferences to run (default ${SOAK_DEFAULT_INFERENCES}: the record's 8-bit version and the run counter's low byte wrap)`)
    .option('--max-failures <k>', 'at most k power failures per inference (default 3)')
    .option('--seed <n>', 'seed of the inputs, schedules and SRAM garbage (default: a fresh one, printed)')
    .option('--json', 'print one JSON document')
    .action(async (raw: RawSoakFlags) => ctx.setExit(await runSoak(parseSoakOptions(raw, ctx.io), ctx.io)));
}
