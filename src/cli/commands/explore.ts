/**
 * `japari explore`: exhaustive failure exploration. `linear` places one power failure at every
 * NVM write unit of the inference; `--layer L --depth 2` places every pair of failures inside
 * layer L (reboots during recovery included). Sound pruning stops each recovery once its state
 * equals the uninterrupted run's (--no-prune disables it). Campaigns split across worker threads
 * (--workers) and machines (--shard i/n); --out writes the shard's result file (deterministic
 * bytes, written atomically, so a retried shard is safe) for `japari merge`. --stop-at-first
 * ends the campaign at its first failing point.
 *
 * Exit 0 when every failure point passes, 1 when one fails or the campaign is vacuous (no point
 * tore a multi-unit write transfer although some could), 2 on bad usage.
 */
import type { Command } from 'commander';
import { join } from 'node:path';
import { runCampaign, type CampaignResult, type CampaignSpec } from '../../properties/campaign.js';
import { campaignId, campaignIdentity, serializeDocument, shardDocument, shardFileName, timingDocument, timingFileName, type CampaignIdentity } from '../../properties/merge.js';
import { deploymentOf } from '../../properties/replay.js';
import { loadModel } from '../../model/models.js';
import { planDigest, quantizedDigest } from '../../bench/version.js';
import { writeFileAtomicSync } from '../../util/fsx.js';
import { VERSION } from '../../index.js';
import { encodeToken } from '../../properties/token.js';
import { stableStringify } from '../../util/json.js';
import { UsageError } from '../../util/errors.js';
import type { Io } from '../io.js';
import { createStyle, type Style } from '../style.js';
import type { ExploreResult } from '../../properties/explore.js';
import { parseNonNegativeInt, parsePositiveInt, parseSeed } from '../units.js';
import { addVerifyFlags, deploymentOfTarget, parseVerifyTarget, type RawVerifyFlags, type VerifyTarget } from '../verify-options.js';
import { resolvePath } from '../options.js';
import { createProgress } from '../progress.js';
import { writeCounterexampleFiles } from './fuzz.js';
import { type CommandContext, EXIT_CHECK_FAILED, EXIT_OK } from '../command.js';
import { availableParallelism } from 'node:os';

export const name = 'explore';

export interface ExploreCommandOptions {
  readonly target: VerifyTarget;
  readonly seed: number;
  readonly depth: 1 | 2;
  readonly layer?: number;
  readonly prune: boolean;
  readonly shard: { readonly index: number; readonly count: number };
  readonly workers: number;
  readonly list: number;
  readonly report?: string;
  readonly json: boolean;
  /** Folder for the shard's result file (and its timing file). */
  readonly out?: string;
  readonly stopAtFirst?: boolean;
}

interface RawExploreFlags extends RawVerifyFlags {
  readonly seed?: string;
  readonly depth?: string;
  readonly layer?: string;
  readonly prune?: boolean;
  readonly shard?: string;
  readonly workers?: string;
  readonly list?: string;
  readonly report?: string;
  readonly json?: boolean;
  readonly out?: string;
  readonly stopAtFirst?: boolean;
}

export function parseShard(text: string): { index: number; count: number } {
  const m = /^([0-9]+)\/([0-9]+)$/.exec(text.trim());
  if (!m) throw new UsageError(`--shard: expected i/n (e.g. 0/4), got ${JSON.stringify(text)}`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || index >= count) throw new UsageError(`--shard: need 0 <= i < n, got ${text}`);
  return { index, count };
}

export function parseExploreOptions(raw: RawExploreFlags): ExploreCommandOptions {
  const depth = raw.depth === undefined ? 1 : parsePositiveInt(raw.depth, '--depth');
  if (depth !== 1 && depth !== 2) throw new UsageError('--depth: 1 (linear) or 2 (every pair within a layer)');
  if (depth === 2 && raw.layer === undefined) throw new UsageError('--depth 2 needs --layer L (pairs are explored within one layer)');
  // One thread keeps a stopped campaign's result independent of how points split among threads.
  const stopAtFirst = raw.stopAtFirst === true;
  if (stopAtFirst && raw.workers !== undefined && parsePositiveInt(raw.workers, '--workers') > 1) {
    throw new UsageError('--stop-at-first runs one worker thread (its result must not depend on the split); split with --shard instead');
  }
  return {
    target: parseVerifyTarget(raw),
    seed: raw.seed !== undefined ? parseSeed(raw.seed) : 0,
    depth,
    ...(raw.layer !== undefined ? { layer: parseNonNegativeInt(raw.layer, '--layer') } : {}),
    prune: raw.prune !== false,
    shard: raw.shard !== undefined ? parseShard(raw.shard) : { index: 0, count: 1 },
    workers: stopAtFirst ? 1 : raw.workers !== undefined ? parsePositiveInt(raw.workers, '--workers') : Math.min(2, availableParallelism()),
    list: raw.list !== undefined ? parseNonNegativeInt(raw.list, '--list') : 5,
    ...(raw.report !== undefined ? { report: raw.report } : {}),
    json: raw.json === true,
    ...(raw.out !== undefined ? { out: raw.out } : {}),
    ...(stopAtFirst ? { stopAtFirst } : {}),
  };
}

