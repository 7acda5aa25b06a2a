/**
 * Stateful's rules (algorithms.md "Stateful (for comparison; successor of JAPARI)"), each once,
 * over Ops (src/engines/ops.ts). The engine (stateful/design.ts on the reference engine), the
 * inspector (stateful/design.ts) and the Z3 encodings (src/smt/stateful.smt.ts) call these.
 *
 * No extra channels: the state rides in the sign of the last value of each group of B values.
 * Every value is kept at half scale (stateful/half.ts); the state word of a group stores
 *   v/2 + 0x4000 (state +1: a non-negative word) or v/2 - 0x4000 (state -1: a negative word),
 * so the sign of the stored word is the state as long as |v/2| < 0x4000. A "state clearer"
 * removes the offset before a value is used.
 *
 *   hasState(w, B)              word w of a tensor carries a state: w mod B == B - 1
 *                               (EMCLab-Sinica/Stateful-CNN@23c1a21:common/intermittent-cnn.h:16-19
 *                               offset_has_state)
 *   stateOfWord(word)           the state a stored word carries: its sign (get_value_state_bit,
 *                               Stateful-CNN@23c1a21:common/intermittent-cnn.h:30-33)
 *   embedState(v, s)            v + s * 0x4000 in int16 (the CPU's `output_val += offset`)
 *   clearState(word)            word - 0x4000 when non-negative, + 0x4000 when negative, in int16
 *                               (strip_state, Stateful-CNN@23c1a21:common/intermittent-cnn.h:34-39)
 *   stateSaysFinished(word, p)  the seeker's per-job predicate: state != psb(x), i.e. the state
 *                               equals the finished marker -psb(x) (value_finished in
 *                               Stateful-CNN common/intermittent-cnn.cpp)
 *   stateJobMap(map)            JAPARI's job map with one word fewer per job: a JAPARI job is B
 *                               values and its footprint (B + 1 words, footprint last); a
 *                               Stateful job is B values, the state in the last
 *   seekResult(found, end)      the job the engine resumes at after the binary search
 *   stateWord / stateResume / stateJobs / stateTurningPoint
 *                               the job map, resume word, job count and turning point (the
 *                               output length rounded down to a multiple of B) through it
 *
 * The turning-point table, psb, the layer-end steps and the binary search are JAPARI's own
 * (japari/rules.ts), imported, as algorithms.md says Stateful shares them.
 */
import type { Ops } from '../ops.js';
import { type JobMap, jobCount, jobFootprintWord, resumeWord, turningPointOf } from '../japari/rules.js';

/** The offset that carries a state: 0x4000 (half of the Q15 range). */
export const STATE_OFFSET = 0x4000;

/** Faults that change a rule (catalogue.ts ids in parentheses). */
export interface StatefulRuleFaults {
  /** 'stateful-state-first-value': the state rides in the first value of each group, not the last. */
  readonly firstValue: boolean;
  /** 'stateful-clear-positive-only': the clearer always subtracts 0x4000 (assumes state +1). */
  readonly clearPositiveOnly: boolean;
  /** 'stateful-seek-skip-one': resume one job after the first unfinished one. */
  readonly skipOne: boolean;
  /**
   * Variant 'stateful-published-seek-end' (the authors' code, not a seeded mistake): the seeker
   * searches one job per value (run_recovery: end_job_index = params_len / 2 under STATEFUL), and
   * a job at or past the value count maps to the word of its own index (job_index_to_offset).
   */
  readonly publishedEnd: boolean;
}

export const NO_RULE_FAULTS: StatefulRuleFaults = { firstValue: false, clearPositiveOnly: false, skipOne: false, publishedEnd: false };

/** Does word w (offset in the tensor, all slices) carry a state? */
export function hasState<N, B>(o: Ops<N, B>, w: N, B: number, f: StatefulRuleFaults): B {
  return o.eq(o.mod(w, o.k(B)), o.k(f.firstValue ? 0 : B - 1));
}

