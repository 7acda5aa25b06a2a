/**
 * The benchmark sweep on the built-in tiny networks: row schema, skips with reasons,
 * determinism of the modelled numbers, the minimum-capacitor search, and the derived figures.
 */
import { describe, it, expect } from 'vitest';
import { CATEGORIES } from '../../src/device/device.js';
import { usableEnergy } from '../../src/device/energy.js';
import { CONTINUOUS, constantCondition, rcCondition, withCapacitor, secondsToHarvest, peakHarvestWatts } from '../../src/bench/conditions.js';
import { BenchExecutor, planSweep, unsupportedBatch, type BenchRow, type ModelInfo } from '../../src/bench/sweep.js';
import { runBench } from '../../src/bench/bench.js';
import { speedups, bestBatches, lowerBound } from '../../src/bench/derive.js';
import { reportFiles } from '../../src/bench/report.js';
import { stableStringify } from '../../src/util/json.js';
import { sweepSpec as spec, LADDER } from './sweep-spec.js';


const ROW_KEYS = [
  'model',
  'engine',
  'batch',
  'fixes',
  'condition',
  'supply',
  'supply_desc',
  'capacitor_uF',
  'power_mW',
  'completed',
  'equal',
  'latency_s',
  'on_time_s',
  'recharge_s',
  'power_cycles',
  'energy_mJ',
  'nvm_bytes',
  'cycles',
  'actions',
  'breakdown',
];

