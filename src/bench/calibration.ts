/**
 * Calibration: device.md's measured microbenchmarks, transcribed here as literal numbers
 * (independently of src/device/profile.ts), and what the executable device model predicts for
 * the same tiny programs, run as real Device events (DMA reads and writes of n words, an LEA
 * MAC over n elements, CPU operations, a reboot). The test (test/bench/calibration.test.ts)
 * and the report's calibration table compare the two.
 *
 * A per-element cost and a fixed cost are recovered from the model by running each program at
 * two sizes (n1, n2): per = (cost(n2) - cost(n1)) / (n2 - n1), fixed = cost(n1) - per * n1.
 */
import { Device, Cat, LEA_RAM_BASE } from '../device/device.js';
import type { DeviceProfile } from '../device/profile.js';

export type ProfileId = 'inas2021' | 'tinas2024';

/** One row of device.md's tables; null where device.md gives no number. */
export interface Microbenchmark {
  readonly id: 'dma-read' | 'dma-write' | 'lea-mac' | 'cpu-add' | 'cpu-mul' | 'cpu-div' | 'cpu-max' | 'reboot' | 'copy-sram-sram';
  readonly operation: string;
  readonly fixedCycles: number | null;
  readonly cyclesPerElement: number | null;
  readonly fixedNj: number | null;
  readonly njPerElement: number | null;
  /** Reboot only: seconds. */
  readonly seconds?: number;
  readonly source: string;
}

const T = 'device.md "Measured microbenchmarks at 16 MHz"';
const T24 = 'device.md "2024 re-profile"';

/** device.md, iNAS (2021) table. */
export const INAS_2021: readonly Microbenchmark[] = [
  { id: 'dma-read', operation: 'DMA external FRAM -> SRAM (read)', fixedCycles: 424, cyclesPerElement: 64, fixedNj: 200, njPerElement: 27.0, source: T },
  { id: 'dma-write', operation: 'DMA SRAM -> external FRAM (write)', fixedCycles: 422, cyclesPerElement: 64, fixedNj: 193, njPerElement: 26.8, source: T },
  { id: 'lea-mac', operation: 'LEA vector MAC', fixedCycles: 616, cyclesPerElement: 1.5, fixedNj: 204, njPerElement: 0.527, source: T },
  { id: 'cpu-add', operation: 'CPU add / sub', fixedCycles: 12, cyclesPerElement: null, fixedNj: 3.94, njPerElement: null, source: T },
  { id: 'cpu-mul', operation: 'CPU multiply', fixedCycles: 44, cyclesPerElement: null, fixedNj: 19.3, njPerElement: null, source: T },
  { id: 'cpu-div', operation: 'CPU divide / modulo', fixedCycles: 160, cyclesPerElement: null, fixedNj: 43.7, njPerElement: null, source: T },
  { id: 'cpu-max', operation: 'CPU max (compare)', fixedCycles: 14, cyclesPerElement: null, fixedNj: 4.23, njPerElement: null, source: T },
  { id: 'reboot', operation: 'reboot (power-on to main)', fixedCycles: 0.07 * 16e6, cyclesPerElement: null, fixedNj: 77_880, njPerElement: null, seconds: 0.07, source: T },
  { id: 'copy-sram-sram', operation: 'CPU word copy SRAM -> SRAM', fixedCycles: null, cyclesPerElement: null, fixedNj: 3.89, njPerElement: null, source: T24 },
];

/** device.md, TiNAS (2024) re-profile: DMA and LEA re-measured, reboot 55 ms; CPU rows unchanged. */
export const TINAS_2024: readonly Microbenchmark[] = INAS_2021.map((b): Microbenchmark => {
  switch (b.id) {
    case 'dma-read':
      return { ...b, fixedCycles: 430, njPerElement: 24.1, fixedNj: null, source: T24 };
    case 'dma-write':
      return { ...b, fixedCycles: 421, njPerElement: 23.9, fixedNj: null, source: T24 };
    case 'lea-mac':
      return { ...b, fixedCycles: 622, cyclesPerElement: 1.5, fixedNj: 206, njPerElement: 0.503, source: T24 };
    case 'reboot':
      return { ...b, fixedCycles: 0.055 * 16e6, seconds: 0.055, source: `${T24} (energy: the table's 77.88 uJ)` };
    default:
      return b;
  }
});

export const MICROBENCHMARKS: Readonly<Record<ProfileId, readonly Microbenchmark[]>> = { inas2021: INAS_2021, tinas2024: TINAS_2024 };

/** What the model charges for one microbenchmark program. */
export interface Predicted {
  readonly id: Microbenchmark['id'];
  readonly fixedCycles: number;
  readonly cyclesPerElement: number;
  readonly fixedNj: number;
  readonly njPerElement: number;
  readonly seconds: number;
}

function freshDevice(profile: DeviceProfile): Device {
  return new Device({ profile, placement: 'spi-fram', supply: { kind: 'continuous' }, seed: 1, rom: new Int16Array(4096), garbage: { kind: 'constant', value: 0 } });
}

