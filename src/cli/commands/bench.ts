/**
 * `japari bench`: performance measured on the same executable model the verifiers use.
 * Sweeps models x engines x B x energy conditions, derives speedups over HAWAII, the best B,
 * latency over a lower bound and the smallest capacitor that still completes, and writes a
 * report folder (Markdown + SVG charts + JSON + CSV; wall-clock speed kept apart).
 *
 * Exit 0 when the sweep ran (runs that make no forward progress are data, not failures);
 * 1 when a completed run produced an output that differs from the bit-exact reference;
 * 2 on bad usage.
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { EngineKind } from '../../engines/reference/plan.js';
import { builtinKinds } from '../../engines/designs.js';
import { UsageError } from '../../util/errors.js';
import { stableStringify } from '../../util/json.js';
import { ReportSet, validateOutputDir } from '../../util/fsx.js';
import { SHARED_MODELS, sharedAvailable, sharedPath, type SharedModelName } from '../../util/shared.js';
import { SHARED_MODEL_NAMES } from '../../model/models.js';
import { createProgress } from '../progress.js';
import { loadTargetModel, resolveModelSpec } from '../verify-options.js';
import { loadPowerTrace } from '../../device/energy.js';
import type { Io } from '../io.js';
import { createStyle, type Style } from '../style.js';
import { parseCapacitance, parseList, parsePositiveInt, parsePower, parseNonNegativeInt, parseSeed } from '../units.js';
import { PROFILE_NAMES, capWorkers, parseAblation, parseEngine, parseFirmware, parseProfileName, resolvePath, type ProfileName } from '../options.js';
import { type FirmwareId, FIRMWARE_IDS, DEFAULT_FIRMWARE } from '../../engines/reference/firmware.js';
import { type Ablation, ABLATIONS } from '../../engines/reference/plan.js';
import { type CommandContext, EXIT_CHECK_FAILED, EXIT_OK } from '../command.js';
import {
  type Condition,
  CONTINUOUS,
  STANDARD_CAPACITORS_F,
  STANDARD_POWERS_W,
  STANDARD_TRACES,
  constantCondition,
  rcCondition,
  traceCondition,
} from '../../bench/conditions.js';
import type { SweepSpec } from '../../bench/sweep.js';
import { runBench, defaultWorkers, type BenchReport, type SpeedReport } from '../../bench/bench.js';
import { reportFiles, fmtS } from '../../bench/report.js';

export const name = 'bench';

/** The standard sweep: the default model and the four real models of ../shared/models. */
export const STANDARD_MODELS: readonly string[] = ['lenet', 'mnist', 'har', 'kws', 'cifar10'];
export const STANDARD_BATCHES: readonly number[] = [1, 2, 4, 8];
export const DEFAULT_OUT = 'reports/bench';
/** The minimum-capacitor ladder: the E3 series (1, 2.2, 4.7) from 10 uF to 100 mF. */
export const MIN_CAP_LADDER_F: readonly number[] = [10, 22, 47, 100, 220, 470, 1000, 2200, 4700, 10_000, 22_000, 47_000, 100_000].map((uF) => uF / 1e6);

export interface BenchOptions {
  readonly models: readonly string[];
  readonly engines: readonly EngineKind[];
  readonly batches: readonly number[];
  readonly capacitorsF: readonly number[];
  readonly powersW: readonly number[];
  /** Trace files (resolved at run time against io.cwd). */
  readonly traces: readonly string[];
  readonly rc: boolean;
  readonly fixes: boolean;
  readonly layers: boolean;
  readonly minCap: boolean;
  readonly profile: ProfileName;
  readonly firmware: FirmwareId;
  readonly ablate: Ablation | null;
  readonly input: number;
  readonly seed: number;
  readonly workers: number;
  readonly json: boolean;
  /** Report folder; null: write nothing. */
  readonly out: string | null;
  readonly quick: boolean;
  /** Whether --models / --trace chose the models and traces (else the standard ones, absent ones skipped). */
  readonly modelsGiven: boolean;
  readonly tracesGiven: boolean;
}

