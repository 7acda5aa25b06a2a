import { describe, it, expect } from 'vitest';
import {
  parseCapacitance,
  parsePower,
  parseVoltage,
  parseResistance,
  parseDuration,
  parseList,
  parsePositiveInt,
  parseSeed,
  fmtCount,
  fmtJoules,
  fmtSeconds,
} from '../../src/cli/units.js';
import { UsageError } from '../../src/util/errors.js';

describe('units: well-formed quantities', () => {
  it.each([
    ['100uF', parseCapacitance, 100e-6],
    ['1mF', parseCapacitance, 1e-3],
    ['470uF', parseCapacitance, 470e-6],
    ['2mW', parsePower, 2e-3],
    ['500uW', parsePower, 500e-6],
    ['1e-3W', parsePower, 1e-3],
    ['1kOhm', parseResistance, 1000],
    ['2.2MOhm', parseResistance, 2.2e6],
    ['60s', (t: string) => parseDuration(t, '--budget'), 60],
    ['2m', (t: string) => parseDuration(t, '--budget'), 120],
  ] as const)('%s', (text, parse, want) => {
    expect(parse(text)).toBeCloseTo(want, 15);
  });

  it('parses volts with the option name in errors', () => {
    expect(parseVoltage('3V', '--supply')).toBe(3);
    expect(parseVoltage('2.8V', '--von')).toBeCloseTo(2.8, 15);
    expect(parseVoltage('2400mV', '--voff')).toBeCloseTo(2.4, 15);
    expect(() => parseVoltage('3', '--von')).toThrow(/--von/);
  });

  it('scales by exact decimal shifts, so "100uF" is the literal 100e-6', () => {
    expect(parseCapacitance('100uF')).toBe(100e-6);
    expect(parseVoltage('2400mV', '--voff')).toBe(2.4);
    expect(parsePower('0.5mW')).toBe(0.5e-3);
    expect(parseCapacitance('4.7e2uF')).toBe(470e-6);
  });

  it('ignores whitespace around the whole quantity', () => {
    expect(parseCapacitance(' 100uF ')).toBeCloseTo(100e-6, 15);
  });
});

describe('units: malformed quantities are usage errors', () => {
  const bad: [string, (t: string) => number, RegExp][] = [
    ['100', parseCapacitance, /expected a capacitance like 100uF/],
    ['100uf', parseCapacitance, /unknown unit "uf".*did you mean uF\?/],
    ['abc', parseCapacitance, /expected a capacitance/],
    ['', parseCapacitance, /expected a capacitance/],
    ['uF', parseCapacitance, /expected a capacitance/],
    ['100 uF', parseCapacitance, /right after the number/],
    ['1 kOhm', parseResistance, /right after the number/],
    ['-1V', (t) => parseVoltage(t, '--von'), /must be positive/],
    ['0uF', parseCapacitance, /must be positive/],
    ['2mw', parsePower, /unknown unit "mw".*did you mean mW\?/],
    ['2kW', parsePower, /unknown unit "kW" for a power \(units: W, mW, uW\)$/],
    ['1kohm', parseResistance, /did you mean kOhm\?/],
    ['3V', parsePower, /unknown unit "V" for a power/],
    ['1e999F', parseCapacitance, /out of range/],
    ['.5V', (t) => parseVoltage(t, '--von'), /expected a voltage/],
  ];
  it.each(bad)('%j', (text, parse, msg) => {
    expect(() => parse(text)).toThrow(UsageError);
    expect(() => parse(text)).toThrow(msg);
  });
});

describe('integers and lists', () => {
  it('parses lists and rejects empty elements', () => {
    expect(parseList('1, 2,3', (s) => parsePositiveInt(s, '--x'), '--x')).toEqual([1, 2, 3]);
    expect(() => parseList('1,,3', (s) => parsePositiveInt(s, '--x'), '--x')).toThrow(/empty element/);
  });
  it('rejects zero, negatives and fractions where a positive integer is needed', () => {
    expect(() => parsePositiveInt('0', '--batch')).toThrow(/at least 1/);
    expect(() => parsePositiveInt('-2', '--batch')).toThrow(UsageError);
    expect(() => parsePositiveInt('1.5', '--batch')).toThrow(UsageError);
  });
  it('bounds seeds to 32 bits', () => {
    expect(parseSeed('4294967295')).toBe(4294967295);
    expect(() => parseSeed('4294967296')).toThrow(/32-bit/);
  });
});

describe('formatting', () => {
  it('formats counts, energies and times without a locale', () => {
    expect(fmtCount(1234567)).toBe('1,234,567');
    expect(fmtCount(-1000)).toBe('-1,000');
    expect(fmtCount(999)).toBe('999');
    expect(fmtJoules(1.359e-3)).toBe('1.359 mJ');
    expect(fmtJoules(77.88e-6)).toBe('77.880 uJ');
    expect(fmtSeconds(0.17239)).toBe('172.390 ms');
  });
});
