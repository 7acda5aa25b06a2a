/**
 * The catalogue: every seeded fault, every fix and every finding japari knows, with literal-union
 * ids, each tied to the engine kind (registry.ts) it concerns.
 *
 *  - A fault stands for a realistic mistake an engineer could make in an intermittent engine;
 *    japari must catch each one (the kill matrix, `japari mutants`). Faults are switched on by
 *    configuration (never by editing code); engines consult `faults.has(id)` at the one place
 *    each one changes.
 *  - A finding is a place where a published design violates a property on the executable model
 *    (reports/findings/). How japari rediscovers it lives in src/report/findings.ts (searches)
 *    and src/smt (refutations), keyed by the id here.
 *  - A fix corrects a finding; the faithful engine stays the default, the corrected variant runs
 *    with the fix switched on.
 *
 * A fault or fix given for another engine is a usage error (`checkCatalogue`).
 */
import { UsageError } from '../util/errors.js';
export type { FaultSet } from './registry.js';

export interface FaultSpec {
  readonly id: string;
  /** The engine kind whose code the fault changes. */
  readonly engine: string;
  /** What the pipeline area is (indicator, seeker, write order, commit, ...). */
  readonly area: string;
  /** The real-world mistake it stands for, in one line. */
  readonly description: string;
  /**
   * The network the kill matrix explores and proves it on, and B (full matrix, CI subset), when
   * the engine's published form fails on the default model: there its findings, not the fault,
   * would be what every technique detects.
   */
  readonly killOn?: { readonly model: string; readonly batch: number; readonly quickBatch: number };
}

/**
 * Loop-count faults run on tiny-concat: lenet's conv1 has 900 iterations, and a torn PB footprint
 * at loop count 256 or 512 breaks the published design there (finding loopcount-torn-footprint-256);
 * tiny-concat's layers stay below 256 iterations and the published engine passes fuzzing,
 * exploration and every proof on it.
 */
const LOOPCOUNT_KILL_ON = { model: 'tiny-concat', batch: 1, quickBatch: 2 } as const;

export interface FindingSpec {
  readonly id: string;
  /** The engine kind whose published design it concerns. */
  readonly engine: string;
  readonly title: string;
  /** The published design it concerns. */
  readonly design: string;
  /** Why it happens, in one paragraph. */
  readonly explanation: string;
  /** The fix of the corrected variant, when the fix is clear. */
  readonly fix?: string;
  /** Models this needs from ../shared (its search is skipped when they are absent). */
  readonly needs?: readonly ('mnist' | 'har' | 'kws' | 'cifar10')[];
}

export interface FixSpec {
  readonly id: string;
  readonly engine: string;
  /** The finding it corrects. */
  readonly finding: string;
  readonly description: string;
}

