/**
 * Findings: places where a published design violates a property on the executable model.
 *
 * Each finding is discovered here, not stored: a deterministic search -- exhaustive exploration
 * that stops at the first failing point, or a targeted scenario located in the uninterrupted
 * run's trace -- produces the counterexample, which is then replayed with every property
 * monitored and rendered (JSON, Markdown, SVG timeline) under reports/findings/. Where a fix is
 * clear, the report also replays the same scenario with the corrected variant and records
 * whether it then passes. Exploration visits failure points in the order of the uninterrupted
 * run's write units, so the search does not depend on random draws or on how many actions a
 * schedule takes (a behaviour-preserving change never loses a finding); a finding its search no
 * longer finds is a FindingLost (`japari check`, `japari reports`: exit 1 naming it).
 * The counterexamples are also regression tests in test/corpus/ (src/properties/corpus.ts).
 */
import { replaySpec, deploymentOf } from '../properties/replay.js';
import { exploreShard } from '../properties/campaign.js';
import type { RunSpec } from '../properties/token.js';
import { runInference } from '../engines/runner.js';
import { loadModel } from '../model/models.js';
import { positionOf } from '../engines/reference/engine.js';
import { loopCountPlanOf, lcPosition } from '../engines/japari-loopcount/plan.js';
import { DEVICE_MD_CAPACITOR, DEVICE_MD_RC } from '../device/energy.js';
import { sharedAvailable, SHARED_MODELS } from '../util/shared.js';
import { JapariError } from '../util/errors.js';
import { type FindingId, type FindingSpec, findingSpec, findingProfile } from '../engines/catalogue.js';
import { DEFAULT_FIRMWARE, type FirmwareId } from '../engines/reference/firmware.js';

/** How japari rediscovers a finding of the catalogue (src/engines/catalogue.ts). */
export interface FindingSearch {
  readonly id: FindingId;
  /** How japari found it. */
  readonly discovery: string;
  /**
   * Produce the counterexample (deterministic) on `firmware`, the build profile whose code has the
   * behaviour (catalogue findingProfile; the design's verification build for a reconstruction);
   * null when the search no longer finds one. A search may pin another build and say why.
   */
  readonly find: (firmware: FirmwareId) => RunSpec | null;
  /**
   * The corrected scenario when the correction is not a catalogue fix (a variant switched off):
   * what it is, and the spec it replays.
   */
  readonly corrected?: { readonly what: string; readonly spec: (s: RunSpec) => RunSpec };
}

/** A finding whose search no longer finds it, or whose counterexample no longer fails. */
export class FindingLost extends JapariError {
  override name = 'FindingLost';
  constructor(
    readonly findingId: string,
    why: string,
  ) {
    super(`finding ${findingId} is no longer found: ${why}`);
  }
}

/** A finding of the catalogue with its search. */
export type Finding = FindingSpec & FindingSearch;

const BASE = { placement: 'spi-fram' as const, profile: 'inas2021', faults: [] as string[], fixes: [] as string[] };

/**
 * Exhaustive exploration of one run -- single failures, or every pair of failures over the whole
 * inference -- stopped at the first failing point (or at the uninterrupted run, when it already
 * fails): the first counterexample in write-unit order.
 */
function fromExplore(run: Omit<RunSpec, 'schedule'>, effectsOnly = false, mode: 'linear' | 'depth2' = 'linear'): RunSpec | null {
  const r = exploreShard({ run, mode, prune: true, shard: { index: 0, count: 1 }, stopAtFirst: true, ...(effectsOnly ? { effectsOnly } : {}) });
  if (r.golden.length > 0) return { ...run, schedule: [] };
  const f = r.failures[0];
  return f ? { ...run, schedule: f.schedule } : null;
}

const RUN = { ...BASE, warmup: [] as number[], seed: 0, garbage: { kind: 'random' as const } };

/**
 * The first action of the first event labelled `label` at or after the uninterrupted run's
 * checkpoint `pos` (for failures targeted at one write).
 */
function eventAfterCheckpoint(spec: Omit<RunSpec, 'schedule'>, pos: number, label: string): number | null {
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
  if (at < 0) return null;
  const ev = r.trace!.find((e) => e.action >= at && e.label === label);
  return ev ? ev.action : null;
}

function lcLayer(spec: Omit<RunSpec, 'schedule'>, name: string) {
  return loopCountPlanOf(deploymentOf(spec).plan).layers.find((x) => x.name === name) ?? null;
}

