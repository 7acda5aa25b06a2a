/**
 * Hand-written SVG charts (no chart library): line panels, grouped bar panels and stacked bar
 * panels on linear or log axes, composed into one figure with a title and a shared legend.
 *
 * Output is a pure function of the data (fixed number formatting, no ids from counters shared
 * across calls), so reports rerun byte-identically.
 */

export const FONT = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif";

export interface AxisSpec {
  readonly label: string;
  readonly log?: boolean;
  /** Data range; padded to nice ticks when not given. */
  readonly min?: number;
  readonly max?: number;
  readonly format?: (v: number) => string;
}

export interface LegendEntry {
  readonly name: string;
  readonly color: string;
  readonly kind: 'line' | 'box';
  readonly dash?: boolean;
}

export interface Series {
  readonly name: string;
  readonly color: string;
  readonly dash?: boolean;
  /** y null: a gap (the run did not complete), drawn as an x on the axis. */
  readonly points: readonly { readonly x: number; readonly y: number | null }[];
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
/** Coordinates with at most 2 decimals, no trailing zeros. */
const n = (v: number): string => String(Math.round(v * 100) / 100);

/** "0.01", "2", "10", "1.5k": short tick labels. */
export function fmtTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e4) return `${+(v / 1e3).toPrecision(3)}k`;
  return String(+v.toPrecision(3));
}

interface Scale {
  (v: number): number;
  readonly ticks: readonly number[];
  readonly minor: readonly number[];
  readonly lo: number;
  readonly hi: number;
}

function niceStep(span: number, target: number): number {
  const raw = span / Math.max(1, target);
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 2.5 ? 2.5 : m <= 5 ? 5 : 10) * p;
}

/** Map [lo, hi] of data onto pixels [a, b] (b < a for a y axis). */
function makeScale(values: readonly number[], spec: AxisSpec, a: number, b: number, zeroBased: boolean): Scale {
  const finite = values.filter((v) => Number.isFinite(v) && (!spec.log || v > 0));
  let lo = spec.min ?? (finite.length ? Math.min(...finite) : spec.log ? 1 : 0);
  let hi = spec.max ?? (finite.length ? Math.max(...finite) : spec.log ? 10 : 1);
  if (spec.log) {
    if (spec.min === undefined) lo = 10 ** Math.floor(Math.log10(lo) + 1e-9);
    if (spec.max === undefined) hi = 10 ** Math.ceil(Math.log10(hi) - 1e-9);
    if (hi <= lo) hi = lo * 10;
    const ticks: number[] = [];
    const minor: number[] = [];
    const decades = Math.log10(hi / lo);
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
      for (const m of [1, 2, 3, 4, 5, 6, 7, 8, 9]) {
        const v = m * 10 ** e;
        if (v < lo * (1 - 1e-9) || v > hi * (1 + 1e-9)) continue;
        // Label 1-2-5 when the axis spans few decades, decades only otherwise.
        if (m === 1 || (decades <= 2 && (m === 2 || m === 5))) ticks.push(+v.toPrecision(3));
        else minor.push(v);
      }
    }
    const L = Math.log10(lo);
    const H = Math.log10(hi);
    const f = ((v: number) => a + ((Math.log10(v) - L) / (H - L)) * (b - a)) as Scale;
    return Object.assign(f, { ticks, minor, lo, hi });
  }
  if (zeroBased) lo = Math.min(0, lo);
  if (hi === lo) hi = lo + 1;
  const step = niceStep(hi - lo, 5);
  if (spec.min === undefined) lo = Math.floor(lo / step + 1e-9) * step;
  if (spec.max === undefined) hi = Math.ceil(hi / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let v = lo; v <= hi + step * 1e-6; v += step) ticks.push(+v.toPrecision(12));
  const f = ((v: number) => a + ((v - lo) / (hi - lo)) * (b - a)) as Scale;
  return Object.assign(f, { ticks, minor: [], lo, hi });
}

const PAD = { left: 58, right: 14, top: 30, bottom: 44 };

function frame(w: number, h: number, title: string, xLabel: string, yLabel: string): string {
  return [
    `<text x="${n(w / 2)}" y="16" text-anchor="middle" font-size="13" font-weight="600">${esc(title)}</text>`,
    `<text x="${n(PAD.left + (w - PAD.left - PAD.right) / 2)}" y="${n(h - 6)}" text-anchor="middle" font-size="11" fill="#333">${esc(xLabel)}</text>`,
    `<text transform="translate(13 ${n(PAD.top + (h - PAD.top - PAD.bottom) / 2)}) rotate(-90)" text-anchor="middle" font-size="11" fill="#333">${esc(yLabel)}</text>`,
  ].join('');
}

