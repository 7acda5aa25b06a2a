/**
 * Torn transfers: exploration counts the failure points that fall strictly inside an NVM write
 * transfer of more than one unit, and a campaign that tears none where it could fails as
 * vacuous. The count is checked against its slow twin, the device's event trace (one event per
 * transfer, with its units), on engines where transfers land back to back at adjacent addresses
 * (HAWAII: outputs, then the counter), which the write log alone cannot tell apart.
 */
import { describe, it, expect } from 'vitest';
import { loadModel } from '../../src/model/models.js';
import { Deployment } from '../../src/engines/runner.js';
import { msp430fr5994, type NvmPlacement } from '../../src/device/profile.js';
import { explore, campaignVerdict, type ExploreOptions } from '../../src/properties/explore.js';
import { merge } from '../../src/properties/campaign.js';
import { checkScenario } from '../../src/properties/properties.js';
import type { EngineKind } from '../../src/engines/reference/plan.js';

function deploy(model: string, engine: EngineKind, batch: number, placement: NvmPlacement = 'spi-fram') {
  const m = loadModel(model);
  return { m, d: new Deployment(m.q, { engine, batch, placement, profile: msp430fr5994, faults: [], fixes: [] }) };
}

function opts(m: ReturnType<typeof loadModel>, extra: Partial<ExploreOptions> = {}): ExploreOptions {
  return { input: m.inputQ(1), warmup: [m.inputQ(2)], seed: 3, mode: 'linear', ...extra };
}

/** Units landed after the first unit of their transfer, from the uninterrupted run's trace. */
function innerUnitsFromTrace(d: Deployment, m: ReturnType<typeof loadModel>): { inner: number; transfers: number; multi: number } {
  const run = checkScenario(d, { input: m.inputQ(1), warmup: [m.inputQ(2)], failAt: [], seed: 3, trace: true });
  let inner = 0;
  let transfers = 0;
  let multi = 0;
  for (const ev of run.result.trace!) {
    if (ev.kind !== 'dma-write' && ev.kind !== 'lea+dma-write') continue;
    transfers++;
    if (ev.done > 1) multi++;
    inner += Math.max(0, ev.done - 1);
  }
  return { inner, transfers, multi };
}

describe('torn-transfer counts agree with the device trace', () => {
  const cases: [string, EngineKind, number, NvmPlacement][] = [
    ['tiny-conv', 'hawaii', 1, 'spi-fram'],
    ['tiny-conv', 'hawaii', 2, 'internal-fram'],
    ['tiny-concat', 'japari', 2, 'spi-fram'],
    ['lenet', 'hawaii', 1, 'spi-fram'],
    ['tiny-fc', 'japari-loopcount', 1, 'spi-fram'],
  ];
  for (const [model, engine, batch, placement] of cases) {
    it(`${model} ${engine} B=${batch} on ${placement}`, () => {
      const { m, d } = deploy(model, engine, batch, placement);
      const twin = innerUnitsFromTrace(d, m);
      const r = explore(d, opts(m));
      expect(r.stats.points).toBe(r.stats.writeUnits);
      expect(r.stats.tornPoints).toBe(twin.inner);
      expect(r.stats.tearablePoints).toBe(twin.inner);
      // On SPI FRAM a word lands byte by byte: every transfer has more than one unit.
      if (placement === 'spi-fram') expect(twin.multi).toBe(twin.transfers);
      expect(r.vacuous).toBe(false);
    });
  }

  it('shards add up to the whole campaign, and the tearable count is the campaign-wide one', () => {
    const { m, d } = deploy('tiny-conv', 'hawaii', 1);
    const whole = explore(d, opts(m));
    const parts = [0, 1, 2].map((index) => explore(d, opts(m, { shard: { index, count: 3 } })));
    expect(parts.reduce((n, p) => n + p.stats.tornPoints, 0)).toBe(whole.stats.tornPoints);
    for (const p of parts) expect(p.stats.tearablePoints).toBe(whole.stats.tearablePoints);
    expect(merge(parts).stats.tornPoints).toBe(whole.stats.tornPoints);
  });

  it('depth 2 counts second failures that tear a transfer of the recovery', () => {
    const { m, d } = deploy('tiny-conv', 'japari', 1);
    const singles = explore(d, opts(m));
    const layer = 1;
    const r = explore(d, opts(m, { mode: 'depth2', layer }));
    // tearablePoints counts the layer's first failures only; pairs add their own torn seconds.
    expect(r.stats.tearablePoints).toBeGreaterThan(0);
    expect(r.stats.tearablePoints).toBeLessThan(singles.stats.tearablePoints);
    expect(r.stats.tornPoints).toBeGreaterThan(r.stats.tearablePoints);
    expect(r.vacuous).toBe(false);
  });
});

describe('a campaign that tears no transfer where it could is vacuous', () => {
  it('a shard holding only the first write unit (a transfer start) fails as vacuous; a torn one passes', () => {
    const { m, d } = deploy('tiny-conv', 'hawaii', 1);
    const W = explore(d, opts(m, { shard: { index: 0, count: 2 } })).stats.writeUnits;
    const first = explore(d, opts(m, { shard: { index: 0, count: W } }));
    expect(first.stats.points).toBe(1);
    expect(first.failures).toHaveLength(0);
    expect(first.stats.tornPoints).toBe(0);
    expect(first.vacuous).toBe(true);
    expect(first.verdict).toBe('fail');
    // Unit 1 is the second byte of the first word on SPI FRAM: inside the first transfer.
    const second = explore(d, opts(m, { shard: { index: 1, count: W } }));
    expect(second.stats.tornPoints).toBe(1);
    expect(second.verdict).toBe('pass');
    // Merging recomputes the verdict from the sums.
    const both = merge([first, second]);
    expect(both.vacuous).toBe(false);
    expect(both.verdict).toBe('pass');
  });

  it('the verdict rule', () => {
    expect(campaignVerdict(0, 0, { tornPoints: 0, tearablePoints: 5 })).toEqual({ verdict: 'fail', vacuous: true });
    expect(campaignVerdict(0, 0, { tornPoints: 0, tearablePoints: 0 })).toEqual({ verdict: 'pass', vacuous: false });
    expect(campaignVerdict(0, 0, { tornPoints: 1, tearablePoints: 5 })).toEqual({ verdict: 'pass', vacuous: false });
    // A real failure is reported as such, not as vacuous.
    expect(campaignVerdict(2, 0, { tornPoints: 0, tearablePoints: 5 })).toEqual({ verdict: 'fail', vacuous: false });
    expect(campaignVerdict(0, 1, { tornPoints: 0, tearablePoints: 5 })).toEqual({ verdict: 'fail', vacuous: false });
  });
});

describe('stop at first', () => {
  it('ends at the whole search\'s first failing point', () => {
    const { m, d } = deploy('tiny-fc', 'japari', 1); // the published FC footprint-sign finding
    const all = explore(d, opts(m));
    const first = explore(d, opts(m, { stopAtFirst: true }));
    expect(all.failures.length).toBeGreaterThan(1);
    expect(first.failures).toHaveLength(1);
    expect(first.failures[0]!.schedule).toEqual(all.failures[0]!.schedule);
    expect(first.stats.points).toBe(all.failures[0]!.unit + 1);
    expect(first.verdict).toBe('fail');
  });
});
