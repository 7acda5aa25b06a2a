/**
 * The engine registry: every intermittent-inference design japari can run, by kind.
 *
 * A design (EngineDesign) is what a user of japari writes to check an engine of their own: a
 * planner (network -> deployment plan), an engine over the Device (one object per boot), and an
 * inspector (pure views of its progress indicators for the properties). The built-in designs
 * (continuous, hawaii, japari, japari-loopcount, stateful) register here; a user's design
 * registers through `registerEngine` (the CLI's --engine-module loads an ES module that exports
 * one). Everything that runs engines -- the runner, fuzzing, exploration, the proofs, bench, the
 * kill matrix and the CLI -- looks designs up here; no other module compares engine names.
 *
 * What hangs off a design elsewhere, keyed by the design object (higher layers may not be
 * imported from here): its seeded faults, fixes and findings (catalogue.ts, by kind), its Z3
 * obligations (src/smt/designs.ts), its finding searches (src/report/findings.ts).
 */
import type { Device } from '../device/device.js';
import type { QuantizedNetwork } from '../model/quantize.js';
import type { EnginePlan, EngineParams, TensorRef } from './reference/plan.js';
import { buildOfModel, type FirmwareId } from './reference/firmware.js';
import type { Inspector } from './inspect.js';
import type { IndicatorScheme } from './scheme.js';

/** A declarative indicator scheme of one layer (or of the whole design) of a deployment. */
export interface LayerScheme {
  /** The label proof reports show, e.g. "conv1 (#0)". */
  readonly layer: string;
  readonly layerIndex?: number;
  readonly scheme: IndicatorScheme;
}
import { UsageError } from '../util/errors.js';

/** What a booted engine looks like to the runner. */
export interface Engine {
  /** Run from power-on until the inference in progress completes; throws PowerFailure. */
  boot(dev: Device): void;
  /** Hash of the engine's volatile state that lives across checkpoints (exploration's pruning). */
  carry(): number;
}

/** Faults a design's engine consults (catalogue ids), as a set. */
export type FaultSet = ReadonlySet<string>;

export interface EngineDesign {
  /** The --engine name: lower case, digits and dashes. */
  readonly kind: string;
  /** One line for listings, e.g. "HAWAII (footprint counters)". */
  readonly title: string;
  /** Where the design is described (algorithms.md section, paper, a user's README). */
  readonly source: string;
  /**
   * False for a design without progress preservation (continuous power only makes sense; B does
   * not apply and must stay 1).
   */
  readonly preserves: boolean;
  /** The B values the design accepts; absent: every integer in [1, 64]. */
  readonly batches?: readonly number[];
  /**
   * The build profile (reference/firmware.ts) the design is verified on when it is not from the
   * Stateful-CNN code base the hardware ran; absent: the build that ran the model on the hardware
   * (buildOfModel), else the default build.
   */
  readonly verifiedOn?: FirmwareId;
  /** Plan a deployment (tiles, NVM map, program image, the bit-exact reference). */
  plan(q: QuantizedNetwork, params: EngineParams): EnginePlan;
  /** A fresh engine for one boot (volatile state starts afresh, as after a power failure). */
  engine(plan: EnginePlan, faults: FaultSet): Engine;
  /** Pure views of the design's progress indicators. */
  inspector(plan: EnginePlan): Inspector;
  /**
   * Declarative indicator schemes (scheme.ts) of a deployment: the Z3 back end proves
   * distinguishability and seeker exactness for each, with no SMT written by the design's author.
   */
  schemes?(plan: EnginePlan): readonly LayerScheme[];
  /**
   * Stored words of a tensor -> the values its computation defines (the harness's view of an
   * output). Absent: the stored words are the values. Stateful clears the states it embeds.
   */
  decodeStored?(plan: EnginePlan, t: TensorRef, stored: Int16Array): Int16Array;
  /**
   * For a design loaded from a user's module: the module's path and content hash (replay tokens
   * name them, so a replay against a changed module is refused).
   */
  readonly module?: { readonly path: string; readonly sha256: string };
}

const designs = new Map<string, EngineDesign>();
const builtin = new Set<string>();

const KIND = /^[a-z][a-z0-9-]{0,39}$/;

function add(d: EngineDesign, isBuiltin: boolean): EngineDesign {
  if (!KIND.test(d.kind)) throw new UsageError(`engine kind ${JSON.stringify(d.kind)}: use lower-case letters, digits and dashes (at most 40)`);
  const prev = designs.get(d.kind);
  if (prev && prev !== d) {
    if (builtin.has(d.kind)) throw new UsageError(`engine kind ${JSON.stringify(d.kind)} is built into japari; choose another name`);
    if (prev.module?.sha256 !== d.module?.sha256 || prev.module?.path !== d.module?.path) {
      throw new UsageError(`engine kind ${JSON.stringify(d.kind)} is already registered${prev.module ? ` by ${prev.module.path}` : ''}`);
    }
  }
  for (const f of ['plan', 'engine', 'inspector'] as const) {
    if (typeof d[f] !== 'function') throw new UsageError(`engine ${JSON.stringify(d.kind)}: the registration has no ${f}() function`);
  }
  if (d.batches && (d.batches.length === 0 || d.batches.some((b) => !Number.isInteger(b) || b < 1 || b > 64))) {
    throw new UsageError(`engine ${JSON.stringify(d.kind)}: batches must be integers in [1, 64]`);
  }
  designs.set(d.kind, d);
  if (isBuiltin) builtin.add(d.kind);
  return d;
}

/** Register a built-in design (src/engines/designs.ts). */
export function registerBuiltin(d: EngineDesign): EngineDesign {
  return add(d, true);
}

/** Register a user's design (library API; --engine-module). Re-registering the same module is a no-op. */
export function registerEngine(d: EngineDesign): EngineDesign {
  return add(d, false);
}

/** The design of a kind; a UsageError naming the known kinds when there is none. */
export function designOf(kind: string): EngineDesign {
  const d = designs.get(kind);
  if (!d) throw new UsageError(`unknown engine ${JSON.stringify(kind)} (known: ${engineKinds().join(', ')}; a design of your own loads with --engine-module)`);
  return d;
}

export function hasEngine(kind: string): boolean {
  return designs.has(kind);
}

/** Registered kinds: the built-in ones first, in registration order. */
export function engineKinds(): string[] {
  const all = [...designs.keys()];
  return [...all.filter((k) => builtin.has(k)), ...all.filter((k) => !builtin.has(k))];
}

export function isBuiltinEngine(kind: string): boolean {
  return builtin.has(kind);
}

/** Check a B for a design (UsageError with the accepted values). */
export function checkBatch(d: EngineDesign, batch: number): void {
  if (!d.preserves && batch !== 1) throw new UsageError(`--batch: the ${d.kind} engine has no progress indicators, so B does not apply (leave it at 1), got ${batch}`);
  if (d.batches && !d.batches.includes(batch)) throw new UsageError(`--batch: the ${d.kind} engine supports B in ${d.batches.join(', ')}, got ${batch}`);
}

/**
 * The build a deployment is verified on (reports, the kill matrix): the design's own, else the
 * one the hardware ran the model on (firmware-2021.md), else the default build.
 */
export function verificationBuild(engine: string, model: string): FirmwareId {
  return designs.get(engine)?.verifiedOn ?? buildOfModel(model);
}
