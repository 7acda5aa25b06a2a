/**
 * HAWAII's rules (algorithms.md "HAWAII (footprinting)"), each once, over Ops
 * (src/engines/ops.ts): the engine (hawaii/preservation.ts), the inspector (hawaii/design.ts)
 * and the Z3 encodings (src/smt/hawaii.smt.ts) call these.
 *
 *   counterWriteDue(r, B)        the volatile remainder holds a full B: one more counter write
 *   counterUpdate(c, B)          that write: value + B to the older copy, version bumped
 *                                (fault 'hawaii-write-newer-copy': to the newer copy)
 *   recordEveryValue(len, B)     the 2021-08 recording: the counter increments for a vector of len
 *                                values, min(B, n) for n = len, len - B, ... >= 0
 *   recoveredJob(value, B)       recovery: first unfinished job = counter / B
 *
 * The counter pair's copy selection and versions are the common shadow-pair rules
 * (common/rules.ts).
 */
import type { Ops } from '../ops.js';
import { bumpVersion, newerIsCopy1 } from '../common/rules.js';

/** HAWAII's volatile view of a layer's counter pair: the newer copy's value and version. */
export interface CounterState<N, B> {
  readonly value: N;
  readonly version: N;
  /** The newer copy is copy 1. */
  readonly newer1: B;
}

/** hawaii_record_footprints: while the remainder of unrecorded values holds a full B, write once. */
export function counterWriteDue<N, B>(o: Ops<N, B>, remainder: N, B: number): B {
  return o.le(o.k(B), remainder);
}

/** The faults that change a counter update (catalogue.ts FAULTS). */
export interface CounterWriteFaults {
  /** 'hawaii-write-newer-copy': the update overwrites the newer copy (version bumped), not the older. */
  readonly writeNewer: boolean;
}
const FAITHFUL: CounterWriteFaults = { writeNewer: false };

/** One counter write: value + B into the older copy, with the newer copy's version bumped. */
export function counterUpdate<N, B>(o: Ops<N, B>, c: CounterState<N, B>, B: number, faults: CounterWriteFaults = FAITHFUL): CounterState<N, B> {
  return { value: o.add(c.value, o.k(B)), version: bumpVersion(o, c.version), newer1: faults.writeNewer ? c.newer1 : o.not(c.newer1) };
}

/**
 * The recording of EMCLab-Sinica/Stateful-CNN@37708ef (hawaii_record_footprints:
 * `for (n = len; n >= 0; n -= B) write(counter + MIN(B, n))`): one counter write per step, each
 * adding min(B, n) -- partial when len is not a multiple of B, and 0 once when it is.
 */
export function recordEveryValue(len: number, B: number): number[] {
  const steps: number[] = [];
  for (let n = len; n >= 0; n -= B) steps.push(Math.min(B, n));
  return steps;
}

/** Recovery: the first unfinished job is counter / B (fault 'hawaii-resume-next-job': one more). */
export function recoveredJob<N, B>(o: Ops<N, B>, value: N, B: number, faults: { readonly resumeNextJob: boolean }): N {
  const job = o.div(value, o.k(B));
  return faults.resumeNextJob ? o.add(job, o.k(1)) : job;
}

/**
 * The 2021 builds' hawaii_record_footprints (firmware-2021.md; Stateful-CNN common/op_utils.cpp):
 * `for (n = len; n >= 0; n -= B) write_hawaii_layer_footprint(layer, MIN_VAL(B, n))`:
 * floor(len / B) + 1 counter updates per preserved vector, adding min(B, n) each (the last adds
 * len mod B, possibly 0). The counter then counts values, not whole jobs.
 */
export function recordIncrements(len: number, B: number): number[] {
  const out: number[] = [];
  for (let n = len; n >= 0; n -= B) out.push(Math.min(B, n));
  return out;
}

/**
 * One 2021 counter update (platform.cpp write_hawaii_layer_footprint -> commit_versioned_data ->
 * get_newer_copy_id): the two copies' versions v0, v1 are read from NVM; the older copy gets
 * {value + k, newer version + 1}. Returns the copy written and its contents.
 */
export function versionedCounterWrite<N, B>(o: Ops<N, B>, value: N, k: N, v0: N, v1: N, faults: CounterWriteFaults = FAITHFUL): { copy1: B; value: N; version: N } {
  const newer1 = newerIsCopy1(o, v0, v1);
  return { copy1: faults.writeNewer ? newer1 : o.not(newer1), value: o.add(value, k), version: bumpVersion(o, o.ite(newer1, v1, v0)) };
}
