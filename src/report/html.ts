/**
 * The counterexample as one self-contained HTML page (no network, no server, no script): open
 * it in any browser. Rendered from the JSON report (CounterexampleReport) and the forensics of
 * each failure (forensics.ts); deterministic, so the same token gives the same bytes.
 *
 *   header     verdict, violated properties, the run, the replay command
 *   timeline   one row per power cycle, coloured by layer; failures and seeker conclusions marked
 *   failures   per failure: the device events around it, the NVM bytes the interrupted write and
 *              the recovery touched (before / after, torn bytes marked), and the seeker's verdict
 *              on each job next to the truth
 *   seeks, output
 *
 * Elements carry data-testid / data-* attributes with the report's numbers, so a browser test
 * can check what rendered (test/report/html.test.ts).
 */
import type { CounterexampleReport } from './counterexample.js';
import type { Forensics, FailureForensics, NvmRegion, StepEvent, SeekView } from './forensics.js';

const LAYER_COLOURS = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
/** The failure colour (the browser test looks for it in the timeline screenshot). */
export const FAILURE_RGB = [204, 0, 0] as const;
const FAILURE = `rgb(${FAILURE_RGB.join(',')})`;

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

function hex2(b: number): string {
  return b.toString(16).padStart(2, '0');
}

/** Timeline geometry, shared with the browser test. */
export const TIMELINE = { width: 960, left: 80, right: 20, top: 30, rowHeight: 34, barHeight: 20 } as const;

export function timelineX(action: number, actions: number): number {
  const span = Math.max(1, actions);
  return TIMELINE.left + ((TIMELINE.width - TIMELINE.left - TIMELINE.right) * action) / span;
}

function timelineSvg(r: CounterexampleReport): string {
  const T = TIMELINE;
  const rows = r.timeline.boots.length;
  const H = T.top + rows * T.rowHeight + 10;
  const x = (a: number) => timelineX(a, r.timeline.actions).toFixed(1);
  const out: string[] = [];
  out.push(`<svg data-testid="timeline" data-boots="${rows}" data-actions="${r.timeline.actions}" xmlns="http://www.w3.org/2000/svg" width="${T.width}" height="${H}" viewBox="0 0 ${T.width} ${H}" role="img" aria-label="timeline of power cycles and layers">`);
  out.push(`<text x="${T.left}" y="16" class="axis">action 0</text><text x="${T.width - T.right}" y="16" text-anchor="end" class="axis">action ${r.timeline.actions}</text>`);
  r.timeline.boots.forEach((b, i) => {
    const y = T.top + i * T.rowHeight;
    out.push(`<g class="boot" data-boot="${b.boot}" data-from="${b.from}" data-to="${b.to}">`);
    out.push(`<text x="8" y="${y + 15}">boot ${b.boot}</text>`);
    for (const l of b.layers) {
      const c = LAYER_COLOURS[l.layer % LAYER_COLOURS.length]!;
      const w = Math.max(1, timelineX(l.to, r.timeline.actions) - timelineX(l.from, r.timeline.actions));
      out.push(`<rect class="layer" data-layer="${l.layer}" data-from="${l.from}" data-to="${l.to}" x="${x(l.from)}" y="${y}" width="${w.toFixed(1)}" height="${T.barHeight}" fill="${c}"><title>layer ${l.layer}: actions ${l.from}..${l.to}</title></rect>`);
    }
    for (const f of r.failures.filter((ff) => ff.boot === b.boot)) {
      out.push(`<line class="failure" data-action="${f.action}" x1="${x(f.action)}" y1="${y - 3}" x2="${x(f.action)}" y2="${y + T.barHeight + 3}" stroke="${FAILURE}" stroke-width="3"><title>power fails before action ${f.action}</title></line>`);
    }
    for (const s of r.seeks.filter((ss) => ss.boot === b.boot)) {
      const bad = s.recoveredJob !== s.durableJobs;
      out.push(`<circle class="seek${bad ? ' off' : ''}" data-layer="${s.layer}" data-job="${s.recoveredJob}" data-durable="${s.durableJobs}" cx="${x(s.action)}" cy="${y + T.barHeight / 2}" r="4"><title>seek layer ${s.layer}: recovered job ${s.recoveredJob}, durable prefix ${s.durableJobs}</title></circle>`);
    }
    out.push('</g>');
  });
  out.push('</svg>');
  return out.join('\n');
}

