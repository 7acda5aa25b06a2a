/**
 * Provenance of the findings (issue 15), rendered from the catalogue (src/engines/catalogue.ts):
 * the one table of reports/findings/README.md (status, builds, code, reach, acceptance, effect,
 * evidence), the provenance block of each finding's report, and reports/findings/deviations.md
 * (every place where japari's engines knowingly differ from the authors' code).
 *
 * Everything here is a pure function of the catalogue and of the outcomes the findings producer
 * computed (canonical.ts), so the files regenerate byte-identically.
 */
import {
  BUILDS,
  DEVIATIONS,
  FINDINGS,
  LEADS,
  VARIANTS,
  type BuildId,
  type CodeRef,
  type DeviationSpec,
  type FindingId,
  type FindingSpec,
  type LeadSpec,
} from '../engines/catalogue.js';

/**
 * The canonical Z3 deployments (src/smt/report.ts CANONICAL_TARGETS) whose refutations are a
 * finding, as reports/findings/<id>.proof.md lists them. A test checks each names a committed
 * proof report that lists the finding.
 */
export const PROOF_EVIDENCE: Partial<Record<FindingId, readonly string[]>> = {
  'japari-gemm-call-sign': ['tiny-fc-japari-B1'],
  'japari-gemm-slice-job-map': ['mnist-japari-B4-on-2021-02', 'mnist-japari-B4-on-2021-02-fix-japari-gemm-slice-jobs'],
  'japari-fc-without-footprints': ['lenet-japari-B8-on-later-fix-japari-fc-no-footprint-recompute'],
  'hawaii-remainder-crosses-layers': ['tiny-concat-hawaii-B4-on-2021-02'],
  'hawaii-2021-08-partial-increments': ['tiny-concat-hawaii-B4'],
  'loopcount-torn-footprint-256': ['lenet-japari-loopcount-B1', 'lenet-japari-loopcount-B2', 'mnist-japari-loopcount-B1', 'har-japari-loopcount-B1', 'kws-japari-loopcount-B1', 'cifar10-japari-loopcount-B1'],
  'loopcount-dummy-weight-wrap': ['cifar10-japari-loopcount-B1'],
  'loopcount-saturated-running-sums': ['cifar10-japari-loopcount-B1'],
};

/** What the replay of a finding's counterexample showed (from the findings producer). */
export interface ReplayEvidence {
  /** Report of the replayed counterexample (relative to reports/findings/). */
  readonly report: string;
  readonly properties: readonly string[];
  /** Power failures in its schedule ('energy-driven' for the forward-progress scenario). */
  readonly failures: number | 'energy-driven';
  /** The corrected variant and whether the same scenario then passes. */
  readonly corrected?: { readonly what: string; readonly passes: boolean };
}

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** `repo@commit:path:lines` (or `:anchor` when no line range was read). */
export function citeCode(c: CodeRef): string {
  return `${c.repo}@${c.commit}:${c.path}${c.lines ? `:${c.lines}` : ''} (${c.anchor})`;
}

function builds(ids: readonly BuildId[]): string {
  return ids.length === 0 ? 'none (not in the authors\' code)' : ids.join(', ');
}

function evidenceCell(f: FindingSpec, r: ReplayEvidence | undefined): string {
  const parts: string[] = [];
  if (r) {
    const fails = r.failures === 'energy-driven' ? 'energy-driven supply' : `${r.failures} power failure(s)`;
    parts.push(`[replay](${r.report}): ${r.properties.join(', ')}; ${fails}`);
    if (r.corrected) parts.push(`corrected (${r.corrected.what}): ${r.corrected.passes ? 'passes' : 'STILL FAILS'}`);
  }
  const z3 = PROOF_EVIDENCE[f.id as FindingId];
  if (z3 && z3.length > 0) parts.push(`[Z3](${f.id}.proof.md): ${z3.join(', ')}`);
  return parts.length > 0 ? parts.join('; ') : 'none';
}

