/**
 * Benchmark conditions: the energy supplies a sweep runs under, from strong (no power failure)
 * to weak (many power cycles), as plain serialisable data (worker threads receive them).
 *
 *   continuous-power    no capacitor, no failures (the engines' overhead-only baseline)
 *   constant P          a harvester pushing P watts into the capacitor (device.md: 4, 5, 8, 10 mW)
 *   rc                  device.md's RC supply: Vsup 3.0 V through R = 1 kOhm
 *   trace               replay of a recorded RF harvesting trace from ../shared/traces
 *
 * Every energy-driven condition uses device.md's thresholds (Von 2.8 V, Voff 2.4 V) and a
 * capacitor from the sweep's list (100 uF, 470 uF, 1 mF by default). No voltage ceiling is
 * modelled beyond the harvester's own (an RC supply stops at Vsup; a constant or trace
 * harvester can charge above Von while the device draws less than it harvests).
 */
import { basename } from 'node:path';
import { type Capacitor, type Harvester, type PowerTrace, DEVICE_MD_CAPACITOR, DEVICE_MD_RC, loadPowerTrace, meanWatts } from '../device/energy.js';
import type { PowerSupply } from '../device/device.js';

export type SupplyKind = 'continuous' | 'constant' | 'rc' | 'trace';

/** The harvester of a condition as data; a trace stays a path until a run loads it. */
export type HarvesterSpec =
  | { readonly kind: 'constant'; readonly watts: number }
  | { readonly kind: 'rc'; readonly vsup: number; readonly ohms: number }
  | { readonly kind: 'trace'; readonly name: string; readonly path: string; readonly meanWatts: number };

export interface Condition {
  /** Short stable id, e.g. "continuous", "100uF/5mW", "470uF/rc", "1mF/rf-cart". */
  readonly id: string;
  readonly supply: SupplyKind;
  /** One line for humans. */
  readonly description: string;
  /** null under continuous power. */
  readonly capacitor_uF: number | null;
  /** Constant harvesters: P; traces: the trace's mean power; otherwise null. */
  readonly power_mW: number | null;
  readonly capacitor?: Capacitor;
  readonly harvester?: HarvesterSpec;
}

/** The standard sweep's capacitors and harvested power levels (device.md "Energy buffer and harvester"). */
export const STANDARD_CAPACITORS_F: readonly number[] = [100e-6, 470e-6, 1e-3];
/** Strong to weak; device.md compares engines at 4, 5, 8 and 10 mW; 2 mW adds a weaker point. */
export const STANDARD_POWERS_W: readonly number[] = [10e-3, 8e-3, 5e-3, 4e-3, 2e-3];
export const STANDARD_TRACES: readonly string[] = ['rf-cart.trace', 'rf-mobile.trace', 'rf-obstruction.trace'];

/** "100uF", "1mF", "2.2mF": a compact, id-safe rendering of a capacitance. */
export function capId(farads: number): string {
  const uF = farads * 1e6;
  if (uF >= 1000) return `${+(uF / 1000).toPrecision(4)}mF`;
  return `${+uF.toPrecision(4)}uF`;
}

export function powerId(watts: number): string {
  const mW = watts * 1e3;
  return mW >= 1 ? `${+mW.toPrecision(4)}mW` : `${+(mW * 1e3).toPrecision(4)}uW`;
}

export function traceName(path: string): string {
  return basename(path).replace(/\.trace$/, '');
}

const round = (x: number, digits = 6): number => +x.toPrecision(digits);

export const CONTINUOUS: Condition = Object.freeze({ id: 'continuous-power', supply: 'continuous', description: 'continuous power (no failures)', capacitor_uF: null, power_mW: null });

function capacitorOf(farads: number): Capacitor {
  return { farads, von: DEVICE_MD_CAPACITOR.von, voff: DEVICE_MD_CAPACITOR.voff };
}

export function constantCondition(farads: number, watts: number): Condition {
  return {
    id: `${capId(farads)}/${powerId(watts)}`,
    supply: 'constant',
    description: `${capId(farads)}, constant ${powerId(watts)} harvested`,
    capacitor_uF: round(farads * 1e6),
    power_mW: round(watts * 1e3),
    capacitor: capacitorOf(farads),
    harvester: { kind: 'constant', watts },
  };
}

