/**
 * Differential test of the LEA arithmetic: for every LeaArithmetic option combination, random
 * (edge-biased) int16 vectors are evaluated three ways and must agree bit for bit:
 *   - Z3: dotGeneric over the bit-vector AccOps instance (src/smt/lea.smt.ts), operands as
 *     declared variables fixed by assertions, the result read from Z3's model
 *   - numberOps: dotGeneric over JS numbers (src/device/lea.ts)
 *   - dotQ15: the hand-fused hot path the device runs
 * Plus a few proofs with symbolic operands (the instance's algebra, not just samples).
 */
import { describe, it, expect, afterAll } from 'vitest';
import { dotGeneric, dotQ15, numberOps, type LeaArithmetic } from '../../src/device/lea.js';
import { Script, bv, eq, not, toSigned, sext, ite, neg } from '../../src/smt/smtlib.js';
import { leaDot, allArithmetics, arithName } from '../../src/smt/lea.smt.js';
import { Z3Runtime } from '../../src/smt/runtime.js';
import { Rng } from '../../src/util/rng.js';

const z3 = new Z3Runtime();
afterAll(async () => {
  await z3.close();
});

function randomCase(rng: Rng): { a: number[]; b: number[] } {
  const len = 1 + Math.floor(rng.float() * 9);
  const pick = (): number => {
    const r = rng.float();
    if (r < 0.15) return -32768;
    if (r < 0.3) return 32767;
    if (r < 0.4) return Math.floor(rng.float() * 5) - 2;
    if (r < 0.5) return (Math.floor(rng.float() * 3) - 1) * 16384;
    return Math.floor(rng.float() * 65536) - 32768;
  };
  return { a: Array.from({ length: len }, pick), b: Array.from({ length: len }, pick) };
}

const CASES = 32;

describe('LEA arithmetic: Z3 bit-vector instance == numberOps == dotQ15', () => {
  for (const arith of allArithmetics()) {
    it(arithName(arith), async () => {
      const rng = new Rng(0x1ea + arith.accumulatorBits * 7 + (arith.accumulate === 'wrap' ? 1 : 2) * 13 + (arith.rounding === 'nearest' ? 17 : 0) + (arith.saturate ? 31 : 0));
      const s = new Script();
      const cases = Array.from({ length: CASES }, () => randomCase(rng));
      const want: number[] = [];
      cases.forEach((c, k) => {
        const av = c.a.map((v, i) => {
          const x = s.declare(`a_${k}_${i}`, 16);
          s.assert(eq(x, bv(v, 16)));
          return x;
        });
        const bvv = c.b.map((v, i) => {
          const x = s.declare(`b_${k}_${i}`, 16);
          s.assert(eq(x, bv(v, 16)));
          return x;
        });
        s.observe(`r_${k}`, leaDot(s, av, bvv, arith));
        const generic = dotGeneric(numberOps(arith.accumulatorBits), c.a, c.b, arith);
        const fused = dotQ15(Int16Array.from(c.a), 0, Int16Array.from(c.b), 0, 1, c.a.length, arith);
        expect(fused, `dotQ15 vs numberOps on ${JSON.stringify(c)}`).toBe(generic);
        want.push(generic);
      });
      const r = await z3.check(s, 60_000);
      expect(r.status).toBe('sat');
      const got = cases.map((_, k) => Number(toSigned(r.values!.get(`r_${k}`) as bigint, 16)));
      for (let k = 0; k < CASES; k++) expect(got[k], `case ${JSON.stringify(cases[k])}`).toBe(want[k]);
    });
  }
});

describe('LEA arithmetic: symbolic facts proved by Z3', () => {
  const ti: LeaArithmetic = { accumulatorBits: 32, accumulate: 'wrap', rounding: 'truncate', saturate: true };

  it('a single product by -32768 is exact: (-32768 * w) >> 15 == -w for every int16 w (TI arithmetic)', async () => {
    const s = new Script();
    const w = s.declare('w', 16, 'signed');
    const r = leaDot(s, [bv(-32768, 16)], [w], ti);
    // -(-32768) saturates to 32767; every other w is negated exactly.
    s.assert(not(eq(sext(r, 17), ite(eq(w, bv(-32768, 16)), bv(32767, 17), neg(sext(w, 17))))));
    expect((await z3.check(s, 30_000)).status).toBe('unsat');
  });

  it('term order is irrelevant under wrap accumulation and matters under saturate-q31 (Z3 finds a witness numberOps confirms)', async () => {
    // Three terms with symbolic inputs and full-scale weights (two terms cannot tell the orders apart).
    const weights = [-32768, -32768, 32767];
    for (const accumulate of ['wrap', 'saturate-q31'] as const) {
      const arith: LeaArithmetic = { ...ti, accumulate };
      const s = new Script();
      const a = [0, 1, 2].map((i) => s.declare(`a${i}`, 16, 'signed'));
      const b = weights.map((w) => bv(w, 16));
      const r1 = leaDot(s, a, b, arith);
      const r2 = leaDot(s, [a[2]!, a[0]!, a[1]!], [b[2]!, b[0]!, b[1]!], arith);
      s.assert(not(eq(r1, r2)));
      const res = await z3.check(s, 30_000);
      if (accumulate === 'wrap') {
        expect(res.status).toBe('unsat');
        continue;
      }
      expect(res.status).toBe('sat');
      const av = [0, 1, 2].map((i) => Number(toSigned(res.values!.get(`a${i}`) as bigint, 16)));
      const ops = numberOps(32);
      expect(dotGeneric(ops, av, weights, arith)).not.toBe(dotGeneric(ops, [av[2]!, av[0]!, av[1]!], [weights[2]!, weights[0]!, weights[1]!], arith));
    }
  });
});
