/**
 * The report's charts, drawn from a BenchReport with src/bench/svg.ts:
 *   latency-vs-power.svg     latency vs harvested power per engine (each at its best B), one panel per model
 *   latency-vs-capacitor.svg latency vs capacitor per engine under the weak reference supply
 *   breakdown.svg            stacked time breakdown by category per engine and B
 *   speedup.svg              speedup over HAWAII per model, condition and B (log scale, 1 = parity)
 *   min-capacitor.svg        smallest capacitor that still completes, per engine and B
 */
import { CATEGORIES, type Category } from '../device/device.js';
import type { EngineKind } from '../engines/reference/plan.js';
import type { BenchReport } from './bench.js';
import type { BenchRow } from './sweep.js';
import { usable } from './derive.js';
import { CONTINUOUS } from './conditions.js';
import { barPanel, figure, linePanel, stackPanel, type LegendEntry } from './svg.js';

const ENGINE_COLOR_MAP: Readonly<Record<string, string>> = {
  continuous: '#555555',
  hawaii: '#D55E00',
  japari: '#0072B2',
  'japari-loopcount': '#009E73',
  stateful: '#CC79A7',
};

export const CATEGORY_COLORS: Readonly<Record<Category, string>> = {
  compute: '#0072B2',
  fetch: '#56B4E9',
  'preserve-output': '#009E73',
  'preserve-indicator': '#E69F00',
  seek: '#CC79A7',
  commit: '#F0E442',
  reexec: '#D55E00',
  reboot: '#7F7F7F',
  recharge: '#D9D9D9',
};

/** Shades of one hue for B = 1, 2, 4, 8 (light to dark). */
/** Colours of designs without their own (a user's engine module): a fixed palette by kind. */
const EXTRA_HUES: readonly (readonly string[])[] = [
  ['#DADAEB', '#BCBDDC', '#756BB1', '#3F007D'],
  ['#FCC5C0', '#FA9FB5', '#C51B8A', '#7A0177'],
  ['#D9F0A3', '#ADDD8E', '#41AB5D', '#004529'],
];
function extraHue(engine: string): readonly string[] {
  let h = 0;
  for (let i = 0; i < engine.length; i++) h = (h * 31 + engine.charCodeAt(i)) >>> 0;
  return EXTRA_HUES[h % EXTRA_HUES.length]!;
}

/** The line colour of an engine. */
export function engineColor(engine: EngineKind): string {
  return ENGINE_COLOR_MAP[engine] ?? extraHue(engine)[2]!;
}

const BATCH_SHADES: Readonly<Record<string, readonly string[]>> = {
  japari: ['#9ECAE1', '#6BAED6', '#2171B5', '#08306B'],
  'japari-loopcount': ['#A1D99B', '#74C476', '#238B45', '#00441B'],
  stateful: ['#FCC5C0', '#F768A1', '#AE017E', '#49006A'],
  hawaii: ['#FDD0A2', '#FDAE6B', '#E6550D', '#7F2704'],
  continuous: ['#BDBDBD', '#969696', '#636363', '#252525'],
};

function shade(engine: EngineKind, i: number): string {
  const s = BATCH_SHADES[engine] ?? extraHue(engine);
  return s[Math.min(i, s.length - 1)]!;
}

const PANEL_W = 330;
const PANEL_H = 250;

export interface Chart {
  readonly file: string;
  readonly title: string;
  readonly svg: string;
}

function rowIndex(rows: readonly BenchRow[]): Map<string, BenchRow> {
  return new Map(rows.map((r) => [`${r.model}|${r.engine}|${r.batch}|${r.condition}`, r]));
}

/** Lowest completed latency over B for (model, engine, condition). */
function bestLatency(ix: Map<string, BenchRow>, batches: readonly number[], model: string, engine: EngineKind, cond: string): number | null {
  let best: number | null = null;
  for (const b of engine === 'continuous' ? [1] : batches) {
    const r = ix.get(`${model}|${engine}|${b}|${cond}`);
    if (usable(r) && (best === null || r.latency_s < best)) best = r.latency_s;
  }
  return best;
}

function engineLegend(engines: readonly EngineKind[]): LegendEntry[] {
  return engines.map((e) => ({ name: e === 'continuous' ? 'continuous (no preservation)' : e, color: engineColor(e), kind: 'line', dash: e === 'continuous' }));
}