function yAxis(y: Scale, w: number, fmt: (v: number) => string): string {
  const x0 = PAD.left;
  const x1 = w - PAD.right;
  const parts: string[] = [];
  for (const v of y.minor) parts.push(`<line x1="${x0}" x2="${n(x1)}" y1="${n(y(v))}" y2="${n(y(v))}" stroke="#f0f0f0"/>`);
  for (const v of y.ticks) {
    parts.push(`<line x1="${x0}" x2="${n(x1)}" y1="${n(y(v))}" y2="${n(y(v))}" stroke="#e0e0e0"/>`);
    parts.push(`<text x="${x0 - 5}" y="${n(y(v) + 3.5)}" text-anchor="end" font-size="10" fill="#444">${esc(fmt(v))}</text>`);
  }
  parts.push(`<line x1="${x0}" x2="${x0}" y1="${n(y(y.lo))}" y2="${n(y(y.hi))}" stroke="#888"/>`);
  return parts.join('');
}

/** A line panel of size w x h (local coordinates). */
export function linePanel(o: {
  readonly title: string;
  readonly x: AxisSpec;
  readonly y: AxisSpec;
  readonly series: readonly Series[];
  readonly vlines?: readonly { readonly x: number; readonly label: string }[];
  /** Tick positions on x (default: from the scale). */
  readonly xTicks?: readonly number[];
  readonly w: number;
  readonly h: number;
}): string {
  const { w, h } = o;
  const xs = [...o.series.flatMap((s) => s.points.map((p) => p.x)), ...(o.vlines ?? []).map((v) => v.x)];
  const ys = o.series.flatMap((s) => s.points.map((p) => p.y).filter((v): v is number => v !== null));
  const x = makeScale(xs, o.x, PAD.left + 8, w - PAD.right - 8, false);
  const y = makeScale(ys, o.y, h - PAD.bottom, PAD.top, !o.y.log);
  const fx = o.x.format ?? fmtTick;
  const fy = o.y.format ?? fmtTick;
  const parts: string[] = [frame(w, h, o.title, o.x.label, o.y.label), yAxis(y, w, fy)];
  const base = h - PAD.bottom;
  parts.push(`<line x1="${PAD.left}" x2="${n(w - PAD.right)}" y1="${n(base)}" y2="${n(base)}" stroke="#888"/>`);
  for (const v of o.xTicks ?? x.ticks) {
    parts.push(`<line x1="${n(x(v))}" x2="${n(x(v))}" y1="${n(base)}" y2="${n(base + 4)}" stroke="#888"/>`);
    parts.push(`<text x="${n(x(v))}" y="${n(base + 15)}" text-anchor="middle" font-size="10" fill="#444">${esc(fx(v))}</text>`);
  }
  for (const v of o.vlines ?? []) {
    parts.push(`<line x1="${n(x(v.x))}" x2="${n(x(v.x))}" y1="${n(base)}" y2="${PAD.top}" stroke="#999" stroke-dasharray="4 3"/>`);
    parts.push(`<text x="${n(x(v.x) + 3)}" y="${PAD.top + 9}" font-size="9" fill="#666">${esc(v.label)}</text>`);
  }
  o.series.forEach((s, si) => {
    const segs: string[] = [];
    let cur: string[] = [];
    for (const p of s.points) {
      if (p.y === null) {
        if (cur.length) segs.push(cur.join(' '));
        cur = [];
        continue;
      }
      cur.push(`${n(x(p.x))},${n(y(p.y))}`);
    }
    if (cur.length) segs.push(cur.join(' '));
    for (const seg of segs) {
      parts.push(`<polyline points="${seg}" fill="none" stroke="${s.color}" stroke-width="2"${s.dash ? ' stroke-dasharray="5 3"' : ''}/>`);
    }
    for (const p of s.points) {
      if (p.y === null) {
        // Did not complete: a cross on the x axis (nudged per series so crosses do not hide each other).
        const cx = x(p.x) + (si - (o.series.length - 1) / 2) * 4;
        parts.push(`<path d="M${n(cx - 4)} ${n(base - 4)}L${n(cx + 4)} ${n(base + 4)}M${n(cx - 4)} ${n(base + 4)}L${n(cx + 4)} ${n(base - 4)}" stroke="${s.color}" stroke-width="2"><title>${esc(`${s.name}: did not complete`)}</title></path>`);
      } else {
        parts.push(`<circle cx="${n(x(p.x))}" cy="${n(y(p.y))}" r="3" fill="${s.color}"><title>${esc(`${s.name}: ${fy(p.y)} at ${fx(p.x)}`)}</title></circle>`);
      }
    }
  });
  return parts.join('\n');
}

