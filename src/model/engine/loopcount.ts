import type { Device } from '../../device/device.js';
import type { EnginePlan } from '../plan.js';
import type { FaultSet } from './faults.js';
import { JapariError } from '../../util/errors.js';
export class LoopCountEngine {
  constructor(readonly plan: EnginePlan, readonly faults: FaultSet) {}
  boot(_dev: Device): void { throw new JapariError('loop-count engine: not yet implemented'); }
  carry(): number { return 0; }
}
