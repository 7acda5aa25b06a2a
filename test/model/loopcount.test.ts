/**
 * japari-loopcount: JAPARI as first published (loop-count footprints).
 *
 *  - plan: supported B, loop counts, the 16-bit dummy weight, the NVM map
 *  - continuous power: bit for bit equal to runQ15(q, x, plan.arithmetic), first inference and
 *    after a warm-up (SIGN toggled), tiny nets and lenet at B = 1, 2, 4, 8
 *  - every single power failure on two tiny nets recovers
 *  - named failure scenarios on lenet (conv2, fc, relu1), B = 1, 2, 4, 8, both SIGNs
 *  - measured loop counts of lenet and the shared models
 *  - findings: faithful behaviour that violates correctness or liveness, each reproduced by a
 *    fixed schedule (see the final report of the engine's author for the analysis)
 */
import { describe, it, expect } from 'vitest';
import { tinyNetwork, tinySample, type TinyModelName } from '../../src/model/builtin.js';
import { quantize, quantizeInput, type QuantizedNetwork } from '../../src/model/quantize.js';
import { Deployment, runInference, warmedUp, type RunResult } from '../../src/engines/runner.js';
import { msp430fr5994 } from '../../src/device/profile.js';
import { loadModel, type LoadedModel } from '../../src/model/models.js';
import { runQ15 } from '../../src/model/q15.js';
import {
  lcLeaLayer,
  iterationOf,
  lcPosition,
  loopCountPlanOf,
  type LcLeaLayer,
  DUMMY_INPUT_SIGN0,
  DUMMY_INPUT_SIGN1,
} from '../../src/engines/japari-loopcount/plan.js';
import { dummyWeight as dummyWeightRule } from '../../src/engines/japari-loopcount/rules.js';
import { num } from '../../src/engines/ops.js';
import { positionOf } from '../../src/engines/reference/engine.js';
import { dotQ15, TI_REFERENCE_ARITHMETIC } from '../../src/device/lea.js';
import { DEVICE_MD_CAPACITOR, DEVICE_MD_RC } from '../../src/device/energy.js';
import type { TraceEvent } from '../../src/device/device.js';
import type { PagedMemory } from '../../src/device/paged.js';
import { sharedAvailable, SHARED_MODELS } from '../../src/util/shared.js';
import { ConfigError } from '../../src/util/errors.js';

const BATCHES = [1, 2, 4, 8] as const;
const TINY: readonly TinyModelName[] = ['tiny-conv', 'tiny-fc', 'tiny-concat', 'tiny-strided'];

/** The dummy weight of iteration `iter` under SIGN (rules.ts dummyWeight on numbers). */
const dummyWeight = (sign: 0 | 1, iter: number): number => dummyWeightRule(num, sign === 1, iter);

function deploy(q: QuantizedNetwork, batch: number): Deployment {
  return new Deployment(q, { engine: 'japari-loopcount', batch, placement: 'spi-fram', profile: msp430fr5994 });
}

function tiny(name: TinyModelName): { q: QuantizedNetwork; x: Int16Array; x2: Int16Array } {
  const net = tinyNetwork(name, 7);
  const q = quantize(net, [1, 2, 3, 4].map((s) => tinySample(net, s)));
  const e = q.exps.get(net.input.name)!;
  return { q, x: quantizeInput(tinySample(net, 99), e), x2: quantizeInput(tinySample(net, 98), e) };
}

function expectReference(r: RunResult): void {
  expect(r.completed).toBe(true);
  expect(Array.from(r.output)).toEqual(Array.from(r.reference));
  expect(r.undefinedReads).toBe(0);
}

/** Events of one layer in boot `boot` whose label matches. */
function events(trace: readonly TraceEvent[], layer: number, label: (s: string) => boolean, boot = 1): TraceEvent[] {
  return trace.filter((e) => e.layer === layer && e.boot === boot && label(e.label));
}

/** How many pixel steps of one op precede (iter, pixel) in a layer (the index of its event). */
function pixelOrdinal(l: LcLeaLayer, B: number, iter: number, pixel: number): number {
  let n = 0;
  for (let i = 1; i < iter; i++) n += iterationOf(l, B, i).npix;
  return n + pixel;
}

