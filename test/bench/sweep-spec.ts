/**
 * The sweep the bench tests start from: the built-in tiny-conv network, every built-in engine at
 * B = 1, 2, 3, continuous power, 5 mW and the RC supply at 100 uF, with the minimum-capacitor
 * search on; `over` replaces any field.
 */
import { CONTINUOUS, constantCondition, rcCondition } from '../../src/bench/conditions.js';
import type { SweepSpec } from '../../src/bench/sweep.js';

export const LADDER = [10, 22, 47, 100, 220, 470, 1000].map((uF) => uF / 1e6);

export function sweepSpec(over: Partial<SweepSpec> = {}): SweepSpec {
  return {
    models: ['tiny-conv'],
    engines: ['continuous', 'hawaii', 'japari', 'japari-loopcount', 'stateful'],
    batches: [1, 2, 3],
    conditions: [CONTINUOUS, constantCondition(100e-6, 5e-3), rcCondition(100e-6)],
    profile: 'inas2021',
    placement: 'spi-fram',
    fixes: false,
    layers: false,
    input: 0,
    seed: 0,
    stallLimit: 16,
    maxPowerCycles: 100_000,
    minCap: { condition: rcCondition(100e-6), batches: [1], ladderF: LADDER, tolerance: 0.02 },
    ...over,
  };
}