function campaignOf(o: ExploreCommandOptions): CampaignSpec {
  return {
    run: specFor(o, []),
    mode: o.depth === 2 ? 'depth2' : 'linear',
    ...(o.layer !== undefined ? { layer: o.layer } : {}),
    prune: o.prune,
    shard: o.shard,
    ...(o.stopAtFirst ? { stopAtFirst: true } : {}),
  };
}

/** The campaign's identity: its spec, the model's and the plan's digests, japari's version. */
export function identityOf(c: CampaignSpec): CampaignIdentity {
  return campaignIdentity(c, { model: quantizedDigest(loadModel(c.run.model).q), plan: planDigest(deploymentOf(c.run).plan) }, VERSION);
}

/** Write the shard's timing file, then its result file (each atomically); returns the result's path. */
export function writeShardFiles(dir: string, identity: CampaignIdentity, shard: { index: number; count: number }, r: CampaignResult): string {
  const doc = shardDocument(identity, shard, r);
  writeFileAtomicSync(join(dir, timingFileName(doc.campaign_id, shard)), serializeDocument(timingDocument(doc, r)));
  const path = join(dir, shardFileName(doc.campaign_id, shard));
  writeFileAtomicSync(path, serializeDocument(doc));
  return path;
}

function specFor(o: ExploreCommandOptions, schedule: readonly number[]) {
  const t = o.target;
  return { ...deploymentOfTarget(t), input: t.input, warmup: t.warmup, seed: o.seed, garbage: { kind: 'random' as const }, schedule };
}

export function exploreJson(o: ExploreCommandOptions, r: CampaignResult, identity?: CampaignIdentity): Record<string, unknown> {
  const t = o.target;
  return {
    schema: 1,
    command: 'explore',
    ...(identity ? { campaign_id: campaignId(identity) } : {}),
    ...deploymentOfTarget(t),
    input: t.input,
    warmup: t.warmup,
    seed: o.seed,
    mode: o.depth === 2 ? 'depth2' : 'linear',
    ...(o.layer !== undefined ? { layer: o.layer } : {}),
    shard: `${o.shard.index}/${o.shard.count}`,
    pruning: o.prune,
    stop_at_first: o.stopAtFirst === true,
    verdict: r.verdict,
    vacuous: r.vacuous,
    points: r.stats.points,
    torn_points: r.stats.tornPoints,
    tearable_points: r.stats.tearablePoints,
    write_units: r.stats.writeUnits,
    actions: r.stats.actions,
    failing_points: r.failures.length,
    golden_violations: r.golden.map((v) => ({ property: v.property, message: v.message })),
    converged: r.stats.converged,
    recovery_actions: r.stats.recoveryActions,
    pruning_factor: r.stats.unprunedActionsEstimate / Math.max(1, r.stats.recoveryActions),
    reexecuted_jobs: r.stats.reexecutedJobs,
    seconds: r.seconds,
    points_per_second: r.pointsPerSecond,
    workers: r.workers,
    ...(r.failures.length > 0
      ? {
          counterexample: {
            property: r.failures[0]!.violations[0]!.property,
            replay: encodeToken(specFor(o, r.failures[0]!.schedule)),
            schedule: r.failures[0]!.schedule,
          },
        }
      : {}),
    failures: r.failures.slice(0, o.list).map((f) => ({
      schedule: f.schedule,
      layer: f.layer,
      unit: f.unit,
      nvm_byte: f.addr,
      properties: [...new Set(f.violations.map((v) => v.property))],
      message: f.violations[0]!.message,
      replay: encodeToken(specFor(o, f.schedule)),
    })),
  };
}

