/**
 * How a logical tensor is laid out in NVM: the reference engine's layouts, with and without
 * JAPARI footprints.
 *
 * Feature maps ([C, H, W]) are stored pixel-major with channels innermost. The reference engine
 * writes each conv output "column by column" so one LEA call's channels land contiguously, which
 * transposes the two spatial axes at every conv (algorithms.md "Common engine structure";
 * Stateful-CNN flags such tensors TRANSPOSED). `orient` records which spatial axis is outer:
 *   'hw': pixel (h, w) is word-group h*W + w      'wh': pixel (h, w) is word-group w*H + h
 *
 * With JAPARI footprints (`aug`), channels are first rounded up to a multiple of B (zero
 * filters) and a footprint word follows every B channels (algorithms.md "JAPARI ... ext(n) = n +
 * ceil(n/B)"): stored channel of c is c + floor(c/B); positions p with p mod (B+1) == B are
 * footprints. Vectors (gemm outputs) carry a footprint after every full group of B values when
 * the engine's per-call layout gives them one (`fpEvery`), none for a trailing partial group
 * (unless the fix 'japari-pad-vector-groups' pads the vector to whole groups).
 */

export type Orient = 'hw' | 'wh';

export interface Layout {
  readonly kind: 'fmap' | 'vec';
  /** Logical channels (fmap) or features (vec). */
  readonly C: number;
  readonly H: number;
  readonly W: number;
  readonly orient: Orient;
  /** Footprint every B values (0 = no footprints). */
  readonly fpEvery: number;
  /** Stored words per pixel (fmap) or in total (vec). */
  readonly Cs: number;
  /** Stored words of the whole tensor (one slice). */
  readonly words: number;
  /** Words [0, fpEnd) follow the footprint pattern; words beyond hold a trailing partial group. */
  readonly fpEnd: number;
}

export function ceilTo(x: number, m: number): number {
  return Math.ceil(x / m) * m;
}

/** ext(n) = n + n/B for n a multiple of B (algorithms.md). */
export function extWords(n: number, b: number): number {
  return n + Math.floor(n / b);
}

/**
 * `groups` (without footprints): channels rounded up to a multiple of it with zero filters, no
 * footprint words (Stateful: its states ride in the last value of each group of B).
 */
export function fmapLayout(C: number, H: number, W: number, orient: Orient, fpEvery: number, groups = 1): Layout {
  const Cs = fpEvery > 0 ? extWords(ceilTo(C, fpEvery), fpEvery) : ceilTo(C, groups);
  const words = Cs * H * W;
  return { kind: 'fmap', C, H, W, orient, fpEvery, Cs, words, fpEnd: fpEvery > 0 ? words : 0 };
}

/**
 * A vector of N features. `padGroups` (fix 'japari-pad-vector-groups') rounds N up to a whole
 * number of groups of B with zero features, as conv layers round their channels, so the footprint
 * pattern covers every word.
 */
export function vecLayout(N: number, fpEvery: number, padGroups = false): Layout {
  const Np = padGroups && fpEvery > 0 ? ceilTo(N, fpEvery) : N;
  const words = fpEvery > 0 ? extWords(Np, fpEvery) : N;
  const fpEnd = fpEvery > 0 ? Math.floor(Np / fpEvery) * (fpEvery + 1) : 0;
  return { kind: 'vec', C: N, H: 1, W: 1, orient: 'hw', fpEvery, Cs: words, words, fpEnd };
}

/** Stored position of logical channel c inside a pixel (or of feature c in a vector). */
export function chanWord(l: Layout, c: number): number {
  return l.fpEvery > 0 ? c + Math.floor(c / l.fpEvery) : c;
}

export function pixelIndex(l: Layout, h: number, w: number): number {
  return l.orient === 'hw' ? h * l.W + w : w * l.H + h;
}

export function wordOf(l: Layout, c: number, h: number, w: number): number {
  return l.kind === 'vec' ? chanWord(l, c) : pixelIndex(l, h, w) * l.Cs + chanWord(l, c);
}

export function isFootprintWord(l: Layout, word: number): boolean {
  const b = l.fpEvery;
  return b > 0 && word < l.fpEnd && word % (b + 1) === b;
}

/** Logical index (c*H*W + h*W + w, row-major [C, H, W]) of each stored word; -1 for footprints and padding. */
export function logicalOfWords(l: Layout): Int32Array {
  const m = new Int32Array(l.words).fill(-1);
  if (l.kind === 'vec') {
    for (let n = 0; n < l.C; n++) m[chanWord(l, n)] = n;
    return m;
  }
  for (let c = 0; c < l.C; c++) {
    for (let h = 0; h < l.H; h++) {
      for (let w = 0; w < l.W; w++) m[wordOf(l, c, h, w)] = (c * l.H + h) * l.W + w;
    }
  }
  return m;
}

/** Gather a logical tensor (row-major [C, H, W]) out of stored words. */
export function unpack(l: Layout, stored: Int16Array): Int16Array {
  const out = new Int16Array(l.C * l.H * l.W);
  const m = logicalOfWords(l);
  for (let i = 0; i < m.length; i++) if (m[i]! >= 0) out[m[i]!] = stored[i]!;
  return out;
}

/** Scatter a logical tensor into stored words (footprints and padding left 0). */
export function pack(l: Layout, logical: Int16Array): Int16Array {
  const out = new Int16Array(l.words);
  const m = logicalOfWords(l);
  for (let i = 0; i < m.length; i++) if (m[i]! >= 0) out[i] = logical[m[i]!]!;
  return out;
}