describe('bench sweep', () => {
  it('rows follow the schema; unsupported combinations are skipped with the reason', async () => {
    const { report } = await runBench(spec({ layers: true }), { workers: 1, inProcess: true });
    // continuous at B = 1 only; hawaii at 1, 2, 3; japari at 1, 2 (its ReLU tile of 16 needs B | 16);
    // the loop-count engine at 1, 2 (B | Tm = 8); stateful at 1, 2, 3.
    expect(report.rows).toHaveLength((1 + 3 + 2 + 2 + 3) * 3);
    for (const r of report.rows) {
      for (const k of ROW_KEYS) expect(r, k).toHaveProperty(k);
      expect(Object.keys(r.breakdown).sort()).toEqual([...CATEGORIES].sort());
      const t = CATEGORIES.reduce((s, c) => s + r.breakdown[c].seconds, 0);
      const e = CATEGORIES.reduce((s, c) => s + r.breakdown[c].energy_mJ, 0);
      expect(t).toBeCloseTo(r.latency_s, 9);
      expect(e).toBeCloseTo(r.energy_mJ, 9);
      expect(r.latency_s).toBeCloseTo(r.on_time_s + r.recharge_s, 12);
      if (r.completed) expect(r.equal).toBe(true);
      else expect(r.reason).toMatch(/forward progress/);
      expect(r.layers!.length).toBeGreaterThan(0);
      const layerSum = r.layers!.reduce((s, l) => s + l.seconds, 0);
      expect(layerSum).toBeCloseTo(r.on_time_s, 6);
      if (r.condition === CONTINUOUS.id) {
        expect(r).toMatchObject({ supply: 'continuous', capacitor_uF: null, power_mW: null, power_cycles: 0, recharge_s: 0, completed: true });
      } else {
        expect(r.capacitor_uF).toBe(100);
      }
    }
    expect(report.rows.find((r) => r.condition === '100uF/5mW')!.power_mW).toBe(5);
    const reasons = report.skipped.map((s) => `${s.engine} ${s.batch}`);
    expect(reasons).toEqual(expect.arrayContaining(['continuous 2', 'continuous 3', 'japari-loopcount 3', 'japari 3']));
    expect(report.skipped.find((s) => s.engine === 'japari')).toMatchObject({ model: 'tiny-conv', batch: 3 });
    expect(report.skipped.find((s) => s.engine === 'japari-loopcount')!.reason).toMatch(/divide/);
    expect(report.models[0]!.quantized_sha256).toMatch(/^[0-9a-f]{16}$/);
    expect(report.models[0]!.baseline.compute_s).toBeGreaterThan(0);
    expect(report.device.active_power_mW).toBeCloseTo(5.664, 9);
    expect(report.derived.min_capacitors).toHaveLength(5);
    expect(report.calibration.length).toBeGreaterThan(10);
  });

  it('a model that cannot be loaded is skipped with the reason, not fatal', () => {
    const plan = planSweep(spec({ models: ['no-such-model', 'tiny-fc'] }));
    expect(plan.models).toEqual(['tiny-fc']);
    expect(plan.skipped[0]).toMatchObject({ model: 'no-such-model', engine: '*' });
    expect(plan.skipped[0]!.reason).toMatch(/unknown model/);
    expect(unsupportedBatch('hawaii', 8)).toBeNull();
    expect(unsupportedBatch('japari-loopcount', 8)).toBeNull();
  });

  it('determinism: the same spec gives byte-identical modelled reports (in any job order)', async () => {
    const s = spec({ models: ['tiny-fc', 'tiny-concat'], batches: [1, 2] });
    const a = await runBench(s, { workers: 1, inProcess: true });
    const b = await runBench(s, { workers: 1, inProcess: true });
    expect(stableStringify(a.report)).toBe(stableStringify(b.report));
    // Every rendered file except the machine-dependent speed pages.
    const fa = reportFiles(a.report, a.speed);
    const fb = reportFiles(b.report, b.speed);
    for (const f of Object.keys(fa).filter((f) => !f.startsWith('speed'))) expect(fa[f], f).toBe(fb[f]);
    // Jobs run in reverse order on a fresh executor give the same rows (jobs share no state).
    const plan = planSweep(s);
    const exec = new BenchExecutor(s);
    const reversed = [...plan.jobs].reverse().map((j) => exec.exec(j));
    const rows = reversed.flatMap((r) => (r.kind === 'run' ? [r] : [])).sort((x, y) => x.id - y.id).map((r) => r.row);
    expect(stableStringify(rows)).toBe(stableStringify(a.report.rows));
    // A single run repeated on a fresh executor gives the same figures.
    const one = new BenchExecutor(s).run('tiny-concat', 'japari', 2, constantCondition(100e-6, 5e-3)).row;
    const two = new BenchExecutor(s).run('tiny-concat', 'japari', 2, constantCondition(100e-6, 5e-3)).row;
    expect(one).toEqual(two);
  });

  it('minimum capacitor: completion is monotone on a dense ladder and the search lands on its edge', () => {
    const exec = new BenchExecutor(spec());
    for (const engine of ['hawaii', 'japari', 'japari-loopcount', 'stateful'] as const) {
      const caps = Array.from({ length: 26 }, (_, i) => (20 + 2 * i) * 1e-6);
      const done = caps.map((f) => exec.run('tiny-conv', engine, 1, withCapacitor(rcCondition(100e-6), f)).row.completed);
      const first = done.indexOf(true);
      expect(first, engine).toBeGreaterThan(0);
      // Monotone: once an inference completes, it completes with every larger capacitor.
      expect(done.slice(first).every(Boolean), engine).toBe(true);
      const { result } = exec.minCapacitor('tiny-conv', engine, 1);
      expect(result.min_capacitor_uF).not.toBeNull();
      expect(result.max_failing_uF).not.toBeNull();
      expect(result.completes_below_uF).toEqual([]);
      expect(result.min_capacitor_uF! / result.max_failing_uF!).toBeLessThanOrEqual(1.02 + 1e-9);
      // The dense scan's first completing capacitor agrees with the search (2 uF steps).
      expect(result.min_capacitor_uF!).toBeGreaterThan(caps[first - 1]! * 1e6);
      expect(result.min_capacitor_uF!).toBeLessThanOrEqual(caps[first]! * 1e6 + 1e-9);
      // Every probe at or above the minimum completed; every probe at or below the largest failure did not.
      for (const p of result.probes) {
        if (p.capacitor_uF >= result.min_capacitor_uF!) expect(p.completed).toBe(true);
        if (p.capacitor_uF <= result.max_failing_uF!) expect(p.completed).toBe(false);
      }
    }
  });

  it('a stronger harvester never needs a larger capacitor (RC through a smaller resistance)', () => {
    const weak = new BenchExecutor(spec({ minCap: { condition: rcCondition(100e-6, 3.0, 2000), batches: [1], ladderF: LADDER, tolerance: 0.02 } }));
    const strong = new BenchExecutor(spec({ minCap: { condition: rcCondition(100e-6, 3.0, 500), batches: [1], ladderF: LADDER, tolerance: 0.02 } }));
    for (const engine of ['hawaii', 'japari'] as const) {
      const w = weak.minCapacitor('tiny-conv', engine, 1).result.min_capacitor_uF!;
      const s = strong.minCapacitor('tiny-conv', engine, 1).result.min_capacitor_uF!;
      expect(s, engine).toBeLessThanOrEqual(w * 1.02);
    }
  });
});

