/**
 * Terminal styling: the only module that imports chalk. Commands say what a piece of text is
 * (a pass, a failure, a heading, a value) and this module decides how it looks.
 *
 * Colour only when stdout is a terminal and NO_COLOR is unset or empty (https://no-color.org);
 * otherwise every helper returns its text unchanged, so piped output and tests are plain.
 * Colour uses the basic 16-colour set (level 1), which every terminal understands.
 */
import { Chalk, type ChalkInstance } from 'chalk';
import type { Io } from './io.js';

export type Align = 'left' | 'right';

export interface Column {
  readonly header: string;
  readonly align?: Align;
}

export interface Style {
  /** Whether helpers emit ANSI colour codes. */
  readonly color: boolean;
  ok(s: string): string;
  fail(s: string): string;
  warn(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
  heading(s: string): string;
  value(s: string): string;
  /** PASS / FAIL / n/a, coloured. */
  verdict(v: Verdict): string;
  /** Rows under a header with aligned columns (widths ignore colour codes); no trailing newline. */
  table(columns: readonly Column[], rows: readonly (readonly string[])[]): string;
  /** `label  value` lines with the labels padded to one width; no trailing newline. */
  pairs(rows: readonly (readonly [string, string])[]): string;
}

export type Verdict = 'pass' | 'fail' | 'n/a';

export function colorEnabled(io: Pick<Io, 'isTTY' | 'env'>): boolean {
  const noColor = io.env['NO_COLOR'];
  return io.isTTY && (noColor === undefined || noColor === '');
}

// Every SGR sequence chalk emits: ESC [ params m.
const ANSI = /\u001b\[[0-9;]*m/g;

/** Printed width of a string: code units without colour codes (japari prints ASCII only). */
export function visibleWidth(s: string): number {
  return s.replace(ANSI, '').length;
}

function pad(s: string, width: number, align: Align): string {
  const fill = ' '.repeat(Math.max(0, width - visibleWidth(s)));
  return align === 'right' ? fill + s : s + fill;
}

export function createStyle(io: Pick<Io, 'isTTY' | 'env'>): Style {
  const color = colorEnabled(io);
  const c: ChalkInstance = new Chalk({ level: color ? 1 : 0 });
  const style: Style = {
    color,
    ok: (s) => c.green(s),
    fail: (s) => c.red.bold(s),
    warn: (s) => c.yellow(s),
    dim: (s) => c.dim(s),
    bold: (s) => c.bold(s),
    heading: (s) => c.bold.underline(s),
    value: (s) => c.cyan(s),
    verdict: (v) => (v === 'pass' ? c.green('PASS') : v === 'fail' ? c.red.bold('FAIL') : c.yellow('n/a')),
    table(columns, rows) {
      const widths = columns.map((col, i) => Math.max(visibleWidth(col.header), ...rows.map((r) => visibleWidth(r[i] ?? ''))));
      const line = (cells: readonly string[], head: boolean): string =>
        columns
          .map((col, i) => {
            const align = col.align ?? 'left';
            // No trailing padding after a left-aligned last column.
            const last = i === columns.length - 1 && align === 'left';
            const cell = last ? (cells[i] ?? '') : pad(cells[i] ?? '', widths[i]!, align);
            return head ? c.bold(cell) : cell;
          })
          .join('  ');
      return [line(columns.map((col) => col.header), true), ...rows.map((r) => line(r, false))].join('\n');
    },
    pairs(rows) {
      const w = Math.max(0, ...rows.map(([k]) => visibleWidth(k)));
      return rows.map(([k, v]) => `${c.dim(pad(k, w, 'left'))}  ${v}`).join('\n');
    },
  };
  return style;
}
