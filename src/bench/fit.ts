/**
 * `japari calibrate`: fit the build profiles' free constants (firmware.ts FREE_CONSTANTS) on
 * ../shared/reference/calibration.md and nothing else.
 *
 * Every calibration row is run once on the executable model with all free constants at zero.
 * The model is linear in them: each constant is a number of CPU cycles charged per counted
 * event (Device.counts: SPI transactions, program-FRAM copies, footprint-loop iterations,
 * footprint-record calls), never overlapped with the LEA. So a row's latency is
 *   T(c) = T0 + sum_i c_i * n_i / f_clk
 * and the fit is a non-negative least-squares problem on relative error (each row weighs the
 * same), solved exactly by enumerating the active sets (4 unknowns: 16 subsets). Deterministic.
 *
 * The constants are shared by both builds: they stand for the same driver code (extfram.c, the
 * parameter memcpy, hawaii_record_footprints), and the earlier build has one calibration row,
 * too few to fit anything of its own (calibration.md: "A constant that only one calibration row
 * determines is a warning sign"). The builds differ in structure (firmware.ts), not in these.
 *
 * After fitting, every row is rerun with the fitted constants; the rerun must reproduce the
 * linear prediction (a check that the model really is linear in them).
 */
import { readFileSync } from 'node:fs';
import { loadModel } from '../model/models.js';
import { Deployment, runInference } from '../engines/runner.js';
import type { Ablation, EngineKind } from '../engines/reference/plan.js';
import { FREE_CONSTANTS, type FittedConstants, type FirmwareId, FIRMWARE_IDS } from '../engines/reference/firmware.js';
import { msp430fr5994 } from '../device/profile.js';
import { InputError, JapariError } from '../util/errors.js';
import { sharedPath, sharedAvailable } from '../util/shared.js';

/** One row of calibration.md, and the japari configuration it names. */
export interface CalibrationRow {
  readonly build: FirmwareId;
  readonly modelText: string;
  readonly configuration: string;
  readonly seconds: number;
  readonly model: string;
  readonly engine: EngineKind;
  readonly batch: number;
  readonly ablate: Ablation | null;
}

const MODELS: { readonly [text: string]: string } = { 'mnist-8 (LeNet)': 'mnist', 'KWS-DNN_S': 'kws', 'SqueezeNet (CIFAR-10)': 'cifar10' };

/** What a calibration.md configuration text means in japari's terms. */
export function configurationOf(text: string): { engine: EngineKind; batch: number; ablate: Ablation | null } {
  const t = text.trim();
  if (t === 'Baseline') return { engine: 'continuous', batch: 1, ablate: null };
  if (t === 'Baseline without output preservation') return { engine: 'continuous', batch: 1, ablate: 'output-preservation' };
  let m = /^HAWAII without footprint preservation, B=(\d+)$/.exec(t);
  if (m) return { engine: 'hawaii', batch: Number(m[1]), ablate: 'indicator-preservation' };
  m = /^JAPARI without output preservation, B=(\d+)$/.exec(t);
  if (m) return { engine: 'japari', batch: Number(m[1]), ablate: 'output-preservation' };
  m = /^(HAWAII|JAPARI), B=(\d+)$/.exec(t);
  if (m) return { engine: m[1]!.toLowerCase(), batch: Number(m[2]), ablate: null };
  throw new InputError(`calibration.md: configuration ${JSON.stringify(text)} names no japari configuration`);
}

