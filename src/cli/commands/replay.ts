/**
 * `japari replay <token>`: re-run a counterexample exactly (model, engine, parameters, faults,
 * fixes, input, warm-up, garbage seed and schedule all come from the token) with every property
 * monitored, and print its report: violations, seeks, a trace around each power failure, and the
 * output difference.
 *
 * Exit 1 when a property is violated (the counterexample reproduces), 0 when the run passes.
 */
import type { Command } from 'commander';
import { decodeToken } from '../../properties/token.js';
import { buildCounterexample, counterexampleMarkdown } from '../../report/counterexample.js';
import { stableStringify } from '../../util/json.js';
import type { Io } from '../io.js';
import { resolvePath } from '../options.js';
import { writeCounterexampleFiles } from './fuzz.js';
import { type CommandContext, EXIT_CHECK_FAILED, EXIT_OK } from '../command.js';

export const name = 'replay';

export interface ReplayCommandOptions {
  readonly token: string;
  readonly report?: string;
  readonly json: boolean;
}

export async function runReplay(o: ReplayCommandOptions, io: Io): Promise<number> {
  const spec = decodeToken(o.token);
  const rep = buildCounterexample(spec);
  if (o.report) {
    const files = writeCounterexampleFiles(resolvePath(io, o.report), 'replay', spec);
    if (!o.json) io.err(`wrote ${files.join(', ')}\n`);
  }
  if (o.json) {
    io.out(
      stableStringify({
        schema: 1,
        command: 'replay',
        verdict: rep.verdict,
        replay: rep.token,
        spec: rep.spec,
        properties: rep.properties,
        violations: rep.violations,
        seeks: rep.seeks,
        failures: rep.failures,
        output: rep.output,
        events: rep.stats.events,
      }) + '\n',
    );
  } else {
    io.out(counterexampleMarkdown(rep));
  }
  return rep.verdict === 'fail' ? EXIT_CHECK_FAILED : EXIT_OK;
}

export function register(program: Command, ctx: CommandContext): void {
  program
    .command(name)
    .description('re-run a counterexample from its replay token and print its report')
    .argument('<token>', 'a replay token (jp1....) printed by fuzz, explore, prove or mutants')
    .option('--report <dir>', 'also write the report (JSON, Markdown, SVG timeline) here')
    .option('--json', 'print one JSON document')
    .action(async (token: string, raw: { report?: string; json?: boolean }) =>
      ctx.setExit(await runReplay({ token, ...(raw.report !== undefined ? { report: raw.report } : {}), json: raw.json === true }, ctx.io)),
    );
}
