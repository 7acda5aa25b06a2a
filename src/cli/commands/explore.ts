/**
 * `japari explore`: exhaustive failure exploration. `linear` places one power failure at every
 * NVM write unit of the inference; `--depth 2` places every pair of failures in the whole
 * inference (`--depth 3` every triple; `--layer L` keeps only failures inside layer L), reboots
 * during recovery included. Sound pruning stops each recovery once its state equals the
 * uninterrupted run's (--no-prune disables it); a nested failure after that is a failure of the
 * uninterrupted run, which the shallower search places, so only the window between a failure
 * and convergence receives nested failures. Campaigns split across worker threads
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
import { validateOutputDir, writeFileAtomicSync } from '../../util/fsx.js';
import { VERSION } from '../../index.js';
import { encodeToken } from '../../properties/token.js';
import { stableStringify } from '../../util/json.js';
import { EngineStuck, UsageError } from '../../util/errors.js';
import type { Io } from '../io.js';
import { createStyle, type Style } from '../style.js';
import { secondParityWarmup, type ExploreMode, type ExploreResult } from '../../properties/explore.js';
import { parseNonNegativeInt, parsePositiveInt, parseSeed } from '../units.js';
import { addVerifyFlags, checkInputIds, deploymentOfTarget, loadTargetModel, parseVerifyTarget, type RawVerifyFlags, type VerifyTarget } from '../verify-options.js';
import { capWorkers, resolvePath } from '../options.js';
import { warmNvm } from '../../properties/properties.js';
import { runInference, type Deployment } from '../../engines/runner.js';
import { PagedMemory } from '../../device/paged.js';
import { createProgress } from '../progress.js';
import { writeCounterexampleFiles } from './fuzz.js';
import { type CommandContext, EXIT_CHECK_FAILED, EXIT_OK } from '../command.js';
import { availableParallelism } from 'node:os';
import { SAVE_TO_HELP, saveCounterexamples } from '../save-to.js';

export const name = 'explore';

export interface ExploreCommandOptions {
  readonly target: VerifyTarget;
  readonly seed: number;
  readonly depth: 1 | 2 | 3;
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
  /** Corpus folder for the counterexamples found (save-to.ts). */
  readonly saveTo?: string;
  /** 2 (default): also the inference after one more warm-up, so both parities of the state bits are explored. */
  readonly parities: 1 | 2;
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
  readonly saveTo?: string;
  readonly oneParity?: boolean;
}

export function parseShard(text: string): { index: number; count: number } {
  const m = /^([0-9]+)\/([0-9]+)$/.exec(text.trim());
  if (!m) throw new UsageError(`--shard: expected i/n (e.g. 0/4), got ${JSON.stringify(text)}`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || index >= count) throw new UsageError(`--shard: need 0 <= i < n, got ${text}`);
  return { index, count };
}

export function parseExploreOptions(raw: RawExploreFlags, io: Pick<Io, 'cwd'> = { cwd: process.cwd() }): ExploreCommandOptions {
  const depth = raw.depth === undefined ? 1 : parsePositiveInt(raw.depth, '--depth');
  if (depth !== 1 && depth !== 2 && depth !== 3) throw new UsageError('--depth: 1 (one failure per point), 2 (every pair of failures) or 3 (every triple)');
  if (depth === 1 && raw.layer !== undefined) throw new UsageError('--layer applies to --depth 2 or 3 (nested failures within one layer); linear exploration covers every layer');
  // One thread keeps a stopped campaign's result independent of how points split among threads.
  const stopAtFirst = raw.stopAtFirst === true;
  if (stopAtFirst && raw.workers !== undefined && parsePositiveInt(raw.workers, '--workers') > 1) {
    throw new UsageError('--stop-at-first runs one worker thread (its result must not depend on the split); split with --shard instead');
  }
  return {
    target: parseVerifyTarget(raw, io),
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
    ...(raw.saveTo !== undefined ? { saveTo: raw.saveTo } : {}),
    parities: raw.oneParity === true ? 1 : 2,
  };
}

function modeOf(depth: 1 | 2 | 3): ExploreMode {
  return depth === 1 ? 'linear' : depth === 2 ? 'depth2' : 'depth3';
}