export interface RawBenchFlags {
  readonly models?: string;
  readonly engines?: string;
  readonly batch?: string;
  readonly capacitor?: string;
  readonly power?: string;
  readonly trace?: string;
  readonly supply?: string;
  readonly fixes?: boolean;
  readonly layers?: boolean;
  readonly minCap?: boolean;
  readonly profile?: string;
  readonly firmware?: string;
  readonly ablate?: string;
  readonly input?: string;
  readonly seed?: string;
  readonly jobs?: string;
  readonly json?: boolean;
  readonly out?: string;
  readonly quick?: boolean;
}

/** The standard traces that exist in ../shared/traces (absent ones are reported and skipped). */
export function standardTraces(): { present: string[]; absent: string[] } {
  const present: string[] = [];
  const absent: string[] = [];
  for (const t of STANDARD_TRACES) (existsSync(sharedPath('traces', t)) ? present : absent).push(sharedPath('traces', t));
  return { present, absent };
}

export function parseBenchOptions(raw: RawBenchFlags): BenchOptions {
  const quick = raw.quick === true;
  const ablate = raw.ablate !== undefined ? parseAblation(raw.ablate) : null;
  if (ablate !== null) {
    // An ablated engine cannot recover: continuous power only (firmware-2021.md "Ablations").
    const energy = (['capacitor', 'power', 'trace'] as const).find((k) => raw[k] !== undefined);
    if (energy) throw new UsageError(`--ablate ${ablate}: an ablated run cannot recover, so it runs under continuous power only (drop --${energy})`);
    if (raw.supply !== undefined && raw.supply.trim() !== 'none') throw new UsageError(`--ablate ${ablate}: continuous power only (use --supply none or drop --supply)`);
  }
  const selection = (['models', 'engines', 'batch', 'capacitor', 'power', 'trace', 'supply', 'profile', 'input', 'seed', 'firmware', 'ablate'] as const).some((k) => raw[k] !== undefined) || raw.fixes === true || raw.minCap === false;
  const models = raw.models !== undefined ? parseList(raw.models, (s) => s, '--models') : quick ? ['lenet'] : [...STANDARD_MODELS];
  const engines = raw.engines !== undefined ? parseList(raw.engines, (s) => parseEngine(s, '--engines'), '--engines') : builtinKinds();
  const batches = raw.batch !== undefined ? parseList(raw.batch, (s) => parsePositiveInt(s, '--batch'), '--batch') : quick ? [1, 2] : [...STANDARD_BATCHES];
  const capacitorsF = raw.capacitor !== undefined ? parseList(raw.capacitor, (s) => parseCapacitance(s, '--capacitor'), '--capacitor') : quick ? [100e-6] : [...STANDARD_CAPACITORS_F];
  const powersW = raw.power !== undefined ? parseList(raw.power, (s) => parsePower(s, '--power'), '--power') : quick ? [5e-3] : [...STANDARD_POWERS_W];
  const traces = raw.trace !== undefined ? parseList(raw.trace, (s) => s, '--trace') : quick ? [] : standardTraces().present;
  let rc = true;
  if (raw.supply !== undefined) {
    const s = raw.supply.trim();
    if (s !== 'rc' && s !== 'none') throw new UsageError(`--supply: expected rc (add device.md's RC supply, 3.0 V through 1 kOhm) or none, got ${JSON.stringify(raw.supply)}`);
    rc = s === 'rc';
  }
  const dedupe = <T>(xs: T[]): T[] => [...new Set(xs)];
  const workers = raw.jobs !== undefined ? parsePositiveInt(raw.jobs, '--jobs') : defaultWorkers();
  const json = raw.json === true;
  // The standard sweep (no selection flags) writes the report folder by default: `npm run bench`.
  const out = raw.out !== undefined ? raw.out : !quick && !selection && !json ? DEFAULT_OUT : null;
  if (models.length === 0) throw new UsageError('--models: expected at least one model');
  return {
    models: dedupe(models),
    engines: dedupe(engines),
    batches: dedupe(batches).sort((a, b) => a - b),
    capacitorsF: ablate ? [] : dedupe(capacitorsF),
    powersW: dedupe(powersW).sort((a, b) => b - a),
    traces: ablate ? [] : dedupe(traces),
    rc: ablate ? false : rc,
    fixes: raw.fixes === true,
    layers: raw.layers === true,
    minCap: ablate ? false : raw.minCap !== false,
    profile: parseProfileName(raw.profile ?? 'inas2021', '--profile'),
    firmware: parseFirmware(raw.firmware ?? DEFAULT_FIRMWARE),
    ablate,
    input: parseNonNegativeInt(raw.input ?? '0', '--input'),
    seed: parseSeed(raw.seed ?? '0'),
    workers,
    json,
    out,
    quick,
    modelsGiven: raw.models !== undefined,
    tracesGiven: raw.trace !== undefined,
  };
}

