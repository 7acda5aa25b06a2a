/**
 * LEA (Low Energy Accelerator) arithmetic, bit-exact.
 *
 * Default semantics = TI's reference C for msp_matrix_mpy_q15 (algorithms.md "LEA arithmetic"):
 * accumulate Q15 x Q15 products in a 32-bit integer, then store saturate(sum >> 15) as int16,
 * with an arithmetic shift (truncation toward minus infinity). The LEA's internal accumulator
 * width is undocumented, so width, rounding and saturation are explicit parameters.
 *
 * The arithmetic is written once over a small interface (`AccOps<T>`) so it runs concretely on
 * numbers and symbolically on Z3 bit-vectors (src/smt). The hot path (`dotQ15`) is a hand-fused
 * twin of the generic definition; test/device/lea.test.ts keeps the two in agreement.
 */

export interface LeaArithmetic {
  /** Width of the accumulator in bits. */
  readonly accumulatorBits: 32 | 40 | 64;
  /**
   * 'wrap': products of the two int16 operands are added modulo 2^bits (TI reference C on the
   * 16-bit MSP430: int32 overflow wraps).
   * 'saturate-q31': the authors' software MAC fallback: each product is doubled (Q31) and the
   * running sum saturates to int32 at every step; the result is then taken as sum >> 16.
   */
  readonly accumulate: 'wrap' | 'saturate-q31';
  /** 'truncate': arithmetic shift (toward minus infinity); 'nearest': add half an LSB first. */
  readonly rounding: 'truncate' | 'nearest';
  /** Saturate the shifted result to int16 (true, TI) or keep its low 16 bits (false). */
  readonly saturate: boolean;
}

export const TI_REFERENCE_ARITHMETIC: LeaArithmetic = Object.freeze({
  accumulatorBits: 32,
  accumulate: 'wrap',
  rounding: 'truncate',
  saturate: true,
});

export const Q15_MIN = -32768;
export const Q15_MAX = 32767;

export function sat16(x: number): number {
  return x > Q15_MAX ? Q15_MAX : x < Q15_MIN ? Q15_MIN : x;
}

/** Keep the low 16 bits of an integer, as a signed value. */
export function wrap16(x: number): number {
  return (x << 16) >> 16;
}

const TWO_32 = 4294967296;
const TWO_40 = 1099511627776;

/** Reduce an exact integer sum modulo 2^bits into the signed range (exact for |x| < 2^53). */
export function wrapBits(x: number, bits: 32 | 40 | 64): number {
  if (bits === 32) return (x | 0) === x ? x : wrapExact(x, TWO_32);
  if (bits === 40) return wrapExact(x, TWO_40);
  return x; // sums of <= 2^22 products of int16 never reach 2^63
}

function wrapExact(x: number, mod: number): number {
  let r = x % mod;
  if (r >= mod / 2) r -= mod;
  else if (r < -mod / 2) r += mod;
  return r;
}

const INT32_MAX = 2147483647;
const INT32_MIN = -2147483648;

/** Turn an accumulator into the stored int16 according to `arith`. */
export function finishAccumulator(acc: number, arith: LeaArithmetic): number {
  let shifted: number;
  // The rounding bias is added modulo 2^bits, like every other accumulator addition.
  if (arith.accumulate === 'saturate-q31') {
    // acc is Q31 (products doubled); result = acc >> 16, optionally rounded.
    const biased = arith.rounding === 'nearest' ? wrapBits(acc + 32768, arith.accumulatorBits) : acc;
    shifted = Math.floor(biased / 65536);
  } else {
    const biased = arith.rounding === 'nearest' ? wrapBits(acc + 16384, arith.accumulatorBits) : acc;
    shifted = Math.floor(biased / 32768);
  }
  return arith.saturate ? sat16(shifted) : wrap16(shifted);
}

/**
 * One output of a LEA matrix multiply: sum_i a[aOff+i] * b[bOff + i*bStride], finished per
 * `arith`. Exact: every partial sum of int16 products below 2^53 is an exact double.
 */