/** The reference capacitor (the sweep's first) and the weak reference supply (RC, else the lowest power). */
export function referenceChoices(report: BenchReport): { capUF: number | null; weakSupply: string | null } {
  const caps = report.conditions.map((c) => c.capacitor_uF).filter((c): c is number => c !== null);
  const capUF = caps.length ? caps[0]! : null;
  const rc = report.conditions.find((c) => c.supply === 'rc');
  if (rc) return { capUF, weakSupply: 'rc' };
  const powers = report.conditions.filter((c) => c.supply === 'constant').map((c) => c.power_mW!);
  return { capUF, weakSupply: powers.length ? `${Math.min(...powers)}mW` : null };
}

function latencyVsPower(report: BenchReport): Chart | null {
  const { capUF } = referenceChoices(report);
  const conds = report.conditions.filter((c) => c.supply === 'constant' && c.capacitor_uF === capUF);
  if (conds.length < 2) return null;
  const ix = rowIndex(report.rows);
  const activeMW = report.device.active_power_mW;
  const panels = report.models.map((m) =>
    linePanel({
      title: m.name,
      x: { label: 'harvested power (mW)', log: true, min: Math.min(...conds.map((c) => c.power_mW!), activeMW) / 1.3, max: Math.max(...conds.map((c) => c.power_mW!), activeMW) * 1.15 },
      y: { label: 'latency (s)', log: true },
      xTicks: [...new Set(conds.map((c) => c.power_mW!))].sort((a, b) => a - b),
      series: report.engines.map((e) => ({
        name: e,
        color: engineColor(e),
        dash: e === 'continuous',
        points: [...conds].sort((a, b) => a.power_mW! - b.power_mW!).map((c) => ({ x: c.power_mW!, y: bestLatency(ix, report.batches, m.name, e, c.id) })),
      })),
      vlines: [{ x: activeMW, label: `active draw ${activeMW.toFixed(2)} mW` }],
      w: PANEL_W,
      h: PANEL_H,
    }),
  );
  return {
    file: 'latency-vs-power.svg',
    title: 'Latency vs harvested power',
    svg: figure({
      title: `Latency vs harvested power (${capUF} uF capacitor, each engine at its best B)`,
      subtitle: [
        'Log-log. An x on the axis: no forward progress (the run stalled). Dashed line: the datasheet active draw (profile.ts activePowerW);',
        'weight fetches from FRAM draw more than it, so power still fails somewhat above it.',
      ],
      panels,
      panelW: PANEL_W,
      panelH: PANEL_H,
      cols: 3,
      legend: engineLegend(report.engines),
    }),
  };
}

function latencyVsCapacitor(report: BenchReport): Chart | null {
  const mcs = report.derived.min_capacitors;
  const ladder = report.min_capacitor_ladder_uF;
  if (mcs.length === 0 || !ladder || ladder.length < 2) return null;
  // Latency at each ladder capacitor, from the minimum-capacitor probes: every engine and B ran there.
  const best = (model: string, engine: EngineKind, uF: number): number | null => {
    let b: number | null = null;
    for (const m of mcs) {
      if (m.model !== model || m.engine !== engine) continue;
      for (const p of m.probes) if (p.capacitor_uF === uF && p.completed && (b === null || p.latency_s < b)) b = p.latency_s;
    }
    return b;
  };
  const fmtCap = (uF: number): string => (uF >= 1000 ? `${+(uF / 1000).toPrecision(3)}m` : `${+uF.toPrecision(3)}u`);
  const panels = report.models.map((m) =>
    linePanel({
      title: m.name,
      x: { label: 'capacitor (F)', log: true, min: ladder[0]! / 1.3, max: ladder[ladder.length - 1]! * 1.3, format: fmtCap },
      y: { label: 'latency (s)', log: true },
      xTicks: ladder.filter((uF) => Math.abs(Math.log10(uF) - Math.round(Math.log10(uF))) < 1e-9),
      series: report.engines
        .filter((e) => mcs.some((x) => x.engine === e))
        .map((e) => ({ name: e, color: engineColor(e), dash: e === 'continuous', points: ladder.map((uF) => ({ x: uF, y: best(m.name, e, uF) })) })),
      w: PANEL_W,
      h: PANEL_H,
    }),
  );
  return {
    file: 'latency-vs-capacitor.svg',
    title: 'Latency vs capacitor',
    svg: figure({
      title: `Latency vs capacitor under ${report.min_capacitor_harvester} (each engine at its best B)`,
      subtitle: [
        'Log-log, capacitors of the minimum-capacitor ladder (E3 series). An x on the axis: no B makes forward progress with that capacitor.',
        'Small capacitors: many short power cycles (reboots and re-execution dominate); large ones: few long recharges.',
      ],
      panels,
      panelW: PANEL_W,
      panelH: PANEL_H,
      cols: 3,
      legend: engineLegend(report.engines.filter((e) => mcs.some((x) => x.engine === e))),
    }),
  };
}

