/**
 * Options shared by the verification commands (fuzz, explore, replay, mutants): which model,
 * engine and parameters, which seeded faults and published-design fixes, which input and
 * warm-up inferences. Validated into typed values (UsageError on anything malformed).
 */
import type { EngineKind } from '../engines/reference/plan.js';
import type { NvmPlacement } from '../device/profile.js';
import { type FirmwareId, FIRMWARE_IDS, DEFAULT_FIRMWARE } from '../engines/reference/firmware.js';
import { parseFirmware } from './options.js';
import { FAULT_IDS, FIX_IDS, VARIANT_IDS, fixesFor } from '../engines/catalogue.js';
import { UsageError } from '../util/errors.js';
import { parseList, parseNonNegativeInt, parsePositiveInt } from './units.js';
import { parseEngine, parsePlacement, parseProfileName, resolvePath, type ProfileName } from './options.js';
import { loadModel, type LoadedModel } from '../model/models.js';
import { checkBatch, designOf, builtinKinds } from '../engines/designs.js';
import type { Io } from './io.js';

export interface RawVerifyFlags {
  readonly model?: string;
  readonly engine?: string;
  readonly batch?: string;
  readonly placement?: string;
  readonly profile?: string;
  readonly firmware?: string;
  readonly fault?: string;
  readonly fix?: string;
  readonly input?: string;
  readonly warmup?: string;
}

export interface VerifyTarget {
  readonly model: string;
  readonly engine: EngineKind;
  readonly batch: number;
  readonly placement: NvmPlacement;
  readonly profile: ProfileName;
  readonly firmware: FirmwareId;
  readonly faults: readonly string[];
  readonly fixes: readonly string[];
  readonly input: number;
  readonly warmup: readonly number[];
}

export const VERIFY_DEFAULTS = { model: 'lenet', engine: 'japari', batch: '1', placement: 'spi-fram', profile: 'inas2021', input: '1', warmup: '2' } as const;

/**
 * `--fix all` switches on every fix for the engine; otherwise a comma-separated list of ids,
 * each a fix of this engine (a fix of another engine would silently change nothing).
 */
export function parseFixes(text: string | undefined, engine: EngineKind): string[] {
  if (text === undefined || text === 'none') return [];
  if (text === 'all') return fixesFor(engine);
  const ids = parseList(text, (s) => s, '--fix');
  const mine = fixesFor(engine);
  for (const id of ids) {
    if (!(FIX_IDS as readonly string[]).includes(id)) throw new UsageError(`--fix: unknown fix ${JSON.stringify(id)} (known: ${FIX_IDS.join(', ')}, or all)`);
    if (!(mine as readonly string[]).includes(id)) throw new UsageError(`--fix: ${id} is a fix of another engine, not of ${engine} (fixes of ${engine}: ${mine.join(', ') || 'none'})`);
  }
  return [...new Set(ids)].sort();
}

/** B means nothing to an engine without progress indicators (continuous): B != 1 is refused, not ignored (registry.ts checkBatch). */
export function checkBatchForEngine(engine: EngineKind, batch: number): void {
  checkBatch(designOf(engine), batch);
}

/**
 * Input ids must name something the model has: a model with stored samples (lenet, mnist) has
 * inputs 0..n-1 (as \`japari run --input\` says); synthetic inputs are seeds (any id).
 */
export function checkInputIds(m: Pick<LoadedModel, 'name' | 'sampleCount'>, ids: readonly { readonly id: number; readonly option: string }[]): void {
  if (m.sampleCount === 0) return;
  for (const { id, option } of ids) {
    if (id >= m.sampleCount) throw new UsageError(`${option}: ${m.name} has ${m.sampleCount} stored samples (0..${m.sampleCount - 1}), got ${id}`);
  }
}

/** A .onnx path from the command line, resolved against the caller's folder (names pass through). */
export function resolveModelSpec(io: Pick<Io, 'cwd'>, model: string): string {
  return model.toLowerCase().endsWith('.onnx') ? resolvePath(io, model) : model;
}

const warned = new Set<string>();

/**
 * Load the model a command was given, before any work starts (a malformed file or an unknown
 * name is exit 2 at once), and warn once per model about weights that saturate Q15.
 */
