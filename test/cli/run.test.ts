import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { captureIo } from '../../src/cli/io.js';
import { CATEGORIES } from '../../src/device/device.js';
import { parseRunOptions, runRun, type RunReport } from '../../src/cli/commands/run.js';

async function runJson(...argv: string[]): Promise<{ code: number; report: RunReport; err: string }> {
  const io = captureIo();
  const code = await main(['run', ...argv, '--json'], io);
  const out = io.stdout();
  expect(out.endsWith('\n')).toBe(true);
  return { code, report: JSON.parse(out) as RunReport, err: io.stderr() };
}

const tmp = mkdtempSync(join(tmpdir(), 'japari-run-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('japari run', () => {
  it('--json on lenet: one document, output equals the reference, keys present', async () => {
    const { code, report, err } = await runJson('--model', 'lenet');
    expect(code).toBe(0);
    expect(err).toBe('');
    for (const k of [
      'model',
      'engine',
      'batch',
      'input',
      'seed',
      'output',
      'reference',
      'top1',
      'equal',
      'completed',
      'latency_s',
      'on_time_s',
      'recharge_s',
      'power_cycles',
      'energy_mJ',
      'cycles',
      'nvm_bytes',
      'breakdown',
      'active_power_mW',
    ]) {
      expect(report).toHaveProperty(k);
    }
    expect(report).toMatchObject({ model: 'lenet', engine: 'continuous', batch: 1, input: 0, seed: 0, completed: true, equal: true, power_cycles: 0 });
    expect(report.output).toEqual(report.reference);
    expect(report.output).toHaveLength(10);
    expect(report.output.every(Number.isInteger)).toBe(true);
    expect(report.top1).toBe(report.output.indexOf(Math.max(...report.output)));
    expect(report.label).toBeTypeOf('number');
    expect(report.reason).toBeUndefined();
    expect(report.events).toBeUndefined();
    expect(Object.keys(report.breakdown).sort()).toEqual([...CATEGORIES].sort());
    expect(report.breakdown['compute']!.cycles).toBeGreaterThan(0);
    expect(report.active_power_mW).toBeCloseTo(118 * 16 * 3.0e-3, 9); // 118 uA/MHz x 16 MHz x 3.0 V
    expect(report.latency_s).toBeCloseTo(report.on_time_s + report.recharge_s, 12);
  });

  it('--json is byte-identical across runs (sorted keys, no wall clock)', async () => {
    const a = captureIo();
    const b = captureIo();
    await main(['run', '--model', 'tiny-concat', '--engine', 'japari', '--json'], a);
    await main(['run', '--engine', 'japari', '--json', '--model', 'tiny-concat'], b);
    expect(a.stdout()).toBe(b.stdout());
    const keys = Object.keys(JSON.parse(a.stdout()) as object);
    expect(keys).toEqual([...keys].sort());
  });

  it.each(['hawaii', 'japari'])('--fail-at on tiny-conv with %s completes equal to the reference', async (engine) => {
    const { code, report } = await runJson('--model', 'tiny-conv', '--engine', engine, '--batch', '2', '--fail-at', '5,17,40,41,90', '--trace-events');
    expect(code).toBe(0);
    expect(report).toMatchObject({ completed: true, equal: true, power_cycles: 5, supply: { kind: 'schedule', fail_at: [5, 17, 40, 41, 90] } });
    expect(report.events!.filter((e) => e.kind === 'reboot')).toHaveLength(5);
    expect(report.events!.filter((e) => e.kind === 'failure')).toHaveLength(5);
  });

  it('an energy-driven run of lenet with hawaii completes across power cycles', async () => {
    const { code, report } = await runJson('--engine', 'hawaii', '--capacitor', '100uF', '--supply', '3V', '--resistance', '1kOhm');
    expect(code).toBe(0);
    expect(report.completed).toBe(true);
    expect(report.equal).toBe(true);
    expect(report.power_cycles).toBeGreaterThan(0);
    expect(report.recharge_s).toBeGreaterThan(0);
    expect(report.breakdown['recharge']!.seconds).toBeCloseTo(report.recharge_s, 9);
    expect(report.supply).toEqual({ kind: 'energy', capacitor: { farads: 100e-6, von: 2.8, voff: 2.4, vmax: 3, vmax_default: true }, harvester: { kind: 'rc', vsup: 3, ohms: 1000 } });
  });

  it('an inference that cannot finish is a failed check (exit 1) with a reason', async () => {
    // The continuous engine keeps no progress: on a tiny capacitor it restarts forever.
    const { code, report } = await runJson('--model', 'lenet', '--engine', 'continuous', '--capacitor', '100uF', '--power', '1mW');
    expect(code).toBe(1);
    expect(report.completed).toBe(false);
    expect(report.reason).toMatch(/no forward progress/);
  });

  it('a malformed ONNX file -> 2', async () => {
    const bad = join(tmp, 'garbage.onnx');
    writeFileSync(bad, Buffer.from('this is not a protobuf model at all'));
    for (const path of [bad, join(tmp, 'missing.onnx')]) {
      const io = captureIo();
      expect(await main(['run', '--model', path], io)).toBe(2);
      expect(io.stdout()).toBe('');
      expect(io.stderr()).toMatch(/^japari: (not an ONNX model|cannot read ONNX model)/);
    }
  });

  it('reads --input from a JSON file relative to the working folder', async () => {
    writeFileSync(join(tmp, 'x.json'), JSON.stringify(Array.from({ length: 12 }, (_, i) => (i - 6) / 8)));
    const io = captureIo({ cwd: tmp });
    expect(await main(['run', '--model', 'tiny-fc', '--engine', 'japari', '--input', 'x.json', '--json'], io)).toBe(0);
    expect(JSON.parse(io.stdout())).toMatchObject({ input: 'x.json', input_kind: 'file', equal: true });
    writeFileSync(join(tmp, 'short.json'), '[1, 2]');
    const bad = captureIo({ cwd: tmp });
    expect(await main(['run', '--model', 'tiny-fc', '--input', 'short.json'], bad)).toBe(2);
    expect(bad.stderr()).toMatch(/expected a JSON array of 12 finite numbers/);
  });

  it('human output on stdout: summary, verdict and breakdown, plain when not a terminal', async () => {
    const io = captureIo();
    expect(await runRun(parseRunOptions({ model: 'tiny-strided', engine: 'japari', batch: '2' }), io)).toBe(0);
    const out = io.stdout();
    expect(io.stderr()).toBe('');
    expect(out).not.toMatch(/\u001b\[/);
    expect(out).toMatch(/^model\s+tiny-strided/m);
    expect(out).toMatch(/^engine\s+japari, B = 2/m);
    expect(out).toMatch(/PASS {2}output equals the bit-exact Q15 reference/);
    expect(out).toMatch(/^category\s+cycles\s+time\s+energy\s+share of latency$/m);
    expect(out).toMatch(/^total\s/m);
  });
});
