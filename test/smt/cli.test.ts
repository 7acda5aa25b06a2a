/**
 * `japari prove`: the JSON document (keys sorted, the fields the issue names), exit codes
 * (0 proved, 1 refuted or unknown, 2 bad input), and the human table.
 */
import { describe, it, expect } from 'vitest';
import { main } from '../../src/cli/main.js';
import { captureIo } from '../../src/cli/io.js';
import { parseLea, parseProveOptions } from '../../src/cli/commands/prove.js';
import { stableStringify } from '../../src/util/json.js';
import { summarise } from '../../src/cli/check-proofs.js';
import type { ObligationResult } from '../../src/smt/obligation.js';

async function prove(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo();
  const code = await main(['prove', ...argv], io);
  return { code, out: io.stdout(), err: io.stderr() };
}

describe('japari prove', () => {
  it('--json: every obligation of tiny-strided (hawaii) proved, exit 0, sorted keys', async () => {
    const { code, out } = await prove('--model', 'tiny-strided', '--engine', 'hawaii', '--json');
    expect(code).toBe(0);
    const r = JSON.parse(out);
    expect(out).toBe(`${stableStringify(r)}\n`);
    expect(r).toMatchObject({ schema: 1, command: 'prove', model: 'tiny-strided', engine: 'hawaii', batch: 1 });
    const ids = new Set(r.obligations.map((o: { id: string }) => o.id));
    expect([...ids].sort()).toEqual(['augmentation-transparency', 'indicator-arithmetic', 'indicator-distinguishability', 'layer-commit', 'seeker-exactness']);
    for (const o of r.obligations) {
      expect(o.verdict).toBe('proved');
      for (const k of ['id', 'layer', 'verdict', 'seconds', 'statement']) expect(o).toHaveProperty(k);
    }
  });

  it('a refutation exits 1 and carries a counterexample and a replay token that reproduces', async () => {
    const { code, out } = await prove('--model', 'lenet', '--engine', 'hawaii', '--batch', '3', '--obligation', 'seeker-exactness', '--layer', 'fc', '--json');
    expect(code).toBe(1);
    const o = JSON.parse(out).obligations[0];
    expect(o.verdict).toBe('refuted');
    expect(o.counterexample.r0).toBeGreaterThan(0);
    expect(o.replay.token).toMatch(/^jp2\./);
    expect(o.replay.reproduced).toBe(true);
    expect(o.finding).toBe('hawaii-remainder-crosses-layers');
  });

  it('human output: one row per obligation', async () => {
    const { code, out } = await prove('--model', 'tiny-fc', '--engine', 'hawaii', '--batch', '2', '--obligation', 'indicator-arithmetic');
    expect(code).toBe(0);
    expect(out).toMatch(/japari prove/);
    expect(out.split('\n').filter((l) => l.startsWith('indicator-arithmetic')).length).toBe(3);
    expect(out).toMatch(/3 proved, 0 refuted, 0 unknown/);
  });

  it('bad input exits 2', async () => {
    expect((await prove('--obligation', 'nope')).code).toBe(2);
    expect((await prove('--timeout', '30')).code).toBe(2);
    expect((await prove('--fix', 'no-such-fix')).code).toBe(2);
    expect((await prove('--model', 'no-such-model')).code).toBe(2);
    expect(() => parseLea('32,wrap,truncate')).toThrow(/expected/);
    expect(parseLea('40,saturate-q31,nearest,wrap16')).toEqual({ accumulatorBits: 40, accumulate: 'saturate-q31', rounding: 'nearest', saturate: false });
    expect(parseProveOptions({ timeout: '2m' }).timeoutMs).toBe(120_000);
  });
});

describe('japari check: the proofs section', () => {
  const base = { statement: 's', encoding: 'e', tiedTo: [], seconds: 0.1, queries: 1 };
  const res = (verdict: ObligationResult['verdict'], extra: Partial<ObligationResult> = {}): ObligationResult => ({ id: 'indicator-distinguishability', layer: 'l', verdict, ...base, ...extra });
  it('PASS when proved, n/a for known findings that replay, FAIL for unknown or unexpected refutations', () => {
    expect(summarise('japari', 1, 'indicator-distinguishability', [res('proved')]).status).toBe('pass');
    const known = res('refuted', { finding: 'japari-gemm-call-sign', replay: { token: 'jp1.x', reproduced: true, violation: 'v' } });
    const s = summarise('japari', 1, 'indicator-distinguishability', [res('proved'), known]);
    expect(s.status).toBe('n/a');
    expect(s.detail).toMatch(/japari-gemm-call-sign/);
    expect(summarise('japari', 1, 'x', [res('refuted', { finding: 'japari-gemm-call-sign', replay: { token: 't', reproduced: false, violation: 'v' } })]).status).toBe('fail');
    expect(summarise('japari', 1, 'x', [res('refuted')]).status).toBe('fail');
    expect(summarise('japari', 1, 'x', [res('unknown', { limit: 'timeout 30 s' })]).status).toBe('fail');
  });
  it('an obligation that no layer carries is n/a, never PASS', () => {
    const s = summarise('continuous', 1, 'seeker-exactness', []);
    expect(s.status).toBe('n/a');
    expect(s.detail).toMatch(/no layer/);
  });
});