/** The one table of reports/findings/README.md: every finding of the catalogue. */
export function findingsTable(replays: ReadonlyMap<string, ReplayEvidence>, missing: ReadonlyMap<string, string> = new Map()): string[] {
  const rows = (FINDINGS as readonly FindingSpec[]).map((f) => {
    const p = f.provenance;
    const r = replays.get(f.id);
    const evidence = missing.has(f.id) ? `(${missing.get(f.id)})` : evidenceCell(f, r);
    const notIn = p.notIn && p.notIn.length > 0 ? `; not in ${p.notIn.map((n) => `${n.build} (${n.why})`).join('; ')}` : '';
    return `| ${f.id} | ${cell(f.title)} | **${p.status}**: ${cell(p.statusReason)} | ${builds(p.builds)}${cell(notIn)} | ${p.code.map((c) => cell(citeCode(c))).join('<br>')} | ${p.reach.evaluated ? 'yes' : 'no'}: ${cell(p.reach.text)} | ${cell(p.accepted)} | ${p.effects.join(', ')} | ${cell(evidence)} |`;
  });
  return [
    '| finding | what | status | builds that have it | code | reached by an evaluated configuration | accepted by their code | effect | evidence |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
  ];
}

/** The leads of issue 15, each a finding with provenance or a reason why it is not one. */
export function leadsTable(): string[] {
  return [
    '| lead | verdict | builds | code | effect | why |',
    '| --- | --- | --- | --- | --- | --- |',
    ...(LEADS as readonly LeadSpec[]).map((l) => `| ${cell(l.title)} | ${l.verdict} | ${builds(l.builds)} | ${l.code.map((c) => cell(citeCode(c))).join('<br>')} | ${l.effects.join(', ')} | ${cell(l.reason)} |`),
  ];
}

/** The builds the findings are read against. */
export function buildsList(): string[] {
  return (Object.entries(BUILDS) as [BuildId, string][]).map(([id, what]) => `- \`${id}\`: ${what}`);
}

/** The provenance block of one finding's report (Markdown lines). */
export function provenanceMarkdown(f: FindingSpec): string[] {
  const p = f.provenance;
  return [
    '## Provenance',
    '',
    `- status: **${p.status}** -- ${p.statusReason}`,
    `- builds that have it: ${builds(p.builds)}`,
    ...(p.notIn ?? []).map((n) => `- not in ${n.build}: ${n.why}`),
    ...p.code.map((c) => `- code: ${citeCode(c)} -- ${c.what}`),
    `- reached by a configuration the authors evaluated (their models, B = 1, 2, 4): ${p.reach.evaluated ? 'yes' : 'no'} -- ${p.reach.text}`,
    `- accepted by their code: ${p.accepted}`,
    `- effect: ${p.effects.join(', ')}`,
    '',
  ];
}

/** The provenance of one finding as JSON (for its .json report). */
export function provenanceJson(f: FindingSpec): Record<string, unknown> {
  const p = f.provenance;
  return {
    status: p.status,
    status_reason: p.statusReason,
    builds: p.builds,
    ...(p.notIn ? { not_in: p.notIn } : {}),
    code: p.code.map((c) => ({ ...c, cite: citeCode(c) })),
    reach: p.reach,
    accepted: p.accepted,
    effects: p.effects,
  };
}

/** reports/findings/deviations.md: every catalogued deviation, grouped by engine. */
export function deviationsMarkdown(): string {
  const devs = DEVIATIONS as readonly DeviationSpec[];
  const engines = [...new Set(devs.flatMap((d) => d.engines))];
  const out: string[] = [
    '# Deviations from the authors\' code',
    '',
    "Every place where japari's engines knowingly differ from the authors' code (EMCLab-Sinica/Stateful-CNN, EMCLab-Sinica/JAPARI), and why: a typo fixed, a bug not modelled, a missing file, an unmodelled path, a modelling choice, or a reconstruction of what the code leaves open. Generated from `DEVIATIONS` in src/engines/catalogue.ts (regenerate with `npm run reports`). A finding that rests on a reconstruction has status *reconstruction* in README.md and is not a weakness of the published design.",
    '',
    'Published-code behaviour that an engine models besides its default (switched on like a fault, `--fault <id>`; not a seeded mistake, not in the kill matrix):',
    '',
    ...VARIANTS.map((v) => `- \`${v.id}\` (${v.engine}): ${v.description}. Code: ${v.code.map(citeCode).join('; ')}.`),
    '',
  ];
  for (const e of engines) {
    out.push(`## ${e}`, '', '| id | kind | the authors\' code | japari | why | code | findings |', '| --- | --- | --- | --- | --- | --- | --- |');
    for (const d of devs.filter((x) => x.engines.includes(e))) {
      out.push(`| ${d.id} | ${d.kind} | ${cell(d.published)} | ${cell(d.japari)} | ${cell(d.why)} | ${d.code.map((c) => cell(citeCode(c))).join('<br>')} | ${(d.findings ?? []).join(', ') || '-'} |`);
    }
    out.push('');
  }
  return out.join('\n');
}
