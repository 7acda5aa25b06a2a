/**
 * Forward progress: if every power cycle funds at least the engine's minimum work -- a reboot,
 * the recovery, and one job -- the inference completes.
 *
 * The minimum work is measured on the executable model, per engine, model and B:
 *   step      the most energy the uninterrupted run spends between two consecutive checkpoints
 *             (one job: fetch, compute, preserve, indicator update)
 *   recovery  the most energy from a reboot to the first checkpoint after it (boot, record load,
 *             progress seeking, refetching tiles), over failures placed in the middle of every
 *             layer
 *   minimum   reboot + recovery + step (+ a commit, charged with the step that ends a layer)
 * The property then runs the inference on a capacitor that funds exactly that much per charge
 * (a harvester too weak to matter during on-time) and requires it to complete.
 */
import type { Deployment } from '../engines/runner.js';
import { runInference } from '../engines/runner.js';
import { energyAt, harvestPower, ceilingVolts, ratedVmax, type Capacitor, type Harvester } from '../device/energy.js';
import { ConfigError } from '../util/errors.js';
import type { PowerSupply } from '../device/device.js';

export interface MinimumWork {
  /** Joules: reboot + recovery + the largest step. */
  readonly joules: number;
  readonly rebootJ: number;
  readonly recoveryJ: number;
  readonly stepJ: number;
  /** Layer of the largest step and of the costliest recovery. */
  readonly stepLayer: number;
  readonly recoveryLayer: number;
}

export function minimumWork(d: Deployment, input: Int16Array): MinimumWork {
  // The largest step of the uninterrupted run, and where each layer's middle checkpoint falls.
  let lastNj = 0;
  let stepNj = 0;
  let stepLayer = 0;
  const cps: { action: number; layer: number }[] = [];
  const golden = runInference(d, {
    input,
    supply: { kind: 'continuous' },
    seed: 0,
    onCheckpoint: (dev) => {
      const delta = dev.nj - lastNj;
      if (delta > stepNj) {
        stepNj = delta;
        stepLayer = dev.layer;
      }
      lastNj = dev.nj;
      cps.push({ action: dev.action, layer: dev.layer });
    },
  });
  const tail = golden.device.nj - lastNj; // the last step and the final commit
  if (tail > stepNj) {
    stepNj = tail;
    stepLayer = golden.device.layer;
  }
  // Recovery cost: fail at the middle checkpoint of every layer, measure reboot -> first checkpoint.
  const byLayer = new Map<number, number[]>();
  for (const c of cps) byLayer.set(c.layer, [...(byLayer.get(c.layer) ?? []), c.action]);
  let recoveryNj = 0;
  let recoveryLayer = 0;
  const rebootNj = d.plan.params.profile.reboot.nj;
  for (const [layer, actions] of byLayer) {
    const at = actions[Math.floor(actions.length / 2)]!;
    let atReboot = -1;
    let measured = -1;
    runInference(d, {
      input,
      supply: { kind: 'schedule', failAt: [at] },
      seed: 0,
      onReboot: (dev) => {
        atReboot = dev.nj;
      },
      onCheckpoint: (dev) => {
        if (atReboot >= 0 && measured < 0) measured = dev.nj - atReboot;
      },
    });
    // Energy after the reboot itself (the reboot is counted separately).
    const rec = Math.max(0, measured);
    if (rec > recoveryNj) {
      recoveryNj = rec;
      recoveryLayer = layer;
    }
  }
  return {
    joules: (rebootNj + recoveryNj + stepNj) * 1e-9,
    rebootJ: rebootNj * 1e-9,
    recoveryJ: recoveryNj * 1e-9,
    stepJ: stepNj * 1e-9,
    stepLayer,
    recoveryLayer,
  };
}

/** A capacitor (Von 2.8 V, Voff 2.4 V) whose one charge holds `joules`. */
export function capacitorFor(joules: number): Capacitor {
  const von = 2.8;
  const voff = 2.4;
  return { farads: (2 * joules) / (von * von - voff * voff), von, voff };
}

/** A supply funding `joules` per power cycle; the harvester is too weak to matter while on. */
export function fundedSupply(joules: number): PowerSupply {
  return { kind: 'energy', capacitor: capacitorFor(joules), harvester: { kind: 'constant', watts: 1e-6 } };
}

export interface ForwardProgress {
  readonly minimum: MinimumWork;
  /** Margin over the minimum the check ran with (1.0 = exactly the minimum). */
  readonly margin: number;
  readonly completed: boolean;
  readonly equal: boolean;
  readonly powerCycles: number;
  readonly reason?: string;
}

