/**
 * The uninterrupted baseline: the reference engine with no progress preservation. Feature maps
 * still live in NVM (the authors' "Baseline"), but nothing records progress, so after a power
 * failure the inference restarts from its first layer: it completes only when one charge funds
 * a whole inference.
 */
import type { EngineLayer } from '../reference/plan.js';
import { planReference } from '../reference/plan.js';
import { ReferenceEngine } from '../reference/engine.js';
import { type Preservation, NO_HOOKS } from '../reference/preservation.js';
import { RecordStore } from '../common/record.js';
import type { LayerEndStep } from '../japari/rules.js';
import type { EngineDesign } from '../registry.js';
import { inactiveInspector } from '../inspect.js';

/** No indicators: no seek, and one commit when the last layer completes (the run counter). */
export const CONTINUOUS_PRESERVATION: Preservation = {
  ...NO_HOOKS,
  preserves: false,
  seek: () => ({ resumeWord: 0, job: -1 }),
  layerEnd: (layer: EngineLayer, last: boolean): readonly LayerEndStep[] => (last ? [{ kind: 'commit', layerIdx: layer.index + 1, last }] : []),
};

export const continuous: EngineDesign = {
  kind: 'continuous',
  title: 'Baseline (no progress preservation)',
  source: 'firmware-2021.md "What Baseline means in the measurements"',
  preserves: false,
  plan: (q, params) => planReference(q, params, { footprints: false }),
  engine: (plan, faults) => new ReferenceEngine(plan, faults, () => CONTINUOUS_PRESERVATION),
  inspector: (plan) => {
    const records = new RecordStore(plan.nvm.record, plan.nvm.recordBytes, plan.nvm.slots.length);
    return inactiveInspector(plan, (read) => records.peek(read));
  },
};
