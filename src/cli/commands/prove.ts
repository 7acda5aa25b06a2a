/**
 * `japari prove`: Z3 proofs of a deployment's obligations (src/smt): indicator
 * distinguishability, indicator arithmetic, augmentation transparency, seeker exactness and
 * layer commit, per layer, each proved, refuted (with a counterexample and, where it describes
 * a run, a replay token the executable model reproduces) or unknown (with the limit it hit).
 *
 * Exit 0 when every obligation is proved; 1 when one is refuted or unknown (unknown is not a
 * pass); 2 on bad usage or input.
 */
import type { Command } from 'commander';
import type { EngineKind } from '../../engines/reference/plan.js';
import { engineKinds } from '../../engines/designs.js';
import type { NvmPlacement } from '../../device/profile.js';
import type { LeaArithmetic } from '../../device/lea.js';
import { FIX_IDS } from '../../engines/catalogue.js';
import { UsageError } from '../../util/errors.js';
import { stableStringify } from '../../util/json.js';
import type { Io } from '../io.js';
import { createStyle } from '../style.js';
import { parseDuration, parseList, parsePositiveInt } from '../units.js';
import { PLACEMENTS, PROFILE_NAMES, parseEngine, parseFirmware, parsePlacement, parseProfileName, type ProfileName } from '../options.js';
import { type FirmwareId, FIRMWARE_IDS, DEFAULT_FIRMWARE } from '../../engines/reference/firmware.js';
import { checkBatchForEngine, loadTargetModel, parseFixes, resolveModelSpec } from '../verify-options.js';
import { type CommandContext, EXIT_CHECK_FAILED, EXIT_OK } from '../command.js';
import { prove, parseObligationId, type ProofReport } from '../../smt/prove.js';
import { OBLIGATION_IDS, type ObligationId, type ObligationResult } from '../../smt/obligation.js';
import { sharedZ3, closeSharedZ3 } from '../../smt/runtime.js';
import { canonicalResult } from '../../smt/report.js';

export const name = 'prove';

export interface ProveCommandOptions {
  readonly model: string;
  readonly engine: EngineKind;
  readonly batch: number;
  readonly placement: NvmPlacement;
  readonly profile: ProfileName;
  readonly firmware: FirmwareId;
  readonly obligation?: ObligationId;
  readonly layer?: string;
  readonly timeoutMs: number;
  readonly maxJobs?: number;
  readonly opFilters?: number;
  readonly maxRowTile?: number;
  readonly fixes: readonly string[];
  readonly arithmetic?: LeaArithmetic;
  readonly weights: 'concrete' | 'symbolic' | 'auto';
  readonly replay: boolean;
  readonly json: boolean;
}

export interface RawProveFlags {
  readonly model?: string;
  readonly engine?: string;
  readonly batch?: string;
  readonly placement?: string;
  readonly profile?: string;
  readonly firmware?: string;
  readonly obligation?: string;
  readonly layer?: string;
  readonly timeout?: string;
  readonly maxJobs?: string;
  readonly opFilters?: string;
  readonly rowTile?: string;
  readonly fix?: string;
  readonly lea?: string;
  readonly weights?: string;
  readonly replay?: boolean;
  readonly json?: boolean;
}

export const PROVE_DEFAULTS = { model: 'lenet', engine: 'japari', batch: '1', placement: 'spi-fram', profile: 'inas2021', timeout: '30s' } as const;

/** "--lea 32,wrap,truncate,saturate" (accumulator bits, accumulate, rounding, saturate|wrap16). */
export function parseLea(text: string, option = '--lea'): LeaArithmetic {
  const parts = parseList(text, (s) => s, option);
  const usage = `${option}: expected <32|40|64>,<wrap|saturate-q31>,<truncate|nearest>,<saturate|wrap16>, got ${JSON.stringify(text)}`;
  if (parts.length !== 4) throw new UsageError(usage);
  const [bits, accumulate, rounding, sat] = parts as [string, string, string, string];
  if (!['32', '40', '64'].includes(bits) || !['wrap', 'saturate-q31'].includes(accumulate) || !['truncate', 'nearest'].includes(rounding) || !['saturate', 'wrap16'].includes(sat)) {
    throw new UsageError(usage);
  }
  return {
    accumulatorBits: Number(bits) as 32 | 40 | 64,
    accumulate: accumulate as LeaArithmetic['accumulate'],
    rounding: rounding as LeaArithmetic['rounding'],
    saturate: sat === 'saturate',
  };
}

