/**
 * The MSP430FR5994 LaunchPad + LEA + Cypress CY15B104Q SPI FRAM, as data.
 *
 * Every number below cites ../shared/reference/device.md (abbreviated "device.md"), which in
 * turn cites the TI MSP430FR5994 datasheet (SLASE54), TI DSPLib documentation, the Cypress
 * CY15B104Q datasheet, and the microbenchmarks published by the JAPARI/HAWAII authors' lab with
 * their iNAS (2021) cost model and TiNAS (2024) re-profile. Where device.md gives no number
 * and we had to assume one, the entry says "ASSUMPTION" and why.
 *
 * The profile is readonly data; the Device (device.ts) charges these costs per event.
 */

/** A cost with a fixed per-call part and a per-unit part ("element" = one Q15 word). */
export interface Cost {
  readonly fixedCycles: number;
  readonly cyclesPerUnit: number;
  readonly fixedNj: number;
  readonly njPerUnit: number;
  /** Where the numbers come from. */
  readonly source: string;
}

export interface NvmKindProfile {
  readonly bytes: number;
  /** Atomic write unit in bytes: a power failure can fall between any two units. */
  readonly writeUnitBytes: 1 | 2;
  readonly read: Cost;
  readonly write: Cost;
  readonly source: string;
}

export type NvmPlacement = 'spi-fram' | 'internal-fram';

/** Non-LEA SRAM areas (word addresses below the LEA RAM window at word 2048). */
export interface SramMap {
  /** Staging for reads that strip footprints and for single-word recovery reads: [stage, stage + stageWords). */
  readonly stage: number;
  readonly stageWords: number;
  /** Two words for one HAWAII counter transfer {value, version}. */
  readonly counterScratch: number;
  /** Where a (faulty) engine keeps HAWAII's remainder in an uninitialised global. */
  readonly remainderWord: number;
  /** Model record transfers: up to (2048 - recordScratch) words. */
  readonly recordScratch: number;
  readonly source: string;
}

export interface DeviceProfile {
  readonly name: string;
  readonly clockHz: number;
  readonly sram: {
    /** Total SRAM in bytes. */
    readonly bytes: number;
    /** LEA RAM: the top part of SRAM shared with the LEA, in Q15 words. */
    readonly leaRamWords: number;
    /** Words of LEA RAM usable for operands (after the LEA stack and parameter blocks). */
    readonly leaUsableWords: number;
    readonly source: string;
  };
  /**
   * The firmware's map of non-LEA SRAM, in Q15 words (the low 2048 words; LEA RAM is above):
   * staging and scratch areas the engines use for NVM transfers.
   */
  readonly sramMap: SramMap;
  /** Program FRAM holding read-only weights (DMA reads into SRAM). */
  readonly rom: { readonly read: Cost; readonly source: string };
  readonly nvm: Readonly<Record<NvmPlacement, NvmKindProfile>>;
  readonly lea: {
    /** One LEA command over `units` element operations (MACs for matrix multiply). */
    readonly command: Cost;
  };
  readonly cpu: {
    readonly add: Cost;
    readonly mul: Cost;
    readonly div: Cost;
    readonly max: Cost;
    /** Single-word SRAM -> SRAM copy. */
    readonly copy: Cost;
  };
  readonly reboot: { readonly seconds: number; readonly nj: number; readonly source: string };
  /** Active current per MHz (uA/MHz) and the supply voltage used to derive the active power draw. */
  readonly activeUaPerMhz: number;
  readonly supplyVolts: number;
  /**
   * Software overheads of a firmware build on top of the microbenchmarked transfers (set by a
   * build profile, src/engines/reference/firmware.ts; absent: none). CPU cycles the driver call
   * chain spends per transfer; they never overlap the LEA. Energy: NJ_PER_CPU_CYCLE per cycle.
   */
  readonly overheads?: FirmwareOverheads;
}

export interface FirmwareOverheads {
  /** Per SPI FRAM transaction (read or write): the driver call chain around the DMA. */
  readonly spiCallCycles: number;
  /** Per copy from program FRAM (my_memcpy_from_param): the call chain around the block DMA. */
  readonly paramCallCycles: number;
  readonly source: string;
}

const DEVICE_MD = '../shared/reference/device.md';

function cost(fixedCycles: number, cyclesPerUnit: number, fixedNj: number, njPerUnit: number, source: string): Cost {
  return { fixedCycles, cyclesPerUnit, fixedNj, njPerUnit, source };
}