/** The condition whose breakdown the chart shows: the reference capacitor at 5 mW if run, else the weakest constant power. */
export function breakdownCondition(report: BenchReport): string {
  const { capUF } = referenceChoices(report);
  const consts = report.conditions.filter((c) => c.supply === 'constant' && c.capacitor_uF === capUF);
  const five = consts.find((c) => c.power_mW === 5);
  if (five) return five.id;
  if (consts.length) return [...consts].sort((a, b) => a.power_mW! - b.power_mW!)[0]!.id;
  return report.conditions[0]!.id;
}

function breakdown(report: BenchReport, cond: string, file: string): Chart {
  const ix = rowIndex(report.rows);
  const bs = report.batches.filter((b) => b === 1 || b === 4).length ? report.batches.filter((b) => b === 1 || b === 4) : report.batches.slice(0, 2);
  const panels = report.models.map((m) => {
    const bars: { label: string; segments: number[]; failed?: boolean }[] = [];
    for (const e of report.engines) {
      for (const b of e === 'continuous' ? [1] : bs) {
        const r = ix.get(`${m.name}|${e}|${b}|${cond}`);
        if (!r) continue;
        const short = e === 'japari-loopcount' ? 'loopcnt' : e === 'continuous' ? 'contin.' : e;
        bars.push({ label: e === 'continuous' ? `${short}\n-` : `${short}\nB=${b}`, segments: CATEGORIES.map((c) => r.breakdown[c].seconds), failed: !r.completed });
      }
    }
    return stackPanel({ title: m.name, y: { label: 'time (s)' }, bars, series: CATEGORIES.map((c) => ({ name: c, color: CATEGORY_COLORS[c] })), w: PANEL_W + 40, h: PANEL_H + 10 });
  });
  const desc = report.conditions.find((c) => c.id === cond)!.description;
  return {
    file,
    title: `Where the time goes: ${desc}`,
    svg: figure({
      title: `Where the time goes: latency by category, ${desc}`,
      subtitle: [
        'compute = LEA and CPU arithmetic; fetch = reads of weights and inputs; preserve-* = NVM writes of outputs and progress indicators;',
        'reexec = work redone after a power failure; recharge = the device off, waiting for Von. "stall": no forward progress (the bar shows the work done before giving up).',
      ],
      panels,
      panelW: PANEL_W + 40,
      panelH: PANEL_H + 10,
      cols: 3,
      legend: CATEGORIES.map((c) => ({ name: c, color: CATEGORY_COLORS[c], kind: 'box' as const })),
    }),
  };
}

/** Conditions the speedup chart shows: continuous, then the reference capacitor under each supply. */
export function speedupConditions(report: BenchReport): string[] {
  const { capUF } = referenceChoices(report);
  return report.conditions.filter((c) => c.supply === 'continuous' || c.capacitor_uF === capUF).map((c) => c.id);
}

