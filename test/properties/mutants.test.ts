/**
 * The CI subset of the kill matrix: every catalogued fault is killed by fuzzing or exploration
 * (small budgets), or argued equivalent; the catalogue covers the whole pipeline.
 */
import { describe, it, expect } from 'vitest';
import { FAULTS } from '../../src/engines/catalogue.js';
import { runMutants, summarize, EQUIVALENT } from '../../src/properties/mutants.js';
import { decodeToken } from '../../src/properties/token.js';
import { replaySpec } from '../../src/properties/replay.js';

describe('seeded-fault catalogue', () => {
  it('has at least 15 faults with one-line descriptions, across the pipeline', () => {
    expect(FAULTS.length).toBeGreaterThanOrEqual(15);
    for (const f of FAULTS) expect(f.description.length).toBeGreaterThan(20);
    const areas = new Set<string>(FAULTS.map((f) => f.area));
    for (const a of ['indicator value', 'state bit update', 'seeker boundary', 'write ordering', 'commit ordering', 'counter versioning', 'footprint stripping', 'volatile state after reboot', 'recovery entry', 'granularity edge', 'LEA arithmetic']) {
      expect(areas.has(a)).toBe(true);
    }
  });
});

describe('kill matrix, CI subset (fuzzing and exploration)', () => {
  it('kills every fault that is not argued equivalent, with replayable counterexamples', async () => {
    const rows = await runMutants({ quick: true, techniques: ['fuzz', 'explore'] });
    const s = summarize(rows);
    expect(s.survivors).toEqual([]);
    for (const r of rows) {
      if (!r.killed) {
        expect(EQUIVALENT[r.fault]).toBeDefined();
        continue;
      }
      const o = r.outcomes.find((x) => x.killed)!;
      const run = replaySpec(decodeToken(o.replay!));
      expect(run.violations.map((v) => v.property)).toContain(o.property);
    }
  }, 600_000);
});
