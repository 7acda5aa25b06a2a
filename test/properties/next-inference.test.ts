/**
 * The inference after an interrupted one: a failure can leave state that only the next inference
 * trips over. Exploration and checkScenario (what replay and fuzzing run) check it, and a seeded
 * fault whose damage shows only in the next inference is found and replays.
 */
import { describe, it, expect } from 'vitest';
import { loadModel } from '../../src/model/models.js';
import { Deployment } from '../../src/engines/runner.js';
import { msp430fr5994 } from '../../src/device/profile.js';
import { explore } from '../../src/properties/explore.js';
import { checkScenario } from '../../src/properties/properties.js';
import type { EngineKind } from '../../src/engines/reference/plan.js';

function deploy(engine: EngineKind, faults: string[]) {
  const m = loadModel('tiny-conv');
  return { m, d: new Deployment(m.q, { engine, batch: 2, placement: 'spi-fram', profile: msp430fr5994, faults, fixes: [] }) };
}

describe('the inference after an interrupted one is checked', () => {
  it('japari-commit-before-state: a failure between the two commit writes breaks only the next inference', () => {
    const { m, d } = deploy('japari', ['japari-commit-before-state']);
    const o = { input: m.inputQ(1), warmup: [m.inputQ(2)], seed: 3, mode: 'linear' as const };
    const r = explore(d, o);
    expect(r.golden).toEqual([]);
    expect(r.verdict).toBe('fail');
    const nextOnly = r.failures.filter((f) => f.violations.every((v) => v.property === 'next-inference'));
    expect(nextOnly.length).toBeGreaterThan(0);
    // The pruned search and the unpruned one agree (runs ending in the uninterrupted run's state share its next inference).
    const full = explore(d, { ...o, prune: false });
    expect(full.failures.map((f) => f.schedule.join(','))).toEqual(r.failures.map((f) => f.schedule.join(',')));
    for (const f of nextOnly.slice(0, 3)) {
      const run = checkScenario(d, { input: o.input, warmup: o.warmup, failAt: f.schedule, seed: 3 });
      expect(run.result.equal).toBe(true);
      expect(run.violations.map((v) => v.property)).toEqual(['next-inference']);
    }
  });

  it('the published design passes, and an uninterrupted run checks its next inference once', () => {
    const { m, d } = deploy('japari', []);
    const r = explore(d, { input: m.inputQ(1), warmup: [m.inputQ(2)], seed: 3, mode: 'linear' });
    expect(r.verdict).toBe('pass');
    const plain = checkScenario(d, { input: m.inputQ(1), warmup: [m.inputQ(2)], failAt: [], seed: 3 });
    expect(plain.violations).toEqual([]);
  });
});
