/**
 * Bit-exact LEA arithmetic (TI reference C for msp_matrix_mpy_q15 by default): edge values,
 * saturation, the arithmetic shift of negative sums, the explicit options, and the generic
 * definition agreeing with the hot path.
 */
import { describe, it, expect } from 'vitest';
import { test as fcTest, fc } from '@fast-check/vitest';
import { dotQ15, matMulRowQ15, dotGeneric, numberOps, finishAccumulator, sat16, wrap16, addQ15, TI_REFERENCE_ARITHMETIC, type LeaArithmetic } from '../../src/device/lea.js';

const TI = TI_REFERENCE_ARITHMETIC;
const dot = (a: number[], b: number[], arith: LeaArithmetic = TI) => dotQ15(Int16Array.from(a), 0, Int16Array.from(b), 0, 1, a.length, arith);

describe('TI reference arithmetic', () => {
  it('multiplies Q15 values: (a * b) >> 15, truncating toward minus infinity', () => {
    expect(dot([16384], [16384])).toBe(8192); // 0.5 * 0.5 = 0.25
    expect(dot([-16384], [16384])).toBe(-8192);
    expect(dot([1], [1])).toBe(0); // 1 >> 15 = 0
    expect(dot([-1], [1])).toBe(-1); // -1 >> 15 = -1 (arithmetic shift, not toward zero)
    expect(dot([-3], [5])).toBe(-1); // -15 >> 15
    expect(dot([32767], [32767])).toBe(32766); // 1073676289 >> 15
  });

  it('saturates -1.0 * -1.0 (2^30 >> 15 = 32768) to 32767', () => {
    expect(dot([-32768], [-32768])).toBe(32767);
    expect(dot([-32768], [32767])).toBe(-32767);
    expect(dot([-32768, -32768], [32767, 32767])).toBe(-32768); // -65534 saturates
  });

  it('the dummy input -1.0 times a weight w gives -w (the footprint / bias mechanism)', () => {
    for (const w of [1, -1, 2, -2, 1234, -32767]) expect(dot([-32768], [w])).toBe(-w);
  });

  it('accumulates 32-bit sums that wrap, as int32 does on the MSP430', () => {
    // Three products of 2^30 sum to 3 * 2^30, which wraps to -2^30 in 32 bits.
    expect(dot([-32768, -32768, -32768], [-32768, -32768, -32768])).toBe(-32768);
    expect(dot([-32768, -32768, -32768], [-32768, -32768, -32768], { ...TI, accumulatorBits: 40 })).toBe(32767);
  });

  it('rounding to nearest adds half an LSB first', () => {
    expect(dot([16385], [1], { ...TI, rounding: 'nearest' })).toBe(1); // 16385 + 16384 >> 15
    expect(dot([16383], [1], { ...TI, rounding: 'nearest' })).toBe(0);
  });

  it('without saturation the low 16 bits are kept', () => {
    expect(dot([-32768], [-32768], { ...TI, saturate: false })).toBe(-32768); // 32768 wraps
    expect(wrap16(32768)).toBe(-32768);
    expect(sat16(40000)).toBe(32767);
    expect(sat16(-40000)).toBe(-32768);
    expect(addQ15(30000, 30000, TI)).toBe(32767);
    expect(addQ15(30000, 30000, { ...TI, saturate: false })).toBe(wrap16(60000));
  });

  it("the authors' saturating Q31 MAC saturates the doubled product and the running sum", () => {
    const q31: LeaArithmetic = { ...TI, accumulate: 'saturate-q31' };
    expect(dot([-32768], [-32768], q31)).toBe(32767);
    expect(dot([16384], [16384], q31)).toBe(8192);
    expect(dot([32767, 32767, -32768], [32767, 32767, 32767], q31)).toBe(dot([32767, 32767, -32768], [32767, 32767, 32767], q31));
    // Saturation is sticky within the sum: 2 * 2^30 saturates at 2^31 - 1 before the negative term.
    expect(dot([-32768, -32768, 32767], [-32768, -32768, -32768], q31)).toBe(finishAccumulator(2147483647 - 2 * 32767 * 32768, q31));
  });
});

describe('matrix multiply by rows equals one dot product per column', () => {
  fcTest.prop([fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 6 }), fc.array(fc.integer({ min: -32768, max: 32767 }), { minLength: 84, maxLength: 84 })], { seed: 5, numRuns: 200 })(
    'for random operands',
    (len, n, pool) => {
      const a = Int16Array.from(pool.slice(0, len));
      const b = Int16Array.from(pool.slice(12, 12 + len * n));
      const out = new Int16Array(n);
      matMulRowQ15(a, 0, b, 0, len, n, out, 0, TI, new Float64Array(n));
      for (let j = 0; j < n; j++) expect(out[j]).toBe(dotQ15(a, 0, b, j, n, len, TI));
    },
  );
});

describe('the generic definition (the one Z3 also runs) agrees with the hot path', () => {
  const options: LeaArithmetic[] = [];
  for (const accumulatorBits of [32, 40, 64] as const)
    for (const accumulate of ['wrap', 'saturate-q31'] as const)
      for (const rounding of ['truncate', 'nearest'] as const)
        for (const saturate of [true, false]) options.push({ accumulatorBits, accumulate, rounding, saturate });
  fcTest.prop(
    [fc.constantFrom(...options), fc.array(fc.tuple(fc.integer({ min: -32768, max: 32767 }), fc.integer({ min: -32768, max: 32767 })), { minLength: 1, maxLength: 40 })],
    { seed: 11, numRuns: 500 },
  )('for every arithmetic option', (arith, pairs) => {
    const a = pairs.map((p) => p[0]);
    const b = pairs.map((p) => p[1]);
    expect(dotGeneric(numberOps(arith.accumulatorBits), a, b, arith)).toBe(dot(a, b, arith));
  });
});
