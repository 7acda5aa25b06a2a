/**
 * The regression corpus: counterexamples kept as tests. Every campaign (fuzz, explore) and every
 * replay can save what it found with `--save-to DIR` (test/corpus/ for japari's own): one JSON
 * file per counterexample, holding its replay token, the model's content hash, the engine and the
 * expected verdict (with the properties it violates). The test suite replays the whole corpus
 * (test/properties/corpus.test.ts): a fixed fault stays fixed (its token still passes), and a
 * finding of a published design stays reproducible (its token still fails, violating at least
 * the recorded properties).
 *
 * A file is named by what it replays (engine, verdict, a digest of the run and the model hash),
 * so saving the same counterexample twice writes the same file.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { decodeTokenInfo, encodeToken, type RunSpec } from './token.js';
import { replaySpec } from './replay.js';
import { ensureTokenEngine } from './modules.js';
import { loadModel } from '../model/models.js';
import { stableStringify } from '../util/json.js';
import { writeFileAtomicSync } from '../util/fsx.js';
import { UsageError } from '../util/errors.js';

export const CORPUS_SCHEMA = 'japari.corpus/1';

export interface CorpusEntry {
  readonly schema: typeof CORPUS_SCHEMA;
  readonly token: string;
  readonly engine: string;
  readonly model: string;
  /** sha256 of the model the token was made on (LoadedModel.contentHash). */
  readonly model_hash: string;
  readonly expected: {
    readonly verdict: 'pass' | 'fail';
    /** Properties the replay violates (fail): each must still be violated. */
    readonly properties: readonly string[];
  };
  /** Where it came from (a campaign, a finding), for people. */
  readonly source: string;
}

/** A corpus entry for a run and the verdict it has now (replays it to record the properties). */
export function corpusEntry(spec: RunSpec, source: string): CorpusEntry {
  const r = replaySpec(spec);
  const properties = [...new Set(r.violations.map((v) => v.property))].sort();
  return {
    schema: CORPUS_SCHEMA,
    token: encodeToken(spec),
    engine: spec.engine,
    model: spec.model,
    model_hash: loadModel(spec.model).contentHash,
    expected: { verdict: properties.length > 0 ? 'fail' : 'pass', properties },
    source,
  };
}

/** The file name of an entry: engine, verdict, digest of the run (not of the japari version) and model. */
export function corpusFileName(e: CorpusEntry): string {
  const spec = decodeTokenInfo(e.token).spec;
  const digest = createHash('sha256').update(stableStringify(spec, 0)).update(e.model_hash).digest('hex').slice(0, 16);
  const safe = (s: string) => s.replace(/[^a-z0-9-]+/gi, '-').replace(/^-+|-+$/g, '').slice(0, 40);
  return `${safe(e.engine)}-${e.expected.verdict}-${digest}.json`;
}

/** Write entries into `dir` (each file atomically); returns the paths written. */
export function saveToCorpus(dir: string, entries: readonly CorpusEntry[]): string[] {
  mkdirSync(dir, { recursive: true });
  const out: string[] = [];
  for (const e of entries) {
    const path = join(dir, corpusFileName(e));
    writeFileAtomicSync(path, stableStringify(e, 2) + '\n');
    out.push(path);
  }
  return [...new Set(out)];
}

/** Parse one corpus file (strict: a malformed file is a UsageError naming it). */
export function parseCorpusEntry(text: string, where: string): CorpusEntry {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    throw new UsageError(`${where}: not JSON`);
  }
  const e = o as Partial<CorpusEntry>;
  if (typeof o !== 'object' || o === null || e.schema !== CORPUS_SCHEMA) throw new UsageError(`${where}: not a japari corpus entry (schema ${CORPUS_SCHEMA})`);
  if (typeof e.token !== 'string' || typeof e.engine !== 'string' || typeof e.model !== 'string' || typeof e.model_hash !== 'string' || typeof e.source !== 'string') {
    throw new UsageError(`${where}: needs token, engine, model, model_hash and source`);
  }
  const x = e.expected;
  if (!x || (x.verdict !== 'pass' && x.verdict !== 'fail') || !Array.isArray(x.properties) || x.properties.some((p) => typeof p !== 'string')) {
    throw new UsageError(`${where}: expected must be { verdict: pass|fail, properties: [...] }`);
  }
  if ((x.verdict === 'fail') !== x.properties.length > 0) throw new UsageError(`${where}: a fail verdict names the properties it violates (and a pass names none)`);
  const info = decodeTokenInfo(e.token);
  if (info.spec.engine !== e.engine || info.spec.model !== e.model) throw new UsageError(`${where}: engine or model differs from its token's`);
  if (info.modelHash !== undefined && info.modelHash !== e.model_hash) throw new UsageError(`${where}: model_hash differs from its token's`);
  return e as CorpusEntry;
}

/** The entries of a corpus folder, sorted by file name (an absent folder is an empty corpus). */
export function loadCorpus(dir: string): { file: string; entry: CorpusEntry }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ file: f, entry: parseCorpusEntry(readFileSync(join(dir, f), 'utf8'), join(dir, f)) }));
}

export interface CorpusOutcome {
  readonly ok: boolean;
  readonly verdict: 'pass' | 'fail';
  readonly properties: readonly string[];
  /** Why it does not hold (absent when ok). */
  readonly problem?: string;
}

/**
 * Replay one entry: its model must still be the recorded one (same content hash), its verdict
 * the expected one, and a failing entry must still violate every recorded property.
 */
export async function replayCorpusEntry(e: CorpusEntry): Promise<CorpusOutcome> {
  const info = decodeTokenInfo(e.token);
  await ensureTokenEngine(info.spec.engine, info.module);
  const hash = loadModel(info.spec.model).contentHash;
  if (hash !== e.model_hash) {
    return { ok: false, verdict: 'pass', properties: [], problem: `model ${info.spec.model} changed (sha256 ${hash.slice(0, 12)}..., recorded ${e.model_hash.slice(0, 12)}...)` };
  }
  const r = replaySpec(info.spec);
  const properties = [...new Set(r.violations.map((v) => v.property))].sort();
  const verdict = properties.length > 0 ? 'fail' : 'pass';
  if (verdict !== e.expected.verdict) {
    return { ok: false, verdict, properties, problem: verdict === 'fail' ? `expected pass, now violates ${properties.join(', ')} (a fixed fault is back)` : `expected fail (${e.expected.properties.join(', ')}), now passes (the counterexample no longer reproduces)` };
  }
  const lost = e.expected.properties.filter((p) => !properties.includes(p as (typeof properties)[number]));
  if (lost.length > 0) return { ok: false, verdict, properties, problem: `no longer violates ${lost.join(', ')} (violates ${properties.join(', ')})` };
  return { ok: true, verdict, properties };
}
