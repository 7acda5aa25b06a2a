/**
 * The LEA arithmetic over Z3 bit-vectors: the `AccOps<BV>` instance of src/device/lea.ts.
 *
 * `dotGeneric(smtAccOps(script, bits), a, b, arith)` is the symbolic twin of `dotQ15`: every
 * term has the accumulator width (32, 40 or 64 bits), products of sign-extended int16 operands
 * are exact, additions wrap modulo 2^bits, 'saturate-q31' additions are computed two bits wider
 * and clamped to int32 (so 2 * (-32768)^2 = 2^31 saturates instead of wrapping, exactly as the
 * number instance's exact sum does), shifts are arithmetic (floor). test/smt/lea.test.ts keeps
 * this instance, `numberOps` and the hot path `dotQ15` in agreement on random inputs for every
 * LeaArithmetic option combination.
 */
import { type AccOps, type LeaArithmetic, dotGeneric } from '../device/lea.js';
import { type BV, type Script, add, ashr, bv, extract, ite, mul, sext, sgt, slt } from './smtlib.js';

const INT32_MAX = 2147483647;
const INT32_MIN = -2147483648;

/** AccOps over bit-vectors of the accumulator width; subterms used twice are named in `s`. */
export function smtAccOps(s: Script, bits: 32 | 40 | 64): AccOps<BV> {
  const clamp = (x: BV, lo: number, hi: number): BV => {
    const n = s.define(x, 'acc');
    return ite(sgt(n, bv(hi, n.w)), bv(hi, n.w), ite(slt(n, bv(lo, n.w)), bv(lo, n.w), n));
  };
  return {
    constant: (v) => bv(v, bits),
    mul: (a, b) => mul(a, b),
    add: (a, b) => add(a, b),
    addSat32: (a, b) => {
      // Two more bits hold the exact sum of two int32-range (or 2 * int31) values.
      const wide = add(sext(a, bits + 2), sext(b, bits + 2));
      return extract(clamp(wide, INT32_MIN, INT32_MAX), bits - 1, 0);
    },
    ashr: (a, k) => ashr(a, k),
    sat16: (a) => clamp(a, -32768, 32767),
    wrap16: (a) => sext(extract(a, 15, 0), bits),
  };
}

/** An int16 term (16-bit BV) widened to the accumulator width. */
export function widen(x: BV, bits: number): BV {
  return sext(x, bits);
}

/**
 * One LEA dot product over 16-bit operand terms, as a 16-bit result term (the stored int16).
 * Operands are sign-extended to the accumulator width; the result is the low 16 bits of the
 * finished (saturated or wrapped) accumulator, which is in int16 range by construction.
 */
export function leaDot(s: Script, a: readonly BV[], b: readonly BV[], arith: LeaArithmetic): BV {
  const bits = arith.accumulatorBits;
  const ops = smtAccOps(s, bits);
  const r = dotGeneric(
    ops,
    a.map((x) => widen(x, bits)),
    b.map((x) => widen(x, bits)),
    arith,
  );
  return extract(s.define(r, 'dot'), 15, 0);
}

/** Every LeaArithmetic option combination (3 x 2 x 2 x 2 = 24). */
export function allArithmetics(): LeaArithmetic[] {
  const out: LeaArithmetic[] = [];
  for (const accumulatorBits of [32, 40, 64] as const) {
    for (const accumulate of ['wrap', 'saturate-q31'] as const) {
      for (const rounding of ['truncate', 'nearest'] as const) {
        for (const saturate of [true, false]) out.push({ accumulatorBits, accumulate, rounding, saturate });
      }
    }
  }
  return out;
}

export function arithName(a: LeaArithmetic): string {
  return `${a.accumulatorBits}-bit ${a.accumulate}, ${a.rounding}, ${a.saturate ? 'saturate' : 'wrap16'}`;
}
