/**
 * The executable MSP430FR5994 + LEA + FRAM: state, one method per device event.
 *
 * What is modelled
 *  - State (one line each):
 *      rom      read-only program FRAM words (weights, constants), never changes
 *      nvm      writable NVM (external SPI FRAM bytes, or internal FRAM words): PagedMemory, O(1) snapshot
 *      sram     8 KB volatile SRAM as 4096 Q15 words; words [2048, 4096) are the LEA RAM
 *      defined  per SRAM word: written since the last boot and not released (else: garbage)
 *      action   global index of the next atomic action, counted across reboots
 *      energy   capacitor energy (energy-driven supplies only)
 *      costs    cycles and nanojoules per category and layer; modelled time
 *  - Events (the only transitions): DMA reads from ROM/NVM, DMA writes to NVM (a sequence of
 *    atomic write units: bytes on SPI FRAM, words on internal FRAM), LEA commands, an LEA
 *    command overlapped with a DMA write, CPU work, reboot. Each event is admitted action by
 *    action: a power failure may fall before any action, and a write event lands a prefix of
 *    its units (a torn write).
 *  - After a power failure SRAM holds seeded garbage, never zeros, and every word is undefined.
 *    Reading an undefined word is legal (it returns the garbage) but is recorded: a correct
 *    engine never does it, and exploration's pruning relies on it (see src/properties/explore.ts).
 *
 * What is abstracted
 *  - The CPU's instruction stream: engines are TypeScript; CPU work is charged per operation
 *    from the cost table (profile.ts), values are computed directly on SRAM words.
 *  - Within one event the harvested power is taken at the event's start (events last micro- to
 *    milliseconds; trace samples are 20 ms).
 *
 * Determinism: a run is a function of (profile, program, seed, supply). No clocks, no Math.random.
 */
import { type DeviceProfile, type NvmPlacement, type Cost, NJ_PER_CPU_CYCLE } from './profile.js';
import { PagedMemory } from './paged.js';
import { type LeaArithmetic, TI_REFERENCE_ARITHMETIC, matMulRowQ15, sat16, wrap16 } from './lea.js';
import {
  type Capacitor,
  type EnergyLedger,
  type Harvester,
  energyAt,
  harvestPower,
  rechargeSeconds,
  ceilingVolts,
  voltageAt,
  validateCapacitor,
} from './energy.js';
import { mixSeed } from '../util/rng.js';
import { ConfigError, JapariError } from '../util/errors.js';

// ---------------------------------------------------------------------------------------------
// Cost categories

export const CATEGORIES = [
  'compute',
  'fetch',
  'preserve-output',
  'preserve-indicator',
  'seek',
  'commit',
  'reexec',
  'reboot',
  'recharge',
] as const;
export type Category = (typeof CATEGORIES)[number];
/** Numeric category ids for hot paths. */
export const Cat = {
  compute: 0,
  fetch: 1,
  preserveOutput: 2,
  preserveIndicator: 3,
  seek: 4,
  commit: 5,
  reexec: 6,
  reboot: 7,
  recharge: 8,
} as const;
export type CatId = (typeof Cat)[keyof typeof Cat];
const N_CAT = CATEGORIES.length;
/** Categories that turn into 'reexec' while the engine redoes work it had done before a failure. */
const REEXEC_ELIGIBLE = [true, true, true, true, false, false, false, false, false];

export const MAX_LAYERS = 512;

// ---------------------------------------------------------------------------------------------
// Power supply

export type PowerSupply =
  | { readonly kind: 'continuous' }
  /** Power fails right before each listed action index (counted across reboots), ascending. */
  | { readonly kind: 'schedule'; readonly failAt: readonly number[] }
  | { readonly kind: 'energy'; readonly capacitor: Capacitor; readonly harvester: Harvester };

/** What SRAM holds after a power failure. Never zeros unless asked (`constant` 0). */
export type GarbagePattern =
  | { readonly kind: 'random' }
  | { readonly kind: 'constant'; readonly value: number }
  /** SRAM keeps its pre-failure contents (a brown-out short enough to retain SRAM). */
  | { readonly kind: 'stale' };

export interface DeviceOptions {
  readonly profile: DeviceProfile;
  readonly placement: NvmPlacement;
  readonly arithmetic?: LeaArithmetic;
  readonly supply: PowerSupply;
  /** Seed of the garbage SRAM holds after each reboot. */
  readonly seed: number;
  readonly garbage?: GarbagePattern;
  /** Read-only program image (weights), in Q15 words. */
  readonly rom: Int16Array;
  /** Initial NVM; a fresh all-zero memory when absent. */
  readonly nvm?: PagedMemory;
  readonly trace?: boolean;
  readonly logWrites?: boolean;
  /**
   * Per NVM byte, which layer-run last wrote it (2 bytes per NVM byte, copy-on-write like the
   * NVM). Properties use it as the ground truth of durable progress. Off when absent.
   */
  readonly ledger?: PagedMemory;
  /** A retired device whose SRAM arrays this one may take over (the donor must not be used again). */
  readonly reuse?: Device;
  /** Continue a run: global action index, boots and failures so far (exploration sub-runs). */
  readonly start?: { readonly action: number; readonly boots: number; readonly failures: number };
}

/** Volatile memory captured at a checkpoint: only defined words matter (see `volatileMatches`). */
export interface VolatilePage {
  readonly mask: Uint8Array;
  readonly values: Int16Array;
}
export type VolatileSnapshot = readonly (VolatilePage | null)[];
export const SRAM_PAGE_WORDS = 128;

/** Thrown by an event when power fails; the runner catches it and reboots. Never escapes a run. */
export class PowerFailure {
  readonly isPowerFailure = true;
}
const POWER_FAILURE = new PowerFailure();

