import { describe, it, expect } from 'vitest';
import { parseSupply, parseFailAt, describeSupply, supplyJson } from '../../src/cli/options.js';
import { parseRunOptions, parseInputSpec } from '../../src/cli/commands/run.js';
import { UsageError, ConfigError } from '../../src/util/errors.js';

describe('parseSupply', () => {
  it('is continuous without supply flags', () => {
    expect(parseSupply({})).toEqual({ kind: 'continuous' });
  });

  it('builds a failure schedule from --fail-at', () => {
    expect(parseSupply({ failAt: '3,10,11' })).toEqual({ kind: 'schedule', failAt: [3, 10, 11] });
    expect(() => parseFailAt('3,3')).toThrow(/strictly ascending/);
    expect(() => parseFailAt('a')).toThrow(UsageError);
  });

  it('builds an energy-driven supply with device.md thresholds by default', () => {
    const s = parseSupply({ capacitor: '100uF', supply: '3V', resistance: '1kOhm' });
    expect(s).toEqual({ kind: 'energy', capacitor: { farads: 100e-6, von: 2.8, voff: 2.4 }, harvester: { kind: 'rc', vsup: 3, ohms: 1000 } });
    expect(describeSupply(s)).toBe('energy: 100 uF (Von 2.8 V, Voff 2.4 V, Vmax 3 V), RC 3 V through 1 kOhm');
    expect(supplyJson(s)).toEqual({ kind: 'energy', capacitor: { farads: 100e-6, von: 2.8, voff: 2.4, vmax: 3, vmax_default: true }, harvester: { kind: 'rc', vsup: 3, ohms: 1000 } });
    const p = parseSupply({ capacitor: '1mF', power: '500uW', von: '2.99V', voff: '2.8V', vmax: '3.3V' });
    expect(p).toEqual({ kind: 'energy', capacitor: { farads: 1e-3, von: 2.99, voff: 2.8, vmax: 3.3 }, harvester: { kind: 'constant', watts: 500e-6 } });
    expect(parseSupply({ capacitor: '100uF', trace: 'x.trace' })).toMatchObject({ harvester: { kind: 'trace', path: 'x.trace' } });
  });

  it.each([
    [{ failAt: '1', capacitor: '100uF', power: '1mW' }, /mutually exclusive/],
    [{ capacitor: '100uF' }, /exactly one harvester.*none was given/],
    [{ capacitor: '100uF', power: '1mW', trace: 'x' }, /exactly one harvester.*--power and --trace/],
    [{ capacitor: '100uF', supply: '3V' }, /--supply needs --resistance/],
    [{ capacitor: '100uF', power: '1mW', resistance: '1kOhm' }, /--resistance goes with --supply/],
    [{ power: '1mW' }, /--power needs --capacitor/],
    [{ von: '2.8V' }, /--von needs --capacitor/],
    [{ failAt: '1', voff: '2V' }, /--voff applies to energy-driven runs/],
    [{ capacitor: '100uF', supply: '2.8V', resistance: '1kOhm' }, /can never charge/],
    [{ capacitor: '100', power: '1mW' }, /--capacitor: expected a capacitance/],
  ])('rejects %j', (flags, msg) => {
    expect(() => parseSupply(flags)).toThrow(UsageError);
    expect(() => parseSupply(flags)).toThrow(msg);
  });

  it('rejects thresholds the capacitor model cannot use', () => {
    expect(() => parseSupply({ capacitor: '100uF', power: '1mW', von: '2V' })).toThrow(ConfigError);
    expect(() => parseSupply({ capacitor: '100uF', power: '1mW', vmax: '2.5V' })).toThrow(/Von 2.8 V is above the capacitor's rated maximum 2.5 V/);
    // The default rating is device.md's 3.0 V supply: a higher Von needs --vmax.
    expect(() => parseSupply({ capacitor: '100uF', power: '1mW', von: '3.1V' })).toThrow(/rated maximum 3 V \(the default.*--vmax/);
    expect(parseSupply({ capacitor: '100uF', power: '1mW', von: '3.1V', vmax: '3.3V' })).toMatchObject({ capacitor: { von: 3.1, vmax: 3.3 } });
  });
});

describe('parseRunOptions', () => {
  it('fills the defaults', () => {
    expect(parseRunOptions({})).toEqual({
      model: 'lenet',
      input: { kind: 'index', index: 0 },
      engine: 'continuous',
      batch: 1,
      placement: 'spi-fram',
      profile: 'inas2021',
      firmware: 'stateful-cnn-2021-08',
      ablate: null,
      supply: { kind: 'continuous' },
      seed: 0,
      traceEvents: false,
      json: false,
    });
  });

  it('validates each flag', () => {
    expect(() => parseRunOptions({ engine: 'no-such-engine' })).toThrow(/--engine: expected one of continuous, hawaii, japari, japari-loopcount/);
    expect(() => parseRunOptions({ firmware: 'x' })).toThrow(/--firmware: expected one of stateful-cnn-2021-02, stateful-cnn-2021-08, stateful-cnn-later/);
    expect(() => parseRunOptions({ ablate: 'output-preservation', failAt: '5' })).toThrow(/continuous power only/);
    expect(() => parseRunOptions({ batch: '0' })).toThrow(/--batch/);
    expect(() => parseRunOptions({ placement: 'sram' })).toThrow(/--placement/);
    expect(() => parseRunOptions({ profile: 'x' })).toThrow(/--profile: expected one of inas2021, tinas2024/);
    expect(() => parseRunOptions({ seed: '-1' })).toThrow(/--seed/);
    expect(() => parseRunOptions({ model: ' ' })).toThrow(/--model/);
  });

  it('reads --input as a sample index or a JSON file', () => {
    expect(parseInputSpec('12')).toEqual({ kind: 'index', index: 12 });
    expect(parseInputSpec('digits/seven.json')).toEqual({ kind: 'file', path: 'digits/seven.json' });
    expect(() => parseInputSpec('seven')).toThrow(/sample index/);
    expect(() => parseInputSpec('-1')).toThrow(UsageError);
  });
});