const SEARCHES: readonly FindingSearch[] = [
  {
    id: 'japari-gemm-call-sign',
    discovery: 'exhaustive single-failure exploration (stopped at the first failing point) of the random network rnd:2:g2/r/g1/r/g2:0 after one warm-up inference; first seen by fast-check fuzzing of random networks',
    find: (firmware) => fromExplore({ ...RUN, firmware, model: 'rnd:2:g2/r/g1/r/g2:0', engine: 'japari', batch: 1, input: 0, warmup: [0] }),
  },
  {
    id: 'japari-gemm-slice-job-map',
    discovery: "exhaustive single-failure exploration (stopped at the first point with an effect) of rnd:1x6x6:c3k3s1p1/c5k1s1p0/g5:0 on the Feb 2021 build (its transform.py rule splits the FC's 288 input words 192 + 96) with the other FC fixes applied; first seen by fast-check fuzzing of random networks. On mnist: Z3 at B = 4 on the same build (196 + 60 rows)",
    // The effect of the job map (skipped or lost work), not the data-dependent aliasing it also leaves.
    // Pinned to the Feb 2021 tiling, which splits this network's FC (192 + 96 rows) where the Aug 2021 rule may not.
    find: () => fromExplore({ ...RUN, model: 'rnd:1x6x6:c3k3s1p1/c5k1s1p0/g5:0', engine: 'japari', batch: 4, firmware: 'stateful-cnn-2021-02', placement: 'internal-fram', fixes: ['japari-fc-no-footprint-recompute', 'japari-gemm-column-sign'], input: 1000000, garbage: { kind: 'constant', value: -1 } }, true),
  },
  {
    id: 'japari-fc-without-footprints',
    discovery: 'exhaustive single-failure exploration (stopped at the first point with an effect) of rnd:2:g1/r/g9:0 at B = 8 with the FC sign fix applied; first seen by fast-check fuzzing of random networks',
    find: (firmware) => fromExplore({ ...RUN, firmware, model: 'rnd:2:g1/r/g9:0', engine: 'japari', batch: 8, fixes: ['japari-gemm-column-sign'], input: 1000000 }, true),
  },
  {
    id: 'hawaii-remainder-crosses-layers',
    discovery: 'exhaustive single-failure exploration (stopped at the first failing point) of tiny-concat (odd channel counts) at B = 4; first seen by fast-check fuzzing',
    find: (firmware) => fromExplore({ ...RUN, firmware, model: 'tiny-concat', engine: 'hawaii', batch: 4, input: 0 }),
  },
  {
    id: 'hawaii-2021-08-partial-increments',
    discovery: 'exhaustive exploration of every pair of failures (stopped at the first failing pair; no single failure fails) of tiny-concat (odd channel counts) at B = 4 on the Aug 2021 build\'s profile (stateful-cnn-2021-08: floor(len/B)+1 updates of min(B, n), version reads, versioned writes); first seen by fast-check fuzzing with the variant hawaii-record-every-value',
    find: (firmware) => fromExplore({ ...RUN, firmware, model: 'tiny-concat', engine: 'hawaii', batch: 4, input: 0 }, false, 'depth2'),
    corrected: {
      what: 'the same update sequence adding whole B only, the rest in a remainder reset at every layer start (fix hawaii-whole-job-increments)',
      spec: (s) => ({ ...s, fixes: [...new Set([...s.fixes, 'hawaii-whole-job-increments'])].sort() }),
    },
  },
  {
    id: 'loopcount-torn-footprint-256',
    discovery: 'targeted: the failure lands after the low byte of pixel 0\'s first footprint in the PB write of loop count 512 (lenet conv1), located in the uninterrupted run',
    find: (firmware) => {
      const spec = { ...BASE, firmware, model: 'lenet', engine: 'japari-loopcount' as const, batch: 1, input: 0, warmup: [], seed: 11, garbage: { kind: 'random' as const } };
      const l = lcLayer(spec, 'conv1');
      if (!l) return null;
      // Pixel 0's PB write in op 0 of loop count 512: PB[B] (its first footprint) is bytes 2B and
      // 2B + 1; fail once the low byte has landed.
      const a = eventAfterCheckpoint(spec, positionOf(l.index, lcPosition(512, 0, 0)), 'write PB');
      return a === null ? null : { ...spec, schedule: [a + 2 * spec.batch + 1] };
    },
  },
  {
    id: 'loopcount-retrieve-lost-lea',
    discovery: "targeted: with the published scan (variant loopcount-published-scan), one power failure as op 1 of lenet conv1's iteration 2 writes pixel 5's running sums, located in the uninterrupted run",
    find: (firmware) => {
      const spec = { ...BASE, firmware, model: 'lenet', engine: 'japari-loopcount' as const, batch: 1, input: 0, warmup: [], seed: 11, garbage: { kind: 'random' as const }, faults: ['loopcount-published-scan'] };
      const l = lcLayer(spec, 'conv1');
      if (!l) return null;
      // Iteration 2 of the first tile accumulates into copy 1 (flip 1); fail before pixel 5's write lands.
      const a = eventAfterCheckpoint(spec, positionOf(l.index, lcPosition(2, 1, 5)), 'write output copy 1');
      return a === null ? null : { ...spec, schedule: [a] };
    },
    corrected: { what: "japari's reconstructed scan (the engine without the variant: destination scan, products reloaded from PB)", spec: (s) => ({ ...s, faults: s.faults.filter((f) => f !== 'loopcount-published-scan') }) },
  },
  {
    id: 'loopcount-dummy-weight-wrap',
    discovery: 'measured: the largest loop count per layer (cifar10 fire4/expand3x3: 2304 > 2047), then two consecutive inferences on the model',
    find: (firmware) => ({ ...BASE, firmware, model: 'cifar10', engine: 'japari-loopcount', batch: 1, input: 1, warmup: [0], seed: 1, garbage: { kind: 'random' }, schedule: [] }),
  },
  {
    id: 'stateful-offset-overflow',
    discovery: 'exhaustive single-failure exploration (stopped at the first failing point; the uninterrupted run already fails) of kws at B = 1, input 921 after one warm-up inference; first seen by fast-check fuzzing of kws (seed 1, 300 schedules)',
    find: (firmware) => fromExplore({ ...RUN, firmware, model: 'kws', engine: 'stateful', batch: 1, input: 921, warmup: [0] }),
  },
  {
    id: 'stateful-seek-past-output',
    discovery: 'exhaustive single-failure exploration of lenet at B = 2 with the published seeker end (variant stateful-published-seek-end), stopped at the first failing point; first seen by fast-check fuzzing (seed 1, 200 schedules)',
    find: (firmware) => fromExplore({ ...RUN, firmware, model: 'lenet', engine: 'stateful', batch: 2, input: 0, faults: ['stateful-published-seek-end'] }),
    corrected: { what: "japari's default seeker end (the output's jobs: the engine without the variant)", spec: (s) => ({ ...s, faults: s.faults.filter((f) => f !== 'stateful-published-seek-end') }) },
  },
];

