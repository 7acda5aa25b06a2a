/**
 * The rules of JAPARI as first published, with loop-count footprints (algorithms.md "JAPARI as
 * first published (loop-count footprints)"; EMCLab-Sinica/JAPARI libJAPARI/src/convolution.c
 * JAP_CONV and __JAP_PG_RETRIEVE), each in one named function written once over Ops
 * (src/engines/ops.ts). The engine (engine.ts) runs them on numbers with the device's reads as
 * callbacks, the inspector (design.ts) on numbers over an NVM image, and the Z3 encodings
 * (src/smt/loopcount.smt.ts) on bit-vector terms -- so a mistake in a rule changes all three.
 *
 *   loopCnt(i)                         the published `int loop_cnt` of iteration i (16-bit)
 *   dummyInput(SIGN)                   the A vector's dummy element: 0x0800 (SIGN 0), 0x8000 (SIGN 1)
 *   dummyWeight(SIGN, i)               the footprint columns' weight 16 * loop_cnt (SIGN 0) or
 *                                      1 * loop_cnt (SIGN 1), as a 16-bit `int` product (wraps
 *                                      for loop_cnt > 2047 under SIGN 0: not guarded, as published);
 *                                      the LEA computes the footprint dummyInput x dummyWeight
 *   copyFlip(inner, i)                 the output copy an iteration's accumulation writes
 *                                      (ping-pong, flip = 0 at every tile start)
 *   footprintSignMatches(SIGN, v)      seekProgress R1: PB's first footprint has SIGN's sign
 *   namedIteration(SIGN, v)            R2: its magnitude names the iteration (loop_cnt)
 *   seekIteration(SIGN, v, I)          R1 + R2: that iteration, or FRESH (wrong sign, or beyond I)
 *   unfinishedPbPixel(pb1, ...)        R3: op 0 unfinished, and the first PB pixel whose last
 *                                      footprint is not pb1 (op 0 stopped there)
 *   breaksMonotonicity(SIGN, v, prev)  R4's test: a value below its predecessor (SIGN 0), above (SIGN 1)
 *   firstBreak(SIGN, anchor, ...)      R4: a break, and the first pixel of the destination copy
 *                                      whose footprints break monotonicity
 *   resumeWithin(SIGN, pb1, it, ...)   R3 + R4 for one (concrete) iteration
 *   seekDecision(...)                  __JAP_PG_RETRIEVE: R1-R4, where a conv/FC layer resumes
 *   sign1Of(state), layerEnd(...)      SIGN from the record slot state; the SIGN toggle and the
 *                                      commit of layer_idx + 1 at layer end
 *
 * Iteration geometry (tiles, pixels, words) is plan data (plan.ts iterationOf): it is concrete in
 * every caller. Where a rule needs it for a symbolic iteration, the caller splits over the
 * candidate iterations and calls the rule per case (seekDecision's `split`).
 *
 * Seeded faults that change a rule are options of the rule (LcRuleOptions); engine.ts
 * `lcRuleOptions` maps the catalogue's fault ids to them, so engine, inspector and proofs agree.
 */
import type { Ops } from '../ops.js';

/** SIGN 0: dummy input 0x0800 (1/16), dummy weight 16 * loop_cnt -> footprint +loop_cnt. */
export const DUMMY_INPUT_SIGN0 = 0x0800;
export const DUMMY_WEIGHT_SIGN0 = 16;
/** SIGN 1: dummy input 0x8000 (-1.0), dummy weight 1 * loop_cnt -> footprint -loop_cnt. */
export const DUMMY_INPUT_SIGN1 = -0x8000;
export const DUMMY_WEIGHT_SIGN1 = 1;

/** The iteration seekIteration returns when recovery starts the layer afresh. */
export const FRESH = -1;

/**
 * What the seeker concluded (Resume.how): a fresh start (R1/R2), op 0 unfinished (R3), op 1
 * unfinished (R4 break), or the iteration finished (R4, no break).
 */
export const HOW_FRESH = 0;
export const HOW_OP0 = 1;
export const HOW_OP1 = 2;
export const HOW_NEXT = 3;