export function isPowerFailure(e: unknown): e is PowerFailure {
  return e === POWER_FAILURE;
}

export interface TraceEvent {
  /** Index of the event's first action. */
  readonly action: number;
  /** Actions the event completed (write units landed for a write). */
  readonly done: number;
  /** Actions the event had. */
  readonly total: number;
  readonly kind: 'dma-rom' | 'dma-read' | 'dma-write' | 'lea' | 'lea+dma-write' | 'cpu' | 'reboot' | 'failure' | 'note';
  readonly label: string;
  readonly category: Category;
  readonly layer: number;
  readonly boot: number;
  readonly cycles: number;
  /** NVM byte range for DMA events. */
  readonly nvm?: readonly [number, number];
  readonly detail?: string;
}

/** An SRAM word read while undefined (garbage). */
export interface UndefinedRead {
  readonly word: number;
  readonly action: number;
  readonly label: string;
}

export const SRAM_WORDS = 4096;
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const EMPTY_U32 = new Uint32Array(0);
const EMPTY_U16 = new Uint16Array(0);
const EMPTY_F64 = new Float64Array(0);
/** Accumulator scratch shared by all devices (JavaScript runs one device step at a time). */
const ACC_SCRATCH = new Float64Array(4096);
/**
 * The random garbage SRAM holds after power-on number `boots` of a device seeded `seed`
 * (splitmix32 over the SRAM's 32-bit words). Device.fillGarbage copies the last pattern drawn
 * when (seed, boots) repeat; this is its slow twin (test/device/garbage.test.ts).
 */
export function drawGarbage(w: Uint32Array, seed: number, boots: number): void {
  let x = mixSeed(seed, boots);
  for (let i = 0; i < w.length; i++) {
    x = (x + 0x9e3779b9) | 0;
    let z = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    w[i] = z ^ (z >>> 16);
  }
}
/** The last garbage pattern drawn (JavaScript runs one device step at a time; per thread). */
const GARBAGE_CACHE = { seed: -1, boots: -1, words: new Uint32Array(SRAM_WORDS / 2) };

/** First word of the LEA RAM window inside SRAM (top 4 KB of the 8 KB SRAM). */
export const LEA_RAM_BASE = 2048;

export class Device {
  readonly profile: DeviceProfile;
  readonly placement: NvmPlacement;
  readonly arith: LeaArithmetic;
  readonly supply: PowerSupply;
  readonly rom: Int16Array;
  nvm: PagedMemory;
  readonly sram: Int16Array;
  readonly sramBytes: Uint8Array;
  private readonly sramWords32: Uint32Array;
  readonly defined: Uint8Array;

  /** Index of the next atomic action (across reboots). */
  action = 0;
  /** Completed boots (power-on included). */
  boots = 0;
  /** Power failures so far. */
  failures = 0;
  /** Modelled active time in CPU cycles (excludes recharge). */
  cycles = 0;
  /** Modelled recharge (off) time in seconds. */
  rechargeS = 0;
  /** Energy drawn from the capacitor/supply, nanojoules. */
  nj = 0;
  readonly catCycles: Float64Array;
  readonly catNj: Float64Array;
  /** Per layer x category; grown on demand (most runs touch few layers). */
  private layerCycles: Float64Array;
  private layerNj: Float64Array;
  nvmBytesWritten = 0;
  /** Current layer for per-layer accounting (set by the engine). */
  layer = 0;
  undefinedReads = 0;
  firstUndefinedRead: UndefinedRead | null = null;

  /** Event trace, when enabled. */
  readonly trace: TraceEvent[] | null;
  /** Landed NVM write units (address, value), when enabled. */
  writeLogAddr: Uint32Array;
  writeLogVal: Uint16Array;
  /** Action index and ledger epoch of each logged write unit. */
  writeLogAction: Float64Array;
  writeLogEpoch: Uint16Array;
  writeLogLen = 0;
  private readonly logWrites: boolean;

  /** Called at each engine checkpoint (exploration uses it to prune); may throw to stop a run. */
  onCheckpoint: ((pos: number, carry: number) => void) | null = null;
  /** Called when an engine's progress seeker concludes: layer, first unfinished job, resume position. */
  onRecovered: ((layer: number, job: number, position: number) => void) | null = null;
  /** Ledger of layer-runs (see DeviceOptions.ledger); `epoch` tags the writes of the current one. */
  ledger: PagedMemory | null;
  epoch = 0;
  /** Completed `newInference` calls (part of the ledger epoch). */
  inferences = 0;
  /** SRAM pages written or released since the last volatile snapshot. */
  readonly sramDirty: Uint8Array;

  private readonly writeUnit: 1 | 2;
  private readonly wCost: Cost;
  private readonly rCost: Cost;
  /**
   * While set, events cost nothing (they still take their actions): work japari's storage model
   * does that the modelled firmware does not (a build's Concat is metadata: no data moves).
   * The engine sets it around such work; a reboot clears it.
   */
  uncharged = false;
  /** Firmware software overhead per SPI transaction and per program-FRAM copy (cycles). */
  private readonly spiOver: number;
  private readonly romOver: number;
  /**
   * Event counts the build profiles' calibration fits against (src/engines/reference/firmware.ts):
   * [SPI transactions, program-FRAM copies, firmware loop iterations, footprint-record calls].
   */
  readonly counts = new Float64Array(4);
  private readonly accScratch = ACC_SCRATCH;
  private readonly garbage: GarbagePattern;
  private readonly seed: number;
  private failIdx = 0;
  private nextFail: number;
  private joules = 0;
  /** The energy ledger (EnergyLedger, energy.ts): joules harvested, consumed and clipped; charge at power-on. */
  private harvestedJ = 0;
  private consumedJ = 0;
  private clippedJ = 0;
  private initialJ = 0;
  private highWater: number[] = [];
  private reexecUntil = -1;
  private label = '';

