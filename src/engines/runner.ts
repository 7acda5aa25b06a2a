/**
 * Running an engine on the device: install the program, start inferences, reboot after every
 * power failure until the inference completes, and read the real outputs back.
 *
 * A run is a deterministic function of (deployment, input, supply, seed, garbage pattern).
 * Completion is judged from NVM (the model record's run counter), not from the engine's say:
 * a failure right after the final commit still counts as a completed inference.
 */
import { Device, type PowerSupply, type GarbagePattern, type TraceEvent, isPowerFailure, type Category } from '../device/device.js';
import { PagedMemory } from '../device/paged.js';
import type { EnginePlan, TensorRef } from './reference/plan.js';
import type { EngineParams } from './reference/plan.js';
import { pack, unpack } from '../model/layout.js';
import type { QuantizedNetwork } from '../model/quantize.js';
import { runQ15 } from '../model/q15.js';
import { RecordStore, initialRecord, encodeRecord } from './common/record.js';
import { type Engine, type EngineDesign, type FaultSet, designOf } from './registry.js';
import { checkCatalogue } from './catalogue.js';
import type { Inspector } from './inspect.js';
import { EngineStuck, UsageError } from '../util/errors.js';
import './designs.js';

export type { Engine } from './registry.js';

/** A network deployed with one engine design and its parameters: plan, program image, reference. */
export class Deployment {
  readonly design: EngineDesign;
  readonly plan: EnginePlan;
  readonly faults: FaultSet;
  private image: PagedMemory | null = null;
  private insp: Inspector | null = null;
  private readonly refCache = new Map<string, Int16Array>();

  /**
   * Plan `q` for the design `params.engine` names (registry.ts), or for `design` when given (a
   * design of the caller's own that need not be registered). Faults and fixes must belong to it.
   */
  constructor(q: QuantizedNetwork, params: EngineParams, design?: EngineDesign) {
    this.design = design ?? designOf(params.engine);
    if (design && params.engine !== design.kind) throw new UsageError(`the parameters name engine ${params.engine}, the design is ${design.kind}`);
    checkCatalogue(this.design.kind, params.faults ?? [], params.fixes ?? []);
    this.plan = this.design.plan(q, params);
    this.faults = new Set(this.plan.params.faults);
  }

  get q(): QuantizedNetwork {
    return this.plan.q;
  }

  /** A fresh engine for one boot. */
  newEngine(): Engine {
    return this.design.engine(this.plan, this.faults);
  }

  /** The design's pure views of its progress indicators (cached). */
  inspector(): Inspector {
    if (!this.insp) this.insp = this.design.inspector(this.plan);
    return this.insp;
  }

  /** NVM as flashed with the program: both record copies from the template (Stateful-CNN first_run). */
  installImage(): PagedMemory {
    if (!this.image) {
      const p = this.plan;
      const mem = new PagedMemory(p.params.profile.nvm[p.params.placement].bytes);
      const rec = initialRecord(p.nvm.slots.length);
      const bytes = encodeRecord(rec, p.nvm.recordBytes);
      mem.writeBytes(p.nvm.record, bytes, 0, bytes.length);
      const older = encodeRecord({ ...rec, version: 0 }, p.nvm.recordBytes);
      mem.writeBytes(p.nvm.record + p.nvm.recordBytes, older, 0, older.length);
      this.image = mem;
    }
    return this.image.snapshot();
  }

  /** The bit-exact reference output for a quantized input (logical layout). */
  reference(inputQ: Int16Array): Int16Array {
    const key = digestInput(inputQ);
    let r = this.refCache.get(key);
    if (!r) {
      r = runQ15(this.plan.q, inputQ, this.plan.arithmetic).output;
      this.refCache.set(key, r);
    }
    return r;
  }

  /** The harness writes the next input into the sample region (sensor data; not a device event). */
  writeInput(nvm: PagedMemory, inputQ: Int16Array): void {
    const stored = pack(this.plan.input.layout, inputQ);
    nvm.writeBytes(this.plan.input.base, new Uint8Array(stored.buffer, stored.byteOffset, stored.byteLength), 0, stored.byteLength);
  }

  /** Read a tensor's logical values out of NVM (harness view, no device cost). */
  readTensor(nvm: PagedMemory, t: TensorRef): Int16Array {
    const bytes = new Uint8Array(2 * t.layout.words);
    nvm.readBytes(t.base, bytes, 0, bytes.length);
    const stored = new Int16Array(bytes.buffer);
    return unpack(t.layout, this.design.decodeStored ? this.design.decodeStored(this.plan, t, stored) : stored);
  }