function speedup(report: BenchReport): Chart | null {
  const engines = report.engines.filter((e) => e !== 'hawaii' && e !== 'continuous');
  if (!report.engines.includes('hawaii') || engines.length === 0) return null;
  const conds = speedupConditions(report);
  const sp = new Map(report.derived.speedups.map((s) => [`${s.model}|${s.engine}|${s.batch}|${s.condition}`, s]));
  const panels: string[] = [];
  const short = (c: string): string => (c === CONTINUOUS.id ? 'continuous' : c.replace(/^[0-9.]+[um]F\//, ''));
  for (const e of engines) {
    // One y range for every panel of an engine, so bars compare across models.
    const all = report.derived.speedups.filter((s) => s.engine === e && s.speedup !== null).map((s) => s.speedup!);
    const lo = 10 ** Math.floor(Math.log10(Math.min(1, ...all)) + 1e-9);
    const hi = 10 ** Math.ceil(Math.log10(Math.max(1, ...all)) - 1e-9);
    for (const m of report.models) {
      const values = conds.map((c) =>
        report.batches.map((b) => {
          const s = sp.get(`${m.name}|${e}|${b}|${c}`);
          return s === undefined ? undefined : s.speedup;
        }),
      );
      panels.push(
        barPanel({
          title: `${e} / ${m.name}`,
          y: { label: 'speedup over HAWAII (x)', log: true, min: lo, max: hi > lo ? hi : lo * 10 },
          groups: conds.map(short),
          rotateLabels: true,
          series: report.batches.map((b, i) => ({ name: `B=${b}`, color: shade(e, i) })),
          values,
          refLine: { y: 1, label: 'parity' },
          w: PANEL_W + 60,
          h: PANEL_H,
        }),
      );
    }
  }
  const { capUF } = referenceChoices(report);
  return {
    file: 'speedup.svg',
    title: 'Speedup over HAWAII',
    svg: figure({
      title: 'Speedup over HAWAII (HAWAII latency / engine latency, same model, B and condition)',
      subtitle: [
        `Log scale; above the dashed line the engine is faster than HAWAII. Supplies use the ${capUF} uF capacitor. An x: one of the two runs made no forward progress.`,
        'Bars from light to dark: B = ' + report.batches.join(', ') + '.',
      ],
      panels,
      panelW: PANEL_W + 60,
      panelH: PANEL_H,
      cols: Math.min(3, report.models.length),
      legend: engines.flatMap((e) => report.batches.map((b, i) => ({ name: `${e} B=${b}`, color: shade(e, i), kind: 'box' as const }))),
    }),
  };
}

function minCapacitor(report: BenchReport): Chart | null {
  const mcs = report.derived.min_capacitors;
  if (mcs.length === 0) return null;
  const batches = [...new Set(mcs.map((m) => m.batch))].sort((a, b) => a - b);
  const engines = report.engines.filter((e) => mcs.some((m) => m.engine === e));
  const by = new Map(mcs.map((m) => [`${m.model}|${m.engine}|${m.batch}`, m]));
  const panels = report.models.map((m) =>
    barPanel({
      title: m.name,
      y: { label: 'minimum capacitor (uF)', log: true, ...(report.min_capacitor_ladder_uF ? { min: report.min_capacitor_ladder_uF[0]! } : {}) },
      groups: engines.map((e) => (e === 'japari-loopcount' ? 'loopcount' : e)),
      series: batches.map((b, i) => ({ name: `B=${b}`, color: ['#C6DBEF', '#6BAED6', '#2171B5', '#08306B'][Math.min(i, 3)]! })),
      values: engines.map((e) =>
        batches.map((b) => {
          if (e === 'continuous' && b !== 1) return undefined;
          const r = by.get(`${m.name}|${e}|${b}`);
          if (!r) return undefined;
          return r.min_capacitor_uF;
        }),
      ),
      w: PANEL_W,
      h: PANEL_H,
    }),
  );
  return {
    file: 'min-capacitor.svg',
    title: 'Minimum capacitor',
    svg: figure({
      title: `Smallest capacitor that still completes an inference (${report.min_capacitor_harvester})`,
      subtitle: [
        'Log scale. A capacitor ladder (E3, 10 uF to 100 mF), then bisection to within 2%: every probed capacitor at or above the bar completes.',
        'An x: no capacitor up to 100 mF completes. The continuous engine preserves nothing, so it must finish the inference in one charge.',
      ],
      panels,
      panelW: PANEL_W,
      panelH: PANEL_H,
      cols: 3,
      legend: batches.map((b, i) => ({ name: `B=${b}`, color: ['#C6DBEF', '#6BAED6', '#2171B5', '#08306B'][Math.min(i, 3)]!, kind: 'box' as const })),
    }),
  };
}

export function charts(report: BenchReport): Chart[] {
  const bc = breakdownCondition(report);
  return [
    latencyVsPower(report),
    latencyVsCapacitor(report),
    breakdown(report, CONTINUOUS.id, 'breakdown-continuous.svg'),
    bc !== CONTINUOUS.id ? breakdown(report, bc, 'breakdown.svg') : null,
    speedup(report),
    minCapacitor(report),
  ].filter((c): c is Chart => c !== null);
}