  constructor(o: DeviceOptions) {
    if (!LITTLE_ENDIAN_HOST) throw new JapariError('japari models the little-endian MSP430 on a little-endian host only');
    this.profile = o.profile;
    this.placement = o.placement;
    this.arith = o.arithmetic ?? TI_REFERENCE_ARITHMETIC;
    this.supply = o.supply;
    this.rom = o.rom;
    const nvmProfile = o.profile.nvm[o.placement];
    this.nvm = o.nvm ?? new PagedMemory(nvmProfile.bytes);
    this.writeUnit = nvmProfile.writeUnitBytes;
    this.wCost = nvmProfile.write;
    this.rCost = nvmProfile.read;
    this.spiOver = o.placement === 'spi-fram' ? (o.profile.overheads?.spiCallCycles ?? 0) : 0;
    this.romOver = o.profile.overheads?.paramCallCycles ?? 0;
    // Reusing a retired device's SRAM arrays avoids allocating 12 KB per exploration sub-run;
    // the contents are overwritten with garbage below, as after any power-on.
    const donor = o.reuse;
    this.sram = donor ? donor.sram : new Int16Array(SRAM_WORDS);
    this.sramBytes = donor ? donor.sramBytes : new Uint8Array(this.sram.buffer);
    this.sramWords32 = donor ? donor.sramWords32 : new Uint32Array(this.sram.buffer);
    this.defined = donor ? donor.defined : new Uint8Array(SRAM_WORDS);
    this.sramDirty = donor ? donor.sramDirty : new Uint8Array(SRAM_WORDS / SRAM_PAGE_WORDS);
    this.catCycles = donor ? donor.catCycles.fill(0) : new Float64Array(N_CAT);
    this.catNj = donor ? donor.catNj.fill(0) : new Float64Array(N_CAT);
    this.layerCycles = donor ? donor.layerCycles.fill(0) : new Float64Array(16 * N_CAT);
    this.layerNj = donor ? donor.layerNj.fill(0) : new Float64Array(16 * N_CAT);
    this.garbage = o.garbage ?? { kind: 'random' };
    this.seed = o.seed >>> 0;
    this.trace = o.trace ? [] : null;
    this.logWrites = o.logWrites ?? false;
    this.ledger = o.ledger ?? null;
    this.writeLogAddr = this.logWrites ? new Uint32Array(1 << 12) : EMPTY_U32;
    this.writeLogVal = this.logWrites ? new Uint16Array(1 << 12) : EMPTY_U16;
    this.writeLogAction = this.logWrites ? new Float64Array(1 << 12) : EMPTY_F64;
    this.writeLogEpoch = this.logWrites ? new Uint16Array(1 << 12) : EMPTY_U16;
    if (o.supply.kind === 'schedule') {
      for (let i = 1; i < o.supply.failAt.length; i++) {
        if (!(o.supply.failAt[i]! > o.supply.failAt[i - 1]!)) throw new ConfigError('failure schedule must be strictly ascending');
      }
      this.nextFail = o.supply.failAt.length > 0 ? o.supply.failAt[0]! : Infinity;
    } else {
      this.nextFail = Infinity;
    }
    if (o.supply.kind === 'energy') {
      validateCapacitor(o.supply.capacitor);
      this.joules = energyAt(o.supply.capacitor, o.supply.capacitor.von);
      this.initialJ = this.joules;
    }
    if (o.start) {
      this.action = o.start.action;
      this.boots = o.start.boots;
      this.failures = o.start.failures;
      if (o.supply.kind === 'schedule') {
        while (this.failIdx < o.supply.failAt.length && o.supply.failAt[this.failIdx]! < this.action) this.failIdx++;
        this.nextFail = this.failIdx < o.supply.failAt.length ? o.supply.failAt[this.failIdx]! : Infinity;
      }
    } else {
      this.boots = 1;
    }
    this.fillGarbage();
  }

  // -------------------------------------------------------------------------------------------
  // Derived figures

  get seconds(): number {
    return this.cycles / this.profile.clockHz + this.rechargeS;
  }
  get onSeconds(): number {
    return this.cycles / this.profile.clockHz;
  }
  get volts(): number {
    return this.supply.kind === 'energy' ? voltageAt(this.supply.capacitor, this.joules) : this.profile.supplyVolts;
  }
  get nvmWriteUnitBytes(): 1 | 2 {
    return this.writeUnit;
  }

  // -------------------------------------------------------------------------------------------
  // Admission: how many of an event's actions happen before power fails.

