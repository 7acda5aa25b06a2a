/**
 * The catalogue: every seeded fault, every fix and every finding japari knows, with literal-union
 * ids, each tied to the engine kind (registry.ts) it concerns.
 *
 *  - A fault stands for a realistic mistake an engineer could make in an intermittent engine;
 *    japari must catch each one (the kill matrix, `japari mutants`). Faults are switched on by
 *    configuration (never by editing code); engines consult `faults.has(id)` at the one place
 *    each one changes.
 *  - A finding is a place where a design violates a property on the executable model
 *    (reports/findings/). Each carries its provenance in the authors' code (status, builds,
 *    code lines, reach, acceptance, effect: FindingProvenance); only status 'published design'
 *    is a weakness of the published design, a 'reconstruction' is one of japari's own filling.
 *    How japari rediscovers it lives in src/report/findings.ts (searches) and src/smt
 *    (refutations), keyed by the id here.
 *  - A variant is published-code behaviour an engine models besides its default (switched on
 *    like a fault); a deviation is a place where an engine knowingly differs from the authors'
 *    code (reports/findings/deviations.md); a lead is a suspicion checked against the code.
 *  - A fix corrects a finding; the faithful engine stays the default, the corrected variant runs
 *    with the fix switched on.
 *
 * A fault or fix given for another engine is a usage error (`checkCatalogue`).
 */
import { UsageError } from '../util/errors.js';
import { LIBRARY_DEFAULT_FIRMWARE, type FirmwareId } from './reference/firmware.js';
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

/**
 * The builds of the authors' code a finding is read against (issue 15; ../shared/reference/
 * firmware-2021.md): the two measured builds of Stateful-CNN, its later code, and the JAPARI
 * repository (loop-count JAPARI).
 */
export const BUILDS = {
  '2021-02': 'EMCLab-Sinica/Stateful-CNN@672ed9a (Feb 2021; CIFAR-10 and KWS were measured on it)',
  '2021-08': 'EMCLab-Sinica/Stateful-CNN@37708ef (Aug 2021; MNIST was measured on it)',
  later: 'EMCLab-Sinica/Stateful-CNN at HEAD (late 2021/2022 code; algorithms.md "Reference engine parameters")',
  'japari-repo': 'EMCLab-Sinica/JAPARI@fc4af70 (the last commit with sources; loop-count JAPARI)',
} as const;
export type BuildId = keyof typeof BUILDS;
export const BUILD_IDS = Object.keys(BUILDS) as BuildId[];

/**
 * The build profile (reference/firmware.ts) that runs each build's code. The JAPARI repository is
 * not a Stateful-CNN build: loop-count JAPARI runs on the later code's profile (algorithms.md
 * "Reference engine parameters"), as its design does (verifiedOn).
 */
export const BUILD_PROFILE: Readonly<Record<BuildId, FirmwareId>> = {
  '2021-02': 'stateful-cnn-2021-02',
  '2021-08': 'stateful-cnn-2021-08',
  later: 'stateful-cnn-later',
  'japari-repo': LIBRARY_DEFAULT_FIRMWARE,
};

/**
 * The profile a finding's counterexample replays on: a measured build whose code has the
 * behaviour (the Aug 2021 build first, then Feb 2021), else the later code's; null for a finding
 * no build has (a reconstruction: it runs where its design is verified).
 */
export function findingProfile(f: { readonly builds: readonly BuildId[] }): FirmwareId | null {
  for (const b of ['2021-08', '2021-02', 'later', 'japari-repo'] as const) if (f.builds.includes(b)) return BUILD_PROFILE[b];
  return null;
}

/**
 * What a finding is a finding of:
 *  - 'published design': the authors' code does it;
 *  - 'intent': the code cannot reach it because of another bug, but its evident design would;
 *  - 'reconstruction': japari filled a gap the code leaves open, and the finding is about that
 *    filling -- never reported as a weakness of the published design;
 *  - 'artefact under review': the mechanism is in the code, but what triggers it on the model is
 *    a japari modelling choice that differs from the authors' code, pending a re-derivation.
 */
export type FindingStatus = 'published design' | 'intent' | 'reconstruction' | 'artefact under review';
export const FINDING_STATUSES: readonly FindingStatus[] = ['published design', 'intent', 'reconstruction', 'artefact under review'];

/** What goes wrong. */
export type FindingEffect = 'wrong output' | 'lost or repeated work' | 'hang';

/**
 * A place in the authors' code: repository, commit, path, and the line range when it was read
 * from a stored version of the file (`lines`); `anchor` names the function or statement, so the
 * place can be found in the other builds, whose line numbers differ.
 */
export interface CodeRef {
  readonly repo: 'EMCLab-Sinica/Stateful-CNN' | 'EMCLab-Sinica/JAPARI';
  readonly commit: string;
  readonly path: string;
  readonly lines?: string;
  readonly anchor: string;
  /** What this place does, in one line. */
  readonly what: string;
}

/** Where a finding comes from and whom it concerns (issue 15: provenance, reach, effect, status). */
export interface FindingProvenance {
  readonly status: FindingStatus;
  /** Why this status, in one or two sentences, with the code that decides it. */
  readonly statusReason: string;
  /** The code that has the behaviour (or, for a reconstruction, the gap japari filled). */
  readonly code: readonly CodeRef[];
  /** The builds whose code has the behaviour. */
  readonly builds: readonly BuildId[];
  /** Builds read that do not have it, and why. */
  readonly notIn?: readonly { readonly build: BuildId; readonly why: string }[];
  /** Whether a configuration the authors evaluated (their models, B = 1, 2, 4) triggers it, and how that was established. */
  readonly reach: {
    readonly evaluated: boolean;
    readonly text: string;
    /**
     * Built-in models on which the faithful design is known to break through this finding even
     * without a power failure: `japari check` reports that design there as n/a (known finding),
     * never as PASS, and only when the uninterrupted run itself fails.
     */
    readonly models?: readonly string[];
  };
  /** Whether the authors' code accepts the configuration that triggers it (asserts, compile-time checks). */
  readonly accepted: string;
  readonly effects: readonly FindingEffect[];
}

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
  readonly provenance: FindingProvenance;
}

export interface FixSpec {
  readonly id: string;
  readonly engine: string;
  /** The finding it corrects. */
  readonly finding: string;
  readonly description: string;
}


// ---------------------------------------------------------------------------------------------
// Places in the authors' code (read with the search tools of the project, issue 15). Line
// ranges are given where the stored file was read line by line; for Stateful-CNN the stored
// versions could not be pinned to the three commits, so those places are named by function and
// statement (anchor), which is how they are found in each build.

