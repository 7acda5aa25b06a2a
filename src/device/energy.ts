/**
 * The energy buffer and the harvesters, as pure functions.
 *
 * device.md "Energy buffer and harvester":
 *   E = 1/2 C (Von^2 - Voff^2) between thresholds; the device starts at Von and dies at Voff;
 *   recharge through R from Vsup: t = -R C ln((Von - Vsup) / (V - Vsup)).
 * Harvesters: a constant power into the capacitor, an RC supply (Vsup, R), or the replay of a
 * recorded power trace (../shared/traces: `seconds<TAB>milliwatts` every 20 ms).
 *
 * Time and energy here are modelled quantities (seconds, joules), never wall clock.
 */
import { readFileSync } from 'node:fs';
import { InputError, ConfigError } from '../util/errors.js';

export interface Capacitor {
  readonly farads: number;
  /** Turn-on threshold: the device boots when the capacitor reaches it. */
  readonly von: number;
  /** Brown-out threshold: the device dies when the capacitor falls to it. */
  readonly voff: number;
  /**
   * Rated maximum voltage: harvested energy that would charge the capacitor above it is lost
   * (clipped by the clamp that protects it). Undefined = DEVICE_MD_VMAX.
   */
  readonly vmax?: number;
}

export interface PowerTrace {
  readonly name: string;
  /** Sample period in seconds. */
  readonly dt: number;
  /** Harvested power per sample, in watts. */
  readonly watts: Float64Array;
}

export type Harvester =
  | { readonly kind: 'constant'; readonly watts: number }
  | { readonly kind: 'rc'; readonly vsup: number; readonly ohms: number }
  | { readonly kind: 'trace'; readonly trace: PowerTrace };

/**
 * The capacitor's rated maximum voltage when none is given: 3.0 V. device.md lists no rating,
 * but every setting it reports is charged from Vsup = 3.0 V ("C = 100 uF, R = 1 kOhm, Vsup =
 * 3.0 V, Von = 2.8 V, Voff = 2.4 V"; also "Von 2.99 V / Voff 2.8 V"), so the capacitor of that
 * setup never held more than 3.0 V and both published turn-on thresholds lie below it. It is
 * also within the MSP430FR5994's supply range (at most 3.6 V, datasheet SLASE54). Without a
 * ceiling a constant-power or trace harvester banks unbounded energy (a 1 nF capacitor would
 * fund a whole inference from the surplus of a few reboots); --vmax sets another rating.
 */
export const DEVICE_MD_VMAX = 3.0;

/** The rated maximum voltage of a capacitor (its own, or DEVICE_MD_VMAX). */
export function ratedVmax(c: Capacitor): number {
  return c.vmax ?? DEVICE_MD_VMAX;
}

/** Settings seen in the authors' work (device.md): 100 uF, R = 1 kOhm, Vsup 3.0 V, Von 2.8 V, Voff 2.4 V. */
export const DEVICE_MD_CAPACITOR: Capacitor = Object.freeze({ farads: 100e-6, von: 2.8, voff: 2.4 });
export const DEVICE_MD_RC: Extract<Harvester, { kind: 'rc' }> = Object.freeze({ kind: 'rc', vsup: 3.0, ohms: 1000 });

export function energyAt(c: Capacitor, volts: number): number {
  return 0.5 * c.farads * volts * volts;
}

export function voltageAt(c: Capacitor, joules: number): number {
  return Math.sqrt((2 * Math.max(0, joules)) / c.farads);
}

/** Energy available in one charge: 1/2 C (Von^2 - Voff^2). */
export function usableEnergy(c: Capacitor): number {
  return energyAt(c, c.von) - energyAt(c, c.voff);
}