/** The rows of calibration.md's table (the file's only table with a "seconds" column). */
export function parseCalibration(markdown: string): CalibrationRow[] {
  const rows: CalibrationRow[] = [];
  for (const line of markdown.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 6 || !/^stateful-cnn-/.test(cells[1]!)) continue;
    const [, build, modelText, configuration, seconds] = cells as [string, string, string, string, string];
    if (!(FIRMWARE_IDS as readonly string[]).includes(build)) throw new InputError(`calibration.md: unknown build ${JSON.stringify(build)}`);
    const model = MODELS[modelText];
    if (!model) throw new InputError(`calibration.md: unknown model ${JSON.stringify(modelText)}`);
    const s = Number(seconds);
    if (!(s > 0)) throw new InputError(`calibration.md: bad seconds ${JSON.stringify(seconds)}`);
    rows.push({ build: build as FirmwareId, modelText, configuration, seconds: s, model, ...configurationOf(configuration) });
  }
  if (rows.length === 0) throw new InputError('calibration.md: no calibration rows found');
  return rows;
}

export function calibrationRows(): CalibrationRow[] {
  if (!sharedAvailable('reference', 'calibration.md')) throw new InputError('calibration needs ../shared/reference/calibration.md (set JAPARI_SHARED)');
  return parseCalibration(readFileSync(sharedPath('reference', 'calibration.md'), 'utf8'));
}

/** A row run under a build with the given constants: latency and the counted events. */
export function runRow(r: { build: FirmwareId; model: string; engine: EngineKind; batch: number; ablate: Ablation | null }, c: FittedConstants): { latencyS: number; counts: number[] } {
  const m = loadModel(r.model);
  const d = new Deployment(m.q, { engine: r.engine, batch: r.batch, placement: 'spi-fram', profile: msp430fr5994, firmware: r.build, firmwareConstants: c, ablate: r.ablate });
  const res = runInference(d, { input: m.inputQ(0), supply: { kind: 'continuous' }, seed: 0 });
  if (!res.completed || !res.equal) throw new JapariError(`calibration run ${r.model}/${r.engine}/B=${r.batch} did not reproduce the reference`);
  return { latencyS: res.latencyS, counts: Array.from(res.device.counts) };
}

const ZERO: FittedConstants = { spiCallCycles: 0, paramCallCycles: 0, footprintLoopCycles: 0, footprintCallCycles: 0 };

/** Solve the normal equations of A x = b over the columns in `cols` (Gaussian elimination). */
function leastSquares(A: number[][], b: number[], cols: number[]): number[] | null {
  const k = cols.length;
  const M = Array.from({ length: k }, (_, i) => Array.from({ length: k + 1 }, (_, j) => {
    let s = 0;
    for (let r = 0; r < A.length; r++) s += A[r]![cols[i]!]! * (j < k ? A[r]![cols[j]!]! : b[r]!);
    return s;
  }));
  for (let i = 0; i < k; i++) {
    let p = i;
    for (let r = i + 1; r < k; r++) if (Math.abs(M[r]![i]!) > Math.abs(M[p]![i]!)) p = r;
    if (Math.abs(M[p]![i]!) < 1e-12) return null;
    [M[i], M[p]] = [M[p]!, M[i]!];
    for (let r = 0; r < k; r++) {
      if (r === i) continue;
      const f = M[r]![i]! / M[i]![i]!;
      for (let j = i; j <= k; j++) M[r]![j]! -= f * M[i]![j]!;
    }
  }
  return M.map((row, i) => row[k]! / row[i]!);
}

/** Non-negative least squares by enumerating active sets (few unknowns). */
export function nnls(A: number[][], b: number[]): number[] {
  const n = A[0]!.length;
  let best: number[] = new Array<number>(n).fill(0);
  let bestErr = b.reduce((s, v) => s + v * v, 0);
  for (let mask = 1; mask < 1 << n; mask++) {
    const cols = [...Array(n).keys()].filter((i) => mask & (1 << i));
    const x = leastSquares(A, b, cols);
    if (!x || x.some((v) => v < 0)) continue;
    const full = new Array<number>(n).fill(0);
    cols.forEach((c, i) => (full[c] = x[i]!));
    const err = A.reduce((s, row, r) => s + (row.reduce((t, a, j) => t + a * full[j]!, 0) - b[r]!) ** 2, 0);
    if (err < bestErr - 1e-15) {
      bestErr = err;
      best = full;
    }
  }
  return best;
}

