/**
 * `japari run`: one inference of one model with one engine on the modelled device, under
 * continuous power, a failure schedule (--fail-at) or an energy-driven supply (--capacitor),
 * compared with the bit-exact Q15 reference.
 *
 * Exit 0 when the inference completed and its output equals the reference, 1 otherwise (a
 * failed check), 2 on bad usage or input.
 *
 * The JSON report is the source of truth; the human summary is rendered from it.
 */
import type { Command } from 'commander';
import { loadModel, readInputFile, type LoadedModel } from '../../model/models.js';
import { Deployment, runInference } from '../../engines/runner.js';
import { assertChargeFundsOneJob } from '../../properties/progress.js';
import type { EngineKind } from '../../engines/reference/plan.js';
import { engineKinds } from '../../engines/designs.js';
import { activePowerW, type NvmPlacement } from '../../device/profile.js';
import { CATEGORIES, type TraceEvent } from '../../device/device.js';
import { UsageError } from '../../util/errors.js';
import { stableStringify } from '../../util/json.js';
import type { Io } from '../io.js';
import { createStyle, type Style } from '../style.js';
import { fmtCount, fmtJoules, fmtPercent, fmtSeconds, fmtWatts, parsePositiveInt, parseNonNegativeInt, parseSeed } from '../units.js';
import {
  type ProfileName,
  type RawSupplyFlags,
  type SupplySpec,
  PLACEMENTS,
  PROFILE_NAMES,
  buildSupply,
  describeSupply,
  parseAblation,
  parseEngine,
  parseFirmware,
  parsePlacement,
  parseProfileName,
  parseSupply,
  profileOf,
  resolvePath,
  supplyJson,
} from '../options.js';
import { type FirmwareId, FIRMWARE_IDS, DEFAULT_FIRMWARE } from '../../engines/reference/firmware.js';
import { type Ablation, ABLATIONS } from '../../engines/reference/plan.js';
import { type CommandContext, EXIT_CHECK_FAILED, EXIT_OK } from '../command.js';
import { checkBatchForEngine, loadTargetModel, resolveModelSpec } from '../verify-options.js';

export const name = 'run';

export type InputSpec = { readonly kind: 'index'; readonly index: number } | { readonly kind: 'file'; readonly path: string };

export interface RunCommandOptions {
  /** lenet, tiny-*, mnist, har, kws, cifar10, or a path ending in .onnx. */
  readonly model: string;
  readonly input: InputSpec;
  readonly engine: EngineKind;
  readonly batch: number;
  readonly placement: NvmPlacement;
  readonly profile: ProfileName;
  readonly firmware: FirmwareId;
  readonly ablate: Ablation | null;
  readonly supply: SupplySpec;
  /** Seed of the garbage SRAM holds after each reboot. */
  readonly seed: number;
  readonly traceEvents: boolean;
  readonly json: boolean;
}

export const RUN_DEFAULTS = {
  model: 'lenet',
  input: '0',
  engine: 'continuous',
  batch: '1',
  placement: 'spi-fram',
  profile: 'inas2021',
  firmware: DEFAULT_FIRMWARE,
  seed: '0',
} as const;

/** The flags as commander hands them over. */
export interface RawRunFlags extends RawSupplyFlags {
  readonly model?: string;
  readonly input?: string;
  readonly engine?: string;
  readonly batch?: string;
  readonly placement?: string;
  readonly profile?: string;
  readonly firmware?: string;
  readonly ablate?: string;
  readonly seed?: string;
  readonly traceEvents?: boolean;
  readonly json?: boolean;
}

/** `--input 3` (a stored sample, or the seed of a synthetic input) or `--input x.json`. */
export function parseInputSpec(text: string, option = '--input'): InputSpec {
  const t = text.trim();
  if (/^[0-9]+$/.test(t)) return { kind: 'index', index: parseNonNegativeInt(t, option) };
  if (t.toLowerCase().endsWith('.json')) return { kind: 'file', path: t };
  throw new UsageError(`${option}: expected a sample index (0, 1, ...) or a .json file, got ${JSON.stringify(text)}`);
}

