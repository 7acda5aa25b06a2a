/**
 * JAPARI as first published, with loop-count footprints (algorithms.md "JAPARI as first published
 * (loop-count footprints)"): the registration of the loop-count engine (japari-loopcount/engine.ts)
 * with its own tiling and NVM map (japari-loopcount/plan.ts), and its inspector.
 *
 * The inspector (what fuzzing and exploration check at every seek)
 *   jobs            the iterations (loop_cnt 1..I) of a conv/FC layer, in execution order: the
 *                   engine reports every seek as "iterations before the resume point", and
 *                   recovery resumes inside an iteration (op, pixel) only to finish it
 *   seekerFinished  iteration j + 1 is finished iff the seeker (rules.ts seekDecision, with the
 *                   engine's rule options) resumes after it -- the same rule on this NVM image
 *   indicator words a conv/FC iteration leaves PB's footprints (its loop count) and the output
 *                   copy's footprints (the tile's running sum); the seeker reads both
 *   job words       where an iteration's work becomes durable: its accumulation (op 1), the value
 *                   words of every pixel of its tile in the copy it writes (copy flip); each
 *                   pixel's transfer ends with its footprints, so a footprint the seeker sees
 *                   written implies the values before it landed. The ground truth
 *                   of "durable" is the device's position ledger (which layer-run wrote each NVM
 *                   byte), and the loop-count design rewrites the same words in place: iteration i
 *                   of a tile writes exactly the words iteration i - 2 wrote (ping-pong), so by
 *                   position only a tile's first two iterations (copy 0, copy 1) are seen landing.
 *                   They carry the tile's words; the later iterations of a tile carry none (their
 *                   durability is not observable by position, and the ledger cannot refute it).
 *                   The durable prefix the properties compute is therefore exact at the first two
 *                   iterations of a tile and may run ahead of the work really done up to the end of
 *                   the tile the engine works in.
 *   exact           false: "finished" cannot be required to equal "durable" when durable runs
 *                   ahead by up to a tile (an unsound view -- finished but not durable -- is still
 *                   an error: it means a tile whose accumulation never landed in this layer-run)
 *   maxLagJobs      itersPerTile: a correct seek resumes in the iteration that was interrupted (or,
 *                   R3 finding op 0 of a tile's first iteration unwritten, at that tile's start),
 *                   so the durable prefix can lead it by at most the tile's iterations; a seek
 *                   trailing further back loses work of finished tiles
 *   seeks           conv/FC layers seek at every start (JAP_CONV/JAP_FC call __JAP_PG_RETRIEVE
 *                   unconditionally); the other layers recompute from their start and do not seek
 */
import type { EngineDesign } from '../registry.js';
import type { EnginePlan } from '../reference/plan.js';
import { LIBRARY_DEFAULT_FIRMWARE } from '../reference/firmware.js';
import { RecordStore } from '../common/record.js';
import { num } from '../ops.js';
import { type Inspector, type NvmRead, read16 } from '../inspect.js';
import { planLoopCount, loopCountPlanOf, iterationOf, outputWordOf, seekReadsOf, LC_BATCHES, LC_TILE_PIXELS, LC_TM, type LcLayer, type LcLeaLayer, type LcIteration } from './plan.js';
import { LoopCountEngine, lcRuleOptions } from './engine.js';
import { seekDecision, sign1Of } from './rules.js';
import type { ModelRecord } from '../common/record.js';

function isLea(l: LcLayer): l is LcLeaLayer {
  return l.kind === 'conv' || l.kind === 'gemm';
}

/** The inspector of a loop-count deployment (see the module comment for the argument). */
export function loopCountInspector(plan: EnginePlan): Inspector {
  const lc = loopCountPlanOf(plan);
  const B = lc.B;
  const layers = lc.layers;
  const opts = lcRuleOptions(new Set(plan.params.faults));
  const records = new RecordStore(plan.nvm.record, plan.nvm.recordBytes, plan.nvm.slots.length);
  const lea = (l: number): LcLeaLayer | null => {
    const x = layers[l]!;
    return isLea(x) ? x : null;
  };
  /** Word offset of copy c from copy 0 (the two copies of an LEA output are one region). */
  const copyOffset = (l: LcLeaLayer, c: number) => (l.out.copies[c]! - l.out.copies[0]!) / 2;
  const iteration = (l: LcLeaLayer, iter: number): LcIteration => iterationOf(l, B, iter, opts);

  /** Iterations before the point the seeker resumes from, on this NVM image (the engine's job). */
  const resumeJob = (l: LcLeaLayer, read: NvmRead, rec: ModelRecord): number => {
    const reads = seekReadsOf(l, B, (addr) => read16(read, addr));
    const r = seekDecision(num, { sign1: sign1Of(num, rec.slots[l.slot]!.state), iterations: l.iterations, opts }, reads, (n, decide) => decide(iteration(l, n)));
    return r.iter - 1;
  };

  return {
    active: true,
    exact: false,
    plan,
    layers: layers.length,
    layerName: (l) => layers[l]?.name ?? `#${l}`,
    outputBase: (l) => {
      const x = layers[l]!;
      return isLea(x) ? x.out.copies[0]! : x.out.ref.base;
    },
    outputWords: (l) => {
      const x = layers[l]!;
      return isLea(x) ? copyOffset(x, 1) + x.out.layout.words : x.out.layout.words;
    },
    jobs: (l) => lea(l)?.iterations ?? 0,
    jobWords: (l, j, out) => {
      const x = lea(l)!;
      const it = iteration(x, j + 1);
      if (it.inner >= 2) return 0;
      const base = copyOffset(x, it.flip);
      let n = 0;
      for (let k = 0; k < it.npix; k++) {
        const w0 = base + outputWordOf(x, it, k);
        // The pixel's values; its footprints (after every B values) are the indicators.
        for (let w = 0; w < it.callWords; w++) if (w % (B + 1) !== B) out[n++] = w0 + w;
      }
      return n;
    },
    jobWordsMax: LC_TILE_PIXELS * LC_TM,
    indicatorAddr: (l, j) => {
      const x = lea(l)!;
      const it = iteration(x, j + 1);
      if (it.inner >= 2) return -1;
      // The last word op 1 writes: the last footprint of the tile's last pixel (R4 reads it last).
      return x.out.copies[0]! + 2 * (copyOffset(x, it.flip) + outputWordOf(x, it, it.npix - 1) + it.callWords - 1);
    },
    seekerFinished: (l, j, read, rec) => j < resumeJob(lea(l)!, read, rec),
    finishedPrefix: (l, read) => resumeJob(lea(l)!, read, records.peek(read)),
    maxLagJobs: (l) => lea(l)?.itersPerTile ?? 0,
    record: (read) => records.peek(read),
    recordRange: [plan.nvm.record, plan.nvm.record + 2 * plan.nvm.recordBytes],
    seeks: (l) => lea(l) !== null,
  };
}

export const japariLoopCount: EngineDesign = {
  kind: 'japari-loopcount',
  title: 'JAPARI as first published (loop-count footprints)',
  source: 'algorithms.md "JAPARI as first published (loop-count footprints)"; EMCLab-Sinica/JAPARI',
  preserves: true,
  batches: LC_BATCHES,
  // The JAPARI repository (fc4af70) is not a Stateful-CNN build: its tiles and costs follow
  // algorithms.md "Reference engine parameters", the later code's profile.
  verifiedOn: LIBRARY_DEFAULT_FIRMWARE,
  plan: planLoopCount,
  engine: (plan, faults) => new LoopCountEngine(plan, faults),
  inspector: loopCountInspector,
};
