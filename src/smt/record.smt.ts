/**
 * The persistent model record (src/model/engine/record.ts) over bit-vectors: the versioned
 * shadow pair and the turning-point table.
 *
 *   newerCopy(v0, v1)       record.ts newerCopy (|v0 - v1| == 1 -> larger, else smaller)
 *   commit atomicity        by induction over the number of commits (so for every count): the
 *                           pair invariant (newer copy holds v, the other the version before v,
 *                           or the initial image 1/0) holds initially and is kept by a commit;
 *                           a commit torn after any prefix of its bytes (ascending, version
 *                           last) loads the old record, a complete one the new record.
 *   flipStateBit / psb      an arbitrary sorted table of up to 8 turning points (u16), any state
 *                           bit, any L and x: the toggled table is sorted, holds at most 8
 *                           entries unless the engine reports TurningPointOverflow, and
 *                           psb_new(x) = -psb_old(x) for x < L, psb_old(x) for x >= L (the state
 *                           flips on [0, L) only). psb is encoded as the loop with its break.
 */
import { Script, type BV, type Bool, add, all, any, bv, eq, ite, not, ugt, ule, ult, uge, sub, zext, FALSE, TRUE } from './smtlib.js';
import { type Obligation, goal } from './obligation.js';
import { TURNING_POINTS } from '../engines/japari/rules.js';
import type { ProveContext } from './context.js';

/** record.ts newerCopy over 8-bit versions: 0 or 1 (as a Bool: copy 1). */
export function newerIsCopy1(v0: BV, v1: BV): Bool {
  const w0 = zext(v0, 9);
  const w1 = zext(v1, 9);
  const adjacent = any(eq(sub(w0, w1), bv(1, 9)), eq(sub(w1, w0), bv(1, 9)));
  return ite1(adjacent, not(ugt(w0, w1)), not(ule(w0, w1)));
}

function ite1(c: Bool, a: Bool, b: Bool): Bool {
  if (c.c === true) return a;
  if (c.c === false) return b;
  return { s: `(ite ${c.s} ${a.s} ${b.s})` };
}

/** bumpVersion: v + 1 mod 256, skipping 0. */
export function bump(v: BV): BV {
  const n = add(v, bv(1, 8));
  return ite(eq(n, bv(0, 8)), bv(1, 8), n);
}

/** The version before v in the bump sequence (v in 1..255): v - 1, and 255 before 1. */
export function prevVersion(v: BV): BV {
  return ite(eq(v, bv(1, 8)), bv(255, 8), sub(v, bv(1, 8)));
}

/**
 * Invariant of the record pair between commits: the newer copy (index `c1`: copy 1) holds
 * version v, the other holds the version before it -- or the initial image (1 in copy 0, 0 in
 * copy 1).
 */
function recordInvariant(c1: Bool, v: BV, other: BV): Bool {
  const initial = all(not(c1), eq(v, bv(1, 8)), eq(other, bv(0, 8)));
  return any(initial, all(not(eq(v, bv(0, 8))), eq(other, prevVersion(v))));
}

/**
 * Commit atomicity by induction over the number of commits: (base) the initial image satisfies
 * the invariant; (step) from any state satisfying it, the commit reads the newer copy, writes
 * bumpVersion(v) to the other one with the version byte last, and a reboot after any prefix t of
 * the record's bytes loads the old copy while t < bytes and the new one when t == bytes, which
 * again satisfies the invariant. Returns the two goal scripts.
 */
export function commitAtomicityScripts(recordBytes: number): { base: Script; step: Script } {
  const base = new Script();
  base.assert(not(recordInvariant(FALSE, bv(1, 8), bv(0, 8))));
  base.assert(not(not(newerIsCopy1(bv(1, 8), bv(0, 8)))));
  const s = new Script();
  const c1 = s.declareBool('newer_is_copy1', true);
  const v = s.declare('version', 8, 'unsigned');
  const other = s.declare('other_version', 8, 'unsigned');
  const t = s.declare('t', 32, 'unsigned');
  s.assert(recordInvariant(c1, v, other));
  s.assert(ule(t, bv(recordBytes, 32)));
  const v0 = ite(c1, other, v);
  const v1 = ite(c1, v, other);
  // The commit re-reads both versions and picks the newer copy (RecordStore.commit).
  const readsRight = eq1(newerIsCopy1(v0, v1), c1);
  const nv = bump(v);
  const landed = eq(t, bv(recordBytes, 32));
  const written = ite(landed, nv, other);
  const w0 = ite(c1, written, v);
  const w1 = ite(c1, v, written);
  const loaded1 = newerIsCopy1(w0, w1);
  const expect1 = ite1(landed, not(c1), c1);
  s.observe('loaded_version0', w0, 'unsigned');
  s.observe('loaded_version1', w1, 'unsigned');
  const keeps = ite1(landed, recordInvariant(not(c1), nv, v), TRUE);
  s.assert(not(all(readsRight, eq1(loaded1, expect1), keeps)));
  return { base, step: s };
}