export const FAULTS = [
  { id: 'japari-seek-skip-one', engine: 'japari', area: 'seeker boundary', description: 'resume one job after the first unfinished one (off-by-one in the binary search result)' },
  { id: 'japari-seek-trusts-sign', engine: 'japari', area: 'seeker / torn values', description: "treat a footprint as finished when its high byte (sign) matches, ignoring the low byte a torn write leaves stale" },
  { id: 'japari-footprint-first', engine: 'japari', area: 'write ordering', description: 'preserve each job\'s footprint in its own transfer before the values it covers' },
  { id: 'japari-no-state-negate', engine: 'japari', area: 'state bit update', description: 'toggle the turning point at layer end but forget to negate the slot state bit' },
  { id: 'japari-commit-before-state', engine: 'japari', area: 'commit ordering', description: 'commit layer_idx + 1 in one record write and the slot state bit in a second one' },
  { id: 'japari-strip-wrong-position', engine: 'japari', area: 'footprint stripping', description: 'strip the word before each footprint instead of the footprint when a layer reads its input' },
  { id: 'japari-relu-stale-marker', engine: 'japari', area: 'footprint rewrite', description: 'ReLU/pool/merge rewrite footprint positions with the marker of the layer start, ignoring turning points inside the tensor' },
  { id: 'japari-no-recovery', engine: 'japari', area: 'recovery entry', description: 'clear the after-reboot flag before the first layer seeks, so no layer recovers its progress' },
  { id: 'japari-dummy-weight-2', engine: 'japari', area: 'indicator value', description: 'footprint filters use a dummy weight of +-2, so the LEA writes +-2 where the seeker expects +-1' },
  { id: 'japari-job-map-unpadded', engine: 'japari', area: 'granularity edge', description: 'map jobs to footprint offsets with the real channel count, forgetting the zero filters that pad channels to a multiple of B' },
  { id: 'japari-seek-last-job', engine: 'japari', area: 'seeker boundary', description: 'when every probed job is finished, resume at the last job instead of the end (last-job boundary)' },
  { id: 'hawaii-counter-before-data', engine: 'hawaii', area: 'write ordering', description: 'write the footprint counter before the values it counts' },
  { id: 'hawaii-single-copy', engine: 'hawaii', area: 'counter versioning', description: 'write the footprint counter in place (no shadow copy), so a torn write corrupts it' },
  { id: 'hawaii-resume-next-job', engine: 'hawaii', area: 'seeker boundary', description: 'resume at counter / B + 1 (off-by-one when turning the counter into a job index)' },
  { id: 'hawaii-no-counter-reset', engine: 'hawaii', area: 'inference start', description: 'do not reset the footprint counters when a new inference starts' },
  { id: 'hawaii-remainder-uninitialised', engine: 'hawaii', area: 'volatile state after reboot', description: 'keep the unrecorded-values remainder in a volatile global that is not re-initialised after a reboot' },
  { id: 'cache-trusted-after-reboot', engine: 'japari', area: 'volatile state after reboot', description: 'trust the filter tile cached in LEA RAM after a reboot instead of reloading it' },
  { id: 'record-version-first', engine: 'hawaii', area: 'commit ordering', description: 'write the model record with its version byte first, so a torn commit selects a half-written copy' },
  { id: 'lea-no-saturation', engine: 'japari', area: 'LEA arithmetic', description: 'assume the LEA wraps instead of saturating when storing a result (wrong accumulator assumption)' },
  { id: 'loopcount-sign-not-toggled', engine: 'japari-loopcount', area: 'state bit update', description: "commit layer_idx + 1 at a conv/FC layer's end but forget to toggle its SIGN, so the next inference's footprints share the stale ones' sign", killOn: LOOPCOUNT_KILL_ON },
  { id: 'loopcount-flip-not-reset', engine: 'japari-loopcount', area: 'ping-pong buffers', description: 'keep alternating the ping-pong output copies across tiles (parity of loop_cnt) instead of restarting at copy 0 with every tile', killOn: LOOPCOUNT_KILL_ON },
  { id: 'loopcount-seek-first-pb-only', engine: 'japari-loopcount', area: 'seeker / torn values', description: "take the preservation buffer as complete once its first footprint names the iteration, without comparing each pixel's last footprint (R3)", killOn: LOOPCOUNT_KILL_ON },
  { id: 'loopcount-resume-next-iteration', engine: 'japari-loopcount', area: 'seeker boundary', description: "read PB's footprint as the number of finished iterations and replay the loop counters to its magnitude + 1 (loop_cnt off by one on resume)", killOn: LOOPCOUNT_KILL_ON },
  { id: 'loopcount-scan-from-zero', engine: 'japari-loopcount', area: 'seeker anchor', description: "start the output copy's monotonicity scan at 0 (the published LL_MARKER) instead of the running sum that precedes the destination", killOn: LOOPCOUNT_KILL_ON },
  { id: 'loopcount-pb-footprint-first', engine: 'japari-loopcount', area: 'write ordering', description: "write each pixel's preservation-buffer footprints in their own transfers before the partial products they cover", killOn: LOOPCOUNT_KILL_ON },
  { id: 'stateful-state-first-value', engine: 'stateful', area: 'write ordering', description: 'embed each job\'s state in the first value of its group of B (and seek it there), so the state lands before the values it covers' },
  { id: 'stateful-clear-positive-only', engine: 'stateful', area: 'state clearer', description: 'the state clearer always subtracts 0x4000, as if every state were +1, corrupting values that carry state -1' },
  { id: 'stateful-no-state-negate', engine: 'stateful', area: 'state bit update', description: 'toggle the turning point at layer end but forget to negate the slot state bit' },
  { id: 'stateful-seek-skip-one', engine: 'stateful', area: 'seeker boundary', description: 'resume one job after the first unfinished one (off-by-one in the binary search result)' },
] as const satisfies readonly FaultSpec[];

