/**
 * The 2021 builds' HAWAII update sequence has its own obligation (smt/hawaii.smt.ts
 * counterUpdate2021): version reads from NVM, the versioned 4-byte write, the extra write per
 * vector (increment 0..B). Proved on every layer of lenet at B = 1, 2, 4; the later build keeps
 * the volatile-copy obligation.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { proveContext } from '../../src/smt/context.js';
import { hawaiiObligations } from '../../src/smt/hawaii.smt.js';
import { runObligation } from '../../src/smt/obligation.js';
import { Z3Runtime } from '../../src/smt/runtime.js';

const z3 = new Z3Runtime({ workers: 2 });
afterAll(async () => {
  await z3.close();
});

describe('HAWAII 2021 counter updates', () => {
  for (const batch of [1, 2, 4]) {
    it(`lenet B=${batch}: a torn update at any byte reads a valid copy`, async () => {
      const ctx = proveContext({ model: 'lenet', engine: 'hawaii', batch, firmware: 'stateful-cnn-2021-08' });
      const os = hawaiiObligations(ctx).filter((o) => o.id === 'indicator-distinguishability');
      expect(os.length).toBe(ctx.plan.layers.length);
      for (const o of os) expect(o.tiedTo).toContain('hawaii/rules.ts#versionedCounterWrite');
      const r = await runObligation(z3, os[0]!, { timeoutMs: 60_000, replay: false });
      expect(r.verdict).toBe('proved');
    }, 120_000);
  }

  it('the later build keeps the volatile-copy update obligation', () => {
    const ctx = proveContext({ model: 'lenet', engine: 'hawaii', batch: 2 });
    const os = hawaiiObligations(ctx).filter((o) => o.id === 'indicator-distinguishability');
    for (const o of os) expect(o.tiedTo).toContain('hawaii/rules.ts#counterUpdate');
  });
});
