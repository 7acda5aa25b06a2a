/**
 * Option vocabulary shared by commands that deploy and run a model: engine, batch, placement,
 * profile, seed, and the power supply. Raw strings from the command line are validated here
 * into typed values (UsageError on anything malformed), so a command's `runX` only ever sees a
 * well-formed options object, and later commands (fuzz, explore, replay, bench) reuse the same
 * flags with the same meaning.
 */
import { isAbsolute, resolve } from 'node:path';
import { availableParallelism } from 'node:os';
import { type EngineKind, type Ablation, ABLATIONS } from '../engines/reference/plan.js';
import { type FirmwareId, FIRMWARE_IDS } from '../engines/reference/firmware.js';
import { designOf, engineKinds } from '../engines/designs.js';
import { PROFILES, type DeviceProfile, type NvmPlacement } from '../device/profile.js';
import { type Capacitor, type Harvester, DEVICE_MD_CAPACITOR, loadPowerTrace, meanWatts, ratedVmax, validateCapacitor } from '../device/energy.js';
import type { PowerSupply } from '../device/device.js';
import { UsageError } from '../util/errors.js';
import { parseCapacitance, parseList, parseNonNegativeInt, parsePower, parseResistance, parseVoltage, fmtFarads, fmtOhms, fmtVolts, fmtWatts } from './units.js';
import type { Io } from './io.js';

export const PLACEMENTS: readonly NvmPlacement[] = ['spi-fram', 'internal-fram'];
export type ProfileName = keyof typeof PROFILES & string;
export const PROFILE_NAMES = Object.keys(PROFILES) as ProfileName[];

function oneOf<T extends string>(text: string, allowed: readonly T[], option: string): T {
  if ((allowed as readonly string[]).includes(text)) return text as T;
  throw new UsageError(`${option}: expected one of ${allowed.join(', ')}, got ${JSON.stringify(text)}`);
}

export function parseEngine(t: string, option = '--engine'): EngineKind {
  try {
    return designOf(t.trim()).kind;
  } catch {
    throw new UsageError(`${option}: expected one of ${engineKinds().join(', ')}, got ${JSON.stringify(t)}`);
  }
}
/** A firmware build id (firmware.ts); anything else is a usage error naming the ids. */
export function parseFirmware(t: string, option = '--firmware'): FirmwareId {
  return oneOf(t.trim(), FIRMWARE_IDS, option);
}

/** An ablation (plan.ts ABLATIONS). */
export function parseAblation(t: string, option = '--ablate'): Ablation {
  return oneOf(t.trim(), ABLATIONS, option);
}

export const parsePlacement = (t: string, option = '--placement'): NvmPlacement => oneOf(t, PLACEMENTS, option);
export const parseProfileName = (t: string, option = '--profile'): ProfileName => oneOf(t, PROFILE_NAMES, option);

export function profileOf(name: ProfileName): DeviceProfile {
  const p = PROFILES[name];
  if (!p) throw new UsageError(`unknown profile ${JSON.stringify(name)}`);
  return p;
}

/** Worker threads beyond the machine's cores only slow a campaign down (and `--workers 1000` hung). */
export function capWorkers(io: Pick<Io, 'err'>, requested: number, option = '--workers'): number {
  const cores = availableParallelism();
  if (requested <= cores) return requested;
  io.err(`japari: ${option} ${requested}: capped at ${cores}, the number of cores of this machine\n`);
  return cores;
}

/** A path from the command line, resolved against the caller's working folder. */
export function resolvePath(io: Pick<Io, 'cwd'>, path: string): string {
  return isAbsolute(path) ? path : resolve(io.cwd, path);
}

// ---------------------------------------------------------------------------------------------
// Power supply

/** How the harvester is described on the command line (a trace stays a path until run time). */
export type HarvesterSpec =
  | { readonly kind: 'constant'; readonly watts: number }
  | { readonly kind: 'rc'; readonly vsup: number; readonly ohms: number }
  | { readonly kind: 'trace'; readonly path: string };

