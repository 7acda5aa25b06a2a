/**
 * The regression corpus (test/corpus/, src/properties/corpus.ts): every saved counterexample
 * replays with its expected verdict, and every finding of reports/findings/ -- the published
 * design's counterexample and, where there is a fix, the corrected variant's replay -- is in it.
 */
import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { loadCorpus, replayCorpusEntry, corpusEntry, saveToCorpus, corpusFileName, parseCorpusEntry, type CorpusEntry } from '../../src/properties/corpus.js';
import { decodeTokenInfo } from '../../src/properties/token.js';
import { projectRoot, sharedAvailable, SHARED_MODELS } from '../../src/util/shared.js';
import { stableStringify } from '../../src/util/json.js';

const CORPUS = join(projectRoot(), 'test', 'corpus');
const FINDINGS = join(projectRoot(), 'reports', 'findings');
const corpus = loadCorpus(CORPUS);

function needsShared(e: CorpusEntry): boolean {
  const m = e.model as keyof typeof SHARED_MODELS;
  return Object.hasOwn(SHARED_MODELS, m) && !sharedAvailable('models', SHARED_MODELS[m]);
}

/** A run's identity: the decoded spec (not the japari version the token records) and the model hash. */
function runKey(token: string): string {
  const info = decodeTokenInfo(token);
  return stableStringify({ spec: info.spec, hash: info.modelHash ?? null }, 0);
}

describe('regression corpus', () => {
  it('holds entries of both verdicts', () => {
    expect(corpus.length).toBeGreaterThan(10);
    expect(corpus.some((c) => c.entry.expected.verdict === 'pass')).toBe(true);
    expect(corpus.some((c) => c.entry.expected.verdict === 'fail')).toBe(true);
  });

  it.each(corpus.map((c) => [c.file, c.entry] as const))('%s replays with its expected verdict', async (_file, entry) => {
    if (needsShared(entry)) {
      console.warn(`skipped: ${entry.model} needs ../shared/models`);
      return;
    }
    const r = await replayCorpusEntry(entry);
    expect(r.problem ?? null).toBeNull();
    expect(r.ok).toBe(true);
  });

  it('every finding of reports/findings/ is in the corpus (published counterexample and corrected variant)', () => {
    const keys = new Set(corpus.map((c) => runKey(c.entry.token)));
    const byKey = new Map(corpus.map((c) => [runKey(c.entry.token), c.entry]));
    let tokens = 0;
    for (const f of readdirSync(FINDINGS).filter((x) => x.endsWith('.json') && !x.endsWith('.proof.json'))) {
      const j = JSON.parse(readFileSync(join(FINDINGS, f), 'utf8')) as { replay?: string; fixed_variant_replay?: string; fixed_variant_passes?: boolean; corrected_passes?: boolean };
      if (j.replay) {
        tokens++;
        expect(keys.has(runKey(j.replay)), `${f}: its replay token is not in test/corpus/ (japari replay TOKEN --save-to test/corpus)`).toBe(true);
        expect(byKey.get(runKey(j.replay))!.expected.verdict).toBe('fail');
      }
      if (j.fixed_variant_replay) {
        tokens++;
        expect(keys.has(runKey(j.fixed_variant_replay)), `${f}: its corrected variant's replay is not in test/corpus/`).toBe(true);
        expect(byKey.get(runKey(j.fixed_variant_replay))!.expected.verdict).toBe((j.fixed_variant_passes ?? j.corrected_passes) ? 'pass' : 'fail');
      }
    }
    expect(tokens).toBeGreaterThanOrEqual(6);
  });

  it('an entry whose verdict changed fails, naming why (the check bites)', async () => {
    const e = corpus.find((c) => c.entry.expected.verdict === 'fail' && !needsShared(c.entry))!.entry;
    const flipped: CorpusEntry = { ...e, expected: { verdict: 'pass', properties: [] } };
    const r = await replayCorpusEntry(flipped);
    expect(r.ok).toBe(false);
    expect(r.problem).toMatch(/expected pass, now violates/);
    const extra: CorpusEntry = { ...e, expected: { verdict: 'fail', properties: [...e.expected.properties, 'completion'].filter((p, i, a) => a.indexOf(p) === i) } };
    if (extra.expected.properties.length > e.expected.properties.length) {
      const r2 = await replayCorpusEntry(extra);
      expect(r2.ok).toBe(false);
      expect(r2.problem).toMatch(/no longer violates completion/);
    }
    const otherModel: CorpusEntry = { ...e, model_hash: '0'.repeat(64) };
    expect((await replayCorpusEntry(otherModel)).problem).toMatch(/changed/);
  });

  it('saving is idempotent and files parse back', () => {
    const e = corpus.find((c) => !needsShared(c.entry))!.entry;
    const spec = decodeTokenInfo(e.token).spec;
    const again = corpusEntry(spec, e.source);
    expect(again.expected).toEqual(e.expected);
    const dir = mkdtempSync(join(tmpdir(), 'japari-corpus-'));
    const a = saveToCorpus(dir, [again]);
    const b = saveToCorpus(dir, [again, again]);
    expect(b).toEqual(a);
    expect(readdirSync(dir)).toEqual([corpusFileName(again)]);
    expect(parseCorpusEntry(readFileSync(a[0]!, 'utf8'), a[0]!)).toEqual(again);
    expect(() => parseCorpusEntry('{"schema":"japari.corpus/1","token":"x"}', 'bad.json')).toThrow(/bad.json/);
  });
});
