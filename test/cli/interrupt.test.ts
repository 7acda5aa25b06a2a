/**
 * Reports are written as a set, and an interrupted command leaves nothing behind: `japari
 * reports` killed mid-way (SIGINT as from Ctrl-C, or SIGTERM) ends at once, with the signal,
 * leaving neither a temporary folder nor a half-updated report folder. Runs the real entry point
 * (bin/japari.js and its supervisor, which needs dist/: `npm test` builds it first).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../src/util/shared.js';

const BIN = join(projectRoot(), 'bin', 'japari.js');
const HAVE_DIST = existsSync(join(projectRoot(), 'dist', 'src', 'cli', 'main.js'));

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'japari-int-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function temps(): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.tmp'));
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return cond();
}

describe.skipIf(!HAVE_DIST)('an interrupted report set leaves nothing behind', () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`japari reports killed with ${signal}: ends at once, no temporary folder, no partial report`, async () => {
      const root = join(dir, `reports-${signal}`);
      const child = spawn(process.execPath, [BIN, 'reports', '--root', root, '--only', 'verification'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, sig) => resolve({ code, signal: sig })));
      // The set's temporary folder appears as soon as the work starts.
      expect(await until(() => temps().length > 0, 60_000), stderr).toBe(true);
      const t0 = Date.now();
      child.kill(signal);
      const res = await exited;
      expect(Date.now() - t0).toBeLessThan(5_000);
      expect(res.signal).toBe(signal);
      expect(temps()).toEqual([]);
      expect(existsSync(root)).toBe(false);
    });
  }
});
