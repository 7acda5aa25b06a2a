/**
 * The Stateful accuracy report (src/report/stateful-accuracy.ts): its lenet row regenerates to
 * the committed one, its half-scale figures are those of the Stateful engine's own output, and
 * the rendering is deterministic.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { statefulAccuracyRow, statefulAccuracyFiles } from '../../src/report/stateful-accuracy.js';
import { projectRoot } from '../../src/util/shared.js';
import { loadModel } from '../../src/model/models.js';
import { Deployment, runInference } from '../../src/engines/runner.js';
import { msp430fr5994 } from '../../src/device/profile.js';
import { argmaxQ15 } from '../../src/model/q15.js';

describe('stateful accuracy report', () => {
  it('the lenet row regenerates to the committed report', () => {
    const row = statefulAccuracyRow('lenet');
    const committed = JSON.parse(readFileSync(join(projectRoot(), 'reports/verification/stateful-accuracy.json'), 'utf8')) as { rows: { model: string }[] };
    expect(committed.rows.find((r) => r.model === 'lenet')).toEqual(JSON.parse(JSON.stringify(row)));
    expect(row.inputs).toBe(16);
    expect(row.labelled).toBeDefined();
  });

  it('counts agreements of the Stateful engine\'s real top-1 (a few inputs)', () => {
    const m = loadModel('tiny-strided');
    const d = new Deployment(m.q, { engine: 'stateful', batch: 2, placement: 'spi-fram', profile: msp430fr5994 });
    const full = new Deployment(m.q, { engine: 'continuous', batch: 1, placement: 'spi-fram', profile: msp430fr5994 });
    const row = statefulAccuracyRow('tiny-strided', 6);
    let both = 0;
    for (let i = 0; i < 6; i++) {
      const r = runInference(d, { input: m.inputQ(i), supply: { kind: 'continuous' }, seed: 0 });
      expect(r.equal).toBe(true);
      if (argmaxQ15(r.output) === argmaxQ15(full.reference(m.inputQ(i)))) both++;
    }
    expect(row.half_agrees_full).toBe(both);
    expect(row.input_kind).toBe('synthetic');
  });

  it('renders deterministically, marking a report without shared models as partial', () => {
    const rows = [statefulAccuracyRow('tiny-fc', 8)];
    const a = statefulAccuracyFiles(rows);
    const b = statefulAccuracyFiles(rows);
    expect(a).toEqual(b);
    expect(a.every((f) => f.partial === true)).toBe(true);
    expect(a[1]!.content).toContain('| tiny-fc | 8 synthetic |');
  });
});
