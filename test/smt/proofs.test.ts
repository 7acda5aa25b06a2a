/**
 * The obligations on real plans:
 *   - proved on the tiny nets and lenet for HAWAII and JAPARI (with the fixes of the known
 *     findings switched on)
 *   - refuted on the known findings of the published designs, each counterexample replaying on
 *     the executable model with the same violation ("refutation reproduces": a refutation that
 *     does not reproduce is a bug in the encoding)
 *   - refuted when the model is broken on purpose (a seeded fault, a corrupted ROM weight): the
 *     proofs are not vacuous
 */
import { describe, it, expect, afterAll } from 'vitest';
import { prove, obligationsFor } from '../../src/smt/prove.js';
import { proveContext } from '../../src/smt/context.js';
import { runObligation, type ObligationResult } from '../../src/smt/obligation.js';
import { Z3Runtime } from '../../src/smt/runtime.js';
import { FIXES } from '../../src/engines/catalogue.js';
import { decodeToken } from '../../src/properties/token.js';
import { replaySpec } from '../../src/properties/replay.js';
import type { EngineKind } from '../../src/engines/reference/plan.js';

const z3 = new Z3Runtime({ workers: 2 });
afterAll(async () => {
  await z3.close();
});

const T = 30_000;
const fixesOf = (engine: string) => FIXES.filter((f) => f.engine === engine).map((f) => f.id);

function expectAllProved(rs: readonly ObligationResult[], what: string): void {
  const bad = rs.filter((r) => r.verdict !== 'proved').map((r) => `${r.id} ${r.layer}: ${r.verdict} ${r.limit ?? r.goal ?? ''}`);
  expect(bad, what).toEqual([]);
}

/** A refutation's replay token runs on the executable model and shows the violation. */
function expectReproduces(r: ObligationResult): void {
  expect(r.verdict).toBe('refuted');
  expect(r.counterexample).toBeDefined();
  expect(r.replay && 'token' in r.replay, `${r.id} ${r.layer}: ${JSON.stringify(r.replay)}`).toBe(true);
  const rep = r.replay as { token: string; reproduced: boolean; violation: string };
  expect(rep.reproduced, rep.violation).toBe(true);
  // "Reproduced" means what `japari replay` reports: the token's run shows a violation (exit 1).
  const spec = decodeToken(rep.token);
  const run = replaySpec(spec);
  expect(run.violations.length, `${rep.token} replays without a violation`).toBeGreaterThan(0);
}

describe('proved with the fixes: tiny nets and lenet, HAWAII and JAPARI', () => {
  const cases: [string, EngineKind, number][] = [
    ['tiny-conv', 'hawaii', 1],
    ['tiny-fc', 'hawaii', 2],
    ['tiny-concat', 'hawaii', 4],
    ['tiny-strided', 'hawaii', 1],
    ['tiny-conv', 'japari', 1],
    ['tiny-fc', 'japari', 1],
    ['tiny-concat', 'japari', 1],
    ['tiny-strided', 'japari', 1],
    ['lenet', 'hawaii', 1],
    ['lenet', 'japari', 2],
  ];
  for (const [model, engine, batch] of cases) {
    it(`${model} ${engine} B=${batch}: every obligation proved`, async () => {
      const r = await prove({ model, engine, batch, fixes: fixesOf(engine), timeoutMs: T }, z3);
      expect(r.obligations.length).toBeGreaterThan(0);
      expectAllProved(r.obligations, `${model} ${engine} B=${batch}`);
    });
  }
});

