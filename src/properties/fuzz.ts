/**
 * Power-failure fuzzing with fast-check: arbitrary failure schedules (as gaps), inputs, warm-up
 * inferences (stale indicators) and SRAM garbage patterns, on a fixed model or on small random
 * networks. Every failure is shrunk by fast-check to a minimal schedule and turned into a
 * replay token.
 */
import fc from 'fast-check';
import { loadModel } from '../model/models.js';
import { type Deployment, runInference } from '../engines/runner.js';
import { type EngineDesign, registerEngine } from '../engines/designs.js';
import type { EngineKind } from '../engines/reference/plan.js';
import type { NvmPlacement } from '../device/profile.js';
import type { Violation } from './properties.js';
import { encodeToken, scheduleFromGaps, type RunSpec } from './token.js';
import { deploymentOf, replaySpec } from './replay.js';
import { gapsArb, garbageArb, randomNetworkArb } from './network.arb.js';
import type { GarbagePattern } from '../device/device.js';
import { EXTREME_INPUTS } from '../model/random-net.js';
import { UsageError } from '../util/errors.js';

export interface EngineChoice {
  readonly engine: EngineKind;
  readonly batch: number;
  readonly placement: NvmPlacement;
  readonly profile: string;
  /** Firmware build (firmware.ts); absent: the library default. */
  readonly firmware?: string;
  readonly faults: readonly string[];
  readonly fixes: readonly string[];
}

export interface FuzzOptions extends EngineChoice {
  /**
   * A model name (built-in, shared, a path, or one made with defineModel), or 'random' for random
   * networks (then B and placement vary too).
   */
  readonly model: string;
  /** A design of the caller's own: registered (registry.ts) before the campaign; `engine` must name it. */
  readonly design?: EngineDesign;
  /** Stop the campaign: the call rejects with an AbortError at the next schedule. */
  readonly signal?: AbortSignal;
  readonly seed: number;
  readonly runs?: number;
  readonly timeLimitS?: number;
  readonly maxFailures?: number;
  /**
   * Count only violations that do not depend on data values (not Violation.dataDependent): a
   * finding search that wants the effect of a flaw (skipped work, wrong output), not the hazard.
   */
  readonly effectsOnly?: boolean;
  /** Fix the checked inference's input (a sample index or seed) instead of drawing it. */
  readonly input?: number;
  /** Fix the warm-up inferences' inputs instead of drawing zero or one. */
  readonly warmup?: readonly number[];
  readonly onProgress?: (runs: number) => void;
}

export interface Counterexample {
  readonly property: Violation['property'];
  readonly spec: RunSpec;
  readonly token: string;
  readonly violations: readonly Violation[];
  /** Shrink steps fast-check took. */
  readonly shrinks: number;
}

export interface FuzzResult {
  readonly verdict: 'pass' | 'fail';
  readonly seed: number;
  readonly runs: number;
  readonly seconds: number;
  readonly schedulesPerSecond: number;
  readonly interrupted: boolean;
  readonly counterexample?: Counterexample;
}

interface Case {
  readonly model: string;
  readonly batch: number;
  readonly placement: NvmPlacement;
  readonly input: number;
  readonly warm: readonly number[];
  readonly gaps: number[];
  readonly seed: number;
  readonly garbage: GarbagePattern;
}

function specOf(o: FuzzOptions, c: Case): RunSpec {
  return {
    model: c.model,
    engine: o.engine,
    batch: c.batch,
    placement: c.placement,
    profile: o.profile,
    ...(o.firmware !== undefined ? { firmware: o.firmware } : {}),
    faults: o.faults,
    fixes: o.fixes,
    input: c.input,
    warmup: c.warm,
    seed: c.seed,
    garbage: c.garbage,
    schedule: scheduleFromGaps(c.gaps),
  };
}

/** Actions of one uninterrupted inference (sizes the schedule gaps). */
function spanOf(d: Deployment, input: Int16Array): number {
  return runInference(d, { input, supply: { kind: 'continuous' }, seed: 0 }).actions;
}

