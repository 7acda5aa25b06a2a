/**
 * The symbolic instance of the engines' rule interface (src/engines/ops.ts): every rule of a
 * design runs here on 32-bit two's-complement bit-vector terms, so the Z3 encodings call the
 * same functions the engines execute on numbers.
 *
 *   k, add, sub, mul, neg            bvadd/bvsub/bvmul/bvneg at 32 bits (constants folded)
 *   div, mod                         bvudiv/bvurem (the rules' operands are non-negative)
 *   lt, le                           signed comparisons (bvslt/bvsle)
 *   when                             both arms, merged leaf by leaf with ite
 *   loop                             unrolled to its bound; the exit condition is required
 *   require                          recorded in `requirements`; an obligation asserts that one
 *                                    of them fails to look for a violation (`violated()`)
 *
 * A `BvOps` belongs to one Script: `define` names shared subterms in it so the text stays linear.
 */
import type { Ops } from '../engines/ops.js';
import {
  type BV,
  type Bool,
  type Script,
  add,
  all,
  any,
  bv,
  bxor,
  eq,
  extract,
  ite,
  iteB,
  mul,
  neg,
  not,
  sext,
  sle,
  slt,
  sub,
  udiv,
  urem,
  zext,
  TRUE,
  FALSE,
  toSigned,
} from './smtlib.js';
import { JapariError } from '../util/errors.js';

export const RULE_WIDTH = 32;

export interface BvOps extends Ops<BV, Bool> {
  /** Conditions the rules required (a loop's bound, a seeker's consistency, ...), with why. */
  readonly requirements: { readonly cond: Bool; readonly why: string }[];
  /** Some requirement fails. */
  violated(): Bool;
  /** A 16-bit term as a rule value (sign-extended to the rule width). */
  fromI16(a: BV): BV;
  /** A rule value as a 16-bit term (its low 16 bits). */
  toI16(a: BV): BV;
  /** A w-bit unsigned term as a rule value (zero-extended). */
  fromU(a: BV): BV;
}

function isBV(x: unknown): x is BV {
  return typeof x === 'object' && x !== null && 'w' in x && 's' in x;
}
function isBool(x: unknown): x is Bool {
  return typeof x === 'object' && x !== null && !('w' in x) && 's' in x && Object.keys(x).every((k) => k === 's' || k === 'c');
}

/** Merge two results of a branch leaf by leaf: c ? a : b. */
export function mergeTerms<T>(c: Bool, a: T, b: T): T {
  if (isBV(a) && isBV(b)) return ite(c, a, b) as T;
  if (isBool(a) && isBool(b)) return iteB(c, a, b) as T;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) throw new JapariError(`symbolic branch: arms return arrays of ${a.length} and ${b.length} elements`);
    return a.map((x, i) => mergeTerms(c, x, b[i])) as T;
  }
  if (typeof a === 'number' || typeof a === 'string' || typeof a === 'boolean' || a === undefined || a === null) {
    if (a !== b) throw new JapariError(`symbolic branch: arms return different plain values ${String(a)} and ${String(b)}`);
    return a;
  }
  if (typeof a === 'object' && typeof b === 'object' && a !== null && b !== null) {
    const out: Record<string, unknown> = {};
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    if (ka.join(',') !== kb.join(',')) throw new JapariError(`symbolic branch: arms return records with keys ${ka} and ${kb}`);
    for (const k of ka) out[k] = mergeTerms(c, (a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]);
    return out as T;
  }
  throw new JapariError('symbolic branch: arms return values of different kinds');
}

/**
 * Build the symbolic rule interface over one script (subterms are named in it). `width` may be
 * narrower than RULE_WIDTH when every value the rules see fits it as a signed number (a proof
 * about u16 tables runs at 18 bits); terms passed in must have that width.
 */