const SCNN = 'EMCLab-Sinica/Stateful-CNN' as const;
const JREPO = 'EMCLab-Sinica/JAPARI' as const;
/** JAPARI@fc4af70: libJAPARI/src/convolution.c as last changed in 1f283a7 (the stored version read; lines counted in it). */
const JCONV = { repo: JREPO, commit: 'fc4af70', path: 'libJAPARI/src/convolution.c' } as const;
const REF = {
  gemmCallSign: { repo: SCNN, commit: '672ed9a, 37708ef, HEAD', path: 'common/gemm.cpp', anchor: 'handle_gemm, JAPARI footprint columns of a call', what: "one footprint weight per LEA call, from the state bit at the call's first output offset, for every footprint column of the call" },
  gemmCallSignRead: { repo: SCNN, commit: 'b3dfd77', path: 'common/gemm.cpp', lines: '157-171', anchor: 'handle_gemm: filter_ptr[idx] = param_state_bit(model, output, output_offset)', what: 'the stored version read (b3dfd77): every footprint column of the call gets the state bit of output_offset, the call start' },
  hawaiiPreserveVector: { repo: SCNN, commit: '74fd9e3', path: 'common/op_utils.cpp', lines: '13-24', anchor: 'hawaii_preserve_vector: per B-group write_hawaii_layer_footprint(layer, MIN_VAL(vector_len - col, BATCH_SIZE))', what: 'a stored version (74fd9e3; its order relative to HEAD could not be established) with the same partial increments and no static remainder' },
  gemmTileAssert: { repo: SCNN, commit: '672ed9a, 37708ef', path: 'common/gemm.cpp', anchor: 'handle_gemm: MY_ASSERT(flags->extra.gemm.tile_width >= BATCH_SIZE) under INDIRECT_RECOVERY', what: 'both 2021 builds refuse an FC call narrower than B; the assert is gone in the later code' },
  jobIndexToOffset: { repo: SCNN, commit: '672ed9a, 37708ef, HEAD', path: 'common/intermittent-cnn.cpp', anchor: 'job_index_to_offset (non-conv layers)', what: 'job j of an FC output maps to offset (j+1)(B+1)-1 over the whole output, across the slices of partial sums' },
  transformGemmTile: { repo: SCNN, commit: '672ed9a, 37708ef', path: 'dnn-models/transform.py', anchor: 'Gemm tile_channel rule', what: "the FC input tiling rule; for mnist's last FC one slice of 256 rows, where japari's gemmInputTile makes 205 + 51" },
  hawaiiRemainder: { repo: SCNN, commit: '672ed9a, HEAD', path: 'common/op_utils.cpp', anchor: 'hawaii_record_footprints: static non_recorded_jobs += vector_len; the counter advances by whole BATCH_SIZE only, the rest carries', what: 'a static remainder of unrecorded values, never reset between layers' },
  hawaiiRecordAll: { repo: SCNN, commit: '37708ef', path: 'common/op_utils.cpp', anchor: 'hawaii_record_footprints: for (int16_t non_recorded_jobs = vector_len; non_recorded_jobs >= 0; non_recorded_jobs -= BATCH_SIZE) write_hawaii_layer_footprint(layer, MIN_VAL(BATCH_SIZE, non_recorded_jobs))', what: 'records every value of each preserved vector, min(B, n) per step (no remainder carried)' },
  lcDummyWeight: { ...JCONV, lines: '364-365, 311', anchor: 'JAP_CONV: int dummy_w = SIGN ? 1 : 16; int loop_cnt; __JAP_FETCH_WEIGHT: srcW[...] = dummy_w * loop_cnt', what: 'the footprint weight is a 16-bit int product, unguarded' },
  lcKcNotReset: { ...JCONV, lines: '454', anchor: 'JAP_CONV: }itr.kc;}itr.kr=0;', what: 'itr.kc is never reset, so every kr >= 1 and every later tile runs no kc iteration: loop_cnt never exceeds KC + 1' },
  lcFirstPb: { ...JCONV, lines: '51-56', anchor: '__JAP_PG_RETRIEVE: pb_1 = PB[batch]; *l_cnt = |pb_1|', what: "PB's first footprint names the iteration to resume" },
  lcRetrieveOp1: { ...JCONV, lines: '92-119', anchor: '__JAP_PG_RETRIEVE, pb_1 == pb_L branch', what: 'scans the source copy (flip ^ 1) from LL_MARKER = 0 down column 0, then along that row, then returns after the first channel group' },
  lcResumeLea: { ...JCONV, lines: '418-424', anchor: 'JAP_CONV op 1: srcA = LEA_MEMORY + lea_o_offset + prog_oft', what: "op 1 resumes from the partial products in LEA RAM, which the reboot has lost (nothing reloads them on this path)" },
  lcOp0Bytes: { ...JCONV, lines: '84', anchor: '__JAP_PG_RETRIEVE: SPI_READ(&ADDR, srcA, ts->tm + NFPs)', what: 'reads tm + NFPs bytes where as many words are meant' },
  lcPbOffset: { ...JCONV, lines: '406', anchor: 'JAP_CONV op 0: srcC32 = PB + (ita.r * ts.tc + ita.c) * (...)', what: 'the PB address of a pixel is not scaled by sizeof(_q15)' },
  lcRowsTypo: { ...JCONV, lines: '63-65, 392-394', anchor: 'ts.tc/tm/tn = (itr.c/m/n + T > ROWS) ? ...', what: 'every tile size is clipped against ROWS' },
  lcSigVolatile: { repo: JREPO, commit: 'fc4af70', path: 'main.c', lines: '20-36', anchor: 'JAP_LAYER SIG[1] (no #pragma PERSISTENT) next to #pragma PERSISTENT(network)', what: 'the layer array holding SIGN is not persistent, the layer index (network.FOOTPRINT) is' },
  lcNoNonlinear: { repo: JREPO, commit: 'fc4af70', path: 'libJAPARI/nonlinear.h', anchor: 'header only: no libJAPARI/src/nonlinear.c in any stored version', what: 'ReLU and pooling are declared, never implemented: the repository has no non-LEA layer code' },
  lcEarlierConv: { repo: JREPO, commit: '0ed4d8d', path: 'libJAPARI/src/convolution.c', anchor: 'JAP_CONV (earlier version): }_kc=0;}_kr=0;', what: 'the earlier stored version resets kc, so its loop counts do reach 256 and 2048' },
  statefulEncoding: { repo: SCNN, commit: '23c1a21', path: 'common/intermittent-cnn.h', lines: '16-19, 30-40', anchor: 'offset_has_state, get_value_state_bit, strip_state under STATEFUL', what: 'the state is the sign of the stored word; the clearer subtracts (val & 0x8000) + 0x4000; no range check' },
  statefulRecoveryEnd: { repo: SCNN, commit: '23c1a21', path: 'common/intermittent-cnn.cpp', anchor: 'run_recovery: end_job_index = params_len / 2, divided by BATCH_SIZE + 1 under JAPARI only; job_index_to_offset: job_index >= params_len / sizeof(int16_t) returns job_index under STATEFUL', what: 'under STATEFUL the seeker searches one job per value, while a job is a group of B values: with B > 1 its probes land past the output' },
  statefulBound: { repo: SCNN, commit: '0006e60', path: 'common/op_utils.cpp', anchor: "MaxMultiplierChunkHandler: 'bound = 8140' under STATEFUL ('XXX: is this bound really safe?'); find_max_multiplier reads the multiplier found on sample 0", what: 'activations are bounded when a scale is chosen, on the first sample only' },
} as const satisfies Record<string, CodeRef>;

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
    provenance: {
      status: 'published design',
      statusReason: "The Gemm handler of every build writes the state bit of the call's start into every footprint column of the call; the conv handler handles turning points inside a call, Gemm does not.",
      code: [REF.gemmCallSign, REF.gemmCallSignRead],
      builds: ['2021-02', '2021-08', 'later'],
      reach: { evaluated: false, text: 'not shown on an evaluated configuration: it needs a turning point of the slot inside an FC call; Z3 proves mnist, har, kws and cifar10 at B = 1 (reports/proofs/), and mnist B = 2, kws B = 2 and 4, har B = 2 (japari prove, every obligation), free of it; at mnist and har B = 4 Z3 refutes only with the slice job map; found on random networks (fuzzing) and tiny-fc (Z3)' },
      accepted: 'yes: every configuration that triggers it is accepted by the code',
      effects: ['wrong output', 'lost or repeated work'],
    },
  },
  {
    id: 'japari-gemm-slice-job-map',
    engine: 'japari',
    title: 'JAPARI (reference engine): the seeker numbers the jobs of FC partial sums across slice boundaries',
    design: 'JAPARI with state-bit footprints, as in the reference engine (job_index_to_offset for non-conv layers)',
    explanation:
      'An FC layer whose input is split into several tiles writes one slice of partial sums per tile, each laid out as full groups of B values plus a footprint and a trailing partial group without one. The seeker maps job j to offset (j+1)(B+1)-1 over the whole output, so when N mod B != 0 the jobs of slices after the first are probed at value words, not at footprints; and the turning point at the output length rounded down to B+1 leaves the last slice\'s footprint unflipped. A written slice is then seen unfinished (work redone), and a value that happens to equal the marker, or a stale footprint of the last slice, is seen finished (work skipped). Renumbering the jobs slice by slice (fix japari-gemm-slice-jobs, kept as a variant) repairs the job map but not the misaligned grid: Z3 refutes it on mnist B = 4, where a later tensor of the slot (and the next inference) probes its footprints at words that hold FC data. The fix pads FC outputs to whole groups of B with zero filters, as conv layers pad their channels, so every tensor of a slot keeps one B+1 grid.',
    fix: 'japari-pad-vector-groups',
    provenance: {
      status: 'artefact under review',
      statusReason: "The mechanism is in the code (job_index_to_offset numbers FC jobs across slices), but what triggers it on mnist is japari's FC input tiling (gemmInputTile: 205 + 51 rows), not transform.py's rule (one slice of 256). FC tiling per build waits for the build profiles of issue 12 (branch firmware), which were not on main when this was written; until then no model the authors evaluated is known to trigger it.",
      code: [REF.jobIndexToOffset, REF.transformGemmTile],
      builds: ['2021-02', '2021-08', 'later'],
      reach: { evaluated: false, text: "not established under the authors' FC tiling: with japari's tiling Z3 refutes mnist B = 4 (205 + 51 rows, where transform.py makes one slice of 256) and har B = 4 (5 refutations, dense/MatMul and the ReLU after conv1d; japari prove this round); whether transform.py splits har's FC input waits for the build profiles; the fuzzed random networks are not evaluated models" },
      accepted: 'yes for the mechanism; the triggering tiling is not what transform.py produces for mnist',
      effects: ['wrong output', 'lost or repeated work'],
    },
  },
  {
    id: 'japari-fc-without-footprints',
    engine: 'japari',
    title: 'JAPARI (reference engine): with B above the FC outputs per call, FC outputs have no footprints, yet the seeker probes them',
    design: 'JAPARI with state-bit footprints, as in the reference engine (Gemm: ext(tile_width) footprints per call)',
    explanation:
      'An FC LEA call produces op_filters outputs (4 for MNIST/KWS/HAR, 2 for CIFAR-10) and appends a footprint per full group of B of them; when B is larger, no group is full and the FC output carries no footprint at all. The progress seeker still searches output length / (B + 1) jobs and compares the words at (j+1)(B+1)-1 -- plain output values -- with the marker: a value equal to +-1 reads as a finished job and a layer interrupted midway can be taken as done, while written outputs read as unfinished. Recomputing such a layer from its start (fix japari-fc-no-footprint-recompute, kept as a variant) is not enough: Z3 refutes it on lenet B = 8, where the next inference\'s first layer probes its footprints at words holding this layer\'s outputs. The fix widens the FC calls to whole groups of B (and pads the outputs with zero filters), so FC outputs carry footprints on the slot\'s grid.',
    fix: 'japari-pad-vector-groups',
    provenance: {
      status: 'published design',
      statusReason: 'The later code (HEAD) accepts an FC call narrower than B and the seeker then probes outputs that carry no footprint. Both 2021 builds refuse that configuration with an assert, so the finding concerns the later code only.',
      code: [REF.gemmTileAssert, REF.jobIndexToOffset],
      builds: ['later'],
      notIn: [
        { build: '2021-02', why: 'MY_ASSERT(tile_width >= BATCH_SIZE) in handle_gemm stops the run' },
        { build: '2021-08', why: 'MY_ASSERT(tile_width >= BATCH_SIZE) in handle_gemm stops the run' },
      ],
      reach: { evaluated: false, text: 'needs B above the FC outputs per call. The measurements were made on the 2021 builds (op_filters 4 for every model, B = 1, 2, 4), which assert against it; in the later code op_filters is 4, or 2 for CIFAR-10, so it needs B = 8, or B = 4 on cifar10 -- the later code was not measured at any B' },
      accepted: 'only by the later code (HEAD), after the 2021 assert was removed',
      effects: ['wrong output', 'lost or repeated work'],
    },
  },
  {
    id: 'hawaii-remainder-crosses-layers',
    engine: 'hawaii',
    title: "HAWAII: the volatile remainder of unrecorded values carries into the next layer's counter",
    design: 'HAWAII footprint counters (algorithms.md "HAWAII"), as in the reference engine (hawaii_record_footprints)',
    explanation:
      "After each preserved output HAWAII adds the values to a volatile remainder and writes the layer's counter +B for every full B. The remainder is a static that is never reset between layers, so when a layer ends with a partial batch (its value count is not a multiple of B), the leftover counts towards the next layer: that layer's counter runs ahead of the values it has durably written. A power failure in that window makes recovery resume past work that was never done, and the output is wrong.",
    fix: 'hawaii-layer-remainder',
    provenance: {
      status: 'published design',
      statusReason: 'A static non_recorded_jobs, never reset between layers, is in 672ed9a and at HEAD; 37708ef records every value of each vector and carries no remainder.',
      code: [REF.hawaiiRemainder],
      builds: ['2021-02', 'later'],
      notIn: [{ build: '2021-08', why: 'hawaii_record_footprints records every value of each vector and carries no remainder (it has a problem of its own: finding hawaii-2021-08-partial-increments)' }],
      reach: { evaluated: false, text: 'needs a layer that leaves a remainder (preserved values not a multiple of B) before a layer that a failure then hits; Z3 proves seeker-exactness, with the remainders the earlier layers leave, on mnist, kws, har and cifar10 at B = 2 and B = 4 (and lenet at B = 4); at B = 1 there is no remainder. Found on tiny-concat (odd channel counts, B = 4), not an evaluated model' },
      accepted: 'B = 4 (the fuzz counterexample) is accepted; the earlier Z3 refutation used B = 3, which the code does not compile -- its canonical proof now runs at B = 4 on tiny-concat',
      effects: ['wrong output'],
    },
  },
  {
    id: 'hawaii-2021-08-partial-increments',
    engine: 'hawaii',
    title: 'HAWAII (Aug 2021 build): partial counter increments are counted again after recovery, so the counter runs ahead of the data',
    design: 'HAWAII footprint counters as recorded by EMCLab-Sinica/Stateful-CNN@37708ef (hawaii_record_footprints), modelled by the engine variant hawaii-record-every-value',
    explanation:
      "The Aug 2021 build records each preserved vector with `for (n = len; n >= 0; n -= B)`, adding MIN(B, n) to the layer's counter per step. A vector whose length is not a multiple of B leaves the counter off the multiples of B. Recovery rounds the counter down to a job (counter / B) and redoes the values of the partial job, and recording them adds them to the counter a second time: the counter now runs ahead of the values durably written. A later power failure in the same layer resumes past work that was never done -- a job reads as finished whose values are not durable.",
    provenance: {
      status: 'published design',
      statusReason: 'The recording loop of 37708ef does it for every vector whose length is not a multiple of B; 672ed9a and HEAD record with a static remainder instead (finding hawaii-remainder-crosses-layers).',
      code: [REF.hawaiiRecordAll, REF.hawaiiPreserveVector],
      builds: ['2021-08'],
      notIn: [
        { build: '2021-02', why: 'records whole B only and carries a static remainder' },
        { build: 'later', why: 'records whole B only and carries a static remainder' },
      ],
      reach: { evaluated: false, text: 'needs a vector shorter than, or not a multiple of, B inside a layer, then two failures in that layer; not found by fuzzing mnist (the model measured on this build) at B = 2 and 4 (100 schedules each, seed 1); found on tiny-concat (odd channel counts) at B = 4' },
      accepted: 'B = 4 is accepted',
      effects: ['wrong output'],
    },
  },
  {
    id: 'loopcount-torn-footprint-256',
    engine: 'japari-loopcount',
    title: 'JAPARI loop-count: a torn first PB footprint across a 256 boundary sends recovery back 256 iterations',
    design: 'JAPARI as first published (loop-count footprints, preservation buffer + ping-pong output)',
    explanation:
      'The preservation buffer\'s first footprint names the iteration to resume. SPI FRAM lands bytes little-endian, so a failure right after the low byte of that footprint leaves the new low byte with the old high byte: at loop count 512 (SIGN 0) 0x01FF becomes 0x0100 = 256. Recovery accepts the sign and replays the loop counters to iteration 256, then re-adds iterations onto output copies that already hold them: the tile\'s outputs are counted twice and the result is wrong.',
    provenance: {
      status: 'intent',
      statusReason: "As published (fc4af70) itr.kc is never reset, so loop_cnt never exceeds KC + 1 and never reaches 256; the code's evident design (every (kr, kc) iteration, as algorithms.md and the earlier version 0ed4d8d have it) does. JAP_FC stays below Tm x Tn = 64 iterations.",
      code: [REF.lcFirstPb, REF.lcKcNotReset, REF.lcEarlierConv],
      builds: ['japari-repo'],
      reach: { evaluated: true, text: "under the intent, any conv layer with at least 512 iterations: the repository's own demo layer (main.c: 15x15x32 -> 13x13x64, 3x3) has 4608; lenet conv1 900" },
      accepted: 'yes (no check bounds loop_cnt)',
      effects: ['wrong output'],
    },
  },
  {
    id: 'loopcount-dummy-weight-wrap',
    engine: 'japari-loopcount',
    title: 'JAPARI loop-count: 16 x loop_cnt wraps above 2047 iterations, so the next inference skips most of a layer',
    design: 'JAPARI as first published (SIGN 0: dummy input 0x0800, dummy weight 16 x loop_cnt)',
    explanation:
      "Under SIGN 0 the footprint is computed by the LEA as 0x0800 x (16 x loop_cnt) >> 15 = loop_cnt, with the dummy weight formed in 16 bits. SqueezeNet-CIFAR10's fire4/expand3x3 has 2304 iterations: 16 x 2304 wraps to -28672 and the preservation buffer ends the inference holding footprint -1792. The next inference runs under SIGN 1, whose footprints are negative: the layer-start recovery accepts -1792 as 'iteration 1792 done' and resumes at 1793, so iterations 1..1792 of the new input are never computed. No power failure is needed.",
    needs: ['cifar10'],
    provenance: {
      status: 'intent',
      statusReason: "int is 16-bit on the MSP430 and dummy_w * loop_cnt wraps above 2047 iterations -- but as published (fc4af70) the unreset itr.kc keeps loop_cnt at most KC + 1, so the wrap needs the evident design (every (kr, kc) iteration), as the torn-footprint finding does. JAP_FC cannot reach it either: its loops (itr.m < ts.tm and itr.n < ts.tn, in steps of 1) stay below Tm x Tn = 64 iterations.",
      code: [REF.lcDummyWeight, REF.lcKcNotReset, REF.lcEarlierConv],
      builds: ['japari-repo'],
      reach: { evaluated: true, text: "under the intent, any conv layer with more than 2047 iterations: the repository's demo layer has 4608, SqueezeNet-CIFAR10 fire4/expand3x3 2304" },
      accepted: 'yes (no check bounds loop_cnt)',
      effects: ['wrong output'],
    },
  },
  {
    id: 'loopcount-saturated-running-sums',
    engine: 'japari-loopcount',
    title: "japari's loop-count reconstruction (not the published design): saturated running footprint sums hide an iteration whose accumulation never started",
    design: "japari's reconstructed seeker scan R4 (destination copy, every footprint, anchored at the preceding running sum), not the published __JAP_PG_RETRIEVE",
    explanation:
      "The output copies' footprints hold the LEA's saturating running sum of a tile's loop-count footprints, and recovery looks for the first break in their monotonicity. When the sums of a tile exceed 32767 (SqueezeNet-CIFAR10: tile sums up to 82314), the LEA saturates them: two consecutive iterations then leave the same value 32767, a failure right after an iteration's preservation-buffer write finds no break, takes the accumulation for done and skips it -- the tile's outputs miss that iteration.",
    needs: ['cifar10'],
    provenance: {
      status: 'reconstruction',
      statusReason: "It refutes japari's own R4 scan (the destination copy, every footprint, anchored at the preceding running sum). The published scan reads the source copy from LL_MARKER = 0, returns after one channel group and never compares the destination's running sums; re-derived against it (the same failure: cifar10 B = 4, fire4/expand3x3, right after op 0 of loop_cnt 1471), the published scan sees equal source sums, resumes op 1 at the tile's last pixel from lost LEA RAM and skips pixels 0..10 -- a wrong output for that reason, on every model, not because of saturation (finding loopcount-retrieve-lost-lea).",
      code: [REF.lcRetrieveOp1],
      builds: [],
      reach: { evaluated: false, text: 'only on the reconstructed scan (cifar10 tile sums above 32767)' },
      accepted: 'not applicable: a property of the reconstruction',
      effects: ['wrong output'],
    },
  },
  {
    id: 'loopcount-non-lea-livelock',
    engine: 'japari-loopcount',
    title: "japari's loop-count reconstruction (not the published design): layers without progress preservation never finish on the device.md supply",
    design: "japari's reconstruction of the non-LEA layers of loop-count JAPARI (the repository has no code for them: nonlinear.c never existed)",
    explanation:
      "japari's loop-count engine preserves progress only inside conv and FC layers and recomputes other layers (ReLU, pooling) from their start after every reboot -- its own filling of a gap in the published code. When one such layer costs more energy than one charge of the capacitor funds, every power cycle ends inside it and the inference never finishes. The engines with per-job progress in every layer (HAWAII, reference-engine JAPARI) complete on the same supply.",
    provenance: {
      status: 'reconstruction',
      statusReason: "nonlinear.c never existed in the JAPARI repository (only the header nonlinear.h): how ReLU and pooling preserve progress is not in the authors' code. 'No progress preservation in non-LEA layers' is japari's filling of that gap, so the livelock is a property of the reconstruction, not of the published design.",
      code: [REF.lcNoNonlinear],
      builds: [],
      reach: { evaluated: false, text: "only with japari's non-LEA layers (lenet relu/pool on the device.md supply)" },
      accepted: 'not applicable: the published code has no non-LEA layers',
      effects: ['hang'],
    },
  },
  {
    id: 'loopcount-retrieve-lost-lea',
    engine: 'japari-loopcount',
    title: 'JAPARI loop-count (published retrieve): op 1 resumes from partial products in LEA RAM, which the reboot has lost',
    design: 'JAPARI as published (EMCLab-Sinica/JAPARI@fc4af70 __JAP_PG_RETRIEVE and JAP_CONV), modelled by the engine variant loopcount-published-scan',
    explanation:
      "When the preservation buffer is complete (pb_1 == pb_L), __JAP_PG_RETRIEVE decides where op 1 (the accumulation into the ping-pong output copies) resumes by scanning the source copy (flip ^ 1) from LL_MARKER = 0: down column 0, then along that row, and it returns after the first channel group. The source copy holds the previous iteration's complete running sums, equal for every pixel of the tile, so the scan finds no break and stops at the tile's last pixel. JAP_CONV then continues op 1 there from the partial products in LEA RAM (srcA = LEA_MEMORY + ...), which are SRAM and lost with the power: the pixels between the interrupted one and the last are never accumulated, and the last one accumulates garbage. A single power failure during op 1 of any conv iteration after the first of a tile gives a wrong output. japari's reconstructed scan (the engine's default) reloads the partial products from PB and scans the destination copy; that scan has findings of its own (loopcount-saturated-running-sums).",
    provenance: {
      status: 'published design',
      statusReason: 'The code does it on every path where op 0 finished: the scan of the source copy (lines 92-119) and the resume from LEA RAM (lines 418-424); nothing reloads PB into LEA RAM on that path.',
      code: [REF.lcRetrieveOp1, REF.lcResumeLea],
      builds: ['japari-repo'],
      reach: { evaluated: true, text: "any conv layer with two or more iterations per tile, at any B: the repository's demo layer (main.c) and every model; as published (kc never reset) the first tile still runs KC iterations, so the path is reached at iterations 2..KC" },
      accepted: 'yes',
      effects: ['wrong output', 'lost or repeated work'],
    },
  },
  {
    id: 'stateful-offset-overflow',
    engine: 'stateful',
    title: 'Stateful: a half-scale value of magnitude 0x4000 or more loses its state and its value when the offset is embedded',
    design: 'Stateful (algorithms.md "Stateful"): states as a +-0x4000 offset on half-scale values (EMCLab-Sinica/Stateful-CNN intermittent-cnn.h get_value_state_bit / strip_state)',
    explanation:
      "Stateful stores v/2 + 0x4000 (state +1) or v/2 - 0x4000 (state -1) and reads the state back from the sign, so a value keeps its state only while |v/2| < 0x4000: half of the half-scale range. Halving buys one bit of headroom and the offset spends it. Where an input drives a tensor beyond its calibrated range (the full-scale engines would clip it at the rail, as their reference does), the half-scale reference still represents it, but the LEA saturates v/2 + offset at the rail (the CPU kernels' int16 add wraps), so the stored word carries the wrong state and the clearer returns a wrong value. KWS's fc3 reaches 0x4000 at half scale on 14 of 200 synthetic inputs; on the alternate inferences where the affected words carry state -1, the output is wrong without any power failure (and a seeker reading such a word would misjudge its job). The authors bound activations when choosing scales (op_utils.cpp find_max_multiplier: 'bound = 8140 ... XXX: is this bound really safe?', calibrated on the first sample); nothing bounds the values of later inputs.",
    needs: ['kws'],
    provenance: {
      status: 'artefact under review',
      statusReason:
        "The encoding is the authors' (a +-0x4000 offset on half-scale values, the state read back from the sign, no guard against half-scale values of 0x4000 or more); what drives kws's fc3 beyond it is japari's scale choice (the calibrated exponents plus one, stateful/half.ts), not the authors' find_max_multiplier, which picks scales on the first sample under a bound of 8140. Whether the authors' scales leave later inputs room needs their scale selection modelled.",
      code: [REF.statefulEncoding, REF.statefulBound],
      builds: ['later'],
      reach: {
        evaluated: false,
        text: "kws at B = 1 under japari's scales: 14 of 200 synthetic inputs reach 0x4000 at fc3 (the authors' KWS inputs are not available); lenet, mnist and har stay below it on every input tried, cifar10 was not scanned. tiny-features, whose input-channel slices' partial sums are built to saturate, breaks at every B, with lost work too: stale partial-sum states read as finished (japari check's exploration section); the authors rescale partial sums to fit (find_max_multiplier on the conv output, ConvMerge scales back), which japari's fixed scales do not model",
        models: ['tiny-features'],
      },
      accepted: 'yes: no assert bounds the values (an earlier encoding asserted -0x2000 <= val < 0x6000 in get_value_state_bit)',
      effects: ['wrong output', 'lost or repeated work'],
    },
  },
  {
    id: 'stateful-seek-past-output',
    engine: 'stateful',
    title: 'Stateful (published seeker end): with B > 1 the seeker probes past the output and takes a word there for a finished job',
    design: 'Stateful as in the reference engine (run_recovery and job_index_to_offset under STATEFUL, variant stateful-published-seek-end)',
    explanation:
      "Under STATEFUL, run_recovery searches end_job_index = params_len / 2 jobs -- one per value -- while a job is a group of B values whose state rides in its last value; only JAPARI divides by its group size. With B > 1 the binary search's first probe, job N/2 of an N-word output, maps to word (N/2 + 1)B - 1, past the output. What lies there is no state of this layer: on japari's slots (packed to the largest tensor) it is the next slot's data, whose sign the seeker compares with this slot's psb. When it reads as finished, the search climbs past the output and the layer resumes beyond its end: the whole layer is skipped. This happens at the first layer of every boot, so on lenet at B = 2 it skips conv1 after the first inference without any power failure. Searching the output's jobs (output length / B, japari's default) is exact.",
    provenance: {
      status: 'artefact under review',
      statusReason:
        "The published end is in the code (23c1a21 run_recovery: end_job_index = params_len / 2, divided by BATCH_SIZE + 1 under JAPARI only). Whether a probe past the output reads as finished depends on what lies there: on japari's slots (sized to the largest tensor) it is the next slot; the authors' slots are INTERMEDIATE_VALUES_SIZE each, where a probe within the slot reads a stale state word or never-written 0, both of which read unfinished by the turning-point invariant, so the trigger needs a probe beyond the authors' slot.",
      code: [REF.statefulRecoveryEnd],
      builds: ['later'],
      reach: { evaluated: false, text: "lenet at B = 2 and 4 with japari's slot sizes: exploration fails at 3068 of 9878 failure points (B = 2), fuzzing without any power failure; B = 1 is unaffected (one value per job)" },
      accepted: 'yes: B = 2 and 4 compile and no assert checks the probed offset',
      effects: ['wrong output', 'lost or repeated work'],
    },
  },
] as const satisfies readonly FindingSpec[];


