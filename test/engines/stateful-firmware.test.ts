/**
 * Stateful's build-specific cost pattern (firmware.ts `stateful`): each build runs Stateful
 * bit-exactly (continuous power and with failures), and the pattern shows up in the device events
 * as the profile says -- LEA offset passes per conv input row and per merge chunk on 2021-02,
 * my_offset_q15_batched on 2021-08 (LEA at B = 1, CPU adds otherwise), the ReLU's per-value
 * modulo and rescale on both 2021 builds, none of it on the later profile.
 */
import { describe, it, expect } from 'vitest';
import { tinyNetwork, tinySample } from '../../src/model/builtin.js';
import { quantize, quantizeInput } from '../../src/model/quantize.js';
import { Deployment, runInference } from '../../src/engines/runner.js';
import { msp430fr5994 } from '../../src/device/profile.js';
import { FIRMWARE, FIRMWARE_IDS } from '../../src/engines/reference/firmware.js';
import type { TraceEvent } from '../../src/device/device.js';

function tiny(name: 'tiny-conv' | 'tiny-fc' | 'tiny-concat' | 'tiny-strided') {
  const net = tinyNetwork(name, 7);
  const q = quantize(net, [1, 2, 3, 4].map((s) => tinySample(net, s)));
  return { q, x: quantizeInput(tinySample(net, 99), q.exps.get(net.input.name)!) };
}

const params = (batch: number, firmware: string) => ({ engine: 'stateful', batch, placement: 'spi-fram' as const, profile: msp430fr5994, firmware });

function trace(name: Parameters<typeof tiny>[0], B: number, firmware: string) {
  const { q, x } = tiny(name);
  const d = new Deployment(q, params(B, firmware));
  const r = runInference(d, { input: x, supply: { kind: 'continuous' }, seed: 1, trace: true });
  expect(Array.from(r.output)).toEqual(Array.from(r.reference));
  return { d, r, ev: r.trace! };
}

/** The count a cpu event stands for (its detail is `op xN`). */
const cpuCount = (ev: readonly TraceEvent[], label: string, layer?: number) =>
  ev.filter((e) => e.kind === 'cpu' && e.label === label && (layer === undefined || e.layer === layer)).reduce((a, e) => a + Number(e.detail!.split(' x')[1]), 0);
const count = (ev: readonly TraceEvent[], label: string, layer?: number) => ev.filter((e) => e.label === label && (layer === undefined || e.layer === layer)).length;

