/**
 * A wrong output of a published engine in the bench is attributed (sweep.ts attributeWrong): the
 * same run under each fix of the engine, and its power failures replayed as a schedule under the
 * property checks. The committed bench's lenet HAWAII B=8 100uF/2mW run on the default build
 * (stateful-cnn-2021-08) is the case: finding hawaii-2021-08-partial-increments.
 */
import { sweepSpec } from './sweep-spec.js';
import { describe, it, expect } from 'vitest';
import { constantCondition } from '../../src/bench/conditions.js';
import { BenchExecutor } from '../../src/bench/sweep.js';

const SPEC = sweepSpec({
  models: ['lenet'],
  engines: ['hawaii'],
  batches: [8],
  conditions: [],
  firmware: 'stateful-cnn-2021-08',
  minCap: null,
});

describe('bench: wrong outputs are attributed', () => {
  it('lenet HAWAII B=8 at 100uF/2mW on 2021-08: wrong, right with fix hawaii-whole-job-increments only, the same run replayed shows the counter ahead', () => {
    const exec = new BenchExecutor(SPEC);
    const cond = constantCondition(100e-6, 2e-3);
    const { row } = exec.run('lenet', 'hawaii', 8, cond);
    expect(row.completed).toBe(true);
    expect(row.equal).toBe(false);
    const a = row.attribution!;
    expect(a.tried).toEqual([
      { fix: 'hawaii-layer-remainder', outcome: 'wrong output' },
      { fix: 'hawaii-whole-job-increments', outcome: 'reference output' },
    ]);
    expect(a.findings).toEqual(['hawaii-2021-08-partial-increments']);
    expect(a.replay.same_output).toBe(true);
    expect(a.replay.failures).toBe(row.power_cycles);
    expect(a.replay.first_violation).toMatch(/^indicator-distinguishability .*seen finished but its work is not durable/);
  });

  it('a right output carries no attribution', () => {
    const { row } = new BenchExecutor(SPEC).run('lenet', 'hawaii', 4, constantCondition(100e-6, 2e-3));
    expect(row.equal).toBe(true);
    expect(row.attribution).toBeUndefined();
  });
});