// ---------------------------------------------------------------------------------------------
// Variants: published-code behaviour an engine models besides its default, switched on like a
// fault (`faults` of the deployment, `--fault` on the command line, `x` in a replay token) but
// not a seeded mistake: they are the authors' code where an engine's default is a
// reconstruction. The kill matrix does not run them.

export interface VariantSpec {
  readonly id: string;
  readonly engine: string;
  readonly description: string;
  readonly code: readonly CodeRef[];
}

export const VARIANTS = [
  {
    id: 'loopcount-published-scan',
    engine: 'japari-loopcount',
    description:
      "the published __JAP_PG_RETRIEVE op-1 scan: the source copy's first footprints from LL_MARKER = 0 (down column 0, along the break row), a return after the first channel group, and op 1 resumed at that pixel from the partial products left in LEA RAM (not reloaded); the default is japari's reconstructed scan",
    code: [REF.lcRetrieveOp1, REF.lcResumeLea],
  },
  {
    id: 'hawaii-record-every-value',
    engine: 'hawaii',
    description:
      "the HAWAII footprint recording of the Aug 2021 build (37708ef, the measured MNIST build): `for (n = len; n >= 0; n -= B)` one counter write adding MIN(B, n) per step, no remainder carried; the default is the static remainder of 672ed9a and HEAD",
    code: [REF.hawaiiRecordAll],
  },
  {
    id: 'stateful-published-seek-end',
    engine: 'stateful',
    description:
      "the published Stateful seeker end: run_recovery searches params_len / 2 jobs (one per value, not per group of B) and job_index_to_offset maps a job past the value count to the word of its own index; the default searches the output's jobs (output length / B)",
    code: [REF.statefulRecoveryEnd],
  },
] as const satisfies readonly VariantSpec[];

