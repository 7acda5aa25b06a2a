/**
 * Stateful's obligations (src/smt/stateful.smt.ts): proved on small deployments of the faithful
 * design; each seeded fault refutes the obligation about the rule it changes (the proofs call
 * the rules, so they are not vacuous).
 */
import { describe, it, expect, afterAll } from 'vitest';
import { prove } from '../../src/smt/prove.js';
import { Z3Runtime } from '../../src/smt/runtime.js';
import type { ObligationResult } from '../../src/smt/obligation.js';

const z3 = new Z3Runtime({ workers: 2 });
afterAll(async () => {
  await z3.close();
});

const T = 30_000;

function bad(rs: readonly ObligationResult[]): string[] {
  return rs.filter((r) => r.verdict !== 'proved').map((r) => `${r.id} ${r.layer}: ${r.verdict} ${r.limit ?? r.goal ?? ''}`);
}

describe('stateful proofs', () => {
  for (const [model, batch] of [
    ['tiny-conv', 2],
    ['tiny-concat', 3],
  ] as const) {
    it(`${model} B=${batch}: every obligation proved, including the state encoding, the clearer and the seeker`, async () => {
      const r = await prove({ model, engine: 'stateful', batch, timeoutMs: T }, z3);
      const ids = new Set(r.obligations.map((o) => o.id));
      for (const id of ['indicator-distinguishability', 'indicator-arithmetic', 'seeker-exactness', 'layer-commit', 'augmentation-transparency']) expect(ids.has(id as never), id).toBe(true);
      expect(bad(r.obligations)).toEqual([]);
    });
  }

  const refutes: [string, string, string][] = [
    ['stateful-clear-positive-only', 'indicator-arithmetic', 'the clearer does not return the embedded value'],
    ['stateful-state-first-value', 'seeker-exactness', "a job's state word is outside the output, carries no state, or is not the job's last word"],
    ['stateful-seek-skip-one', 'seeker-exactness', 'the seek resumes elsewhere than the first unfinished job'],
    ['stateful-published-seek-end', 'seeker-exactness', "the search covers other jobs than the output's (its probes leave the output)"],
    ['stateful-no-state-negate', 'layer-commit', 'layer_idx + 1 is committed before or without a negating state flip, or the turning point exceeds a u16 offset'],
  ];
  for (const [fault, obligation, goalName] of refutes) {
    it(`fault ${fault} refutes ${obligation}`, async () => {
      const r = await prove({ model: 'tiny-conv', engine: 'stateful', batch: 2, faults: [fault], obligation: obligation as never, replay: false, timeoutMs: T }, z3);
      const refuted = r.obligations.filter((o) => o.verdict === 'refuted');
      expect(refuted.length, fault).toBeGreaterThan(0);
      expect(refuted.map((o) => o.goal)).toContain(goalName);
    });
  }
});
