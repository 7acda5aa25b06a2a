/**
 * Findings: places where a published design violates a property on the executable model.
 *
 * Each finding is discovered here, not stored: a deterministic search (fuzzing with a fixed seed,
 * or a targeted scenario located in the uninterrupted run's trace) produces the counterexample,
 * which is then replayed with every property monitored and rendered (JSON, Markdown, SVG
 * timeline) under reports/findings/. Where a fix is clear, the report also replays the same
 * scenario with the corrected variant and records whether it then passes.
 */
import { fuzz } from '../properties/fuzz.js';
import { replaySpec, deploymentOf } from '../properties/replay.js';
import type { RunSpec } from '../properties/token.js';
import { runInference } from '../engines/runner.js';
import { loadModel } from '../model/models.js';
import { positionOf } from '../engines/reference/engine.js';
import { loopCountPlanOf, lcPosition } from '../engines/japari-loopcount/plan.js';
import { DEVICE_MD_CAPACITOR, DEVICE_MD_RC } from '../device/energy.js';
import { sharedAvailable, SHARED_MODELS } from '../util/shared.js';
import { JapariError } from '../util/errors.js';
import { type FindingId, type FindingSpec, findingSpec } from '../engines/catalogue.js';

/** How japari rediscovers a finding of the catalogue (src/engines/catalogue.ts). */
export interface FindingSearch {
  readonly id: FindingId;
  /** How japari found it. */
  readonly discovery: string;
  /** Produce the counterexample (deterministic). */
  readonly find: () => RunSpec;
  /**
   * The corrected scenario when the correction is not a catalogue fix (a variant switched off):
   * what it is, and the spec it replays.
   */
  readonly corrected?: { readonly what: string; readonly spec: (s: RunSpec) => RunSpec };
}

/** A finding of the catalogue with its search. */
export type Finding = FindingSpec & FindingSearch;

const BASE = { placement: 'spi-fram' as const, profile: 'inas2021', faults: [] as string[], fixes: [] as string[] };

function fromFuzz(o: Parameters<typeof fuzz>[0]): RunSpec {
  const r = fuzz(o);
  if (!r.counterexample) throw new JapariError(`finding search (fuzz ${o.model} ${o.engine} seed ${o.seed}) found no counterexample`);
  return r.counterexample.spec;
}

/**
 * The first action of the first event labelled `label` at or after the uninterrupted run's
 * checkpoint `pos` (for failures targeted at one write).
 */
function eventAfterCheckpoint(spec: Omit<RunSpec, 'schedule'>, pos: number, label: string): number {
  const d = deploymentOf(spec);
  const m = loadModel(spec.model);
  let at = -1;
  const r = runInference(d, {
    input: m.inputQ(spec.input),
    supply: { kind: 'continuous' },
    seed: spec.seed,
    trace: true,
    onCheckpoint: (dv, p) => {
      if (at < 0 && p === pos) at = dv.action;
    },
  });
  if (at < 0) throw new JapariError(`finding search: checkpoint ${pos} not reached`);
  const ev = r.trace!.find((e) => e.action >= at && e.label === label);
  if (!ev) throw new JapariError(`finding search: no "${label}" event after checkpoint ${pos}`);
  return ev.action;
}

function lcLayer(spec: Omit<RunSpec, 'schedule'>, name: string) {
  const l = loopCountPlanOf(deploymentOf(spec).plan).layers.find((x) => x.name === name);
  if (!l) throw new JapariError(`finding search: no loop-count layer ${name}`);
  return l;
}