/**
 * Energy of one CPU cycle, derived from the CPU add microbenchmark (12 cycles, 3.94 nJ,
 * device.md "Measured microbenchmarks"): 0.328 nJ/cycle. It agrees with the datasheet's active
 * current (118 uA/MHz at about 3 V: 0.354 nJ/cycle) within 8%. Used only to turn the energy-only
 * copy measurements into cycles.
 */
export const NJ_PER_CPU_CYCLE = 3.94 / 12;

/**
 * The default profile: the iNAS (2021) measurements at 16 MHz from device.md's table.
 * `msp430fr5994Tinas2024` below swaps in the 2024 re-profile.
 */
export const msp430fr5994: DeviceProfile = {
  name: 'MSP430FR5994 + LEA + CY15B104Q (iNAS 2021 microbenchmarks)',
  // device.md: "the published engines run it at 16 MHz".
  clockHz: 16_000_000,
  sram: {
    // device.md: "8 KB SRAM, of which 4 KB is LEA RAM shared with the LEA; about 1884 Q15
    // words of it are usable for operands after the LEA stack and parameter blocks."
    bytes: 8192,
    leaRamWords: 2048,
    leaUsableWords: 1884,
    source: `${DEVICE_MD} (MSP430FR5994 LaunchPad: SRAM and LEA RAM)`,
  },
  // The reference engine keeps its buffers in the 4 KB below the LEA RAM (Stateful-CNN places
  // its non-LEA buffers in .bss/.data SRAM; device.md: 8 KB SRAM, the top 4 KB shared with the
  // LEA). ASSUMPTION: the exact addresses are ours -- only that the areas are disjoint, fit below
  // word 2048 and are volatile matters to the model.
  sramMap: {
    stage: 0,
    stageWords: 1000,
    counterScratch: 1000,
    remainderWord: 1020,
    recordScratch: 1024,
    source: `${DEVICE_MD} (8 KB SRAM, LEA RAM on top) + ASSUMPTION addresses of the engine's scratch areas`,
  },
  rom: {
    // Weights are read-only in program FRAM (algorithms.md "Common engine structure"); the
    // reference engine copies them with the MSP430's block DMA.
    // ASSUMPTION: device.md measures no DMA from internal FRAM. A block DMA moves one word per
    // 125 ns FRAM access (device.md: "fast write at 125 ns per word"), i.e. 2 cycles at 16 MHz,
    // after a setup of 30 cycles (arming one DMA channel); its energy is the active power over
    // that time (NJ_PER_CPU_CYCLE per cycle). device.md's CPU copy FRAM->SRAM (10.26 nJ/word,
    // a load/store loop of ~31 cycles) is an upper bound we do not use: paired with a 2-cycle
    // duration it would mean ~82 mW during weight fetches.
    read: cost(30, 2, 30 * NJ_PER_CPU_CYCLE, 2 * NJ_PER_CPU_CYCLE, `${DEVICE_MD} (FRAM 125 ns/word) + ASSUMPTION block DMA: 30 cycles setup, active power over 2 cycles/word`),
    source: `${DEVICE_MD} (256 KB internal FRAM)`,
  },
  nvm: {
    'spi-fram': {
      // device.md: "Cypress CY15B104Q, 4 Mbit (512 KB) SPI FRAM ... SPI writes land byte by byte."
      bytes: 512 * 1024,
      writeUnitBytes: 1,
      // device.md table: "DMA external FRAM -> SRAM (read) | 64 per element + ~424 | 27.0 nJ per element + 200 nJ"
      read: cost(424, 64, 200, 27.0, `${DEVICE_MD} (DMA external FRAM -> SRAM, iNAS 2021)`),
      // device.md table: "DMA SRAM -> external FRAM (write) | 64 per element + ~422 | 26.8 nJ per element + 193 nJ"
      write: cost(422, 64, 193, 26.8, `${DEVICE_MD} (DMA SRAM -> external FRAM, iNAS 2021)`),
      source: `${DEVICE_MD} (CY15B104Q at ~4 MHz SPI: 32 CPU cycles per byte)`,
    },
    'internal-fram': {
      // device.md: "256 KB internal FRAM ('fast write at 125 ns per word')". Word writes are
      // the atomic unit (the FRAM controller writes whole words).
      bytes: 256 * 1024,
      writeUnitBytes: 2,
      // ASSUMPTION (as for rom above): block DMA, setup 30 cycles, 2 cycles/word (125 ns at
      // 16 MHz), energy = active power over that time. device.md's CPU copies (FRAM->SRAM
      // 10.26 nJ, SRAM->FRAM 9.60 nJ per word) are CPU loops, not DMA.
      read: cost(30, 2, 30 * NJ_PER_CPU_CYCLE, 2 * NJ_PER_CPU_CYCLE, `${DEVICE_MD} (FRAM 125 ns/word) + ASSUMPTION block DMA`),
      write: cost(30, 2, 30 * NJ_PER_CPU_CYCLE, 2 * NJ_PER_CPU_CYCLE, `${DEVICE_MD} (FRAM 125 ns/word) + ASSUMPTION block DMA`),
      source: `${DEVICE_MD} (256 KB internal FRAM, 125 ns per word)`,
    },
  },
  lea: {
    // device.md table: "LEA vector MAC | 1.5 per element + ~616 | 0.527 nJ per element + 204 nJ".
    // ASSUMPTION: every LEA command (matrix multiply, add, max, offset, scale) costs like a
    // vector MAC over the number of element operations it performs (a 1 x L by L x n matrix
    // multiply performs L*n); the LEA is a MAC datapath and device.md measures nothing else.
    command: cost(616, 1.5, 204, 0.527, `${DEVICE_MD} (LEA vector MAC, iNAS 2021)`),
  },
  cpu: {
    // device.md table rows "CPU add / sub", "CPU multiply", "CPU divide / modulo", "CPU max".
    add: cost(12, 0, 3.94, 0, `${DEVICE_MD} (CPU add/sub)`),
    mul: cost(44, 0, 19.3, 0, `${DEVICE_MD} (CPU multiply)`),
    div: cost(160, 0, 43.7, 0, `${DEVICE_MD} (CPU divide/modulo)`),
    max: cost(14, 0, 4.23, 0, `${DEVICE_MD} (CPU max)`),
    // device.md 2024 re-profile: "SRAM->SRAM 3.89 nJ" per single-word copy; cycles derived
    // from NJ_PER_CPU_CYCLE (ASSUMPTION: the copy runs at the add's energy per cycle).
    copy: cost(Math.round(3.89 / NJ_PER_CPU_CYCLE), 0, 3.89, 0, `${DEVICE_MD} (SRAM->SRAM copy 3.89 nJ; cycles derived)`),
  },
  // device.md table: "reboot (power-on to main) | 70 ms (55 ms in the 2024 re-profile) | 77.88 uJ"
  reboot: { seconds: 0.07, nj: 77_880, source: `${DEVICE_MD} (reboot, iNAS 2021)` },
  // device.md: "Active current about 118 uA/MHz (about 1.9 mA at 16 MHz)"; ~3.0 V supply.
  activeUaPerMhz: 118,
  supplyVolts: 3.0,
};

