/**
 * Shard result files of an exploration campaign, and their merge: how a campaign split with
 * `--shard i/n` across machines (Kubernetes pods, CI jobs) comes back together (issue 14).
 *
 * A shard file holds only what the exploration determines -- the campaign's identity, the shard,
 * and the whole ExploreResult (every failing point, not only the listed ones) -- serialised with
 * sorted keys, so rerunning a shard gives the same bytes and a failed pod's retry is safe.
 * Wall-clock figures (seconds, points/s, worker threads) go to a sibling `.timing.json` file.
 *
 * The identity names everything the result depends on: the tool's version, the model by name
 * and by content (digest of the quantized network and of the deployment plan), engine and
 * parameters, faults and fixes, input, warm-up, garbage seed, mode, layer, pruning and
 * stop-at-first. Its digest names the campaign; two shards merge only when their identities are
 * equal, each index 0..n-1 is present exactly once, and they agree on the uninterrupted run.
 *
 * The merge of shards 0..n-1 is the document of shard 0/1, the unsharded run: the same failing
 * points in the same order, the same sums, the same verdict (test/cli/shards.test.ts compares
 * the bytes). With --stop-at-first each shard stops at its own first failure, so the merge holds
 * the whole campaign's first failure but explored more points than an unsharded run would.
 */
import { createHash } from 'node:crypto';
import { InputError, UsageError } from '../util/errors.js';
import { stableStringify } from '../util/json.js';
import type { CampaignSpec } from './campaign.js';
import { merge } from './campaign.js';
import type { ExploreMode, ExploreResult, FailurePoint } from './explore.js';
import type { RunSpec } from './token.js';

export const SHARD_SCHEMA = 1;
const RESULT_KIND = 'japari-explore-result';
const TIMING_KIND = 'japari-explore-timing';

/** Everything a campaign's result depends on (the file's `campaign` section): the run without its schedule, and: */
export interface CampaignIdentity extends Omit<RunSpec, 'schedule'> {
  /** Version of japari that ran it. */
  readonly japari: string;
  /** Digest of the quantized network (src/bench/version.ts quantizedDigest). */
  readonly model_hash: string;
  /** Digest of the deployment plan: program image and NVM map (planDigest). */
  readonly plan_hash: string;
  readonly mode: ExploreMode;
  readonly layer: number | null;
  readonly pruning: boolean;
  readonly stop_at_first: boolean;
  /** 2: both parities (the inference after the warm-ups, and after one more). */
  readonly parities: 1 | 2;
}

export interface ShardIndex {
  readonly index: number;
  readonly count: number;
}

/** One shard's result file (deterministic bytes). */
export interface ShardDocument {
  readonly schema: typeof SHARD_SCHEMA;
  readonly kind: typeof RESULT_KIND;
  readonly campaign_id: string;
  readonly campaign: CampaignIdentity;
  readonly shard: ShardIndex;
  readonly result: ExploreResult;
}

/** A shard's wall-clock figures (the sibling `.timing.json`; not deterministic). */
export interface ShardTiming {
  readonly schema: typeof SHARD_SCHEMA;
  readonly kind: typeof TIMING_KIND;
  readonly campaign_id: string;
  readonly shard: ShardIndex;
  readonly seconds: number;
  readonly points_per_second: number;
  readonly workers: number;
}

export function campaignIdentity(c: CampaignSpec, hashes: { readonly model: string; readonly plan: string }, version: string): CampaignIdentity {
  const r = c.run;
  return {
    japari: version,
    model: r.model,
    model_hash: hashes.model,
    plan_hash: hashes.plan,
    engine: r.engine,
    batch: r.batch,
    placement: r.placement,
    profile: r.profile,
    ...(r.firmware !== undefined ? { firmware: r.firmware } : {}),
    faults: r.faults,
    fixes: r.fixes,
    input: r.input,
    warmup: r.warmup,
    seed: r.seed,
    garbage: r.garbage,
    mode: c.mode,
    layer: c.layer ?? null,
    pruning: c.prune,
    stop_at_first: c.stopAtFirst === true,
    parities: c.parities ?? 1,
  };
}

/** SHA-256 (first 16 hex digits) of the identity's canonical JSON: the campaign's name. */
export function campaignId(id: CampaignIdentity): string {
  return createHash('sha256').update(stableStringify(id, 0)).digest('hex').slice(0, 16);
}

/** `explore-<id>.json` for a whole campaign, `explore-<id>-shard-07-of-50.json` for a shard. */
export function shardFileName(id: string, shard: ShardIndex): string {
  if (shard.count === 1) return `explore-${id}.json`;
  const w = String(shard.count - 1).length;
  return `explore-${id}-shard-${String(shard.index).padStart(w, '0')}-of-${shard.count}.json`;
}

export function timingFileName(id: string, shard: ShardIndex): string {
  return shardFileName(id, shard).replace(/\.json$/, '.timing.json');
}