  /**
   * Charge an event of `units` actions costing fixed + per-unit, and return how many actions
   * complete before power fails (== units when none). Cycles and energy of the completed part
   * are accounted; on a shortfall the caller applies the partial effect and calls `fail()`.
   */
  private admit(units: number, fixedCycles: number, cyclesPerUnit: number, fixedNj: number, njPerUnit: number, cat: number): number {
    if (this.uncharged) {
      fixedCycles = 0;
      cyclesPerUnit = 0;
      fixedNj = 0;
      njPerUnit = 0;
    }
    let k = units;
    if (this.action + units > this.nextFail) k = Math.max(0, this.nextFail - this.action);
    let cycles = fixedCycles + cyclesPerUnit * units;
    let nj = fixedNj + njPerUnit * units;
    const s = this.supply;
    if (s.kind === 'energy') {
      const c = s.capacitor;
      const floor = energyAt(c, c.voff);
      const p = harvestPower(s.harvester, this.volts, this.seconds);
      const hz = this.profile.clockHz;
      const net0 = fixedNj * 1e-9 - (p * fixedCycles) / hz;
      const netU = njPerUnit * 1e-9 - (p * cyclesPerUnit) / hz;
      const avail = this.joules - floor;
      let affordable: number;
      if (net0 > avail) affordable = -1; // not even the fixed part
      else if (netU <= 0) affordable = units;
      else affordable = Math.min(units, Math.floor((avail - net0) / netU));
      if (affordable < k) {
        // Energy runs out first: the device dies at Voff part-way through this event.
        k = Math.max(0, affordable);
        if (affordable < 0) {
          const f = net0 > 0 ? Math.max(0, avail / net0) : 0;
          cycles = fixedCycles * f;
          nj = fixedNj * f;
        } else {
          cycles = fixedCycles + cyclesPerUnit * k;
          nj = fixedNj + njPerUnit * k;
        }
        this.account(cat, cycles, nj);
        // Ledger: the charge left above Voff went into the action the brown-out cut.
        const harvested = (p * cycles) / hz;
        this.harvestedJ += harvested;
        this.consumedJ += this.joules + harvested - floor;
        this.joules = floor;
        this.action += k;
        return k;
      }
      this.joules = this.charge(this.joules - nj * 1e-9, (p * cycles) / hz, ceilingVolts(c, s.harvester));
      this.consumedJ += nj * 1e-9;
    }
    if (k < units) {
      // Power fails before action k: only the completed part is charged (nothing if none).
      cycles = k === 0 ? 0 : fixedCycles + cyclesPerUnit * k;
      nj = k === 0 ? 0 : fixedNj + njPerUnit * k;
    }
    this.account(cat, cycles, nj);
    this.action += k;
    return k;
  }

  private account(cat: number, cycles: number, nj: number): void {
    if (this.reexecUntil >= 0 && REEXEC_ELIGIBLE[cat]) cat = Cat.reexec;
    this.cycles += cycles;
    this.nj += nj;
    this.catCycles[cat]! += cycles;
    this.catNj[cat]! += nj;
    const layer = this.layer < MAX_LAYERS ? this.layer : MAX_LAYERS - 1;
    const li = layer * N_CAT + cat;
    if (li >= this.layerCycles.length) this.growLayers(layer + 1);
    this.layerCycles[li]! += cycles;
    this.layerNj[li]! += nj;
  }

  private growLayers(layers: number): void {
    const n = Math.max(layers, (2 * this.layerCycles.length) / N_CAT) * N_CAT;
    const c = new Float64Array(n);
    c.set(this.layerCycles);
    this.layerCycles = c;
    const e = new Float64Array(n);
    e.set(this.layerNj);
    this.layerNj = e;
  }

  /** Power fails now: record it and unwind to the runner. */
  private fail(label: string): never {
    this.failures++;
    if (this.supply.kind === 'schedule') {
      this.failIdx++;
      this.nextFail = this.failIdx < this.supply.failAt.length ? this.supply.failAt[this.failIdx]! : Infinity;
    }
    if (this.trace) this.note('failure', `power failure during ${label}`, 'failure');
    throw POWER_FAILURE;
  }

  // -------------------------------------------------------------------------------------------
  // Events

  /**
   * DMA program FRAM (read-only weights) -> SRAM.
   * Source: device.md "256 KB internal FRAM (fast write at 125 ns per word)"; the cost is
   * profile.rom.read (an ASSUMPTION there: block DMA, 2 cycles/word after a 30-cycle setup).
   * Not an action that can be interrupted with a visible effect: SRAM is lost on failure anyway.
   */
  dmaFromRom(romWord: number, sramWord: number, words: number, cat: CatId, label: string): void {
    const c = this.profile.rom.read;
    const o = this.romOver;
    if (!this.uncharged) this.counts[1]!++;
    const done = this.admit(1, o + c.fixedCycles + c.cyclesPerUnit * words, 0, o * NJ_PER_CPU_CYCLE + c.fixedNj + c.njPerUnit * words, 0, cat);
    if (this.trace) this.record('dma-rom', label, cat, this.action - done, done, 1);
    if (done < 1) this.fail(label);
    this.sram.set(this.rom.subarray(romWord, romWord + words), sramWord);
    this.defineRange(sramWord, words);
  }

  /**
   * DMA/SPI NVM -> SRAM of `words` Q15 words starting at NVM byte `nvmByte`.
   * Source: device.md "DMA external FRAM -> SRAM (read) | 64 per element + ~424" (iNAS 2021;
   * profile.nvm[placement].read); on internal FRAM the block-DMA assumption of profile.ts.
   */
  dmaFromNvm(nvmByte: number, sramWord: number, words: number, cat: CatId, label: string): void {
    const c = this.rCost;
    const o = this.spiOver;
    if (!this.uncharged) this.counts[0]!++;
    const done = this.admit(1, o + c.fixedCycles + c.cyclesPerUnit * words, 0, o * NJ_PER_CPU_CYCLE + c.fixedNj + c.njPerUnit * words, 0, cat);
    if (this.trace) this.record('dma-read', label, cat, this.action - done, done, 1, nvmByte, nvmByte + 2 * words);
    if (done < 1) this.fail(label);
    this.nvm.readBytes(nvmByte, this.sramBytes, 2 * sramWord, 2 * words);
    this.defineRange(sramWord, words);
  }