export function rcCondition(farads: number, vsup = DEVICE_MD_RC.vsup, ohms = DEVICE_MD_RC.ohms): Condition {
  return {
    id: `${capId(farads)}/rc`,
    supply: 'rc',
    description: `${capId(farads)}, RC ${vsup} V through ${ohms / 1000} kOhm`,
    capacitor_uF: round(farads * 1e6),
    power_mW: null,
    capacitor: capacitorOf(farads),
    harvester: { kind: 'rc', vsup, ohms },
  };
}

export function traceCondition(farads: number, path: string, trace: PowerTrace): Condition {
  const name = traceName(path);
  const mean = meanWatts(trace);
  return {
    id: `${capId(farads)}/${name}`,
    supply: 'trace',
    description: `${capId(farads)}, RF trace ${name} (mean ${powerId(mean)})`,
    capacitor_uF: round(farads * 1e6),
    power_mW: round(mean * 1e3),
    capacitor: capacitorOf(farads),
    harvester: { kind: 'trace', name, path, meanWatts: mean },
  };
}

/** Traces are loaded once per process (workers load their own). */
const traceCache = new Map<string, PowerTrace>();
export function loadTraceCached(path: string): PowerTrace {
  let t = traceCache.get(path);
  if (!t) {
    t = loadPowerTrace(path);
    traceCache.set(path, t);
  }
  return t;
}

function harvesterOf(h: HarvesterSpec): Harvester {
  switch (h.kind) {
    case 'constant':
      return { kind: 'constant', watts: h.watts };
    case 'rc':
      return { kind: 'rc', vsup: h.vsup, ohms: h.ohms };
    case 'trace':
      return { kind: 'trace', trace: loadTraceCached(h.path) };
  }
}

/** The device's PowerSupply for a condition. */
export function supplyOf(c: Condition): PowerSupply {
  if (c.supply === 'continuous' || !c.capacitor || !c.harvester) return { kind: 'continuous' };
  return { kind: 'energy', capacitor: c.capacitor, harvester: harvesterOf(c.harvester) };
}

/** The same condition with another capacitor (the minimum-capacitor search). */
export function withCapacitor(c: Condition, farads: number): Condition {
  const h = c.harvester;
  if (!h) throw new Error(`condition ${c.id} has no capacitor`);
  switch (h.kind) {
    case 'constant':
      return constantCondition(farads, h.watts);
    case 'rc':
      return rcCondition(farads, h.vsup, h.ohms);
    case 'trace':
      return traceCondition(farads, h.path, loadTraceCached(h.path));
  }
}

/**
 * The most power the harvester can deliver while the device runs (capacitor between Voff and
 * Von and above): constant P; RC: V (Vsup - V) / R is largest at the lowest voltage the device
 * runs at (Voff), since V (Vsup - V) falls for V above Vsup / 2; trace: its largest sample.
 * Used for lower bounds on latency.
 */
export function peakHarvestWatts(c: Condition): number {
  const h = c.harvester;
  if (!h || !c.capacitor) return Infinity;
  switch (h.kind) {
    case 'constant':
      return h.watts;
    case 'rc': {
      const v = Math.max(c.capacitor.voff, h.vsup / 2);
      return v >= h.vsup ? 0 : (v * (h.vsup - v)) / h.ohms;
    }
    case 'trace': {
      const t = loadTraceCached(h.path);
      let m = 0;
      for (let i = 0; i < t.watts.length; i++) m = Math.max(m, t.watts[i]!);
      return m;
    }
  }
}

/**
 * Seconds until the harvester has delivered `joules` starting at t = 0 (the energy a run needs
 * beyond what the capacitor holds at start). Constant and RC: joules / peak power (RC's peak is
 * an upper bound on its power, so this stays a lower bound); trace: integrated sample by
 * sample, looping the trace as the device does.
 */
export function secondsToHarvest(c: Condition, joules: number): number {
  if (joules <= 0) return 0;
  const h = c.harvester;
  if (!h) return 0;
  if (h.kind !== 'trace') {
    const p = peakHarvestWatts(c);
    return p > 0 ? joules / p : Infinity;
  }
  const t = loadTraceCached(h.path);
  if (meanWatts(t) <= 0) return Infinity;
  let need = joules;
  for (let k = 0; ; k++) {
    const p = t.watts[k % t.watts.length]!;
    if (p * t.dt >= need) return k * t.dt + need / p;
    need -= p * t.dt;
  }
}
