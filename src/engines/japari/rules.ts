/**
 * JAPARI's rules, as in the reference engine (algorithms.md "JAPARI (model augmentation), as in
 * the reference engine (state-bit footprints)"), each in one named function written once over
 * Ops (src/engines/ops.ts). The engine (reference/engine.ts with japari/design.ts), the
 * inspector (japari/design.ts) and the Z3 encodings (src/smt/japari.smt.ts,
 * reference.smt.ts, record.smt.ts) all call these; the Stateful design reuses the turning
 * points, the binary search and the layer-end steps.
 *
 *   psb(table, x)                expected state at slot word x: s * (-1)^(turning points <= x)
 *   toggleTurningPoint(table, L) insert L into the sorted table, or remove it when present
 *   flipStateBit(table, L)       layer completion: toggle at L and negate the state bit
 *   jobFootprintWord(map, j)     the footprint word of job j (Stateful-CNN job_index_to_offset)
 *   jobCount(map)                jobs the seeker searches
 *   footprintSaysFinished(v, E)  the seeker's per-job predicate: footprint == -psb(x)
 *   firstUnfinishedJob(end, f)   the seeker's binary search for the first unfinished job
 *   layerEndSteps(...)           the sequence of state flips and commits when a layer completes
 *
 * Job maps are plain data computed from the plan (jobMapOf in japari/design.ts): seeded faults
 * and fixes that change the map (japari-job-map-unpadded, japari-gemm-slice-jobs) act there,
 * so every caller sees the same map.
 */
import type { Ops } from '../ops.js';
import { EngineStuck } from '../../util/errors.js';

/** Turning points per slot in the model record (Stateful-CNN: 8). */
export const TURNING_POINTS = 8;

// ---------------------------------------------------------------------------------------------
// Turning points and psb

/**
 * A slot's state: the state bit (+1/-1), the number of turning points and the sorted table.
 * `tps` holds at least `count` entries (numeric: exactly the active ones; symbolic: 8, the
 * entries at and beyond `count` unused).
 */
export interface TpTable<N> {
  readonly state: N;
  readonly count: N;
  readonly tps: readonly N[];
}

/**
 * psb(x) = s * (-1)^(number of turning points <= x), as the reference engine computes it: walk
 * the sorted table and stop at the first turning point above x.
 */
export function psb<N, B>(o: Ops<N, B>, t: TpTable<N>, x: N): N {
  let v = t.state;
  let alive = o.bool(true);
  // `tps` holds at least `count` entries: the entries beyond it are inactive.
  for (let i = 0; i < Math.min(TURNING_POINTS, t.tps.length); i++) {
    const active = o.lt(o.k(i), t.count);
    // Entries are a prefix: the loop ends at the first inactive one (always, on numbers).
    if (o.constantB(active) === false) break;
    const reached = o.le(t.tps[i]!, x);
    const flip = o.and(alive, active, reached);
    v = o.ite(flip, o.neg(v), v);
    alive = o.and(alive, o.or(o.not(active), reached));
    if (o.constantB(alive) === false) break;
  }
  return v;
}

/**
 * Toggle a turning point at L: remove it when the table holds it, otherwise insert it in order.
 * `overflow` is true when an insertion would need a ninth entry (the table is then unchanged).
 * The result table always has TURNING_POINTS entries (unused entries repeat the last one).
 */
export function toggleTurningPoint<N, B>(o: Ops<N, B>, t: TpTable<N>, L: N): { readonly table: TpTable<N>; readonly overflow: B } {
  const n = TURNING_POINTS;
  const entry = (i: number): N => (i < t.tps.length ? t.tps[i]! : i > 0 ? entry(i - 1) : o.k(0));
  const act = Array.from({ length: n }, (_, i) => o.lt(o.k(i), t.count));
  const present = o.or(...act.map((a, i) => o.and(a, o.eq(entry(i), L))));
  // Position: the number of active entries below L (the index of L when present).
  let pos = o.k(0);
  for (let i = 0; i < n; i++) pos = o.add(pos, o.ite(o.and(act[i]!, o.lt(entry(i), L)), o.k(1), o.k(0)));
  const overflow = o.and(o.not(present), o.le(o.k(n), t.count));
  const tps: N[] = [];
  for (let i = 0; i < n; i++) {
    const below = o.lt(o.k(i), pos);
    const removed = o.ite(below, entry(i), entry(Math.min(i + 1, n - 1)));
    const inserted = o.ite(below, entry(i), o.ite(o.eq(o.k(i), pos), L, entry(Math.max(i - 1, 0))));
    tps.push(o.ite(present, removed, o.ite(overflow, entry(i), inserted)));
  }
  const count = o.ite(present, o.sub(t.count, o.k(1)), o.ite(overflow, t.count, o.add(t.count, o.k(1))));
  return { table: { state: t.state, count, tps }, overflow };
}