describe('Stateful cost pattern per build', () => {
  it('the profiles say what differs: 2021-02 LEA offset passes, 2021-08 batched passes, later per value', () => {
    expect(FIRMWARE['stateful-cnn-2021-02'].stateful.rangePass).toBe('lea-offset');
    expect(FIRMWARE['stateful-cnn-2021-08'].stateful.rangePass).toBe('batched');
    expect(FIRMWARE['stateful-cnn-later'].stateful).toEqual({ valueModulo: false, reluRescale: false, rangePass: 'per-value', convEmbed: 'per-call' });
    for (const id of ['stateful-cnn-2021-02', 'stateful-cnn-2021-08'] as const) {
      for (const k of ['statefulValueModulo', 'statefulReluRescale', 'statefulRangePass', 'statefulConvEmbed']) expect(FIRMWARE[id].sources[k]).toMatch(/\.cpp/);
    }
  });

  for (const name of ['tiny-conv', 'tiny-fc', 'tiny-concat', 'tiny-strided'] as const) {
    for (const firmware of FIRMWARE_IDS) {
      it(`${name} on ${firmware}: bit-exact at B = 1, 2, 4, continuous and with failures`, () => {
        const { q, x } = tiny(name);
        for (const B of [1, 2, 4]) {
          const d = new Deployment(q, params(B, firmware));
          const c = runInference(d, { input: x, supply: { kind: 'continuous' }, seed: 1 });
          expect(Array.from(c.output)).toEqual(Array.from(c.reference));
          expect(c.undefinedReads).toBe(0);
          const f = runInference(d, { input: x, supply: { kind: 'schedule', failAt: [40, 900, 5000] }, seed: 1 });
          expect(f.completed).toBe(true);
          expect(Array.from(f.output)).toEqual(Array.from(c.reference));
        }
      });
    }
  }

  it('conv reading a slot: one strip pass per input row -- an LEA command on 2021-02 (every B), on 2021-08 only at B = 1', () => {
    for (const B of [1, 2, 4]) {
      // tiny-concat's last conv reads the concatenated slot tensor, every channel per row.
      const { d, ev } = trace('tiny-concat', B, 'stateful-cnn-2021-02');
      const conv = d.plan.layers.filter((l) => l.kind === 'conv' && l.in.slot >= 0);
      expect(conv.length).toBeGreaterThan(0);
      for (const l of conv) {
        const rows = count(ev, 'fetch input row', l.index) + count(ev, 'fetch input pixel', l.index);
        expect(rows).toBeGreaterThan(0);
        // Whole rows are read in one transfer each: one pass per read row.
        if (count(ev, 'fetch input pixel', l.index) === 0) expect(count(ev, 'strip states (LEA offset)', l.index)).toBe(count(ev, 'fetch input row', l.index));
        expect(count(ev, 'strip states (LEA offset)', l.index)).toBeGreaterThan(0);
        expect(cpuCount(ev, 'strip states', l.index)).toBe(0);
      }
      const b = trace('tiny-concat', B, 'stateful-cnn-2021-08');
      for (const l of conv) {
        const lea = count(b.ev, 'strip states (LEA offset)', l.index);
        if (B === 1) expect(lea).toBe(count(ev, 'strip states (LEA offset)', l.index));
        else {
          expect(lea).toBe(0);
          // my_offset_q15_batched: one CPU add per state word of the rows (or the per-value loop when the tile is narrower than B).
          expect(cpuCount(b.ev, 'strip states', l.index)).toBeGreaterThan(0);
        }
      }
      const later = trace('tiny-concat', B, 'stateful-cnn-later');
      expect(count(later.ev, 'strip states (LEA offset)')).toBe(0);
      expect(count(later.ev, 'embed states (LEA offset)')).toBe(0);
    }
  });

  it('merge: one strip pass per partial-sum read and one embed pass per chunk (LEA on 2021-02; CPU adds per state on 2021-08 at B > 1)', () => {
    const { d, ev } = trace('tiny-conv', 2, 'stateful-cnn-2021-02');
    const merges = d.plan.layers.filter((l) => l.kind === 'merge' && l.in.slot >= 0);
    expect(merges.length).toBeGreaterThan(0);
    for (const m of merges) {
      expect(count(ev, 'strip states (LEA offset)', m.index)).toBe(count(ev, 'fetch partial sums', m.index));
      expect(count(ev, 'embed states (LEA offset)', m.index)).toBe(count(ev, 'preserve job', m.index) + count(ev, 'compute + preserve job', m.index));
    }
    const b = trace('tiny-conv', 2, 'stateful-cnn-2021-08');
    for (const m of merges) {
      expect(count(b.ev, 'strip states (LEA offset)', m.index)).toBe(0);
      // B = 2: every second word carries a state; the strip adds one per state word read.
      const read = b.ev.filter((e) => e.layer === m.index && e.label === 'fetch partial sums').reduce((a, e) => a + Math.floor((e.nvm![1] - e.nvm![0]) / 2 / 2), 0);
      expect(cpuCount(b.ev, 'strip states', m.index)).toBe(read);
    }
  });

  it('ReLU on the 2021 builds: a modulo and a doubling per value read, a halving per value written, a turning-point check per group', () => {
    for (const B of [1, 2, 4]) {
      for (const firmware of FIRMWARE_IDS) {
        const { d, ev } = trace('tiny-fc', B, firmware);
        const relus = d.plan.layers.filter((l) => l.kind === 'relu');
        expect(relus.length).toBeGreaterThan(0);
        for (const l of relus) {
          const values = l.out.words;
          const on = FIRMWARE[firmware].stateful.valueModulo;
          expect(cpuCount(ev, 'state position modulo', l.index)).toBe(on ? values : 0);
          expect(cpuCount(ev, 'double values', l.index)).toBe(on ? values : 0);
          expect(cpuCount(ev, 'halve values', l.index)).toBe(on ? values : 0);
        }
      }
    }
  });

  it('conv state entries at tile load: one n_keep_state_bits per LEA call on the 2021 builds, a query per state column on the later profile', () => {
    const B = 2;
    const a = trace('tiny-conv', B, 'stateful-cnn-2021-08');
    const later = trace('tiny-conv', B, 'stateful-cnn-later');
    const conv = a.d.plan.layers.find((l) => l.kind === 'conv')!;
    const calls = a.ev.filter((e) => e.layer === conv.index && (e.label === 'compute' || e.label === 'compute + preserve job')).length;
    expect(cpuCount(a.ev, 'n_keep_state_bits', conv.index)).toBe(calls);
    expect(cpuCount(a.ev, 'state query', conv.index)).toBe(0);
    expect(cpuCount(later.ev, 'n_keep_state_bits', conv.index)).toBe(0);
    expect(cpuCount(later.ev, 'state query', conv.index)).toBeGreaterThan(calls - 1);
  });

  it('the cost pattern moves the predicted latency per build, and only the latency', () => {
    const { q, x } = tiny('tiny-conv');
    const lat = (fw: string) => runInference(new Deployment(q, params(2, fw)), { input: x, supply: { kind: 'continuous' }, seed: 1 });
    const a = lat('stateful-cnn-2021-02');
    const b = lat('stateful-cnn-2021-08');
    expect(Array.from(a.output)).toEqual(Array.from(b.output));
    expect(a.latencyS).not.toBe(b.latencyS);
  });
});
