/**
 * Where the reference engine's values land: pure functions of a plan's layers, shared by the
 * kernels, the designs' preservation and inspectors, and the Z3 encodings.
 */
import type { EnginePlan, EngineLayer, TensorRef } from './plan.js';

/**
 * Output word of the v-th value in execution order (layouts without footprints): conv computes
 * input slice -> filter tile -> output pixel -> channels of the tile; other layers write in order.
 */
export function valueWord(layer: EngineLayer, v: number): number {
  if (layer.kind !== 'conv') return v;
  const c = layer;
  const npix = c.Pout * c.Qout;
  const perSlice = npix * c.OCp;
  const sliceWords = c.out.layout.words;
  const t = Math.floor(v / perSlice);
  let r = v % perSlice;
  for (let f = 0; f < c.filterTiles; f++) {
    const w = Math.min(c.otc, c.OCp - f * c.otc);
    if (r < npix * w) {
      const k = Math.floor(r / w);
      return t * sliceWords + k * c.out.layout.Cs + f * c.callWords + (r % w);
    }
    r -= npix * w;
  }
  return t * sliceWords + sliceWords; // past the end
}

/** Offset (in words) of a tensor word inside its slot: what turning points speak about. */
export function slotWordOf(plan: EnginePlan, t: TensorRef, word: number): number {
  return (t.base - plan.nvm.slots[t.slot]!) / 2 + word;
}

/** Values a layer computes and a counter counts (GAP recomputes and counts nothing). */
export function countedValues(l: EngineLayer): number {
  if (l.kind === 'gap') return 0;
  if (l.kind === 'conv') return l.slices.length * l.Pout * l.Qout * l.OCp;
  return l.out.words;
}

/** Most values one preserved write of a layer carries. */
export function maxValuesPerWrite(l: EngineLayer): number {
  switch (l.kind) {
    case 'conv':
      return l.otc;
    case 'gemm':
      return l.opFilters;
    case 'merge':
      return l.chunk;
    case 'relu':
      return 16;
    case 'maxpool':
    case 'concat':
      return l.out.layout.Cs;
    case 'gap':
      return l.out.words;
    case 'add':
      return l.chunk;
  }
}