/** The same board with device.md's 2024 (TiNAS) re-profile of DMA, LEA and reboot. */
export const msp430fr5994Tinas2024: DeviceProfile = {
  ...msp430fr5994,
  name: 'MSP430FR5994 + LEA + CY15B104Q (TiNAS 2024 re-profile)',
  nvm: {
    ...msp430fr5994.nvm,
    'spi-fram': {
      ...msp430fr5994.nvm['spi-fram'],
      // device.md: "2024 re-profile: DMA 64 cycles/element + 430 (read) / 421 (write); 24.1 / 23.9 nJ per element"
      read: cost(430, 64, 200, 24.1, `${DEVICE_MD} (2024 re-profile; fixed energy kept from 2021)`),
      write: cost(421, 64, 193, 23.9, `${DEVICE_MD} (2024 re-profile; fixed energy kept from 2021)`),
    },
  },
  // device.md: "LEA MAC 1.5 cycles/element + 622, 0.503 nJ/element + 206 nJ"
  lea: { command: cost(622, 1.5, 206, 0.503, `${DEVICE_MD} (LEA MAC, 2024 re-profile)`) },
  reboot: { seconds: 0.055, nj: 77_880, source: `${DEVICE_MD} (reboot 55 ms, 2024 re-profile)` },
};

export const PROFILES: Readonly<Record<string, DeviceProfile>> = {
  inas2021: msp430fr5994,
  tinas2024: msp430fr5994Tinas2024,
};

/** Modelled active power draw of the MCU alone (W): current per MHz x clock x supply. */
export function activePowerW(p: DeviceProfile): number {
  return p.activeUaPerMhz * 1e-6 * (p.clockHz / 1e6) * p.supplyVolts;
}

/** Cycles and nanojoules of one call of `c` over `units` units. */
export function costOf(c: Cost, units: number): { cycles: number; nj: number } {
  return { cycles: c.fixedCycles + c.cyclesPerUnit * units, nj: c.fixedNj + c.njPerUnit * units };
}
