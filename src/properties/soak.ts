/**
 * Soak campaigns (`japari soak`): one device runs hundreds of inferences back to back, each with
 * random power failures, its NVM carried from one inference to the next -- so state that
 * accumulates is exercised: the model record's 8-bit version wraps (it is bumped at every layer
 * commit), the run counter passes 256 (the low byte tags the ledger's layer-runs), JAPARI's state
 * bits and turning-point tables and the loop-count SIGN go through every parity and fill level
 * the schedule reaches. Every inference is checked with every property (properties.ts
 * checkScenario, from the NVM the previous inference left).
 *
 * Deterministic: the inputs, failure schedules and SRAM garbage seeds of every inference flow
 * from the seed. A violation stops the soak, naming the inference; `japari soak --seed S
 * --inferences N` reproduces it, and where the earlier inferences' failures do not matter, a
 * replay token (the earlier inputs as uninterrupted warm-ups) reproduces it alone.
 */
import { Rng, mixSeed } from '../util/rng.js';
import { loadModel } from '../model/models.js';
import { runInference } from '../engines/runner.js';
import type { PagedMemory } from '../device/paged.js';
import { checkScenario, type Violation } from './properties.js';
import { deploymentOf, replaySpec } from './replay.js';
import { encodeToken, type RunSpec } from './token.js';
import { TURNING_POINTS } from '../engines/japari/rules.js';

export interface SoakOptions {
  readonly run: Pick<RunSpec, 'model' | 'engine' | 'batch' | 'placement' | 'profile' | 'faults' | 'fixes'>;
  readonly seed: number;
  readonly inferences: number;
  /** At most this many power failures per inference (drawn 0..max). */
  readonly maxFailures: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface SoakFailure {
  /** 0-based index of the failing inference. */
  readonly inference: number;
  readonly input: number;
  readonly schedule: readonly number[];
  readonly seed: number;
  readonly violations: readonly Violation[];
  /** A token that reproduces it alone (earlier inputs as uninterrupted warm-ups), when one does. */
  readonly token?: string;
}

export interface SoakResult {
  readonly verdict: 'pass' | 'fail';
  readonly seed: number;
  readonly inferences: number;
  readonly failures: number;
  /** Inferences with at least one power failure, and failures inside a recovery (a later failure within 64 actions). */
  readonly interrupted: number;
  readonly seconds: number;
  /** Times the model record's 8-bit version wrapped (255 -> 1), its last value, and the run counter. */
  readonly versionWraps: number;
  readonly lastVersion: number;
  readonly runCounter: number;
  /** The run counter's low byte wrapped (it passed a multiple of 256). */
  readonly runCounterWraps: number;
  /** Most turning points seen in any slot, and the table's capacity. */
  readonly maxTurningPoints: number;
  readonly turningPointCapacity: number;
  readonly stateFlips: number;
  readonly failure?: SoakFailure;
}

export function soak(o: SoakOptions): SoakResult {
  const d = deploymentOf(o.run);
  const m = loadModel(o.run.model);
  const insp = d.inspector();
  const rng = new Rng(mixSeed(o.seed, 0x50a4));
  const inputs = m.sampleCount > 0 ? m.sampleCount : 1000;
  const t0 = performance.now();
  // The uninterrupted inference's length sizes the failure schedules.
  const span = runInference(d, { input: m.inputQ(0), supply: { kind: 'continuous' }, seed: 0 }).actions;
  let nvm: PagedMemory = d.installImage();
  const read = (mem: PagedMemory) => (a: number) => mem.readU8(a);
  let failures = 0;
  let interrupted = 0;
  let versionWraps = 0;
  let runCounterWraps = 0;
  let maxTp = 0;
  let stateFlips = 0;
  let rec = insp.record(read(nvm));
  const history: number[] = [];
  let done = 0;
  for (let i = 0; i < o.inferences; i++) {
    o.signal?.throwIfAborted();
    const input = rng.int(0, inputs - 1);
    const k = rng.int(0, o.maxFailures);
    const at = new Set<number>();
    for (let j = 0; j < k; j++) {
      // Most failures anywhere in the inference; some right after another (inside its recovery).
      const prev = [...at];
      const base = prev.length > 0 && rng.float() < 0.3 ? prev[prev.length - 1]! + 1 + rng.int(0, 63) : rng.int(0, Math.max(0, span - 1));
      at.add(base);
    }
    const schedule = [...at].sort((a, b) => a - b);
    const seed = rng.u32();
    const r = checkScenario(d, { input: m.inputQ(input), warmup: [], ...(i > 0 ? { startNvm: nvm } : {}), failAt: schedule, seed });
    failures += r.result.powerCycles;
    if (r.result.powerCycles > 0) interrupted++;
    if (r.violations.length > 0) {
      const spec: RunSpec = { ...o.run, input, warmup: history, seed, garbage: { kind: 'random' }, schedule };
      const alone = replaySpec(spec).violations.length > 0;
      return result(i + 1, { inference: i, input, schedule, seed, violations: r.violations, ...(alone ? { token: encodeToken(spec) } : {}) });
    }
    history.push(input);
    nvm = r.result.device.nvm;
    const next = insp.record(read(nvm));
    if (next.version < rec.version) versionWraps++;
    if ((next.runCounter & 0xff) < (rec.runCounter & 0xff)) runCounterWraps++;
    for (let s = 0; s < next.slots.length; s++) {
      maxTp = Math.max(maxTp, next.slots[s]!.tps.length);
      if (rec.slots[s] && rec.slots[s]!.state !== next.slots[s]!.state) stateFlips++;
    }
    rec = next;
    done = i + 1;
    o.onProgress?.(done, o.inferences);
  }
  return result(done);

  function result(n: number, failure?: SoakFailure): SoakResult {
    return {
      verdict: failure ? 'fail' : 'pass',
      seed: o.seed,
      inferences: n,
      failures,
      interrupted,
      seconds: (performance.now() - t0) / 1000,
      versionWraps,
      lastVersion: rec.version,
      runCounter: rec.runCounter,
      runCounterWraps,
      maxTurningPoints: maxTp,
      turningPointCapacity: TURNING_POINTS,
      stateFlips,
      ...(failure ? { failure } : {}),
    };
  }
}

/**
 * Inferences a soak needs so the model record's 8-bit version wraps at least once and the run
 * counter's low byte passes 256: its version moves once per commit (every layer and the
 * inference's start), so 256 commits, and 257 inferences.
 */
export const SOAK_DEFAULT_INFERENCES = 300;
