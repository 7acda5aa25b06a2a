/**
 * JAPARI as first published, with loop-count footprints (algorithms.md "JAPARI as first published
 * (loop-count footprints)"): the registration of the loop-count engine (japari-loopcount/engine.ts)
 * with its own tiling and NVM map (japari-loopcount/plan.ts).
 */
import type { EngineDesign } from '../registry.js';
import { RecordStore } from '../common/record.js';
import { inactiveInspector } from '../inspect.js';
import { planLoopCount, LC_BATCHES } from './plan.js';
import { LoopCountEngine } from './engine.js';

export const japariLoopCount: EngineDesign = {
  kind: 'japari-loopcount',
  title: 'JAPARI as first published (loop-count footprints)',
  source: 'algorithms.md "JAPARI as first published (loop-count footprints)"; EMCLab-Sinica/JAPARI',
  preserves: true,
  batches: LC_BATCHES,
  plan: planLoopCount,
  engine: (plan, faults) => new LoopCountEngine(plan, faults),
  inspector: (plan) => {
    const records = new RecordStore(plan.nvm.record, plan.nvm.recordBytes, plan.nvm.slots.length);
    return inactiveInspector(plan, (read) => records.peek(read));
  },
};
