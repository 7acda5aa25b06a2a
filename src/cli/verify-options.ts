/**
 * Options shared by the verification commands (fuzz, explore, replay, mutants): which model,
 * engine and parameters, which seeded faults and published-design fixes, which input and
 * warm-up inferences. Validated into typed values (UsageError on anything malformed).
 */
import type { EngineKind } from '../engines/reference/plan.js';
import type { NvmPlacement } from '../device/profile.js';
import { FAULT_IDS, FIX_IDS, fixesFor } from '../engines/catalogue.js';
import { UsageError } from '../util/errors.js';
import { parseList, parseNonNegativeInt, parsePositiveInt } from './units.js';
import { parseEngine, parsePlacement, parseProfileName, type ProfileName } from './options.js';

export interface RawVerifyFlags {
  readonly model?: string;
  readonly engine?: string;
  readonly batch?: string;
  readonly placement?: string;
  readonly profile?: string;
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
  readonly faults: readonly string[];
  readonly fixes: readonly string[];
  readonly input: number;
  readonly warmup: readonly number[];
}

export const VERIFY_DEFAULTS = { model: 'lenet', engine: 'japari', batch: '1', placement: 'spi-fram', profile: 'inas2021', input: '1', warmup: '2' } as const;

/** `--fix all` switches on every fix for the engine; otherwise a comma-separated list of ids. */
export function parseFixes(text: string | undefined, engine: EngineKind): string[] {
  if (text === undefined || text === 'none') return [];
  if (text === 'all') return fixesFor(engine);
  const ids = parseList(text, (s) => s, '--fix');
  for (const id of ids) if (!(FIX_IDS as readonly string[]).includes(id)) throw new UsageError(`--fix: unknown fix ${JSON.stringify(id)} (known: ${FIX_IDS.join(', ')}, or all)`);
  return [...new Set(ids)].sort();
}

export function parseFaults(text: string | undefined): string[] {
  if (text === undefined || text === 'none') return [];
  const ids = parseList(text, (s) => s, '--fault');
  for (const id of ids) if (!(FAULT_IDS as readonly string[]).includes(id)) throw new UsageError(`--fault: unknown fault ${JSON.stringify(id)} (see japari mutants --list)`);
  return [...new Set(ids)].sort();
}

export function parseVerifyTarget(raw: RawVerifyFlags): VerifyTarget {
  const engine = parseEngine(raw.engine ?? VERIFY_DEFAULTS.engine);
  const model = (raw.model ?? VERIFY_DEFAULTS.model).trim();
  if (model === '') throw new UsageError('--model: expected a model name or a .onnx path');
  const warmText = raw.warmup ?? VERIFY_DEFAULTS.warmup;
  return {
    model,
    engine,
    batch: parsePositiveInt(raw.batch ?? VERIFY_DEFAULTS.batch, '--batch'),
    placement: parsePlacement(raw.placement ?? VERIFY_DEFAULTS.placement),
    profile: parseProfileName(raw.profile ?? VERIFY_DEFAULTS.profile),
    faults: parseFaults(raw.fault),
    fixes: parseFixes(raw.fix, engine),
    input: parseNonNegativeInt(raw.input ?? VERIFY_DEFAULTS.input, '--input'),
    warmup: warmText === 'none' ? [] : parseList(warmText, (s) => parseNonNegativeInt(s, '--warmup'), '--warmup'),
  };
}

/** The deployment part of a target (what fuzz/explore/replay specs and the JSON reports share). */
export function deploymentOfTarget(t: VerifyTarget) {
  return { model: t.model, engine: t.engine, batch: t.batch, placement: t.placement, profile: t.profile, faults: t.faults, fixes: t.fixes };
}

/** Register the shared flags on a commander command. */
export function addVerifyFlags<T extends { option(flags: string, description: string): T }>(cmd: T): T {
  return cmd
    .option('--model <name>', `model: lenet, tiny-*, mnist, har, kws, cifar10, rnd:..., or a .onnx path (default ${VERIFY_DEFAULTS.model})`)
    .option('--engine <engine>', `continuous, hawaii, japari or japari-loopcount (default ${VERIFY_DEFAULTS.engine})`)
    .option('--batch <B>', 'preservation granularity B (default 1)')
    .option('--placement <nvm>', 'spi-fram or internal-fram (default spi-fram)')
    .option('--profile <name>', 'device cost profile: inas2021 or tinas2024 (default inas2021)')
    .option('--fault <ids>', 'seeded faults to switch on (comma-separated; see japari mutants --list)')
    .option('--fix <ids>', 'corrections of published-design findings: ids, all, or none (default none: the published design)')
    .option('--input <n>', `input of the checked inference: a sample index or a seed (default ${VERIFY_DEFAULTS.input})`)
    .option('--warmup <n,...>', `inputs of uninterrupted inferences run first, so stale indicators sit in NVM, or none (default ${VERIFY_DEFAULTS.warmup})`);
}
