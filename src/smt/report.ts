/**
 * Canonical proof reports: reports/proofs/<model>-<engine>-B<b>.{json,md} (one row per
 * obligation and layer) and, for every refutation of a published design,
 * reports/findings/<finding-id>.proof.{json,md} (explanation, counterexample, replay token).
 *
 * Deterministic: each deployment is proved by a fresh Z3 runtime with one worker and an empty
 * answer cache, so the same code replays the same command sequence and Z3 returns the same
 * models; no wall-clock figure is written (seconds stay in the CLI output).
 */
import { stableStringify } from '../util/json.js';
import { sharedAvailable, SHARED_MODELS, type SharedModelName } from '../util/shared.js';
import { findingSpec } from '../engines/catalogue.js';
import type { EngineKind } from '../engines/reference/plan.js';
import { DEFAULT_FIRMWARE, type FirmwareId } from '../engines/reference/firmware.js';
import { verificationBuild } from '../engines/designs.js';
import { prove, type ProofReport } from './prove.js';
import { Z3Runtime } from './runtime.js';
import { clearAnswerCache, type ObligationId, type ObligationResult } from './obligation.js';

export const PROOF_SCHEMA = 'japari.proofs/1';

export interface ProofTarget {
  readonly model: string;
  readonly engine: EngineKind;
  readonly batch: number;
  readonly fixes?: readonly string[];
  /** The build profile; absent: verificationBuild (the build the hardware ran the model on, else the default). */
  readonly firmware?: FirmwareId;
  /** Only this obligation (all when absent). */
  readonly obligation?: ObligationId;
}

/**
 * The canonical set: the default model for every engine at B = 1, 2; the configurations where
 * the published designs are refuted; and the shared models when they are present.
 */
export const CANONICAL_TARGETS: readonly ProofTarget[] = [
  ...(['hawaii', 'japari', 'japari-loopcount', 'stateful'] as const).flatMap((engine) => [1, 2].map((batch) => ({ model: 'lenet', engine, batch }))),
  // The HAWAII remainder at a B the authors' code compiles (B = 3 does not): tiny-concat's odd channel counts at B = 4.
  // On 672ed9a's profile: the Feb 2021 build (and the later code) has the static remainder; 37708ef records every value.
  { model: 'tiny-concat', engine: 'hawaii', batch: 4, firmware: 'stateful-cnn-2021-02' },
  { model: 'tiny-concat', engine: 'hawaii', batch: 4, firmware: 'stateful-cnn-2021-02', fixes: ['hawaii-layer-remainder'] },
  { model: 'tiny-fc', engine: 'japari', batch: 1 },
  { model: 'tiny-fc', engine: 'japari', batch: 1, fixes: ['japari-gemm-column-sign'] },
  { model: 'mnist', engine: 'japari', batch: 4 },
  // The narrow fix renumbers slice jobs but leaves FC data off the slot's grid (refuted); padding fixes it.
  { model: 'mnist', engine: 'japari', batch: 4, fixes: ['japari-gemm-slice-jobs'] },
  { model: 'mnist', engine: 'japari', batch: 4, fixes: ['japari-pad-vector-groups'] },
  // FC outputs without footprints (B > outputs per call): recomputing them is not enough (refuted); padding fixes it.
  // Only the later code accepts an FC call narrower than B (both 2021 builds assert tile_width >= BATCH_SIZE).
  { model: 'lenet', engine: 'japari', batch: 8, firmware: 'stateful-cnn-later', fixes: ['japari-fc-no-footprint-recompute'] },
  { model: 'lenet', engine: 'japari', batch: 8, firmware: 'stateful-cnn-later', fixes: ['japari-pad-vector-groups'] },
  { model: 'cifar10', engine: 'japari-loopcount', batch: 1 },
  // Every engine at B = 1 on the four models of ../shared (the published designs).
  ...(['mnist', 'har', 'kws', 'cifar10'] as const).flatMap((model) =>
    (['hawaii', 'japari', 'japari-loopcount', 'stateful'] as const).filter((engine) => !(model === 'cifar10' && engine === 'japari-loopcount')).map((engine) => ({ model, engine, batch: 1 })),
  ),
];

/** Timeout per obligation for canonical reports (generous: a timeout would not be canonical). */
export const CANONICAL_TIMEOUT_MS = 120_000;

/** The build a target is proved on. */
export function targetBuild(t: ProofTarget): FirmwareId {
  return t.firmware ?? verificationBuild(t.engine, t.model);
}