export async function runExplore(o: ExploreCommandOptions, io: Io): Promise<number> {
  const st = createStyle(io);
  const t = o.target;
  const mode = o.depth === 2 ? `every pair of failures in layer ${o.layer}` : 'one failure at every NVM write unit';
  if (!o.json) io.err(`exploring ${t.engine} B=${t.batch} on ${t.model}: ${mode}${o.shard.count > 1 ? `, shard ${o.shard.index}/${o.shard.count}` : ''}${o.prune ? '' : ', no pruning'}\n`);
  const progress = createProgress(io, 'explore', !o.json);
  const campaign = campaignOf(o);
  const identity = identityOf(campaign);
  const r = await runCampaign(campaign, o.workers, (done, total) => progress.update(done, total));
  progress.done();
  if (o.out !== undefined) {
    const path = writeShardFiles(resolvePath(io, o.out), identity, o.shard, r);
    if (!o.json) io.err(`wrote ${path}\n`);
  }
  if (o.report && r.failures.length > 0) {
    const f = r.failures[0]!;
    const files = writeCounterexampleFiles(resolvePath(io, o.report), `counterexample-${f.violations[0]!.property}`, specFor(o, f.schedule));
    if (!o.json) io.err(`wrote ${files.join(', ')}\n`);
  }
  if (o.json) io.out(stableStringify(exploreJson(o, r, identity)) + '\n');
  else io.out(exploreText(o, r, st, `in ${r.seconds.toFixed(1)} s, ${r.pointsPerSecond.toFixed(0)} points/s on ${r.workers} worker(s)`));
  return r.verdict === 'pass' ? EXIT_OK : EXIT_CHECK_FAILED;
}

/** The human report of a campaign result (explore, and the merge of its shards); `timing` is free text. */
export function exploreText(o: ExploreCommandOptions, r: ExploreResult, st: Style, timing: string): string {
  const s = r.stats;
  const pf = s.unprunedActionsEstimate / Math.max(1, s.recoveryActions);
  const figures = `${s.points} failure points (${s.writeUnits} write units; ${s.tornPoints} tore a write transfer) ${timing}, pruning factor ${pf.toFixed(1)}`;
  if (r.vacuous) {
    return `${st.verdict('fail')} vacuous: no point failed, but none of ${s.points} failure points tore a write transfer of more than one unit although ${s.tearablePoints} of the campaign's points fall inside one (${s.writeUnits} write units) ${timing}: torn writes were not checked\n`;
  }
  if (r.verdict === 'pass') return `${st.verdict('pass')} held at all ${figures}\n`;
  const lines = [`${st.verdict('fail')} ${r.failures.length} failing point(s) among ${figures}`];
  for (const g of r.golden) lines.push(`  without any failure: ${g.property}: ${g.message}`);
  for (const f of r.failures.slice(0, o.list)) {
    lines.push(`  fail before action(s) ${f.schedule.join(', ')} (layer ${f.layer}, write unit ${f.unit}): ${f.violations[0]!.property}: ${f.violations[0]!.message}`);
    lines.push(`    replay: japari replay ${encodeToken(specFor(o, f.schedule))}`);
  }
  if (o.stopAtFirst) lines.push('  (--stop-at-first: the campaign stopped at its first failing point)');
  return lines.join('\n') + '\n';
}

export function register(program: Command, ctx: CommandContext): void {
  const cmd = program.command(name).description('exhaustive failure exploration: one failure at every NVM write unit, or every pair within a layer');
  addVerifyFlags(cmd)
    .option('--layer <L>', 'engine layer for --depth 2')
    .option('--depth <d>', '1: one failure per point (default); 2: every pair of failures within --layer')
    .option('--seed <n>', 'seed of the SRAM garbage after reboots (default 0)')
    .option('--no-prune', 'run every recovery to completion (slow twin of the pruned search)')
    .option('--shard <i/n>', 'explore only failure points i, i+n, i+2n, ... (split a campaign across machines)')
    .option('--workers <n>', 'worker threads (default: up to 2)')
    .option('--list <k>', 'failing points to list (default 5)')
    .option('--report <dir>', 'write the first counterexample report (JSON, Markdown, SVG timeline) here')
    .option('--json', 'print one JSON document')
    .option('--out <dir>', "write this shard's result file (deterministic bytes, atomic; for japari merge) and its timing file here")
    .option('--stop-at-first', 'stop at the first failing point (one worker thread)')
    .action(async (raw: RawExploreFlags) => ctx.setExit(await runExplore(parseExploreOptions(raw), ctx.io)));
}