/** Grouped bars: one group per label, one bar per series; null = did not complete (an x). */
export function barPanel(o: {
  readonly title: string;
  readonly y: AxisSpec;
  readonly groups: readonly string[];
  readonly series: readonly { readonly name: string; readonly color: string }[];
  /** values[group][series] */
  readonly values: readonly (readonly (number | null | undefined)[])[];
  readonly xLabel?: string;
  readonly refLine?: { readonly y: number; readonly label: string };
  /** Slant the group labels (long labels, many groups). */
  readonly rotateLabels?: boolean;
  readonly w: number;
  readonly h: number;
}): string {
  const { w, h } = o;
  const ys = o.values.flatMap((g) => g.filter((v): v is number => typeof v === 'number'));
  if (o.refLine) ys.push(o.refLine.y);
  const bottom = o.rotateLabels ? PAD.bottom + 16 : PAD.bottom;
  const y = makeScale(ys, o.y, h - bottom, PAD.top, !o.y.log);
  const fy = o.y.format ?? fmtTick;
  const parts: string[] = [frame(w, h, o.title, o.xLabel ?? '', o.y.label), yAxis(y, w, fy)];
  const base = h - bottom;
  const floor = o.y.log ? y(y.lo) : y(Math.max(0, y.lo));
  const gw = (w - PAD.left - PAD.right) / Math.max(1, o.groups.length);
  const bw = Math.min(18, (gw * 0.8) / Math.max(1, o.series.length));
  o.groups.forEach((g, gi) => {
    const gx = PAD.left + gi * gw + (gw - bw * o.series.length) / 2;
    o.series.forEach((s, si) => {
      const v = o.values[gi]?.[si];
      const bx = gx + si * bw;
      if (v === undefined) return; // not run
      if (v === null) {
        const cx = bx + bw / 2;
        parts.push(`<path d="M${n(cx - 3)} ${n(base - 9)}L${n(cx + 3)} ${n(base - 3)}M${n(cx - 3)} ${n(base - 3)}L${n(cx + 3)} ${n(base - 9)}" stroke="${s.color}" stroke-width="1.6"><title>${esc(`${g}, ${s.name}: did not complete`)}</title></path>`);
        return;
      }
      const top = y(Math.min(Math.max(v, y.lo), y.hi));
      parts.push(`<rect x="${n(bx + 0.5)}" y="${n(Math.min(top, floor))}" width="${n(bw - 1)}" height="${n(Math.abs(floor - top))}" fill="${s.color}"><title>${esc(`${g}, ${s.name}: ${fy(v)}`)}</title></rect>`);
    });
    const lx = PAD.left + gi * gw + gw / 2;
    parts.push(
      o.rotateLabels
        ? `<text transform="translate(${n(lx + 3)} ${n(base + 10)}) rotate(-35)" text-anchor="end" font-size="9.5" fill="#444">${esc(g)}</text>`
        : `<text x="${n(lx)}" y="${n(base + 14)}" text-anchor="middle" font-size="10" fill="#444">${esc(g)}</text>`,
    );
  });
  parts.push(`<line x1="${PAD.left}" x2="${n(w - PAD.right)}" y1="${n(base)}" y2="${n(base)}" stroke="#888"/>`);
  if (o.refLine) {
    const ry = y(o.refLine.y);
    parts.push(`<line x1="${PAD.left}" x2="${n(w - PAD.right)}" y1="${n(ry)}" y2="${n(ry)}" stroke="#333" stroke-dasharray="4 3"/>`);
    parts.push(`<text x="${n(w - PAD.right - 2)}" y="${n(ry - 3)}" text-anchor="end" font-size="9" fill="#333">${esc(o.refLine.label)}</text>`);
  }
  return parts.join('\n');
}

