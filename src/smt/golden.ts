/**
 * Golden runs: one uninterrupted inference of a deployment with every landed NVM write unit
 * logged (address, action, layer-run). The proofs take from it what is static about a layer-run
 * -- the order in which write units land -- and the replays take the action index at which to
 * cut power to reach a given NVM state. Values are never taken from it for a proof.
 */
import type { Deployment } from '../engines/runner.js';
import { runInference } from '../engines/runner.js';
import { warmNvm } from '../properties/properties.js';

export interface GoldenRun {
  /** Landed write units of the checked inference, in order. */
  readonly addr: Uint32Array;
  readonly value: Uint16Array;
  readonly action: Float64Array;
  /** Layer of each unit (the ledger epoch's layer part; -1 before the first layer). */
  readonly layer: Int32Array;
  readonly length: number;
  /** Actions of the whole inference. */
  readonly actions: number;
  /** Byte address -> unit indices writing it, per layer (built on demand). */
  unitsOf(layer: number): ReadonlyMap<number, readonly number[]>;
  /** Action of the first checkpoint at or after each engine position (positionOf(layer, word)). */
  readonly checkpoints: ReadonlyMap<number, number>;
}

const cache = new WeakMap<Deployment, Map<string, GoldenRun>>();

export function goldenRun(d: Deployment, input: Int16Array, warmup: readonly Int16Array[]): GoldenRun {
  let m = cache.get(d);
  if (!m) {
    m = new Map();
    cache.set(d, m);
  }
  const key = [input, ...warmup].map((x) => `${x.length}:${digest(x)}`).join('|');
  const hit = m.get(key);
  if (hit) return hit;
  const checkpoints = new Map<number, number>();
  const r = runInference(d, {
    input,
    supply: { kind: 'continuous' },
    seed: 0,
    logWrites: true,
    nvm: warmNvm(d, warmup),
    onCheckpoint: (dev, pos) => {
      if (!checkpoints.has(pos)) checkpoints.set(pos, dev.action);
    },
  });
  const dev = r.device;
  const n = dev.writeLogLen;
  const layer = new Int32Array(n);
  for (let i = 0; i < n; i++) layer[i] = (dev.writeLogEpoch[i]! & 0xff) - 1;
  const byLayer = new Map<number, Map<number, number[]>>();
  const g: GoldenRun = {
    addr: dev.writeLogAddr.slice(0, n),
    value: dev.writeLogVal.slice(0, n),
    action: dev.writeLogAction.slice(0, n),
    layer,
    length: n,
    actions: r.actions,
    checkpoints,
    unitsOf(l: number) {
      let u = byLayer.get(l);
      if (!u) {
        u = new Map();
        for (let i = 0; i < n; i++) {
          if (layer[i] !== l) continue;
          const a = g.addr[i]!;
          const list = u.get(a);
          if (list) list.push(i);
          else u.set(a, [i]);
        }
        byLayer.set(l, u);
      }
      return u;
    },
  };
  m.set(key, g);
  return g;
}

function digest(x: Int16Array): number {
  let h = 2166136261;
  for (let i = 0; i < x.length; i++) h = Math.imul(h ^ (x[i]! & 0xffff), 16777619) >>> 0;
  return h;
}
