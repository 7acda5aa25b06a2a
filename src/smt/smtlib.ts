/**
 * A small SMT-LIB 2 builder for bit-vector formulas (QF_ABV), used by every japari proof
 * obligation.
 *
 * Why text and not z3-solver's expression API: obligations are built in the main process
 * (cheap, deterministic, no WebAssembly), and Z3 runs in an isolated worker that can be killed
 * on a hard timeout (src/smt/runtime.ts). A `Script` is the whole problem: declarations,
 * named subterms (`define-fun`, so shared subterms are written once and the text stays linear
 * in the formula's DAG size) and assertions. Terms are immutable values; constant subterms are
 * folded here (so a concrete weight of 0 removes its product), everything else is left to Z3.
 *
 * Bit-vector values are carried as unsigned bigints modulo 2^width (two's complement).
 */
import { JapariError } from '../util/errors.js';

/** A bit-vector term of `w` bits; `c` is its value when constant (unsigned, mod 2^w). */
export interface BV {
  readonly w: number;
  readonly s: string;
  readonly c?: bigint;
}

/** A Boolean term; `c` when constant. */
export interface Bool {
  readonly s: string;
  readonly c?: boolean;
}

function mask(w: number): bigint {
  return (1n << BigInt(w)) - 1n;
}

/** Unsigned value of a (possibly negative) integer at width w. */
export function toUnsigned(v: bigint | number, w: number): bigint {
  const b = typeof v === 'bigint' ? v : BigInt(v);
  return ((b % (1n << BigInt(w))) + (1n << BigInt(w))) & mask(w);
}

/** Signed value of an unsigned bit pattern at width w. */
export function toSigned(u: bigint, w: number): bigint {
  return u >= 1n << BigInt(w - 1) ? u - (1n << BigInt(w)) : u;
}

export function bvLiteral(u: bigint, w: number): string {
  if (w % 4 === 0) return `#x${u.toString(16).padStart(w / 4, '0')}`;
  return `#b${u.toString(2).padStart(w, '0')}`;
}

/** A constant bit-vector from a signed or unsigned integer. */
export function bv(v: number | bigint, w: number): BV {
  const c = toUnsigned(v, w);
  return { w, s: bvLiteral(c, w), c };
}

export const TRUE: Bool = { s: 'true', c: true };
export const FALSE: Bool = { s: 'false', c: false };

function same(a: BV, b: BV, op: string): void {
  if (a.w !== b.w) throw new JapariError(`smt: ${op} of ${a.w}-bit and ${b.w}-bit terms`);
}

function app(op: string, ...args: { s: string }[]): string {
  return `(${op} ${args.map((a) => a.s).join(' ')})`;
}

// ---------------------------------------------------------------------------------------------
// Bit-vector operations (constant-folded)

export function add(a: BV, b: BV): BV {
  same(a, b, 'bvadd');
  if (a.c !== undefined && b.c !== undefined) return bv(a.c + b.c, a.w);
  if (a.c === 0n) return b;
  if (b.c === 0n) return a;
  return { w: a.w, s: app('bvadd', a, b) };
}

export function sub(a: BV, b: BV): BV {
  same(a, b, 'bvsub');
  if (a.c !== undefined && b.c !== undefined) return bv(a.c - b.c, a.w);
  if (b.c === 0n) return a;
  return { w: a.w, s: app('bvsub', a, b) };
}

export function neg(a: BV): BV {
  if (a.c !== undefined) return bv(-a.c, a.w);
  return { w: a.w, s: app('bvneg', a) };
}

export function mul(a: BV, b: BV): BV {
  same(a, b, 'bvmul');
  if (a.c !== undefined && b.c !== undefined) return bv(a.c * b.c, a.w);
  if (a.c === 0n || b.c === 0n) return bv(0, a.w);
  if (a.c === 1n) return b;
  if (b.c === 1n) return a;
  return { w: a.w, s: app('bvmul', a, b) };
}

