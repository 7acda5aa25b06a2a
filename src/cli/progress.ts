/**
 * A progress bar with ETA for long campaigns, on stderr, only when stderr's partner stdout is a
 * terminal (and never in --json mode). Wall-clock time is used only for this display.
 */
import type { Io } from './io.js';

export interface Progress {
  update(done: number, total: number): void;
  done(): void;
}

const QUIET: Progress = { update: () => undefined, done: () => undefined };

export function createProgress(io: Io, label: string, enabled: boolean): Progress {
  if (!enabled || !io.isTTY) return QUIET;
  const t0 = performance.now();
  let last = 0;
  let shown = false;
  return {
    update(done, total) {
      const now = performance.now();
      if (now - last < 100 && done < total) return;
      last = now;
      const f = total > 0 ? Math.min(1, done / total) : 0;
      const width = 28;
      const fill = Math.round(f * width);
      const elapsed = (now - t0) / 1000;
      const eta = f > 0 ? elapsed * (1 / f - 1) : NaN;
      const etaText = Number.isFinite(eta) ? `ETA ${eta < 90 ? `${eta.toFixed(0)}s` : `${(eta / 60).toFixed(1)}m`}` : '';
      io.err(`\r${label} [${'#'.repeat(fill)}${'-'.repeat(width - fill)}] ${(100 * f).toFixed(0).padStart(3)}% ${done}/${total} ${etaText}   `);
      shown = true;
    },
    done() {
      if (shown) io.err('\n');
    },
  };
}