  /**
   * DMA/SPI SRAM -> NVM of `words` words, in ascending address order, one write unit at a
   * time (bytes on SPI FRAM, words on internal FRAM). Power may fail after any unit.
   * Sources: device.md "SPI writes land byte by byte" (CY15B104Q) and algorithms.md "on external
   * SPI FRAM that transfer lands byte by byte, little-endian"; cost: device.md "DMA SRAM ->
   * external FRAM (write) | 64 per element + ~422" (profile.nvm[placement].write).
   */
  dmaToNvm(sramWord: number, nvmByte: number, words: number, cat: CatId, label: string, indicatorWords = 0): void {
    this.checkDefined(sramWord, words, label);
    const c = this.wCost;
    const units = (2 * words) / this.writeUnit;
    const perUnitCycles = c.cyclesPerUnit / (2 / this.writeUnit);
    const perUnitNj = c.njPerUnit / (2 / this.writeUnit);
    const o = this.spiOver;
    if (!this.uncharged) this.counts[0]!++;
    const done = this.admit(units, o + c.fixedCycles, perUnitCycles, o * NJ_PER_CPU_CYCLE + c.fixedNj, perUnitNj, cat);
    if (indicatorWords > 0) this.moveToIndicator(cat, done, units, indicatorWords, words, perUnitCycles, perUnitNj);
    this.landWrite(sramWord, nvmByte, done);
    if (this.trace) this.record('dma-write', label, cat, this.action - done, done, units, nvmByte, nvmByte + 2 * words);
    if (done < units) this.fail(label);
  }

  /**
   * One transfer that carries both values and progress indicators (JAPARI's footprints ride
   * with the outputs): move the indicators' share of the per-unit cost of the landed units from
   * `cat` to 'preserve-indicator', so breakdowns show what the indicators cost.
   */
  private moveToIndicator(cat: number, done: number, units: number, indicatorWords: number, words: number, cyc: number, nj: number): void {
    const share = (done * indicatorWords) / words;
    if (share <= 0 || units <= 0) return;
    this.account(cat, -share * cyc, -share * nj);
    this.account(Cat.preserveIndicator, share * cyc, share * nj);
  }

  private landWrite(sramWord: number, nvmByte: number, units: number): void {
    if (units <= 0) return;
    const bytes = units * this.writeUnit;
    this.nvm.writeBytes(nvmByte, this.sramBytes, 2 * sramWord, bytes);
    this.nvmBytesWritten += bytes;
    if (this.ledger) {
      const e = this.epoch;
      for (let i = 0; i < bytes; i++) {
        this.ledger.writeU8(2 * (nvmByte + i), e & 0xff);
        this.ledger.writeU8(2 * (nvmByte + i) + 1, (e >> 8) & 0xff);
      }
    }
    if (this.logWrites) {
      // The units landed are the actions just before the current action counter.
      const firstAction = this.action - units;
      for (let u = 0; u < units; u++) {
        const off = u * this.writeUnit;
        const v =
          this.writeUnit === 1 ? this.sramBytes[2 * sramWord + off]! : this.sramBytes[2 * sramWord + off]! | (this.sramBytes[2 * sramWord + off + 1]! << 8);
        this.logWrite(nvmByte + off, v, firstAction + u);
      }
    }
  }

  private logWrite(addr: number, value: number, action: number): void {
    if (this.writeLogLen === this.writeLogAddr.length) {
      const n = this.writeLogAddr.length * 2;
      const a = new Uint32Array(n);
      a.set(this.writeLogAddr);
      this.writeLogAddr = a;
      const v = new Uint16Array(n);
      v.set(this.writeLogVal);
      this.writeLogVal = v;
      const ac = new Float64Array(n);
      ac.set(this.writeLogAction);
      this.writeLogAction = ac;
      const ep = new Uint16Array(n);
      ep.set(this.writeLogEpoch);
      this.writeLogEpoch = ep;
    }
    this.writeLogAddr[this.writeLogLen] = addr;
    this.writeLogVal[this.writeLogLen] = value;
    this.writeLogAction[this.writeLogLen] = action;
    this.writeLogEpoch[this.writeLogLen] = this.epoch;
    this.writeLogLen++;
  }

  /**
   * LEA matrix multiply by rows: C[0..n) = finish(A[0..L) x B[L x n]), all in LEA RAM.
   * One action: the result appears in SRAM only when the command completes.
   * Sources: algorithms.md "LEA arithmetic" (TI's msp_matrix_mpy_q15: 32-bit accumulation,
   * saturate(sum >> 15)), lea.ts; cost: device.md "LEA vector MAC | 1.5 per element + ~616"
   * over L x n element operations (profile.lea.command; ASSUMPTION: matrix multiply costs as MACs).
   */
  leaMatMul(aWord: number, len: number, bWord: number, n: number, cWord: number, cat: CatId, label: string): void {
    this.checkLea(aWord, len);
    this.checkLea(bWord, len * n);
    this.checkLea(cWord, n);
    this.checkDefined(aWord, len, label);
    this.checkDefined(bWord, len * n, label);
    const c = this.profile.lea.command;
    const ops = len * n;
    const done = this.admit(1, c.fixedCycles + c.cyclesPerUnit * ops, 0, c.fixedNj + c.njPerUnit * ops, 0, cat);
    if (this.trace) this.record('lea', label, cat, this.action - done, done, 1, undefined, undefined, `1x${len} * ${len}x${n}`);
    if (done < 1) this.fail(label);
    matMulRowQ15(this.sram, aWord, this.sram, bWord, len, n, this.sram, cWord, this.arith, this.accScratch);
    this.defineRange(cWord, n);
  }