export function targetName(t: ProofTarget): string {
  return `${t.model}-${t.engine}-B${t.batch}${t.fixes && t.fixes.length > 0 ? `-fix-${[...t.fixes].sort().join('+')}` : ''}`;
}

function available(t: ProofTarget): boolean {
  const shared = (SHARED_MODELS as Record<string, string>)[t.model];
  return shared === undefined || sharedAvailable('models', SHARED_MODELS[t.model as SharedModelName]);
}

/** The committed form of one result: no seconds. */
export function canonicalResult(r: ObligationResult): Record<string, unknown> {
  return {
    id: r.id,
    layer: r.layer,
    verdict: r.verdict,
    statement: r.statement,
    encoding: r.encoding,
    tied_to: r.tiedTo,
    ...(r.bound !== undefined ? { bound: r.bound } : {}),
    ...(r.limit !== undefined ? { limit: r.limit } : {}),
    ...(r.goal !== undefined ? { refuted_goal: r.goal } : {}),
    ...(r.counterexample !== undefined ? { counterexample: r.counterexample } : {}),
    ...(r.replay !== undefined ? { replay: r.replay } : {}),
    ...(r.finding !== undefined ? { finding: r.finding } : {}),
    ...(r.alsoRefuted !== undefined ? { also_refuted: r.alsoRefuted } : {}),
  };
}

export function proofJson(t: ProofTarget, r: ProofReport): Record<string, unknown> {
  return {
    schema: PROOF_SCHEMA,
    model: r.model,
    engine: r.engine,
    batch: r.batch,
    placement: r.placement,
    fixes: r.fixes,
    firmware: targetBuild(t),
    arithmetic: r.arithmetic,
    timeout_s: CANONICAL_TIMEOUT_MS / 1000,
    counts: r.counts,
    obligations: r.obligations.map(canonicalResult),
    name: targetName(t),
  };
}

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function proofMarkdown(r: ProofReport, firmware: FirmwareId): string {
  const c = r.counts;
  const fw = firmware === DEFAULT_FIRMWARE ? '' : ` --firmware ${firmware}`;
  const lines = [
    `# Proofs: ${r.model}, ${r.engine}, B = ${r.batch}${r.fixes.length > 0 ? ` (fixes ${r.fixes.join(', ')})` : ''}, firmware ${firmware}`,
    '',
    `${c.proved} proved, ${c.refuted} refuted, ${c.unknown} unknown (Z3, ${CANONICAL_TIMEOUT_MS / 1000} s per obligation; unknown is never a pass). Regenerate with \`npm run reports\`; rerun with \`japari prove --model ${r.model} --engine ${r.engine} --batch ${r.batch}${r.fixes.length > 0 ? ` --fix ${r.fixes.join(',')}` : ''}${fw}\`.`,
    '',
    '| obligation | layer | verdict | bound / limit | counterexample | replay |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const o of r.obligations) {
    const cex = o.counterexample ? `\`${cell(JSON.stringify(o.counterexample)).slice(0, 240)}\`${o.finding ? ` (finding ${o.finding})` : ''}` : '';
    const replay = o.replay ? ('token' in o.replay ? `${o.replay.reproduced ? 'reproduces' : 'does not reproduce'}: \`${o.replay.token}\`` : cell(o.replay.note)) : '';
    lines.push(`| ${o.id} | ${cell(o.layer)} | ${o.verdict} | ${cell(o.limit ?? o.bound ?? '')} | ${cex} | ${replay} |`);
  }
  lines.push('', '## Obligations', '');
  const seen = new Set<string>();
  for (const o of r.obligations) {
    const key = `${o.id}|${o.statement}`;
    if (seen.has(key)) continue;
    seen.add(key);
    lines.push(`- **${o.id}** (${o.layer}): ${o.statement} Encoding: ${o.encoding}. Tied to: ${o.tiedTo.join(', ')}.`);
  }
  return `${lines.join('\n')}\n`;
}

interface FindingHit {
  readonly target: string;
  readonly firmware: FirmwareId;
  readonly result: ObligationResult;
}