/** Cycles and nanojoules the device charges for `program` run on a fresh device. */
export function measure(profile: DeviceProfile, program: (dev: Device) => void): { cycles: number; nj: number; seconds: number } {
  const dev = freshDevice(profile);
  program(dev);
  return { cycles: dev.cycles, nj: dev.nj, seconds: dev.seconds };
}

/** The tiny program of a microbenchmark at size n (elements; ignored by per-call operations). */
export function program(id: Microbenchmark['id'], n: number): (dev: Device) => void {
  return (dev) => {
    switch (id) {
      case 'dma-read':
        dev.dmaFromNvm(0, 0, n, Cat.fetch, 'calibration read');
        return;
      case 'dma-write':
        for (let i = 0; i < n; i++) dev.store(i, i);
        dev.dmaToNvm(0, 0, n, Cat.preserveOutput, 'calibration write');
        return;
      case 'lea-mac': {
        // A 1 x n by n x 1 matrix multiply: n multiply-accumulates in one LEA command.
        const a = LEA_RAM_BASE;
        const b = a + n;
        for (let i = 0; i < 2 * n; i++) dev.store(a + i, 1);
        dev.leaMatMul(a, n, b, 1, b + n, Cat.compute, 'calibration MAC');
        return;
      }
      case 'cpu-add':
        dev.cpu('add', n, Cat.compute, 'calibration add');
        return;
      case 'cpu-mul':
        dev.cpu('mul', n, Cat.compute, 'calibration mul');
        return;
      case 'cpu-div':
        dev.cpu('div', n, Cat.compute, 'calibration div');
        return;
      case 'cpu-max':
        dev.cpu('max', n, Cat.compute, 'calibration max');
        return;
      case 'copy-sram-sram':
        dev.cpu('copy', n, Cat.compute, 'calibration copy');
        return;
      case 'reboot':
        for (let i = 0; i < n; i++) dev.reboot();
        return;
    }
  };
}

/** Operations charged per call (n calls) rather than per element of one call. */
const PER_CALL: ReadonlySet<Microbenchmark['id']> = new Set(['cpu-add', 'cpu-mul', 'cpu-div', 'cpu-max', 'copy-sram-sram', 'reboot']);

/**
 * Fixed and per-element costs the model charges, recovered from runs at two sizes. For per-call
 * operations (CPU ops, reboot) the "fixed" cost is the cost of one call and per-element is 0.
 */
export function predict(profile: DeviceProfile, id: Microbenchmark['id'], n1 = 16, n2 = 256): Predicted {
  if (PER_CALL.has(id)) {
    const one = measure(profile, program(id, 1));
    const many = measure(profile, program(id, 10));
    // Ten calls must cost ten times one call (no hidden per-program overhead).
    const linear = Math.abs(many.cycles - 10 * one.cycles) < 1e-6 * many.cycles && Math.abs(many.nj - 10 * one.nj) < 1e-6 * many.nj;
    if (!linear) throw new Error(`calibration: ${id} is not linear in the number of calls`);
    return { id, fixedCycles: one.cycles, cyclesPerElement: 0, fixedNj: one.nj, njPerElement: 0, seconds: one.seconds };
  }
  const a = measure(profile, program(id, n1));
  const b = measure(profile, program(id, n2));
  const cyclesPerElement = (b.cycles - a.cycles) / (n2 - n1);
  const njPerElement = (b.nj - a.nj) / (n2 - n1);
  return {
    id,
    fixedCycles: a.cycles - cyclesPerElement * n1,
    cyclesPerElement,
    fixedNj: a.nj - njPerElement * n1,
    njPerElement,
    seconds: a.seconds,
  };
}

export interface CalibrationRow {
  readonly profile: ProfileId;
  readonly id: Microbenchmark['id'];
  readonly operation: string;
  readonly measured: Microbenchmark;
  readonly model: Predicted;
  /** Largest relative deviation over the numbers device.md gives (0: exact). */
  readonly max_rel_error: number;
}

function rel(model: number, measured: number | null): number {
  if (measured === null) return 0;
  return measured === 0 ? Math.abs(model) : Math.abs(model - measured) / Math.abs(measured);
}

/** The calibration table for one profile: every device.md microbenchmark against the model. */
export function calibrate(profileId: ProfileId, profile: DeviceProfile): CalibrationRow[] {
  return MICROBENCHMARKS[profileId].map((m) => {
    const p = predict(profile, m.id);
    const errs = [rel(p.fixedCycles, m.fixedCycles), rel(p.cyclesPerElement, m.cyclesPerElement), rel(p.fixedNj, m.fixedNj), rel(p.njPerElement, m.njPerElement)];
    if (m.seconds !== undefined) errs.push(rel(p.seconds, m.seconds));
    return { profile: profileId, id: m.id, operation: m.operation, measured: m, model: p, max_rel_error: Math.max(...errs) };
  });
}