/** log2 of a constant power of two, else -1. */
function log2Const(b: BV): number {
  if (b.c === undefined || b.c <= 0n || (b.c & (b.c - 1n)) !== 0n) return -1;
  return b.c.toString(2).length - 1;
}

export function udiv(a: BV, b: BV): BV {
  same(a, b, 'bvudiv');
  if (a.c !== undefined && b.c !== undefined && b.c !== 0n) return bv(a.c / b.c, a.w);
  if (b.c === 1n) return a;
  // Division by a power of two is a shift (bit-blasts to wires, not a divider circuit).
  const k = log2Const(b);
  if (k > 0) return { w: a.w, s: `(bvlshr ${a.s} ${bv(k, a.w).s})` };
  return { w: a.w, s: app('bvudiv', a, b) };
}

export function urem(a: BV, b: BV): BV {
  same(a, b, 'bvurem');
  if (a.c !== undefined && b.c !== undefined && b.c !== 0n) return bv(a.c % b.c, a.w);
  if (b.c === 1n) return bv(0, a.w);
  // Remainder by a power of two keeps the low bits.
  const k = log2Const(b);
  if (k > 0) return and(a, bv((1n << BigInt(k)) - 1n, a.w));
  return { w: a.w, s: app('bvurem', a, b) };
}

/** Arithmetic shift right by a constant (floor division by 2^k). */
export function ashr(a: BV, k: number): BV {
  if (k === 0) return a;
  if (a.c !== undefined) return bv(toSigned(a.c, a.w) >> BigInt(k), a.w);
  return { w: a.w, s: `(bvashr ${a.s} ${bv(k, a.w).s})` };
}

export function and(a: BV, b: BV): BV {
  same(a, b, 'bvand');
  if (a.c !== undefined && b.c !== undefined) return bv(a.c & b.c, a.w);
  return { w: a.w, s: app('bvand', a, b) };
}

export function or(a: BV, b: BV): BV {
  same(a, b, 'bvor');
  if (a.c !== undefined && b.c !== undefined) return bv(a.c | b.c, a.w);
  return { w: a.w, s: app('bvor', a, b) };
}

export function xor(a: BV, b: BV): BV {
  same(a, b, 'bvxor');
  if (a.c !== undefined && b.c !== undefined) return bv(a.c ^ b.c, a.w);
  if (a.c === 0n) return b;
  if (b.c === 0n) return a;
  return { w: a.w, s: app('bvxor', a, b) };
}

/** Bits [hi..lo] of a. */
export function extract(a: BV, hi: number, lo: number): BV {
  const w = hi - lo + 1;
  if (a.c !== undefined) return bv((a.c >> BigInt(lo)) & mask(w), w);
  if (lo === 0 && hi === a.w - 1) return a;
  return { w, s: `((_ extract ${hi} ${lo}) ${a.s})` };
}

export function sext(a: BV, w: number): BV {
  if (w === a.w) return a;
  if (w < a.w) throw new JapariError(`smt: sign-extend ${a.w} to ${w}`);
  if (a.c !== undefined) return bv(toSigned(a.c, a.w), w);
  return { w, s: `((_ sign_extend ${w - a.w}) ${a.s})` };
}

export function zext(a: BV, w: number): BV {
  if (w === a.w) return a;
  if (w < a.w) throw new JapariError(`smt: zero-extend ${a.w} to ${w}`);
  if (a.c !== undefined) return bv(a.c, w);
  return { w, s: `((_ zero_extend ${w - a.w}) ${a.s})` };
}

/** hi ++ lo. */
export function concat(hi: BV, lo: BV): BV {
  if (hi.c !== undefined && lo.c !== undefined) return bv((hi.c << BigInt(lo.w)) | lo.c, hi.w + lo.w);
  return { w: hi.w + lo.w, s: app('concat', hi, lo) };
}

