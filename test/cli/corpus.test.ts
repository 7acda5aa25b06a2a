/**
 * --save-to: counterexamples of explore, fuzz and replay become corpus entries that replay with
 * their expected verdict; a lost finding fails `japari check` and `japari reports` (exit 1).
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { main, captureIo } from '../../src/cli/main.js';
import { loadCorpus, replayCorpusEntry } from '../../src/properties/corpus.js';
import { FINDINGS, FindingLost, evaluateFinding, type Finding } from '../../src/report/findings.js';
import { findingsSection } from '../../src/cli/check-verify.js';
import { checkContext } from '../../src/cli/commands/check.js';
import { decodeToken, encodeToken } from '../../src/properties/token.js';
import { runReports } from '../../src/cli/commands/reports.js';

async function run(args: string[]) {
  const io = captureIo();
  const code = await main(args, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

describe('--save-to', () => {
  it('explore saves one entry per (layer, properties) class, idempotently; each replays failing', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'japari-save-')), 'corpus');
    const args = ['explore', '--model', 'tiny-conv', '--engine', 'japari', '--batch', '2', '--fault', 'japari-seek-skip-one', '--workers', '1', '--save-to', dir];
    const e = await run(args);
    expect(e.code).toBe(1);
    expect(e.err).toMatch(/saved \d+ corpus entr/);
    const files = readdirSync(dir).sort();
    expect(files.length).toBeGreaterThan(0);
    const again = await run(args);
    expect(again.code).toBe(1);
    expect(readdirSync(dir).sort()).toEqual(files);
    for (const { entry } of loadCorpus(dir)) {
      expect(entry.expected.verdict).toBe('fail');
      expect(entry.engine).toBe('japari');
      expect((await replayCorpusEntry(entry)).ok).toBe(true);
    }
  });

  it('fuzz saves its shrunk counterexample; replay saves the run with the fault off as expected pass', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'japari-save-'));
    const f = await run(['fuzz', '--model', 'tiny-conv', '--engine', 'japari', '--batch', '2', '--fault', 'japari-seek-skip-one', '--seed', '3', '--runs', '50', '--json', '--save-to', dir]);
    expect(f.code).toBe(1);
    const token = JSON.parse(f.out).counterexample.replay as string;
    const [saved] = loadCorpus(dir);
    expect(saved!.entry.token).toBe(token);
    expect(saved!.entry.expected.properties).toContain('progress-exactness');
    const pdir = mkdtempSync(join(tmpdir(), 'japari-save-'));
    const clean = encodeToken({ ...decodeToken(token), faults: [] });
    const r = await run(['replay', clean, '--save-to', pdir, '--json']);
    expect(r.code).toBe(0);
    const [p] = loadCorpus(pdir);
    expect(p!.entry.expected).toEqual({ verdict: 'pass', properties: [] });
    expect((await replayCorpusEntry(p!.entry)).ok).toBe(true);
  });

  it('--save-to naming an existing file is exit 2 before the campaign', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'japari-save-'));
    const file = join(dir, 'x.json');
    writeFileSync(file, '{}');
    const e = await run(['explore', '--model', 'tiny-conv', '--save-to', file]);
    expect(e.code).toBe(2);
    expect(e.err).toMatch(/--save-to/);
  });
});

describe('findings are rediscovered by a deterministic search', () => {
  it('a finding whose search finds nothing is FindingLost: check fails naming it, reports exits 1 naming it', async () => {
    const real = FINDINGS.find((f) => f.id === 'hawaii-remainder-crosses-layers')!;
    const lost: Finding = { ...real, find: () => null };
    expect(() => evaluateFinding(lost)).toThrow(FindingLost);
    expect(() => evaluateFinding(lost)).toThrow(/hawaii-remainder-crosses-layers is no longer found/);
    // With the fix on, the search finds nothing: the same way a fixed design loses a finding.
    const fixed: Finding = { ...real, find: (fw) => { const s = real.find(fw); return s && { ...s, fixes: ['hawaii-layer-remainder'] }; } };
    expect(() => evaluateFinding(fixed)).toThrow(/violates no property/);
    const mutable = FINDINGS as Finding[];
    const i = mutable.indexOf(real);
    const first = mutable[0]!;
    mutable[i] = lost;
    try {
      const results = await findingsSection.run(checkContext());
      const row = results.find((r) => r.name === real.id)!;
      expect(row.status).toBe('fail');
      expect(row.detail).toMatch(/no longer found/);
      // reports --check: exit 1 naming it, nothing written (the lost finding goes first: no other search runs).
      mutable[i] = first;
      mutable[0] = lost;
      const io = captureIo();
      const root = mkdtempSync(join(tmpdir(), 'japari-reports-'));
      expect(await runReports({ check: true, only: ['findings'], root }, io)).toBe(1);
      expect(io.stdout()).toMatch(/FAIL finding hawaii-remainder-crosses-layers is no longer found/);
      expect(await runReports({ check: false, only: ['findings'], root }, captureIo())).toBe(1);
      expect(readdirSync(root)).toEqual([]);
    } finally {
      mutable[0] = first;
      mutable[i] = real;
    }
  });
});