/** Conditions from strong to weak: continuous; then per capacitor: constant powers, RC, traces. */
export function buildConditions(o: BenchOptions, io: Pick<Io, 'cwd'>): Condition[] {
  const conds: Condition[] = [CONTINUOUS];
  const traces = o.traces.map((t) => {
    const path = resolvePath(io, t);
    return { path, trace: loadPowerTrace(path) };
  });
  for (const c of o.capacitorsF) {
    for (const p of o.powersW) conds.push(constantCondition(c, p));
    if (o.rc) conds.push(rcCondition(c));
    for (const t of traces) conds.push(traceCondition(c, t.path, t.trace));
  }
  const ids = new Set<string>();
  return conds.filter((c) => (ids.has(c.id) ? false : (ids.add(c.id), true)));
}

export function buildSpec(o: BenchOptions, io: Pick<Io, 'cwd'>): SweepSpec {
  return {
    models: o.models,
    engines: o.engines,
    batches: o.batches,
    conditions: buildConditions(o, io),
    profile: o.profile,
    firmware: o.firmware,
    ablate: o.ablate,
    placement: 'spi-fram',
    fixes: o.fixes,
    layers: o.layers,
    input: o.input,
    seed: o.seed,
    stallLimit: 16,
    maxPowerCycles: 100_000,
    minCap: o.minCap
      ? {
          condition: rcCondition(100e-6),
          // The quick sweep searches at the smallest B only.
          batches: o.quick ? o.batches.slice(0, 1) : o.batches,
          ladderF: MIN_CAP_LADDER_F,
          tolerance: 0.02,
        }
      : null,
  };
}

export interface BenchResult {
  readonly report: BenchReport;
  readonly speed: SpeedReport;
  /** Files written (relative names), when --out. */
  readonly written: readonly string[];
  /** A partial sweep left this existing report folder as it was. */
  readonly kept: string | null;
}

/**
 * What the standard sweep lacks on this machine: shared models and traces of the default
 * selection that are absent (../shared missing). Such a report is partial.
 */
export function partialSweep(o: BenchOptions): string[] {
  const missing: string[] = [];
  if (o.modelsGiven) return missing;
  for (const m of o.models) if ((SHARED_MODEL_NAMES as readonly string[]).includes(m) && !sharedAvailable('models', SHARED_MODELS[m as SharedModelName])) missing.push(`model ${m}`);
  if (!o.quick && !o.tracesGiven) for (const t of standardTraces().absent) missing.push(`trace ${t}`);
  return missing;
}