const SEARCHES: readonly FindingSearch[] = [
  {
    id: 'japari-gemm-call-sign',
    discovery: 'fast-check fuzzing of random networks (seed 42, 300 schedules), shrunk by fast-check',
    find: () => fromFuzz({ ...BASE, model: 'random', engine: 'japari', batch: 1, seed: 42, runs: 300 }),
  },
  {
    id: 'japari-gemm-slice-job-map',
    discovery: 'fast-check fuzzing of random networks with the other FC fixes applied (seed 3, 300 schedules)',
    // The effect of the job map (skipped or lost work), not the data-dependent aliasing it also leaves.
    find: () => fromFuzz({ ...BASE, model: 'random', engine: 'japari', batch: 1, fixes: ['japari-fc-no-footprint-recompute', 'japari-gemm-column-sign'], seed: 3, runs: 300, effectsOnly: true }),
  },
  {
    id: 'japari-fc-without-footprints',
    discovery: 'fast-check fuzzing of random networks with the FC sign fix applied (seed 3, 120 schedules)',
    find: () => fromFuzz({ ...BASE, model: 'random', engine: 'japari', batch: 1, fixes: ['japari-gemm-column-sign'], seed: 3, runs: 120, effectsOnly: true }),
  },
  {
    id: 'hawaii-remainder-crosses-layers',
    discovery: 'fast-check fuzzing of tiny-concat (odd channel counts) at B = 4 (seed 42, 300 schedules)',
    find: () => fromFuzz({ ...BASE, model: 'tiny-concat', engine: 'hawaii', batch: 4, seed: 42, runs: 300 }),
  },
  {
    id: 'hawaii-2021-08-partial-increments',
    discovery: 'fast-check fuzzing of tiny-concat (odd channel counts) at B = 4 with the Aug 2021 recording (variant hawaii-record-every-value; seed 1, 200 schedules)',
    find: () => fromFuzz({ ...BASE, model: 'tiny-concat', engine: 'hawaii', batch: 4, faults: ['hawaii-record-every-value'], seed: 1, runs: 200 }),
    corrected: {
      what: 'whole-B recording with a remainder reset at every layer start (the default recording with fix hawaii-layer-remainder)',
      spec: (s) => ({ ...s, faults: s.faults.filter((f) => f !== 'hawaii-record-every-value'), fixes: [...new Set([...s.fixes, 'hawaii-layer-remainder'])].sort() }),
    },
  },
  {
    id: 'loopcount-torn-footprint-256',
    discovery: 'targeted: the failure lands after the low byte of pixel 0\'s first footprint in the PB write of loop count 512 (lenet conv1), located in the uninterrupted run',
    find: () => {
      const spec = { ...BASE, model: 'lenet', engine: 'japari-loopcount' as const, batch: 1, input: 0, warmup: [], seed: 11, garbage: { kind: 'random' as const } };
      const l = lcLayer(spec, 'conv1');
      // Pixel 0's PB write in op 0 of loop count 512: PB[B] (its first footprint) is bytes 2B and
      // 2B + 1; fail once the low byte has landed.
      const a = eventAfterCheckpoint(spec, positionOf(l.index, lcPosition(512, 0, 0)), 'write PB');
      return { ...spec, schedule: [a + 2 * spec.batch + 1] };
    },
  },
  {
    id: 'loopcount-retrieve-lost-lea',
    discovery: "targeted: with the published scan (variant loopcount-published-scan), one power failure as op 1 of lenet conv1's iteration 2 writes pixel 5's running sums, located in the uninterrupted run",
    find: () => {
      const spec = { ...BASE, model: 'lenet', engine: 'japari-loopcount' as const, batch: 1, input: 0, warmup: [], seed: 11, garbage: { kind: 'random' as const }, faults: ['loopcount-published-scan'] };
      const l = lcLayer(spec, 'conv1');
      // Iteration 2 of the first tile accumulates into copy 1 (flip 1); fail before pixel 5's write lands.
      const a = eventAfterCheckpoint(spec, positionOf(l.index, lcPosition(2, 1, 5)), 'write output copy 1');
      return { ...spec, schedule: [a] };
    },
    corrected: { what: "japari's reconstructed scan (the engine without the variant: destination scan, products reloaded from PB)", spec: (s) => ({ ...s, faults: s.faults.filter((f) => f !== 'loopcount-published-scan') }) },
  },
  {
    id: 'loopcount-dummy-weight-wrap',
    discovery: 'measured: the largest loop count per layer (cifar10 fire4/expand3x3: 2304 > 2047), then two consecutive inferences on the model',
    find: () => ({ ...BASE, model: 'cifar10', engine: 'japari-loopcount', batch: 1, input: 1, warmup: [0], seed: 1, garbage: { kind: 'random' }, schedule: [] }),
  },
  {
    id: 'stateful-offset-overflow',
    discovery: 'fast-check fuzzing of kws at B = 1 (seed 1, 300 schedules), shrunk by fast-check',
    find: () => fromFuzz({ ...BASE, model: 'kws', engine: 'stateful', batch: 1, seed: 1, runs: 300 }),
  },
  {
    id: 'stateful-seek-past-output',
    discovery: 'fast-check fuzzing of lenet at B = 2 with the published seeker end (variant stateful-published-seek-end; seed 1, 200 schedules), shrunk by fast-check',
    find: () => fromFuzz({ ...BASE, model: 'lenet', engine: 'stateful', batch: 2, faults: ['stateful-published-seek-end'], seed: 1, runs: 200 }),
    corrected: { what: "japari's default seeker end (the output's jobs: the engine without the variant)", spec: (s) => ({ ...s, faults: s.faults.filter((f) => f !== 'stateful-published-seek-end') }) },
  },
];

