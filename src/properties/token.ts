/**
 * Replay tokens: one short string that encodes everything a run depends on -- model (and its
 * content hash), engine, parameters, faults and fixes, input, warm-up inputs, garbage seed and
 * pattern, and the failure schedule -- so `japari replay <token>` reproduces a counterexample
 * exactly, or refuses to when the model it names is no longer the model the token was made on.
 *
 * Format: "jp2." + base64url(JSON with short keys, in a fixed key order):
 *   m model   h sha256 of the model (hex, LoadedModel.contentHash)   v japari version
 *   e engine  b B  p placement (s|i)  d profile  x faults  y fixes
 *   i input   w warm-up inputs  s garbage seed  g garbage (r|s|Q15 constant)  f schedule
 *   r firmware build (optional; absent: the library default, as in tokens made before it existed)
 * "jp1." tokens (before the hash and version were recorded; reports/mutants/ still holds them)
 * decode with the same rules minus h and v.
 *
 * Decoding is strict, like the command line: a token is untrusted input. Every key must be
 * present with the right type and range (no extra keys), ids must be known, and numbers obey the
 * limits the flags obey (a 32-bit seed, non-negative inputs, an ascending schedule). Anything
 * else is a UsageError naming the field.
 */
import type { GarbagePattern } from '../device/device.js';
import type { EngineKind, EngineParams } from '../engines/reference/plan.js';
import { engineKinds, hasEngine, designOf } from '../engines/registry.js';
import '../engines/designs.js';
import type { NvmPlacement } from '../device/profile.js';
import { PROFILES } from '../device/profile.js';
import { FAULT_IDS, FIX_IDS, VARIANT_IDS, fixesFor } from '../engines/catalogue.js';
import { loadModel } from '../model/models.js';
import { UsageError } from '../util/errors.js';
import { VERSION } from '../util/version.js';
import { FIRMWARE_IDS, LIBRARY_DEFAULT_FIRMWARE } from '../engines/reference/firmware.js';

export interface RunSpec {
  readonly model: string;
  readonly engine: EngineKind;
  readonly batch: number;
  readonly placement: NvmPlacement;
  readonly profile: string;
  /** Firmware build (firmware.ts); absent: the library default (tokens made before build profiles). */
  readonly firmware?: string;
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

/** What a token says beyond the run itself. */
export interface TokenInfo {
  readonly spec: RunSpec;
  /** sha256 of the model the token was made on (absent in jp1 tokens). */
  readonly modelHash?: string;
  /** The japari version that made it (absent in jp1 tokens). */
  readonly version?: string;
  /** The engine module the design came from (designs loaded with --engine-module), with its sha256. */
  readonly module?: { readonly path: string; readonly sha256: string };
  readonly format: 'jp1' | 'jp2';
}

const PREFIX = 'jp2.';
const LEGACY_PREFIX = 'jp1.';
/** Seeds are 32-bit (parseSeed); B, inputs and actions are non-negative safe integers (the flags' limits). */
const MAX_SEED = 0xffffffff;
/** A token longer than this is not one japari wrote (a schedule of 10^5 failures is already absurd). */
const MAX_TOKEN_CHARS = 1 << 20;

function garbageCode(g: GarbagePattern): string | number {
  return g.kind === 'random' ? 'r' : g.kind === 'stale' ? 's' : g.value;
}

/** The content hash a token records for `model` (loads it: the caller just ran it). */
export function modelHashOf(model: string): string {
  return loadModel(model).contentHash;
}

export function encodeToken(s: RunSpec): string {
  const module = hasEngine(s.engine) ? designOf(s.engine).module : undefined;
  const o = {
    m: s.model,
    h: modelHashOf(s.model),
    v: VERSION,
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
    ...(module ? { k: [module.path, module.sha256] } : {}),
    // r: the firmware build, written only when it is not the library default, so tokens made
    // before build profiles (no r) still decode to the build they ran on.
    ...(s.firmware !== undefined && s.firmware !== LIBRARY_DEFAULT_FIRMWARE ? { r: s.firmware } : {}),
  };
  return PREFIX + Buffer.from(JSON.stringify(o), 'utf8').toString('base64url');
}

/** Decode a token into its run (strict; UsageError naming what is wrong). */
export function decodeToken(token: string): RunSpec {
  return decodeTokenInfo(token).spec;
}

export function decodeTokenInfo(token: string): TokenInfo {
  const t = token.trim();
  const format = t.startsWith(PREFIX) ? 'jp2' : t.startsWith(LEGACY_PREFIX) ? 'jp1' : null;
  if (!format) throw new UsageError(`not a japari replay token (expected it to start with ${PREFIX})`);
  if (t.length > MAX_TOKEN_CHARS) throw new UsageError(`replay token is ${t.length} characters long; japari never writes one longer than ${MAX_TOKEN_CHARS}`);
  const body = t.slice(PREFIX.length);
  if (!/^[A-Za-z0-9_-]*$/.test(body)) throw new UsageError('replay token is corrupted (not base64url)');
  let o: unknown;
  try {
    o = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    throw new UsageError('replay token is corrupted (not base64url JSON)');
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new UsageError('replay token is corrupted (not a JSON object)');
  const rec = o as Record<string, unknown>;
  const keys = format === 'jp2' ? ['m', 'h', 'v', 'e', 'b', 'p', 'd', 'x', 'y', 'i', 'w', 's', 'g', 'f'] : ['m', 'e', 'b', 'p', 'd', 'x', 'y', 'i', 'w', 's', 'g', 'f'];
  const optional = format === 'jp2' ? ['k', 'r'] : [];
  const extra = Object.keys(rec).filter((k) => !keys.includes(k) && !optional.includes(k));
  if (extra.length > 0) throw new UsageError(`replay token: unknown field(s) ${extra.map((k) => JSON.stringify(k)).join(', ')}`);
  const missing = keys.filter((k) => !Object.hasOwn(rec, k));
  if (missing.length > 0) throw new UsageError(`replay token: missing field(s) ${missing.join(', ')}`);
  const bad = (what: string, v: unknown, want: string) => new UsageError(`replay token: bad ${what} ${clip(JSON.stringify(v) ?? String(v))} (expected ${want})`);

  const natural = (v: unknown, what: string, max = Number.MAX_SAFE_INTEGER): number => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max) throw bad(what, v, max === Number.MAX_SAFE_INTEGER ? 'a non-negative integer' : `an integer in 0..${max}`);
    return v;
  };
  const naturals = (v: unknown, what: string): number[] => {
    if (!Array.isArray(v)) throw bad(what, v, 'a list of non-negative integers');
    return v.map((x) => natural(x, what));
  };
  const ids = (v: unknown, what: string, known: readonly string[]): string[] => {
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw bad(what, v, 'a list of ids');
    for (const x of v as string[]) if (!known.includes(x)) throw bad(what, x, `one of ${known.join(', ')}`);
    if (new Set(v).size !== v.length) throw bad(what, v, 'each id once');
    return v as string[];
  };

