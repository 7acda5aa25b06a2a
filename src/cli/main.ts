/**
 * The japari command line: one commander program, built fresh per call, whose commands come
 * from the COMMANDS list below (adding a command = one import and one list entry).
 *
 * main() never exits the process and never writes outside `io`: it returns the exit code,
 * which bin/japari.js hands to the process. Errors map to exit codes here and only here:
 *   UsageError / InputError / ConfigError, and commander's parse errors -> "japari: <message>", 2
 *   anything else -> "japari: internal error: <message>", 70 (stack when JAPARI_DEBUG is set)
 */
import { Command, CommanderError } from 'commander';
import type { Io } from './io.js';
export { realIo, captureIo, type Io } from './io.js';
import { type CommandModule, type CommandContext, EXIT_INTERNAL, EXIT_USAGE } from './command.js';
import { UsageError, InputError, ConfigError } from '../util/errors.js';
import { isAbsolute, resolve } from 'node:path';
import { loadEngineModule } from '../properties/modules.js';
import { VERSION } from '../util/version.js';
import * as models from './commands/models.js';
import * as calibrate from './commands/calibrate.js';
import * as plan from './commands/plan.js';
import * as run from './commands/run.js';
import * as check from './commands/check.js';
import * as prove from './commands/prove.js';
import * as bench from './commands/bench.js';
import * as fuzz from './commands/fuzz.js';
import * as explore from './commands/explore.js';
import * as merge from './commands/merge.js';
import * as replay from './commands/replay.js';
import * as reports from './commands/reports.js';
import * as mutants from './commands/mutants.js';

/** Every command, in help order. */
export const COMMANDS: readonly CommandModule[] = [check, run, models, fuzz, explore, merge, replay, reports, mutants, bench, prove, calibrate, plan];

export function buildProgram(ctx: CommandContext, commands: readonly CommandModule[] = COMMANDS): Command {
  const { io } = ctx;
  const program = new Command('japari')
    .description('Verify, fuzz, prove and measure intermittent DNN inference engines (HAWAII, JAPARI) on an executable MSP430FR5994 + LEA + FRAM model')
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .helpCommand('help [command]', 'show help for a command')
    .addHelpText('after', '\nAny command also takes --engine-module <file.js> (repeatable): an ES module exporting an engine design of your own\n(and optionally `properties`), loaded first so its kind works as --engine (see the README, "Write your own engine").\n')
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (s) => io.out(s),
      writeErr: (s) => io.err(s),
      // Parse errors are printed by main() as one "japari: ..." line; commander stays quiet.
      outputError: () => undefined,
    });
  for (const cmd of commands) cmd.register(program, ctx);
  for (const sub of program.commands) sub.helpOption('-h, --help', 'show help');
  return program;
}

/** Run the CLI on `argv` (without node and script); `commands` is for tests. */
/**
 * `--engine-module <file.js>` (any command, repeatable) loads an engine module before the command
 * runs, so its design is an --engine of every command (src/properties/modules.ts). It is taken
 * out of argv here, before commander sees the command's own flags.
 */
export function splitEngineModules(argv: readonly string[]): { rest: string[]; modules: string[] } {
  const rest: string[] = [];
  const modules: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (a === '--engine-module') {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('-')) throw new UsageError('--engine-module needs a path to an ES module (e.g. --engine-module ./my-engine.js)');
      modules.push(v);
      i++;
    } else if (a.startsWith('--engine-module=')) modules.push(a.slice('--engine-module='.length));
    else rest.push(a);
  }
  return { rest, modules };
}

export async function main(argv: readonly string[], io: Io, commands: readonly CommandModule[] = COMMANDS): Promise<number> {
  let exit = 0;
  let program: Command | null = null;
  try {
    const { rest, modules } = splitEngineModules(argv);
    for (const m of modules) await loadEngineModule(isAbsolute(m) ? m : resolve(io.cwd, m));
    // Built after the modules load, so help texts list their engines.
    program = buildProgram({ io, setExit: (code) => (exit = code) }, commands);
    await program.parseAsync(rest, { from: 'user' });
    return exit;
  } catch (e) {
    // Point at the right help page: the command the user named, if any.
    const first = argv.find((a) => !a.startsWith('-'));
    const sub = program?.commands.find((c) => c.name() === first);
    return reportError(e, io, sub ? `japari ${sub.name()} --help` : 'japari --help');
  }
}

function isExpected(e: unknown): e is UsageError | InputError | ConfigError {
  return e instanceof UsageError || e instanceof InputError || e instanceof ConfigError;
}

/** One line on stderr, and the exit code. */
function reportError(e: unknown, io: Io, helpHint: string): number {
  if (e instanceof CommanderError) {
    // --help, --version and `help` end the parse by throwing with exit code 0.
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
    if (e.code === 'commander.help') return e.exitCode === 0 ? 0 : EXIT_USAGE; // no command given: help went to stderr
    const msg = e.message
      .replace(/^error: /, '')
      .replace(/\s*\(Did you mean (.*)\?\)/, '; did you mean $1?')
      .replace(/\s*\n\s*/g, ' ')
      .trim();
    io.err(`japari: ${msg} (see ${helpHint})\n`);
    return EXIT_USAGE;
  }
  if (isExpected(e)) {
    io.err(`japari: ${e.message}\n`);
    return EXIT_USAGE;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  io.err(`japari: internal error: ${err.message}\n`);
  if (io.env['JAPARI_DEBUG']) io.err(`${err.stack ?? err.message}\n`);
  else io.err('japari: set JAPARI_DEBUG=1 for the stack trace\n');
  return EXIT_INTERNAL;
}