export function findingFiles(id: string, hits: readonly FindingHit[]): { path: string; content: string }[] {
  const known = findingSpec(id);
  const title = known?.title ?? id;
  const explanation = known?.explanation ?? 'A refutation of the published design by the Z3 proofs.';
  const refutations = hits.map((h) => ({
    deployment: h.target,
    firmware: h.firmware,
    obligation: h.result.id,
    layer: h.result.layer,
    statement: h.result.statement,
    refuted_goal: h.result.goal,
    counterexample: h.result.counterexample,
    replay: h.result.replay,
  }));
  const json = { schema: PROOF_SCHEMA, kind: 'finding', id, title, explanation, source: 'Z3 proof obligations (src/smt)', refutations };
  const md = [
    `# Finding (proofs): ${title}`,
    '',
    explanation,
    '',
    '## Refuted obligations',
    '',
    ...hits.map((h) => {
      const r = h.result;
      const replay = r.replay ? ('token' in r.replay ? `replay (${r.replay.reproduced ? 'reproduces' : 'does not reproduce'}): \`japari replay ${r.replay.token}\` -- ${r.replay.violation}` : `replay: ${r.replay.note}`) : 'replay: none';
      return `- ${h.target} (firmware ${h.firmware}), ${r.id}, ${r.layer}: ${r.goal}. Counterexample \`${JSON.stringify(r.counterexample)}\`. ${replay}`;
    }),
    '',
  ].join('\n');
  return [
    { path: `findings/${id}.proof.json`, content: `${stableStringify(json, 2)}\n` },
    { path: `findings/${id}.proof.md`, content: md },
  ];
}

/** Prove every available canonical target and render the report files (paths under reports/). */
export async function proofReportFiles(targets: readonly ProofTarget[] = CANONICAL_TARGETS, onProgress?: (text: string, done: number, total: number) => void): Promise<{ path: string; content: string; partial?: boolean }[]> {
  const files: { path: string; content: string; partial?: boolean }[] = [];
  const findings = new Map<string, FindingHit[]>();
  const index: string[] = [
    '# Proof reports',
    '',
    "Each deployment is proved on the build profile the hardware ran its model on (mnist: stateful-cnn-2021-08; kws, cifar10: stateful-cnn-2021-02), the default build stateful-cnn-2021-08 for japari's own models, and loop-count JAPARI (the JAPARI repository, not a Stateful-CNN build) on stateful-cnn-later; a finding's refutation runs on a build whose code has the behaviour.",
    '',
    '| deployment | firmware | proved | refuted | unknown | findings |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  let partial = false;
  for (const [k, t] of targets.entries()) {
    onProgress?.(targetName(t), k, targets.length);
    if (!available(t)) {
      index.push(`| ${targetName(t)} | ${targetBuild(t)} | (needs ../shared/models) | | | |`);
      partial = true;
      continue;
    }
    clearAnswerCache();
    const z3 = new Z3Runtime({ workers: 1 });
    let r: ProofReport;
    try {
      r = await prove({ model: t.model, engine: t.engine, batch: t.batch, firmware: targetBuild(t), fixes: t.fixes ?? [], ...(t.obligation ? { obligation: t.obligation } : {}), timeoutMs: CANONICAL_TIMEOUT_MS }, z3);
    } finally {
      await z3.close();
    }
    const name = targetName(t);
    files.push({ path: `proofs/${name}.json`, content: `${stableStringify(proofJson(t, r), 2)}\n` });
    files.push({ path: `proofs/${name}.md`, content: proofMarkdown(r, targetBuild(t)) });
    const ids = new Set<string>();
    for (const o of r.obligations) {
      if (o.verdict !== 'refuted') continue;
      const hits: { finding: string; result: ObligationResult }[] = [];
      if (o.finding) hits.push({ finding: o.finding, result: o });
      for (const a of o.alsoRefuted ?? []) {
        if (a.finding && a.replay && !hits.some((h) => h.finding === a.finding)) {
          hits.push({ finding: a.finding, result: { ...o, goal: a.goal, counterexample: a.counterexample, replay: a.replay, finding: a.finding } });
        }
      }
      for (const h of hits) {
        ids.add(h.finding);
        const list = findings.get(h.finding) ?? [];
        list.push({ target: name, firmware: targetBuild(t), result: h.result });
        findings.set(h.finding, list);
      }
    }
    index.push(`| [${name}](${name}.md) | ${targetBuild(t)} | ${r.counts.proved} | ${r.counts.refuted} | ${r.counts.unknown} | ${[...ids].sort().join(', ')} |`);
  }
  // Without ../shared, the index and the per-finding summaries miss the shared models' rows.
  for (const id of [...findings.keys()].sort()) files.push(...findingFiles(id, findings.get(id)!).map((f) => (partial ? { ...f, partial } : f)));
  files.push({ path: 'proofs/README.md', content: `${index.join('\n')}\n`, ...(partial ? { partial } : {}) });
  return files;
}