export type VariantId = (typeof VARIANTS)[number]['id'];
export const VARIANT_IDS: readonly VariantId[] = VARIANTS.map((v) => v.id);

export function variantSpec(id: string): VariantSpec | undefined {
  return (VARIANTS as readonly VariantSpec[]).find((v) => v.id === id);
}

// ---------------------------------------------------------------------------------------------
// Deviations: every place where japari's engines knowingly differ from the authors' code
// (reports/findings/deviations.md), and why.

export type DeviationKind = 'typo fixed' | 'bug not modelled' | 'missing file' | 'unmodelled path' | 'modelling choice' | 'reconstruction';

export interface DeviationSpec {
  readonly id: string;
  /** The engine kinds it concerns. */
  readonly engines: readonly string[];
  readonly kind: DeviationKind;
  readonly code: readonly CodeRef[];
  /** What the authors' code does. */
  readonly published: string;
  /** What japari does instead. */
  readonly japari: string;
  readonly why: string;
  /** Findings whose status or reach it bears on. */
  readonly findings?: readonly string[];
}

const REFERENCE_ENGINES = ['continuous', 'hawaii', 'japari'] as const;

export const DEVIATIONS = [
  {
    id: 'lc-kc-reset',
    engines: ['japari-loopcount'],
    kind: 'bug not modelled',
    code: [REF.lcKcNotReset, REF.lcEarlierConv],
    published: 'itr.kc is never reset, so only the first tile runs, and only its kr = 0 row (loop_cnt <= KC + 1)',
    japari: 'runs every (kr, kc) of every tile',
    why: 'the evident design (algorithms.md, the earlier version 0ed4d8d); modelling the bug would leave nothing of the layer to check. Findings that need loop counts above KC + 1 are therefore of status intent.',
    findings: ['loopcount-torn-footprint-256', 'loopcount-dummy-weight-wrap'],
  },
  {
    id: 'lc-rows-clip',
    engines: ['japari-loopcount'],
    kind: 'typo fixed',
    code: [REF.lcRowsTypo],
    published: 'tc, tm and tn are clipped against ROWS',
    japari: 'clips each tile size against its own bound (COLS, MCH, NCH)',
    why: 'a copy-paste typo; with square outputs tm and tn are wrong, and larger than the tile (the demo layer 13x13x64: at m = 8, 8 + Tm > ROWS = 13 gives tm = 64 - 8 = 56 instead of 8)',
  },
  {
    id: 'lc-reconstructed-scan',
    engines: ['japari-loopcount'],
    kind: 'reconstruction',
    code: [REF.lcRetrieveOp1, REF.lcResumeLea],
    published: "op 1's resume point from the source copy's first footprints from LL_MARKER = 0, a return after one channel group, and the partial products taken from LEA RAM",
    japari: 'by default scans every footprint of the destination copy from the preceding running sum and reloads the partial products from PB; the published scan is the variant loopcount-published-scan',
    why: 'the published scan loses the partial products at every reboot (finding loopcount-retrieve-lost-lea), which would hide every other property of the design; the reconstruction is labelled as such and its own finding (loopcount-saturated-running-sums) has status reconstruction',
    findings: ['loopcount-retrieve-lost-lea', 'loopcount-saturated-running-sums'],
  },
  {
    id: 'lc-op0-bytes',
    engines: ['japari-loopcount'],
    kind: 'bug not modelled',
    code: [REF.lcOp0Bytes],
    published: 'the op-0 recovery reads tm + NFPs bytes per PB pixel into LEA RAM (half the words) and compares a pixel\'s first and last footprint',
    japari: 'reloads whole pixels (words) and compares each pixel\'s last footprint with pb_1',
    why: 'not modelled yet; a lead of issue 15 (wrong output after a failure in op 0), listed with the leads',
  },
  {
    id: 'lc-pb-offset',
    engines: ['japari-loopcount'],
    kind: 'bug not modelled',
    code: [REF.lcPbOffset],
    published: "op 0 addresses PB pixel k at PB + k * words (bytes not scaled by sizeof(_q15)), so pixels' products overlap",
    japari: 'addresses PB pixel k at PB + 2 * k * words',
    why: 'not modelled yet; a lead of issue 15',
  },
  {
    id: 'lc-sign-persistent',
    engines: ['japari-loopcount'],
    kind: 'bug not modelled',
    code: [REF.lcSigVolatile],
    published: 'SIGN lives in SIG[], which is not persistent: a reboot restores SIGN = 0 while the layer index survives',
    japari: 'SIGN is persistent, committed with layer_idx + 1 in one record write',
    why: 'the demo main.c is a one-layer harness; a persistent SIGN is the design of the paper. The volatile SIG[] is a lead of issue 15 (a reboot in an inference under SIGN 1 reads the previous inference\'s footprints as progress)',
  },
  {
    id: 'lc-non-lea-layers',
    engines: ['japari-loopcount'],
    kind: 'missing file',
    code: [REF.lcNoNonlinear],
    published: 'no ReLU or pooling code (nonlinear.c never existed; main.c runs one conv layer)',
    japari: 'ReLU, max pooling, global average pooling, concat and add without footprints, recomputed from their start after a reboot',
    why: 'a whole network needs them; the choice is japari\'s, so findings about them are reconstructions',
    findings: ['loopcount-non-lea-livelock'],
  },
  {
    id: 'lc-bias',
    engines: ['japari-loopcount'],
    kind: 'modelling choice',
    code: [{ ...JCONV, anchor: 'JAP_CONV / JAP_FC: PARA.BIAS unused', what: 'no bias is applied' }],
    published: 'applies no bias',
    japari: 'adds the bias through an extra -1.0 input in the first iteration of each tile times a -bias row of B',
    why: 'the evaluated models have biases; the bit-exact reference needs them',
  },
  {
    id: 'lc-weights-rom',
    engines: ['japari-loopcount'],
    kind: 'modelling choice',
    code: [{ ...JCONV, lines: '262-323', anchor: '__JAP_FETCH_WEIGHT', what: 'one SPI read per weight row from external FRAM, columns shuffled by the CPU' }],
    published: 'reads each weight row from external FRAM and interleaves the footprint columns on the CPU',
    japari: 'pre-arranged B blocks in program FRAM, one DMA per block, as the reference engine',
    why: 'costs only; no progress indicator depends on it',
  },
  {
    id: 'lc-stride-padding',
    engines: ['japari-loopcount'],
    kind: 'modelling choice',
    code: [{ ...JCONV, lines: '218-259', anchor: '__JAP_FETCH_INPUT_CONV', what: 'no stride, no padding' }],
    published: 'the input fetch has neither stride nor padding',
    japari: 'supports both',
    why: 'the evaluated models need them',
  },
  {
    id: 'lc-lea-before-spi',
    engines: ['japari-loopcount'],
    kind: 'modelling choice',
    code: [{ ...JCONV, lines: '130-215', anchor: '__JAP_matrix_mpy_q15 / __JAP_ADD', what: "start the SPI write of the LEA's destination right after launching the command" }],
    published: 'relies on the LEA finishing before the SPI write reads its destination',
    japari: 'each LEA command completes before the SPI write of its result starts',
    why: 'the race is timing-dependent and the LEA is much faster than the SPI; modelled as ordered',
  },
  {
    id: 'lc-fc-copies',
    engines: ['japari-loopcount'],
    kind: 'bug not modelled',
    code: [{ repo: JREPO, commit: 'fc4af70', path: 'libJAPARI/src/fc.c', anchor: 'JAP_FC: for(;itr.m < ts.tm;itr.m++){ for(;itr.n < ts.tn;itr.n++) ...', what: 'reads the source from copy 0 instead of copy flip ^ 1; m and n loops in steps of 1 up to the tile sizes' }],
    published: "JAP_FC's op 1 reads copy 0, its m and n loops run itr.m < ts.tm and itr.n < ts.tn in steps of 1, and its op 0 passes the uninitialised srcA and srcB to __JAP_matrix_mpy_q15",
    japari: 'runs the m tiles and the ping-pong as for conv',
    why: 'not modelled; would compute a different function than the network',
  },
  {
    id: 'fc-input-tiling',
    engines: REFERENCE_ENGINES,
    kind: 'modelling choice',
    code: [REF.transformGemmTile],
    published: "transform.py's Gemm tile rule (mnist's last FC: one slice of 256 input rows)",
    japari: 'gemmInputTile: the largest tile that fits the LEA buffer (mnist: 205 + 51 rows)',
    why: 'written from algorithms.md before the build profiles; to follow each build\'s rule once the profiles of issue 12 land. Until then the finding that depends on it is an artefact under review',
    findings: ['japari-gemm-slice-job-map'],
  },
  {
    id: 'one-build',
    engines: REFERENCE_ENGINES,
    kind: 'unmodelled path',
    code: [REF.hawaiiRemainder, REF.hawaiiRecordAll, REF.gemmTileAssert],
    published: 'two measured builds (672ed9a, 37708ef) and later code differ: HAWAII footprint recording, the FC tile assert, op_filters, the LEA/DMA pipeline',
    japari: "one behaviour per engine: HAWAII records with 672ed9a/HEAD's static remainder (37708ef's recording is the variant hawaii-record-every-value), FC calls narrower than B are accepted as at HEAD",
    why: 'per-build profiles are issue 12 (branch firmware); until they land each finding names the builds that have its behaviour',
    findings: ['hawaii-remainder-crosses-layers', 'hawaii-2021-08-partial-increments', 'japari-fc-without-footprints'],
  },
  {
    id: 'any-batch',
    engines: REFERENCE_ENGINES,
    kind: 'modelling choice',
    code: [REF.gemmTileAssert],
    published: 'BATCH_SIZE is fixed at compile time, and not every B compiles or passes the asserts (B = 3 does not compile; B above the FC call width fails the 2021 assert)',
    japari: 'accepts any B >= 1',
    why: 'exploring B is the point of the tool; each finding says whether the authors\' code accepts its B',
    findings: ['hawaii-remainder-crosses-layers', 'japari-fc-without-footprints'],
  },
  {
    id: 'stateful-half-scale',
    engines: ['stateful'],
    kind: 'modelling choice',
    code: [REF.statefulBound],
    published: 'scales chosen at run time by find_max_multiplier on the first sample, under a bound of 8140 for STATEFUL',
    japari: 'half scale as one more exponent bit on every stored tensor but the input (the calibrated exponents plus one; weights re-folded by the quantizer: stateful/half.ts)',
    why: "algorithms.md states the half scale, not how scales are chosen; one more exponent bit is exactly 'v/2' and keeps one bit-exact reference per deployment",
    findings: ['stateful-offset-overflow'],
  },
  {
    id: 'stateful-seek-end',
    engines: ['stateful'],
    kind: 'reconstruction',
    code: [REF.statefulRecoveryEnd],
    published: 'run_recovery searches end_job_index = params_len / 2 jobs under STATEFUL (one per value), and job_index_to_offset maps jobs beyond the output to offset = job index',
    japari: "by default the same binary search over the output's jobs of B values (output length / B), as algorithms.md says Stateful shares JAPARI's seeker; the published end is the variant stateful-published-seek-end. The conv input is cleared by the same state clearer as every other kernel's, and FC state columns take psb at their own offset",
    why: 'with B > 1 the published end probes words past the output (finding stateful-seek-past-output); the default is the evident design (one job per group of B values), the code is the variant',
    findings: ['stateful-seek-past-output'],
  },
] as const satisfies readonly DeviationSpec[];