/** Seeded faults that change a rule (src/engines/catalogue.ts; engine.ts lcRuleOptions). */
export interface LcRuleOptions {
  /** loopcount-seek-first-pb-only: R3 never compares the PB's last footprints (op 0 taken as finished). */
  readonly firstPbOnly: boolean;
  /** loopcount-resume-next-iteration: R2 replays the loop counters to |pb_1| + 1. */
  readonly resumeNext: boolean;
  /** loopcount-scan-from-zero: R4 starts at LL_MARKER = 0 instead of the destination's predecessor. */
  readonly scanFromZero: boolean;
  /** loopcount-flip-not-reset: the ping-pong flip runs on across tiles (global iteration parity). */
  readonly flipNotReset: boolean;
  /** loopcount-sign-not-toggled: layer end commits layer_idx + 1 but leaves SIGN as it was. */
  readonly signNotToggled: boolean;
  /**
   * Variant loopcount-published-scan (catalogue.ts VARIANTS; not a fault): once op 0 finished,
   * the published scan (publishedScanPixel) decides where op 1 resumes, instead of R4.
   */
  readonly publishedScan?: boolean;
}

export const NO_RULE_FAULTS: LcRuleOptions = { firstPbOnly: false, resumeNext: false, scanFromZero: false, flipNotReset: false, signNotToggled: false };

// ---------------------------------------------------------------------------------------------
// Footprints

/** The published `int loop_cnt` of iteration `iter` on the 16-bit MSP430. */
export function loopCnt<N, B>(o: Ops<N, B>, iter: N): N {
  return o.wrapS(iter, 16);
}

/** The A vector's dummy element under SIGN (sign1: SIGN 1). */
export function dummyInput<N, B>(o: Ops<N, B>, sign1: B): N {
  return o.ite(sign1, o.k(DUMMY_INPUT_SIGN1), o.k(DUMMY_INPUT_SIGN0));
}

/**
 * The dummy weight of iteration `iter` under SIGN: `int dummy_w * int loop_cnt` on the 16-bit
 * MSP430 -- both wrap to 16 bits (not guarded). The LEA then computes the footprint
 * dummyInput x dummyWeight >> 15: +loop_cnt (SIGN 0) or -loop_cnt (SIGN 1) while nothing wraps.
 */
export function dummyWeight<N, B>(o: Ops<N, B>, sign1: B, iter: N): N {
  return o.wrapS(o.mul(o.ite(sign1, o.k(DUMMY_WEIGHT_SIGN1), o.k(DUMMY_WEIGHT_SIGN0)), loopCnt(o, iter)), 16);
}

/**
 * The ping-pong flip of an iteration: op 1 reads copy flip ^ 1 and writes copy flip; flip = 0
 * at the start of every (r, c, m) tile, so `inner` (the iteration's index inside its tile) decides.
 * Fault loopcount-flip-not-reset: the parity of the layer-wide loop count instead.
 */
export function copyFlip<N, B>(o: Ops<N, B>, inner: N, iter: N, opts: Pick<LcRuleOptions, 'flipNotReset'>): N {
  return opts.flipNotReset ? o.mod(o.sub(iter, o.k(1)), o.k(2)) : o.mod(inner, o.k(2));
}

// ---------------------------------------------------------------------------------------------
// seekProgress (__JAP_PG_RETRIEVE)

/** R1: PB's first footprint carries SIGN's sign (positive under SIGN 0, negative under SIGN 1; 0 never). */
export function footprintSignMatches<N, B>(o: Ops<N, B>, sign1: B, v: N): B {
  return o.iteB(sign1, o.lt(v, o.k(0)), o.lt(o.k(0), v));
}

/** R2: the iteration a footprint names, lc = |v| (SIGN 0: v, SIGN 1: -v, so -(-32768) = 32768). */
export function namedIteration<N, B>(o: Ops<N, B>, sign1: B, v: N, opts: Pick<LcRuleOptions, 'resumeNext'>): N {
  const lc = o.ite(sign1, o.neg(v), v);
  return opts.resumeNext ? o.add(lc, o.k(1)) : lc;
}

