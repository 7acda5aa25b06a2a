/**
 * `japari calibrate` (src/bench/fit.ts): calibration.md parsed into japari configurations, the
 * non-negative least squares, and the committed constants (firmware-fit.ts) reproduced from
 * calibration.md alone.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { configurationOf, parseCalibration, nnls, calibrationRows, fitConstants, fitSource } from '../../src/bench/fit.js';
import { FITTED, RESIDUALS } from '../../src/engines/reference/firmware-fit.js';
import { InputError } from '../../src/util/errors.js';
import { sharedAvailable } from '../../src/util/shared.js';
import { projectRoot } from '../../src/util/shared.js';
import { join } from 'node:path';

const haveShared = sharedAvailable('reference', 'calibration.md') && sharedAvailable('models', 'mnist-8.onnx') && sharedAvailable('models', 'KWS-DNN_S.onnx');

describe('calibration', () => {
  it('maps calibration.md configurations to japari runs', () => {
    expect(configurationOf('Baseline')).toEqual({ engine: 'continuous', batch: 1, ablate: null });
    expect(configurationOf('Baseline without output preservation')).toEqual({ engine: 'continuous', batch: 1, ablate: 'output-preservation' });
    expect(configurationOf('HAWAII without footprint preservation, B=4')).toEqual({ engine: 'hawaii', batch: 4, ablate: 'indicator-preservation' });
    expect(() => configurationOf('something else')).toThrow(InputError);
  });

  it('parses the table rows only, and refuses an unknown build', () => {
    const md = '| build | model | configuration | seconds |\n| --- | --- | --- | --- |\n| stateful-cnn-2021-08 | mnist-8 (LeNet) | Baseline | 2.5 |\n- text\n';
    expect(parseCalibration(md)).toEqual([{ build: 'stateful-cnn-2021-08', modelText: 'mnist-8 (LeNet)', configuration: 'Baseline', seconds: 2.5, model: 'mnist', engine: 'continuous', batch: 1, ablate: null }]);
    expect(() => parseCalibration('| stateful-cnn-1999 | mnist-8 (LeNet) | Baseline | 1 |\n')).toThrow(InputError);
    expect(() => parseCalibration('nothing')).toThrow(InputError);
  });

  it('nnls recovers an exact non-negative solution and clamps a negative one to 0', () => {
    const A = [[1, 0], [0, 1], [1, 1]];
    expect(nnls(A, [2, 3, 5]).map((v) => +v.toFixed(9))).toEqual([2, 3]);
    const x = nnls(A, [-1, 3, 2]);
    expect(x[0]).toBe(0);
    expect(x[1]!).toBeCloseTo(2.5, 9);
  });

  it.skipIf(!haveShared)('the committed constants are what calibration.md gives (rerunnable, deterministic)', () => {
    const fit = fitConstants(calibrationRows());
    expect(fit.constants).toEqual(FITTED['stateful-cnn-2021-08']);
    expect(fit.constants).toEqual(FITTED['stateful-cnn-2021-02']);
    expect(fitSource(fit)).toBe(readFileSync(join(projectRoot(), 'src/engines/reference/firmware-fit.ts'), 'utf8'));
    expect(RESIDUALS.length).toBe(calibrationRows().length);
    for (const r of RESIDUALS) expect(Math.abs(r.residual)).toBeLessThan(0.05);
  }, 120_000);
});