/** Run the inference with every charge funding `margin` x the minimum work. */
export function checkForwardProgress(d: Deployment, input: Int16Array, margin = 1.0): ForwardProgress {
  const minimum = minimumWork(d, input);
  const r = runInference(d, { input, supply: fundedSupply(minimum.joules * margin), seed: 0, stallLimit: 64 });
  return {
    minimum,
    margin,
    completed: r.completed,
    equal: r.equal,
    powerCycles: r.powerCycles,
    ...(r.reason !== undefined ? { reason: r.reason } : {}),
  };
}

/** Energy of one charge of a capacitor between its thresholds (for reports). */
export function chargeJoules(c: Capacitor): number {
  return energyAt(c, c.von) - energyAt(c, c.voff);
}

/** The most power the harvester can deliver while the device runs (between Voff and the ceiling). */
function bestPower(h: Harvester, c: Capacitor): number {
  switch (h.kind) {
    case 'constant':
      return h.watts;
    case 'rc': {
      // P(V) = V (Vsup - V) / R peaks at Vsup / 2; the device runs with V in [Voff, ceiling].
      const v = Math.min(Math.max(h.vsup / 2, c.voff), ceilingVolts(c, h));
      return harvestPower(h, v, 0);
    }
    case 'trace': {
      let m = 0;
      for (let i = 0; i < h.trace.watts.length; i++) m = Math.max(m, h.trace.watts[i]!);
      return m;
    }
  }
}

function fmtJ(j: number): string {
  return j >= 1e-6 ? `${(j * 1e6).toFixed(1)} uJ` : `${(j * 1e9).toFixed(2)} nJ`;
}

function fmtC(f: number): string {
  return f >= 1e-6 ? `${+(f * 1e6).toPrecision(3)} uF` : `${+(f * 1e9).toPrecision(3)} nF`;
}

/**
 * Reject a capacitor that cannot fund one job, in two ways (each a necessary condition; the
 * runner's stall detection catches the rest):
 *  - a charge plus the most the harvester can add meanwhile must cover a reboot and the largest
 *    step of the uninterrupted run;
 *  - the largest step must fit into what the capacitor can hold above Voff at its ceiling (its
 *    rated maximum voltage) plus the harvest during the step itself: a job's work is lost when
 *    power fails inside it, and energy above the ceiling is clipped, so a strong harvester cannot
 *    bank a surplus for it.
 * Throws ConfigError naming the figures.
 */
export function assertChargeFundsOneJob(d: Deployment, input: Int16Array, supply: PowerSupply): void {
  if (supply.kind !== 'energy') return;
  let lastNj = 0;
  let lastCycles = 0;
  let stepNj = 0;
  let stepCycles = 0;
  const r = runInference(d, {
    input,
    supply: { kind: 'continuous' },
    seed: 0,
    onCheckpoint: (dev) => {
      if (dev.nj - lastNj > stepNj) {
        stepNj = dev.nj - lastNj;
        stepCycles = dev.cycles - lastCycles;
      }
      lastNj = dev.nj;
      lastCycles = dev.cycles;
    },
  });
  if (r.device.nj - lastNj > stepNj) {
    stepNj = r.device.nj - lastNj;
    stepCycles = r.device.cycles - lastCycles;
  }
  const c = supply.capacitor;
  const p = d.plan.params.profile;
  const pBest = bestPower(supply.harvester, c);
  const stepS = stepCycles / p.clockHz;
  const capacitor = `a ${fmtC(c.farads)} capacitor (Von ${c.von} V, Voff ${c.voff} V, Vmax ${ratedVmax(c)} V)`;
  const best = pBest * (stepS + p.reboot.seconds);
  const need = (p.reboot.nj + stepNj) * 1e-9;
  if (chargeJoules(c) + best < need) {
    throw new ConfigError(
      `${capacitor} holds ${fmtJ(chargeJoules(c))} per charge, but one job needs ${fmtJ(need)} (reboot ${(p.reboot.nj / 1e3).toFixed(1)} uJ + largest step ${(stepNj / 1e3).toFixed(1)} uJ)`,
    );
  }
  const room = energyAt(c, ceilingVolts(c, supply.harvester)) - energyAt(c, c.voff);
  const stepJ = stepNj * 1e-9;
  if (room + pBest * stepS < stepJ) {
    throw new ConfigError(
      `${capacitor} holds at most ${fmtJ(room)} above Voff, but the largest step of one job needs ${fmtJ(stepJ)}, of which the harvester delivers at most ${fmtJ(pBest * stepS)} during the step: no charge can fund one job`,
    );
  }
}