  /**
   * The piggybacked pair: the DMA write of a previous result runs while the LEA computes the
   * next one. The write's units land first, one action each, then the LEA result (one action).
   * Time is the longer of the two; energy is the sum. A failure anywhere loses the LEA result
   * and leaves a prefix of the write landed.
   * Source: device.md "LEA ... running while the CPU sleeps or waits" (the LEA and the DMA run
   * concurrently); the costs of both parts as in leaMatMul and dmaToNvm.
   */
  leaMatMulWhileWriting(
    aWord: number,
    len: number,
    bWord: number,
    n: number,
    cWord: number,
    wSram: number,
    wNvm: number,
    wWords: number,
    catLea: CatId,
    catWrite: CatId,
    label: string,
    indicatorWords = 0,
  ): void {
    this.checkLea(aWord, len);
    this.checkLea(bWord, len * n);
    this.checkLea(cWord, n);
    this.checkDefined(aWord, len, label);
    this.checkDefined(bWord, len * n, label);
    this.checkDefined(wSram, wWords, label);
    const lc = this.profile.lea.command;
    const wc = this.wCost;
    const units = (2 * wWords) / this.writeUnit;
    const perUnitCycles = wc.cyclesPerUnit / (2 / this.writeUnit);
    const perUnitNj = wc.njPerUnit / (2 / this.writeUnit);
    const leaCycles = lc.fixedCycles + lc.cyclesPerUnit * len * n;
    const dmaCycles = wc.fixedCycles + perUnitCycles * units;
    // Overlap: the LEA's cycles hide under the transfer (or vice versa); charge the longer
    // duration once, split so the write units carry the transfer's share.
    const extraLea = Math.max(0, leaCycles - dmaCycles);
    // The driver's call chain runs on the CPU before the DMA starts: it never overlaps.
    const o = this.spiOver;
    if (!this.uncharged) this.counts[0]!++;
    const written = this.admit(units, o + wc.fixedCycles, perUnitCycles, o * NJ_PER_CPU_CYCLE + wc.fixedNj, perUnitNj, catWrite);
    if (indicatorWords > 0) this.moveToIndicator(catWrite, written, units, indicatorWords, wWords, perUnitCycles, perUnitNj);
    this.landWrite(wSram, wNvm, written);
    if (this.trace) this.record('lea+dma-write', label, catWrite, this.action - written, written, units, wNvm, wNvm + 2 * wWords);
    if (written < units) this.fail(label);
    const done = this.admit(1, extraLea, 0, lc.fixedNj + lc.njPerUnit * len * n, 0, catLea);
    if (done < 1) this.fail(label);
    matMulRowQ15(this.sram, aWord, this.sram, bWord, len, n, this.sram, cWord, this.arith, this.accScratch);
    this.defineRange(cWord, n);
  }

  /**
   * LEA element-wise command over `n` words: out = op(x, y).
   * Source: device.md "LEA (Low Energy Accelerator): vector/matrix commands on LEA RAM operands
   * (matrix multiply by rows, MAC, add, max ...)"; cost: the vector-MAC row of device.md
   * (profile.lea.command, an ASSUMPTION for commands other than MAC). Saturation as TI DSPLib's
   * msp_add_q15 (algorithms.md "LEA arithmetic").
   */
  leaVector(op: 'add' | 'max' | 'min', xWord: number, yWord: number, outWord: number, n: number, cat: CatId, label: string): void {
    this.checkLea(xWord, n);
    this.checkLea(yWord, n);
    this.checkLea(outWord, n);
    this.checkDefined(xWord, n, label);
    this.checkDefined(yWord, n, label);
    const c = this.profile.lea.command;
    const done = this.admit(1, c.fixedCycles + c.cyclesPerUnit * n, 0, c.fixedNj + c.njPerUnit * n, 0, cat);
    if (this.trace) this.record('lea', label, cat, this.action - done, done, 1, undefined, undefined, `${op} x${n}`);
    if (done < 1) this.fail(label);
    const s = this.sram;
    const sat = this.arith.saturate;
    for (let i = 0; i < n; i++) {
      const x = s[xWord + i]!;
      const y = s[yWord + i]!;
      s[outWord + i] = op === 'add' ? (sat ? sat16(x + y) : wrap16(x + y)) : op === 'max' ? (x > y ? x : y) : x < y ? x : y;
    }
    this.defineRange(outWord, n);
  }

  /**
   * CPU work of `count` operations of one kind (the values themselves are computed by the
   * engine on SRAM words through load/store). One action.
   * Source: device.md "CPU add / sub 12 | multiply 44 | divide / modulo 160 | max 14" and the
   * 2024 re-profile's SRAM->SRAM copy (profile.cpu).
   */
  cpu(op: 'add' | 'mul' | 'div' | 'max' | 'copy', count: number, cat: CatId, label: string): void {
    if (count <= 0) return;
    const c = this.profile.cpu[op];
    const done = this.admit(1, c.fixedCycles * count, 0, c.fixedNj * count, 0, cat);
    if (this.trace) this.record('cpu', label, cat, this.action - done, done, 1, undefined, undefined, `${op} x${count}`);
    if (done < 1) this.fail(label);
  }

  /**
   * Firmware software work that device.md measures no operation for (loop bookkeeping of a
   * build, a named constant of its profile): `cycles` CPU cycles at the CPU's energy per cycle
   * (NJ_PER_CPU_CYCLE). One action. `loops` and `calls` tally the firmware loop iterations and
   * bookkeeping calls the cycles stand for (calibration fits their constants).
   */
  software(cycles: number, cat: CatId, label: string, loops = 0, calls = 0): void {
    this.counts[2]! += loops;
    this.counts[3]! += calls;
    if (cycles <= 0) return;
    const done = this.admit(1, cycles, 0, cycles * NJ_PER_CPU_CYCLE, 0, cat);
    if (this.trace) this.record('cpu', label, cat, this.action - done, done, 1, undefined, undefined, `${cycles} cycles`);
    if (done < 1) this.fail(label);
  }