describe('refuted on the known findings, and every refutation replays', () => {
  it('hawaii-remainder-crosses-layers: tiny-concat B = 4, a B the authors\' code compiles (seeker-exactness), proved with the fix', async () => {
    const faithful = await prove({ model: 'tiny-concat', engine: 'hawaii', batch: 4, obligation: 'seeker-exactness', timeoutMs: T }, z3);
    const refuted = faithful.obligations.filter((r) => r.verdict === 'refuted');
    expect(refuted.length).toBeGreaterThan(0);
    for (const r of refuted) {
      expect(r.finding).toBe('hawaii-remainder-crosses-layers');
      expect((r.counterexample!['r0'] as number) > 0).toBe(true);
      expectReproduces(r);
    }
    const fixed = await prove({ model: 'tiny-concat', engine: 'hawaii', batch: 4, obligation: 'seeker-exactness', fixes: ['hawaii-layer-remainder'], timeoutMs: T }, z3);
    expectAllProved(fixed.obligations, 'fixed');
  });

  it('japari-gemm-call-sign: tiny-fc B = 1 (indicator-distinguishability), proved with the fix', async () => {
    const faithful = await prove({ model: 'tiny-fc', engine: 'japari', batch: 1, obligation: 'indicator-distinguishability', timeoutMs: T }, z3);
    const refuted = faithful.obligations.filter((r) => r.verdict === 'refuted');
    expect(refuted.map((r) => r.finding)).toContain('japari-gemm-call-sign');
    for (const r of refuted) expectReproduces(r);
    const fixed = await prove({ model: 'tiny-fc', engine: 'japari', batch: 1, obligation: 'indicator-distinguishability', fixes: ['japari-gemm-column-sign'], timeoutMs: T }, z3);
    expectAllProved(fixed.obligations, 'fixed');
  });

  it('japari-fc-without-footprints: lenet B = 8, fc (indicator-distinguishability), proved with the fix', async () => {
    const faithful = await prove({ model: 'lenet', engine: 'japari', batch: 8, obligation: 'indicator-distinguishability', layer: 'fc', timeoutMs: T }, z3);
    const r = faithful.obligations[0]!;
    expect(r.finding).toBe('japari-fc-without-footprints');
    expectReproduces(r);
    const fixed = await prove({ model: 'lenet', engine: 'japari', batch: 8, obligation: 'indicator-distinguishability', layer: 'fc', fixes: ['japari-fc-no-footprint-recompute'], timeoutMs: T }, z3);
    expectAllProved(fixed.obligations, 'fixed');
  });

  it('japari-fc-without-footprints: recomputing the FC layer leaves its data under the next inference\'s footprints (conv1 refuted); padding to whole groups proves every layer', async () => {
    const narrow = await prove({ model: 'lenet', engine: 'japari', batch: 8, obligation: 'indicator-distinguishability', fixes: ['japari-fc-no-footprint-recompute'], timeoutMs: T }, z3);
    const refuted = narrow.obligations.filter((r) => r.verdict === 'refuted');
    expect(refuted.map((r) => r.layer)).toEqual(['conv1 (#0)']);
    expect(refuted[0]!.counterexample).toMatchObject({ case: 'stale indicator seen finished', stale_from: 'fc (#6) of the previous inference' });
    expectReproduces(refuted[0]!);
    expect((refuted[0]!.replay as { violation: string }).violation).toMatch(/footprint word holds a data value .* of fc/);
    const padded = await prove({ model: 'lenet', engine: 'japari', batch: 8, obligation: 'indicator-distinguishability', fixes: ['japari-pad-vector-groups'], timeoutMs: T }, z3);
    expectAllProved(padded.obligations, 'padded');
  });

  it('loopcount-torn-footprint-256: lenet conv1, torn footprint of iteration 512 read as 256 (indicator-distinguishability)', async () => {
    const r = (await prove({ model: 'lenet', engine: 'japari-loopcount', batch: 1, obligation: 'indicator-distinguishability', layer: 'conv1', timeoutMs: T }, z3)).obligations[0]!;
    expect(r.finding).toBe('loopcount-torn-footprint-256');
    expect(r.counterexample).toMatchObject({ i: 512, sign1: false, decoded_torn: 256 });
    expectReproduces(r);
  });
});

describe('the proofs are not vacuous', () => {
  it('a seeded fault (dummy weight 2) refutes indicator-arithmetic and the refutation replays', async () => {
    const r = await prove({ model: 'tiny-conv', engine: 'japari', batch: 1, faults: ['japari-dummy-weight-2'], obligation: 'indicator-distinguishability', timeoutMs: T }, z3);
    const first = r.obligations.find((o) => o.verdict === 'refuted')!;
    expect(first).toBeDefined();
    expect(first.counterexample!['case']).toBe('durable job seen unfinished');
    expectReproduces(first);
  });

  it('a corrupted ROM weight refutes augmentation-transparency at that layer', async () => {
    const ctx = proveContext({ model: 'tiny-conv', engine: 'japari', batch: 1, weights: 'concrete' });
    const conv = ctx.plan.layers.find((l) => l.kind === 'conv')!;
    if (conv.kind !== 'conv') throw new Error('no conv');
    ctx.plan.rom[conv.slices[0]!.rom[0]!]! += 1; // weight (0, 0) of the first filter
    const o = obligationsFor(ctx).find((x) => x.id === 'augmentation-transparency' && x.layerIndex === conv.index)!;
    const r = await runObligation(z3, o, { timeoutMs: T, replay: false });
    expect(r.verdict).toBe('refuted');
    expect(String(r.counterexample!['where'])).toMatch(/column 0 \(real output 0\)/);
  });
});

describe('canonical proof reports', () => {
  it('are byte-identical across runs and carry no wall-clock figure', async () => {
    const { proofReportFiles } = await import('../../src/smt/report.js');
    const targets = [
      { model: 'tiny-fc', engine: 'japari' as const, batch: 1, obligation: 'indicator-distinguishability' as const },
      { model: 'tiny-conv', engine: 'hawaii' as const, batch: 1 },
    ];
    const a = await proofReportFiles(targets);
    const b = await proofReportFiles(targets);
    expect(b).toEqual(a);
    const paths = a.map((f) => f.path);
    expect(paths).toContain('proofs/tiny-fc-japari-B1.json');
    expect(paths).toContain('proofs/tiny-fc-japari-B1.md');
    expect(paths).toContain('findings/japari-gemm-call-sign.proof.json');
    expect(paths).toContain('findings/japari-gemm-call-sign.proof.md');
    for (const f of a) expect(f.content).not.toMatch(/"seconds"/);
    const finding = JSON.parse(a.find((f) => f.path === 'findings/japari-gemm-call-sign.proof.json')!.content);
    expect(finding.explanation.length).toBeGreaterThan(100);
    expect(finding.refutations[0].replay.token).toMatch(/^jp2\./);
  });
});