/** The findings japari rediscovers by a search on the executable model, with their catalogue entries. */
export const FINDINGS: readonly Finding[] = SEARCHES.map((x) => {
  const spec = findingSpec(x.id);
  if (!spec) throw new JapariError(`finding search ${x.id} has no catalogue entry`);
  return { ...spec, ...x };
});

/** The build profile a finding's search runs on: one whose code has the behaviour; the default build for a finding no build has. */
export function searchProfile(f: Finding): FirmwareId {
  return findingProfile(f.provenance) ?? DEFAULT_FIRMWARE;
}

export interface FindingOutcome {
  readonly finding: Finding;
  readonly spec: RunSpec;
  /** Properties violated by the faithful design on this scenario. */
  readonly properties: readonly string[];
  /** Whether the same scenario passes with the fix switched on (undefined: no fix). */
  readonly fixedPasses?: boolean;
  /** The same scenario with the fix switched on (undefined: no fix). */
  readonly fixedSpec?: RunSpec;
  /** Whether the scenario also fails without any power failure. */
  readonly failsWithoutFailures: boolean;
}

export function findingAvailable(f: Finding): boolean {
  return (f.needs ?? []).every((m) => sharedAvailable('models', SHARED_MODELS[m]));
}

/** Discover and replay one finding (FindingLost when its search no longer finds it). */
export function evaluateFinding(f: Finding): FindingOutcome {
  const spec = f.find(searchProfile(f));
  if (!spec) throw new FindingLost(f.id, `its search (${f.discovery}) finds no counterexample`);
  const faithful = replaySpec(spec);
  const properties = [...new Set(faithful.violations.map((v) => v.property))];
  if (properties.length === 0) throw new FindingLost(f.id, `the scenario its search produced (schedule ${spec.schedule.join(', ') || 'none'}) violates no property`);
  const noFailure = spec.schedule.length === 0 ? faithful : replaySpec({ ...spec, schedule: [] });
  const out: FindingOutcome = { finding: f, spec, properties, failsWithoutFailures: noFailure.violations.length > 0 };
  if (f.corrected) {
    const fixedSpec = f.corrected.spec(spec);
    return { ...out, fixedPasses: replaySpec(fixedSpec).violations.length === 0, fixedSpec };
  }
  if (!f.fix) return out;
  const fixedSpec = { ...spec, fixes: [...new Set([...spec.fixes, f.fix])].sort() };
  const fixed = replaySpec(fixedSpec);
  return { ...out, fixedPasses: fixed.violations.length === 0, fixedSpec };
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
