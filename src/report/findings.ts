/**
 * Findings: places where a published design violates a property on the executable model.
 *
 * Each finding is discovered here, not stored: a deterministic search (fuzzing with a fixed seed,
 * or a targeted scenario located in the uninterrupted run's trace) produces the counterexample,
 * which is then replayed with every property monitored and rendered (JSON, Markdown, SVG
 * timeline) under reports/findings/. Where a fix is clear, the report also replays the same
 * scenario with the corrected variant and records whether it then passes.
 */
import { fuzz, replaySpec, deploymentOf } from '../properties/fuzz.js';
import type { RunSpec } from '../properties/token.js';
import { runInference } from '../engines/runner.js';
import { loadModel } from '../model/models.js';
import { positionOf } from '../engines/reference/engine.js';
import { loopCountPlanOf, lcPosition } from '../engines/japari-loopcount/plan.js';
import { DEVICE_MD_CAPACITOR, DEVICE_MD_RC } from '../device/energy.js';
import { sharedAvailable, SHARED_MODELS } from '../util/shared.js';
import { JapariError } from '../util/errors.js';

export interface Finding {
  readonly id: string;
  readonly title: string;
  /** The engine whose published design it concerns. */
  readonly engine: 'hawaii' | 'japari' | 'japari-loopcount';
  /** The published design it concerns. */
  readonly design: string;
  /** Why it happens, in one paragraph. */
  readonly explanation: string;
  /** How japari found it. */
  readonly discovery: string;
  /** The fix id of the corrected variant, when the fix is clear. */
  readonly fix?: string;
  /** Models this needs from ../shared (the finding is skipped when absent). */
  readonly needs?: readonly (keyof typeof SHARED_MODELS)[];
  /** Produce the counterexample (deterministic). */
  readonly find: () => RunSpec;
}

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