  /**
   * An ablated write (firmware-2021.md "Ablations"): the words land so that later layers read
   * the right values, but the transfer costs nothing and takes no action (continuous power only).
   */
  landUncharged(sramWord: number, nvmByte: number, words: number): void {
    this.landWrite(sramWord, nvmByte, (2 * words) / this.writeUnit);
  }

  /** Read an SRAM word (no cost by itself: charge CPU work with `cpu`). */
  load(word: number): number {
    if (this.defined[word] === 0) this.noteUndefined(word, this.label);
    return this.sram[word]!;
  }

  store(word: number, value: number): void {
    this.sram[word] = value;
    this.defined[word] = 1;
    this.sramDirty[word >> 7] = 1;
  }

  /** Mark words dead: their contents are garbage to every later reader. */
  release(word: number, words: number): void {
    this.defined.fill(0, word, word + words);
    this.markDirty(word, words);
  }

  private defineRange(word: number, words: number): void {
    this.defined.fill(1, word, word + words);
    this.markDirty(word, words);
  }

  private markDirty(word: number, words: number): void {
    if (words <= 0) return;
    this.sramDirty.fill(1, word >> 7, ((word + words - 1) >> 7) + 1);
  }

  /**
   * Capture the defined SRAM words (page by page). Pages untouched since the last snapshot are
   * shared with `prev`, so consecutive checkpoints cost only what changed.
   */
  volatileSnapshot(prev: VolatileSnapshot | null): VolatileSnapshot {
    const pages = SRAM_WORDS / SRAM_PAGE_WORDS;
    const out: (VolatilePage | null)[] = new Array(pages);
    for (let p = 0; p < pages; p++) {
      if (prev && this.sramDirty[p] === 0) {
        out[p] = prev[p]!;
        continue;
      }
      const lo = p * SRAM_PAGE_WORDS;
      const mask = this.defined.slice(lo, lo + SRAM_PAGE_WORDS);
      out[p] = mask.indexOf(1) < 0 ? null : { mask, values: this.sram.slice(lo, lo + SRAM_PAGE_WORDS) };
    }
    this.sramDirty.fill(0);
    return out;
  }

  /** Every word defined in `snap` is defined here with the same value (sound convergence, see explore.ts). */
  volatileMatches(snap: VolatileSnapshot): boolean {
    for (let p = 0; p < snap.length; p++) {
      const pg = snap[p];
      if (!pg) continue;
      const lo = p * SRAM_PAGE_WORDS;
      for (let i = 0; i < SRAM_PAGE_WORDS; i++) {
        if (pg.mask[i] === 1 && (this.defined[lo + i] === 0 || this.sram[lo + i] !== pg.values[i])) return false;
      }
    }
    return true;
  }

  /** The engine reached a checkpoint: position `pos` in the inference, engine-local state `carry`. */
  checkpoint(pos: number, carry = 0): void {
    if (this.onCheckpoint) this.onCheckpoint(pos, carry);
  }

  /** The engine starts work at output position `pos` of `layer` (for re-execution accounting). */
  progress(layer: number, pos: number): void {
    const hw = this.highWater[layer] ?? -1;
    if (pos < hw) {
      this.reexecUntil = hw;
    } else {
      this.reexecUntil = -1;
      this.highWater[layer] = pos;
    }
  }

  /** The engine's progress seeker concluded: first unfinished job and resume position (checked by properties). */
  recovered(layer: number, job: number, position: number): void {
    if (this.onRecovered) this.onRecovered(layer, job, position);
    if (this.trace) this.note('note', 'seek progress', `layer ${layer}: first unfinished job ${job}, resume at word ${position}`);
  }

  /** Forget re-execution high-water marks (a new inference starts). */
  newInference(): void {
    this.highWater = [];
    this.reexecUntil = -1;
    this.inferences++;
  }

  /** The engine works on `layer` (per-layer accounting; the ledger tags this layer-run's writes). */
  enterLayer(layer: number, inference: number): void {
    this.layer = layer;
    this.epoch = (((inference & 0xff) << 8) | ((layer + 1) & 0xff)) & 0xffff;
  }

  /** Name the engine step in progress (shows in traces and undefined-read reports). */
  step(label: string): void {
    this.label = label;
  }

  /** Add a note to the trace (no cost, no action). */
  note(kind: 'note' | 'failure', label: string, detail: string): void {
    if (this.trace) this.record(kind, label, Cat.compute, this.action, 0, 0, undefined, undefined, detail);
  }

  // -------------------------------------------------------------------------------------------
  // Reboot