/** Validate raw flags into RunCommandOptions (UsageError on anything malformed). */
export function parseRunOptions(raw: RawRunFlags): RunCommandOptions {
  const model = (raw.model ?? RUN_DEFAULTS.model).trim();
  if (model === '') throw new UsageError('--model: expected a model name or a .onnx path');
  const engine = parseEngine(raw.engine ?? RUN_DEFAULTS.engine);
  const batch = parsePositiveInt(raw.batch ?? RUN_DEFAULTS.batch, '--batch');
  checkBatchForEngine(engine, batch);
  const supply = parseSupply(raw);
  const ablate = raw.ablate !== undefined ? parseAblation(raw.ablate) : null;
  // An ablated engine cannot recover (firmware-2021.md "Ablations"): continuous power only.
  if (ablate !== null && supply.kind !== 'continuous') throw new UsageError(`--ablate ${ablate}: an ablated run cannot recover, so it runs under continuous power only (drop --fail-at/--capacitor)`);
  return {
    model,
    input: parseInputSpec(raw.input ?? RUN_DEFAULTS.input),
    engine,
    batch,
    placement: parsePlacement(raw.placement ?? RUN_DEFAULTS.placement),
    profile: parseProfileName(raw.profile ?? RUN_DEFAULTS.profile),
    firmware: parseFirmware(raw.firmware ?? RUN_DEFAULTS.firmware),
    ablate,
    supply,
    seed: parseSeed(raw.seed ?? RUN_DEFAULTS.seed),
    traceEvents: raw.traceEvents === true,
    json: raw.json === true,
  };
}

// ---------------------------------------------------------------------------------------------
// The report

export interface CategoryFigures {
  readonly cycles: number;
  readonly seconds: number;
  readonly energy_mJ: number;
}

export interface RunReport {
  readonly schema: 1;
  readonly command: 'run';
  readonly model: string;
  readonly model_description: string;
  readonly engine: EngineKind;
  readonly batch: number;
  readonly placement: NvmPlacement;
  readonly profile: ProfileName;
  readonly firmware: FirmwareId;
  readonly ablate: Ablation | null;
  /** Sample index / seed, or the input file as given. */
  readonly input: number | string;
  readonly input_kind: 'sample' | 'synthetic' | 'file';
  readonly label?: number;
  readonly seed: number;
  readonly supply: Record<string, unknown>;
  readonly output: number[];
  readonly reference: number[];
  readonly top1: number;
  readonly reference_top1: number;
  readonly equal: boolean;
  readonly completed: boolean;
  readonly reason?: string;
  readonly latency_s: number;
  readonly on_time_s: number;
  readonly recharge_s: number;
  readonly power_cycles: number;
  readonly energy_mJ: number;
  readonly cycles: number;
  readonly actions: number;
  readonly nvm_bytes: number;
  readonly undefined_reads: number;
  readonly breakdown: Record<string, CategoryFigures>;
  readonly active_power_mW: number;
  readonly events?: readonly TraceEvent[];
}

/** Index of the first largest value (-1 for an empty output). */
export function argmax(xs: ArrayLike<number>): number {
  let best = -1;
  for (let i = 0; i < xs.length; i++) if (best < 0 || xs[i]! > xs[best]!) best = i;
  return best;
}

function resolveModel(spec: string, io: Pick<Io, 'cwd'>): LoadedModel {
  return loadModel(spec.toLowerCase().endsWith('.onnx') ? resolvePath(io, spec) : spec);
}

function inputOf(m: LoadedModel, spec: InputSpec, io: Pick<Io, 'cwd'>): { x: Int16Array; kind: RunReport['input_kind']; label?: number } {
  if (spec.kind === 'file') return { x: readInputFile(m, resolvePath(io, spec.path)), kind: 'file' };
  if (m.sampleCount > 0 && spec.index >= m.sampleCount) {
    throw new UsageError(`--input: ${m.name} has ${m.sampleCount} stored samples (0..${m.sampleCount - 1}), got ${spec.index}`);
  }
  const s = m.input(spec.index);
  return { x: m.inputQ(spec.index), kind: s.kind, ...(s.label !== undefined ? { label: s.label } : {}) };
}