const isPbWrite = (s: string) => s === 'write PB';
const isOutputWrite = (s: string) => s.startsWith('write output copy');

/** Recoveries reported after the first boot, as [layer, job, position]. */
function recoveries(d: Deployment, x: Int16Array, failAt: number[], nvm?: PagedMemory): { r: RunResult; rec: [number, number, number][] } {
  const rec: [number, number, number][] = [];
  const r = runInference(d, {
    input: x,
    supply: { kind: 'schedule', failAt },
    seed: 11,
    ...(nvm ? { nvm } : {}),
    onRecovered: (dv, l, j, p) => {
      if (dv.boots > 1) rec.push([l, j, p]);
    },
  });
  return { r, rec };
}

/** Device action at the checkpoints of the given (layer, position) pairs in an uninterrupted run. */
function checkpointActions(d: Deployment, x: Int16Array, positions: readonly number[], nvm?: PagedMemory): number[] {
  const want = new Map<number, number>(positions.map((p) => [p, -1]));
  runInference(d, {
    input: x,
    supply: { kind: 'continuous' },
    seed: 1,
    ...(nvm ? { nvm } : {}),
    onCheckpoint: (dv, pos) => {
      if (want.get(pos) === -1) want.set(pos, dv.action);
    },
  });
  return positions.map((p) => {
    const a = want.get(p)!;
    if (a < 0) throw new Error(`checkpoint ${p} not reached`);
    return a;
  });
}

// ---------------------------------------------------------------------------------------------

describe('japari-loopcount plan', () => {
  it('accepts B = 1, 2, 4, 8 (divisors of Tm = 8) and rejects others with a ConfigError', () => {
    const { q } = tiny('tiny-conv');
    for (const b of BATCHES) expect(() => deploy(q, b)).not.toThrow();
    for (const b of [3, 5, 6, 16]) {
      expect(() => deploy(q, b)).toThrow(ConfigError);
      expect(() => deploy(q, b)).toThrow(/Tm = 8/);
    }
  });

  it('lenet: loop counts, arithmetic parts and one record slot per conv/FC layer', () => {
    const m = loadModel('lenet');
    const d = deploy(m.q, 4);
    const lc = loopCountPlanOf(d.plan);
    const lea = lc.layers.filter((l): l is LcLeaLayer => l.kind === 'conv' || l.kind === 'gemm');
    // conv1: 6 x 6 tiles x 1 m x 1 n x 25; conv2: 3 x 3 x 1 x 1 x 9; fc: 2 m-tiles x 25 n-tiles.
    expect(lea.map((l) => [l.name, l.iterations, l.itersPerTile])).toEqual([
      ['conv1', 900, 25],
      ['conv2', 81, 9],
      ['fc', 50, 25],
    ]);
    expect(d.plan.nvm.slots.length).toBe(3);
    expect(d.plan.arithmetic.layers.get('conv1')!.parts.map((p) => p.pos)).toEqual(
      Array.from({ length: 25 }, (_, i) => [Math.floor(i / 5), i % 5]),
    );
    expect(d.plan.arithmetic.layers.get('fc')!.parts).toHaveLength(25);
    // NVM regions are ordered and disjoint, and the output is the final copy of fc.
    const n = lc.nvm;
    expect(n.pbs[0]!).toBeGreaterThanOrEqual(2 * n.recordBytes);
    expect(n.samples).toBeGreaterThan(n.pbs.at(-1)!);
    expect(n.leaOutputs[0]).toBeGreaterThan(n.samples);
    expect(n.pool[0]).toBe(n.leaOutputs[1]);
    const fc = lcLeaLayer(d.plan, 'fc');
    expect(d.plan.output.base).toBe(fc.out.copies[(25 - 1) % 2]);
  });

  it('dummy weight 16 * loop_cnt wraps at 2048 under SIGN 0 (not guarded); the LEA footprint follows', () => {
    const fp = (sign: 0 | 1, iter: number) =>
      dotQ15(Int16Array.of(sign === 0 ? DUMMY_INPUT_SIGN0 : DUMMY_INPUT_SIGN1), 0, Int16Array.of(dummyWeight(sign, iter)), 0, 1, 1, TI_REFERENCE_ARITHMETIC);
    expect(fp(0, 1)).toBe(1);
    expect(fp(0, 2047)).toBe(2047);
    expect(dummyWeight(0, 2047)).toBe(32752);
    expect(dummyWeight(0, 2048)).toBe(-32768);
    expect(fp(0, 2048)).toBe(-2048);
    expect(fp(0, 2304)).toBe(2304 - 4096);
    expect(fp(0, 4096 + 5)).toBe(5);
    expect(fp(1, 1)).toBe(-1);
    expect(fp(1, 2304)).toBe(-2304);
    expect(fp(1, 32767)).toBe(-32767);
  });
});