/**
 * R1 + R2: the iteration PB's first footprint `pb1` names, or FRESH when its sign is not SIGN's
 * (or it is 0) or the iteration is beyond the layer's last (an lc that matches no loop counters:
 * a fresh start, as published). `replayed(lc)` is called once the loop counters are replayed
 * (the engine charges the CPU work there).
 */
export function seekIteration<N, B>(o: Ops<N, B>, sign1: B, pb1: N, iterations: N, opts: Pick<LcRuleOptions, 'resumeNext'>, replayed?: (lc: N) => void): N {
  return o.when(
    footprintSignMatches(o, sign1, pb1),
    () => {
      const lc = namedIteration(o, sign1, pb1, opts);
      replayed?.(lc);
      return o.ite(o.le(lc, iterations), lc, o.k(FRESH));
    },
    () => o.k(FRESH),
  );
}

/** A scan's outcome: whether it found what it looked for, and where (`at`; the scan's length when not found). */
export interface Found<N, B> {
  readonly found: B;
  readonly at: N;
}

/** The first k in [0, n) for which `hit(k)` holds, else `none()`; `hit` is called in order and only until the first hit (numbers). */
export function firstHit<N, B>(o: Ops<N, B>, n: number, hit: (k: number) => B, none: () => Found<N, B>): Found<N, B> {
  const from = (k: number): Found<N, B> => (k >= n ? none() : o.when(hit(k), () => ({ found: o.bool(true), at: o.k(k) }), () => from(k + 1)));
  return from(0);
}

/**
 * R3: did op 0 (the PB writes) of the iteration finish? Compare the last footprint of PB's last
 * pixel with pb_1 (found: they differ, op 0 did not finish); then the first pixel whose last
 * footprint is not pb_1 is where op 0 stopped (earlier pixels' LEA results are reloaded from
 * PB) -- the last pixel when no earlier one differs (its footprint was just compared; the
 * comparison is counted again, as the published scan makes it). `at` is npix when op 0
 * finished. `lastPb(k)` reads pixel k's last footprint; `compared()` follows every comparison.
 * Fault loopcount-seek-first-pb-only: nothing is compared, op 0 always counts as finished.
 */
export function unfinishedPbPixel<N, B>(o: Ops<N, B>, pb1: N, npix: number, lastPb: (k: number) => N, compared: () => void, opts: Pick<LcRuleOptions, 'firstPbOnly'>): Found<N, B> {
  if (opts.firstPbOnly) return { found: o.bool(false), at: o.k(npix) };
  const pbL = lastPb(npix - 1);
  compared();
  return o.when(
    o.eq(pbL, pb1),
    () => ({ found: o.bool(false), at: o.k(npix) }),
    () =>
      firstHit(
        o,
        npix - 1,
        (k) => {
          const v = lastPb(k);
          compared();
          return o.not(o.eq(v, pb1));
        },
        () => {
          compared();
          return { found: o.bool(true), at: o.k(npix - 1) };
        },
      ),
  );
}

/** R4's test: a footprint below its predecessor under SIGN 0 (running sums grow), above it under SIGN 1. */
export function breaksMonotonicity<N, B>(o: Ops<N, B>, sign1: B, v: N, prev: N): B {
  return o.iteB(sign1, o.lt(prev, v), o.lt(v, prev));
}

/**
 * R4: scan the destination copy's footprints of the tile's pixels in op-1 order (every
 * footprint of each pixel), from `anchor` (the value that precedes the destination in the
 * accumulation chain), for the first break in monotonicity. Found: the pixel of the first break
 * (op 1 resumes there); not found (at = npix): op 1 finished. `fp(k, f)` reads footprint f of
 * pixel k, in order; `compared()` follows every comparison.
 */
export function firstBreak<N, B>(o: Ops<N, B>, sign1: B, anchor: N, npix: number, nfp: number, fp: (k: number, f: number) => N, compared: () => void): Found<N, B> {
  const from = (k: number, f: number, prev: N): Found<N, B> => {
    if (k >= npix) return { found: o.bool(false), at: o.k(npix) };
    const v = fp(k, f);
    compared();
    const [nk, nf] = f + 1 < nfp ? [k, f + 1] : [k + 1, 0];
    return o.when(breaksMonotonicity(o, sign1, v, prev), () => ({ found: o.bool(true), at: o.k(k) }), () => from(nk, nf, v));
  };
  return from(0, 0, anchor);
}