export function fuzz(o: FuzzOptions): FuzzResult {
  if (o.design) {
    if (o.design.kind !== o.engine) throw new UsageError(`fuzz: the design is ${o.design.kind}, the options name engine ${o.engine}`);
    registerEngine(o.design);
  }
  o.signal?.throwIfAborted();
  const maxF = o.maxFailures ?? 4;
  // Zero or one drawn warm-up inference, unless the caller fixed them.
  const warmArb = (ids: fc.Arbitrary<number>): fc.Arbitrary<readonly number[]> =>
    o.warmup !== undefined ? fc.constant(o.warmup) : fc.option(ids, { nil: null }).map((w) => (w === null ? [] : [w]));
  let caseArb: fc.Arbitrary<Case>;
  if (o.model === 'random') {
    caseArb = fc
      .record({
        model: randomNetworkArb,
        batch: fc.constantFrom(1, 2, 4, 8),
        placement: fc.constantFrom<NvmPlacement>('spi-fram', 'internal-fram'),
        // Ordinary inputs, and extreme ones that saturate at Q15's rails.
        input: o.input !== undefined ? fc.constant(o.input) : fc.oneof(fc.nat({ max: 999 }), fc.integer({ min: EXTREME_INPUTS, max: EXTREME_INPUTS + 999 })),
        warm: warmArb(fc.nat({ max: 999 })),
        gaps: gapsArb(4000, maxF),
        seed: fc.nat({ max: 0xffff }),
        garbage: garbageArb,
      })
      .map((c) => c as Case);
  } else {
    const m = loadModel(o.model);
    const d = deploymentOf({ ...o, model: o.model });
    const span = spanOf(d, m.inputQ(0));
    const inputArb = m.sampleCount > 0 ? fc.nat({ max: m.sampleCount - 1 }) : fc.nat({ max: 999 });
    caseArb = fc.record({
      model: fc.constant(o.model),
      batch: fc.constant(o.batch),
      placement: fc.constant(o.placement),
      input: o.input !== undefined ? fc.constant(o.input) : inputArb,
      warm: warmArb(inputArb),
      gaps: gapsArb(span, maxF),
      seed: fc.nat({ max: 0xffff }),
      garbage: garbageArb,
    });
  }
  let runs = 0;
  const t0 = performance.now();
  const counts = (v: Violation) => !(o.effectsOnly && v.dataDependent);
  const prop = fc.property(caseArb, (c) => {
    // An aborted campaign stops at the next schedule (the rejection below is what the caller sees).
    if (o.signal?.aborted) return true;
    runs++;
    if (o.onProgress && runs % 25 === 0) o.onProgress(runs);
    const r = replaySpec(specOf(o, c));
    return !r.violations.some(counts);
  });
  const numRuns = o.runs ?? (o.timeLimitS !== undefined ? 1_000_000_000 : 200);
  const res = fc.check(prop, {
    seed: o.seed,
    numRuns,
    ...(o.timeLimitS !== undefined ? { interruptAfterTimeLimit: o.timeLimitS * 1000 } : {}),
    markInterruptAsFailure: false,
  });
  o.signal?.throwIfAborted();
  const seconds = (performance.now() - t0) / 1000;
  const base = {
    seed: o.seed,
    runs: res.numRuns,
    seconds,
    schedulesPerSecond: runs / Math.max(seconds, 1e-9),
    interrupted: res.interrupted,
  };
  if (!res.failed || !res.counterexample) return { verdict: 'pass', ...base };
  if (res.errorInstance && !(res.counterexample && res.counterexample[0])) throw res.errorInstance;
  const c = res.counterexample[0] as Case;
  const spec = specOf(o, c);
  const replay = replaySpec(spec);
  const first = replay.violations.find(counts);
  if (!first) {
    // A property threw instead of returning false: surface the error.
    throw res.errorInstance instanceof Error ? res.errorInstance : new Error(String(res.errorInstance));
  }
  return {
    verdict: 'fail',
    ...base,
    counterexample: {
      property: first.property,
      spec,
      token: encodeToken(spec),
      violations: replay.violations,
      shrinks: res.numShrinks,
    },
  };
}