export function validateCapacitor(c: Capacitor): void {
  if (!(c.farads > 0)) throw new ConfigError(`capacitance must be positive, got ${c.farads} F`);
  if (!(c.von > c.voff && c.voff > 0)) throw new ConfigError(`need Von > Voff > 0, got Von ${c.von} V, Voff ${c.voff} V`);
  const vmax = ratedVmax(c);
  if (!(vmax >= c.von)) {
    throw new ConfigError(
      `Von ${c.von} V is above the capacitor's rated maximum ${vmax} V${c.vmax === undefined ? ` (the default, device.md's 3.0 V supply; set another rating with --vmax)` : ''}: the device could never turn on`,
    );
  }
}

/** Power (W) the harvester pushes into the capacitor at voltage `volts` and modelled time `t`. */
export function harvestPower(h: Harvester, volts: number, t: number): number {
  switch (h.kind) {
    case 'constant':
      return h.watts;
    case 'rc':
      return volts >= h.vsup ? 0 : (volts * (h.vsup - volts)) / h.ohms;
    case 'trace': {
      const n = h.trace.watts.length;
      const i = Math.floor(t / h.trace.dt) % n;
      return h.trace.watts[i < 0 ? 0 : i]!;
    }
  }
}

/** The highest voltage the capacitor can reach with this harvester: its rating, or an RC supply's Vsup. */
export function ceilingVolts(c: Capacitor, h: Harvester): number {
  const supply = h.kind === 'rc' ? h.vsup : Infinity;
  return Math.min(supply, ratedVmax(c));
}

/**
 * Where the energy of an energy-driven run went, in joules, since power-on at Von. Conservation:
 * harvested = consumed + stored + clipped, at every moment (a property test checks it).
 *   harvested  delivered by the harvester (while on, and while recharging)
 *   consumed   drawn by the device (events, reboots, and the part of an action cut by a brown-out)
 *   stored     the capacitor's energy now minus at power-on
 *   clipped    lost above the rated maximum voltage
 */
export interface EnergyLedger {
  readonly harvestedJ: number;
  readonly consumedJ: number;
  readonly storedJ: number;
  readonly clippedJ: number;
}

/**
 * Seconds for the harvester to bring the (unloaded) capacitor from `fromV` to `toV`,
 * starting at modelled time `t`. Infinity when it never gets there.
 */
export function rechargeSeconds(c: Capacitor, h: Harvester, fromV: number, toV: number, t: number): number {
  if (fromV >= toV) return 0;
  switch (h.kind) {
    case 'constant':
      return h.watts > 0 ? (energyAt(c, toV) - energyAt(c, fromV)) / h.watts : Infinity;
    case 'rc':
      // device.md: t = -R C ln((Von - Vsup) / (V - Vsup))
      if (h.vsup <= toV) return Infinity;
      return -h.ohms * c.farads * Math.log((toV - h.vsup) / (fromV - h.vsup));
    case 'trace': {
      const { dt, watts } = h.trace;
      let need = energyAt(c, toV) - energyAt(c, fromV);
      let mean = 0;
      for (let i = 0; i < watts.length; i++) mean += watts[i]!;
      if (mean <= 0) return Infinity;
      // Integrate sample by sample from t, looping the trace; the first partial sample first.
      // Step by an integer sample index: recomputing floor(now / dt) can stall on rounding.
      let k = Math.floor(t / dt);
      let now = t;
      for (;;) {
        const p = watts[k % watts.length]!;
        const span = Math.max(0, (k + 1) * dt - now);
        if (p > 0 && p * span >= need) return now + need / p - t;
        need -= p * span;
        now = (k + 1) * dt;
        k++;
      }
    }
  }
}

/** Parse a recorded trace: a header line, then `seconds<TAB>milliwatts` rows at a fixed period. */
export function parsePowerTrace(text: string, name: string): PowerTrace {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const rows: [number, number][] = [];
  for (let i = 0; i < lines.length; i++) {
    const parts = lines[i]!.trim().split(/\s+/);
    const t = Number(parts[0]);
    const mw = Number(parts[1]);
    if (parts.length < 2 || !Number.isFinite(t) || !Number.isFinite(mw)) {
      if (i === 0) continue; // header, e.g. "sec RSSI,mW"
      throw new InputError(`${name}:${i + 1}: expected "seconds<TAB>milliwatts", got ${JSON.stringify(lines[i])}`);
    }
    if (mw < 0) throw new InputError(`${name}:${i + 1}: negative power ${mw} mW`);
    rows.push([t, mw]);
  }
  if (rows.length < 2) throw new InputError(`${name}: a power trace needs at least two samples`);
  const dt = (rows[rows.length - 1]![0] - rows[0]![0]) / (rows.length - 1);
  if (!(dt > 0)) throw new InputError(`${name}: timestamps must increase`);
  const watts = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) watts[i] = rows[i]![1] / 1000;
  return { name, dt, watts };
}

export function loadPowerTrace(path: string): PowerTrace {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read power trace ${path}: ${(e as Error).message}`);
  }
  return parsePowerTrace(text, path.split('/').pop() ?? path);
}

export function meanWatts(t: PowerTrace): number {
  let s = 0;
  for (let i = 0; i < t.watts.length; i++) s += t.watts[i]!;
  return s / t.watts.length;
}
