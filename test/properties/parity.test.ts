/**
 * Both parities: JAPARI's slot state bits and the loop-count SIGN alternate with every inference,
 * so one warm-up only ever explores one parity. `parities: 2` also explores the inference after
 * one more warm-up; its failing points carry phase 1 and replay with that warm-up.
 */
import { describe, it, expect } from 'vitest';
import { loadModel } from '../../src/model/models.js';
import { Deployment } from '../../src/engines/runner.js';
import { msp430fr5994 } from '../../src/device/profile.js';
import { explore, secondParityWarmup } from '../../src/properties/explore.js';
import { checkScenario, warmNvm } from '../../src/properties/properties.js';
import type { EngineKind } from '../../src/engines/reference/plan.js';

function deploy(model: string, engine: EngineKind, faults: string[] = []) {
  const m = loadModel(model);
  return { m, d: new Deployment(m.q, { engine, batch: 2, placement: 'spi-fram', profile: msp430fr5994, faults, fixes: [] }) };
}

describe('both parities of the state bits', () => {
  it('the second phase starts from the other parity (JAPARI state bits, loop-count SIGN)', () => {
    for (const engine of ['japari', 'japari-loopcount'] as const) {
      const { m, d } = deploy('tiny-concat', engine);
      const o = { input: m.inputQ(1), warmup: [m.inputQ(2)] };
      const states = (w: readonly Int16Array[]) => {
        const nvm = warmNvm(d, w);
        return d
          .inspector()
          .record((a) => nvm.readU8(a))
          .slots.map((s) => s.state);
      };
      const a = states(o.warmup);
      const b = states(secondParityWarmup(o));
      expect(a).not.toEqual(b);
    }
  });

  it('a two-parity campaign is the two one-parity campaigns; phase-1 points replay with one more warm-up', () => {
    const { m, d } = deploy('tiny-conv', 'japari', ['japari-footprint-first']);
    const o = { input: m.inputQ(1), warmup: [m.inputQ(2)], seed: 3, mode: 'linear' as const };
    const both = explore(d, { ...o, parities: 2 });
    const a = explore(d, o);
    const b = explore(d, { ...o, warmup: secondParityWarmup(o) });
    expect(both.stats.points).toBe(a.stats.points + b.stats.points);
    expect(both.failures.filter((f) => !f.phase).map((f) => f.schedule)).toEqual(a.failures.map((f) => f.schedule));
    expect(both.failures.filter((f) => f.phase === 1).map((f) => f.schedule)).toEqual(b.failures.map((f) => f.schedule));
    expect(both.golden.filter((v) => v.phase === 1)).toHaveLength(b.golden.length);
    const f = both.failures.find((x) => x.phase === 1)!;
    const run = checkScenario(d, { input: o.input, warmup: secondParityWarmup(o), failAt: f.schedule, seed: 3 });
    expect(new Set(run.violations.map((v) => v.property))).toEqual(new Set(f.violations.map((v) => v.property)));
  });
});