/** Layer completion (Stateful-CNN flip_state_bit): toggle a turning point at L, negate the state. */
export function flipStateBit<N, B>(o: Ops<N, B>, t: TpTable<N>, L: N): TpTable<N> {
  const { table, overflow } = toggleTurningPoint(o, t, L);
  o.require(o.not(overflow), () => new TurningPointOverflow(o.constant(L), o.constant(t.count)));
  return { state: o.neg(table.state), count: table.count, tps: table.tps };
}

/** The turning-point table is full: the reference engine asserts, the device reboots forever. */
export class TurningPointOverflow extends EngineStuck {
  override name = 'TurningPointOverflow';
  constructor(
    readonly at: number | undefined,
    readonly entries: number | undefined,
  ) {
    super(`turning-point table full (${entries ?? TURNING_POINTS} of ${TURNING_POINTS} entries) when toggling ${at ?? 'a turning point'}`);
  }
}

/** The L a layer toggles at completion: its output length rounded down to a multiple of B + 1. */
export function turningPointOf(words: number, B: number, wholeLength: boolean): number {
  return wholeLength ? words : Math.floor(words / (B + 1)) * (B + 1);
}

// ---------------------------------------------------------------------------------------------
// Job maps

/**
 * How job indices map to footprint words of a layer's output (Stateful-CNN job_index_to_offset):
 *   generic   job j's footprint is word (j + 1)(B + 1) - 1 of the whole output
 *   sliced    per slice of FC partial sums (fix japari-gemm-slice-jobs): `perSlice` jobs each
 *   conv      per input slice, filter tile, output pixel and job inside one LEA call
 *   none      the layer has no footprints to seek (fix japari-fc-no-footprint-recompute)
 */
export type JobMap =
  | { readonly kind: 'generic'; readonly B: number; readonly words: number }
  | { readonly kind: 'sliced'; readonly B: number; readonly words: number; readonly sliceWords: number; readonly perSlice: number }
  | {
      readonly kind: 'conv';
      readonly B: number;
      readonly words: number;
      readonly sliceWords: number;
      /** Stored words per output pixel (all filter tiles). */
      readonly Cs: number;
      readonly callWords: number;
      readonly jobsPerCall: number;
      readonly perTile: number;
      readonly perSlice: number;
      /** Jobs of the whole output (slices x filter tiles x pixels x jobs per call). */
      readonly jobs: number;
    }
  | { readonly kind: 'none'; readonly B: number; readonly words: number };

/** Jobs the seeker searches (Stateful-CNN: output length / (B + 1)). */
export function jobCount(m: JobMap): number {
  switch (m.kind) {
    case 'none':
      return 0;
    case 'sliced':
      return (m.words / m.sliceWords) * m.perSlice;
    case 'generic':
    case 'conv':
      return Math.floor(m.words / (m.B + 1));
  }
}

/** The footprint word (in the layer's output, all slices) of job j. */
export function jobFootprintWord<N, B>(o: Ops<N, B>, m: JobMap, j: N): N {
  const k = (v: number) => o.k(v);
  const B = m.B;
  switch (m.kind) {
    case 'none':
      return k(m.words + B); // no job: past the end
    case 'generic':
      return o.sub(o.mul(o.add(j, k(1)), k(B + 1)), k(1));
    case 'sliced':
      if (m.perSlice === 0) return k(m.words + B);
      return o.sub(o.add(o.mul(o.div(j, k(m.perSlice)), k(m.sliceWords)), o.mul(o.add(o.mod(j, k(m.perSlice)), k(1)), k(B + 1))), k(1));
    case 'conv': {
      const t = o.div(j, k(m.perSlice));
      const r = o.mod(j, k(m.perSlice));
      const f = o.div(r, k(m.perTile));
      const r2 = o.mod(r, k(m.perTile));
      const pixel = o.div(r2, k(m.jobsPerCall));
      const i = o.mod(r2, k(m.jobsPerCall));
      return o.add(o.add(o.add(o.mul(t, k(m.sliceWords)), o.mul(pixel, k(m.Cs))), o.add(o.mul(f, k(m.callWords)), o.mul(i, k(B + 1)))), k(B));
    }
  }
}

/** Where the engine resumes after the seeker concludes job j is the first unfinished one. */
export function resumeWord<N, B>(o: Ops<N, B>, m: JobMap, j: N): N {
  if (m.kind === 'none') return o.k(0);
  // Fix japari-gemm-slice-jobs: right after the previous job's footprint, so a slice's trailing
  // partial group (values without a footprint) is recomputed too.
  if (m.kind === 'sliced') return o.ite(o.eq(j, o.k(0)), o.k(0), o.add(jobFootprintWord(o, m, o.sub(j, o.k(1))), o.k(1)));
  return o.sub(jobFootprintWord(o, m, j), o.k(m.B));
}

// ---------------------------------------------------------------------------------------------
// The progress seeker

