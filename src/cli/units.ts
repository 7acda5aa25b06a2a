/**
 * Strict parsing of physical quantities on the command line: a number immediately followed by
 * a unit from a fixed list ("100uF", "2.8V", "1kOhm", "60s"). Anything else is a UsageError
 * that names the option and the accepted units; nothing is guessed:
 *  - units are case-sensitive ("100uf" is rejected, with a hint: "mF" and "MOhm" differ by
 *    a factor of 10^9 in the same spelling family, so case cannot be ignored);
 *  - a bare number ("100") is rejected: the unit is never implied;
 *  - no space between number and unit ("1 kOhm" is rejected; the shell would split it anyway);
 *  - quantities are positive and finite ("-1V", "0uF" are rejected).
 */
import { UsageError } from '../util/errors.js';

/**
 * A unit is a power of ten (exact decimal scaling: "100uF" is the double nearest 1e-4, the
 * same number as the literal 100e-6, not 100 * 1e-6 = 9.999999999999999e-5), times an
 * optional integer multiplier for non-decimal units (minutes, hours).
 */
interface Unit {
  readonly exp: number;
  readonly mul?: number;
}

interface UnitTable {
  readonly what: string;
  readonly example: string;
  readonly units: Readonly<Record<string, Unit>>;
}

const CAPACITANCE: UnitTable = { what: 'capacitance', example: '100uF', units: { F: { exp: 0 }, mF: { exp: -3 }, uF: { exp: -6 }, nF: { exp: -9 } } };
const POWER: UnitTable = { what: 'power', example: '2mW', units: { W: { exp: 0 }, mW: { exp: -3 }, uW: { exp: -6 } } };
const VOLTAGE: UnitTable = { what: 'voltage', example: '2.8V', units: { V: { exp: 0 }, mV: { exp: -3 } } };
const RESISTANCE: UnitTable = { what: 'resistance', example: '1kOhm', units: { Ohm: { exp: 0 }, kOhm: { exp: 3 }, MOhm: { exp: 6 } } };
const TIME: UnitTable = { what: 'duration', example: '60s', units: { s: { exp: 0 }, ms: { exp: -3 }, m: { exp: 0, mul: 60 }, h: { exp: 0, mul: 3600 } } };

const QUANTITY = /^([+-]?)([0-9]+(?:\.[0-9]+)?)(?:[eE]([+-]?[0-9]+))?(\s*)([A-Za-z]+)$/;

function parseQuantity(text: string, table: UnitTable, option: string): number {
  const units = Object.keys(table.units);
  const accepted = `units: ${units.join(', ')}`;
  const m = QUANTITY.exec(text.trim());
  if (!m) {
    throw new UsageError(`${option}: expected a ${table.what} like ${table.example} (${accepted}), got ${JSON.stringify(text)}`);
  }
  const [, sign, mantissa, exponent, space, unit] = m as unknown as [string, string, string, string | undefined, string, string];
  const u = table.units[unit];
  if (u === undefined) {
    const near = units.find((k) => k.toLowerCase() === unit.toLowerCase());
    const hint = near ? `; did you mean ${near}? units are case-sensitive` : '';
    throw new UsageError(`${option}: unknown unit ${JSON.stringify(unit)} for a ${table.what} (${accepted})${hint}`);
  }
  if (space !== '') throw new UsageError(`${option}: write the unit right after the number, like ${table.example}, got ${JSON.stringify(text)}`);
  const v = Number(`${mantissa}e${Number(exponent ?? '0') + u.exp}`) * (u.mul ?? 1);
  if (sign === '-' || v <= 0) throw new UsageError(`${option}: a ${table.what} must be positive, got ${JSON.stringify(text)}`);
  if (!Number.isFinite(v)) throw new UsageError(`${option}: ${JSON.stringify(text)} is out of range`);
  return v;
}

/** Farads. */
export const parseCapacitance = (t: string, option = '--capacitor'): number => parseQuantity(t, CAPACITANCE, option);
/** Watts. */
export const parsePower = (t: string, option = '--power'): number => parseQuantity(t, POWER, option);
/** Volts. */
export const parseVoltage = (t: string, option: string): number => parseQuantity(t, VOLTAGE, option);
/** Ohms. */
export const parseResistance = (t: string, option = '--resistance'): number => parseQuantity(t, RESISTANCE, option);
/** Seconds. */
export const parseDuration = (t: string, option: string): number => parseQuantity(t, TIME, option);

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

/** A 32-bit seed (0 .. 2^32 - 1). */
export function parseSeed(text: string, option = '--seed'): number {
  const v = parseNonNegativeInt(text, option);
  if (v > 0xffffffff) throw new UsageError(`${option}: a seed is a 32-bit unsigned integer (at most 4294967295), got ${text}`);
  return v;
}

// ---------------------------------------------------------------------------------------------
// Formatting for reports (deterministic: no locale).

export function fmtSeconds(s: number): string {
  if (!Number.isFinite(s)) return String(s);
  if (s >= 1) return `${s.toFixed(3)} s`;
  if (s >= 1e-3) return `${(s * 1e3).toFixed(3)} ms`;
  return `${(s * 1e6).toFixed(1)} us`;
}

export function fmtFarads(f: number): string {
  if (f >= 1e-3) return `${+(f * 1e3).toPrecision(4)} mF`;
  if (f < 1e-6) return `${+(f * 1e9).toPrecision(4)} nF`;
  return `${+(f * 1e6).toPrecision(4)} uF`;
}

/** Joules, in the largest of J / mJ / uJ / nJ that keeps the number at least 1. */
export function fmtJoules(j: number): string {
  if (!Number.isFinite(j)) return String(j);
  const a = Math.abs(j);
  if (a >= 1) return `${j.toFixed(3)} J`;
  if (a >= 1e-3) return `${(j * 1e3).toFixed(3)} mJ`;
  if (a >= 1e-6) return `${(j * 1e6).toFixed(3)} uJ`;
  return `${(j * 1e9).toFixed(1)} nJ`;
}

export function fmtWatts(w: number): string {
  if (w >= 1) return `${+w.toPrecision(4)} W`;
  if (w >= 1e-3) return `${+(w * 1e3).toPrecision(4)} mW`;
  return `${+(w * 1e6).toPrecision(4)} uW`;
}

export function fmtVolts(v: number): string {
  return v >= 1 ? `${+v.toPrecision(4)} V` : `${+(v * 1e3).toPrecision(4)} mV`;
}

export function fmtOhms(r: number): string {
  if (r >= 1e6) return `${+(r / 1e6).toPrecision(4)} MOhm`;
  if (r >= 1e3) return `${+(r / 1e3).toPrecision(4)} kOhm`;
  return `${+r.toPrecision(4)} Ohm`;
}

/** An integer with thousands separators: 1234567 -> "1,234,567" (rounded first). */
export function fmtCount(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const r = Math.round(n);
  const digits = String(Math.abs(r)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return r < 0 ? `-${digits}` : digits;
}

/** A fraction as a percentage with one decimal: 0.4512 -> "45.1%". */
export function fmtPercent(f: number): string {
  return Number.isFinite(f) ? `${(f * 100).toFixed(1)}%` : '-';
}