export type FaultId = (typeof FAULTS)[number]['id'];
export const FAULT_IDS: readonly FaultId[] = FAULTS.map((f) => f.id);

export const FIXES = [
  {
    id: 'hawaii-layer-remainder',
    engine: 'hawaii',
    finding: 'hawaii-remainder-crosses-layers',
    description: "reset HAWAII's volatile remainder of unrecorded values at every layer start, so leftovers of one layer never advance the next layer's counter",
  },
  {
    id: 'japari-gemm-slice-jobs',
    engine: 'japari',
    finding: 'japari-gemm-slice-job-map',
    description: "number the jobs of FC partial sums slice by slice (each slice restarts the footprint pattern), resume right after the previous job's footprint (so a slice's trailing partial group, which has no footprint, is recomputed), and flip the whole partial-sum length at commit",
  },
  {
    id: 'japari-pad-vector-groups',
    engine: 'japari',
    finding: 'japari-gemm-slice-job-map',
    description:
      "pad FC and global-average-pool outputs with zero features to whole groups of B and widen FC calls to whole groups, as conv layers pad their channels, so every tensor of a slot keeps its footprints on one B+1 grid: a footprint word never aliases a data word of an earlier tensor (what 'japari-gemm-slice-jobs' and 'japari-fc-no-footprint-recompute' leave; also fixes japari-fc-without-footprints)",
  },
  {
    id: 'japari-fc-no-footprint-recompute',
    engine: 'japari',
    finding: 'japari-fc-without-footprints',
    description: 'when B exceeds the FC outputs per LEA call, FC outputs carry no footprint: recompute such a layer from its start instead of seeking footprints that do not exist',
  },
  {
    id: 'japari-gemm-column-sign',
    engine: 'japari',
    finding: 'japari-gemm-call-sign',
    description: 'give each footprint column of an FC call the dummy weight psb(x) of its own footprint offset, as conv layers do, instead of the sign at the call start',
  },
] as const satisfies readonly FixSpec[];

export type FixId = (typeof FIXES)[number]['id'];
export const FIX_IDS: readonly FixId[] = FIXES.map((f) => f.id);

