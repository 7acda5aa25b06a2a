/**
 * Stateful's build-specific cost pattern (firmware.ts `stateful`): each build runs Stateful
 * bit-exactly (continuous power and with failures), and the pattern shows up in the device events
 * as the profile says -- my_offset_q15_batched passes per conv input row and per merge chunk over
 * the words with state bit 1 (an LEA command at B = 1, CPU adds otherwise), the ReLU's per-value
 * modulo and rescale, states set at filter-tile load, the conv output written during the next LEA
 * call on 2021-08 only; none of it on the later profile.
 */
import { describe, it, expect } from 'vitest';
import { tinyNetwork, tinySample } from '../../src/model/builtin.js';
import { quantize, quantizeInput } from '../../src/model/quantize.js';
import { Deployment, runInference } from '../../src/engines/runner.js';
import { msp430fr5994 } from '../../src/device/profile.js';
import { FIRMWARE, FIRMWARE_IDS, registerFirmwareVariant } from '../../src/engines/reference/firmware.js';
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
  it('the profiles: the 2021 builds share the Stateful code paths read (per-value state tests, batched one-sided passes, ReLU pixel passes, states at tile load), the later profile has none', () => {
    for (const id of ['stateful-cnn-2021-02', 'stateful-cnn-2021-08'] as const) {
      expect(FIRMWARE[id].stateful).toEqual({ valueStateTest: true, reluPixelPass: true, rangePass: 'batched', oneSidedOffset: true, convEmbed: 'tile-load' });
      for (const k of ['statefulValueStateTest', 'statefulReluPixelPass', 'statefulRangePass', 'statefulOneSidedOffset', 'statefulConvEmbed']) expect(FIRMWARE[id].sources[k]).toMatch(/\.cpp/);
    }
    expect(FIRMWARE['stateful-cnn-later'].stateful).toEqual({ valueStateTest: false, reluPixelPass: false, rangePass: 'per-value', oneSidedOffset: false, convEmbed: 'per-call' });
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

  it('conv reading a slot: one strip pass per input row with a state bit 1 -- an LEA command at B = 1, CPU adds per such state at B > 1', () => {
    const twoSided = registerFirmwareVariant('stateful-cnn-2021-08', 'two-sided-test', (f) => ({ ...f, stateful: { ...f.stateful, oneSidedOffset: false } }));
    for (const firmware of ['stateful-cnn-2021-02', 'stateful-cnn-2021-08']) {
      for (const B of [1, 2, 4]) {
        // tiny-concat's last conv reads the concatenated slot tensor, every channel per row.
        const { d, ev } = trace('tiny-concat', B, firmware);
        const conv = d.plan.layers.filter((l) => l.kind === 'conv' && l.in.slot >= 0);
        expect(conv.length).toBeGreaterThan(0);
        const both = trace('tiny-concat', B, twoSided);
        for (const l of conv) {
          const rows = count(ev, 'fetch input row', l.index);
          const lea = count(ev, 'strip states (LEA offset)', l.index);
          if (B === 1) {
            // Two-sided: every row gets its pass; one-sided: only the rows with state bit 1.
            if (count(ev, 'fetch input pixel', l.index) === 0) expect(count(both.ev, 'strip states (LEA offset)', l.index)).toBe(rows);
            expect(lea).toBeLessThanOrEqual(count(both.ev, 'strip states (LEA offset)', l.index));
            expect(cpuCount(ev, 'strip states', l.index)).toBe(0);
          } else {
            expect(lea).toBe(0);
            expect(cpuCount(ev, 'strip states', l.index)).toBeLessThanOrEqual(cpuCount(both.ev, 'strip states', l.index));
          }
        }
      }
    }
    for (const B of [1, 2, 4]) {
      const later = trace('tiny-concat', B, 'stateful-cnn-later');
      expect(count(later.ev, 'strip states (LEA offset)')).toBe(0);
      expect(count(later.ev, 'embed states (LEA offset)')).toBe(0);
    }
  });

  it('the builds differ for Stateful by the LEA/DMA overlap: conv outputs written during the next LEA call on 2021-08 only', () => {
    for (const B of [1, 2]) {
      const a = trace('tiny-conv', B, 'stateful-cnn-2021-02');
      const b = trace('tiny-conv', B, 'stateful-cnn-2021-08');
      expect(count(a.ev, 'compute + preserve job')).toBe(0);
      expect(count(b.ev, 'compute + preserve job')).toBeGreaterThan(0);
      // The same LEA calls and the same strip/embed work otherwise.
      expect(a.ev.filter((e) => e.kind.startsWith('lea')).length).toBe(b.ev.filter((e) => e.kind.startsWith('lea')).length);
      expect(cpuCount(a.ev, 'strip states')).toBe(cpuCount(b.ev, 'strip states'));
    }
  });

  it('merge: a strip pass per partial-sum read and an embed pass per chunk, over the state bit 1 words (LEA at B = 1, CPU adds per such word at B > 1)', () => {
    const one = trace('tiny-conv', 1, 'stateful-cnn-2021-08');
    // Conv merges (handle_convmerge); FC merges (handle_gemmmerge) test every value instead.
    const merges = one.d.plan.layers.filter((l) => l.kind === 'merge' && l.in.slot >= 0 && one.d.plan.layers[l.index - 1]!.kind === 'conv');
    expect(merges.length).toBeGreaterThan(0);
    const fcMerges = one.d.plan.layers.filter((l) => l.kind === 'merge' && one.d.plan.layers[l.index - 1]!.kind === 'gemm');
    expect(fcMerges.length).toBeGreaterThan(0);
    for (const m of fcMerges) {
      const read = one.ev.filter((e) => e.layer === m.index && e.label === 'fetch partial sums').reduce((a, e) => a + (e.nvm![1] - e.nvm![0]) / 2, 0);
      expect(cpuCount(one.ev, 'state test', m.index)).toBe(read);
    }
    for (const m of merges) {
      expect(count(one.ev, 'strip states (LEA offset)', m.index)).toBeLessThanOrEqual(count(one.ev, 'fetch partial sums', m.index));
      expect(count(one.ev, 'embed states (LEA offset)', m.index)).toBeLessThanOrEqual(count(one.ev, 'preserve job', m.index));
    }
    // Under the two-sided offset every read and every chunk gets its pass; one-sided, at most as many
    // (the words whose state bit is 1: none in a first inference, whose finished states are all -1).
    const twoSided = registerFirmwareVariant('stateful-cnn-2021-08', 'two-sided-test', (f) => ({ ...f, stateful: { ...f.stateful, oneSidedOffset: false } }));
    const both = trace('tiny-conv', 1, twoSided);
    for (const m of merges) {
      expect(count(both.ev, 'strip states (LEA offset)', m.index)).toBe(count(both.ev, 'fetch partial sums', m.index));
      expect(count(both.ev, 'embed states (LEA offset)', m.index)).toBe(count(both.ev, 'preserve job', m.index));
    }
    const b = trace('tiny-conv', 2, 'stateful-cnn-2021-08');
    for (const m of merges) {
      expect(count(b.ev, 'strip states (LEA offset)', m.index)).toBe(0);
      // B = 2: every second word carries a state; at most one add per state word read.
      const read = b.ev.filter((e) => e.layer === m.index && e.label === 'fetch partial sums').reduce((a, e) => a + Math.floor((e.nvm![1] - e.nvm![0]) / 2 / 2), 0);
      expect(cpuCount(b.ev, 'strip states', m.index)).toBeLessThanOrEqual(read);
    }
  });

  it('ReLU, MaxPool and GAP on the 2021 builds: a state test per value read; ReLU after a conv: one pass per pixel with state bit 1 (LEA at B = 1)', () => {
    for (const B of [1, 2, 4]) {
      for (const firmware of FIRMWARE_IDS) {
        const on = FIRMWARE[firmware].stateful.valueStateTest;
        const { d, ev } = trace('tiny-conv', B, firmware);
        const cpuLayers = d.plan.layers.filter((l) => (l.kind === 'relu' || l.kind === 'maxpool' || l.kind === 'gap') && l.in.slot >= 0);
        expect(cpuLayers.length).toBeGreaterThan(0);
        for (const l of cpuLayers) {
          // Every word read from the slot (value reads of the kernel) is tested.
          const read = ev.filter((e) => e.layer === l.index && e.kind === 'dma-read' && e.category === 'fetch').reduce((a, e) => a + (e.nvm![1] - e.nvm![0]) / 2, 0);
          expect(cpuCount(ev, 'state test', l.index)).toBe(on ? read : 0);
        }
        for (const l of d.plan.layers.filter((x) => x.kind === 'relu' && !x.perElement)) {
          const passes = count(ev, 'embed states (LEA offset)', l.index);
          const pixels = l.out.words / l.out.layout.Cs;
          if (on && B === 1) expect(passes).toBeLessThanOrEqual(pixels);
          else expect(passes).toBe(0);
        }
      }
    }
    // Two-sided: every pixel of a ReLU after a conv gets its pass at B = 1.
    const twoSided = registerFirmwareVariant('stateful-cnn-2021-08', 'two-sided-test', (f) => ({ ...f, stateful: { ...f.stateful, oneSidedOffset: false } }));
    const { d, ev } = trace('tiny-conv', 1, twoSided);
    const convRelus = d.plan.layers.filter((x) => x.kind === 'relu' && !x.perElement);
    expect(convRelus.length).toBeGreaterThan(0);
    for (const l of convRelus) {
      expect(count(ev, 'embed states (LEA offset)', l.index)).toBe(l.out.words / l.out.layout.Cs);
    }
  });

  it('FC: one strip pass per input tile and one pass over each call\'s bias row (LEA at B = 1 whatever the state, CPU adds per state column at B > 1)', () => {
    for (const B of [1, 2]) {
      const { d, ev } = trace('tiny-fc', B, 'stateful-cnn-2021-08');
      const gemms = d.plan.layers.filter((l) => l.kind === 'gemm');
      for (const g of gemms) {
        const calls = ev.filter((e) => e.layer === g.index && e.label === 'compute').length;
        expect(calls).toBeGreaterThan(0);
        if (B === 1) expect(count(ev, 'embed state weights (LEA offset)', g.index)).toBe(calls);
        else {
          expect(count(ev, 'embed state weights (LEA offset)', g.index)).toBe(0);
          expect(cpuCount(ev, 'embed state weights', g.index)).toBeGreaterThan(0);
        }
      }
    }
    // The input tile pass (two-sided, so that every tile gets one): one LEA command per input read at B = 1.
    const twoSided = registerFirmwareVariant('stateful-cnn-2021-08', 'two-sided-test', (f) => ({ ...f, stateful: { ...f.stateful, oneSidedOffset: false } }));
    const { d, ev } = trace('tiny-fc', 1, twoSided);
    const fromSlot = d.plan.layers.filter((l) => l.kind === 'gemm' && l.in.slot >= 0);
    expect(fromSlot.length).toBeGreaterThan(0);
    for (const g of fromSlot) {
      expect(count(ev, 'fetch input', g.index)).toBeGreaterThan(0);
      expect(count(ev, 'strip states (LEA offset)', g.index)).toBe(count(ev, 'fetch input', g.index));
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

  it('the cost pattern moves only the latency: 2021-08 with and without its Stateful facts compute the same words', () => {
    const { q, x } = tiny('tiny-conv');
    const plain = registerFirmwareVariant('stateful-cnn-2021-08', 'no-stateful-facts-test', (f) => ({ ...f, stateful: FIRMWARE['stateful-cnn-later'].stateful }));
    for (const B of [1, 2, 4]) {
      const lat = (fw: string) => runInference(new Deployment(q, params(B, fw)), { input: x, supply: { kind: 'continuous' }, seed: 1 });
      const a = lat('stateful-cnn-2021-08');
      const b = lat(plain);
      expect(Array.from(a.output)).toEqual(Array.from(b.output));
      expect(a.latencyS).not.toBe(b.latencyS);
    }
  });
});