function legend(r: CounterexampleReport): string {
  const layers = [...new Set(r.timeline.boots.flatMap((b) => b.layers.map((l) => l.layer)))].sort((a, b) => a - b);
  const items = layers.slice(0, 40).map((l) => `<span class="key"><i style="background:${LAYER_COLOURS[l % LAYER_COLOURS.length]}"></i>layer ${l}</span>`);
  return `<p class="legend">${items.join(' ')}${layers.length > 40 ? ' ...' : ''} <span class="key"><i style="background:${FAILURE}"></i>power failure</span> <span class="key"><i class="dot"></i>seeker conclusion (filled: recovered job differs from the durable prefix)</span></p>`;
}

function stepRow(e: StepEvent): string {
  const units = e.kind === 'dma-write' || e.kind === 'lea+dma-write' ? `${e.done}/${e.total} units${e.done < e.total ? ' (torn)' : ''}` : e.done < e.total ? `${e.done}/${e.total} (cut)` : '';
  const nvm = e.nvm ? `[${e.nvm[0]}, ${e.nvm[1]})` : '';
  return `<tr${e.mark ? ` class="${e.mark}"` : ''} data-action="${e.action}" data-kind="${e.kind}"><td class="num">${e.action}</td><td class="num">${e.boot}</td><td class="num">${e.layer}</td><td>${esc(e.kind)}</td><td>${esc(e.label)}${e.detail ? ` <span class="dim">${esc(e.detail)}</span>` : ''}</td><td>${esc(e.category)}</td><td>${units}</td><td class="num">${nvm}</td><td>${e.mark ?? ''}</td></tr>`;
}

function regionTable(r: NvmRegion, k: number): string {
  const head = r.bytes.map((b) => `<th class="addr">${b.addr}</th>`).join('');
  const cell = (b: NvmRegion['bytes'][number], v: number, row: string) =>
    `<td class="b ${b.mark}${b.read ? ' read' : ''}" data-addr="${b.addr}" data-row="${row}" title="byte ${b.addr}: before ${hex2(b.before)}, after ${hex2(b.after)}${b.intended !== null ? `, meant ${hex2(b.intended)}` : ''} (${b.mark}${b.read ? ', read by the seeker' : ''})">${hex2(v)}</td>`;
  const before = r.bytes.map((b) => cell(b, b.before, 'before')).join('');
  const after = r.bytes.map((b) => cell(b, b.after, 'after')).join('');
  const meant = r.bytes.some((b) => b.intended !== null) ? `<tr><th>meant</th>${r.bytes.map((b) => `<td class="b meant">${b.intended !== null ? hex2(b.intended) : ''}</td>`).join('')}</tr>` : '';
  const torn = r.bytes.filter((b) => b.mark === 'torn').length;
  const landed = r.bytes.filter((b) => b.mark === 'landed').length;
  return `<div class="region" data-testid="nvm-${k}" data-from="${r.from}" data-to="${r.to}" data-torn="${torn}" data-landed="${landed}"><p>NVM bytes [${r.from}, ${r.to}): ${esc(r.what)}${torn + landed > 0 ? ` -- ${landed} landed, <b class="torn-text">${torn} torn</b>` : ''}</p><div class="scroll"><table class="bytes"><tr><th>byte</th>${head}</tr><tr><th>before</th>${before}</tr><tr><th>after</th>${after}</tr>${meant}</table></div></div>`;
}

function seekTable(s: SeekView, k: number | string): string {
  const head = `<p>The seeker of layer ${s.layer} concluded <b>job ${s.recoveredJob}</b> is the first unfinished one; the truth (the ledger of bytes landed in this layer-run) says the first ${s.durableJobs} of ${s.jobs} job(s) are durable.</p>`;
  if (s.rows.length === 0) return `<div data-testid="seeker-${k}" data-layer="${s.layer}" data-recovered="${s.recoveredJob}">${head}<p class="dim">${esc(s.note ?? '')}</p></div>`;
  const rows = s.rows
    .map(
      (r) =>
        `<tr class="${r.verdict}" data-job="${r.job}" data-seeker="${r.seekerFinished ? 'finished' : 'unfinished'}" data-durable="${r.workDurable}"><td class="num">${r.job}${r.job === s.recoveredJob ? ' &larr; recovered' : ''}</td><td>${r.seekerFinished ? 'finished' : 'unfinished'}</td><td>${r.workDurable ? 'durable' : 'not durable'}</td><td>${r.indicatorDurable ? 'landed' : 'not landed'}</td><td>${r.verdict === 'agrees' ? 'agrees' : r.verdict === 'either' ? 'either is right (work landed, indicator did not)' : `<b>${r.verdict}</b>`}</td></tr>`,
    )
    .join('');
  return `<div data-testid="seeker-${k}" data-layer="${s.layer}" data-recovered="${s.recoveredJob}" data-durable="${s.durableJobs}">${head}<table class="seeker"><tr><th>job</th><th>seeker says</th><th>its work (truth)</th><th>its indicator (truth)</th><th>verdict</th></tr>${rows}</table></div>`;
}

