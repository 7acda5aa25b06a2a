/**
 * Seeded faults and corrections: small, named deviations from the published engines, switched
 * on by configuration (never by editing code).
 *
 *  - A fault stands for a realistic mistake an engineer could make in an intermittent engine;
 *    japari must catch each one (the kill matrix, `japari mutants`).
 *  - A fix corrects a weakness japari found in a published design; the faithful engine stays the
 *    default, the corrected variant runs with the fix switched on (reports/findings/).
 *
 * Engines consult `faults.has(id)` / `fixes.has(id)` at the one place each one changes.
 */
import type { EngineKind } from './reference/plan.js';

export type FaultSet = ReadonlySet<string>;

export interface FaultSpec {
  readonly id: string;
  readonly engine: EngineKind;
  /** What the pipeline area is (indicator, seeker, write order, commit, ...). */
  readonly area: string;
  /** The real-world mistake it stands for, in one line. */
  readonly description: string;
}

export const FAULTS: readonly FaultSpec[] = [
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
];

export const FAULT_IDS: readonly string[] = FAULTS.map((f) => f.id);

export interface FixSpec {
  readonly id: string;
  readonly engine: EngineKind;
  readonly finding: string;
  readonly description: string;
}

export const FIXES: readonly FixSpec[] = [
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
];

export const FIX_IDS: readonly string[] = FIXES.map((f) => f.id);

export function fixesFor(engine: EngineKind): string[] {
  return FIXES.filter((f) => f.engine === engine).map((f) => f.id);
}