export function eq1(a: Bool, b: Bool): Bool {
  if (a.c !== undefined && b.c !== undefined) return a.c === b.c ? TRUE : FALSE;
  return { s: `(= ${a.s} ${b.s})` };
}

/** A symbolic sorted turning-point table: count <= 8, strictly ascending active entries. */
function sortedTable(s: Script, width: number, prefix: string): { c: BV; tp: BV[] } {
  const N = TURNING_POINTS;
  const c = s.declare(`${prefix}count`, 8, 'unsigned');
  const tp = Array.from({ length: N }, (_, i) => s.declare(`${prefix}tp${i}`, width, 'unsigned'));
  s.assert(ule(c, bv(N, 8)));
  for (let i = 0; i + 1 < N; i++) s.assert(any(uge(bv(i + 1, 8), c), ult(tp[i]!, tp[i + 1]!)));
  return { c, tp };
}

/** record.ts psb as written: v = s; for (tp of tps) { if (x >= tp) v = -v; else break; }. */
function psbLoop(s: Script, neg: Bool, table: readonly BV[], count: BV, x: BV): Bool {
  let v = neg;
  let alive: Bool = TRUE;
  for (let i = 0; i < table.length; i++) {
    const act = s.defineBool(ult(bv(i, 8), count), 'act');
    const ge = s.defineBool(uge(x, table[i]!), 'ge');
    v = s.defineBool(ite1(all(alive, act, ge), not(v), v), 'v');
    alive = s.defineBool(all(alive, any(not(act), ge)), 'alive');
  }
  return v;
}

/** Parity of the number of active entries <= x. */
function parityLe(s: Script, table: readonly BV[], count: BV, x: BV): Bool {
  let p: Bool = FALSE;
  table.forEach((t, i) => {
    const hit = all(ult(bv(i, 8), count), ule(t, x));
    p = s.defineBool({ s: `(xor ${p.s} ${hit.s})` }, 'par');
  });
  return p;
}

/**
 * flipStateBit / psb over every table, as three goals:
 *   loop    for a sorted table, the psb loop (with its break) is the state bit negated once per
 *           turning point <= x (a parity);
 *   toggle  removing L (present) or inserting it in order (absent, table not full) keeps the
 *           table sorted, within 8 entries, and changes the parity of entries <= x exactly when
 *           L <= x;
 *   compose with the state bit negated, the two give psb_new(x) = -psb_old(x) for x < L and
 *           psb_old(x) for x >= L.
 */