  /**
   * After a power failure: recharge (energy-driven supplies), pay the reboot, refill SRAM with
   * garbage. Throws ConfigError when one charge cannot even fund the reboot.
   * Sources: device.md "reboot (power-on to main) | 70 ms | 77.88 uJ" (profile.reboot); recharge
   * per energy.ts (device.md "Energy buffer and harvester"); garbage: SRAM is volatile
   * (device.md "8 KB SRAM"), its content after a brown-out undefined (seeded here).
   */
  reboot(): void {
    this.reexecUntil = -1;
    this.uncharged = false;
    const s = this.supply;
    if (s.kind === 'energy') {
      const c = s.capacitor;
      const v = this.volts;
      const t = rechargeSeconds(c, s.harvester, v, c.von, this.seconds);
      if (!Number.isFinite(t)) throw new ConfigError(`the harvester never recharges the capacitor to Von ${c.von} V`);
      this.rechargeS += t;
      this.catCycles[Cat.recharge]! += t * this.profile.clockHz;
      // While off the harvester fills the capacitor up to Von (no load, nothing clipped: Von <= Vmax).
      this.harvestedJ += Math.max(0, energyAt(c, c.von) - this.joules);
      this.joules = Math.max(this.joules, energyAt(c, c.von));
      const rebootJ = this.profile.reboot.nj * 1e-9;
      const p = harvestPower(s.harvester, c.von, this.seconds);
      if (rebootJ - p * this.profile.reboot.seconds >= energyAt(c, c.von) - energyAt(c, c.voff)) {
        throw new ConfigError(
          `a ${(c.farads * 1e6).toFixed(1)} uF capacitor (Von ${c.von} V, Voff ${c.voff} V) cannot fund one reboot (${(rebootJ * 1e6).toFixed(2)} uJ)`,
        );
      }
      // A harvester stronger than the reboot's draw charges on, up to the rated maximum.
      this.joules = this.charge(this.joules - rebootJ, p * this.profile.reboot.seconds, ceilingVolts(c, s.harvester));
      this.consumedJ += rebootJ;
    }
    const cycles = this.profile.reboot.seconds * this.profile.clockHz;
    this.account(Cat.reboot, cycles, this.profile.reboot.nj);
    this.boots++;
    this.fillGarbage();
    if (this.trace) this.record('reboot', 'reboot', Cat.reboot, this.action, 1, 1);
  }

  /**
   * Add `harvested` joules to a charge of `joules` (after the load was taken), clipping what
   * would exceed the capacitor's ceiling; returns the new charge and books the ledger.
   */
  private charge(joules: number, harvested: number, ceilVolts: number): number {
    const s = this.supply as Extract<PowerSupply, { kind: 'energy' }>;
    this.harvestedJ += harvested;
    const ceil = energyAt(s.capacitor, ceilVolts);
    const raw = joules + harvested;
    // The ceiling only clips what the harvest would add beyond it: a charge already above it (an
    // RC supply's Vsup below the rating never gets there) is not taken away.
    const capped = Math.max(Math.min(raw, ceil), Math.min(raw, joules));
    this.clippedJ += raw - capped;
    return capped;
  }

  /** Where the energy went so far (energy-driven supplies; zeros otherwise). See EnergyLedger. */
  energyLedger(): EnergyLedger {
    return { harvestedJ: this.harvestedJ, consumedJ: this.consumedJ, storedJ: this.joules - this.initialJ, clippedJ: this.clippedJ };
  }

  private fillGarbage(): void {
    this.defined.fill(0);
    this.sramDirty.fill(1);
    const g = this.garbage;
    if (g.kind === 'stale') return;
    if (g.kind === 'constant') {
      this.sram.fill(g.value);
      return;
    }
    // Exploration's sub-runs all reboot with the same (seed, boot): copy the pattern once drawn.
    const c = GARBAGE_CACHE;
    if (c.seed === this.seed && c.boots === this.boots) {
      this.sramWords32.set(c.words);
      return;
    }
    drawGarbage(this.sramWords32, this.seed, this.boots);
    c.words.set(this.sramWords32);
    c.seed = this.seed;
    c.boots = this.boots;
  }

  // -------------------------------------------------------------------------------------------
  // Checks and trace

  private checkLea(word: number, words: number): void {
    const base = LEA_RAM_BASE;
    if (word < base || word + words > base + this.profile.sram.leaRamWords) {
      throw new JapariError(`LEA operand [${word}, ${word + words}) lies outside LEA RAM [${base}, ${base + this.profile.sram.leaRamWords})`);
    }
  }

  private checkDefined(word: number, words: number, label: string): void {
    const z = this.defined.indexOf(0, word);
    if (z !== -1 && z < word + words) this.noteUndefined(z, label);
  }

  private noteUndefined(word: number, label: string): void {
    this.undefinedReads++;
    if (!this.firstUndefinedRead) this.firstUndefinedRead = { word, action: this.action, label };
  }

  private record(
    kind: TraceEvent['kind'],
    label: string,
    cat: number,
    action: number,
    done: number,
    total: number,
    nvmLo?: number,
    nvmHi?: number,
    detail?: string,
  ): void {
    const ev: TraceEvent = {
      action,
      done,
      total,
      kind,
      label,
      category: CATEGORIES[this.reexecUntil >= 0 && REEXEC_ELIGIBLE[cat] ? Cat.reexec : cat]!,
      layer: this.layer,
      boot: this.boots,
      cycles: this.cycles,
      ...(nvmLo !== undefined && nvmHi !== undefined ? { nvm: [nvmLo, nvmHi] as const } : {}),
      ...(detail !== undefined ? { detail } : {}),
    };
    this.trace!.push(ev);
  }

  /** Per-category totals as plain data (cycles, nJ). */
  breakdown(): Record<Category, { cycles: number; nj: number }> {
    const out = {} as Record<Category, { cycles: number; nj: number }>;
    CATEGORIES.forEach((c, i) => (out[c] = { cycles: this.catCycles[i]!, nj: this.catNj[i]! }));
    return out;
  }

  /** Per-layer per-category totals for layers [0, layers). */
  layerBreakdown(layers: number): Record<Category, { cycles: number; nj: number }>[] {
    const rows: Record<Category, { cycles: number; nj: number }>[] = [];
    for (let l = 0; l < layers; l++) {
      const r = {} as Record<Category, { cycles: number; nj: number }>;
      CATEGORIES.forEach((c, i) => (r[c] = { cycles: this.layerCycles[l * N_CAT + i] ?? 0, nj: this.layerNj[l * N_CAT + i] ?? 0 }));
      rows.push(r);
    }
    return rows;
  }
}