function campaignOf(o: ExploreCommandOptions): CampaignSpec {
  return {
    run: specFor(o, []),
    mode: modeOf(o.depth),
    ...(o.layer !== undefined ? { layer: o.layer } : {}),
    prune: o.prune,
    shard: o.shard,
    ...(o.stopAtFirst ? { stopAtFirst: true } : {}),
    parities: o.parities,
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

/** "0 conv1, 1 relu1, ..." (at most 12, then a count). */
function layerList(d: Deployment, only?: readonly number[]): string {
  const ids = only ?? d.plan.layers.map((_, i) => i);
  const shown = ids.slice(0, 12).map((i) => `${i} ${d.plan.layers[i]!.name}`);
  return `${shown.join(', ')}${ids.length > 12 ? `, ... (${ids.length} in all)` : ''}`;
}

/**
 * Write units per engine layer of the uninterrupted checked inference (what a shard or a depth-2
 * layer selects from), or null when that inference does not complete (the campaign reports it).
 */
function writeUnitsByLayer(d: Deployment, o: ExploreCommandOptions): Map<number, number> | null {
  const m = loadModel(o.target.model);
  let nvm: PagedMemory;
  try {
    nvm = warmNvm(
      d,
      o.target.warmup.map((w) => m.inputQ(w)),
    );
  } catch (e) {
    if (e instanceof EngineStuck) return null;
    throw e;
  }
  const r = runInference(d, { input: m.inputQ(o.target.input), supply: { kind: 'continuous' }, seed: o.seed, nvm, logWrites: true, ledgerMemory: new PagedMemory(2 * nvm.bytes) });
  if (!r.completed) return null;
  const units = new Map<number, number>();
  for (let i = 0; i < r.device.writeLogLen; i++) {
    const l = (r.device.writeLogEpoch[i]! & 0xff) - 1;
    units.set(l, (units.get(l) ?? 0) + 1);
  }
  return units;
}

/** A layer or shard that selects no failure point is a usage error, before the campaign. */
function checkSelection(d: Deployment, o: ExploreCommandOptions): void {
  if (o.layer === undefined && o.shard.count === 1) return;
  const units = writeUnitsByLayer(d, o);
  if (!units) return;
  const total = [...units.values()].reduce((a, b) => a + b, 0);
  if (o.layer !== undefined && !units.has(o.layer)) {
    const w = [...units.keys()].filter((l) => l >= 0).sort((a, b) => a - b);
    throw new UsageError(`--layer ${o.layer}: layer ${o.layer} (${d.plan.layers[o.layer!]!.name}) writes no NVM in this inference, so there is no pair of failures to explore; layers with writes: ${layerList(d, w)}`);
  }
  const points = o.layer !== undefined ? units.get(o.layer)! : total;
  if (o.shard.index >= points) {
    throw new UsageError(`--shard ${o.shard.index}/${o.shard.count} selects no failure point: ${o.layer !== undefined ? `layer ${o.layer} has` : 'the inference has'} ${points} first-failure points (shards 0..${Math.min(points, o.shard.count) - 1} have some)`);
  }
}

/** The replayable run of a schedule; phase 1 runs one more warm-up (the second parity). */
function specFor(o: ExploreCommandOptions, schedule: readonly number[], phase?: 1) {
  const t = o.target;
  const warmup = phase === 1 ? secondParityWarmup(t) : t.warmup;
  return { ...deploymentOfTarget(t), input: t.input, warmup, seed: o.seed, garbage: { kind: 'random' as const }, schedule };
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
    mode: modeOf(o.depth),
    depth: o.depth,
    ...(o.layer !== undefined ? { layer: o.layer } : {}),
    shard: `${o.shard.index}/${o.shard.count}`,
    pruning: o.prune,
    stop_at_first: o.stopAtFirst === true,
    parities: o.parities,
    verdict: r.verdict,
    vacuous: r.vacuous,
    points: r.stats.points,
    pairs: r.stats.pairs,
    triples: r.stats.triples,
    naive_points: r.stats.naivePoints,
    reduction_factor: r.stats.naivePoints / Math.max(1, r.stats.points),
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
    pairs_per_second: r.stats.pairs / Math.max(r.seconds, 1e-9),
    workers: r.workers,
    ...(r.failures.length > 0
      ? {
          counterexample: {
            property: r.failures[0]!.violations[0]!.property,
            replay: encodeToken(specFor(o, r.failures[0]!.schedule, r.failures[0]!.phase)),
            schedule: r.failures[0]!.schedule,
          },
        }
      : r.golden.length > 0
        ? { counterexample: { property: r.golden[0]!.property, replay: encodeToken(specFor(o, [], r.golden[0]!.phase)), schedule: [] } }
        : {}),
    failures: r.failures.slice(0, o.list).map((f) => ({
      schedule: f.schedule,
      layer: f.layer,
      unit: f.unit,
      nvm_byte: f.addr,
      ...(f.phase ? { phase: f.phase } : {}),
      properties: [...new Set(f.violations.map((v) => v.property))],
      message: f.violations[0]!.message,
      replay: encodeToken(specFor(o, f.schedule, f.phase)),
    })),
  };
}

export async function runExplore(o: ExploreCommandOptions, io: Io): Promise<number> {
  const st = createStyle(io);
  const t = o.target;
  // Everything the campaign needs is checked here, before it starts and in this thread: a bad
  // model, a configuration the planner rejects or a layer that does not exist is exit 2 at once.
  if (o.report) validateOutputDir(o.report, '--report', io.cwd);
  if (o.out !== undefined) validateOutputDir(o.out, '--out', io.cwd);
  if (o.saveTo !== undefined) validateOutputDir(o.saveTo, '--save-to', io.cwd);
  const m = loadTargetModel(io, t.model);
  checkInputIds(m, [{ id: t.input, option: '--input' }, ...t.warmup.map((id) => ({ id, option: '--warmup' }))]);
  const d = deploymentOf(deploymentOfTarget(t));
  if (o.layer !== undefined && o.layer >= d.plan.layers.length) {
    throw new UsageError(`--layer ${o.layer}: ${t.model} has engine layers 0..${d.plan.layers.length - 1} (${layerList(d)})`);
  }
  checkSelection(d, o);
  const workers = capWorkers(io, o.workers);
  const nestedWhat = o.depth === 2 ? 'every pair of failures' : 'every triple of failures';
  const mode = o.depth === 1 ? 'one failure at every NVM write unit' : o.layer !== undefined ? `${nestedWhat} in layer ${o.layer} (${d.plan.layers[o.layer]!.name})` : `${nestedWhat} in the whole inference`;
  io.err(`exploring ${t.engine} B=${t.batch} on ${t.model}: ${mode}${o.parities === 2 ? ', both parities (the inference after the warm-ups and after one more)' : ''}${o.shard.count > 1 ? `, shard ${o.shard.index}/${o.shard.count}` : ''}${o.prune ? '' : ', no pruning'}\n`);
  const progress = createProgress(io, 'explore');
  const campaign = campaignOf(o);
  const identity = identityOf(campaign);
  const r = await runCampaign(campaign, workers, (done, total) => progress.update(done, total, 'failure points'));
  progress.done();
  // A filter that selects nothing is not a pass (checkSelection catches it before; this is the net).
  if (r.stats.points === 0 && r.golden.length === 0) {
    throw new UsageError(`no failure point was selected (${r.stats.writeUnits} write unit(s) in all): nothing was explored`);
  }
  if (o.out !== undefined) {
    const path = writeShardFiles(resolvePath(io, o.out), identity, o.shard, r);
    io.err(`wrote ${path}\n`);
  }
  if (o.report && (r.failures.length > 0 || r.golden.length > 0)) {
    const f = r.failures[0];
    const property = f ? f.violations[0]!.property : r.golden[0]!.property;
    const files = writeCounterexampleFiles(resolvePath(io, o.report), `counterexample-${property}`, specFor(o, f ? f.schedule : [], f ? f.phase : r.golden[0]!.phase));
    io.err(`wrote ${files.join(', ')}\n`);
  }
  if (o.saveTo !== undefined) saveCounterexamples(io, o.saveTo, corpusRuns(o, r), 'fail');
  if (o.json) io.out(stableStringify(exploreJson(o, r, identity)) + '\n');
  else io.out(exploreText(o, r, st, `in ${r.seconds.toFixed(1)} s, ${r.pointsPerSecond.toFixed(0)} points/s on ${r.workers} worker(s)`));
  return r.verdict === 'pass' ? EXIT_OK : EXIT_CHECK_FAILED;
}

/**
 * What --save-to keeps of a campaign: the failing uninterrupted run, and the first failing point
 * of each (layer, violated properties) class -- one regression test per distinct way it failed,
 * not every point of a design that fails at thousands.
 */
function corpusRuns(o: ExploreCommandOptions, r: ExploreResult): { spec: ReturnType<typeof specFor>; source: string }[] {
  const t = o.target;
  const what = `japari explore ${t.engine} B=${t.batch} on ${t.model}${t.faults.length ? ` with fault(s) ${t.faults.join(', ')}` : ''}${t.fixes.length ? ` with fix(es) ${t.fixes.join(', ')}` : ''}`;
  const out: { spec: ReturnType<typeof specFor>; source: string }[] = [];
  const parity = (phase?: 1) => (phase === 1 ? ' (after one more warm-up: the other parity)' : '');
  for (const phase of [undefined, 1] as const) {
    const g = r.golden.find((v) => v.phase === phase);
    if (g) out.push({ spec: specFor(o, [], phase), source: `${what}: fails without any power failure${parity(phase)}` });
  }
  const seen = new Set<string>();
  for (const f of r.failures) {
    const props = [...new Set(f.violations.map((v) => v.property))].sort().join(',');
    const key = `${f.phase ?? 0}|${f.layer}|${props}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ spec: specFor(o, f.schedule, f.phase), source: `${what}: first failing point of layer ${f.layer} violating ${props}${parity(f.phase)}` });
  }
  return out;
}

/** The human report of a campaign result (explore, and the merge of its shards); `timing` is free text. */
export function exploreText(o: ExploreCommandOptions, r: ExploreResult, st: Style, timing: string): string {
  const s = r.stats;
  const pf = s.unprunedActionsEstimate / Math.max(1, s.recoveryActions);
  const nested = o.depth > 1 ? `; ${s.pairs} pairs${o.depth === 3 ? `, ${s.triples} triples` : ''} placed of ${s.naivePoints} schedules a naive enumeration places, reduction ${(s.naivePoints / Math.max(1, s.points)).toFixed(1)}x` : '';
  const figures = `${s.points} failure points${o.parities === 2 ? ' of both parities' : ''} (${s.writeUnits} write units; ${s.tornPoints} tore a write transfer${nested}) ${timing}, pruning factor ${pf.toFixed(1)}`;
  if (r.vacuous) {
    return `${st.verdict('fail')} vacuous: no point failed, but none of ${s.points} failure points tore a write transfer of more than one unit although ${s.tearablePoints} of the campaign's points fall inside one (${s.writeUnits} write units) ${timing}: torn writes were not checked\n`;
  }
  if (r.verdict === 'pass') return `${st.verdict('pass')} held at all ${figures}\n`;
  const lines = [s.points === 0 ? `${st.verdict('fail')} the design fails without any power failure, so no failure point was explored` : `${st.verdict('fail')} ${r.failures.length} failing point(s) among ${figures}`];
  const after = (phase?: 1) => (phase === 1 ? ' (after one more warm-up: the other parity)' : '');
  for (const g of r.golden) lines.push(`  without any failure${after(g.phase)}: ${g.property}: ${g.message}`, `    replay: japari replay ${encodeToken(specFor(o, [], g.phase))}`);
  for (const f of r.failures.slice(0, o.list)) {
    lines.push(`  fail before action(s) ${f.schedule.join(', ')} (layer ${f.layer}, write unit ${f.unit})${after(f.phase)}: ${f.violations[0]!.property}: ${f.violations[0]!.message}`);
    lines.push(`    replay: japari replay ${encodeToken(specFor(o, f.schedule, f.phase))}`);
  }
  if (o.stopAtFirst) lines.push('  (--stop-at-first: the campaign stopped at its first failing point)');
  return lines.join('\n') + '\n';
}

export function register(program: Command, ctx: CommandContext): void {
  const cmd = program.command(name).description('exhaustive failure exploration: one failure at every NVM write unit, every pair (--depth 2) or every triple (--depth 3)');
  addVerifyFlags(cmd)
    .option('--layer <L>', 'with --depth 2 or 3: only failures in this engine layer')
    .option('--depth <d>', '1: one failure per point (default); 2: every pair of failures; 3: every triple (small models)')
    .option('--seed <n>', 'seed of the SRAM garbage after reboots (default 0)')
    .option('--no-prune', 'run every recovery to completion (slow twin of the pruned search)')
    .option('--shard <i/n>', 'explore only failure points i, i+n, i+2n, ... (split a campaign across machines)')
    .option('--workers <n>', 'worker threads (default: up to 2; at most the number of cores)')
    .option('--list <k>', 'failing points to list (default 5)')
    .option('--report <dir>', 'write the first counterexample report (JSON, Markdown, SVG timeline, HTML page) here')
    .option('--json', 'print one JSON document')
    .option('--out <dir>', "write this shard's result file (deterministic bytes, atomic; for japari merge) and its timing file here")
    .option('--stop-at-first', 'stop at the first failing point (one worker thread)')
    .option('--save-to <dir>', SAVE_TO_HELP)
    .option('--one-parity', 'explore only the inference after the given warm-ups (default: also after one more, so both parities of the state bits are explored)')
    .action(async (raw: RawExploreFlags) => ctx.setExit(await runExplore(parseExploreOptions(raw, ctx.io), ctx.io)));
}
