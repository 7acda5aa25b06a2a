/**
 * Layouts with JAPARI footprints, and the grid claim of the fix 'japari-pad-vector-groups': with
 * vectors padded to whole groups of B, every tensor of a slot is a whole number of B+1 groups
 * from the slot base, so a footprint position of one tensor is a footprint (or beyond the end)
 * of every other.
 */
import { describe, it, expect } from 'vitest';
import { vecLayout, fmapLayout, isFootprintWord, logicalOfWords } from '../../src/model/layout.js';
import { loadModel } from '../../src/model/models.js';
import { Deployment } from '../../src/engines/runner.js';
import { msp430fr5994 } from '../../src/device/profile.js';

describe('vector layouts', () => {
  it('published: a trailing partial group has no footprint', () => {
    const l = vecLayout(10, 4);
    expect([l.words, l.fpEnd]).toEqual([12, 10]);
    expect([...Array(l.words).keys()].filter((w) => isFootprintWord(l, w))).toEqual([4, 9]);
  });

  it('padded: zero features complete the last group, which gets its footprint', () => {
    const l = vecLayout(10, 4, true);
    expect([l.words, l.fpEnd, l.C]).toEqual([15, 15, 10]);
    expect([...Array(l.words).keys()].filter((w) => isFootprintWord(l, w))).toEqual([4, 9, 14]);
    expect(Array.from(logicalOfWords(l))).toEqual([0, 1, 2, 3, -1, 4, 5, 6, 7, -1, 8, 9, -1, -1, -1]);
  });

  it('feature maps already pad channels to whole groups', () => {
    const l = fmapLayout(6, 2, 2, 'hw', 4);
    expect(l.Cs % 5).toBe(0);
  });
});

describe('the padded fix keeps every slot tensor on one B+1 grid', () => {
  const models = ['lenet', 'tiny-fc', 'tiny-concat', 'tiny-strided', 'rnd:2x6x6:c8k3s1p1/r/g10:1', 'rnd:1x6x6:c3k3s1p1/c5k1s1p0/g5:0', 'rnd:2:g2/r/g1/r/g2:0'];
  for (const model of models) {
    it(model, () => {
      const m = loadModel(model);
      for (const batch of [1, 2, 4, 8]) {
        const d = new Deployment(m.q, { engine: 'japari', batch, placement: 'spi-fram', profile: msp430fr5994, fixes: ['japari-pad-vector-groups'] });
        const off = d.plan.layers.filter((l) => l.out.slot >= 0 && (l.out.layout.words % (batch + 1) !== 0 || (l.out.base - d.plan.nvm.slots[l.out.slot]!) % (2 * (batch + 1)) !== 0));
        expect(off.map((l) => l.name), `B=${batch}`).toEqual([]);
      }
    });
  }

  it('the published layouts do leave FC outputs off the grid (what the fix is for)', () => {
    const m = loadModel('rnd:2x6x6:c8k3s1p1/r/g10:1');
    const d = new Deployment(m.q, { engine: 'japari', batch: 4, placement: 'spi-fram', profile: msp430fr5994 });
    expect(d.plan.layers.some((l) => l.kind === 'gemm' && l.out.layout.words % 5 !== 0)).toBe(true);
  });
});