export function ite(c: Bool, a: BV, b: BV): BV {
  same(a, b, 'ite');
  if (c.c === true) return a;
  if (c.c === false) return b;
  if (a.s === b.s) return a;
  return { w: a.w, s: `(ite ${c.s} ${a.s} ${b.s})` };
}

// ---------------------------------------------------------------------------------------------
// Predicates

export function eq(a: BV, b: BV): Bool {
  same(a, b, '=');
  if (a.c !== undefined && b.c !== undefined) return a.c === b.c ? TRUE : FALSE;
  if (a.s === b.s) return TRUE;
  return { s: app('=', a, b) };
}

function cmp(op: string, a: BV, b: BV, f: (x: bigint, y: bigint) => boolean, signed: boolean): Bool {
  same(a, b, op);
  if (a.c !== undefined && b.c !== undefined) {
    const x = signed ? toSigned(a.c, a.w) : a.c;
    const y = signed ? toSigned(b.c, b.w) : b.c;
    return f(x, y) ? TRUE : FALSE;
  }
  return { s: app(op, a, b) };
}

export const ult = (a: BV, b: BV): Bool => cmp('bvult', a, b, (x, y) => x < y, false);
export const ule = (a: BV, b: BV): Bool => cmp('bvule', a, b, (x, y) => x <= y, false);
export const ugt = (a: BV, b: BV): Bool => cmp('bvugt', a, b, (x, y) => x > y, false);
export const uge = (a: BV, b: BV): Bool => cmp('bvuge', a, b, (x, y) => x >= y, false);
export const slt = (a: BV, b: BV): Bool => cmp('bvslt', a, b, (x, y) => x < y, true);
export const sle = (a: BV, b: BV): Bool => cmp('bvsle', a, b, (x, y) => x <= y, true);
export const sgt = (a: BV, b: BV): Bool => cmp('bvsgt', a, b, (x, y) => x > y, true);
export const sge = (a: BV, b: BV): Bool => cmp('bvsge', a, b, (x, y) => x >= y, true);

export function not(a: Bool): Bool {
  if (a.c !== undefined) return a.c ? FALSE : TRUE;
  return { s: `(not ${a.s})` };
}

export function all(...xs: Bool[]): Bool {
  if (xs.some((x) => x.c === false)) return FALSE;
  const rest = xs.filter((x) => x.c !== true);
  if (rest.length === 0) return TRUE;
  if (rest.length === 1) return rest[0]!;
  return { s: `(and ${rest.map((x) => x.s).join(' ')})` };
}

export function any(...xs: Bool[]): Bool {
  if (xs.some((x) => x.c === true)) return TRUE;
  const rest = xs.filter((x) => x.c !== false);
  if (rest.length === 0) return FALSE;
  if (rest.length === 1) return rest[0]!;
  return { s: `(or ${rest.map((x) => x.s).join(' ')})` };
}

export function implies(a: Bool, b: Bool): Bool {
  return any(not(a), b);
}

export function iff(a: Bool, b: Bool): Bool {
  if (a.c !== undefined && b.c !== undefined) return a.c === b.c ? TRUE : FALSE;
  return { s: `(= ${a.s} ${b.s})` };
}

export function bxor(a: Bool, b: Bool): Bool {
  if (a.c !== undefined && b.c !== undefined) return a.c !== b.c ? TRUE : FALSE;
  if (a.c === false) return b;
  if (b.c === false) return a;
  if (a.c === true) return not(b);
  if (b.c === true) return not(a);
  return { s: `(xor ${a.s} ${b.s})` };
}

export function iteB(c: Bool, a: Bool, b: Bool): Bool {
  if (c.c === true) return a;
  if (c.c === false) return b;
  return { s: `(ite ${c.s} ${a.s} ${b.s})` };
}

/** lo <= x < hi, unsigned. */
export function inRange(x: BV, lo: number | bigint, hi: number | bigint): Bool {
  return all(uge(x, bv(lo, x.w)), ult(x, bv(hi, x.w)));
}

