/**
 * `japari merge RESULT...`: combine the result files of a campaign's shards (`japari explore
 * --shard i/n --out DIR`) into the whole campaign's result and report. A RESULT is a file or a
 * folder (its explore-*.json files); timing files beside the results are read for the figures.
 *
 * The merged result equals the unsharded run's (src/properties/merge.ts): --json prints the
 * document `japari explore --json` prints for the whole campaign, and --out writes the file
 * `japari explore --out` writes for it, byte for byte.
 *
 * Exit 0 when the campaign passes, 1 when a point fails or it is vacuous, 2 on bad input:
 * shards of different campaigns, a duplicate or missing shard index (one line saying which).
 */
import type { Command } from 'commander';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { RESULT_FILE, mergeShards, mergeTimings, parseResultFile, serializeDocument, shardFileName, timingFileName, type CampaignIdentity, type ShardFile, type ShardTiming } from '../../properties/merge.js';
import { stableStringify } from '../../util/json.js';
import { writeFileAtomicSync } from '../../util/fsx.js';
import { InputError, UsageError } from '../../util/errors.js';
import type { Io } from '../io.js';
import { createStyle } from '../style.js';
import { parseNonNegativeInt } from '../units.js';
import { parseEngine, parseFirmware, parsePlacement, parseProfileName, resolvePath } from '../options.js';
import { LIBRARY_DEFAULT_FIRMWARE } from '../../engines/reference/firmware.js';
import { exploreJson, exploreText, type ExploreCommandOptions } from './explore.js';
import { writeCounterexampleFiles } from './fuzz.js';
import { type CommandContext, EXIT_CHECK_FAILED, EXIT_OK } from '../command.js';

export const name = 'merge';

export interface MergeCommandOptions {
  readonly results: readonly string[];
  readonly json: boolean;
  readonly out?: string;
  readonly list: number;
  readonly report?: string;
}

interface RawMergeFlags {
  readonly json?: boolean;
  readonly out?: string;
  readonly list?: string;
  readonly report?: string;
}

export function parseMergeOptions(results: readonly string[], raw: RawMergeFlags): MergeCommandOptions {
  if (results.length === 0) throw new UsageError('merge: give the shard result files or the folders that hold them');
  return {
    results,
    json: raw.json === true,
    ...(raw.out !== undefined ? { out: raw.out } : {}),
    list: raw.list !== undefined ? parseNonNegativeInt(raw.list, '--list') : 5,
    ...(raw.report !== undefined ? { report: raw.report } : {}),
  };
}