/** Result files in a folder (shards and whole campaigns; timing files are found beside them). */
export const RESULT_FILE = /^explore-[0-9a-f]{16}(-shard-[0-9]+-of-[0-9]+)?\.json$/;

/** Failing points in campaign order: by schedule, a first failure before the pairs that extend it. */
function byCampaignOrder(a: FailurePoint, b: FailurePoint): number {
  if ((a.phase ?? 0) !== (b.phase ?? 0)) return (a.phase ?? 0) - (b.phase ?? 0);
  const n = Math.min(a.schedule.length, b.schedule.length);
  for (let i = 0; i < n; i++) if (a.schedule[i] !== b.schedule[i]) return a.schedule[i]! - b.schedule[i]!;
  return a.schedule.length - b.schedule.length;
}

export function shardDocument(identity: CampaignIdentity, shard: ShardIndex, result: ExploreResult): ShardDocument {
  const { verdict, vacuous, failures, golden, stats } = result;
  return {
    schema: SHARD_SCHEMA,
    kind: RESULT_KIND,
    campaign_id: campaignId(identity),
    campaign: identity,
    shard: { index: shard.index, count: shard.count },
    // Only the deterministic fields (a CampaignResult also carries seconds and workers).
    result: { verdict, vacuous, failures: [...failures].sort(byCampaignOrder), golden, stats },
  };
}

export function timingDocument(doc: ShardDocument, t: { readonly seconds: number; readonly pointsPerSecond: number; readonly workers: number }): ShardTiming {
  return { schema: SHARD_SCHEMA, kind: TIMING_KIND, campaign_id: doc.campaign_id, shard: doc.shard, seconds: t.seconds, points_per_second: t.pointsPerSecond, workers: t.workers };
}

/** The file's bytes: sorted keys, two-space indent, one final newline. */
export function serializeDocument(doc: ShardDocument | ShardTiming): string {
  return stableStringify(doc) + '\n';
}

// ---------------------------------------------------------------------------------------------
// Reading

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
const isNat = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0;

const STAT_KEYS = ['points', 'writeUnits', 'actions', 'checkpoints', 'converged', 'recoveryActions', 'unprunedActionsEstimate', 'reexecutedJobs', 'tornPoints', 'tearablePoints', 'pairs', 'triples', 'naivePoints'] as const;

function checkShard(x: unknown): string | null {
  if (!isObj(x) || !isNat(x['index']) || !isNat(x['count']) || x['count'] < 1 || x['index'] >= x['count']) return 'shard is not {index, count} with 0 <= index < count';
  return null;
}

/** What is wrong with a parsed result document, or null. */
function resultProblem(d: Obj): string | null {
  const c = d['campaign'];
  if (!isObj(c) || typeof c['model'] !== 'string' || typeof c['engine'] !== 'string' || typeof c['model_hash'] !== 'string') return 'no campaign section';
  if (d['campaign_id'] !== campaignId(c as unknown as CampaignIdentity)) return 'campaign_id does not match its campaign section (edited or damaged)';
  const s = checkShard(d['shard']);
  if (s) return s;
  const r = d['result'];
  if (!isObj(r) || (r['verdict'] !== 'pass' && r['verdict'] !== 'fail') || typeof r['vacuous'] !== 'boolean') return 'no result section';
  if (!Array.isArray(r['golden'])) return 'result.golden is not a list';
  const st = r['stats'];
  if (!isObj(st)) return 'result.stats is missing';
  for (const k of STAT_KEYS) if (!isNat(st[k])) return `result.stats.${k} is not a count`;
  if (!Array.isArray(r['failures'])) return 'result.failures is not a list';
  for (const f of r['failures'] as unknown[]) {
    if (!isObj(f) || !Array.isArray(f['schedule']) || !f['schedule'].every(isNat) || !isNat(f['unit']) || !Array.isArray(f['violations']) || f['violations'].length === 0) {
      return 'result.failures holds a malformed failing point';
    }
  }
  return null;
}

export type ParsedFile = { readonly kind: 'result'; readonly doc: ShardDocument } | { readonly kind: 'timing'; readonly timing: ShardTiming };