/** The state a stored word carries: +1 for a non-negative word, -1 for a negative one. */
export function stateOfWord<N, B>(o: Ops<N, B>, word: N): N {
  return o.ite(o.lt(word, o.k(0)), o.k(-1), o.k(1));
}

/** Embed state s (+1/-1) into the half-scale value v: v + s * 0x4000, wrapped to int16. */
export function embedState<N, B>(o: Ops<N, B>, v: N, s: N): N {
  return o.wrapS(o.add(v, o.mul(s, o.k(STATE_OFFSET))), 16);
}

/** The state clearer: remove the offset a stored state word carries (int16 arithmetic). */
export function clearState<N, B>(o: Ops<N, B>, word: N, f: StatefulRuleFaults): N {
  if (f.clearPositiveOnly) return o.wrapS(o.sub(word, o.k(STATE_OFFSET)), 16);
  // strip_state: word - ((word & 0x8000) + 0x4000); word & 0x8000 is 0x8000 exactly for a negative word.
  return o.wrapS(o.sub(word, o.ite(o.lt(word, o.k(0)), o.k(0x8000 + STATE_OFFSET), o.k(STATE_OFFSET))), 16);
}

/** The state a finished job's word carries at slot offset x: -psb(x) (the opposite of the slot's expectation). */
export function finishedState<N, B>(o: Ops<N, B>, psbAtX: N): N {
  return o.neg(psbAtX);
}

/** The seeker's predicate (value_finished): the word's state differs from psb(x). */
export function stateSaysFinished<N, B>(o: Ops<N, B>, word: N, psbAtX: N): B {
  return o.eq(stateOfWord(o, word), finishedState(o, psbAtX));
}

// ---------------------------------------------------------------------------------------------
// Job map: JAPARI's with one word fewer per job

/**
 * The Stateful job map of a layer from the JAPARI-shaped map of its output (B = the batch): a
 * JAPARI job spans B + 1 words with its footprint last, a Stateful job B words with its state
 * last, so the same map with B - 1 in place of B numbers the state words.
 */
export function stateJobMap(m: JobMap): JobMap {
  return { ...m, B: m.B - 1 } as JobMap;
}

/** The last word of job j (under the published end, job j >= the value count maps to word j). */
function lastWord<N, B>(o: Ops<N, B>, m: JobMap, j: N, f: StatefulRuleFaults): N {
  const last = jobFootprintWord(o, stateJobMap(m), j);
  return f.publishedEnd ? o.ite(o.lt(j, o.k(m.words)), last, j) : last;
}

/** The state word of job j (offset in the layer's output, all slices); first value under the fault. */
export function stateWord<N, B>(o: Ops<N, B>, m: JobMap, j: N, f: StatefulRuleFaults): N {
  const last = lastWord(o, m, j, f);
  return f.firstValue ? o.sub(last, o.k(m.B - 1)) : last;
}

/** The first word of job j (where the engine resumes when job j is the first unfinished one: batch_start). */
export function stateResume<N, B>(o: Ops<N, B>, m: JobMap, j: N, f: StatefulRuleFaults): N {
  if (!f.publishedEnd) return resumeWord(o, stateJobMap(m), j);
  return o.sub(lastWord(o, m, j, f), o.k(m.B - 1));
}

/** Jobs of the output: its length / B (trailing values short of a group: none). */
export function stateJobs(m: JobMap): number {
  return jobCount(stateJobMap(m));
}

/** Jobs the seeker searches: the output's jobs; one per value under the published end. */
export function seekEnd(m: JobMap, f: StatefulRuleFaults): number {
  return f.publishedEnd ? m.words : stateJobs(m);
}

/** The job the engine resumes at, from the binary search's first unfinished job (of `end` jobs). */
export function seekResult<N, B>(o: Ops<N, B>, found: N, end: N, f: StatefulRuleFaults): N {
  if (!f.skipOne) return found;
  const next = o.add(found, o.k(1));
  return o.ite(o.lt(end, next), end, next);
}

/** The turning point a layer toggles when it completes: its output length rounded down to a multiple of B. */
export function stateTurningPoint(words: number, B: number): number {
  return turningPointOf(words, B - 1, false);
}
