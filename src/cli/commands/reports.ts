/**
 * `japari reports`: regenerate the canonical reports under reports/ (findings, verification of
 * the default model, proofs, benchmarks, mutants -- whichever producers are registered),
 * byte-identically; `--check` compares instead of writing and exits 1 when a report is stale.
 */
import type { Command } from 'commander';
import { join } from 'node:path';
import { generateReports, PRODUCERS } from '../../report/canonical.js';
import { projectRoot } from '../../util/shared.js';
import { parseList } from '../units.js';
import { createProgress } from '../progress.js';
import { validateOutputDir } from '../../util/fsx.js';
import { UsageError } from '../../util/errors.js';
import type { Io } from '../io.js';
import { resolvePath } from '../options.js';
import { createStyle } from '../style.js';
import { type CommandContext, EXIT_CHECK_FAILED, EXIT_OK } from '../command.js';
import '../../report/producers.js';
import '../../bench/fidelity.js';

export const name = 'reports';

export interface ReportsOptions {
  readonly check: boolean;
  readonly only?: readonly string[];
  readonly root: string;
}

export async function runReports(o: ReportsOptions, io: Io): Promise<number> {
  const st = createStyle(io);
  if (!o.check) validateOutputDir(o.root, '--root', io.cwd);
  const progress = createProgress(io, 'reports');
  const r = await generateReports(o.root, {
    check: o.check,
    ...(o.only ? { only: o.only } : {}),
    onStep: (e) => {
      if (e.phase === 'start') progress.step(`${e.producer}...`, e.index, e.count);
      else if (e.phase === 'inside') progress.step(`${e.producer}: ${e.text} (${(e.done ?? 0) + 1} of ${e.total})`, e.index, e.count);
      else progress.step(`${e.producer}: ${e.files} file(s) produced`, e.index + 1, e.count);
    },
  });
  progress.done();
  if (r.skipped.length > 0) {
    io.out(`${r.skipped.length} report(s) need ../shared for some of their rows; ${o.check ? 'not compared' : 'committed versions kept'}:\n${r.skipped.map((p) => `  ${p}`).join('\n')}\n`);
  }
  if (o.check) {
    if (r.stale.length > 0) {
      io.out(`${st.verdict('fail')} ${r.stale.length} stale report(s) (run npm run reports):\n${r.stale.map((p) => `  ${p}`).join('\n')}\n`);
      return EXIT_CHECK_FAILED;
    }
    io.out(`${st.verdict('pass')} ${r.unchanged.length} report(s) up to date\n`);
    return EXIT_OK;
  }
  io.out(`wrote ${r.written.length} report(s), ${r.unchanged.length} unchanged, under ${o.root}\n`);
  for (const p of r.written) io.out(`  ${p}\n`);
  return EXIT_OK;
}

export function register(program: Command, ctx: CommandContext): void {
  program
    .command(name)
    .description('regenerate the canonical reports under reports/ (or check that they are up to date)')
    .option('--check', 'compare with the committed reports instead of writing; exit 1 when stale')
    .option('--only <ids>', 'comma-separated producers to run (findings, verification, ...)')
    .option('--root <dir>', 'reports folder (default: the project\'s reports/)')
    .action(async (raw: { check?: boolean; only?: string; root?: string }) => {
      const only = raw.only !== undefined ? parseList(raw.only, (s) => s, '--only') : undefined;
      for (const id of only ?? []) if (!PRODUCERS.some((p) => p.id === id)) throw new UsageError(`--only: unknown report ${JSON.stringify(id)} (known: ${PRODUCERS.map((p) => p.id).join(', ')})`);
      ctx.setExit(
        await runReports({ check: raw.check === true, ...(only ? { only } : {}), root: raw.root !== undefined ? resolvePath(ctx.io, raw.root) : join(projectRoot(), 'reports') }, ctx.io),
      );
    });
}
