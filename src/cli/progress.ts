/**
 * Progress of long commands, always on stderr (stdout stays the command's result, clean for
 * --json). On a terminal: one bar with ETA, redrawn in place. Otherwise (CI logs, pipes): one
 * line per step -- each discrete step (a report producer, a check section, a fault), and every
 * tenth of a counted campaign -- so a log shows the command is alive and how far it got.
 * Wall-clock time is used only for this display.
 */
import type { Io } from './io.js';

export interface Progress {
  /** A counted campaign advanced: `done` of `total` (points, jobs, seconds), with an optional note. */
  update(done: number, total: number, note?: string): void;
  /** A discrete step began or ended (one line off a terminal), optionally with the position reached. */
  step(text: string, done?: number, total?: number): void;
  /** The command is done with progress (ends the bar's line on a terminal). */
  done(): void;
}

const QUIET: Progress = { update: () => undefined, step: () => undefined, done: () => undefined };

export function fmtEta(s: number): string {
  if (!Number.isFinite(s)) return '';
  return s < 90 ? `${s.toFixed(0)}s` : s < 5400 ? `${(s / 60).toFixed(1)}m` : `${(s / 3600).toFixed(1)}h`;
}

/** `enabled` false: no output at all (tests, nested campaigns). */
export function createProgress(io: Pick<Io, 'err' | 'isTTY'>, label: string, enabled = true): Progress {
  if (!enabled) return QUIET;
  const t0 = performance.now();
  if (io.isTTY) return terminalBar(io, label, t0);
  let lastTenth = -1;
  return {
    update(done, total, note) {
      const f = total > 0 ? Math.min(1, done / total) : 0;
      const tenth = Math.floor(f * 10);
      if (tenth <= lastTenth && done < total) return;
      if (done >= total && lastTenth === 10) return;
      lastTenth = done >= total ? 10 : tenth;
      const elapsed = (performance.now() - t0) / 1000;
      const eta = f > 0 && f < 1 ? `, ETA ${fmtEta(elapsed * (1 / f - 1))}` : '';
      io.err(`${label}: ${(100 * f).toFixed(0)}% (${fmtNum(done)}/${fmtNum(total)})${note ? ` ${note}` : ''}, ${fmtEta(elapsed)} elapsed${eta}\n`);
    },
    step(text, done, total) {
      const at = done !== undefined && total !== undefined ? ` [${fmtNum(done)}/${fmtNum(total)}]` : '';
      io.err(`${label}: ${text}${at} (${fmtEta((performance.now() - t0) / 1000)} elapsed)\n`);
    },
    done: () => undefined,
  };
}

function fmtNum(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(n < 100 ? 1 : 0);
}

function terminalBar(io: Pick<Io, 'err'>, label: string, t0: number): Progress {
  let last = 0;
  let shown = false;
  let status = '';
  const draw = (f: number, counts: string) => {
    const width = 28;
    const fill = Math.round(f * width);
    const elapsed = (performance.now() - t0) / 1000;
    const eta = f > 0 && f < 1 ? `ETA ${fmtEta(elapsed * (1 / f - 1))}` : '';
    io.err(`\r${label} [${'#'.repeat(fill)}${'-'.repeat(width - fill)}] ${(100 * f).toFixed(0).padStart(3)}% ${counts} ${eta} ${status}`.slice(0, 160) + '\x1b[K');
    shown = true;
  };
  let lastF = 0;
  let lastCounts = '';
  return {
    update(done, total, note) {
      const now = performance.now();
      if (now - last < 100 && done < total) return;
      last = now;
      lastF = total > 0 ? Math.min(1, done / total) : 0;
      lastCounts = `${fmtNum(done)}/${fmtNum(total)}${note ? ` ${note}` : ''}`;
      draw(lastF, lastCounts);
    },
    step(text, done, total) {
      status = text;
      if (done !== undefined && total !== undefined) {
        lastF = total > 0 ? Math.min(1, done / total) : 0;
        lastCounts = `${fmtNum(done)}/${fmtNum(total)}`;
      }
      draw(lastF, lastCounts);
    },
    done() {
      if (shown) io.err('\n');
      shown = false;
    },
  };
}