export type SupplySpec =
  | { readonly kind: 'continuous' }
  | { readonly kind: 'schedule'; readonly failAt: readonly number[] }
  | { readonly kind: 'energy'; readonly capacitor: Capacitor; readonly harvester: HarvesterSpec };

/** The raw supply flags as commander hands them over (all optional strings). */
export interface RawSupplyFlags {
  readonly failAt?: string;
  readonly capacitor?: string;
  readonly power?: string;
  readonly supply?: string;
  readonly resistance?: string;
  readonly trace?: string;
  readonly von?: string;
  readonly voff?: string;
  readonly vmax?: string;
}

/** Strictly ascending action indices: "120,4000,4001". */
export function parseFailAt(text: string, option = '--fail-at'): number[] {
  const at = parseList(text, (s) => parseNonNegativeInt(s, option), option);
  for (let i = 1; i < at.length; i++) {
    if (!(at[i]! > at[i - 1]!)) throw new UsageError(`${option}: action indices must be strictly ascending, got ${at[i - 1]} then ${at[i]}`);
  }
  return at;
}

/**
 * The supply from the flags:
 *   none                          continuous power
 *   --fail-at i,j,...             power fails right before each listed action
 *   --capacitor C + one harvester energy-driven: --power P | --supply V --resistance R | --trace file
 *                                 with thresholds --von (2.8 V) --voff (2.4 V) and the rated
 *                                 maximum --vmax (3.0 V) (device.md; energy.ts DEVICE_MD_VMAX)
 */
export function parseSupply(f: RawSupplyFlags): SupplySpec {
  const given = (k: keyof RawSupplyFlags): boolean => f[k] !== undefined;
  const energyOnly = (['power', 'supply', 'resistance', 'trace', 'von', 'voff', 'vmax'] as const).filter(given);
  if (given('failAt') && given('capacitor')) throw new UsageError('--fail-at and --capacitor are mutually exclusive: a run has one power supply');
  if (given('failAt')) {
    if (energyOnly.length > 0) throw new UsageError(`--${flagName(energyOnly[0]!)} applies to energy-driven runs (--capacitor), not to --fail-at`);
    return { kind: 'schedule', failAt: parseFailAt(f.failAt!) };
  }
  if (!given('capacitor')) {
    if (energyOnly.length > 0) throw new UsageError(`--${flagName(energyOnly[0]!)} needs --capacitor (an energy-driven run)`);
    return { kind: 'continuous' };
  }
  const capacitor: Capacitor = {
    farads: parseCapacitance(f.capacitor!, '--capacitor'),
    von: f.von !== undefined ? parseVoltage(f.von, '--von') : DEVICE_MD_CAPACITOR.von,
    voff: f.voff !== undefined ? parseVoltage(f.voff, '--voff') : DEVICE_MD_CAPACITOR.voff,
    ...(f.vmax !== undefined ? { vmax: parseVoltage(f.vmax, '--vmax') } : {}),
  };
  validateCapacitor(capacitor); // ConfigError (exit 2) when Von <= Voff or Von > Vmax (default 3.0 V)
  const harvesters = (['power', 'supply', 'trace'] as const).filter(given);
  if (harvesters.length !== 1) {
    const which = harvesters.length === 0 ? 'none was given' : `got ${harvesters.map((h) => `--${h}`).join(' and ')}`;
    throw new UsageError(`--capacitor needs exactly one harvester: --power P, --supply V --resistance R, or --trace file (${which})`);
  }
  if (given('resistance') && !given('supply')) throw new UsageError('--resistance goes with --supply (an RC harvester)');
  let harvester: HarvesterSpec;
  switch (harvesters[0]!) {
    case 'power':
      harvester = { kind: 'constant', watts: parsePower(f.power!, '--power') };
      break;
    case 'supply': {
      if (!given('resistance')) throw new UsageError('--supply needs --resistance (the harvester\'s equivalent resistance, e.g. 1kOhm)');
      const vsup = parseVoltage(f.supply!, '--supply');
      const ohms = parseResistance(f.resistance!, '--resistance');
      // device.md: recharge t = -R C ln((Von - Vsup) / (V - Vsup)) needs Vsup > Von.
      if (!(vsup > capacitor.von)) throw new UsageError(`--supply ${fmtVolts(vsup)} can never charge the capacitor to Von ${fmtVolts(capacitor.von)}`);
      harvester = { kind: 'rc', vsup, ohms };
      break;
    }
    case 'trace':
      if (f.trace!.trim() === '') throw new UsageError('--trace: expected a power trace file');
      harvester = { kind: 'trace', path: f.trace! };
      break;
  }
  return { kind: 'energy', capacitor, harvester };
}

