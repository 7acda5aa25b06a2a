/**
 * Counterexample reports: what broke, the minimal schedule, the replay token, and a readable
 * trace around each power failure -- events, NVM writes landed or torn, the footprints the
 * seeker read, expected versus recovered progress, and the output difference. JSON is the
 * source of truth (schema-versioned, deterministic); Markdown and an SVG timeline render it.
 */
import { variantSpec } from '../engines/catalogue.js';
import type { TraceEvent } from '../device/device.js';
import type { RunSpec } from '../properties/token.js';
import { encodeToken } from '../properties/token.js';
import { replaySpec } from '../properties/replay.js';
import type { Violation, SeekRecord } from '../properties/properties.js';

export const COUNTEREXAMPLE_SCHEMA = 'japari.counterexample/1';

export interface FailureWindow {
  readonly action: number;
  readonly boot: number;
  /** The event power failed in, with how many of its actions completed. */
  readonly during: string;
  readonly events: readonly string[];
}

export interface CounterexampleReport {
  readonly schema: typeof COUNTEREXAMPLE_SCHEMA;
  readonly token: string;
  readonly spec: RunSpec;
  readonly verdict: 'fail' | 'pass';
  readonly properties: readonly string[];
  readonly violations: readonly Violation[];
  readonly failures: readonly FailureWindow[];
  readonly seeks: readonly SeekRecord[];
  readonly output: { readonly got: readonly number[]; readonly want: readonly number[]; readonly completed: boolean; readonly equal: boolean };
  readonly timeline: {
    readonly actions: number;
    readonly boots: readonly { readonly boot: number; readonly from: number; readonly to: number; readonly layers: readonly { readonly layer: number; readonly from: number; readonly to: number }[] }[];
  };
  readonly stats: { readonly events: number; readonly powerCycles: number; readonly failures: number };
}

function describe(e: TraceEvent): string {
  const units = e.kind === 'dma-write' || e.kind === 'lea+dma-write' ? ` ${e.done}/${e.total} units${e.done < e.total ? ' (TORN)' : ''}` : e.done < e.total ? ' (not completed)' : '';
  const nvm = e.nvm ? ` NVM[${e.nvm[0]}..${e.nvm[1]})` : '';
  const detail = e.detail ? ` ${e.detail}` : '';
  return `#${e.action} boot ${e.boot} layer ${e.layer} ${e.kind} "${e.label}"${units}${nvm}${detail}`;
}

/** Replay a spec with tracing and build the report (deterministic for a given spec). */
export function buildCounterexample(spec: RunSpec, window = 6): CounterexampleReport {
  const run = replaySpec(spec, true);
  const trace = run.result.trace ?? [];
  const failures: FailureWindow[] = [];
  trace.forEach((e, i) => {
    if (e.kind !== 'failure') return;
    const prev = trace[i - 1];
    const lo = Math.max(0, i - window);
    const hi = Math.min(trace.length, i + window * 3);
    failures.push({
      action: e.action,
      boot: e.boot,
      during: prev ? describe(prev) : 'power-on',
      events: trace.slice(lo, hi).map(describe),
    });
  });
  const boots: { boot: number; from: number; to: number; layers: { layer: number; from: number; to: number }[] }[] = [];
  for (const e of trace) {
    let b = boots[boots.length - 1];
    if (!b || b.boot !== e.boot) {
      b = { boot: e.boot, from: e.action, to: e.action, layers: [] };
      boots.push(b);
    }
    b.to = Math.max(b.to, e.action + Math.max(1, e.done));
    const last = b.layers[b.layers.length - 1];
    if (!last || last.layer !== e.layer) b.layers.push({ layer: e.layer, from: e.action, to: e.action + 1 });
    else last.to = Math.max(last.to, e.action + Math.max(1, e.done));
  }
  return {
    schema: COUNTEREXAMPLE_SCHEMA,
    token: encodeToken(spec),
    spec,
    verdict: run.violations.length > 0 ? 'fail' : 'pass',
    properties: [...new Set(run.violations.map((v) => v.property))],
    violations: run.violations,
    failures,
    seeks: run.seeks,
    output: { got: Array.from(run.result.output), want: Array.from(run.result.reference), completed: run.result.completed, equal: run.result.equal },
    timeline: { actions: run.result.actions, boots },
    stats: { events: trace.length, powerCycles: run.result.powerCycles, failures: spec.schedule.length },
  };
}