export function dotQ15(
  a: Int16Array,
  aOff: number,
  b: Int16Array,
  bOff: number,
  bStride: number,
  len: number,
  arith: LeaArithmetic,
): number {
  if (arith.accumulate === 'saturate-q31') {
    let acc = 0;
    for (let i = 0; i < len; i++) {
      let p = 2 * a[aOff + i]! * b[bOff + i * bStride]!;
      if (p > INT32_MAX) p = INT32_MAX; // only (-32768) * (-32768) doubled overflows
      acc += p;
      if (acc > INT32_MAX) acc = INT32_MAX;
      else if (acc < INT32_MIN) acc = INT32_MIN;
    }
    return finishAccumulator(acc, arith);
  }
  let acc = 0;
  for (let i = 0; i < len; i++) acc += a[aOff + i]! * b[bOff + i * bStride]!;
  return finishAccumulator(wrapBits(acc, arith.accumulatorBits), arith);
}

/**
 * LEA matrix multiply by rows (msp_matrix_mpy_q15 with a 1 x L left operand):
 * out[j] = finish(sum_i a[i] * b[i][j]) for j < n, with b stored row-major (L x n).
 * `acc` is caller-provided scratch of at least n doubles (no allocation per call).
 */
export function matMulRowQ15(
  a: Int16Array,
  aOff: number,
  b: Int16Array,
  bOff: number,
  len: number,
  n: number,
  out: Int16Array,
  outOff: number,
  arith: LeaArithmetic,
  acc: Float64Array,
): void {
  if (arith.accumulate === 'saturate-q31') {
    for (let j = 0; j < n; j++) out[outOff + j] = dotQ15(a, aOff, b, bOff + j, n, len, arith);
    return;
  }
  acc.fill(0, 0, n);
  for (let i = 0; i < len; i++) {
    const x = a[aOff + i]!;
    if (x === 0) continue;
    const row = bOff + i * n;
    for (let j = 0; j < n; j++) acc[j]! += x * b[row + j]!;
  }
  const bits = arith.accumulatorBits;
  for (let j = 0; j < n; j++) out[outOff + j] = finishAccumulator(wrapBits(acc[j]!, bits), arith);
}

/** LEA vector add (msp_add_q15): element-wise, saturating when `arith.saturate`. */
export function addQ15(x: number, y: number, arith: LeaArithmetic): number {
  const s = x + y;
  return arith.saturate ? sat16(s) : wrap16(s);
}

// ---------------------------------------------------------------------------------------------
// The same arithmetic over an abstract word type, for symbolic execution (Z3 bit-vectors).

/**
 * Operations on accumulator-width signed integers (T) needed by the LEA definitions.
 * The concrete instance (`numberOps`) and the Z3 instance (src/smt) must agree; a differential
 * test checks them on random inputs.
 */
export interface AccOps<T> {
  /** An integer constant representable at accumulator width. */
  constant(v: number): T;
  /** Product of two sign-extended int16 values (exact at accumulator width >= 32). */
  mul(a: T, b: T): T;
  /** Addition modulo 2^bits. */
  add(a: T, b: T): T;
  /** Addition saturating to int32 (for 'saturate-q31'). */
  addSat32(a: T, b: T): T;
  /** Arithmetic shift right by a constant. */
  ashr(a: T, k: number): T;
  /** Saturate to int16 range (still accumulator width). */
  sat16(a: T): T;
  /** Keep the low 16 bits, sign-extended (still accumulator width). */
  wrap16(a: T): T;
}

/** Generic definition of one LEA dot product (the specification `dotQ15` must equal). */
export function dotGeneric<T>(ops: AccOps<T>, a: readonly T[], b: readonly T[], arith: LeaArithmetic): T {
  let acc = ops.constant(0);
  for (let i = 0; i < a.length; i++) {
    const p = ops.mul(a[i]!, b[i]!);
    acc = arith.accumulate === 'saturate-q31' ? ops.addSat32(acc, ops.addSat32(p, p)) : ops.add(acc, p);
  }
  const shift = arith.accumulate === 'saturate-q31' ? 16 : 15;
  const biased = arith.rounding === 'nearest' ? ops.add(acc, ops.constant(2 ** (shift - 1))) : acc;
  const shifted = ops.ashr(biased, shift);
  return arith.saturate ? ops.sat16(shifted) : ops.wrap16(shifted);
}

/** AccOps over JS numbers at a given accumulator width (reference for the differential tests). */
export function numberOps(bits: 32 | 40 | 64): AccOps<number> {
  return {
    constant: (v) => v,
    mul: (a, b) => wrapBits(a * b, bits),
    add: (a, b) => wrapBits(a + b, bits),
    addSat32: (a, b) => Math.max(INT32_MIN, Math.min(INT32_MAX, a + b)),
    ashr: (a, k) => Math.floor(a / 2 ** k),
    sat16: (a) => sat16(a),
    wrap16: (a) => wrap16(a),
  };
}