export function parseProveOptions(raw: RawProveFlags, io: Pick<Io, 'cwd'> = { cwd: process.cwd() }): ProveCommandOptions {
  const model = resolveModelSpec(io, (raw.model ?? PROVE_DEFAULTS.model).trim());
  if (model === '') throw new UsageError('--model: expected a model name or a .onnx path');
  const engine = parseEngine(raw.engine ?? PROVE_DEFAULTS.engine);
  // The same vocabulary as fuzz and explore: ids, all, or none.
  const fixes = parseFixes(raw.fix, engine);
  const batch = parsePositiveInt(raw.batch ?? PROVE_DEFAULTS.batch, '--batch');
  checkBatchForEngine(engine, batch);
  // --max-jobs bounds the JAPARI seeker's obligations only; elsewhere it would silently change nothing.
  if (raw.maxJobs !== undefined && engine !== 'japari') throw new UsageError(`--max-jobs bounds the japari engine's obligations; the ${engine} engine's have no job bound`);
  const weights = raw.weights ?? 'auto';
  if (weights !== 'concrete' && weights !== 'symbolic' && weights !== 'auto') throw new UsageError(`--weights: expected concrete, symbolic or auto, got ${JSON.stringify(weights)}`);
  const timeoutS = parseDuration(raw.timeout ?? PROVE_DEFAULTS.timeout, '--timeout');
  return {
    model,
    engine,
    batch,
    placement: parsePlacement(raw.placement ?? PROVE_DEFAULTS.placement),
    profile: parseProfileName(raw.profile ?? PROVE_DEFAULTS.profile),
    firmware: parseFirmware(raw.firmware ?? DEFAULT_FIRMWARE),
    ...(raw.obligation !== undefined ? { obligation: parseObligationId(raw.obligation) } : {}),
    ...(raw.layer !== undefined ? { layer: raw.layer } : {}),
    timeoutMs: Math.max(1, Math.round(timeoutS * 1000)),
    ...(raw.maxJobs !== undefined ? { maxJobs: parsePositiveInt(raw.maxJobs, '--max-jobs') } : {}),
    ...(raw.opFilters !== undefined ? { opFilters: parsePositiveInt(raw.opFilters, '--op-filters') } : {}),
    ...(raw.rowTile !== undefined ? { maxRowTile: parsePositiveInt(raw.rowTile, '--row-tile') } : {}),
    fixes,
    ...(raw.lea !== undefined ? { arithmetic: parseLea(raw.lea) } : {}),
    weights,
    replay: raw.replay !== false,
    json: raw.json === true,
  };
}

export interface ProveCommandReport extends ProofReport {
  readonly command: 'prove';
  readonly timeout_s: number;
  readonly seconds: number;
}

/** JSON view of one result (snake_case keys, the fields the issue names first): the committed form plus time and queries. */
export function resultJson(r: ObligationResult): Record<string, unknown> {
  const { id, layer, verdict, statement, encoding, tied_to, ...rest } = canonicalResult(r);
  return { id, layer, verdict, seconds: r.seconds, statement, encoding, tied_to, queries: r.queries, ...rest };
}

export async function executeProve(opts: ProveCommandOptions, io: Pick<Io, 'err' | 'isTTY'>): Promise<ProveCommandReport> {
  const t0 = performance.now();
  try {
    const report = await prove(
      {
        model: opts.model,
        engine: opts.engine,
        batch: opts.batch,
        placement: opts.placement,
        profile: opts.profile,
        firmware: opts.firmware,
        fixes: opts.fixes,
        ...(opts.arithmetic ? { arithmetic: opts.arithmetic } : {}),
        ...(opts.maxJobs !== undefined ? { maxJobs: opts.maxJobs } : {}),
        ...(opts.opFilters !== undefined ? { opFilters: opts.opFilters } : {}),
        ...(opts.maxRowTile !== undefined ? { maxRowTile: opts.maxRowTile } : {}),
        weights: opts.weights,
        ...(opts.obligation ? { obligation: opts.obligation } : {}),
        ...(opts.layer !== undefined ? { layer: opts.layer } : {}),
        timeoutMs: opts.timeoutMs,
        replay: opts.replay,
      },
      sharedZ3(),
      (r) => {
        if (io.isTTY) io.err(`  ${r.verdict.padEnd(8)} ${r.id} ${r.layer} (${r.seconds.toFixed(2)} s)\n`);
      },
    );
    return { ...report, command: 'prove', timeout_s: opts.timeoutMs / 1000, seconds: (performance.now() - t0) / 1000 };
  } finally {
    await closeSharedZ3();
  }
}

function detailOf(r: ObligationResult): string {
  if (r.verdict === 'proved') return r.bound ? `bound: ${r.bound}` : '';
  if (r.verdict === 'unknown') return `unknown: ${r.limit ?? 'limit'}`;
  const cex = JSON.stringify(r.counterexample ?? {});
  const replay = r.replay ? ('token' in r.replay ? ` replay ${r.replay.reproduced ? 'reproduces' : 'does NOT reproduce'}: ${r.replay.token}` : ` (${r.replay.note})`) : '';
  return `${r.goal ?? ''}: ${cex.length > 160 ? `${cex.slice(0, 157)}...` : cex}${r.finding ? ` [finding ${r.finding}]` : ''}${replay}`;
}