describe('japari-loopcount under continuous power equals the reference bit for bit', () => {
  for (const name of TINY) {
    for (const b of BATCHES) {
      it(`${name} B=${b}, first inference and after a warm-up`, () => {
        const { q, x, x2 } = tiny(name);
        const d = deploy(q, b);
        expect(Array.from(d.reference(x))).toEqual(Array.from(runQ15(q, x, d.plan.arithmetic).output));
        expectReference(runInference(d, { input: x, supply: { kind: 'continuous' }, seed: 1 }));
        expectReference(runInference(d, { input: x, supply: { kind: 'continuous' }, seed: 1, nvm: warmedUp(d, [x2]) }));
      });
    }
  }
  for (const b of BATCHES) {
    it(`lenet B=${b}, two inferences`, () => {
      const m = loadModel('lenet');
      const d = deploy(m.q, b);
      const r1 = runInference(d, { input: m.inputQ(0), supply: { kind: 'continuous' }, seed: 1 });
      expectReference(r1);
      expectReference(runInference(d, { input: m.inputQ(1), supply: { kind: 'continuous' }, seed: 1, nvm: r1.device.nvm }));
    });
  }
});

describe('japari-loopcount: every single power failure recovers on tiny nets', () => {
  for (const [name, b] of [
    ['tiny-conv', 2],
    ['tiny-fc', 4],
  ] as const) {
    it(`${name} B=${b}: one failure before every action, both SIGNs`, () => {
      const { q, x, x2 } = tiny(name);
      const d = deploy(q, b);
      for (const nvm of [undefined, warmedUp(d, [x2])]) {
        const g = runInference(d, { input: x, supply: { kind: 'continuous' }, seed: 1, ...(nvm ? { nvm } : {}) });
        const bad: number[] = [];
        for (let a = 0; a < g.actions; a++) {
          const r = runInference(d, { input: x, supply: { kind: 'schedule', failAt: [a] }, seed: 3 + a, ...(nvm ? { nvm } : {}) });
          if (!r.completed || !r.equal || r.undefinedReads > 0) bad.push(a);
        }
        expect(bad).toEqual([]);
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Named scenarios on lenet. conv2 (layer 3): 81 iterations, 9 per (r, c) tile; iteration 14 is
// the 5th of tile 1 (4 x 4 pixels), so op 1 reads copy flip ^ 1 = 1 and writes copy 0; iteration
// 10 is that tile's first (op 1 writes copy 0 directly). fc (layer 6): 50 iterations, 25 per
// m-tile; iteration 30 is the 5th of m-tile 1.

interface Golden {
  readonly d: Deployment;
  readonly m: LoadedModel;
  readonly x: Int16Array;
  readonly nvm: PagedMemory | undefined;
  readonly trace: readonly TraceEvent[];
}

const goldens = new Map<string, Golden>();
function golden(b: number, warm: boolean): Golden {
  const key = `${b}/${warm}`;
  let g = goldens.get(key);
  if (!g) {
    const m = loadModel('lenet');
    const d = deploy(m.q, b);
    const x = m.inputQ(0);
    const nvm = warm ? warmedUp(d, [m.inputQ(1)]) : undefined;
    const r = runInference(d, { input: x, supply: { kind: 'continuous' }, seed: 1, trace: true, ...(nvm ? { nvm } : {}) });
    expectReference(r);
    g = { d, m, x, nvm, trace: r.trace! };
    goldens.set(key, g);
  }
  return g;
}

describe('japari-loopcount: named failure scenarios on lenet recover to the reference', () => {
  for (const b of BATCHES) {
    for (const warm of [false, true]) {
      const tag = `B=${b}, ${warm ? 'second inference (SIGN 1)' : 'first inference (SIGN 0)'}`;
      const conv2 = () => lcLeaLayer(golden(b, warm).d.plan, 'conv2');
      /** Run a schedule; expect the reference output and the given first recovery of `layer`. */
      const check = (failAt: number[], layer: number, expected?: number) => {
        const g = golden(b, warm);
        const { r, rec } = recoveries(g.d, g.x, failAt, g.nvm);
        expectReference(r);
        if (expected !== undefined) expect(rec.find(([l]) => l === layer)?.[2]).toBe(expected);
        return rec;
      };

      it(`${tag}: failure in the middle of a PB write resumes op 0 at that pixel`, () => {
        const g = golden(b, warm);
        const l = conv2();
        const ev = events(g.trace, l.index, isPbWrite)[pixelOrdinal(l, b, 14, 5)]!;
        check([ev.action + 7], l.index, lcPosition(14, 0, 5));
      });

      it(`${tag}: failure between the PB write and the accumulation resumes op 1 at pixel 0`, () => {
        const g = golden(b, warm);
        const l = conv2();
        const w = events(g.trace, l.index, isOutputWrite)[pixelOrdinal(l, b, 14, 0)]!;
        // op 1 of a non-first iteration: read the source copy, LEA add, write (2 actions before).
        expect(g.trace.find((e) => e.action === w.action - 2 && e.kind === 'dma-read')?.label).toBe('read partial sums');
        check([w.action - 2], l.index, lcPosition(14, 1, 0));
      });

      it(`${tag}: failure in the middle of op 1 resumes op 1 at the torn pixel`, () => {
        const g = golden(b, warm);
        const l = conv2();
        const w = events(g.trace, l.index, isOutputWrite)[pixelOrdinal(l, b, 14, 9)]!;
        check([w.action + 5], l.index, lcPosition(14, 1, 9));
        // All but the last byte (the high byte of the pixel's last footprint) landed.
        check([w.action + w.total - 1], l.index);
        // The tile's first iteration writes copy 0 directly.
        const w0 = events(g.trace, l.index, isOutputWrite)[pixelOrdinal(l, b, 10, 6)]!;
        check([w0.action + 3], l.index, lcPosition(10, 1, 6));
      });

      it(`${tag}: failure during the SIGN/layer commit finishes the layer without redoing it`, () => {
        const g = golden(b, warm);
        const l = conv2();
        const commit = events(g.trace, l.index, (s) => s === 'commit model record').at(-1)!;
        // Torn record write: the older copy still says "conv2 running"; recovery finds op 1 of
        // the last iteration complete and commits.
        check([commit.action + 3], l.index, lcPosition(l.iterations + 1, 0, 0));
        // Just before the version byte: the same.
        check([commit.action + commit.total - 1], l.index, lcPosition(l.iterations + 1, 0, 0));
        // Just after the commit landed: the next layer starts (relu2, recomputed from its start).
        const rec = check([commit.action + commit.total], l.index + 1);
        expect(rec[0]).toEqual([l.index + 1, 0, 0]);
      });

      it(`${tag}: failures during recovery itself (scan, reload, resumed op 1)`, () => {
        const g = golden(b, warm);
        const l = conv2();
        const w = events(g.trace, l.index, isOutputWrite)[pixelOrdinal(l, b, 14, 9)]!;
        const first = w.action + 5;
        // Trace of the run with only the first failure: what the second boot does.
        const r1 = runInference(g.d, { input: g.x, supply: { kind: 'schedule', failAt: [first] }, seed: 11, trace: true, ...(g.nvm ? { nvm: g.nvm } : {}) });
        expectReference(r1);
        const boot2 = r1.trace!.filter((e) => e.boot === 2 && e.layer === l.index);
        const scan = boot2.filter((e) => e.label === 'read output footprints')[3]!;
        const reload = boot2.filter((e) => e.label === 'reload LEA results from PB')[2]!;
        const resumed = boot2.find((e) => isOutputWrite(e.label))!;
        for (const second of [scan.action, reload.action, resumed.action + 4, resumed.action + resumed.total + 1]) {
          check([first, second], l.index, lcPosition(14, 1, 9));
        }
      });

      it(`${tag}: FC failures (mid PB write, before op 1, mid op 1)`, () => {
        const g = golden(b, warm);
        const fc = lcLeaLayer(g.d.plan, 'fc');
        const pb = events(g.trace, fc.index, isPbWrite)[29]!;
        check([pb.action + 3], fc.index, lcPosition(30, 0, 0));
        const w = events(g.trace, fc.index, isOutputWrite)[29]!;
        check([w.action - 2], fc.index, lcPosition(30, 1, 0));
        check([w.action + 4], fc.index, lcPosition(30, 1, 0));
      });

      it(`${tag}: a failure inside relu1 recomputes it from its start`, () => {
        const g = golden(b, warm);
        const relu = events(g.trace, 1, (s) => s === 'write output')[3]!;
        const rec = check([relu.action + 9], 1);
        expect(rec[0]).toEqual([1, 0, 0]);
      });
    }
  }
});

// ---------------------------------------------------------------------------------------------

const SHARED = ['mnist', 'har', 'kws', 'cifar10'] as const;
const sharedPresent = SHARED.every((n) => sharedAvailable('models', SHARED_MODELS[n]));

describe('japari-loopcount: measured loop counts (largest loop_cnt per conv/FC layer)', () => {
  const maxLoopCnt = (name: string): Record<string, number> => {
    const d = deploy(loadModel(name).q, 4);
    const out: Record<string, number> = {};
    for (const l of loopCountPlanOf(d.plan).layers) if (l.kind === 'conv' || l.kind === 'gemm') out[l.name] = l.iterations;
    return out;
  };

  it('lenet: at most 900, below 2048', () => {
    expect(maxLoopCnt('lenet')).toEqual({ conv1: 900, conv2: 81, fc: 50 });
  });

  it.skipIf(!sharedPresent)('shared models: only cifar10 fire4/expand3x3 exceeds 2047 (2304)', () => {
    expect(maxLoopCnt('mnist')).toEqual({ Convolution28: 1225, Convolution110: 800, Times212: 64 });
    expect(maxLoopCnt('har')).toEqual({ 'conv1d/conv1d': 384, 'conv1d_1/conv1d': 480, 'conv1d_2/conv1d': 720, 'dense/MatMul': 144 });
    expect(maxLoopCnt('kws')).toEqual({
      'fc1/MatMul_Gemm__14': 576,
      'fc2/MatMul_Gemm__15': 324,
      'fc3/MatMul_Gemm__16': 324,
      MatMul_Gemm__17: 36,
    });
    const c = maxLoopCnt('cifar10');
    expect(c).toEqual({
      'squeezenet/conv/BiasAdd': 1152,
      'squeezenet/fire2/squeeze1x1/BiasAdd': 64,
      'squeezenet/fire2/expand3x3/BiasAdd': 576,
      'squeezenet/fire2/expand1x1/BiasAdd': 64,
      'squeezenet/fire3/squeeze1x1/BiasAdd': 128,
      'squeezenet/fire3/expand3x3/BiasAdd': 576,
      'squeezenet/fire3/expand1x1/BiasAdd': 64,
      'squeezenet/fire4/squeeze1x1/BiasAdd': 256,
      'squeezenet/fire4/expand3x3/BiasAdd': 2304,
      'squeezenet/fire4/expand1x1/BiasAdd': 256,
      'squeezenet/conv10/BiasAdd': 256,
    });
    expect(Object.entries(c).filter(([, n]) => n > 2047)).toEqual([['squeezenet/fire4/expand3x3/BiasAdd', 2304]]);
  });
});

// ---------------------------------------------------------------------------------------------
// Findings: the faithful design violates correctness or liveness. Each test asserts that the
// violation reproduces.

describe('japari-loopcount findings', () => {
  it('finding (intent: needs every (kr, kc) iteration): a torn first PB footprint across a 256 boundary sends recovery back 256 iterations (lenet conv1)', () => {
    // SPI FRAM lands bytes little-endian: after the low byte of PB[B] (pixel 0's first
    // footprint) lands, the word holds the new low byte and the old high byte.
    //   SIGN 0, loop_cnt 512: 0x01FF -> 0x0200 torn to 0x0100 = +256  -> recovery at iteration 256
    //   SIGN 1, loop_cnt 513: -512 = 0xFE00 -> -513 = 0xFDFF torn to 0xFEFF = -257 -> iteration 257
    // Iteration 256/257 is the 6th/7th of its tile, so op 1 re-adds iterations 256.. onto copies
    // that already hold them: the tile's outputs are double counted.
    for (const b of BATCHES) {
      for (const [warm, iter, back] of [
        [false, 512, 256],
        [false, 768, 512],
        [true, 513, 257],
        [true, 769, 513],
      ] as const) {
        const g = golden(b, warm);
        const l = lcLeaLayer(g.d.plan, 'conv1');
        const ev = events(g.trace, l.index, isPbWrite)[pixelOrdinal(l, b, iter, 0)]!;
        const { r, rec } = recoveries(g.d, g.x, [ev.action + 2 * b + 1], g.nvm);
        expect(r.completed).toBe(true);
        // Op 0 of iteration `back` from pixel 0; when B = tm the torn word is also pixel 0's last
        // footprint, which now equals pb_1, so pixel 0 counts as written and op 0 resumes at 1.
        const tm = iterationOf(l, b, back).tm;
        expect(rec[0]).toEqual([l.index, back - 1, lcPosition(back, 0, b === tm ? 1 : 0)]);
        expect(r.equal).toBe(false);
      }
    }
  });

  it('reconstruction (R4 scan, not the published design): a fresh restart in the middle of a layer leaves same-SIGN sums that the monotonicity scan accepts (lenet conv1, 2 failures)', () => {
    // Failure 1: torn first PB footprint at loop_cnt 256 (SIGN 0): 0x00FF -> 0x0100 torn to
    // 0x0000 -> sign mismatch -> the layer restarts at loop_cnt 1 (alone, this is correct).
    // Failure 2: during the re-executed op 1 of loop_cnt 201, the first iteration of tile 8 (rows
    // 4..7, columns 8..11; copy 0 is written directly), before pixel 5. The scan of copy 0 starts
    // at pb_1 = 201 and sees 201 x 5 and then the first pass's finished sums of that tile (same
    // SIGN, larger): no break, op 1 "finished". Pixels 5..15 keep the first pass's finished
    // outputs and get iterations 202..225 added again. (Tile 0 would hide this: it lies on the
    // blank MNIST border, where every contribution but the bias is 0.)
    for (const b of BATCHES) {
      const g = golden(b, false);
      const l = lcLeaLayer(g.d.plan, 'conv1');
      const ev = events(g.trace, l.index, isPbWrite)[pixelOrdinal(l, b, 256, 0)]!;
      const first = ev.action + 2 * b + 1;
      let second = -1;
      const r1 = runInference(g.d, {
        input: g.x,
        supply: { kind: 'schedule', failAt: [first] },
        seed: 11,
        onCheckpoint: (dv, pos) => {
          if (dv.boots === 2 && second < 0 && pos === positionOf(l.index, lcPosition(201, 1, 5))) second = dv.action;
        },
      });
      expectReference(r1); // one failure: a (costly) fresh restart, still correct
      expect(second).toBeGreaterThan(first);
      const { r, rec } = recoveries(g.d, g.x, [first, second]);
      expect(rec[0]).toEqual([l.index, 0, 0]);
      expect(rec[1]).toEqual([l.index, 201, lcPosition(202, 0, 0)]);
      expect(r.completed).toBe(true);
      expect(r.equal).toBe(false);
    }
  });

  it('reconstruction (non-LEA layers, not the published design): layers without progress preservation livelock on the device.md supply (lenet relu1 > one charge)', () => {
    // relu1 ([4, 24, 24], recomputed from its start after every reboot) costs more energy than
    // one charge of the 100 uF capacitor between 2.8 V and 2.4 V (104 uJ, minus the reboot).
    for (const b of [1, 4]) {
      const m = loadModel('lenet');
      const d = deploy(m.q, b);
      const rec: number[] = [];
      const r = runInference(d, {
        input: m.inputQ(0),
        supply: { kind: 'energy', capacitor: DEVICE_MD_CAPACITOR, harvester: DEVICE_MD_RC },
        seed: 1,
        maxPowerCycles: 3000,
        onRecovered: (_dv, l) => rec.push(l),
      });
      expect(r.completed).toBe(false);
      expect(r.reason).toMatch(/no forward progress/);
      expect(rec.slice(-16)).toEqual(Array(16).fill(1)); // every boot restarts relu1
      const relu1 = runInference(d, { input: m.inputQ(0), supply: { kind: 'continuous' }, seed: 1 }).device.layerBreakdown(2)[1]!;
      const nj = Object.values(relu1).reduce((s, c) => s + c.nj, 0);
      expect(nj).toBeGreaterThan(104_000);
    }
  });

  describe.skipIf(!sharedPresent)('cifar10 (fire4/expand3x3: 2304 iterations, tile sums up to 82314)', () => {
    const setup = (b: number) => {
      const m = loadModel('cifar10');
      const d = deploy(m.q, b);
      return { m, d, l: lcLeaLayer(d.plan, 'squeezenet/fire4/expand3x3/BiasAdd') };
    };

    it('finding (intent: needs every (kr, kc) iteration): the second inference is wrong under continuous power (16 * loop_cnt wrapped in the first)', () => {
      // Inference 1 (SIGN 0) ends fire4/expand3x3 at loop_cnt 2304: 16 * 2304 wraps to -28672, so
      // PB holds FP = -1792. Inference 2 (SIGN 1) runs the layer-start recovery (JAP_CONV always
      // calls __JAP_PG_RETRIEVE): -1792 has SIGN 1's sign -> "iteration 1792"; PB and the copies
      // look finished -> it resumes at 1793 and never computes iterations 1..1792 of this input.
      // (With the same input twice the stale copies hold the right values and hide it.)
      for (const b of [1, 4]) {
        const { m, d, l } = setup(b);
        const r1 = runInference(d, { input: m.inputQ(0), supply: { kind: 'continuous' }, seed: 1 });
        expectReference(r1);
        const rec: [number, number, number][] = [];
        const r2 = runInference(d, {
          input: m.inputQ(1),
          supply: { kind: 'continuous' },
          seed: 1,
          nvm: r1.device.nvm,
          onRecovered: (_dv, ly, j, p) => rec.push([ly, j, p]),
        });
        expect(rec.find(([ly]) => ly === l.index)).toEqual([l.index, 1792, lcPosition(1793, 0, 0)]);
        expect(r2.completed).toBe(true);
        expect(r2.equal).toBe(false);
        // Inference 3 (SIGN 0 again) sees -2304 in PB: fresh start, correct.
        const r3 = runInference(d, { input: m.inputQ(2), supply: { kind: 'continuous' }, seed: 1, nvm: r2.device.nvm });
        expect(r3.equal).toBe(true);
      }
    });

    it('reconstruction (R4 scan, not the published design): saturated running footprint sums hide an iteration whose accumulation never started', () => {
      // Tile 40 (loop_cnt 1441..1476): its footprint sums reach 32767 by the 23rd iteration. A
      // failure right after op 0 of loop_cnt 1471 (before op 1 reads anything): the scan's anchor
      // S(1470) and the destination's S(1469) are both 32767 -> no break -> "op 1 finished" ->
      // resume at 1472; iteration 1471 is never added to the tile's 12 pixels x 8 channels.
      const { m, d, l } = setup(4);
      const [a] = checkpointActions(d, m.inputQ(0), [positionOf(l.index, lcPosition(1471, 1, 0))]);
      const { r, rec } = recoveries(d, m.inputQ(0), [a!]);
      expect(rec.find(([ly]) => ly === l.index)).toEqual([l.index, 1471, lcPosition(1472, 0, 0)]);
      expect(r.completed).toBe(true);
      expect(r.equal).toBe(false);
    });

    it('re-derived on the published scan (variant loopcount-published-scan): the same failure resumes op 1 at the last pixel from lost LEA RAM', () => {
      // Saturation plays no part: the published scan reads the source copy's equal sums, finds no
      // break, and op 1 continues at pixel 11 of 12 with the LEA results a reboot has lost.
      const { m, l } = setup(4);
      const d = new Deployment(m.q, { engine: 'japari-loopcount', batch: 4, placement: 'spi-fram', profile: msp430fr5994, faults: ['loopcount-published-scan'] });
      const [a] = checkpointActions(d, m.inputQ(0), [positionOf(l.index, lcPosition(1471, 1, 0))]);
      const { r, rec } = recoveries(d, m.inputQ(0), [a!]);
      expect(rec.find(([ly]) => ly === l.index)).toEqual([l.index, 1470, lcPosition(1471, 1, 11)]);
      expect(r.completed).toBe(true);
      expect(r.equal).toBe(false);
      expect(r.device.undefinedReads).toBeGreaterThan(0);
    });

    it('finding: any failure at loop_cnt >= 2048 under SIGN 0 restarts the layer; frequent failures never finish it', () => {
      // From loop_cnt 2048 on, 16 * loop_cnt wraps negative: PB's footprint has the wrong sign for
      // SIGN 0 and recovery starts the layer again at loop_cnt 1 (correct, but ~1.2 M actions are
      // redone). Iterations 2048..2304 take ~104 k actions at B = 4; a supply failing more often than
      // that always fails there, and the layer restarts forever.
      const { m, d, l } = setup(4);
      const x = m.inputQ(0);
      const [a2048, a2100, aEnd] = checkpointActions(d, x, [
        positionOf(l.index, lcPosition(2048, 0, 0)),
        positionOf(l.index, lcPosition(2100, 1, 0)),
        positionOf(l.index, lcPosition(2304, 1, 8)),
      ]);
      expect(aEnd! - a2048!).toBeGreaterThan(100_000);
      const g = runInference(d, { input: x, supply: { kind: 'continuous' }, seed: 1 });
      const once = recoveries(d, x, [a2100!]);
      expect(once.rec.find(([ly]) => ly === l.index)).toEqual([l.index, 0, 0]);
      expect(once.r.equal).toBe(true);
      expect(once.r.actions - g.actions).toBeGreaterThan(1_000_000);
      // Failures every 50 k actions from inside the wrapped range on.
      const failAt = Array.from({ length: 400 }, (_, k) => a2048! + 25_000 + 50_000 * k);
      // Every boot starts in this layer; a recovery at job 0 is a restart. Between restarts the
      // layer gets past loop_cnt 2000 (it recovers normally below 2048), then fails again.
      const reached: number[] = [];
      let deepest = -1;
      const r = runInference(d, {
        input: x,
        supply: { kind: 'schedule', failAt },
        seed: 1,
        maxPowerCycles: 120,
        onRecovered: (dv, ly, j) => {
          if (ly !== l.index || dv.boots === 1) return;
          if (j === 0) {
            if (deepest >= 0) reached.push(deepest);
            deepest = 0;
          } else deepest = Math.max(deepest, j);
        },
      });
      expect(r.completed).toBe(false);
      expect(r.reason).toMatch(/gave up after 120 power cycles/);
      expect(reached.length).toBeGreaterThanOrEqual(4);
      for (const j of reached) expect(j).toBeGreaterThan(2000);
    });
  });
});