/** The files named by the arguments: a folder stands for its result files, in name order. */
function expand(io: Io, args: readonly string[]): string[] {
  const files: string[] = [];
  for (const arg of args) {
    const path = resolvePath(io, arg);
    let isDir: boolean;
    try {
      isDir = statSync(path).isDirectory();
    } catch {
      throw new InputError(`merge: ${arg}: no such file or folder`);
    }
    if (!isDir) files.push(path);
    else {
      const found = readdirSync(path).filter((f) => RESULT_FILE.test(f)).sort();
      if (found.length === 0) throw new InputError(`merge: ${arg}: holds no explore result files (explore-<campaign>*.json)`);
      files.push(...found.map((f) => join(path, f)));
    }
  }
  return [...new Set(files)];
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError(`merge: ${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** The explore options that describe a campaign (what its report and replay tokens need). */
function optionsOfCampaign(c: CampaignIdentity, o: MergeCommandOptions): ExploreCommandOptions {
  return {
    target: {
      model: c.model,
      engine: parseEngine(c.engine, 'campaign engine'),
      batch: c.batch,
      placement: parsePlacement(c.placement, 'campaign placement'),
      profile: parseProfileName(c.profile, 'campaign profile'),
      firmware: parseFirmware(c.firmware ?? LIBRARY_DEFAULT_FIRMWARE, 'campaign firmware'),
      faults: c.faults,
      fixes: c.fixes,
      input: c.input,
      warmup: c.warmup,
    },
    seed: c.seed,
    depth: c.mode === 'depth3' ? 3 : c.mode === 'depth2' ? 2 : 1,
    ...(c.layer !== null ? { layer: c.layer } : {}),
    prune: c.pruning,
    shard: { index: 0, count: 1 },
    workers: 1,
    list: o.list,
    json: o.json,
    ...(c.stop_at_first ? { stopAtFirst: true } : {}),
    parities: c.parities === 2 ? 2 : 1,
  };
}

export async function runMerge(o: MergeCommandOptions, io: Io): Promise<number> {
  const st = createStyle(io);
  const shards: ShardFile[] = [];
  const timings: ShardTiming[] = [];
  const paths = expand(io, o.results);
  for (const path of paths) {
    const f = parseResultFile(readText(path), path);
    if (f.kind === 'timing') timings.push(f.timing);
    else shards.push({ path, doc: f.doc });
  }
  // Timing files beside the results, unless given already.
  for (const s of shards) {
    const t = join(dirname(s.path), timingFileName(s.doc.campaign_id, s.doc.shard));
    if (paths.includes(t)) continue;
    let text: string;
    try {
      text = readFileSync(t, 'utf8');
    } catch {
      continue; // timing is optional: a shard's figures are not part of its result
    }
    const f = parseResultFile(text, t);
    if (f.kind === 'timing') timings.push(f.timing);
  }
  if (shards.length === 0) throw new InputError('merge: only timing files given; give the shard result files');
  const merged = mergeShards(shards);
  const count = shards[0]!.doc.shard.count;
  const c = merged.campaign;
  const opts = optionsOfCampaign(c, o);
  const r = merged.result;
  const t = mergeTimings(merged, count, timings);
  if (!o.json) {
    io.err(`merged ${shards.length} shard(s) of campaign ${merged.campaign_id}: ${c.engine} B=${c.batch} on ${c.model} (${c.mode}${c.layer !== null ? `, layer ${c.layer}` : ''})\n`);
  }
  if (o.out !== undefined) {
    const path = join(resolvePath(io, o.out), shardFileName(merged.campaign_id, merged.shard));
    writeFileAtomicSync(path, serializeDocument(merged));
    if (!o.json) io.err(`wrote ${path}\n`);
  }
  if (o.report && r.failures.length > 0) {
    const f = r.failures[0]!;
    const spec = { model: c.model, engine: opts.target.engine, batch: c.batch, placement: opts.target.placement, profile: c.profile, ...(c.firmware !== undefined ? { firmware: c.firmware } : {}), faults: c.faults, fixes: c.fixes, input: c.input, warmup: c.warmup, seed: c.seed, garbage: c.garbage, schedule: f.schedule };
    const files = writeCounterexampleFiles(resolvePath(io, o.report), `counterexample-${f.violations[0]!.property}`, spec);
    if (!o.json) io.err(`wrote ${files.join(', ')}\n`);
  }
  if (o.json) {
    // The timing fields of `explore --json`: summed over the shards (null without timing files).
    const seconds = t ? t.seconds : NaN;
    const doc = exploreJson(opts, { ...r, seconds, workers: t ? t.workers : NaN, pointsPerSecond: r.stats.points / seconds }, c);
    io.out(stableStringify(doc) + '\n');
  } else {
    const timing = t
      ? `in ${t.seconds.toFixed(1)} s over ${count} shard(s) (longest ${t.longestShardSeconds.toFixed(1)} s${t.timedShards < count ? `; ${t.timedShards} of ${count} timed` : ''}), ${(r.stats.points / t.seconds).toFixed(0)} points/s`
      : `over ${count} shard(s) (no timing files)`;
    io.out(exploreText(opts, r, st, timing));
  }
  return r.verdict === 'pass' ? EXIT_OK : EXIT_CHECK_FAILED;
}

export function register(program: Command, ctx: CommandContext): void {
  program
    .command(name)
    .description("combine the result files of a campaign's shards (explore --shard i/n --out DIR) into one result and report")
    .argument('<results...>', 'shard result files, or folders holding them')
    .option('--json', 'print one JSON document (the same as explore --json of the unsharded campaign)')
    .option('--out <dir>', "write the whole campaign's result file here (the bytes explore --out writes without --shard)")
    .option('--list <k>', 'failing points to list (default 5)')
    .option('--report <dir>', 'write the first counterexample report (JSON, Markdown, SVG timeline) here')
    .action(async (results: string[], raw: RawMergeFlags) => ctx.setExit(await runMerge(parseMergeOptions(results, raw), ctx.io)));
}
