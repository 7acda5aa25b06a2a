/**
 * Declarative indicator schemes: a design of the user's own describes how it marks a job finished
 * as data plus small pure functions over Ops (ops.ts), and japari's Z3 back end (src/smt/scheme.smt.ts)
 * proves or refutes, with no SMT written by the user:
 *
 *   distinguishability   every written indicator reads finished; the word it overwrites (the
 *                        previous round's, or never-written NVM) and every torn mix of the two
 *                        read unfinished -- for every job j < jobs and every round r < 2^31
 *   seeker exactness     after every prefix of a round's jobs (the last one possibly torn), the
 *                        seeker's finished predicate holds exactly for the jobs written, and the
 *                        seeker's binary search (japari/rules.ts firstUnfinishedJob) returns
 *                        their count
 *
 * The same functions run on numbers in the user's engine (its seeker calls `finished`, its
 * writer `indicator`), so the proof speaks about the code that runs. Values are signed 16-bit
 * words held in Ops integers; rounds count the inferences since the program was flashed.
 */
import type { Ops } from './ops.js';

export interface IndicatorScheme {
  /** What the scheme is, in a few words (reports name it). */
  readonly name: string;
  /** Jobs the seeker searches (the proofs cover every job below it). */
  readonly jobs: number;
  /** The indicator word job j leaves when its work is durable, in round r (a signed 16-bit value). */
  indicator<N, B>(o: Ops<N, B>, j: N, r: N): N;
  /**
   * The word(s) at job j's indicator before job j writes it in round r -- every value the design
   * can leave there. Default: round r - 1's indicator, or the never-written NVM of round 0
   * (`initial`).
   */
  stale?<N, B>(o: Ops<N, B>, j: N, r: N): N | readonly N[];
  /** Never-written NVM at an indicator word (default 0). */
  readonly initial?: number;
  /** The seeker's verdict on the word it reads at job j's indicator, in round r. */
  finished<N, B>(o: Ops<N, B>, word: N, j: N, r: N): B;
  /**
   * How an indicator write can tear: 'bytes-le' (SPI FRAM: bytes land little-endian, ascending,
   * so a torn word is the new low byte with the old high byte), 'none' (word-atomic NVM).
   */
  readonly tearing: 'bytes-le' | 'none';
}

/** The words job j's indicator can hold before job j writes it in round r (the scheme's `stale`, else the previous round's). */
export function staleIndicators<N, B>(o: Ops<N, B>, s: IndicatorScheme, j: N, r: N): readonly N[] {
  if (s.stale) {
    const v = s.stale(o, j, r);
    return Array.isArray(v) ? v : [v as N];
  }
  return [o.ite(o.eq(r, o.k(0)), o.k(s.initial ?? 0), s.indicator(o, j, o.sub(r, o.k(1))))];
}

/** What a torn write of `next` over `prev` can leave (besides prev and next themselves). */
export function tornWords<N, B>(o: Ops<N, B>, s: IndicatorScheme, prev: N, next: N): N[] {
  if (s.tearing === 'none') return [];
  // New low byte, old high byte (signed 16-bit).
  const high = o.sub(o.wrapU(prev, 16), o.wrapU(prev, 8));
  return [o.wrapS(o.add(high, o.wrapU(next, 8)), 16)];
}
