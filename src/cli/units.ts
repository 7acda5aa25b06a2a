/**
 * Strict parsing of physical quantities on the command line: a number immediately followed by
 * a unit from a fixed list ("100uF", "2.8V", "1kOhm", "60s"). Anything else is a UsageError
 * that names the option and the accepted units; nothing is guessed.
 */
import { UsageError } from '../util/errors.js';

type UnitTable = Readonly<Record<string, number>>;

const CAPACITANCE: UnitTable = { F: 1, mF: 1e-3, uF: 1e-6, nF: 1e-9 };
const POWER: UnitTable = { W: 1, mW: 1e-3, uW: 1e-6 };
const VOLTAGE: UnitTable = { V: 1, mV: 1e-3 };
const RESISTANCE: UnitTable = { Ohm: 1, kOhm: 1e3, MOhm: 1e6 };
const TIME: UnitTable = { s: 1, ms: 1e-3, m: 60, h: 3600 };

function parseQuantity(text: string, table: UnitTable, option: string, what: string): number {
  const m = /^\s*([0-9]+(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?)\s*([A-Za-z]+)\s*$/.exec(text);
  const units = Object.keys(table).join(', ');
  if (!m) throw new UsageError(`${option}: expected a ${what} like 10${Object.keys(table)[1] ?? Object.keys(table)[0]} (units: ${units}), got ${JSON.stringify(text)}`);
  const factor = table[m[2]!];
  if (factor === undefined) throw new UsageError(`${option}: unknown unit ${JSON.stringify(m[2])} for a ${what} (units: ${units})`);
  const v = Number(m[1]) * factor;
  if (!Number.isFinite(v) || v <= 0) throw new UsageError(`${option}: a ${what} must be positive, got ${JSON.stringify(text)}`);
  return v;
}

/** Farads. */
export const parseCapacitance = (t: string, option = '--capacitor') => parseQuantity(t, CAPACITANCE, option, 'capacitance');
/** Watts. */
export const parsePower = (t: string, option = '--power') => parseQuantity(t, POWER, option, 'power');
/** Volts. */
export const parseVoltage = (t: string, option: string) => parseQuantity(t, VOLTAGE, option, 'voltage');
/** Ohms. */
export const parseResistance = (t: string, option = '--resistance') => parseQuantity(t, RESISTANCE, option, 'resistance');
/** Seconds. */
export const parseDuration = (t: string, option: string) => parseQuantity(t, TIME, option, 'duration');

/** A comma-separated list, each element parsed by `one`. */
export function parseList<T>(text: string, one: (s: string) => T, option: string): T[] {
  const parts = text.split(',').map((s) => s.trim());
  if (parts.some((p) => p === '')) throw new UsageError(`${option}: empty element in ${JSON.stringify(text)}`);
  return parts.map(one);
}

export function parseNonNegativeInt(text: string, option: string): number {
  if (!/^[0-9]+$/.test(text.trim())) throw new UsageError(`${option}: expected a non-negative integer, got ${JSON.stringify(text)}`);
  const v = Number(text);
  if (!Number.isSafeInteger(v)) throw new UsageError(`${option}: ${text} is too large`);
  return v;
}

export function parsePositiveInt(text: string, option: string): number {
  const v = parseNonNegativeInt(text, option);
  if (v === 0) throw new UsageError(`${option}: must be at least 1`);
  return v;
}

/** Format helpers for reports. */
export function fmtSeconds(s: number): string {
  if (!Number.isFinite(s)) return String(s);
  if (s >= 1) return `${s.toFixed(3)} s`;
  if (s >= 1e-3) return `${(s * 1e3).toFixed(3)} ms`;
  return `${(s * 1e6).toFixed(1)} us`;
}

export function fmtFarads(f: number): string {
  if (f >= 1e-3) return `${+(f * 1e3).toPrecision(4)} mF`;
  return `${+(f * 1e6).toPrecision(4)} uF`;
}