/** Run the sweep and write the report folder (no stdout). */
export async function executeBench(given: BenchOptions, io: Io, inProcess = false): Promise<BenchResult> {
  // ONNX paths resolve against the caller's folder, like every other command's --model.
  const o: BenchOptions = { ...given, models: given.models.map((m) => resolveModelSpec(io, m)) };
  // Everything that can be checked before the sweep is: the output folder, and every model
  // named with --models (one that cannot load is exit 2 before anything runs or is written).
  if (o.out !== null) validateOutputDir(o.out, '--out', io.cwd);
  if (o.modelsGiven) for (const m of o.models) loadTargetModel(io, m);
  const spec = buildSpec(o, io);
  const missing = partialSweep(o);
  if (missing.length > 0) io.err(`bench: ../shared is incomplete here, skipped: ${missing.join(', ')}\n`);
  const workers = capWorkers(io, o.workers, '--jobs');
  const progress = createProgress(io, 'bench');
  const { report, speed } = await runBench(spec, {
    workers,
    inProcess,
    onProgress: (done, total) => progress.update(done, total, 'jobs'),
  });
  progress.done();
  for (const s of report.skipped) if (s.engine === '*') io.err(`bench: skipped model ${s.model}: ${s.reason}\n`);
  const written: string[] = [];
  let kept: string | null = null;
  if (o.out !== null) {
    const dir = resolvePath(io, o.out);
    // A partial sweep never replaces a complete report (as \`japari reports\` protects its files).
    if (missing.length > 0 && existsSync(join(dir, 'bench.json'))) {
      kept = dir;
      io.err(`bench: the sweep is partial (${missing.length} part(s) of ../shared missing), so the report in ${dir} is kept; use --out with another folder to write this one\n`);
    } else {
      const set = new ReportSet(dir);
      try {
        for (const [f, text] of Object.entries(reportFiles(report, speed))) {
          set.write(f, text);
          written.push(f);
        }
        set.commit();
      } finally {
        set.abort();
      }
      written.sort();
    }
  }
  return { report, speed, written, kept };
}

function renderSummary(r: BenchResult, o: BenchOptions, s: Style): string {
  const { report } = r;
  const lines: string[] = [];
  lines.push(s.heading(`japari bench: ${report.rows.length} runs, ${report.models.length} models, ${report.conditions.length} conditions`));
  lines.push(`active draw (datasheet) ${report.device.active_power_mW.toFixed(2)} mW; profile ${report.profile}${report.fixes ? ', corrected variants' : ''}`);
  const conds = [CONTINUOUS.id, ...report.conditions.filter((c) => c.capacitor_uF === report.conditions.find((x) => x.capacitor_uF !== null)?.capacitor_uF).map((c) => c.id)].slice(0, 6);
  for (const e of report.engines.filter((x) => x !== 'hawaii' && x !== 'continuous')) {
    const rows = report.models.flatMap((m) =>
      report.batches.map((b) => [
        m.name,
        String(b),
        ...conds.map((c) => {
          const sp = report.derived.speedups.find((x) => x.model === m.name && x.engine === e && x.batch === b && x.condition === c);
          return !sp ? '' : sp.speedup !== null ? `${sp.speedup.toFixed(2)}x` : sp.status === 'engine-failed' ? 'stall' : sp.status === 'hawaii-failed' ? 'H stall' : 'both stall';
        }),
      ]),
    );
    lines.push('');
    lines.push(s.heading(`${e} speedup over HAWAII`));
    lines.push(s.table([{ header: 'model' }, { header: 'B', align: 'right' }, ...conds.map((c) => ({ header: c, align: 'right' as const }))], rows));
  }
  if (report.derived.min_capacitors.length) {
    lines.push('');
    lines.push(s.heading(`smallest capacitor that completes (${report.min_capacitor_harvester})`));
    lines.push(
      s.table(
        [{ header: 'model' }, { header: 'engine' }, { header: 'B', align: 'right' }, { header: 'min capacitor', align: 'right' }, { header: 'latency there', align: 'right' }],
        report.derived.min_capacitors.map((m) => [
          m.model,
          m.engine,
          String(m.batch),
          m.min_capacitor_uF === null ? `> ${m.max_failing_uF} uF` : m.max_failing_uF === null ? `<= ${m.min_capacitor_uF} uF` : `${m.min_capacitor_uF} uF`,
          m.latency_s === null ? '-' : `${fmtS(m.latency_s)} s`,
        ]),
      ),
    );
  }
  const wrong = report.rows.filter((x) => x.completed && !x.equal);
  if (wrong.length) lines.push('', s.fail(`${wrong.length} completed runs differ from the reference: ${wrong.map((w) => `${w.model} ${w.engine} B=${w.batch} ${w.condition}`).join(', ')}`));
  lines.push('');
  lines.push(`simulation speed (machine-dependent): ${r.speed.models.map((m) => `${m.model} ${m.on_s_per_wall_s.toFixed(1)} s/s`).join(', ')}; ${r.speed.total_wall_s.toFixed(1)} s wall on ${r.speed.workers} thread(s)`);
  if (r.kept !== null) lines.push(`report NOT written: the sweep is partial and ${o.out}/ holds a complete one (kept)`);
  else if (o.out !== null) lines.push(`report written to ${o.out}/ (${r.written.length} files: ${r.written.join(', ')})`);
  return `${lines.join('\n')}\n`;
}