export const FINDINGS: readonly Finding[] = [
  {
    id: 'japari-gemm-call-sign',
    engine: 'japari',
    title: 'JAPARI (reference engine): FC footprints take the sign of the call start, across turning points',
    design: 'JAPARI with state-bit footprints, as in the reference engine (algorithms.md "JAPARI ... as in the reference engine")',
    explanation:
      "A footprint is finished iff it equals -psb(x), and psb flips at every turning point of the slot. Conv layers give each footprint column the dummy weight psb of its own offset, but the reference engine's FC (Gemm) handler writes one sign -- psb at the call's first output offset -- into every footprint column of the call. When a turning point of the slot (left by an earlier, shorter tensor) falls inside an FC call, the footprints after it are written with the wrong sign: they read as unfinished although written, and, worse, after the layer commits they read as finished for the next tensor in the slot. On the next inference the seeker then skips jobs whose work was never done and the output is wrong -- with a single power failure, or none at all after the first inference.",
    discovery: 'fast-check fuzzing of random networks (seed 42, 300 schedules), shrunk by fast-check',
    fix: 'japari-gemm-column-sign',
    find: () => fromFuzz({ ...BASE, model: 'random', engine: 'japari', batch: 1, seed: 42, runs: 300 }),
  },
  {
    id: 'japari-gemm-slice-job-map',
    engine: 'japari',
    title: 'JAPARI (reference engine): the seeker numbers the jobs of FC partial sums across slice boundaries',
    design: 'JAPARI with state-bit footprints, as in the reference engine (job_index_to_offset for non-conv layers)',
    explanation:
      'An FC layer whose input is split into several tiles writes one slice of partial sums per tile, each laid out as full groups of B values plus a footprint and a trailing partial group without one. The seeker maps job j to offset (j+1)(B+1)-1 over the whole output, so when N mod B != 0 the jobs of slices after the first are probed at value words, not at footprints; and the turning point at the output length rounded down to B+1 leaves the last slice\'s footprint unflipped. A written slice is then seen unfinished (work redone), and a value that happens to equal the marker, or a stale footprint of the last slice, is seen finished (work skipped). Renumbering the jobs slice by slice (fix japari-gemm-slice-jobs, kept as a variant) repairs the job map but not the misaligned grid: Z3 refutes it on mnist B = 4, where a later tensor of the slot (and the next inference) probes its footprints at words that hold FC data. The fix pads FC outputs to whole groups of B with zero filters, as conv layers pad their channels, so every tensor of a slot keeps one B+1 grid.',
    discovery: 'fast-check fuzzing of random networks with the other FC fixes applied (seed 3, 300 schedules)',
    fix: 'japari-pad-vector-groups',
    // The effect of the job map (skipped or lost work), not the data-dependent aliasing it also leaves.
    find: () => fromFuzz({ ...BASE, model: 'random', engine: 'japari', batch: 1, fixes: ['japari-fc-no-footprint-recompute', 'japari-gemm-column-sign'], seed: 3, runs: 300, effectsOnly: true }),
  },
  {
    id: 'japari-fc-without-footprints',
    engine: 'japari',
    title: 'JAPARI (reference engine): with B above the FC outputs per call, FC outputs have no footprints, yet the seeker probes them',
    design: 'JAPARI with state-bit footprints, as in the reference engine (Gemm: ext(tile_width) footprints per call)',
    explanation:
      'An FC LEA call produces op_filters outputs (4 for MNIST/KWS/HAR, 2 for CIFAR-10) and appends a footprint per full group of B of them; when B is larger, no group is full and the FC output carries no footprint at all. The progress seeker still searches output length / (B + 1) jobs and compares the words at (j+1)(B+1)-1 -- plain output values -- with the marker: a value equal to +-1 reads as a finished job and a layer interrupted midway can be taken as done, while written outputs read as unfinished. Recomputing such a layer from its start (fix japari-fc-no-footprint-recompute, kept as a variant) is not enough: Z3 refutes it on lenet B = 8, where the next inference\'s first layer probes its footprints at words holding this layer\'s outputs. The fix widens the FC calls to whole groups of B (and pads the outputs with zero filters), so FC outputs carry footprints on the slot\'s grid.',
    discovery: 'fast-check fuzzing of random networks with the FC sign fix applied (seed 3, 120 schedules)',
    fix: 'japari-pad-vector-groups',
    find: () => fromFuzz({ ...BASE, model: 'random', engine: 'japari', batch: 1, fixes: ['japari-gemm-column-sign'], seed: 3, runs: 120, effectsOnly: true }),
  },
  {
    id: 'hawaii-remainder-crosses-layers',
    engine: 'hawaii',
    title: "HAWAII: the volatile remainder of unrecorded values carries into the next layer's counter",
    design: 'HAWAII footprint counters (algorithms.md "HAWAII"), as in the reference engine (hawaii_record_footprints)',
    explanation:
      "After each preserved output HAWAII adds the values to a volatile remainder and writes the layer's counter +B for every full B. The remainder is a static that is never reset between layers, so when a layer ends with a partial batch (its value count is not a multiple of B), the leftover counts towards the next layer: that layer's counter runs ahead of the values it has durably written. A power failure in that window makes recovery resume past work that was never done, and the output is wrong.",
    discovery: 'fast-check fuzzing of tiny-concat (odd channel counts) at B = 4 (seed 42, 300 schedules)',
    fix: 'hawaii-layer-remainder',
    find: () => fromFuzz({ ...BASE, model: 'tiny-concat', engine: 'hawaii', batch: 4, seed: 42, runs: 300 }),
  },
  {
    id: 'loopcount-torn-footprint-256',
    engine: 'japari-loopcount',
    title: 'JAPARI loop-count: a torn first PB footprint across a 256 boundary sends recovery back 256 iterations',
    design: 'JAPARI as first published (loop-count footprints, preservation buffer + ping-pong output)',
    explanation:
      'The preservation buffer\'s first footprint names the iteration to resume. SPI FRAM lands bytes little-endian, so a failure right after the low byte of that footprint leaves the new low byte with the old high byte: at loop count 512 (SIGN 0) 0x01FF becomes 0x0100 = 256. Recovery accepts the sign and replays the loop counters to iteration 256, then re-adds iterations onto output copies that already hold them: the tile\'s outputs are counted twice and the result is wrong.',
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
    id: 'loopcount-dummy-weight-wrap',
    engine: 'japari-loopcount',
    title: 'JAPARI loop-count: 16 x loop_cnt wraps above 2047 iterations, so the next inference skips most of a layer',
    design: 'JAPARI as first published (SIGN 0: dummy input 0x0800, dummy weight 16 x loop_cnt)',
    explanation:
      "Under SIGN 0 the footprint is computed by the LEA as 0x0800 x (16 x loop_cnt) >> 15 = loop_cnt, with the dummy weight formed in 16 bits. SqueezeNet-CIFAR10's fire4/expand3x3 has 2304 iterations: 16 x 2304 wraps to -28672 and the preservation buffer ends the inference holding footprint -1792. The next inference runs under SIGN 1, whose footprints are negative: the layer-start recovery accepts -1792 as 'iteration 1792 done' and resumes at 1793, so iterations 1..1792 of the new input are never computed. No power failure is needed.",
    discovery: 'measured: the largest loop count per layer (cifar10 fire4/expand3x3: 2304 > 2047), then two consecutive inferences on the model',
    needs: ['cifar10'],
    find: () => ({ ...BASE, model: 'cifar10', engine: 'japari-loopcount', batch: 1, input: 1, warmup: [0], seed: 1, garbage: { kind: 'random' }, schedule: [] }),
  },
];

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
