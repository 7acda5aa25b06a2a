/**
 * `japari bench` through its testable entry points (parseBenchOptions + runBenchCommand) and
 * through main(): --quick --json, the report folder, and option validation.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { parseBenchOptions, runBenchCommand, DEFAULT_OUT } from '../../src/cli/commands/bench.js';
import type { BenchReport, SpeedReport } from '../../src/bench/bench.js';
import { UsageError } from '../../src/util/errors.js';

const tmp = mkdtempSync(join(tmpdir(), 'japari-bench-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('japari bench', () => {
  it('bench --quick --json: one JSON document with rows, derived figures and a machine-dependent section', async () => {
    const io = captureIo();
    const opts = parseBenchOptions({ quick: true, json: true, jobs: '1' });
    expect(opts).toMatchObject({ models: ['lenet'], batches: [1, 2], capacitorsF: [100e-6], powersW: [5e-3], traces: [], rc: true, out: null });
    const code = await runBenchCommand(opts, io, true);
    expect(code).toBe(0);
    const doc = JSON.parse(io.stdout()) as BenchReport & { machine_dependent: SpeedReport };
    expect(doc).toMatchObject({ schema: 1, command: 'bench', profile: 'inas2021', fixes: false });
    expect(doc.conditions.map((c) => c.id)).toEqual(['continuous-power', '100uF/5mW', '100uF/rc']);
    // 1 continuous + every other built-in engine x 2 B, under 3 conditions.
    expect(doc.rows).toHaveLength((1 + 2 * (doc.engines.length - 1)) * 3);
    expect(doc.firmware).toBe('stateful-cnn-2021-08');
    for (const r of doc.rows) {
      for (const k of ['model', 'engine', 'batch', 'capacitor_uF', 'power_mW', 'supply', 'latency_s', 'on_time_s', 'recharge_s', 'power_cycles', 'energy_mJ', 'nvm_bytes', 'completed', 'breakdown']) {
        expect(r).toHaveProperty(k);
      }
    }
    // JAPARI beats HAWAII on lenet at B = 1 under continuous power (the model's own numbers).
    const sp = doc.derived.speedups.find((s) => s.engine === 'japari' && s.batch === 1 && s.condition === 'continuous-power')!;
    expect(sp.speedup).toBeGreaterThan(1);
    expect(doc.derived.min_capacitors.map((m) => m.batch)).toEqual(doc.engines.map(() => 1));
    expect(doc.machine_dependent.machine_dependent).toBe(true);
    expect(doc.machine_dependent.models[0]!.on_s_per_wall_s).toBeGreaterThan(0);
    expect(io.stderr()).toMatch(/bench: \d+% \(\d+\/\d+\) jobs/);
  });

  it('--out writes the report folder: Markdown, JSON, CSV, SVG charts, and the speed pages apart', async () => {
    const io = captureIo({ cwd: tmp });
    const opts = parseBenchOptions({ quick: true, models: 'tiny-conv,tiny-fc', batch: '1,2', power: '10mW,2mW', out: 'rep', jobs: '1' });
    const code = await runBenchCommand(opts, io, true);
    expect(code).toBe(0);
    const dir = join(tmp, 'rep');
    const files = readdirSync(dir).sort();
    expect(files).toEqual(
      expect.arrayContaining(['README.md', 'bench.json', 'rows.csv', 'speed.json', 'speed.md', 'breakdown.svg', 'breakdown-continuous.svg', 'speedup.svg', 'latency-vs-power.svg', 'latency-vs-capacitor.svg', 'min-capacitor.svg']),
    );
    for (const f of files) {
      const text = readFileSync(join(dir, f), 'utf8');
      expect(text, f).not.toMatch(/NaN|undefined|\[object Object\]/);
      if (f.endsWith('.svg')) {
        expect(text.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'), f).toBe(true);
        expect(text.trimEnd().endsWith('</svg>'), f).toBe(true);
        expect((text.match(/<g /g) ?? []).length, f).toBe((text.match(/<\/g>/g) ?? []).length);
      }
    }
    const md = readFileSync(join(dir, 'README.md'), 'utf8');
    expect(md).toMatch(/## Modelling assumptions/);
    expect(md).toMatch(/## Calibration against device.md/);
    // Wall-clock figures stay out of the deterministic report.
    expect(md).not.toMatch(/per wall s/);
    expect(readFileSync(join(dir, 'speed.md'), 'utf8')).toMatch(/MACHINE-DEPENDENT/);
    expect(io.stdout()).toMatch(/report written to rep\//);
  });

  it('options: the standard sweep writes reports/bench; bad values are usage errors', () => {
    expect(parseBenchOptions({}).out).toBe(DEFAULT_OUT);
    expect(parseBenchOptions({}).models).toEqual(['lenet', 'mnist', 'har', 'kws', 'cifar10']);
    expect(parseBenchOptions({ models: 'mnist' }).out).toBeNull();
    expect(parseBenchOptions({ json: true }).out).toBeNull();
    expect(parseBenchOptions({ supply: 'none' }).rc).toBe(false);
    expect(parseBenchOptions({ capacitor: '1mF,100uF' }).capacitorsF).toEqual([1e-3, 100e-6]);
    expect(() => parseBenchOptions({ supply: '3V' })).toThrow(UsageError);
    expect(() => parseBenchOptions({ batch: '0' })).toThrow(UsageError);
    expect(() => parseBenchOptions({ engines: 'no-such-engine' })).toThrow(UsageError);
    expect(() => parseBenchOptions({ firmware: 'stateful-cnn-1999' })).toThrow(UsageError);
    expect(() => parseBenchOptions({ ablate: 'output-preservation', power: '5mW' })).toThrow(UsageError);
    expect(() => parseBenchOptions({ power: '5' })).toThrow(UsageError);
  });

  it('main: bench --help lists the sweep flags; a bad flag exits 2', async () => {
    const help = captureIo();
    expect(await main(['bench', '--help'], help)).toBe(0);
    for (const flag of ['--models', '--engines', '--batch', '--capacitor', '--power', '--trace', '--supply', '--fixes', '--json', '--out', '--quick']) expect(help.stdout()).toContain(flag);
    const bad = captureIo();
    expect(await main(['bench', '--supply', 'solar'], bad)).toBe(2);
    expect(bad.stderr()).toMatch(/--supply/);
  });
});
