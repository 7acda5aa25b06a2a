/**
 * A JAPARI hazard the seeker's verdicts alone do not show: the word a seeker reads as job j's
 * footprint holds, in a byte not landed by this layer-run, a data value of an earlier tensor. A
 * footprint of an earlier tensor, the padding of zero filters, or never-written NVM are
 * indicators the design reasons about; a data value is not: the seeker's verdict then depends on
 * the data (seen finished whenever the value equals the marker).
 *
 * The writer of each such byte is the ledger's layer-run in this inference, or (bytes untouched
 * by it, `warmed`: a previous inference ran uninterrupted) the last writer of the previous
 * inference.
 */
import type { EnginePlan } from '../reference/plan.js';
import { isFootprintWord, logicalOfWords } from '../../model/layout.js';
import type { Aliasing, Inspector, NvmRead, TagRead } from '../inspect.js';

const dataWordMaps = new WeakMap<EnginePlan, Uint8Array[]>();

/** Per layer and stored word of its output (one slice): 1 when the word holds a real value. */
function dataWords(plan: EnginePlan): Uint8Array[] {
  let m = dataWordMaps.get(plan);
  if (!m) {
    m = plan.layers.map((l) => {
      const lay = l.out.layout;
      const logical = logicalOfWords(lay);
      // Footprints and padding (zero filters: always 0, never a marker) are not data.
      return Uint8Array.from(logical, (v, w) => (v >= 0 && !isFootprintWord(lay, w) ? 1 : 0));
    });
    dataWordMaps.set(plan, m);
  }
  return m;
}

/** The last layer of a whole inference whose output covers NVM byte `a` (-1: none). */
function lastWriterOf(plan: EnginePlan, a: number): number {
  for (let k = plan.layers.length - 1; k >= 0; k--) {
    const o = plan.layers[k]!.out;
    if (o.slot >= 0 && a >= o.base && a < o.base + 2 * o.words) return k;
  }
  return -1;
}

export function footprintAliasing(insp: Inspector, read: NvmRead, epoch: number, layer: number, job: number, tag: TagRead, warmed: boolean): Aliasing | null {
  const plan = insp.plan;
  const addr = insp.indicatorAddr(layer, job);
  if (addr < 0) return null;
  const data = dataWords(plan);
  for (const a of [addr, addr + 1]) {
    const t = tag(a);
    if (t === epoch) continue;
    const previous = t === 0;
    if (previous && !warmed) continue;
    const writer = previous ? lastWriterOf(plan, a) : (t & 0xff) - 1;
    if (writer < 0 || writer >= plan.layers.length) continue;
    const o = plan.layers[writer]!.out;
    if (a < o.base || a >= o.base + 2 * o.words) continue;
    const local = ((a - o.base) >> 1) % o.layout.words;
    if (data[writer]![local] === 1) {
      const w = addr & ~1;
      return { writer, previous, value: ((read(w) | (read(w + 1) << 8)) << 16) >> 16 };
    }
  }
  return null;
}
