/**
 * Coverage-guided fuzzing (src/properties/coverage.ts, guided.ts): the static site map agrees with
 * what the device reports when power fails there; a campaign is deterministic per seed; guidance
 * reaches more coverage than random draws on the same budget; the guided shrinker keeps a
 * failing case failing; `--strategy random` is fast-check's campaign as before.
 */
import { describe, it, expect } from 'vitest';
import { fuzz } from '../../src/properties/fuzz.js';
import { replaySpec, deploymentOf } from '../../src/properties/replay.js';
import { SiteMap, SiteRecorder, coverageTuples, tearOf, CoverageMap } from '../../src/properties/coverage.js';
import { shrinkCase, type GuidedCase } from '../../src/properties/guided.js';
import { fixesFor } from '../../src/engines/catalogue.js';
import { Rng } from '../../src/util/rng.js';

const RUN = { model: 'tiny-concat', engine: 'japari' as const, batch: 2, placement: 'spi-fram' as const, profile: 'inas2021', faults: [], fixes: fixesFor('japari'), input: 1, warmup: [], seed: 3, garbage: { kind: 'random' as const } };

describe('coverage', () => {
  it('tear classes', () => {
    expect([tearOf(1, 0, 1), tearOf(8, 0, 1), tearOf(8, 7, 1), tearOf(8, 3, 1), tearOf(8, 4, 1), tearOf(8, 3, 2)]).toEqual(['-', 'start', 'last', 'mid-word', 'mid', 'mid']);
  });

  it('a first failure placed in a site class of the uninterrupted run is observed in that class', () => {
    const golden = replaySpec({ ...RUN, schedule: [] }, true);
    const d = deploymentOf(RUN);
    const map = new SiteMap(d, golden.result.trace!, false, golden.result.device.nvmWriteUnitBytes, golden.result.actions);
    expect(map.classes.length).toBeGreaterThan(10);
    expect(map.classes.some((k) => k.endsWith('|mid-word'))).toBe(true);
    const rng = new Rng(7);
    const pick = (n: number) => Math.floor(rng.float() * n);
    for (const k of map.classes) {
      for (let i = 0; i < 3; i++) {
        const a = map.actionIn(k, pick);
        const rec = new SiteRecorder();
        const r = replaySpec({ ...RUN, schedule: [a] }, false, rec.observe);
        expect(rec.sites.length, `class ${k}, action ${a}`).toBe(1);
        const t = coverageTuples(d, rec.sites, r.seeks, false)[0]!;
        expect(t.startsWith(`${k}|`), `class ${k}, action ${a}: observed ${t}`).toBe(true);
        expect(t.endsWith('|d0')).toBe(true);
      }
    }
  });

  it('a failure inside the recovery of another has depth 1', () => {
    const golden = replaySpec({ ...RUN, schedule: [] });
    const a = Math.floor(golden.result.actions / 2);
    const rec = new SiteRecorder();
    replaySpec({ ...RUN, schedule: [a, a + 3] }, false, rec.observe);
    expect(rec.sites.map((s) => s.depth)).toEqual([0, 1]);
  });

  it('the coverage map counts new tuples once', () => {
    const m = new CoverageMap();
    expect(m.add(['0|commit|start|first|exact|d0', '0|commit|start|first|exact|d0'])).toBe(1);
    expect(m.add(['0|commit|start|inner|exact|d0'])).toBe(1);
    expect([m.size, m.siteHits('0|commit|start'), m.kindHits('commit|start')]).toEqual([2, 3, 3]);
  });
});

describe('guided fuzzing', () => {
  const o = { model: 'tiny-concat', engine: 'japari' as const, batch: 2, placement: 'spi-fram' as const, profile: 'inas2021', faults: [], fixes: fixesFor('japari'), seed: 5, runs: 120 };

  it('is deterministic per seed and reaches more coverage than random draws on the same budget', () => {
    const a = fuzz({ ...o, strategy: 'guided' });
    const b = fuzz({ ...o, strategy: 'guided' });
    const r = fuzz({ ...o, strategy: 'random' });
    expect([a.verdict, a.runs, r.runs]).toEqual(['pass', 120, 120]);
    expect(b.coverage.tuples).toBe(a.coverage.tuples);
    expect(b.coverage.curve.map((p) => [p.runs, p.tuples])).toEqual(a.coverage.curve.map((p) => [p.runs, p.tuples]));
    expect(a.coverage.tuples).toBeGreaterThan(r.coverage.tuples);
  });

  it('finds, shrinks and replays a seeded fault; the same seed gives the same counterexample', () => {
    const f = { ...o, faults: ['japari-relu-stale-marker'], runs: 300, warmup: [0] };
    const a = fuzz(f);
    const b = fuzz(f);
    expect(a.verdict).toBe('fail');
    expect(a.strategy).toBe('guided');
    expect(b.counterexample!.token).toBe(a.counterexample!.token);
    expect(replaySpec(a.counterexample!.spec).violations.length).toBeGreaterThan(0);
    expect(a.failedAt).toBeLessThanOrEqual(a.runs);
  });

  it('the shrinker drops failures and the warm-up only while the case still fails', () => {
    const c: GuidedCase = { model: 'm', batch: 1, placement: 'spi-fram', input: 0, warm: [1], gaps: [10, 5, 20], seed: 0, garbage: { kind: 'random' } };
    // Fails iff the schedule holds action 16 (the second failure: 10, 16, 37).
    const sched = (x: GuidedCase) => x.gaps.reduce<number[]>((acc, g) => [...acc, (acc[acc.length - 1] ?? -1) + 1 + g], []);
    const r = shrinkCase(c, (x) => sched(x).includes(16));
    expect(sched(r.c)).toEqual([16]);
    expect(r.c.warm).toEqual([]);
    expect(r.shrinks).toBe(3);
  });
});