/** Signed minimum / maximum. */
export function smin(a: BV, b: BV): BV {
  return ite(slt(a, b), a, b);
}
export function smax(a: BV, b: BV): BV {
  return ite(sgt(a, b), a, b);
}

// ---------------------------------------------------------------------------------------------
// Arrays (for tables indexed by a symbolic job or iteration)

export interface BVArray {
  readonly iw: number;
  readonly ew: number;
  readonly s: string;
}

export function select(a: BVArray, i: BV): BV {
  if (i.w !== a.iw) throw new JapariError(`smt: select with a ${i.w}-bit index on a ${a.iw}-bit array`);
  return { w: a.ew, s: `(select ${a.s} ${i.s})` };
}

/**
 * A constant table looked up at a symbolic index, as a multiplexer tree over the index bits
 * (entries beyond the table read `dflt`). Bit-blasts far better than an array store chain.
 */
export function lookup(values: readonly (number | bigint)[], i: BV, ew: number, dflt: number | bigint = 0): BV {
  const leaf = (k: number): BV => bv(k < values.length ? values[k]! : dflt, ew);
  let bits = 0;
  while (1 << bits < values.length) bits++;
  const build = (lo: number, bit: number): BV => {
    if (bit < 0) return leaf(lo);
    if (lo >= values.length) return bv(dflt, ew);
    const left = build(lo, bit - 1);
    const right = build(lo + (1 << bit), bit - 1);
    if (left.s === right.s) return left;
    return ite({ s: `(= ((_ extract ${bit} ${bit}) ${i.s}) #b1)` }, right, left);
  };
  const inRange = bits >= i.w ? TRUE : ult(i, bv(1 << bits, i.w));
  return ite(inRange, build(0, bits - 1), bv(dflt, ew));
}

// ---------------------------------------------------------------------------------------------
// Scripts

/** A variable whose model value a counterexample reports. */
export interface Reported {
  readonly name: string;
  readonly w: number;
  /** How to show it: signed or unsigned integer, a boolean. */
  readonly as: 'signed' | 'unsigned' | 'bool';
}

/**
 * One satisfiability problem. `assert` adds a constraint; an obligation asserts the negation
 * of its claim, so `unsat` proves the claim. `define` names a subterm once; `reported`
 * variables are read back from a model when the problem is satisfiable.
 */
export class Script {
  private readonly lines: string[] = [];
  private readonly names = new Set<string>();
  private counter = 0;
  readonly reported: Reported[] = [];
  /**
   * A Z3 tactic to decide the problem with (check-sat-using, bounded by the timeout), or null
   * for plain check-sat. Pure bit-vector problems default to Z3's qfbv tactic, which is both
   * faster and far less erratic on them than the default strategy.
   */
  tactic: string | null = 'qfbv';

  constructor(public logic = 'QF_BV') {}

  private fresh(prefix: string): string {
    let n: string;
    do n = `${prefix}!${this.counter++}`;
    while (this.names.has(n));
    return n;
  }

  private claim(name: string): void {
    if (!/^[A-Za-z_][A-Za-z0-9_.!~-]*$/.test(name)) throw new JapariError(`smt: bad symbol ${JSON.stringify(name)}`);
    if (this.names.has(name)) throw new JapariError(`smt: symbol ${name} declared twice`);
    this.names.add(name);
  }

  /** A free bit-vector variable. */
  declare(name: string, w: number, report: Reported['as'] | null = null): BV {
    this.claim(name);
    this.lines.push(`(declare-fun ${name} () (_ BitVec ${w}))`);
    if (report) this.reported.push({ name, w, as: report });
    return { w, s: name };
  }

  declareBool(name: string, report = false): Bool {
    this.claim(name);
    this.lines.push(`(declare-fun ${name} () Bool)`);
    if (report) this.reported.push({ name, w: 1, as: 'bool' });
    return { s: name };
  }