/**
 * The published op-1 scan of __JAP_PG_RETRIEVE (EMCLab-Sinica/JAPARI@fc4af70
 * libJAPARI/src/convolution.c:92-119), for a tile of tr x tc pixels whose op 0 finished: the
 * source copy's first footprint (channel group 0) of each pixel is read (`src(k)`, k = r * tc +
 * c), from LL_MARKER = 0 -- down column 0 until a break in monotonicity or the last row, then,
 * from LL_MARKER = 0 again, along that row until a break or the last column; then one read of
 * the first channel group, after which the code returns whatever it holds. op 1 resumes at that
 * pixel (with channel 0). Never "op 1 finished": there is no path to the next iteration.
 */
export function publishedScanPixel<N, B>(o: Ops<N, B>, sign1: B, tr: number, tc: number, src: (k: number) => N, compared: () => void): N {
  const finish = (r: number, c: number): N => {
    // The channel-group loop: one read and one comparison, then `return` on both branches.
    src(r * tc + c);
    compared();
    return o.k(r * tc + c);
  };
  const cols = (r: number, c: number, ll: N): N => {
    const v = src(r * tc + c);
    compared();
    return o.when(breaksMonotonicity(o, sign1, v, ll), () => finish(r, c), () => (c === tc - 1 ? finish(r, c) : cols(r, c + 1, v)));
  };
  const rows = (r: number, ll: N): N => {
    const v = src(r * tc);
    compared();
    return o.when(breaksMonotonicity(o, sign1, v, ll), () => cols(r, 0, o.k(0)), () => (r === tr - 1 ? cols(r, 0, o.k(0)) : rows(r + 1, v)));
  };
  return rows(0, o.k(0));
}

/** Where a conv/FC layer resumes: iteration (loop_cnt), operation (0/1), pixel, and why (HOW_*). */
export interface Resume<N> {
  readonly iter: N;
  readonly op: N;
  readonly pixel: N;
  readonly how: N;
}

/** The plan data of one iteration the seeker's rules need (plan.ts LcIteration has them). */
export interface IterationShape {
  /** loop_cnt (1-based). */
  readonly iter: number;
  /** Pixels of its tile and footprints per pixel. */
  readonly npix: number;
  readonly nfp: number;
  /** The first iteration of its tile (op 1 writes copy 0 directly; R4 is anchored at pb_1). */
  readonly first: boolean;
  /** Rows and columns of its tile (npix = tr * tc), for the published scan. */
  readonly tr?: number;
  readonly tc?: number;
}

/**
 * The seeker's NVM reads and its CPU work, as callbacks: device DMA reads (and their costs) in
 * the engine, an NVM image in the inspector, symbolic terms in the proofs. Reads are made in
 * the engine's order and only as far as the decision needs them (numbers).
 */
export interface SeekReads<N, I extends IterationShape> {
  /** PB's first footprint (pixel 0, word B). */
  firstPb(): N;
  /** The last footprint of PB pixel k (iteration `it`'s words per pixel). */
  lastPb(it: I, k: number): N;
  /** R4's anchor outside a tile's first iteration: the source copy's first footprint of pixel 0. */
  anchor(it: I): N;
  /** Footprint f of pixel k in the destination copy (copy flip). */
  dest(it: I, k: number, f: number): N;
  /** The published scan's read: the first footprint of the tile's channel group at pixel k in the source copy (copy flip ^ 1). */
  source?(it: I, k: number): N;
  /** R2 replayed the loop counters up to lc. */
  replayed?(lc: N): void;
  /** One footprint comparison was made (R3, R4). */
  compared?(): void;
}

function resume<N, B>(o: Ops<N, B>, iter: number, op: number, pixel: N, how: number): Resume<N> {
  return { iter: o.k(iter), op: o.k(op), pixel, how: o.k(how) };
}

/** A fresh start of the layer: iteration 1, op 0, pixel 0. */
export function freshStart<N, B>(o: Ops<N, B>): Resume<N> {
  return resume(o, 1, 0, o.k(0), HOW_FRESH);
}