/** Stacked bars: one bar per label, segments in series order (linear y from 0). */
export function stackPanel(o: {
  readonly title: string;
  readonly y: AxisSpec;
  readonly bars: readonly { readonly label: string; readonly segments: readonly number[]; readonly failed?: boolean }[];
  readonly series: readonly { readonly name: string; readonly color: string }[];
  readonly w: number;
  readonly h: number;
}): string {
  const { w, h } = o;
  const totals = o.bars.map((b) => b.segments.reduce((s, v) => s + Math.max(0, v), 0));
  const y = makeScale([0, ...totals], { ...o.y, log: false }, h - PAD.bottom, PAD.top, true);
  const fy = o.y.format ?? fmtTick;
  const parts: string[] = [frame(w, h, o.title, '', o.y.label), yAxis(y, w, fy)];
  const base = h - PAD.bottom;
  const bwSlot = (w - PAD.left - PAD.right) / Math.max(1, o.bars.length);
  const bw = Math.min(34, bwSlot * 0.7);
  o.bars.forEach((b, i) => {
    const cx = PAD.left + i * bwSlot + bwSlot / 2;
    let acc = 0;
    b.segments.forEach((v, si) => {
      if (!(v > 0)) return;
      const y0 = y(acc);
      const y1 = y(acc + v);
      acc += v;
      const s = o.series[si]!;
      parts.push(`<rect x="${n(cx - bw / 2)}" y="${n(y1)}" width="${n(bw)}" height="${n(Math.max(0, y0 - y1))}" fill="${s.color}"><title>${esc(`${b.label}: ${s.name} ${fy(v)}`)}</title></rect>`);
    });
    if (b.failed) parts.push(`<text x="${n(cx)}" y="${n(y(acc) - 4)}" text-anchor="middle" font-size="10" fill="#b00">stall</text>`);
    // Two-line labels: "engine\nB=1".
    const lines = b.label.split('\n');
    lines.forEach((l, li) => parts.push(`<text x="${n(cx)}" y="${n(base + 13 + li * 11)}" text-anchor="middle" font-size="9.5" fill="#444">${esc(l)}</text>`));
  });
  parts.push(`<line x1="${PAD.left}" x2="${n(w - PAD.right)}" y1="${n(base)}" y2="${n(base)}" stroke="#888"/>`);
  return parts.join('\n');
}

/** A full SVG document: title, optional subtitle lines, a legend row, panels in a grid. */
export function figure(o: {
  readonly title: string;
  readonly subtitle?: readonly string[];
  readonly panels: readonly string[];
  readonly panelW: number;
  readonly panelH: number;
  readonly cols: number;
  readonly legend: readonly LegendEntry[];
}): string {
  const cols = Math.max(1, Math.min(o.cols, o.panels.length));
  const rows = Math.ceil(o.panels.length / cols);
  const sub = o.subtitle ?? [];
  // Wide enough for the title and subtitles (approximate glyph widths of the sans-serif font).
  const width = Math.ceil(Math.max(cols * o.panelW + 20, 20 + o.title.length * 9.2, 20 + Math.max(0, ...sub.map((t) => t.length)) * 6.1));
  const headH = 30 + sub.length * 15;
  // Legend entries flow left to right, wrapping at the figure width.
  const legendItems: string[] = [];
  let lx = 10;
  let ly = headH + 6;
  for (const e of o.legend) {
    const wItem = 30 + e.name.length * 6.3 + 14;
    if (lx + wItem > width - 10) {
      lx = 10;
      ly += 18;
    }
    const mark =
      e.kind === 'line'
        ? `<line x1="${n(lx)}" x2="${n(lx + 22)}" y1="${n(ly)}" y2="${n(ly)}" stroke="${e.color}" stroke-width="2.5"${e.dash ? ' stroke-dasharray="5 3"' : ''}/>`
        : `<rect x="${n(lx + 6)}" y="${n(ly - 6)}" width="12" height="12" fill="${e.color}"/>`;
    legendItems.push(`${mark}<text x="${n(lx + 28)}" y="${n(ly + 4)}" font-size="11">${esc(e.name)}</text>`);
    lx += wItem;
  }
  const top = ly + 16;
  const height = top + rows * o.panelH + 10;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${n(width)}" height="${n(height)}" viewBox="0 0 ${n(width)} ${n(height)}" font-family="${esc(FONT)}">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="22" font-size="16" font-weight="700">${esc(o.title)}</text>`,
    ...sub.map((s, i) => `<text x="10" y="${40 + i * 15}" font-size="11.5" fill="#555">${esc(s)}</text>`),
    ...legendItems,
  ];
  o.panels.forEach((p, i) => {
    const cx = 10 + (i % cols) * o.panelW;
    const cy = top + Math.floor(i / cols) * o.panelH;
    out.push(`<g transform="translate(${n(cx)} ${n(cy)})">\n${p}\n</g>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