function failureSection(f: FailureForensics): string {
  const parts: string[] = [];
  parts.push(`<section class="failure" data-testid="failure-${f.index}" data-action="${f.action}" data-boot="${f.boot}">`);
  parts.push(`<h3>Power failure ${f.index}: before action ${f.action} (boot ${f.boot})</h3>`);
  if (f.interrupted) {
    const e = f.interrupted;
    parts.push(`<p>Power failed during <b>${esc(e.kind)} "${esc(e.label)}"</b> (layer ${e.layer}), ${e.done} of ${e.total} of its actions done${e.nvm ? `, NVM [${e.nvm[0]}, ${e.nvm[1]})` : ''}.</p>`);
  } else parts.push('<p>Power failed between events.</p>');
  parts.push(`<h4>Device events around the failure</h4><div class="scroll"><table class="steps" data-testid="steps-${f.index}"><tr><th>action</th><th>boot</th><th>layer</th><th>event</th><th>what</th><th>category</th><th>units</th><th>NVM</th><th></th></tr>${f.steps.map(stepRow).join('')}</table></div>`);
  parts.push('<h4>NVM around the failure</h4>');
  if (f.regions.length === 0) parts.push('<p class="dim">No NVM write was interrupted and the recovery read no NVM before its conclusion.</p>');
  else parts.push(`<p class="dim">Before: right before the interrupted event; after: what the recovery reads. <span class="b landed">landed</span> by the interrupted write, <span class="b torn">torn</span> (to be written, not landed), <span class="b same read">read</span> by the seeker (underlined).</p>`, ...f.regions.map((r) => regionTable(r, f.index)));
  parts.push('<h4>The seeker next to the truth</h4>');
  parts.push(f.seek ? seekTable(f.seek, f.index) : '<p class="dim">No seek after this failure (power failed again first, or the inference had completed).</p>');
  parts.push('</section>');
  return parts.join('\n');
}

const CSS = `
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:20px;margin:0 0 8px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}h3{font-size:15px}h4{font-size:14px;margin:14px 0 6px}
.verdict{display:inline-block;padding:2px 8px;border-radius:4px;color:#fff;font-weight:bold}.verdict.fail{background:${FAILURE}}.verdict.pass{background:#2a7d2a}
pre.replay{background:#f4f4f4;padding:8px;white-space:pre-wrap;word-break:break-all;font-size:12px}
table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ddd;padding:2px 6px;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}
.scroll{overflow-x:auto}.dim{color:#777}
tr.interrupted{background:#fff3cd}tr.failure{background:#f8d7da;font-weight:bold}tr.reboot{background:#e2e3e5}tr.seek{background:#d1ecf1}
table.bytes td.b{font-family:ui-monospace,monospace;text-align:center;min-width:18px}th.addr{font-weight:normal;font-size:10px;color:#777}
.b.landed{background:#c7e9c0}.b.torn{background:#f5b7b1;outline:2px solid ${FAILURE}}.b.changed{background:#fde2a7}.b.read{text-decoration:underline}
.torn-text{color:${FAILURE}}
table.seeker tr.unsound,table.seeker tr.incomplete{background:#f8d7da}table.seeker tr.either{background:#fff3cd}
.legend .key{margin-right:10px;white-space:nowrap}.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:middle}.legend i.dot{border-radius:6px;border:1px solid #000;background:#fff}
svg text{font-size:11px}svg .axis{fill:#777}svg circle.seek{fill:#fff;stroke:#000}svg circle.seek.off{fill:${FAILURE}}
`;

