/**
 * Replay tokens: one short string that encodes everything a run depends on -- model, engine,
 * parameters, faults and fixes, input, warm-up inputs, garbage seed and pattern, and the
 * failure schedule -- so `japari replay <token>` reproduces a counterexample exactly.
 *
 * Format: "jp1." + base64url(JSON with short keys, in a fixed key order).
 */
import type { GarbagePattern } from '../device/device.js';
import type { EngineKind, EngineParams } from '../engines/reference/plan.js';
import { hasEngine } from '../engines/registry.js';
import '../engines/designs.js';
import type { NvmPlacement } from '../device/profile.js';
import { PROFILES } from '../device/profile.js';
import { UsageError } from '../util/errors.js';

export interface RunSpec {
  readonly model: string;
  readonly engine: EngineKind;
  readonly batch: number;
  readonly placement: NvmPlacement;
  readonly profile: string;
  readonly faults: readonly string[];
  readonly fixes: readonly string[];
  /** Input id (sample index or seed, see models.ts). */
  readonly input: number;
  /** Input ids of uninterrupted warm-up inferences before the checked one. */
  readonly warmup: readonly number[];
  readonly seed: number;
  readonly garbage: GarbagePattern;
  /** Absolute failure actions of the checked inference. */
  readonly schedule: readonly number[];
}

const PREFIX = 'jp1.';

function garbageCode(g: GarbagePattern): string | number {
  return g.kind === 'random' ? 'r' : g.kind === 'stale' ? 's' : g.value;
}

function garbageOf(c: unknown): GarbagePattern {
  if (c === 'r') return { kind: 'random' };
  if (c === 's') return { kind: 'stale' };
  if (typeof c === 'number' && Number.isInteger(c) && c >= -32768 && c <= 32767) return { kind: 'constant', value: c };
  throw new UsageError(`replay token: bad garbage pattern ${JSON.stringify(c)}`);
}

export function encodeToken(s: RunSpec): string {
  const o = {
    m: s.model,
    e: s.engine,
    b: s.batch,
    p: s.placement === 'spi-fram' ? 's' : 'i',
    d: s.profile,
    x: s.faults,
    y: s.fixes,
    i: s.input,
    w: s.warmup,
    s: s.seed,
    g: garbageCode(s.garbage),
    f: s.schedule,
  };
  return PREFIX + Buffer.from(JSON.stringify(o), 'utf8').toString('base64url');
}

export function decodeToken(token: string): RunSpec {
  const t = token.trim();
  if (!t.startsWith(PREFIX)) throw new UsageError(`not a japari replay token (expected it to start with ${PREFIX})`);
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(Buffer.from(t.slice(PREFIX.length), 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new UsageError('replay token is corrupted (not base64url JSON)');
  }
  const bad = (what: string) => new UsageError(`replay token: bad ${what}`);
  const nums = (v: unknown, what: string): number[] => {
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0)) throw bad(what);
    return v as number[];
  };
  const strs = (v: unknown, what: string): string[] => {
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw bad(what);
    return v as string[];
  };
  if (typeof o['m'] !== 'string') throw bad('model');
  if (typeof o['e'] !== 'string' || !hasEngine(o['e'])) throw bad('engine');
  if (typeof o['b'] !== 'number' || !Number.isInteger(o['b'])) throw bad('batch');
  if (o['p'] !== 's' && o['p'] !== 'i') throw bad('placement');
  if (typeof o['d'] !== 'string' || !(o['d'] in PROFILES)) throw bad('profile');
  if (typeof o['i'] !== 'number' || !Number.isInteger(o['i'])) throw bad('input');
  if (typeof o['s'] !== 'number' || !Number.isInteger(o['s'])) throw bad('seed');
  const schedule = nums(o['f'], 'schedule');
  for (let i = 1; i < schedule.length; i++) if (schedule[i]! <= schedule[i - 1]!) throw bad('schedule (must ascend)');
  return {
    model: o['m'],
    engine: o['e'] as EngineKind,
    batch: o['b'],
    placement: o['p'] === 's' ? 'spi-fram' : 'internal-fram',
    profile: o['d'],
    faults: strs(o['x'], 'faults'),
    fixes: strs(o['y'], 'fixes'),
    input: o['i'],
    warmup: nums(o['w'], 'warm-up inputs'),
    seed: o['s'],
    garbage: garbageOf(o['g']),
    schedule,
  };
}

/** The engine parameters a spec describes. */
export function paramsOf(s: RunSpec): EngineParams {
  return {
    engine: s.engine,
    batch: s.batch,
    placement: s.placement,
    profile: PROFILES[s.profile]!,
    faults: s.faults,
    fixes: s.fixes,
  };
}

/** Failures in a schedule as gaps: gap[0] = first action, gap[i] = schedule[i] - schedule[i-1] - 1. */
export function scheduleFromGaps(gaps: readonly number[]): number[] {
  const out: number[] = [];
  let at = -1;
  for (const g of gaps) {
    at += 1 + g;
    out.push(at);
  }
  return out;
}