export function loadTargetModel(io: Pick<Io, 'err'>, model: string): LoadedModel {
  const m = loadModel(model);
  const n = m.q.weightSaturations;
  if (n > 0 && !warned.has(model)) {
    warned.add(model);
    io.err(`japari: warning: ${n} weight(s) of ${m.name} saturate Q15 (clipped to -32768..32767): the quantized network differs from the float one there\n`);
  }
  return m;
}

export function parseFaults(text: string | undefined): string[] {
  if (text === undefined || text === 'none') return [];
  const ids = parseList(text, (s) => s, '--fault');
  for (const id of ids) if (![...FAULT_IDS, ...VARIANT_IDS].includes(id as never)) throw new UsageError(`--fault: unknown fault ${JSON.stringify(id)} (see japari mutants --list; published-code variants: ${VARIANT_IDS.join(', ')})`);
  return [...new Set(ids)].sort();
}

export function parseVerifyTarget(raw: RawVerifyFlags, io: Pick<Io, 'cwd'> = { cwd: process.cwd() }): VerifyTarget {
  const engine = parseEngine(raw.engine ?? VERIFY_DEFAULTS.engine);
  const model = (raw.model ?? VERIFY_DEFAULTS.model).trim();
  if (model === '') throw new UsageError('--model: expected a model name or a .onnx path');
  const warmText = raw.warmup ?? VERIFY_DEFAULTS.warmup;
  const batch = parsePositiveInt(raw.batch ?? VERIFY_DEFAULTS.batch, '--batch');
  checkBatchForEngine(engine, batch);
  return {
    model: resolveModelSpec(io, model),
    engine,
    batch,
    placement: parsePlacement(raw.placement ?? VERIFY_DEFAULTS.placement),
    profile: parseProfileName(raw.profile ?? VERIFY_DEFAULTS.profile),
    firmware: parseFirmware(raw.firmware ?? DEFAULT_FIRMWARE),
    faults: parseFaults(raw.fault),
    fixes: parseFixes(raw.fix, engine),
    input: parseNonNegativeInt(raw.input ?? VERIFY_DEFAULTS.input, '--input'),
    warmup: warmText === 'none' ? [] : parseList(warmText, (s) => parseNonNegativeInt(s, '--warmup'), '--warmup'),
  };
}

/** The deployment part of a target (what fuzz/explore/replay specs and the JSON reports share). */
export function deploymentOfTarget(t: VerifyTarget) {
  return { model: t.model, engine: t.engine, batch: t.batch, placement: t.placement, profile: t.profile, firmware: t.firmware, faults: t.faults, fixes: t.fixes };
}

/** Register the shared flags on a commander command. */
export function addVerifyFlags<T extends { option(flags: string, description: string): T }>(cmd: T, o: { drawnInputs?: boolean } = {}): T {
  return cmd
    .option('--model <name>', `model: lenet, tiny-*, mnist, har, kws, cifar10, rnd:..., or a .onnx path (default ${VERIFY_DEFAULTS.model})`)
    .option('--engine <engine>', `${builtinKinds().join(', ')} (default ${VERIFY_DEFAULTS.engine})`)
    .option('--batch <B>', 'preservation granularity B (default 1)')
    .option('--placement <nvm>', 'spi-fram or internal-fram (default spi-fram)')
    .option('--profile <name>', 'device cost profile: inas2021 or tinas2024 (default inas2021)')
    .option('--firmware <id>', `firmware build: ${FIRMWARE_IDS.join(', ')} (default ${DEFAULT_FIRMWARE})`)
    .option('--fault <ids>', `seeded faults to switch on (comma-separated; see japari mutants --list), or published-code variants: ${VARIANT_IDS.join(', ')}`)
    .option('--fix <ids>', 'corrections of published-design findings: ids, all, or none (default none: the published design)')
    .option('--input <n>', `input of the checked inference: a sample index or a seed (default ${o.drawnInputs ? 'drawn per schedule' : VERIFY_DEFAULTS.input})`)
    .option('--warmup <n,...>', `inputs of uninterrupted inferences run first, so stale indicators sit in NVM, or none (default ${o.drawnInputs ? 'none or one, drawn per schedule' : VERIFY_DEFAULTS.warmup})`);
}