export function flipStateBitScripts(width = 16): { loop: Script; toggle: Script[]; compose: Script } {
  const N = TURNING_POINTS;
  const loop = new Script();
  {
    const { c, tp } = sortedTable(loop, width, '');
    const neg = loop.declareBool('state_negative', true);
    const x = loop.declare('x', width, 'unsigned');
    loop.assert(not(eq1(psbLoop(loop, neg, tp, c, x), { s: `(xor ${neg.s} ${parityLe(loop, tp, c, x).s})` })));
  }
  // The toggle, one goal per case (remove the entry at index a, or insert at position p): the
  // case fixes the shape of the new table, which keeps each query small.
  const toggle: Script[] = [];
  const cases: { remove: boolean; k: number }[] = [
    ...Array.from({ length: N }, (_, k) => ({ remove: true, k })),
    ...Array.from({ length: N }, (_, k) => ({ remove: false, k })),
  ];
  for (const cs of cases) {
    const t = new Script();
    const { c, tp } = sortedTable(t, width, '');
    const L = t.declare('L', width, 'unsigned');
    const x = t.declare('x', width, 'unsigned');
    const k8 = (i: number) => bv(i, 8);
    const active = (i: number): Bool => ult(k8(i), c);
    const present = any(...tp.map((v, i) => all(active(i), eq(v, L))));
    const pos = tp.reduce<BV>((acc, v, i) => add(acc, ite(all(active(i), ult(v, L)), k8(1), k8(0))), k8(0));
    let table: BV[];
    let count: BV;
    if (cs.remove) {
      // flipStateBit: indexOf(L) = k -> splice(k, 1).
      t.assert(all(active(cs.k), eq(tp[cs.k]!, L)));
      table = tp.map((_, i) => (i < cs.k ? tp[i]! : i + 1 < N ? tp[i + 1]! : bv(-1, width)));
      count = sub(c, k8(1));
    } else {
      // Absent and not full (else TurningPointOverflow): push(L) and sort -> L lands at pos.
      t.assert(all(not(present), ult(c, bv(N, 8)), eq(pos, k8(cs.k))));
      table = tp.map((_, i) => (i < cs.k ? tp[i]! : i === cs.k ? L : tp[i - 1]!));
      count = add(c, k8(1));
    }
    let unsorted: Bool = FALSE;
    for (let i = 0; i + 1 < N; i++) unsorted = any(unsorted, all(ult(bv(i + 1, 8), count), not(ult(table[i]!, table[i + 1]!))));
    const pOld = parityLe(t, tp, c, x);
    const pNew = parityLe(t, table, count, x);
    const flips = eq1(pNew, { s: `(xor ${pOld.s} ${ule(L, x).s})` });
    t.assert(any(unsorted, ugt(count, bv(N, 8)), not(flips)));
    toggle.push(t);
  }
  // Every case is covered: L present at some index, or absent with pos in 0..count <= 7.
  const cover = new Script();
  {
    const { c, tp } = sortedTable(cover, width, '');
    const L = cover.declare('L', width, 'unsigned');
    const k8 = (i: number) => bv(i, 8);
    const active = (i: number): Bool => ult(k8(i), c);
    const present = any(...tp.map((v, i) => all(active(i), eq(v, L))));
    const pos = tp.reduce<BV>((acc, v, i) => add(acc, ite(all(active(i), ult(v, L)), k8(1), k8(0))), k8(0));
    cover.assert(all(not(present), ult(c, bv(N, 8)), ugt(pos, c)));
  }
  toggle.push(cover);
  const compose = new Script();
  {
    const neg = compose.declareBool('state_negative');
    const pOld = compose.declareBool('parity_old');
    const pNew = compose.declareBool('parity_new');
    const below = compose.declareBool('x_below_L');
    compose.assert(eq1(pNew, { s: `(xor ${pOld.s} (not ${below.s}))` }));
    const before: Bool = { s: `(xor ${neg.s} ${pOld.s})` };
    const after: Bool = { s: `(xor (not ${neg.s}) ${pNew.s})` };
    compose.assert(not(eq1(after, ite1(below, not(before), before))));
  }
  return { loop, toggle, compose };
}

/** The model record obligation (one per deployment). */
export function recordObligation(ctx: ProveContext): Obligation {
  const rb = ctx.plan.nvm.recordBytes;
  const atom = commitAtomicityScripts(rb);
  const goals = [goal('the initial record image violates the pair invariant', atom.base), goal('a torn record commit loads a wrong copy or breaks the invariant', atom.step)];
  const turning = ctx.plan.params.engine === 'japari';
  if (turning) {
    const fsb = flipStateBitScripts();
    goals.push(
      goal('psb: the loop with its break is not the parity of turning points <= x', fsb.loop),
      ...fsb.toggle.map((t, i) =>
        goal(i < fsb.toggle.length - 1 ? `flipStateBit case ${i}: the toggled table is unsorted, too long, or changes the parity wrongly` : 'flipStateBit: a table state no case covers', t),
      ),
      goal('psb flips outside [0, L) after flipStateBit', fsb.compose),
    );
  }
  return {
    id: 'layer-commit',
    layer: 'model record',
    statement: turning
      ? `A reboot during any record commit (${rb} bytes, version last) loads either the old or the new record, never a mix, for every commit count; and toggling a turning point keeps the table sorted and flips psb exactly on [0, L).`
      : `A reboot during any record commit (${rb} bytes, version last) loads either the old or the new record, never a mix, for every commit count.`,
    tiedTo: ['record.ts#newerCopy', 'record.ts#bumpVersion', 'record.ts#RecordStore.commit', 'record.ts#RecordStore.load', ...(turning ? ['record.ts#flipStateBit', 'record.ts#psb'] : [])],
    encoding: turning
      ? 'induction over the number of commits (every count): symbolic versions and torn prefix; symbolic sorted table (count <= 8, u16 entries), state bit, L and x'
      : 'induction over the number of commits (every count): symbolic versions and torn prefix',
    goals,
  };
}