  records(): RecordStore {
    return new RecordStore(this.plan.nvm.record, this.plan.nvm.recordBytes, this.plan.nvm.slots.length);
  }

  /** Completed inferences so far, judged from NVM. */
  completedInferences(nvm: PagedMemory): number {
    const r = this.records().peek((a) => nvm.readU8(a));
    return r.running === 0 ? r.runCounter : r.runCounter;
  }

  inferenceRunning(nvm: PagedMemory): boolean {
    return this.records().peek((a) => nvm.readU8(a)).running !== 0;
  }
}

function digestInput(x: Int16Array): string {
  let h = 2166136261;
  for (let i = 0; i < x.length; i++) h = Math.imul(h ^ (x[i]! & 0xffff), 16777619) >>> 0;
  return `${x.length}:${h}`;
}

export interface RunOptions {
  readonly input: Int16Array;
  readonly supply: PowerSupply;
  /** Seed of the SRAM garbage after reboots. */
  readonly seed: number;
  readonly garbage?: GarbagePattern;
  readonly trace?: boolean;
  readonly logWrites?: boolean;
  /** Start from this NVM (e.g. after a warm-up inference); the installed image otherwise. */
  readonly nvm?: PagedMemory;
  /** Ledger memory (2 bytes per NVM byte) to tag every landed write with its layer-run. */
  readonly ledgerMemory?: PagedMemory;
  /** Continue counting actions/boots/failures from these (exploration sub-runs). */
  readonly start?: { readonly action: number; readonly boots: number; readonly failures: number };
  /** A retired device whose buffers the new one may reuse. */
  readonly reuse?: Device;
  /** Energy-driven runs: give up after this many power cycles without forward progress (default 16). */
  readonly stallLimit?: number;
  /** Hard cap on power cycles (default 1e6). */
  readonly maxPowerCycles?: number;
  /** Hooks for properties and exploration. */
  readonly onRecovered?: (dev: Device, layer: number, job: number, word: number) => void;
  readonly onCheckpoint?: (dev: Device, pos: number, carry: number) => void;
  readonly onReboot?: (dev: Device) => void;
}

export type Breakdown = Record<Category, { cycles: number; nj: number }>;

export interface RunResult {
  readonly completed: boolean;
  /** Why not, when not completed. */
  readonly reason?: string;
  /** Real outputs (footprints removed), logical layout. */
  readonly output: Int16Array;
  readonly reference: Int16Array;
  readonly equal: boolean;
  readonly powerCycles: number;
  readonly latencyS: number;
  readonly onTimeS: number;
  readonly rechargeS: number;
  readonly energyMJ: number;
  readonly cycles: number;
  readonly nvmBytesWritten: number;
  readonly breakdown: Breakdown;
  readonly actions: number;
  readonly undefinedReads: number;
  readonly trace?: readonly TraceEvent[];
  readonly device: Device;
}

/** A hook may stop a run early by throwing this (exploration's pruning). */
export class StopRun {
  constructor(readonly why: string) {}
}

export function makeDevice(d: Deployment, o: RunOptions, nvm: PagedMemory): Device {
  const p = d.plan;
  const dev = new Device({
    profile: p.params.profile,
    placement: p.params.placement,
    // Fault 'lea-no-saturation': the engine's LEA wraps where the reference assumes saturation.
    arithmetic: p.params.faults.includes('lea-no-saturation') ? { ...p.params.arithmetic, saturate: false } : p.params.arithmetic,
    supply: o.supply,
    seed: o.seed,
    ...(o.garbage ? { garbage: o.garbage } : {}),
    rom: p.rom,
    nvm,
    trace: o.trace ?? false,
    logWrites: o.logWrites ?? false,
    ...(o.ledgerMemory ? { ledger: o.ledgerMemory } : {}),
    ...(o.start ? { start: o.start } : {}),
    ...(o.reuse ? { reuse: o.reuse } : {}),
  });
  if (o.onRecovered) {
    const f = o.onRecovered;
    dev.onRecovered = (l, j, w) => f(dev, l, j, w);
  }
  if (o.onCheckpoint) {
    const f = o.onCheckpoint;
    dev.onCheckpoint = (pos, carry) => f(dev, pos, carry);
  }
  return dev;
}

/**
 * Drive one inference to completion on `dev` (whose NVM already holds the input), rebooting
 * after each power failure. Returns whether it completed and why not.
 */