export interface FitResult {
  readonly constants: FittedConstants;
  readonly rows: readonly { readonly build: FirmwareId; readonly row: string; readonly measured_s: number; readonly predicted_s: number; readonly residual: number; readonly unfitted_s: number }[];
}

/** Fit the free constants on the calibration rows (shared by both builds; see the header). */
export function fitConstants(rows: readonly CalibrationRow[], log: (s: string) => void = () => undefined): FitResult {
  const hz = msp430fr5994.clockHz;
  const base = rows.map((r) => {
    const z = runRow(r, ZERO);
    log(`  ${r.build} ${r.model} ${r.configuration}: ${z.latencyS.toFixed(4)} s before the free constants; counts ${z.counts.join(', ')}`);
    return z;
  });
  // Relative least squares: row r scaled by 1 / measured.
  const A = base.map((z, i) => z.counts.map((n) => n / hz / rows[i]!.seconds));
  const b = base.map((z, i) => (rows[i]!.seconds - z.latencyS) / rows[i]!.seconds);
  const x = nnls(A, b).map((v) => Math.round(v * 10) / 10);
  const constants = Object.fromEntries(FREE_CONSTANTS.map((k, i) => [k, x[i]!])) as unknown as FittedConstants;
  const out = rows.map((r, i) => {
    const linear = base[i]!.latencyS + base[i]!.counts.reduce((s, n, j) => s + (n * x[j]!) / hz, 0);
    const rerun = runRow(r, constants);
    if (Math.abs(rerun.latencyS - linear) > 1e-9 * Math.max(1, linear)) {
      throw new JapariError(`calibration: the model is not linear in the free constants (${r.model} ${r.configuration}: ${rerun.latencyS} vs ${linear})`);
    }
    return {
      build: r.build,
      row: `${r.modelText}: ${r.configuration}`,
      measured_s: r.seconds,
      predicted_s: round6(rerun.latencyS),
      residual: round6((rerun.latencyS - r.seconds) / r.seconds),
      unfitted_s: round6(base[i]!.latencyS),
    };
  });
  return { constants, rows: out };
}

function round6(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}

/** The generated source of firmware-fit.ts. */
export function fitSource(f: FitResult): string {
  const c = f.constants;
  const lines = [
    '/**',
    ' * GENERATED by `japari calibrate` (src/bench/fit.ts): the build profiles\' free constants, fitted',
    ' * on ../shared/reference/calibration.md only. Do not edit by hand; rerun `japari calibrate`.',
    ' * Both builds share the constants (fit.ts explains why).',
    ' */',
    'export const FITTED: {',
    '  readonly [build: string]: { readonly spiCallCycles: number; readonly paramCallCycles: number; readonly footprintLoopCycles: number; readonly footprintCallCycles: number };',
    '} = {',
  ];
  for (const b of ['stateful-cnn-2021-02', 'stateful-cnn-2021-08']) {
    lines.push(`  '${b}': { spiCallCycles: ${c.spiCallCycles}, paramCallCycles: ${c.paramCallCycles}, footprintLoopCycles: ${c.footprintLoopCycles}, footprintCallCycles: ${c.footprintCallCycles} },`);
  }
  lines.push('};', '', '/** Every calibration row with the fitted model\'s prediction and residual. */');
  lines.push('export const RESIDUALS: readonly { readonly build: string; readonly row: string; readonly measured_s: number; readonly predicted_s: number; readonly residual: number }[] = [');
  for (const r of f.rows) lines.push(`  { build: '${r.build}', row: ${JSON.stringify(r.row)}, measured_s: ${r.measured_s}, predicted_s: ${r.predicted_s}, residual: ${r.residual} },`);
  lines.push('];', '');
  return lines.join('\n');
}
