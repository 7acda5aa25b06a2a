/**
 * Pure views of an engine's progress indicators, for the properties (no device cost, no state).
 *
 * For a layer of a deployment:
 *   jobs(l)               the jobs the progress seeker reasons about, in execution order
 *   jobWords(l, j)        the value words of job j: its work is durable when they all landed
 *   indicatorWord(l, j)   the word that marks job j finished (JAPARI: its footprint; HAWAII:
 *                         none -- the counter is one word for the whole layer)
 *   seekerFinished(...)   what the engine's seeker concludes about job j from this NVM, exactly
 *                         as the engine computes it (footprint == -psb(x); j < counter / B)
 *   exact                 true when "finished" must coincide with "durable" (JAPARI); false
 *                         when indicators may lag behind the data (HAWAII's counter)
 *   maxLagJobs(l)         how far the recovered progress may trail durable progress
 *
 * These are the same functions the engines use (ReferenceEngine.jobFootprintWord/valueWord),
 * so a disagreement is a property of the design, not of a second implementation.
 */
import type { EnginePlan, EngineLayer } from './reference/plan.js';
import { ReferenceEngine } from './reference/engine.js';
import { RecordStore, CounterStore, psb, type ModelRecord } from './record.js';

export type NvmRead = (addr: number) => number;

export interface Inspector {
  readonly kind: 'hawaii' | 'japari' | 'none';
  readonly exact: boolean;
  readonly plan: EnginePlan;
  jobs(layer: number): number;
  /** Write job `job`'s value words into `out` (length >= B) and return how many there are. */
  jobWords(layer: number, job: number, out: Int32Array): number;
  /** The output word holding job `job`'s own indicator, or -1 when it has none. */
  indicatorWord(layer: number, job: number): number;
  seekerFinished(layer: number, job: number, read: NvmRead, rec: ModelRecord): boolean;
  maxLagJobs(layer: number): number;
  /** The record a reboot would load. */
  record(read: NvmRead): ModelRecord;
  /** Does this layer seek at all (JAPARI's GAP recomputes)? */
  seeks(layer: number): boolean;
}

function realValues(l: EngineLayer): number {
  if (l.kind === 'conv') return l.slices.length * l.Pout * l.Qout * l.OCp;
  return l.out.words;
}

function maxValuesPerWrite(l: EngineLayer): number {
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

function read16(read: NvmRead, addr: number): number {
  return ((read(addr) | (read(addr + 1) << 8)) << 16) >> 16;
}

export function inspectorFor(plan: EnginePlan): Inspector {
  const kind = plan.params.engine;
  const records = new RecordStore(plan.nvm.record, plan.nvm.recordBytes, plan.nvm.slots.length);
  const record = (read: NvmRead) => records.peek(read);
  if (kind !== 'hawaii' && kind !== 'japari') {
    return {
      kind: 'none',
      exact: false,
      plan,
      jobs: () => 0,
      jobWords: () => 0,
      indicatorWord: () => -1,
      seekerFinished: () => false,
      maxLagJobs: () => 0,
      record,
      seeks: () => false,
    };
  }
  // The engine's own mapping functions (pure: they do not touch the device).
  const eng = new ReferenceEngine(plan);
  const B = plan.B;
  const layers = plan.layers;
  if (kind === 'japari') {
    return {
      kind: 'japari',
      exact: true,
      plan,
      jobs: (l) => eng.jobCount(layers[l]!),
      jobWords: (l, j, out) => {
        const fp = eng.jobFootprintWord(layers[l]!, j);
        for (let i = 0; i < B; i++) out[i] = fp - B + i;
        return B;
      },
      indicatorWord: (l, j) => eng.jobFootprintWord(layers[l]!, j),
      seekerFinished: (l, j, read, rec) => {
        const layer = layers[l]!;
        const x = eng.jobFootprintWord(layer, j);
        const slotWord = (layer.out.base - plan.nvm.slots[layer.out.slot]!) / 2 + x;
        const addr = layer.out.base + 2 * x;
        if (addr + 2 > plan.nvm.end) return false;
        return eng.footprintSaysFinished(read16(read, addr), -psb(rec.slots[layer.out.slot]!, slotWord));
      },
      maxLagJobs: () => 0,
      record,
      seeks: (l) => layers[l]!.kind !== 'gap' && !eng.noFootprintFix(layers[l]!),
    };
  }
  const counters = new CounterStore(plan.nvm.counters);
  return {
    kind: 'hawaii',
    exact: false,
    plan,
    jobs: (l) => Math.ceil(realValues(layers[l]!) / B),
    jobWords: (l, j, out) => {
      const total = realValues(layers[l]!);
      let n = 0;
      for (let v = j * B; v < Math.min(total, (j + 1) * B); v++) out[n++] = eng.valueWord(layers[l]!, v);
      return n;
    },
    indicatorWord: () => -1,
    seekerFinished: (l, j, read) => j < Math.floor(counters.peek(read, l) / B),
    // GAP records nothing and recomputes; otherwise one write's values plus the remainder.
    maxLagJobs: (l) => (layers[l]!.kind === 'gap' ? Infinity : Math.ceil((maxValuesPerWrite(layers[l]!) + B - 1) / B)),
    record,
    seeks: () => true,
  };
}