describe('derived figures', () => {
  const row = (engine: BenchRow['engine'], batch: number, condition: string, latency: number, completed = true): BenchRow => {
    const zero = Object.fromEntries(CATEGORIES.map((c) => [c, { seconds: 0, energy_mJ: 0 }])) as BenchRow['breakdown'];
    return {
      model: 'm',
      engine,
      batch,
      fixes: [],
      condition,
      supply: 'constant',
      supply_desc: '',
      capacitor_uF: 100,
      power_mW: 5,
      completed,
      equal: completed,
      latency_s: latency,
      on_time_s: latency,
      recharge_s: 0,
      power_cycles: 0,
      energy_mJ: 1,
      nvm_bytes: 0,
      cycles: 0,
      actions: 0,
      breakdown: zero,
    };
  };

  it('speedup = HAWAII latency / engine latency; failures are named, not divided', () => {
    const rows = [row('hawaii', 1, 'c', 3), row('japari', 1, 'c', 1.5), row('hawaii', 2, 'c', 2), row('japari', 2, 'c', 4, false), row('continuous', 1, 'c', 1)];
    const sp = speedups(rows);
    const get = (e: string, b: number) => sp.find((s) => s.engine === e && s.batch === b)!;
    expect(get('japari', 1)).toMatchObject({ speedup: 2, status: 'both-complete' });
    expect(get('japari', 2)).toMatchObject({ speedup: null, status: 'engine-failed' });
    // The continuous engine's B = 1 run is compared at every B.
    expect(get('continuous', 2)).toMatchObject({ speedup: 2 });
  });

  it('best B: the lowest completed latency, ties to the smaller B', () => {
    const rows = [row('japari', 1, 'c', 2), row('japari', 2, 'c', 1), row('japari', 4, 'c', 1), row('japari', 8, 'c', 0.5, false)];
    const [b] = bestBatches(rows);
    expect(b).toMatchObject({ engine: 'japari', batch: 2, latency_s: 1 });
    expect(b!.by_batch).toEqual({ '1': 2, '2': 1, '4': 1, '8': null });
  });

  it('lower bound: compute time, or the time to harvest the compute energy beyond the initial charge', () => {
    const info = { name: 'm', baseline: { compute_s: 0.01, compute_mJ: 2, latency_s: 0.1, energy_mJ: 3, actions: 1 } } as ModelInfo;
    expect(lowerBound(info, CONTINUOUS)).toMatchObject({ lower_bound_s: 0.01, basis: 'compute time' });
    const c = constantCondition(100e-6, 2e-3);
    const lb = lowerBound(info, c);
    expect(lb.basis).toBe('harvest');
    expect(lb.lower_bound_s).toBeCloseTo((2e-3 - usableEnergy(c.capacitor!)) / 2e-3, 12);
    // RC: at most V (Vsup - V) / R at Voff = 2.4 V: 1.44 mW.
    expect(peakHarvestWatts(rcCondition(100e-6))).toBeCloseTo(1.44e-3, 12);
    expect(secondsToHarvest(rcCondition(100e-6), 1.44e-3)).toBeCloseTo(1, 12);
  });
});