export function renderProve(r: ProveCommandReport, io: Pick<Io, 'isTTY' | 'env'>): string {
  const s = createStyle(io);
  const head = `${s.heading('japari prove')}: ${r.model}, ${r.engine}, B = ${r.batch}, NVM ${r.placement}${r.fixes.length > 0 ? `, fixes ${r.fixes.join(', ')}` : ''}, timeout ${r.timeout_s} s per obligation`;
  const rows = r.obligations.map((o) => [o.id, o.layer, o.verdict === 'proved' ? s.ok('proved') : o.verdict === 'refuted' ? s.fail('refuted') : s.warn('unknown'), `${o.seconds.toFixed(2)} s`, detailOf(o)]);
  const table = s.table([{ header: 'obligation' }, { header: 'layer' }, { header: 'verdict' }, { header: 'time', align: 'right' }, { header: 'detail' }], rows);
  const c = r.counts;
  const tally = `${c.proved} proved, ${c.refuted} refuted, ${c.unknown} unknown in ${r.seconds.toFixed(1)} s`;
  // A bound is part of the verdict, not only of the JSON: "proved for jobs <= 1" is no full proof.
  const bound = r.max_jobs !== undefined ? ` for jobs <= ${r.max_jobs} only (--max-jobs)` : '';
  const verdict = c.refuted === 0 && c.unknown === 0 ? s.ok(`${tally}: PROVED${bound}`) : s.fail(`${tally}: NOT PROVED${bound ? ` (checked${bound})` : ''}`);
  return `${head}\n\n${table}\n\n${verdict}\n`;
}

export function proveJson(r: ProveCommandReport): Record<string, unknown> {
  return { ...r, obligations: r.obligations.map(resultJson) };
}

export async function runProve(opts: ProveCommandOptions, io: Io): Promise<number> {
  loadTargetModel(io, opts.model);
  const report = await executeProve(opts, io);
  io.out(opts.json ? `${stableStringify(proveJson(report))}\n` : renderProve(report, io));
  return report.counts.refuted === 0 && report.counts.unknown === 0 ? EXIT_OK : EXIT_CHECK_FAILED;
}

export function register(program: Command, ctx: CommandContext): void {
  program
    .command('prove')
    .description('prove (Z3) the progress-indicator obligations of a deployment: proved, refuted with a replayable counterexample, or unknown')
    .option('--model <name|file.onnx>', 'lenet, tiny-*, mnist, har, kws, cifar10, rnd:..., or an ONNX file', PROVE_DEFAULTS.model)
    .option('--engine <kind>', `engine: ${engineKinds().join(', ')}`, PROVE_DEFAULTS.engine)
    .option('--batch <B>', 'preservation granularity B', PROVE_DEFAULTS.batch)
    .option('--obligation <id>', `only this obligation: ${OBLIGATION_IDS.join(', ')}`)
    .option('--layer <text>', 'only layers whose label contains this text (e.g. conv1, "#3", "model record")')
    .option('--timeout <duration>', 'Z3 time per obligation, e.g. 30s (a limit hit is "unknown", never a pass)', PROVE_DEFAULTS.timeout)
    .option('--max-jobs <N>', 'prove for the first N jobs of each layer (and the binary search for every job count <= N)')
    .option('--op-filters <N>', 'tile size: FC outputs per LEA call (default 4, or 2 for CIFAR-10)')
    .option('--row-tile <N>', 'tile size: at most N conv output rows per row tile (default 8)')
    .option('--fix <id,...>', `prove the corrected design: ${FIX_IDS.join(', ')}, all (every fix of the engine) or none`)
    .option('--lea <bits,accumulate,rounding,saturate>', 'LEA arithmetic, e.g. 32,wrap,truncate,saturate (TI reference, the default) or 40,saturate-q31,nearest,wrap16')
    .option('--weights <mode>', 'augmentation transparency: concrete, symbolic (all layers) or auto (symbolic on layers with <= 64 weights)', 'auto')
    .option('--placement <where>', `NVM for feature maps: ${PLACEMENTS.join(', ')}`, PROVE_DEFAULTS.placement)
    .option('--profile <name>', `device cost profile: ${PROFILE_NAMES.join(', ')}`, PROVE_DEFAULTS.profile)
    .option('--firmware <id>', `firmware build: ${FIRMWARE_IDS.join(', ')}`, DEFAULT_FIRMWARE)
    .option('--no-replay', 'do not replay refutations on the executable model')
    .option('--json', 'print one JSON document to stdout')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  japari prove --model lenet --engine japari --json',
        '  japari prove --model tiny-concat --engine hawaii --batch 4 --obligation seeker-exactness',
        '  japari prove --model cifar10 --engine japari-loopcount --obligation indicator-arithmetic',
        '  japari prove --model mnist --engine japari --batch 4 --fix japari-gemm-column-sign --timeout 60s',
        '',
        'Exit status: 0 every obligation proved, 1 one refuted or unknown, 2 bad usage or input.',
      ].join('\n'),
    )
    .action(async (raw: RawProveFlags) => {
      ctx.setExit(await runProve(parseProveOptions(raw, ctx.io), ctx.io));
    });
}
