/**
 * The persistent model record (src/engines/common/record.ts) and the turning-point table, proved
 * on the rules the engines run (common/rules.ts, japari/rules.ts, through ops.smt.ts):
 *
 *   newerIsCopy1, bumpVersion   the shadow pair's copy selection and versions, on 8-bit terms
 *   commit atomicity            by induction over the number of commits (so for every count): the
 *                               pair invariant (newer copy holds v, the other the version before
 *                               v, or the initial image 1/0) holds initially and is kept by a
 *                               commit (writeTarget: the older copy, version bumped); a commit
 *                               torn after any prefix of its bytes (ascending, version last)
 *                               loads the old record, a complete one the new record.
 *   toggleTurningPoint / psb    every sorted table of up to 8 turning points, any state bit, any
 *                               L and x: the toggled table is sorted, holds at most 8 entries
 *                               unless the engine reports TurningPointOverflow, and after
 *                               flipStateBit psb_new(x) = -psb_old(x) for x < L, psb_old(x) for
 *                               x >= L (the state flips on [0, L) only).
 */
import { Script, type BV, type Bool, all, any, bv, eq, ite, not, ugt, ule, ult, uge, sub, FALSE, TRUE, extract } from './smtlib.js';
import { type Obligation, goal } from './obligation.js';
import { TURNING_POINTS, type TpTable, toggleTurningPoint, flipStateBit, psb } from '../engines/japari/rules.js';
import { newerIsCopy1 as ruleNewerIsCopy1, bumpVersion as ruleBumpVersion, writeTarget } from '../engines/common/rules.js';
import { bvOps } from './ops.smt.js';
import type { ProveContext } from './context.js';

/** common/rules.ts newerIsCopy1 on 8-bit version terms (is copy 1 the newer one?). */
export function newerIsCopy1(v0: BV, v1: BV): Bool {
  const o = bvOps();
  return ruleNewerIsCopy1(o, o.fromU(v0), o.fromU(v1));
}

function ite1(c: Bool, a: Bool, b: Bool): Bool {
  if (c.c === true) return a;
  if (c.c === false) return b;
  return { s: `(ite ${c.s} ${a.s} ${b.s})` };
}