/** Parse a result or timing file; InputError (naming the file) when it is neither. */
export function parseResultFile(text: string, path: string): ParsedFile {
  let d: unknown;
  try {
    d = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${path}: not JSON (${(e as Error).message})`);
  }
  if (!isObj(d)) throw new InputError(`${path}: not a japari explore result (expected a JSON object)`);
  if (d['schema'] !== SHARD_SCHEMA) throw new InputError(`${path}: not a japari explore result of schema ${SHARD_SCHEMA} (schema ${JSON.stringify(d['schema'])})`);
  if (d['kind'] === TIMING_KIND) {
    const s = checkShard(d['shard']);
    if (s || typeof d['campaign_id'] !== 'string' || typeof d['seconds'] !== 'number' || !isNat(d['workers'])) throw new InputError(`${path}: malformed timing file`);
    return { kind: 'timing', timing: d as unknown as ShardTiming };
  }
  if (d['kind'] !== RESULT_KIND) throw new InputError(`${path}: not a japari explore result (kind ${JSON.stringify(d['kind'])})`);
  const problem = resultProblem(d);
  if (problem) throw new InputError(`${path}: malformed explore result: ${problem}`);
  return { kind: 'result', doc: d as unknown as ShardDocument };
}

// ---------------------------------------------------------------------------------------------
// Merging

export interface ShardFile {
  readonly path: string;
  readonly doc: ShardDocument;
}

function listed(xs: readonly number[]): string {
  return xs.length <= 12 ? xs.join(', ') : `${xs.slice(0, 12).join(', ')}, ... (${xs.length} in all)`;
}

/** The campaign fields in which two identities differ, as "key: a vs b". */
function differences(a: CampaignIdentity, b: CampaignIdentity): string[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  const out: string[] = [];
  for (const k of keys) {
    const x = stableStringify((a as unknown as Obj)[k], 0);
    const y = stableStringify((b as unknown as Obj)[k], 0);
    if (x !== y) out.push(`${k} ${x} vs ${y}`);
  }
  return out;
}

/** The uninterrupted run as a shard saw it; every shard of one campaign sees the same. */
function goldenOf(r: ExploreResult): string {
  const s = r.stats;
  return stableStringify({ golden: r.golden, writeUnits: s.writeUnits, actions: s.actions, checkpoints: s.checkpoints, tearablePoints: s.tearablePoints }, 0);
}

/**
 * Merge the shards 0..n-1 of one campaign into the whole campaign's document (shard 0/1).
 * Refuses, with one line naming the files or indices: shards of different campaigns, shards of
 * different splits, a duplicate index, a missing index, shards that disagree on the
 * uninterrupted run.
 */
export function mergeShards(files: readonly ShardFile[]): ShardDocument {
  if (files.length === 0) throw new UsageError('merge: no shard result given');
  const first = files[0]!;
  for (const f of files) {
    if (f.doc.campaign_id !== first.doc.campaign_id) {
      const diff = differences(first.doc.campaign, f.doc.campaign);
      throw new InputError(`merge: ${first.path} and ${f.path} are shards of different campaigns (${diff.join('; ')})`);
    }
  }
  const n = first.doc.shard.count;
  for (const f of files) {
    if (f.doc.shard.count !== n) {
      throw new InputError(`merge: ${first.path} is shard ${first.doc.shard.index}/${n} but ${f.path} is shard ${f.doc.shard.index}/${f.doc.shard.count}: every shard must come from the same split`);
    }
  }
  const byIndex = new Map<number, ShardFile>();
  for (const f of files) {
    const seen = byIndex.get(f.doc.shard.index);
    if (seen) throw new InputError(`merge: shard ${f.doc.shard.index}/${n} given twice (${seen.path} and ${f.path})`);
    byIndex.set(f.doc.shard.index, f);
  }
  const missing: number[] = [];
  for (let i = 0; i < n; i++) if (!byIndex.has(i)) missing.push(i);
  if (missing.length > 0) throw new InputError(`merge: missing shard(s) ${listed(missing)} of ${n} (campaign ${first.doc.campaign_id}; ${files.length} given)`);
  const g0 = goldenOf(first.doc.result);
  for (const f of files) {
    if (goldenOf(f.doc.result) !== g0) throw new InputError(`merge: ${first.path} and ${f.path} disagree on the uninterrupted run (write units, actions or its violations): not the same build of japari`);
  }
  const parts = [...byIndex.keys()].sort((a, b) => a - b).map((i) => byIndex.get(i)!.doc.result);
  return shardDocument(first.doc.campaign, { index: 0, count: 1 }, merge(parts));
}

/** Wall-clock figures of a merge: sums over the shards that have a timing file. */
export interface MergedTiming {
  /** Sum of the shards' seconds (what one machine would have spent). */
  readonly seconds: number;
  /** Longest shard (the campaign's wall time when all shards run at once). */
  readonly longestShardSeconds: number;
  readonly workers: number;
  readonly timedShards: number;
}

export function mergeTimings(doc: ShardDocument, count: number, timings: readonly ShardTiming[]): MergedTiming | null {
  const mine = new Map<number, ShardTiming>();
  for (const t of timings) if (t.campaign_id === doc.campaign_id && t.shard.count === count) mine.set(t.shard.index, t);
  if (mine.size === 0) return null;
  const ts = [...mine.values()];
  return {
    seconds: ts.reduce((a, t) => a + t.seconds, 0),
    longestShardSeconds: Math.max(...ts.map((t) => t.seconds)),
    workers: ts.reduce((a, t) => a + t.workers, 0),
    timedShards: mine.size,
  };
}