export const FINDINGS = [
  {
    id: 'japari-gemm-call-sign',
    engine: 'japari',
    title: 'JAPARI (reference engine): FC footprints take the sign of the call start, across turning points',
    design: 'JAPARI with state-bit footprints, as in the reference engine (algorithms.md "JAPARI ... as in the reference engine")',
    explanation:
      "A footprint is finished iff it equals -psb(x), and psb flips at every turning point of the slot. Conv layers give each footprint column the dummy weight psb of its own offset, but the reference engine's FC (Gemm) handler writes one sign -- psb at the call's first output offset -- into every footprint column of the call. When a turning point of the slot (left by an earlier, shorter tensor) falls inside an FC call, the footprints after it are written with the wrong sign: they read as unfinished although written, and, worse, after the layer commits they read as finished for the next tensor in the slot. On the next inference the seeker then skips jobs whose work was never done and the output is wrong -- with a single power failure, or none at all after the first inference.",
    fix: 'japari-gemm-column-sign',
  },
  {
    id: 'japari-gemm-slice-job-map',
    engine: 'japari',
    title: 'JAPARI (reference engine): the seeker numbers the jobs of FC partial sums across slice boundaries',
    design: 'JAPARI with state-bit footprints, as in the reference engine (job_index_to_offset for non-conv layers)',
    explanation:
      'An FC layer whose input is split into several tiles writes one slice of partial sums per tile, each laid out as full groups of B values plus a footprint and a trailing partial group without one. The seeker maps job j to offset (j+1)(B+1)-1 over the whole output, so when N mod B != 0 the jobs of slices after the first are probed at value words, not at footprints; and the turning point at the output length rounded down to B+1 leaves the last slice\'s footprint unflipped. A written slice is then seen unfinished (work redone), and a value that happens to equal the marker, or a stale footprint of the last slice, is seen finished (work skipped). Renumbering the jobs slice by slice (fix japari-gemm-slice-jobs, kept as a variant) repairs the job map but not the misaligned grid: Z3 refutes it on mnist B = 4, where a later tensor of the slot (and the next inference) probes its footprints at words that hold FC data. The fix pads FC outputs to whole groups of B with zero filters, as conv layers pad their channels, so every tensor of a slot keeps one B+1 grid.',
    fix: 'japari-pad-vector-groups',
  },
  {
    id: 'japari-fc-without-footprints',
    engine: 'japari',
    title: 'JAPARI (reference engine): with B above the FC outputs per call, FC outputs have no footprints, yet the seeker probes them',
    design: 'JAPARI with state-bit footprints, as in the reference engine (Gemm: ext(tile_width) footprints per call)',
    explanation:
      'An FC LEA call produces op_filters outputs (4 for MNIST/KWS/HAR, 2 for CIFAR-10) and appends a footprint per full group of B of them; when B is larger, no group is full and the FC output carries no footprint at all. The progress seeker still searches output length / (B + 1) jobs and compares the words at (j+1)(B+1)-1 -- plain output values -- with the marker: a value equal to +-1 reads as a finished job and a layer interrupted midway can be taken as done, while written outputs read as unfinished. Recomputing such a layer from its start (fix japari-fc-no-footprint-recompute, kept as a variant) is not enough: Z3 refutes it on lenet B = 8, where the next inference\'s first layer probes its footprints at words holding this layer\'s outputs. The fix widens the FC calls to whole groups of B (and pads the outputs with zero filters), so FC outputs carry footprints on the slot\'s grid.',
    fix: 'japari-pad-vector-groups',
  },
  {
    id: 'hawaii-remainder-crosses-layers',
    engine: 'hawaii',
    title: "HAWAII: the volatile remainder of unrecorded values carries into the next layer's counter",
    design: 'HAWAII footprint counters (algorithms.md "HAWAII"), as in the reference engine (hawaii_record_footprints)',
    explanation:
      "After each preserved output HAWAII adds the values to a volatile remainder and writes the layer's counter +B for every full B. The remainder is a static that is never reset between layers, so when a layer ends with a partial batch (its value count is not a multiple of B), the leftover counts towards the next layer: that layer's counter runs ahead of the values it has durably written. A power failure in that window makes recovery resume past work that was never done, and the output is wrong.",
    fix: 'hawaii-layer-remainder',
  },
  {
    id: 'loopcount-torn-footprint-256',
    engine: 'japari-loopcount',
    title: 'JAPARI loop-count: a torn first PB footprint across a 256 boundary sends recovery back 256 iterations',
    design: 'JAPARI as first published (loop-count footprints, preservation buffer + ping-pong output)',
    explanation:
      'The preservation buffer\'s first footprint names the iteration to resume. SPI FRAM lands bytes little-endian, so a failure right after the low byte of that footprint leaves the new low byte with the old high byte: at loop count 512 (SIGN 0) 0x01FF becomes 0x0100 = 256. Recovery accepts the sign and replays the loop counters to iteration 256, then re-adds iterations onto output copies that already hold them: the tile\'s outputs are counted twice and the result is wrong.',
  },
  {
    id: 'loopcount-dummy-weight-wrap',
    engine: 'japari-loopcount',
    title: 'JAPARI loop-count: 16 x loop_cnt wraps above 2047 iterations, so the next inference skips most of a layer',
    design: 'JAPARI as first published (SIGN 0: dummy input 0x0800, dummy weight 16 x loop_cnt)',
    explanation:
      "Under SIGN 0 the footprint is computed by the LEA as 0x0800 x (16 x loop_cnt) >> 15 = loop_cnt, with the dummy weight formed in 16 bits. SqueezeNet-CIFAR10's fire4/expand3x3 has 2304 iterations: 16 x 2304 wraps to -28672 and the preservation buffer ends the inference holding footprint -1792. The next inference runs under SIGN 1, whose footprints are negative: the layer-start recovery accepts -1792 as 'iteration 1792 done' and resumes at 1793, so iterations 1..1792 of the new input are never computed. No power failure is needed.",
    needs: ['cifar10'],
  },
  {
    id: 'loopcount-saturated-running-sums',
    engine: 'japari-loopcount',
    title: 'JAPARI loop-count: saturated running footprint sums hide an iteration whose accumulation never started',
    design: 'JAPARI as first published (loop-count footprints, output copies holding running footprint sums)',
    explanation:
      "The output copies' footprints hold the LEA's saturating running sum of a tile's loop-count footprints, and recovery looks for the first break in their monotonicity. When the sums of a tile exceed 32767 (SqueezeNet-CIFAR10: tile sums up to 82314), the LEA saturates them: two consecutive iterations then leave the same value 32767, a failure right after an iteration's preservation-buffer write finds no break, takes the accumulation for done and skips it -- the tile's outputs miss that iteration.",
    needs: ['cifar10'],
  },
  {
    id: 'loopcount-non-lea-livelock',
    engine: 'japari-loopcount',
    title: 'JAPARI loop-count: layers without progress preservation never finish on the device.md supply',
    design: 'JAPARI as first published (the original repository preserves progress only in conv/FC layers)',
    explanation:
      "The original loop-count JAPARI preserves progress only inside conv and FC layers; other layers (ReLU, pooling) are recomputed from their start after every reboot. When one such layer costs more energy than one charge of the capacitor funds, every power cycle ends inside it and the inference never finishes. The engines with per-job progress in every layer (HAWAII, reference-engine JAPARI) complete on the same supply.",
  },
] as const satisfies readonly FindingSpec[];