/** The findings japari rediscovers by a search on the executable model, with their catalogue entries. */
export const FINDINGS: readonly Finding[] = SEARCHES.map((x) => {
  const spec = findingSpec(x.id);
  if (!spec) throw new JapariError(`finding search ${x.id} has no catalogue entry`);
  return { ...spec, ...x };
});

export interface FindingOutcome {
  readonly finding: Finding;
  readonly spec: RunSpec;
  /** Properties violated by the faithful design on this scenario. */
  readonly properties: readonly string[];
  /** Whether the same scenario passes with the fix switched on (undefined: no fix). */
  readonly fixedPasses?: boolean;
  /** Whether the scenario also fails without any power failure. */
  readonly failsWithoutFailures: boolean;
}

export function findingAvailable(f: Finding): boolean {
  return (f.needs ?? []).every((m) => sharedAvailable('models', SHARED_MODELS[m]));
}

/** Discover and replay one finding. */
export function evaluateFinding(f: Finding): FindingOutcome {
  const spec = f.find();
  const faithful = replaySpec(spec);
  const properties = [...new Set(faithful.violations.map((v) => v.property))];
  if (properties.length === 0) throw new JapariError(`finding ${f.id}: the discovered scenario does not reproduce a violation`);
  const noFailure = spec.schedule.length === 0 ? faithful : replaySpec({ ...spec, schedule: [] });
  const out: FindingOutcome = { finding: f, spec, properties, failsWithoutFailures: noFailure.violations.length > 0 };
  if (f.corrected) return { ...out, fixedPasses: replaySpec(f.corrected.spec(spec)).violations.length === 0 };
  if (!f.fix) return out;
  const fixed = replaySpec({ ...spec, fixes: [...new Set([...spec.fixes, f.fix])].sort() });
  return { ...out, fixedPasses: fixed.violations.length === 0 };
}

/** The livelock finding is about forward progress under an energy supply, not a schedule. */
export interface LivelockOutcome {
  readonly completed: boolean;
  readonly reason: string;
  readonly powerCycles: number;
  readonly restartedLayer: number;
}

export function evaluateLoopCountLivelock(): LivelockOutcome {
  const m = loadModel('lenet');
  const d = deploymentOf({ ...BASE, model: 'lenet', engine: 'japari-loopcount', batch: 1 });
  const layers: number[] = [];
  const r = runInference(d, {
    input: m.inputQ(0),
    supply: { kind: 'energy', capacitor: DEVICE_MD_CAPACITOR, harvester: DEVICE_MD_RC },
    seed: 1,
    maxPowerCycles: 3000,
    onRecovered: (_dv, l) => layers.push(l),
  });
  return { completed: r.completed, reason: r.reason ?? '', powerCycles: r.powerCycles, restartedLayer: layers[layers.length - 1] ?? -1 };
}
