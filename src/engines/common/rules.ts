/**
 * Rules of the common engine structure (algorithms.md "Common engine structure"): the versioned
 * shadow pair that holds the model record and HAWAII's counters.
 *
 *   newerCopy(v0, v1)     which copy a read takes (Stateful-CNN get_newer_copy_id)
 *   bumpVersion(v)        the version a write gives the copy it overwrites (skipping 0)
 *   writeTarget(v0, v1)   which copy a write goes to (the older one) and its new version
 *
 * Written once over Ops (src/engines/ops.ts): RecordStore and CounterStore (record.ts,
 * hawaii/counters.ts) run them on numbers, src/smt/record.smt.ts and hawaii.smt.ts on bit-vectors.
 * Versions are 8-bit (0..255).
 */
import type { Ops } from '../ops.js';

/**
 * Is copy 1 the newer one? Versions one apart: the larger is newer; otherwise (a wrap from 255
 * to 1, or the initial image 1/0) the smaller is newer.
 */
export function newerIsCopy1<N, B>(o: Ops<N, B>, v0: N, v1: N): B {
  const one = o.k(1);
  const adjacent = o.or(o.eq(o.sub(v0, v1), one), o.eq(o.sub(v1, v0), one));
  return o.iteB(adjacent, o.lt(v0, v1), o.lt(v1, v0));
}

/** The version after v: v + 1 modulo 256, skipping 0 (0 marks the initial older copy). */
export function bumpVersion<N, B>(o: Ops<N, B>, v: N): N {
  const n = o.wrapU(o.add(v, o.k(1)), 8);
  return o.ite(o.eq(n, o.k(0)), o.k(1), n);
}

/** A write goes to the older copy, with the newer copy's version bumped. */
export function writeTarget<N, B>(o: Ops<N, B>, v0: N, v1: N): { readonly copy1: B; readonly version: N } {
  const newer1 = newerIsCopy1(o, v0, v1);
  return { copy1: o.not(newer1), version: bumpVersion(o, o.ite(newer1, v1, v0)) };
}
