/**
 * tiny-features: the small built-in network that exercises every feature of the plans -- input
 * slices and several filter tiles with merged partial sums, saturating partial sums, a concat,
 * an FC tail -- and every design that preserves progress holds on it under single failures at
 * B = op_filters, while a fault only saturation exposes fails.
 */
import { describe, it, expect } from 'vitest';
import { loadModel } from '../../src/model/models.js';
import { Deployment } from '../../src/engines/runner.js';
import { BUILTIN_DESIGNS } from '../../src/engines/designs.js';
import { msp430fr5994 } from '../../src/device/profile.js';
import { runQ15 } from '../../src/model/q15.js';
import { explore } from '../../src/properties/explore.js';

const deploy = (engine: string, batch: number, faults: string[] = []) => {
  const m = loadModel('tiny-features');
  return { m, d: new Deployment(m.q, { engine, batch, placement: 'spi-fram', profile: msp430fr5994, faults, fixes: [] }) };
};

describe('tiny-features exercises every plan feature', () => {
  it('input slices, several filter tiles, merges, a concat, an FC tail, B = op_filters', () => {
    const { d } = deploy('japari', 4);
    const layers = d.plan.layers as readonly { kind: string; name: string; slices?: readonly unknown[]; filterTiles?: number; opFilters?: number }[];
    const sat = layers.find((l) => l.name === 'sat')!;
    expect(sat.slices!.length).toBeGreaterThanOrEqual(2);
    expect(sat.filterTiles).toBeGreaterThanOrEqual(2);
    expect(layers.some((l) => l.kind === 'merge')).toBe(true);
    expect(layers.some((l) => l.kind === 'concat')).toBe(true);
    const last = layers[layers.length - 1]!;
    expect(last.kind).toBe('gemm');
    expect(last.opFilters).toBe(4);
  });

  it("the conv's slice partial sums saturate: the sliced reference differs from one dot product per output", () => {
    const { m, d } = deploy('japari', 4);
    for (const input of [1, 2]) {
      const sliced = runQ15(d.plan.q, m.inputQ(input), d.plan.arithmetic).tensors.get('sat')!;
      const whole = runQ15(d.plan.q, m.inputQ(input), { ...d.plan.arithmetic, layers: new Map() }).tensors.get('sat')!;
      let far = 0;
      for (let i = 0; i < sliced.length; i++) if (Math.abs(sliced[i]! - whole[i]!) > 1000) far++;
      expect(far).toBeGreaterThan(sliced.length / 2);
    }
  });

  it('every design that preserves progress holds at every single failure (B = 4), and lea-no-saturation fails', () => {
    let passed = 0;
    for (const design of BUILTIN_DESIGNS) {
      if (!design.preserves) continue;
      const { m, d } = deploy(design.kind, 4);
      const r = explore(d, { input: m.inputQ(1), warmup: [m.inputQ(2)], seed: 3, mode: 'linear' });
      // A design whose value encoding cannot hold saturated values fails without any failure
      // (Stateful's +-0x4000 state offset: its finding stateful-offset-overflow); every other holds.
      if (r.golden.length > 0) continue;
      expect(r.verdict, design.kind).toBe('pass');
      expect(r.stats.tornPoints).toBeGreaterThan(0);
      passed++;
    }
    expect(passed).toBeGreaterThanOrEqual(3);
    const { m, d } = deploy('japari', 4, ['lea-no-saturation']);
    const r = explore(d, { input: m.inputQ(1), warmup: [m.inputQ(2)], seed: 3, mode: 'linear', stopAtFirst: true });
    expect(r.verdict).toBe('fail');
  });
});