  const model = rec['m'];
  if (typeof model !== 'string' || model.trim() === '' || model.length > 4096) throw bad('model', model, 'a model name or a .onnx path');
  // A design from an engine module: its path and sha256 (the replay loads and checks it).
  let module: { path: string; sha256: string } | undefined;
  if (Object.hasOwn(rec, 'k')) {
    const k = rec['k'];
    if (!Array.isArray(k) || k.length !== 2 || typeof k[0] !== 'string' || k[0].length > 4096 || typeof k[1] !== 'string' || !/^[0-9a-f]{64}$/.test(k[1])) {
      throw bad('engine module', k, '[path, sha256]');
    }
    module = { path: k[0], sha256: k[1] };
  }
  const engine = rec['e'];
  if (typeof engine !== 'string' || !/^[a-z][a-z0-9-]{0,39}$/.test(engine) || (!module && !hasEngine(engine))) throw bad('engine', engine, `one of ${engineKinds().join(', ')}, or a design of an engine module`);
  const batch = natural(rec['b'], 'batch');
  if (batch < 1) throw bad('batch', batch, 'B >= 1');
  const p = rec['p'];
  if (p !== 's' && p !== 'i') throw bad('placement', p, 's (SPI FRAM) or i (internal FRAM)');
  const profile = rec['d'];
  if (typeof profile !== 'string' || !Object.hasOwn(PROFILES, profile)) throw bad('profile', profile, `one of ${Object.keys(PROFILES).join(', ')}`);
  const faults = ids(rec['x'], 'faults', [...FAULT_IDS, ...VARIANT_IDS]) as RunSpec['faults'];
  const fixes = ids(rec['y'], 'fixes', FIX_IDS) as RunSpec['fixes'];
  const engineFixes: readonly string[] = fixesFor(engine);
  for (const f of fixes) if (!engineFixes.includes(f)) throw bad('fixes', f, `a fix of the ${engine} engine (${engineFixes.join(', ') || 'none'})`);
  const input = natural(rec['i'], 'input');
  const warmup = naturals(rec['w'], 'warm-up inputs');
  const seed = natural(rec['s'], 'seed', MAX_SEED);
  const g = rec['g'];
  let garbage: GarbagePattern;
  if (g === 'r') garbage = { kind: 'random' };
  else if (g === 's') garbage = { kind: 'stale' };
  else if (typeof g === 'number' && Number.isInteger(g) && g >= -32768 && g <= 32767) garbage = { kind: 'constant', value: g };
  else throw bad('garbage pattern', g, 'r, s or a Q15 value');
  const schedule = naturals(rec['f'], 'schedule');
  for (let i = 1; i < schedule.length; i++) if (schedule[i]! <= schedule[i - 1]!) throw bad('schedule', rec['f'], 'strictly ascending action indices');

  let modelHash: string | undefined;
  let version: string | undefined;
  if (format === 'jp2') {
    const h = rec['h'];
    if (typeof h !== 'string' || !/^[0-9a-f]{64}$/.test(h)) throw bad('model hash', h, 'a sha256 in hex');
    const v = rec['v'];
    if (typeof v !== 'string' || !/^[0-9A-Za-z.+-]{1,64}$/.test(v)) throw bad('version', v, 'a japari version');
    modelHash = h;
    version = v;
  }
  let firmware: string | undefined;
  if (Object.hasOwn(rec, 'r')) {
    const r = rec['r'];
    if (typeof r !== 'string' || !(FIRMWARE_IDS as readonly string[]).includes(r)) throw bad('firmware', r, `one of ${FIRMWARE_IDS.join(', ')}`);
    firmware = r;
  }
  const spec: RunSpec = {
    model,
    engine: engine as EngineKind,
    batch,
    placement: p === 's' ? 'spi-fram' : 'internal-fram',
    profile,
    ...(firmware !== undefined ? { firmware } : {}),
    faults,
    fixes,
    input,
    warmup,
    seed,
    garbage,
    schedule,
  };
  return { spec, format, ...(modelHash !== undefined ? { modelHash } : {}), ...(version !== undefined ? { version } : {}), ...(module ? { module } : {}) };
}

function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** The engine parameters a spec describes. */
export function paramsOf(s: RunSpec): EngineParams {
  return {
    engine: s.engine,
    batch: s.batch,
    placement: s.placement,
    profile: PROFILES[s.profile]!,
    ...(s.firmware !== undefined ? { firmware: s.firmware } : {}),
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