export function driveInference(
  d: Deployment,
  dev: Device,
  o: Pick<RunOptions, 'stallLimit' | 'maxPowerCycles' | 'onReboot' | 'supply'> & {
    /** Completed inferences before this one (default: read from NVM now). A run resumed after a
     *  failure must pass it, since the failure may fall after the final commit. */
    readonly baseline?: number;
  },
): { completed: boolean; reason?: string } {
  const before = o.baseline ?? d.completedInferences(dev.nvm);
  // The inference may already be complete (a failure right after its final commit).
  if (o.baseline !== undefined && d.completedInferences(dev.nvm) === ((before + 1) & 0xffff) && !d.inferenceRunning(dev.nvm)) return { completed: true };
  const maxCycles = o.maxPowerCycles ?? 1_000_000;
  const stallLimit = o.stallLimit ?? 16;
  let stalls = 0;
  let lastKey = -1;
  let progressKey = -1;
  const prevRecovered = dev.onRecovered;
  dev.onRecovered = (l, j, w) => {
    progressKey = Math.max(progressKey, l * 4294967296 + w);
    prevRecovered?.(l, j, w);
  };
  try {
    for (let cycle = 0; ; cycle++) {
      try {
        d.newEngine().boot(dev);
        if (d.completedInferences(dev.nvm) === ((before + 1) & 0xffff) && !d.inferenceRunning(dev.nvm)) return { completed: true };
        // The engine believes it finished, but NVM does not say so: its record is corrupted.
        return { completed: false, reason: 'the engine returned, but the model record in NVM does not show the inference as completed (corrupted record)' };
      } catch (e) {
        // The engine's own consistency check gave up: on a device, a hang or a reboot loop.
        if (e instanceof EngineStuck) return { completed: false, reason: `the engine is stuck: ${e.message}` };
        if (!isPowerFailure(e)) throw e;
      }
      if (d.completedInferences(dev.nvm) === ((before + 1) & 0xffff) && !d.inferenceRunning(dev.nvm)) return { completed: true };
      if (cycle + 1 >= maxCycles) return { completed: false, reason: `no forward progress: gave up after ${maxCycles} power cycles` };
      if (o.supply.kind === 'energy') {
        if (progressKey <= lastKey) stalls++;
        else stalls = 0;
        lastKey = Math.max(lastKey, progressKey);
        if (stalls >= stallLimit) {
          return {
            completed: false,
            reason: `no forward progress: ${stallLimit} consecutive power cycles ended without advancing the recovered position (one charge cannot fund the engine's minimum work)`,
          };
        }
      }
      dev.reboot();
      o.onReboot?.(dev);
    }
  } finally {
    dev.onRecovered = prevRecovered;
  }
}

/** One inference from the installed image (or `o.nvm`), under `o.supply`. */
export function runInference(d: Deployment, o: RunOptions): RunResult {
  const nvm = o.nvm ? o.nvm.snapshot() : d.installImage();
  d.writeInput(nvm, o.input);
  const dev = makeDevice(d, o, nvm);
  const { completed, reason } = driveInference(d, dev, o);
  const output = d.readTensor(dev.nvm, d.plan.output);
  const reference = d.reference(o.input);
  let equal = completed && output.length === reference.length;
  for (let i = 0; equal && i < output.length; i++) if (output[i] !== reference[i]) equal = false;
  return {
    completed,
    ...(reason !== undefined ? { reason } : {}),
    output,
    reference,
    equal,
    powerCycles: dev.failures,
    latencyS: dev.seconds,
    onTimeS: dev.onSeconds,
    rechargeS: dev.rechargeS,
    energyMJ: dev.nj / 1e6,
    cycles: dev.cycles,
    nvmBytesWritten: dev.nvmBytesWritten,
    breakdown: dev.breakdown(),
    actions: dev.action,
    undefinedReads: dev.undefinedReads,
    ...(dev.trace ? { trace: dev.trace } : {}),
    device: dev,
  };
}

/** NVM after `n` uninterrupted inferences of `inputs[i]` (stale indicators for the next one). */
export function warmedUp(d: Deployment, inputs: readonly Int16Array[]): PagedMemory {
  let nvm = d.installImage();
  for (const x of inputs) {
    const r = runInference(d, { input: x, supply: { kind: 'continuous' }, seed: 0, nvm });
    if (!r.completed) throw new EngineStuck(`warm-up inference did not complete: ${r.reason}`);
    nvm = r.device.nvm;
  }
  return nvm;
}
