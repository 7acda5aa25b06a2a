/**
 * The Z3 runtime: verdicts, limits and teardown.
 *   - a hard query under a tiny timeout is `unknown` with the limit, and an obligation with such
 *     a goal is `unknown`, never `proved` (the CLI then exits 1)
 *   - a query Z3 does not stop in time kills the worker (hard timeout); the next query starts a
 *     fresh worker and Z3 is initialised again
 *   - close() terminates Z3's threads; a process that proves something exits on its own, with
 *     or without close() (checked on the built CLI/runtime in dist/ when present)
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Z3Runtime } from '../../src/smt/runtime.js';
import { Script, bv, eq, mul, not, all } from '../../src/smt/smtlib.js';
import { runObligation, goal, type Obligation } from '../../src/smt/obligation.js';
import { main } from '../../src/cli/main.js';
import { captureIo } from '../../src/cli/io.js';
import { projectRoot } from '../../src/util/shared.js';

/** x * y == 0x..prime with 64-bit x, y > 1: factoring a 64-bit semiprime is hard for bit-blasting. */
function hardScript(): Script {
  const s = new Script();
  const x = s.declare('x', 64);
  const y = s.declare('y', 64);
  s.assert(all(not(eq(x, bv(1, 64))), not(eq(y, bv(1, 64))), eq(mul(x, y), bv(0xfffffffb0000000en * 0x3n + 0x7n, 64)), { s: '(bvult x #x00000000ffffffff)' }, { s: '(bvult y #x00000000ffffffff)' }));
  return s;
}

describe('Z3 runtime', () => {
  it('unknown carries the limit and is never counted as proved', async () => {
    const z3 = new Z3Runtime();
    try {
      const r = await z3.check(hardScript(), 50);
      expect(r.status).toBe('unknown');
      expect(r.reason).toBe('timeout 0.05 s');
      const o: Obligation = { id: 'indicator-arithmetic', layer: 'test', statement: 'hard', tiedTo: [], encoding: 'test', goals: [goal('hard', hardScript())] };
      const res = await runObligation(z3, o, { timeoutMs: 50 });
      expect(res.verdict).toBe('unknown');
      expect(res.limit).toBe('timeout 0.05 s');
      expect(z3.initialisations).toBe(1);
    } finally {
      await z3.close();
    }
    expect(z3.alive).toBe(false);
  });

  it('a query that ignores its soft limit is stopped by killing the worker; the next query re-initialises Z3', async () => {
    const z3 = new Z3Runtime({ softTimeout: false, graceMs: 0 });
    try {
      const r = await z3.check(hardScript(), 300);
      expect(r.status).toBe('unknown');
      expect(r.reason).toMatch(/^hard timeout 0.3 s/);
      expect(z3.kills).toBe(1);
      const easy = new Script();
      const x = easy.declare('x', 8, 'unsigned');
      easy.assert(eq(x, bv(7, 8)));
      const r2 = await z3.check(easy, 10_000);
      expect(r2.status).toBe('sat');
      expect(r2.values!.get('x')).toBe(7n);
      expect(z3.initialisations).toBe(2);
    } finally {
      await z3.close();
    }
  });

  it('japari prove exits 1 when an obligation is unknown (a tiny timeout)', async () => {
    const io = captureIo();
    const code = await main(['prove', '--model', 'lenet', '--engine', 'japari', '--obligation', 'seeker-exactness', '--layer', 'conv1', '--timeout', '1ms', '--json'], io);
    expect(code).toBe(1);
    const r = JSON.parse(io.stdout());
    expect(r.obligations[0].verdict).toBe('unknown');
    expect(r.obligations[0].limit).toMatch(/^timeout /);
    expect(r.counts.proved).toBe(0);
  });

  const dist = join(projectRoot(), 'dist', 'src', 'smt', 'runtime.js');
  it.skipIf(!existsSync(dist))('a process that used Z3 exits on its own, with and without close()', () => {
    for (const close of [true, false]) {
      const code = `
        const { Z3Runtime } = await import(${JSON.stringify(dist)});
        const { Script, bv, eq } = await import(${JSON.stringify(join(projectRoot(), 'dist', 'src', 'smt', 'smtlib.js'))});
        const z3 = new Z3Runtime({ workers: 2 });
        const s = new Script(); const x = s.declare('x', 8); s.assert(eq(x, bv(3, 8)));
        const r = await z3.check(s, 10000);
        console.log(r.status);
        ${close ? 'await z3.close();' : ''}
      `;
      const t0 = Date.now();
      const p = spawnSync(process.execPath, ['--input-type=module', '-e', code], { timeout: 30_000, encoding: 'utf8' });
      expect(p.stdout.trim(), p.stderr).toBe('sat');
      expect(p.status, `exit (close: ${close})`).toBe(0);
      expect(Date.now() - t0).toBeLessThan(25_000);
    }
  });
});
