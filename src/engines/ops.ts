/**
 * The arithmetic and branching interface every engine rule is written over, once.
 *
 * A rule of a design (the footprint word of a job, psb, the turning-point toggle, the seeker's
 * finished predicate and binary search, which versioned copy is newer, HAWAII's counter update,
 * the steps at layer end, ...) is a function generic over `Ops<N, B>`. It runs:
 *   - concretely, on JavaScript numbers and booleans (`num` below), inside the engines and the
 *     inspectors, where a branch runs one arm and a loop runs until its condition fails;
 *   - symbolically, on bit-vector and Boolean terms (src/smt/ops.smt.ts), inside the Z3
 *     encodings, where a branch evaluates both arms and merges them with if-then-else and a
 *     loop is unrolled up to its bound.
 * So the proof obligations speak about the very function the engine executes: a fault inside a
 * rule changes both, and `prove` sees it (as lea.ts's AccOps does for the LEA arithmetic).
 *
 * The integer domain: exact integers in the numeric instance (|x| < 2^53); signed 32-bit
 * two's-complement terms in the symbolic one. Rules keep their values inside +-2^31 (job indices,
 * word offsets, Q15 values, 8-bit versions) and say so where it matters; a differential test
 * (test/engines/ops.test.ts) checks both instances agree on random values in that range.
 * `div` and `mod` take a non-negative dividend and a positive divisor (floor division).
 *
 * Effects: in the numeric instance a `when` arm or a loop body may have effects (a seeker reads
 * NVM through the device there); the symbolic instance runs every arm, so rules pass pure
 * callbacks to it. `require(cond, why)` states a decision the design assumes (the seeker never
 * finds two finished jobs below the end, the turning-point table never overflows): the numeric
 * instance throws the error when it fails (the device would hang or reboot forever), the
 * symbolic one records the condition so an obligation can prove that it holds.
 */

export interface Ops<N, B> {
  /** True in the symbolic (bit-vector) instance. */
  readonly symbolic: boolean;
  /** An integer constant. */
  k(v: number): N;
  /** A Boolean constant. */
  bool(v: boolean): B;
  add(a: N, b: N): N;
  sub(a: N, b: N): N;
  mul(a: N, b: N): N;
  neg(a: N): N;
  /** floor(a / b) for a >= 0 and b > 0. */
  div(a: N, b: N): N;
  /** a mod b for a >= 0 and b > 0. */
  mod(a: N, b: N): N;
  /** The low `bits` bits of a, as an unsigned value (bits < 32). */
  wrapU(a: N, bits: number): N;
  /** The low `bits` bits of a, as a two's-complement signed value (bits <= 32). */
  wrapS(a: N, bits: number): N;
  /** Signed comparisons. */
  lt(a: N, b: N): B;
  le(a: N, b: N): B;
  eq(a: N, b: N): B;
  not(a: B): B;
  and(...xs: B[]): B;
  or(...xs: B[]): B;
  xor(a: B, b: B): B;
  /** Select between two computed values. */
  ite(c: B, a: N, b: N): N;
  iteB(c: B, a: B, b: B): B;
  /**
   * Branch: the numeric instance runs only the arm `c` selects; the symbolic one runs both and
   * merges their results (numbers, Booleans, and arrays or records of them) leaf by leaf.
   */
  when<T>(c: B, then: () => T, otherwise: () => T): T;
  /**
   * `while (cond(s)) s = body(s)`, at most `bound` iterations. The numeric instance throws when
   * the bound is exceeded; the symbolic one unrolls `bound` iterations and requires the condition
   * to be false after them (so a proof covers every iteration count).
   */
  loop<S>(bound: number, init: S, cond: (s: S) => B, body: (s: S) => S): S;
  /** The design assumes `c`: numeric throws `error()` when it fails; symbolic records it. */
  require(c: B, error: () => Error): void;
  /** Numeric value of a term, when it is a constant (every numeric term is); undefined otherwise. */
  constant(a: N): number | undefined;
  constantB(a: B): boolean | undefined;
}

/** The concrete instance: the engines and inspectors run the rules on numbers. */
export const num: Ops<number, boolean> = {
  symbolic: false,
  k: (v) => v,
  bool: (v) => v,
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  neg: (a) => -a,
  div: (a, b) => Math.floor(a / b),
  mod: (a, b) => a % b,
  wrapU: (a, bits) => {
    const m = 2 ** bits;
    return ((a % m) + m) % m;
  },
  wrapS: (a, bits) => {
    const m = 2 ** bits;
    const u = ((a % m) + m) % m;
    return u >= m / 2 ? u - m : u;
  },
  lt: (a, b) => a < b,
  le: (a, b) => a <= b,
  eq: (a, b) => a === b,
  not: (a) => !a,
  and: (...xs) => xs.every((x) => x),
  or: (...xs) => xs.some((x) => x),
  xor: (a, b) => a !== b,
  ite: (c, a, b) => (c ? a : b),
  iteB: (c, a, b) => (c ? a : b),
  when: (c, then, otherwise) => (c ? then() : otherwise()),
  loop: (bound, init, cond, body) => {
    let s = init;
    for (let i = 0; cond(s); i++) {
      if (i >= bound) throw new RuleBoundExceeded(bound);
      s = body(s);
    }
    return s;
  },
  require: (c, error) => {
    if (!c) throw error();
  },
  constant: (a) => a,
  constantB: (a) => a,
};

/** A rule's loop ran past the bound its proof assumes (a bug in japari or in a user's rule). */
export class RuleBoundExceeded extends Error {
  override name = 'RuleBoundExceeded';
  constructor(readonly bound: number) {
    super(`a rule's loop exceeded its bound of ${bound} iterations`);
  }
}

/** Sum of terms (0 when empty). */
export function sum<N, B>(o: Ops<N, B>, xs: readonly N[]): N {
  return xs.reduce((a, b) => o.add(a, b), o.k(0));
}

/** Signed minimum and maximum. */
export function min<N, B>(o: Ops<N, B>, a: N, b: N): N {
  return o.ite(o.lt(a, b), a, b);
}
export function max<N, B>(o: Ops<N, B>, a: N, b: N): N {
  return o.ite(o.lt(a, b), b, a);
}

/** The number of leading entries of `xs` (each 0 or 1 as a Boolean) that hold, as a term. */
export function count<N, B>(o: Ops<N, B>, xs: readonly B[]): N {
  return sum(
    o,
    xs.map((x) => o.ite(x, o.k(1), o.k(0))),
  );
}