function flagName(k: keyof RawSupplyFlags): string {
  return k === 'failAt' ? 'fail-at' : k;
}

/** The device's PowerSupply (reads the trace file, resolved against io.cwd). */
export function buildSupply(spec: SupplySpec, io: Pick<Io, 'cwd'>): PowerSupply {
  switch (spec.kind) {
    case 'continuous':
      return { kind: 'continuous' };
    case 'schedule':
      return { kind: 'schedule', failAt: spec.failAt };
    case 'energy':
      return { kind: 'energy', capacitor: spec.capacitor, harvester: buildHarvester(spec.harvester, io) };
  }
}

function buildHarvester(h: HarvesterSpec, io: Pick<Io, 'cwd'>): Harvester {
  switch (h.kind) {
    case 'constant':
      return { kind: 'constant', watts: h.watts };
    case 'rc':
      return { kind: 'rc', vsup: h.vsup, ohms: h.ohms };
    case 'trace':
      return { kind: 'trace', trace: loadPowerTrace(resolvePath(io, h.path)) };
  }
}

/** The supply as report data (snake_case keys, SI units), enough to replay the run. */
export function supplyJson(spec: SupplySpec, built?: PowerSupply): Record<string, unknown> {
  switch (spec.kind) {
    case 'continuous':
      return { kind: 'continuous' };
    case 'schedule':
      return { kind: 'schedule', fail_at: [...spec.failAt] };
    case 'energy': {
      const c = spec.capacitor;
      const h = spec.harvester;
      const trace = built?.kind === 'energy' && built.harvester.kind === 'trace' ? built.harvester.trace : null;
      return {
        kind: 'energy',
        capacitor: { farads: c.farads, von: c.von, voff: c.voff, vmax: ratedVmax(c), ...(c.vmax === undefined ? { vmax_default: true } : {}) },
        harvester:
          h.kind === 'trace'
            ? { kind: 'trace', path: h.path, ...(trace ? { samples: trace.watts.length, dt_s: trace.dt, mean_watts: meanWatts(trace) } : {}) }
            : { ...h },
      };
    }
  }
}

/** One line for humans: "energy: 100 uF (Von 2.8 V, Voff 2.4 V), RC 3 V through 1 kOhm". */
export function describeSupply(spec: SupplySpec): string {
  switch (spec.kind) {
    case 'continuous':
      return 'continuous power';
    case 'schedule':
      return spec.failAt.length === 0 ? 'failure schedule: none' : `failure schedule: power fails before action ${spec.failAt.join(', ')}`;
    case 'energy': {
      const c = spec.capacitor;
      const h = spec.harvester;
      const cap = `${fmtFarads(c.farads)} (Von ${fmtVolts(c.von)}, Voff ${fmtVolts(c.voff)}, Vmax ${fmtVolts(ratedVmax(c))})`;
      const harv =
        h.kind === 'constant' ? `constant ${fmtWatts(h.watts)}` : h.kind === 'rc' ? `RC ${fmtVolts(h.vsup)} through ${fmtOhms(h.ohms)}` : `trace ${h.path}`;
      return `energy: ${cap}, ${harv}`;
    }
  }
}