export function bvOps(s: Script | null = null, width: number = RULE_WIDTH): BvOps {
  const W = width;
  const requirements: { cond: Bool; why: string }[] = [];
  // Path conditions of the branches and loop iterations being evaluated: a requirement inside an
  // arm only has to hold on the paths that take it.
  const path: Bool[] = [];
  const underPath = (c: Bool): Bool => (path.length === 0 ? c : any(not(all(...path)), c));
  const inArm = <T>(c: Bool, f: () => T): T => {
    path.push(c);
    try {
      return f();
    } finally {
      path.pop();
    }
  };
  const def = (t: BV): BV => (s ? s.define(t, 'r') : t);
  const defB = (b: Bool): Bool => (s ? s.defineBool(b, 'rb') : b);
  // Name every compound result once it is longer than a short expression, so a rule that reuses
  // a term (a table entry read by the next toggle) refers to it by name: the text stays linear in
  // the rule's term DAG instead of growing with every reuse.
  const SHORT = 48;
  const n = (t: BV): BV => (s && t.c === undefined && t.s.length > SHORT ? s.define(t, 'r') : t);
  const nB = (b: Bool): Bool => (s && b.c === undefined && b.s.length > SHORT ? s.defineBool(b, 'rb') : b);
  const o: BvOps = {
    symbolic: true,
    requirements,
    k: (v) => bv(v, W),
    bool: (v) => (v ? TRUE : FALSE),
    add: (a, b) => n(add(a, b)),
    sub: (a, b) => n(sub(a, b)),
    mul: (a, b) => n(mul(a, b)),
    neg: (a) => n(neg(a)),
    div: (a, b) => n(udiv(a, b)),
    mod: (a, b) => n(urem(a, b)),
    wrapU: (a, bits) => (bits >= W ? a : n(zext(extract(a, bits - 1, 0), W))),
    wrapS: (a, bits) => (bits >= W ? a : n(sext(extract(a, bits - 1, 0), W))),
    lt: (a, b) => nB(slt(a, b)),
    le: (a, b) => nB(sle(a, b)),
    eq: (a, b) => nB(eq(a, b)),
    not: (a) => nB(not(a)),
    and: (...xs) => nB(all(...xs)),
    or: (...xs) => nB(any(...xs)),
    xor: (a, b) => nB(bxor(a, b)),
    ite: (c, a, b) => n(ite(c, a, b)),
    iteB: (c, a, b) => nB(iteB(c, a, b)),
    when: (c, then, otherwise) => {
      if (c.c === true) return then();
      if (c.c === false) return otherwise();
      const cc = defB(c);
      return mergeTerms(cc, inArm(cc, then), inArm(not(cc), otherwise));
    },
    loop: (bound, init, cond, body) => {
      let st = init;
      for (let i = 0; i < bound; i++) {
        const c = cond(st);
        if (c.c === false) return st;
        const cc = defB(c);
        const next = inArm(cc, () => body(st));
        st = nameLeaves(mergeTerms(cc, next, st), def, defB);
      }
      const left = cond(st);
      requirements.push({ cond: underPath(not(left)), why: `loop bound ${bound} suffices` });
      return st;
    },
    require: (c, error) => {
      if (c.c === true) return;
      requirements.push({ cond: underPath(c), why: error().message });
    },
    violated: () => any(...requirements.map((r) => not(r.cond))),
    constant: (a) => (a.c === undefined ? undefined : Number(toSigned(a.c, a.w))),
    constantB: (a) => a.c,
    fromI16: (a) => sext(a, W),
    toI16: (a) => extract(a, 15, 0),
    fromU: (a) => zext(a, W),
  };
  return o;
}

/** Name every leaf of a loop state once per iteration (keeps the unrolled text linear). */
function nameLeaves<T>(x: T, def: (t: BV) => BV, defB: (b: Bool) => Bool): T {
  if (isBV(x)) return def(x) as T;
  if (isBool(x)) return defB(x) as T;
  if (Array.isArray(x)) return x.map((v) => nameLeaves(v, def, defB)) as T;
  if (typeof x === 'object' && x !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x)) out[k] = nameLeaves(v, def, defB);
    return out as T;
  }
  return x;
}