/** Deploy, run one inference, and collect the report (no output). */
export function executeRun(opts: RunCommandOptions, io: Pick<Io, 'cwd'>): RunReport {
  const m = resolveModel(opts.model, io);
  const input = inputOf(m, opts.input, io);
  const profile = profileOf(opts.profile);
  const supply = buildSupply(opts.supply, io);
  const d = new Deployment(m.q, { engine: opts.engine, batch: opts.batch, placement: opts.placement, profile, firmware: opts.firmware, ablate: opts.ablate });
  // An impossible configuration is a usage error (exit 2), not a run that never finishes.
  assertChargeFundsOneJob(d, input.x, supply);
  const r = runInference(d, { input: input.x, supply, seed: opts.seed, trace: opts.traceEvents });
  const hz = profile.clockHz;
  const breakdown: Record<string, CategoryFigures> = {};
  for (const c of CATEGORIES) {
    const b = r.breakdown[c];
    breakdown[c] = { cycles: b.cycles, seconds: b.cycles / hz, energy_mJ: b.nj / 1e6 };
  }
  return {
    schema: 1,
    command: 'run',
    model: m.name,
    model_description: m.description,
    engine: opts.engine,
    batch: opts.batch,
    placement: opts.placement,
    profile: opts.profile,
    firmware: opts.firmware,
    ablate: opts.ablate,
    input: opts.input.kind === 'index' ? opts.input.index : opts.input.path,
    input_kind: input.kind,
    ...(input.label !== undefined ? { label: input.label } : {}),
    seed: opts.seed,
    supply: supplyJson(opts.supply, supply),
    output: Array.from(r.output),
    reference: Array.from(r.reference),
    top1: argmax(r.output),
    reference_top1: argmax(r.reference),
    equal: r.equal,
    completed: r.completed,
    ...(r.reason !== undefined ? { reason: r.reason } : {}),
    latency_s: r.latencyS,
    on_time_s: r.onTimeS,
    recharge_s: r.rechargeS,
    power_cycles: r.powerCycles,
    energy_mJ: r.energyMJ,
    cycles: r.cycles,
    actions: r.actions,
    nvm_bytes: r.nvmBytesWritten,
    undefined_reads: r.undefinedReads,
    breakdown,
    active_power_mW: activePowerW(profile) * 1e3,
    ...(opts.traceEvents ? { events: r.trace ?? [] } : {}),
  };
}

/** A run passes when the inference completed and its output equals the reference. */
export function runPassed(r: Pick<RunReport, 'completed' | 'equal'>): boolean {
  return r.completed && r.equal;
}

function describeInput(r: RunReport): string {
  switch (r.input_kind) {
    case 'sample':
      return `sample ${r.input}${r.label !== undefined ? ` (label ${r.label})` : ''}`;
    case 'synthetic':
      return `synthetic input, seed ${r.input}`;
    case 'file':
      return `file ${r.input}`;
  }
}

function firstDifference(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) return i;
  return -1;
}

export function formatEvent(e: TraceEvent): string {
  const nvm = e.nvm ? ` nvm[${e.nvm[0]}, ${e.nvm[1]})` : '';
  const detail = e.detail !== undefined ? ` ${e.detail}` : '';
  return `#${e.action} boot ${e.boot} layer ${e.layer} ${e.kind} ${e.label} [${e.category}] ${e.done}/${e.total}${nvm}${detail}`;
}

/** The human summary (stdout). */
export function renderRun(r: RunReport, s: Style, supply: SupplySpec): string {
  const diff = firstDifference(r.output, r.reference);
  const matches = r.equal
    ? `${s.verdict('pass')}  output equals the bit-exact Q15 reference`
    : `${s.verdict('fail')}  output differs from the bit-exact Q15 reference${diff >= 0 ? ` (first at index ${diff}: ${r.output[diff]} vs ${r.reference[diff]})` : ''}`;
  const top1 =
    `${s.value(String(r.top1))}` +
    (r.label !== undefined ? `  (label ${r.label}${r.top1 === r.label ? ', correct' : ', wrong'})` : '') +
    (r.top1 !== r.reference_top1 ? s.warn(`  reference top-1 ${r.reference_top1}`) : '');
  const pairs: [string, string][] = [
    ['model', `${s.value(r.model)}  ${s.dim(r.model_description)}`],
    ['engine', `${s.value(r.engine)}, B = ${r.batch}, NVM ${r.placement}, profile ${r.profile}, firmware ${r.firmware}${r.ablate ? `, ablated: ${r.ablate}` : ''}`],
    ['input', describeInput(r)],
    ['supply', describeSupply(supply)],
    ['seed', String(r.seed)],
    ['top-1', top1],
    ['reference', matches],
    ['completed', r.completed ? s.ok('yes') : s.fail(`no: ${r.reason ?? 'unknown reason'}`)],
    ['latency', `${s.value(fmtSeconds(r.latency_s))}  ${r.recharge_s > 0 ? `(on ${fmtSeconds(r.on_time_s)} + recharge ${fmtSeconds(r.recharge_s)})` : '(all on-time, no recharge)'}`],
    ['energy', `${s.value(fmtJoules(r.energy_mJ / 1e3))}  (active power ${fmtWatts(r.active_power_mW / 1e3)})`],
    ['power cycles', s.value(String(r.power_cycles))],
    ['cycles', `${fmtCount(r.cycles)} (${fmtCount(r.actions)} atomic actions)`],
    ['NVM written', `${fmtCount(r.nvm_bytes)} bytes`],
  ];
  if (r.undefined_reads > 0) pairs.push(['undefined reads', s.warn(`${r.undefined_reads} reads of garbage SRAM`)]);
  const rows = CATEGORIES.filter((c) => r.breakdown[c]!.cycles !== 0 || r.breakdown[c]!.energy_mJ !== 0).map((c) => {
    const b = r.breakdown[c]!;
    return [c, fmtCount(b.cycles), fmtSeconds(b.seconds), fmtJoules(b.energy_mJ / 1e3), fmtPercent(r.latency_s > 0 ? b.seconds / r.latency_s : NaN)];
  });
  const totalCycles = CATEGORIES.reduce((t, c) => t + r.breakdown[c]!.cycles, 0);
  rows.push([s.bold('total'), fmtCount(totalCycles), fmtSeconds(r.latency_s), fmtJoules(r.energy_mJ / 1e3), fmtPercent(1)]);
  const table = s.table(
    [{ header: 'category' }, { header: 'cycles', align: 'right' }, { header: 'time', align: 'right' }, { header: 'energy', align: 'right' }, { header: 'share of latency', align: 'right' }],
    rows,
  );
  let text = `${s.pairs(pairs)}\n\n${table}\n`;
  if (r.events) text += `\n${s.heading(`events (${r.events.length})`)}\n${r.events.map(formatEvent).join('\n')}\n`;
  return text;
}