export type FindingId = (typeof FINDINGS)[number]['id'];
export const FINDING_IDS: readonly FindingId[] = FINDINGS.map((f) => f.id);

/** The findings a fix corrects (typed: every fix must name a finding of the catalogue). */
export const FIXED_FINDINGS: readonly FindingId[] = FIXES.map((f) => f.finding);

export function faultSpec(id: string): FaultSpec | undefined {
  return (FAULTS as readonly FaultSpec[]).find((f) => f.id === id);
}

export function fixSpec(id: string): FixSpec | undefined {
  return (FIXES as readonly FixSpec[]).find((f) => f.id === id);
}

export function findingSpec(id: string): FindingSpec | undefined {
  return (FINDINGS as readonly FindingSpec[]).find((f) => f.id === id);
}

/** The faults of an engine kind. */
export function faultsFor(engine: string): FaultId[] {
  return FAULTS.filter((f) => f.engine === engine).map((f) => f.id);
}

/** The fixes of an engine kind (`--fix all`). */
export function fixesFor(engine: string): FixId[] {
  return FIXES.filter((f) => f.engine === engine).map((f) => f.id);
}

/** The findings of an engine kind. */
export function findingsFor(engine: string): FindingId[] {
  return FINDINGS.filter((f) => f.engine === engine).map((f) => f.id);
}

/**
 * Faults and fixes must exist and belong to the engine they are given for (a fault of another
 * engine would silently change nothing). A usage error names what exists.
 */
export function checkCatalogue(engine: string, faults: readonly string[], fixes: readonly string[]): void {
  for (const id of faults) {
    const f = faultSpec(id);
    if (!f) throw new UsageError(`unknown fault ${JSON.stringify(id)} (known: ${FAULT_IDS.join(', ')})`);
    if (f.engine !== engine && !SHARED_FAULTS[id]?.includes(engine)) {
      const own = faultsFor(engine);
      throw new UsageError(`fault ${id} belongs to the ${f.engine} engine, not ${engine} (faults of ${engine}: ${own.length > 0 ? own.join(', ') : 'none'})`);
    }
  }
  for (const id of fixes) {
    const f = fixSpec(id);
    if (!f) throw new UsageError(`unknown fix ${JSON.stringify(id)} (known: ${FIX_IDS.join(', ')})`);
    if (f.engine !== engine) {
      const own = fixesFor(engine);
      throw new UsageError(`fix ${id} belongs to the ${f.engine} engine, not ${engine} (fixes of ${engine}: ${own.length > 0 ? own.join(', ') : 'none'})`);
    }
  }
}

/**
 * Faults in code every engine of the reference engine shares (the model record, the input fetch,
 * the LEA arithmetic): they apply to the other kinds listed too.
 */
const SHARED_FAULTS: Readonly<Record<string, readonly string[]>> = {
  'record-version-first': ['continuous', 'hawaii', 'japari', 'stateful'],
  'lea-no-saturation': ['continuous', 'hawaii', 'japari', 'japari-loopcount', 'stateful'],
  'cache-trusted-after-reboot': ['continuous', 'hawaii', 'japari', 'stateful'],
};
