/**
 * The kill matrix as JSON (source of truth) and Markdown.
 */
import type { MutantRow, KillSummary } from '../properties/mutants.js';
import { TECHNIQUES } from '../properties/mutants.js';

export const MUTANTS_SCHEMA = 'japari.mutants/1';

export function mutantsJson(rows: readonly MutantRow[], summary: KillSummary, quick: boolean): Record<string, unknown> {
  return { schema: MUTANTS_SCHEMA, subset: quick ? 'quick (CI)' : 'full', summary, rows };
}

function cell(r: MutantRow, t: string): string {
  const o = r.outcomes.find((x) => x.technique === t);
  if (!o) return 'not run';
  if (!o.killed) return `survived (${o.budget})`;
  const size = o.failures !== undefined ? `, ${o.failures} failure(s), ${o.events} events` : '';
  return `**killed**: ${o.property ?? ''} after ${o.effort} ${t === 'fuzz' ? 'schedule(s)' : t === 'explore' ? 'point(s)' : 'obligation(s)'}, ${o.seconds.toFixed(2)} s${size}`;
}

export function mutantsMarkdown(rows: readonly MutantRow[], s: KillSummary, quick: boolean): string {
  const used = TECHNIQUES.filter((t) => rows.some((r) => r.outcomes.some((o) => o.technique === t)));
  const lines = [
    `# Verification power: the seeded-fault kill matrix (${quick ? 'CI subset' : 'full'})`,
    '',
    `${s.faults} seeded faults (src/engines/catalogue.ts), each a small variant of a correct engine (the published engine with every fix for its findings). ${s.killed} killed by at least one technique, ${s.equivalent} argued equivalent, ${s.survivors.length} surviving${s.survivors.length ? ` (${s.survivors.join(', ')})` : ''}.`,
    '',
    '| technique | killed | median time to detection | median counterexample (failures / events) |',
    '| --- | --- | --- | --- |',
    ...used.map((t) => {
      const p = s.perTechnique[t]!;
      return `| ${t} | ${p.killed}/${p.of} (${((100 * p.killed) / p.of).toFixed(0)}%) | ${p.medianSeconds.toFixed(2)} s | ${p.medianFailures} / ${p.medianEvents} |`;
    }),
    '',
    'Times are wall-clock seconds on the machine that generated this report (machine-dependent); efforts (schedules, failure points, obligations to the first detection) are deterministic.',
    '',
    `| fault | engine | area | mistake it stands for | ${used.join(' | ')} |`,
    `| --- | --- | --- | --- | ${used.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| \`${r.fault}\` | ${r.engine} | ${r.area} | ${r.description} | ${used.map((t) => cell(r, t)).join(' | ')} |`),
    '',
  ];
  const eq = rows.filter((r) => r.equivalent);
  if (eq.length) {
    lines.push('## Equivalent faults', '');
    for (const r of eq) lines.push(`### \`${r.fault}\``, '', r.equivalent!, '');
  }
  lines.push('## Replay tokens of the first counterexamples', '');
  for (const r of rows) for (const o of r.outcomes) if (o.replay) lines.push(`- \`${r.fault}\` (${o.technique}): \`japari replay ${o.replay}\``);
  lines.push('');
  return lines.join('\n');
}