export async function runBenchCommand(o: BenchOptions, io: Io, inProcess = false): Promise<number> {
  const r = await executeBench(o, io, inProcess);
  if (o.json) io.out(`${stableStringify({ ...r.report, machine_dependent: r.speed })}\n`);
  else io.out(renderSummary(r, o, createStyle(io)));
  return r.report.rows.some((x) => x.completed && !x.equal) ? EXIT_CHECK_FAILED : EXIT_OK;
}

export function register(program: Command, ctx: CommandContext): void {
  program
    .command('bench')
    .description('measure latency, energy, power cycles and overheads of every engine across models, B, capacitors and supplies')
    .option('--models <m1,m2>', `models (default: ${STANDARD_MODELS.join(',')}; absent shared models are skipped)`)
    .option('--engines <e1,e2>', `engines (default: ${builtinKinds().join(',')})`)
    .option('--batch <B1,B2>', `granularities B (default: ${STANDARD_BATCHES.join(',')}; unsupported ones are skipped with the reason)`)
    .option('--capacitor <C1,C2>', 'capacitors (default: 100uF,470uF,1mF)')
    .option('--power <P1,P2>', 'constant harvested power levels (default: 10mW,8mW,5mW,4mW,2mW)')
    .option('--trace <file1,file2>', 'recorded power traces (default: the three RF traces in ../shared/traces)')
    .option('--supply <rc|none>', "include device.md's RC supply (3.0 V through 1 kOhm): rc (default) or none")
    .option('--fixes', 'run the corrected engine variants instead of the published engines')
    .option('--layers', 'include the per-layer breakdown in every row (JSON)')
    .option('--no-min-cap', 'skip the minimum-capacitor search')
    .option('--profile <name>', `device cost profile: ${PROFILE_NAMES.join(', ')}`)
    .option('--firmware <id>', `firmware build: ${FIRMWARE_IDS.join(', ')} (default ${DEFAULT_FIRMWARE})`)
    .option('--ablate <what>', `run without one kind of preservation, continuous power only: ${ABLATIONS.join(', ')}`)
    .option('--input <N>', 'input sample index (seed of synthetic inputs)')
    .option('--seed <S>', 'seed of the garbage SRAM holds after each reboot')
    .option('--jobs <N>', 'worker threads (default: up to 2; at most the number of cores)')
    .option('--json', 'print the report as one JSON document (with a machine_dependent section)')
    .option('--out <dir>', `write the report folder here (default for the standard sweep: ${DEFAULT_OUT})`)
    .option('--quick', 'a small sweep: lenet, B = 1, 2, 100uF with 5mW and RC, min capacitor at B = 1')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  japari bench                                  # the standard sweep; writes reports/bench/',
        '  japari bench --quick',
        '  japari bench --models mnist,cifar10 --engines hawaii,japari --batch 1,2,4 --power 10mW,5mW --capacitor 100uF',
        '  japari bench --models kws --trace ../shared/traces/rf-cart.trace --supply none --json',
        '',
        'Every figure except the simulation speed (speed.md) is modelled and deterministic.',
        'Exit status: 0 the sweep ran, 1 a completed run produced a wrong output, 2 bad usage.',
      ].join('\n'),
    )
    .action(async (raw: RawBenchFlags) => {
      ctx.setExit(await runBenchCommand(parseBenchOptions(raw), ctx.io));
    });
}