export async function runRun(opts: RunCommandOptions, io: Io): Promise<number> {
  loadTargetModel(io, resolveModelSpec(io, opts.model));
  const report = executeRun(opts, io);
  if (opts.json) io.out(`${stableStringify(report)}\n`);
  else io.out(renderRun(report, createStyle(io), opts.supply));
  return runPassed(report) ? EXIT_OK : EXIT_CHECK_FAILED;
}

export function register(program: Command, ctx: CommandContext): void {
  program
    .command('run')
    .description('run one inference on the modelled device and compare it with the bit-exact reference')
    .option('--model <name|file.onnx>', 'lenet, tiny-conv, tiny-fc, tiny-concat, tiny-strided, mnist, har, kws, cifar10, or an ONNX file', RUN_DEFAULTS.model)
    .option('--input <N|file.json>', 'stored sample N (seed N for synthetic inputs), or a JSON array in the model input layout', RUN_DEFAULTS.input)
    .option('--engine <kind>', `inference engine: ${engineKinds().join(', ')}`, RUN_DEFAULTS.engine)
    .option('--batch <B>', 'preservation granularity B (values per progress indicator)', RUN_DEFAULTS.batch)
    .option('--placement <where>', `NVM for feature maps: ${PLACEMENTS.join(', ')}`, RUN_DEFAULTS.placement)
    .option('--profile <name>', `device cost profile: ${PROFILE_NAMES.join(', ')}`, RUN_DEFAULTS.profile)
    .option('--firmware <id>', `firmware build: ${FIRMWARE_IDS.join(', ')}`, RUN_DEFAULTS.firmware)
    .option('--ablate <what>', `run without one kind of preservation (continuous power only): ${ABLATIONS.join(', ')}`)
    .option('--fail-at <i,j,...>', 'power fails right before each listed atomic action (strictly ascending)')
    .option('--capacitor <C>', 'energy-driven run with this capacitor, e.g. 100uF (needs one harvester below)')
    .option('--power <P>', 'constant harvested power, e.g. 2mW')
    .option('--supply <V>', 'RC harvester supply voltage, e.g. 3V (with --resistance)')
    .option('--resistance <R>', 'RC harvester equivalent resistance, e.g. 1kOhm')
    .option('--trace <file>', 'replay a recorded power trace (seconds<TAB>milliwatts), e.g. ../shared/traces/rf-cart.trace')
    .option('--von <V>', 'turn-on threshold (default 2.8V, device.md)')
    .option('--voff <V>', 'brown-out threshold (default 2.4V, device.md)')
    .option('--vmax <V>', "the capacitor's rated maximum voltage; harvested energy above it is lost (default 3.0V: device.md's supply)")
    .option('--seed <S>', 'seed of the garbage SRAM holds after each reboot', RUN_DEFAULTS.seed)
    .option('--trace-events', 'include every device event (in --json: an "events" array)')
    .option('--json', 'print one JSON document to stdout')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  japari run --model lenet --engine japari --batch 2',
        '  japari run --model tiny-conv --engine hawaii --fail-at 10,200,1000',
        '  japari run --engine japari --capacitor 100uF --supply 3V --resistance 1kOhm',
        '  japari run --engine hawaii --capacitor 1mF --power 2mW --json',
        '',
        'Exit status: 0 completed and equal to the reference, 1 not, 2 bad usage or input.',
      ].join('\n'),
    )
    .action(async (raw: RawRunFlags) => {
      ctx.setExit(await runRun(parseRunOptions(raw), ctx.io));
    });
}