const LAYER_COLOURS = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** An SVG timeline: one row per power cycle, coloured by layer, failures and seeker conclusions marked. */
export function counterexampleSvg(r: CounterexampleReport): string {
  const W = 900;
  const rowH = 34;
  const left = 70;
  const top = 40;
  const rows = r.timeline.boots.length;
  const H = top + rows * rowH + 60;
  const span = Math.max(1, r.timeline.actions);
  const x = (a: number) => left + ((W - left - 20) * a) / span;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`);
  out.push(`<text x="${left}" y="18" font-size="13" font-weight="bold">${esc(`${r.spec.engine} B=${r.spec.batch} on ${r.spec.model}: ${r.properties.join(', ') || 'no violation'}`)}</text>`);
  out.push(`<text x="${left}" y="32" fill="#555">actions (device events) of the checked inference; each row is one power cycle</text>`);
  r.timeline.boots.forEach((b, i) => {
    const y = top + i * rowH;
    out.push(`<text x="8" y="${y + 20}">boot ${b.boot}</text>`);
    for (const l of b.layers) {
      const c = LAYER_COLOURS[l.layer % LAYER_COLOURS.length]!;
      out.push(`<rect x="${x(l.from).toFixed(1)}" y="${y + 6}" width="${Math.max(1, x(l.to) - x(l.from)).toFixed(1)}" height="20" fill="${c}"><title>layer ${l.layer}: actions ${l.from}..${l.to}</title></rect>`);
    }
    const f = r.failures.find((ff) => ff.boot === b.boot);
    if (f) {
      out.push(`<line x1="${x(f.action).toFixed(1)}" y1="${y + 2}" x2="${x(f.action).toFixed(1)}" y2="${y + 30}" stroke="#d00" stroke-width="2"/>`);
      out.push(`<text x="${(x(f.action) + 3).toFixed(1)}" y="${y + 4}" fill="#d00">power fails @${f.action}</text>`);
    }
    for (const s of r.seeks.filter((ss) => ss.boot === b.boot)) {
      const bad = s.recoveredJob !== s.durableJobs;
      out.push(`<circle cx="${x(s.action).toFixed(1)}" cy="${y + 16}" r="4" fill="${bad ? '#d00' : '#fff'}" stroke="#000"><title>seek layer ${s.layer}: recovered job ${s.recoveredJob}, durable prefix ${s.durableJobs}</title></circle>`);
    }
  });
  const ly = top + rows * rowH + 18;
  const layers = [...new Set(r.timeline.boots.flatMap((b) => b.layers.map((l) => l.layer)))].sort((a, b) => a - b);
  layers.forEach((l, i) => {
    out.push(`<rect x="${left + i * 70}" y="${ly}" width="12" height="12" fill="${LAYER_COLOURS[l % LAYER_COLOURS.length]}"/><text x="${left + i * 70 + 16}" y="${ly + 10}">layer ${l}</text>`);
  });
  out.push(`<text x="${left}" y="${ly + 30}" fill="#555">circles: seeker conclusions (red: recovered job differs from the durable prefix); red lines: power failures</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}

export function counterexampleMarkdown(r: CounterexampleReport, svgFile?: string): string {
  const s = r.spec;
  const lines: string[] = [];
  lines.push(`# Counterexample: ${r.properties.join(', ') || 'none (the run passes)'}`);
  lines.push('');
  lines.push(`- model \`${s.model}\`, engine \`${s.engine}\`, B = ${s.batch}, NVM ${s.placement}, profile ${s.profile}`);
  const variants = s.faults.filter((f) => variantSpec(f) !== undefined);
  const seeded = s.faults.filter((f) => variantSpec(f) === undefined);
  if (variants.length) lines.push(`- published-code variant: ${variants.map((f) => `\`${f}\``).join(', ')}`);
  if (seeded.length) lines.push(`- seeded faults: ${seeded.map((f) => `\`${f}\``).join(', ')}`);
  if (s.fixes.length) lines.push(`- fixes: ${s.fixes.map((f) => `\`${f}\``).join(', ')}`);
  lines.push(`- input ${s.input}, warm-up inferences: ${s.warmup.length ? s.warmup.join(', ') : 'none'}, garbage ${s.garbage.kind}, seed ${s.seed}`);
  lines.push(`- power fails before action(s): ${s.schedule.length ? s.schedule.join(', ') : r.verdict === 'fail' ? 'none (fails without any power failure)' : 'none'}`);
  lines.push(`- replay: \`japari replay ${r.token}\``);
  lines.push('');
  if (svgFile) lines.push(`![timeline](${svgFile})`, '');
  lines.push('## Violations');
  for (const v of r.violations) {
    lines.push(`- **${v.property}** (boot ${v.boot}, action ${v.action}): ${v.message}`);
    if (v.expectedJob !== undefined) lines.push(`  - expected (durable) job ${v.expectedJob}, recovered job ${v.recoveredJob}`);
    if (v.jobs) lines.push(`  - jobs: ${v.jobs.map((j) => `#${j.job} seen ${j.finished ? 'finished' : 'unfinished'}, ${j.durable ? 'durable' : 'not durable'}`).join('; ')}`);
    if (v.diff) lines.push(`  - output differences [index, got, want]: ${v.diff.map((d) => `[${d.join(', ')}]`).join(' ')}`);
  }
  lines.push('');
  lines.push('## Seeks');
  lines.push('| boot | action | layer | recovered job | durable prefix | jobs seen finished |');
  lines.push('| --- | --- | --- | --- | --- | --- |');
  for (const k of r.seeks) lines.push(`| ${k.boot} | ${k.action} | ${k.layer} | ${k.recoveredJob} | ${k.durableJobs} | ${k.finishedView} |`);
  lines.push('');
  for (const f of r.failures) {
    lines.push(`## Power failure at action ${f.action} (boot ${f.boot})`);
    lines.push(`Interrupted: ${f.during}`);
    lines.push('```');
    lines.push(...f.events);
    lines.push('```');
  }
  lines.push('## Output');
  lines.push(`completed: ${r.output.completed}, equal to the reference: ${r.output.equal}`);
  lines.push('```');
  lines.push(`got:  [${r.output.got.join(', ')}]`);
  lines.push(`want: [${r.output.want.join(', ')}]`);
  lines.push('```');
  return lines.join('\n') + '\n';
}