export type DeviationId = (typeof DEVIATIONS)[number]['id'];

// ---------------------------------------------------------------------------------------------
// Leads (issue 15): each is a finding with provenance, or a written reason why it is not one.

export interface LeadSpec {
  readonly id: string;
  readonly title: string;
  readonly verdict: 'finding, replayed' | 'finding, not replayed' | 'not a finding' | 'not checked';
  readonly code: readonly CodeRef[];
  readonly builds: readonly BuildId[];
  readonly effects: readonly FindingEffect[];
  readonly reason: string;
}

export const LEADS = [
  {
    id: 'lead-hawaii-2021-08-partial-increments',
    title: 'Aug 2021 HAWAII (the measured MNIST build): partial counter increments, recounted after recovery',
    verdict: 'finding, replayed',
    code: [REF.hawaiiRecordAll],
    builds: ['2021-08'],
    effects: ['wrong output'],
    reason: 'Confirmed: finding hawaii-2021-08-partial-increments (the 37708ef recording is modelled by the variant hawaii-record-every-value; fuzzing finds it on tiny-concat at B = 4, not on mnist at B = 2, 4).',
  },
  {
    id: 'lead-japari-sign-volatile',
    title: 'JAPARI repository main.c: SIGN lives in a volatile array, the layer index persists',
    verdict: 'finding, not replayed',
    code: [REF.lcSigVolatile, REF.lcFirstPb],
    builds: ['japari-repo'],
    effects: ['wrong output', 'lost or repeated work'],
    reason:
      "After a reboot SIGN reverts to 0. In an inference that runs under SIGN 1, a reboot before the layer's first PB write leaves the previous inference's positive footprints in PB: __JAP_PG_RETRIEVE accepts them under SIGN 0 as progress of this inference and resumes near the end (wrong output); after the first PB write it starts the layer afresh (lost work). japari keeps SIGN persistent (deviation lc-sign-persistent), so this is not replayed.",
  },
  {
    id: 'lead-japari-retrieve-units',
    title: 'JAPARI repository retrieve: bytes where words are meant, resume address not scaled',
    verdict: 'finding, not replayed',
    code: [REF.lcOp0Bytes, REF.lcPbOffset],
    builds: ['japari-repo'],
    effects: ['wrong output'],
    reason:
      'The op-0 recovery reads tm + NFPs bytes per PB pixel into LEA RAM, so the second half of each reloaded pixel is garbage, and op 0 writes PB pixel k at an offset not scaled by sizeof(_q15), so the pixels it reloads are not the ones written. A failure in op 0 then accumulates garbage. Not modelled (deviations lc-op0-bytes, lc-pb-offset).',
  },
  {
    id: 'lead-hawaii-later-conv-job-map',
    title: 'Later HAWAII conv recovery: the job-to-offset map rounds output_tile_c up to a multiple of B',
    verdict: 'finding, not replayed',
    code: [
      { repo: SCNN, commit: 'HEAD', path: 'common/intermittent-cnn.cpp', lines: '49-76', anchor: 'job_index_to_offset (conv): output_tile_c = upper_gauss(output_tile_c, BATCH_SIZE) * BATCH_SIZE; jobs_in_a_filter_tile from it (a stored later version with data_structures.h/double_buffering.h; lines counted there)', what: 'jobs are mapped to offsets as if each filter tile had output_tile_c rounded up to B channels' },
      { repo: SCNN, commit: 'HEAD', path: 'common/intermittent-cnn.cpp', lines: '17-21', anchor: 'run_recovery (HAWAII): NUM_COMPLETED_JOBS / BATCH_SIZE', what: 'the job index comes from the count of values actually written' },
    ],
    builds: ['later'],
    effects: ['wrong output', 'lost or repeated work'],
    reason:
      "Confirmed in the code: HAWAII outputs are not padded, so a filter tile holds output_tile_c channels, but the map divides the job index by H * W * roundup(output_tile_c, B) / B jobs per filter tile and steps channels by the rounded width. With several filter tiles and output_tile_c % B != 0 (e.g. 12 channels in tiles of 6 at B = 4), the job the counter names after the first filter tile maps inside it, or to the wrong channels: work is redone or skipped. Not replayed: japari's reference plan does not use the later build's conv tiling, and whether an evaluated model at B = 2 or 4 gets an output tile that is not a multiple of B under it is part of the later-code build profile (issue 12).",
  },
  {
    id: 'lead-stateful-offset-state',
    title: 'Stateful: the offset-encoded state under torn writes and at turning points inside a call',
    verdict: 'not checked',
    code: [{ repo: SCNN, commit: 'HEAD', path: 'common/gemm.cpp', anchor: 'handle_gemm under STATEFUL: update_states(filter_ptr, tile_width, ...)', what: 'the state offset of each call' }],
    builds: ['2021-02', '2021-08', 'later'],
    effects: ['wrong output'],
    reason: 'Not checked here: the Stateful engine arrived on main during this round as work in progress (branch stateful, another helper); the torn-write and turning-point checks belong with it, as the Gemm call-sign finding did for JAPARI.',
  },
] as const satisfies readonly LeadSpec[];

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
    const v = variantSpec(id);
    if (v) {
      if (v.engine !== engine) throw new UsageError(`variant ${id} belongs to the ${v.engine} engine, not ${engine}`);
      continue;
    }
    const f = faultSpec(id);
    if (!f) throw new UsageError(`unknown fault ${JSON.stringify(id)} (known: ${FAULT_IDS.join(', ')}; variants: ${VARIANT_IDS.join(', ')})`);
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
