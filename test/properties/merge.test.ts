/**
 * Shard documents and their merge, in-process: for linear and depth-2 campaigns, passing and
 * failing, the merge of n shards serialises to the bytes of the unsharded run's document, for
 * several n; file names sort and match what merge reads from a folder.
 */
import { describe, it, expect } from 'vitest';
import { exploreShard, type CampaignSpec } from '../../src/properties/campaign.js';
import { RESULT_FILE, campaignId, campaignIdentity, mergeShards, parseResultFile, serializeDocument, shardDocument, shardFileName, timingFileName } from '../../src/properties/merge.js';
import type { RunSpec } from '../../src/properties/token.js';

function spec(model: string, engine: RunSpec['engine'], batch: number, extra: Partial<CampaignSpec> = {}): CampaignSpec {
  return {
    run: { model, engine, batch, placement: 'spi-fram', profile: 'inas2021', faults: [], fixes: [], input: 1, warmup: [2], seed: 0, garbage: { kind: 'random' } },
    mode: 'linear',
    prune: true,
    shard: { index: 0, count: 1 },
    ...extra,
  };
}

const HASHES = { model: '0123456789abcdef', plan: 'fedcba9876543210' };

/** The unsharded document, and the merge of n shards as files read back from their bytes. */
function wholeAndMerged(c: CampaignSpec, n: number): { whole: string; merged: string; failing: number } {
  const id = campaignIdentity(c, HASHES, 'test');
  const wholeResult = exploreShard(c);
  const whole = serializeDocument(shardDocument(id, { index: 0, count: 1 }, wholeResult));
  const files = Array.from({ length: n }, (_, index) => {
    const shard = { index, count: n };
    const text = serializeDocument(shardDocument(id, shard, exploreShard({ ...c, shard })));
    const parsed = parseResultFile(text, `shard-${index}`);
    if (parsed.kind !== 'result') throw new Error('not a result');
    return { path: `shard-${index}`, doc: parsed.doc };
  });
  // Order of the arguments does not matter.
  return { whole, merged: serializeDocument(mergeShards(files.reverse())), failing: wholeResult.failures.length };
}

describe('merge of shards == the unsharded run, byte for byte', () => {
  const cases: [string, CampaignSpec, number][] = [
    ['linear, passing (tiny-conv hawaii B=2)', spec('tiny-conv', 'hawaii', 2), 3],
    ['linear, failing (tiny-fc japari: the FC footprint-sign finding)', spec('tiny-fc', 'japari', 1), 5],
    ['depth 2, passing (tiny-conv japari, layer 1)', spec('tiny-conv', 'japari', 1, { mode: 'depth2', layer: 1 }), 4],
    ['depth 2, failing (tiny-fc japari, layer 0)', spec('tiny-fc', 'japari', 1, { mode: 'depth2', layer: 0 }), 3],
    ['both parities, failing (tiny-fc japari)', spec('tiny-fc', 'japari', 1, { parities: 2 }), 3],
  ];
  for (const [what, c, n] of cases) {
    it(what, () => {
      const { whole, merged, failing } = wholeAndMerged(c, n);
      expect(merged).toBe(whole);
      if (what.includes('failing')) expect(failing).toBeGreaterThan(0);
      else expect(failing).toBe(0);
    });
  }
});

describe('shard files', () => {
  it('names sort by index and match what merge reads from a folder', () => {
    expect(shardFileName('0123456789abcdef', { index: 7, count: 100 })).toBe('explore-0123456789abcdef-shard-07-of-100.json');
    expect(shardFileName('0123456789abcdef', { index: 0, count: 1 })).toBe('explore-0123456789abcdef.json');
    expect(timingFileName('0123456789abcdef', { index: 7, count: 100 })).toBe('explore-0123456789abcdef-shard-07-of-100.timing.json');
    const names = [3, 10, 0, 99].map((index) => shardFileName('0123456789abcdef', { index, count: 100 })).sort();
    expect(names.map((f) => Number(/shard-([0-9]+)/.exec(f)![1]))).toEqual([0, 3, 10, 99]);
    for (const f of names) expect(RESULT_FILE.test(f)).toBe(true);
    expect(RESULT_FILE.test(timingFileName('0123456789abcdef', { index: 7, count: 100 }))).toBe(false);
  });

  it('the identity names every input of the result: any change is another campaign', () => {
    const c = spec('tiny-conv', 'hawaii', 2);
    const id = (x: CampaignSpec, h = HASHES) => campaignId(campaignIdentity(x, h, 'test'));
    const base = id(c);
    const variants = [
      spec('tiny-conv', 'hawaii', 4),
      spec('tiny-conv', 'japari', 2),
      { ...c, run: { ...c.run, seed: 1 } },
      { ...c, run: { ...c.run, input: 2 } },
      { ...c, run: { ...c.run, warmup: [] } },
      { ...c, run: { ...c.run, fixes: ['hawaii-layer-remainder'] } },
      { ...c, prune: false },
      { ...c, stopAtFirst: true },
      { ...c, mode: 'depth2' as const, layer: 0 },
      { ...c, mode: 'depth2' as const },
      { ...c, mode: 'depth3' as const },
      { ...c, parities: 2 as const },
    ];
    const ids = new Set([base, ...variants.map((v) => id(v)), id(c, { ...HASHES, model: 'ffffffffffffffff' }), id(c, { ...HASHES, plan: 'ffffffffffffffff' })]);
    expect(ids.size).toBe(variants.length + 3);
    // The shard split is not part of it.
    expect(id({ ...c, shard: { index: 1, count: 4 } })).toBe(base);
  });
});