  /** A constant array from a table (index width iw, element width ew), for symbolic lookups. */
  table(prefix: string, iw: number, ew: number, values: readonly (number | bigint)[], dflt: number | bigint = 0): BVArray {
    this.logic = 'QF_ABV';
    this.tactic = null;
    const name = this.fresh(prefix);
    this.claim(name);
    let s = `((as const (Array (_ BitVec ${iw}) (_ BitVec ${ew}))) ${bv(dflt, ew).s})`;
    // Runs of equal values are common; the store chain is still linear in the table length.
    const parts: string[] = [];
    for (let i = 0; i < values.length; i++) {
      if (toUnsigned(values[i]!, ew) === toUnsigned(dflt, ew)) continue;
      parts.push(`${bv(i, iw).s} ${bv(values[i]!, ew).s}`);
    }
    for (const p of parts) s = `(store ${s} ${p})`;
    this.lines.push(`(define-fun ${name} () (Array (_ BitVec ${iw}) (_ BitVec ${ew})) ${s})`);
    return { iw, ew, s: name };
  }

  /** Name a subterm (constants and variables are returned as they are). */
  define(t: BV, prefix = 't'): BV {
    if (t.c !== undefined || /^[A-Za-z_][A-Za-z0-9_.!~-]*$/.test(t.s)) return t;
    const name = this.fresh(prefix);
    this.claim(name);
    this.lines.push(`(define-fun ${name} () (_ BitVec ${t.w}) ${t.s})`);
    return { w: t.w, s: name };
  }

  defineBool(b: Bool, prefix = 'b'): Bool {
    if (b.c !== undefined || /^[A-Za-z_][A-Za-z0-9_.!~-]*$/.test(b.s)) return b;
    const name = this.fresh(prefix);
    this.claim(name);
    this.lines.push(`(define-fun ${name} () Bool ${b.s})`);
    return { s: name };
  }

  /** Name a term under a chosen symbol and report its model value. */
  observe(name: string, t: BV, as: Reported['as'] = 'signed'): BV {
    this.claim(name);
    this.lines.push(`(define-fun ${name} () (_ BitVec ${t.w}) ${t.s})`);
    this.reported.push({ name, w: t.w, as });
    return { w: t.w, s: name };
  }

  observeBool(name: string, b: Bool): Bool {
    this.claim(name);
    this.lines.push(`(define-fun ${name} () Bool ${b.s})`);
    this.reported.push({ name, w: 1, as: 'bool' });
    return { s: name };
  }

  assert(b: Bool): void {
    if (b.c === true) return;
    this.lines.push(`(assert ${b.s})`);
  }

  /** Append SMT-LIB text verbatim (copies of scripts). */
  raw(text: string): void {
    this.lines.push(text);
  }

  comment(text: string): void {
    for (const l of text.split('\n')) this.lines.push(`; ${l}`);
  }

  /** The script without check-sat (the runtime adds options, check-sat and get-value). */
  text(): string {
    return `(set-logic ${this.logic})\n${this.lines.join('\n')}\n`;
  }

  get size(): number {
    return this.lines.reduce((n, l) => n + l.length + 1, 0);
  }
}

/** Parse the text of `(get-value (...))` into name -> unsigned bigint / boolean. */
export function parseValues(text: string): Map<string, bigint | boolean> {
  const out = new Map<string, bigint | boolean>();
  const re = /\(\s*([A-Za-z_][A-Za-z0-9_.!~-]*)\s+(#x[0-9a-fA-F]+|#b[01]+|true|false|\(_ bv([0-9]+) [0-9]+\))\s*\)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const v = m[2]!;
    if (v === 'true' || v === 'false') out.set(m[1]!, v === 'true');
    else if (v.startsWith('#x')) out.set(m[1]!, BigInt(`0x${v.slice(2)}`));
    else if (v.startsWith('#b')) out.set(m[1]!, BigInt(`0b${v.slice(2)}`));
    else out.set(m[1]!, BigInt(m[3]!));
  }
  return out;
}