/** R3 + R4 for iteration `it` (the one pb_1 names): op 0 at the unfinished PB pixel, op 1 at the first break, or the next iteration. */
export function resumeWithin<N, B, I extends IterationShape>(o: Ops<N, B>, sign1: B, pb1: N, it: I, r: SeekReads<N, I>, opts: LcRuleOptions): Resume<N> {
  const compared = r.compared ?? (() => {});
  const r3 = unfinishedPbPixel(o, pb1, it.npix, (k) => r.lastPb(it, k), compared, opts);
  return o.when(
    r3.found,
    () => resume(o, it.iter, 0, r3.at, HOW_OP0),
    () => {
      if (opts.publishedScan) {
        const src = r.source;
        if (!src) throw new Error('the published scan needs the source-copy reads (SeekReads.source)');
        const px = publishedScanPixel(o, sign1, it.tr ?? 1, it.tc ?? it.npix, (k) => src(it, k), compared);
        return resume(o, it.iter, 1, px, HOW_OP1);
      }
      // The published scan starts from LL_MARKER = 0 (fault loopcount-scan-from-zero); ours from
      // the value that precedes the destination: pb_1 in a tile's first iteration, else S(lc - 1).
      const anchor = opts.scanFromZero ? o.k(0) : it.first ? pb1 : r.anchor(it);
      const r4 = firstBreak(o, sign1, anchor, it.npix, it.nfp, (k, f) => r.dest(it, k, f), compared);
      return o.when(r4.found, () => resume(o, it.iter, 1, r4.at, HOW_OP1), () => resume(o, it.iter + 1, 0, o.k(0), HOW_NEXT));
    },
  );
}

/**
 * __JAP_PG_RETRIEVE, run at the start of every conv/FC layer: R1/R2 decode PB's first
 * footprint, then R3/R4 for the iteration it names. `split(lc, decide)` turns the iteration
 * (a number in the engine, a term in the proofs) into its plan data and calls `decide` -- per
 * candidate iteration in the proofs.
 */
export function seekDecision<N, B, I extends IterationShape>(
  o: Ops<N, B>,
  p: { readonly sign1: B; readonly iterations: N; readonly opts: LcRuleOptions },
  r: SeekReads<N, I>,
  split: (lc: N, decide: (it: I) => Resume<N>) => Resume<N>,
): Resume<N> {
  const pb1 = r.firstPb();
  const lc = seekIteration(o, p.sign1, pb1, p.iterations, p.opts, r.replayed);
  return o.when(
    o.eq(lc, o.k(FRESH)),
    () => freshStart(o),
    () => split(lc, (it) => resumeWithin(o, p.sign1, pb1, it, r, p.opts)),
  );
}

// ---------------------------------------------------------------------------------------------
// SIGN and layer completion

/** SIGN 1 from a record slot state (+1 <-> SIGN 0, -1 <-> SIGN 1). */
export function sign1Of<N, B>(o: Ops<N, B>, state: N): B {
  return o.lt(state, o.k(0));
}

/** The record fields a layer end changes. */
export interface LayerEndRecord<N> {
  /** The layer's SIGN slot state (conv/FC layers; ignored for the others). */
  readonly state: N;
  readonly layerIdx: N;
  readonly running: N;
  readonly runCounter: N;
}

/**
 * Layer completion: a conv/FC layer toggles its SIGN (so the next inference's footprints have
 * the other sign and the stale ones read as a fresh start), and layer_idx + 1 is committed in
 * the same versioned record write; the last layer also ends the run (running = 0, run_counter
 * + 1, 16-bit). Fault loopcount-sign-not-toggled: SIGN stays.
 */
export function layerEnd<N, B>(o: Ops<N, B>, r: LayerEndRecord<N>, p: { readonly layer: number; readonly last: boolean; readonly lea: boolean; readonly opts: Pick<LcRuleOptions, 'signNotToggled'> }): LayerEndRecord<N> {
  return {
    state: p.lea && !p.opts.signNotToggled ? o.neg(r.state) : r.state,
    layerIdx: o.k(p.layer + 1),
    running: p.last ? o.k(0) : r.running,
    runCounter: p.last ? o.wrapU(o.add(r.runCounter, o.k(1)), 16) : r.runCounter,
  };
}