/** common/rules.ts bumpVersion on an 8-bit version term. */
export function bump(v: BV): BV {
  const o = bvOps();
  return extract(ruleBumpVersion(o, o.fromU(v)), 7, 0);
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
  // The commit re-reads both versions and writes the older copy with the bumped version
  // (RecordStore.commit through common/rules.ts writeTarget).
  const o = bvOps(s);
  const target = writeTarget(o, o.fromU(v0), o.fromU(v1));
  const readsRight = eq1(target.copy1, not(c1));
  const nv = extract(target.version, 7, 0);
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

/** A symbolic sorted turning-point table of rule terms: count <= 8, strictly ascending active entries (see TABLE_WIDTH). */
function sortedTable(s: Script, prefix: string): { count: BV; tps: BV[] } {
  const W = TABLE_WIDTH;
  const count = s.declare(`${prefix}count`, W, 'unsigned');
  const tps = Array.from({ length: TURNING_POINTS }, (_, i) => s.declare(`${prefix}tp${i}`, W, 'unsigned'));
  s.assert(ule(count, bv(TURNING_POINTS, W)));
  tps.forEach((t, i) => {
    s.assert(ule(t, bv(TABLE_MAX, W)));
    if (i + 1 < tps.length) s.assert(any(uge(bv(i + 1, W), count), ult(t, tps[i + 1]!)));
  });
  return { count, tps };
}

/**
 * The table proofs run on small values. toggleTurningPoint and psb use the entries, L and x only
 * through comparisons (lt, le, eq) and selections (ite) -- the counts go through add/sub, the
 * values never do -- so a property of every table over u16 values holds iff it holds for every
 * table over an order-isomorphic copy: the at most 8 + 2 distinct values of one instance map
 * monotonically onto 0..9. Entries, L and x therefore range over 0..TABLE_MAX (>= 9) at a width
 * where they and the counts (<= 9) are non-negative signed rule values.
 */
const TABLE_WIDTH = 6;
const TABLE_MAX = 31;

/** Which case of a toggle a query assumes: L present at index k, or absent with k entries below it. */
type ToggleCase = { readonly present: boolean; readonly k: number };

function toggleCases(): ToggleCase[] {
  return [...Array.from({ length: TURNING_POINTS }, (_, k) => ({ present: true, k })), ...Array.from({ length: TURNING_POINTS + 1 }, (_, k) => ({ present: false, k }))];
}

/** Assume a case about a symbolic table and L (the rules compute the same toggle in every case). */
function assumeCase(s: Script, count: BV, tps: readonly BV[], L: BV, c: ToggleCase): void {
  const W = TABLE_WIDTH;
  const active = (i: number): Bool => ult(bv(i, W), count);
  if (c.present) {
    s.assert(all(active(c.k), eq(tps[c.k]!, L)));
    return;
  }
  s.assert(not(any(...tps.map((v, i) => all(active(i), eq(v, L))))));
  // Exactly k active entries lie below L.
  s.assert(ule(bv(c.k, W), count));
  if (c.k > 0) s.assert(ult(tps[c.k - 1]!, L));
  if (c.k < TURNING_POINTS) s.assert(any(not(active(c.k)), ult(L, tps[c.k]!)));
}

/**
 * japari/rules.ts toggleTurningPoint and flipStateBit over every table (symbolic sorted table of
 * up to 8 entries -- order-isomorphic to every u16 table, see TABLE_WIDTH -- state bit, L and x),
 * one query per case of the toggle (L present at index
 * k, or absent with k entries below it: the cases cover every table, which `cover` proves):
 *   table   unless it overflows (a ninth entry: the engine reports TurningPointOverflow), the
 *           toggled table is sorted, holds at most 8 entries, and holds L exactly when the old
 *           one did not
 *   psb     after flipStateBit (no overflow), psb_new(x) = -psb_old(x) for x < L and psb_old(x)
 *           for x >= L: the state flips on [0, L) only
 */
export function flipStateBitScripts(): { table: Script[]; psb: Script[]; cover: Script } {
  const W = TABLE_WIDTH;
  const tableGoals: Script[] = [];
  const psbGoals: Script[] = [];
  for (const c of toggleCases()) {
    const table = new Script();
    {
      const o = bvOps(table, W);
      const { count, tps } = sortedTable(table, '');
      const L = table.declare('L', W, 'unsigned');
      table.assert(ule(L, bv(TABLE_MAX, W)));
      assumeCase(table, count, tps, L, c);
      const t: TpTable<BV> = { state: o.k(1), count, tps };
      const r = toggleTurningPoint(o, t, L);
      const active = (cnt: BV, i: number): Bool => ult(bv(i, W), cnt);
      const has = (tt: TpTable<BV>) => any(...tt.tps.map((v, i) => all(active(tt.count, i), eq(v, L))));
      let unsorted: Bool = FALSE;
      for (let i = 0; i + 1 < TURNING_POINTS; i++) unsorted = any(unsorted, all(active(r.table.count, i + 1), not(ult(r.table.tps[i]!, r.table.tps[i + 1]!))));
      table.observeBool('overflow', r.overflow);
      table.assert(all(not(r.overflow), any(unsorted, ugt(r.table.count, bv(TURNING_POINTS, W)), eq1(has(r.table), has(t)))));
    }
    tableGoals.push(table);
    const psbGoal = new Script();
    {
      const o = bvOps(psbGoal, W);
      const { count, tps } = sortedTable(psbGoal, '');
      const negative = psbGoal.declareBool('state_negative', true);
      const L = psbGoal.declare('L', W, 'unsigned');
      const x = psbGoal.declare('x', W, 'unsigned');
      psbGoal.assert(all(ule(L, bv(TABLE_MAX, W)), ule(x, bv(TABLE_MAX, W))));
      assumeCase(psbGoal, count, tps, L, c);
      const t: TpTable<BV> = { state: o.ite(negative, o.k(-1), o.k(1)), count, tps };
      const before = psb(o, t, x);
      const after = psb(o, flipStateBit(o, t, L), x);
      const want = o.ite(o.lt(x, L), o.neg(before), before);
      // Overflow is the engine's stuck state (the requirement), reported by the table goal.
      psbGoal.assert(all(not(o.violated()), not(eq(after, want))));
    }
    psbGoals.push(psbGoal);
  }
  // The cases cover every sorted table and L: L present at some active index, or absent with
  // exactly k active entries below it for some k in 0..8.
  const cover = new Script();
  {
    const { count, tps } = sortedTable(cover, '');
    const L = cover.declare('L', W, 'unsigned');
    cover.assert(ule(L, bv(TABLE_MAX, W)));
    const active = (i: number): Bool => ult(bv(i, W), count);
    const present = any(...tps.map((v, i) => all(active(i), eq(v, L))));
    const below = (k: number): Bool =>
      all(ule(bv(k, W), count), k > 0 ? ult(tps[k - 1]!, L) : TRUE, k < TURNING_POINTS ? any(not(active(k)), ult(L, tps[k]!)) : TRUE);
    cover.assert(all(not(present), ...Array.from({ length: TURNING_POINTS + 1 }, (_, k) => not(below(k)))));
  }
  return { table: tableGoals, psb: psbGoals, cover };
}

/** The model record obligation (one per deployment). */
export function recordObligation(ctx: ProveContext): Obligation {
  const rb = ctx.plan.nvm.recordBytes;
  const atom = commitAtomicityScripts(rb);
  const goals = [goal('the initial record image violates the pair invariant', atom.base), goal('a torn record commit loads a wrong copy or breaks the invariant', atom.step)];
  // Designs with turning points (footprints in the layout) toggle them at every layer end.
  const turning = ctx.plan.aug && ctx.plan.layers.length > 0;
  if (turning) {
    const fsb = flipStateBitScripts();
    const cases = toggleCases();
    const label = (c: ToggleCase) => (c.present ? `L present at index ${c.k}` : `L absent, ${c.k} entries below it`);
    goals.push(
      ...fsb.table.map((t, i) => goal(`toggleTurningPoint (${label(cases[i]!)}): the toggled table is unsorted, too long, or wrong about L`, t)),
      ...fsb.psb.map((t, i) => goal(`flipStateBit (${label(cases[i]!)}): psb flips outside [0, L), or not on it`, t)),
      goal('toggleTurningPoint: a table and L no case covers', fsb.cover),
    );
  }
  return {
    id: 'layer-commit',
    layer: 'model record',
    statement: turning
      ? `A reboot during any record commit (${rb} bytes, version last) loads either the old or the new record, never a mix, for every commit count; and toggling a turning point keeps the table sorted and flips psb exactly on [0, L).`
      : `A reboot during any record commit (${rb} bytes, version last) loads either the old or the new record, never a mix, for every commit count.`,
    tiedTo: ['common/rules.ts#newerIsCopy1', 'common/rules.ts#bumpVersion', 'common/rules.ts#writeTarget', 'common/record.ts#RecordStore.commit', 'common/record.ts#RecordStore.load', ...(turning ? ['japari/rules.ts#toggleTurningPoint', 'japari/rules.ts#flipStateBit', 'japari/rules.ts#psb'] : [])],
    encoding: turning
      ? 'induction over the number of commits (every count): symbolic versions and torn prefix; the rules on a symbolic sorted table (count <= 8; entries, L and x over 0..31, order-isomorphic to every u16 table since the rules only compare them), state bit, L and x'
      : 'induction over the number of commits (every count): symbolic versions and torn prefix',
    goals,
  };
}