/** A job is finished iff its footprint word equals the expected marker -psb(x). */
export function footprintSaysFinished<N, B>(o: Ops<N, B>, value: N, expected: N, faults: { readonly trustsSign: boolean }): B {
  // Fault 'japari-seek-trusts-sign': only the high (sign) byte is compared.
  if (faults.trustsSign) return o.eq(o.div(o.wrapU(value, 16), o.k(256)), o.div(o.wrapU(expected, 16), o.k(256)));
  return o.eq(value, expected);
}

/** The binary search's state: jobs below b are finished, job e is not (or e is the end). */
export interface SearchState<N> {
  readonly b: N;
  readonly e: N;
}

export function searchStart<N, B>(o: Ops<N, B>, end: N): SearchState<N> {
  return { b: o.k(0), e: end };
}

/** The search continues while more than one job lies between b and e. */
export function searchContinues<N, B>(o: Ops<N, B>, s: SearchState<N>): B {
  return o.lt(o.k(1), o.sub(s.e, s.b));
}

/** One probe: the middle job m; finished -> [m, e), else [b, m). */
export function searchStep<N, B>(o: Ops<N, B>, s: SearchState<N>, finished: (j: N) => B): SearchState<N> {
  const m = o.add(s.b, o.div(o.sub(s.e, s.b), o.k(2)));
  const fm = finished(m);
  return { b: o.ite(fm, m, s.b), e: o.ite(fm, s.e, m) };
}

/**
 * The end of the search: the first of b and e that is unfinished; when both are finished, e must
 * be the end (every job finished: the layer completed but was not committed). Anything else is
 * the reference engine's "both finished below the end" error: on a device, a reboot loop.
 */
export function searchExit<N, B>(o: Ops<N, B>, s: SearchState<N>, end: N, finished: (j: N) => B, faults: { readonly lastJobWhenAllFinished: boolean }): N {
  return o.when(
    o.not(finished(s.b)),
    () => s.b,
    () =>
      o.when(
        o.not(finished(s.e)),
        () => s.e,
        () => {
          o.require(o.eq(s.e, end), () => new EngineStuck(`progress seeker: jobs ${o.constant(s.b) ?? 'b'} and ${o.constant(s.e) ?? 'e'} both finished below the end ${o.constant(end) ?? 'J'}`));
          // Fault 'japari-seek-last-job': resume at the last job instead of the end.
          return faults.lastJobWhenAllFinished ? o.ite(o.lt(o.k(0), o.sub(end, o.k(1))), o.sub(end, o.k(1)), o.k(0)) : end;
        },
      ),
  );
}

/** Iterations the search needs at most for up to 2^31 jobs. */
export const SEARCH_BOUND = 32;

/**
 * Stateful-CNN run_recovery: the first unfinished job among jobs 0..end-1, assuming a finished
 * prefix. `finished(j)` reads job j's footprint (a device read in the engine).
 */
export function firstUnfinishedJob<N, B>(o: Ops<N, B>, end: N, finished: (j: N) => B, faults: { readonly lastJobWhenAllFinished: boolean }): N {
  return o.when(
    o.eq(end, o.k(0)),
    () => o.k(0),
    () => {
      const s = o.loop(SEARCH_BOUND, searchStart(o, end), (st) => searchContinues(o, st), (st) => searchStep(o, st, finished));
      return searchExit(o, s, end, finished, faults);
    },
  );
}

// ---------------------------------------------------------------------------------------------
// Layer completion

/** One step of completing a layer, in the order the engine performs them. */
export type LayerEndStep =
  /** Toggle a turning point of the output slot at L and negate its state bit (flipStateBit). */
  | { readonly kind: 'flip'; readonly slot: number; readonly L: number; readonly negate: boolean }
  /** One versioned record write of the record as it stands, with layer_idx + 1 (and the run end on the last layer). */
  | { readonly kind: 'commit'; readonly layerIdx: number; readonly last: boolean };

/**
 * The state flips and commits at the end of a layer that writes a slot: flip the output slot's
 * state (turning point at L, state negated) and commit {layer_idx + 1, slot state} in one record
 * write. Faults: 'japari-commit-before-state' commits layer_idx + 1 first and the state in a
 * second write; 'japari-no-state-negate' toggles without negating.
 */
export function layerEndSteps(p: {
  readonly layer: number;
  readonly last: boolean;
  /** The output slot, or -1 when the layer writes none. */
  readonly slot: number;
  readonly L: number;
  readonly commitBeforeState: boolean;
  readonly noStateNegate: boolean;
}): LayerEndStep[] {
  const commit: LayerEndStep = { kind: 'commit', layerIdx: p.layer + 1, last: p.last };
  if (p.slot < 0) return [commit];
  const flip: LayerEndStep = { kind: 'flip', slot: p.slot, L: p.L, negate: !p.noStateNegate };
  return p.commitBeforeState ? [commit, flip, commit] : [flip, commit];
}
