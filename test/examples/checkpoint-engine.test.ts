/**
 * The example design (examples/checkpoint-engine: round-tagged checkpoints every 4 jobs), through
 * the public API only ('japari', the package's own exports), as a user would: registered without
 * editing japari, then fuzzed, explored, checked with its own property and proved by the Z3 back
 * end from its declarative indicator scheme. A broken variant of the scheme is refuted (the proof
 * is not vacuous), and a broken engine is caught by exploration.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../../dist/src/index.js', import.meta.url));
const built = existsSync(dist);

describe.skipIf(!built)('example design: round-tagged checkpoints (public API)', async () => {
  if (!built) return;
  const japari = await import('japari');
  const ex = await import('../../examples/checkpoint-engine/engine.js');
  japari.registerEngine(ex.design);
  const unregister = ex.properties.map((p: Parameters<typeof japari.registerProperty>[0]) => japari.registerProperty(p));
  afterAll(async () => {
    for (const u of unregister) u();
    await japari.closeSharedZ3();
  });
  const m = japari.loadModel('lenet');

  it('runs bit-exact under continuous power and writes 4x fewer indicator words than HAWAII', () => {
    const run = (engine: string) =>
      japari.runInference(new japari.Deployment(m.q, { engine, batch: 1, placement: 'spi-fram', profile: japari.msp430fr5994 }), { input: m.inputQ(0), supply: { kind: 'continuous' }, seed: 1 });
    const ours = run(ex.KIND);
    const hawaii = run('hawaii');
    expect(ours.equal).toBe(true);
    expect(ours.breakdown['preserve-indicator'].cycles).toBeLessThan(hawaii.breakdown['preserve-indicator'].cycles / 3);
  });

  it('fuzzing and exhaustive exploration pass (its own property included)', () => {
    const f = japari.fuzz({ model: 'lenet', engine: ex.KIND, design: ex.design, batch: 2, placement: 'spi-fram', profile: 'inas2021', faults: [], fixes: [], seed: 11, runs: 40 });
    expect(f.verdict, JSON.stringify(f.counterexample?.violations?.[0])).toBe('pass');
    const d = new japari.Deployment(m.q, { engine: ex.KIND, batch: 2, placement: 'spi-fram', profile: japari.msp430fr5994 });
    const e = japari.explore(d, { input: m.inputQ(0), warmup: [m.inputQ(1)], seed: 3, mode: 'linear' });
    expect(e.verdict, JSON.stringify(e.failures[0]?.violations[0])).toBe('pass');
    expect(e.stats.points).toBeGreaterThan(1000);
  });

  it('a broken engine (the checkpoint written before its values) is caught with a named property', () => {
    const early = {
      ...ex.design,
      kind: 'example-checkpoint-early',
      engine: (plan: never, faults: ReadonlySet<string>) => {
        const eng = ex.design.engine(plan, faults) as unknown as { preservation: { beforeWrite: (...a: unknown[]) => void; afterWrite: (...a: unknown[]) => void } };
        // Count (and checkpoint) the values before they are written.
        const p = eng.preservation;
        const after = p.afterWrite.bind(p);
        p.beforeWrite = (layer: unknown, _o: unknown, _b: unknown, _w: unknown, _n: unknown, fresh: unknown) => after(layer, fresh);
        p.afterWrite = () => undefined;
        return eng;
      },
    };
    japari.registerEngine(early as unknown as Parameters<typeof japari.registerEngine>[0]);
    const d = new japari.Deployment(m.q, { engine: early.kind, batch: 2, placement: 'spi-fram', profile: japari.msp430fr5994 });
    const e = japari.explore(d, { input: m.inputQ(0), warmup: [m.inputQ(1)], seed: 3, mode: 'linear', stopAtFirst: true });
    expect(e.verdict).toBe('fail');
    expect(['progress-exactness', 'indicator-distinguishability', 'equivalence']).toContain(e.failures[0]!.violations[0]!.property);
  });

  it('Z3 proves its declarative scheme (distinguishability and seeker exactness) for every layer', async () => {
    const r = await japari.prove({ model: 'lenet', engine: ex.KIND, batch: 1, timeoutMs: 60_000, replay: false });
    const scheme = r.obligations.filter((o) => o.tiedTo.some((t) => t.includes('scheme')));
    expect(scheme.length).toBeGreaterThanOrEqual(12);
    expect(scheme.filter((o) => o.verdict !== 'proved').map((o) => `${o.id} ${o.layer} ${o.verdict} ${o.limit ?? ''}`)).toEqual([]);
  });

  it('the proof is not vacuous: a tag that is 0 in even rounds (never-written NVM) is refuted', async () => {
    const broken = { ...ex.checkpointScheme(10), name: 'parity tag', indicator: <N, B>(o: import('japari').Ops<N, B>, _c: N, r: N) => o.mod(r, o.k(2)), finished: <N, B>(o: import('japari').Ops<N, B>, w: N, _c: N, r: N) => o.eq(w, o.mod(r, o.k(2))), stale: undefined };
    const obligations = japari.schemeObligations('broken', [{ layer: 'any', scheme: broken }]);
    const { runObligation } = await import('../../src/smt/obligation.js');
    const res = await runObligation(japari.sharedZ3(), obligations[0]!, { timeoutMs: 60_000, replay: false });
    expect(res.verdict).toBe('refuted');
    expect(res.counterexample?.['round']).toBe(0);
  });
});
