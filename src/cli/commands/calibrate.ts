/**
 * `japari calibrate`: fit the build profiles' free constants on ../shared/reference/calibration.md
 * (src/bench/fit.ts) and write them, with every calibration row's residual, into
 * src/engines/reference/firmware-fit.ts (the build profiles load it). Deterministic and rerunnable:
 * a second run writes the same bytes. `--check` compares instead of writing (exit 1 when stale).
 */
import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { calibrationRows, fitConstants, fitSource } from '../../bench/fit.js';
import { FREE_CONSTANTS } from '../../engines/reference/firmware.js';
import { writeFileAtomicSync } from '../../util/fsx.js';
import { projectRoot } from '../../util/shared.js';
import { stableStringify } from '../../util/json.js';
import type { Io } from '../io.js';
import { type CommandContext, EXIT_OK, EXIT_CHECK_FAILED } from '../command.js';

export const name = 'calibrate';

export interface CalibrateOptions {
  readonly json: boolean;
  readonly check: boolean;
}

/** The committed source file the fitted constants live in. */
export function fitFile(): string {
  return join(projectRoot(), 'src', 'engines', 'reference', 'firmware-fit.ts');
}

export async function runCalibrate(opts: CalibrateOptions, io: Io): Promise<number> {
  const rows = calibrationRows();
  const log = opts.json ? () => undefined : (s: string) => io.err(`${s}\n`);
  log(`japari calibrate: ${rows.length} rows of calibration.md, free constants ${FREE_CONSTANTS.join(', ')}`);
  const fit = fitConstants(rows, log);
  const src = fitSource(fit);
  const path = fitFile();
  const old = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const stale = old !== src;
  if (!opts.check && stale) writeFileAtomicSync(path, src);
  if (opts.json) {
    io.out(`${stableStringify({ schema: 1, command: 'calibrate', constants: fit.constants, rows: fit.rows, file: path, written: !opts.check && stale, stale })}\n`);
  } else {
    for (const k of FREE_CONSTANTS) io.out(`${k.padEnd(22)} ${fit.constants[k]} cycles\n`);
    for (const r of fit.rows) io.out(`${r.build}  ${r.row.padEnd(62)} measured ${r.measured_s.toFixed(3)} s  model ${r.predicted_s.toFixed(3)} s  residual ${(100 * r.residual).toFixed(1)}%\n`);
    io.out(opts.check ? (stale ? `${path} is stale: rerun japari calibrate\n` : `${path} is up to date\n`) : stale ? `wrote ${path} (rebuild to use it: npm run build)\n` : `${path} unchanged\n`);
  }
  return opts.check && stale ? EXIT_CHECK_FAILED : EXIT_OK;
}

export function register(program: Command, ctx: CommandContext): void {
  program
    .command('calibrate')
    .description("fit the firmware builds' free constants on ../shared/reference/calibration.md and write them into the build profiles")
    .option('--check', 'compare with the committed constants instead of writing (exit 1 when stale)')
    .option('--json', 'print one JSON document to stdout')
    .action(async (raw: { json?: boolean; check?: boolean }) => {
      ctx.setExit(await runCalibrate({ json: raw.json === true, check: raw.check === true }, ctx.io));
    });
}