/** The HTML page of a counterexample report. */
export function counterexampleHtml(r: CounterexampleReport, f: Forensics): string {
  const s = r.spec;
  const title = `${s.engine} B=${s.batch} on ${s.model}: ${r.properties.join(', ') || 'no violation'}`;
  const schedule = s.schedule.length ? s.schedule.join(', ') : r.verdict === 'fail' ? 'none (fails without any power failure)' : 'none';
  const out: string[] = [];
  out.push('<!DOCTYPE html>');
  out.push('<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">');
  out.push(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`);
  out.push(`<title>japari counterexample: ${esc(title)}</title><style>${CSS}</style></head><body>`);
  out.push(`<h1>Counterexample: ${esc(r.properties.join(', ') || 'none (the run passes)')} <span class="verdict ${r.verdict}" data-testid="verdict">${r.verdict.toUpperCase()}</span></h1>`);
  out.push(
    `<ul data-testid="spec"><li>model <code>${esc(s.model)}</code>, engine <code>${esc(s.engine)}</code>, B = ${s.batch}, NVM ${s.placement}, profile ${esc(s.profile)}</li>${s.faults.length ? `<li>seeded faults: ${s.faults.map((x) => `<code>${esc(x)}</code>`).join(', ')}</li>` : ''}${s.fixes.length ? `<li>fixes: ${s.fixes.map((x) => `<code>${esc(x)}</code>`).join(', ')}</li>` : ''}<li>input ${s.input}, warm-up inferences: ${s.warmup.length ? s.warmup.join(', ') : 'none'}, garbage ${s.garbage.kind}, seed ${s.seed}</li><li data-testid="schedule">power fails before action(s): ${esc(schedule)}</li><li>${r.stats.events} device events, ${r.stats.powerCycles} power cycle(s)</li></ul>`,
  );
  out.push(`<p>Replay it exactly:</p><pre class="replay" data-testid="replay">japari replay ${esc(r.token)}</pre>`);
  out.push('<h2>Violations</h2>');
  out.push(r.violations.length ? `<ul data-testid="violations">${r.violations.map((v) => `<li data-property="${v.property}"><b>${esc(v.property)}</b> (boot ${v.boot}, action ${v.action}): ${esc(v.message)}</li>`).join('')}</ul>` : '<p data-testid="violations">none: the run passes.</p>');
  out.push('<h2>Timeline</h2>');
  out.push('<p class="dim">Actions (device events) of the checked inference; each row is one power cycle.</p>');
  out.push(`<div class="scroll">${timelineSvg(r)}</div>`);
  out.push(legend(r));
  out.push('<h2>Failures</h2>');
  if (f.note) out.push(`<p class="dim">${esc(f.note)}</p>`);
  if (f.failures.length === 0 && !f.note) out.push('<p class="dim">No power failure in this run.</p>');
  out.push(...f.failures.map(failureSection));
  if (f.omitted > 0) out.push(`<p class="dim">${f.omitted} more failure(s) of the schedule are not shown in detail (or fell after the inference completed).</p>`);
  if (f.offSeeks.length > 0) {
    out.push('<h2>Seeks that disagree with the truth</h2>');
    out.push(...f.offSeeks.map((v, i) => `<h4>Boot ${v.boot}, action ${v.action}, layer ${v.layer}</h4>${seekTable(v, `off-${i + 1}`)}`));
  }
  out.push('<h2>All seeks</h2>');
  out.push(
    `<table data-testid="seeks"><tr><th>boot</th><th>action</th><th>layer</th><th>recovered job</th><th>durable prefix</th><th>jobs seen finished</th></tr>${r.seeks.map((k) => `<tr${k.recoveredJob !== k.durableJobs ? ' class="off"' : ''} data-layer="${k.layer}" data-job="${k.recoveredJob}"><td class="num">${k.boot}</td><td class="num">${k.action}</td><td class="num">${k.layer}</td><td class="num">${k.recoveredJob}</td><td class="num">${k.durableJobs}</td><td class="num">${k.finishedView}</td></tr>`).join('')}</table>`,
  );
  out.push('<h2>Output</h2>');
  const diff = new Set(r.output.got.flatMap((v, i) => (v !== r.output.want[i] ? [i] : [])));
  const vec = (xs: readonly number[], what: string) => `<tr><th>${what}</th>${xs.map((v, i) => `<td class="num${diff.has(i) ? ' b torn' : ''}">${v}</td>`).join('')}</tr>`;
  out.push(`<p>completed: ${r.output.completed}, equal to the reference: ${r.output.equal}</p><div class="scroll"><table data-testid="output">${vec(r.output.got.slice(0, 64), 'got')}${vec(r.output.want.slice(0, 64), 'want')}</table></div>`);
  out.push(`<p class="dim">Generated by japari from the replay token above; every figure is modelled and deterministic.</p>`);
  out.push('</body></html>');
  return out.join('\n') + '\n';
}
