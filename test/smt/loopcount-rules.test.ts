/**
 * The loop-count design's rules (src/engines/japari-loopcount/rules.ts) are written once over
 * Ops: the engine and the inspector run them on numbers (`num`), the Z3 encodings on bit-vectors
 * (`bvOps`, src/smt/ops.smt.ts). These tests keep the three uses honest:
 *
 *  1. differential: for every rule, on random edge-biased values, `num` == `bvOps` on constants
 *     (folded) == `bvOps` on declared variables fixed by assertions (Z3's model value), with and
 *     without the seeded faults that are rule options;
 *  2. the rules (numeric) agree with what the engine is observed to do on the device: the
 *     footprints the LEA writes into PB, the SIGN toggles committed at layer ends, and the resume
 *     point of every seek after a failure (the rule evaluated on the NVM the seek read, numeric
 *     and on bit-vector constants, and the inspector's view);
 *  3. the encoder's LEA footprint (loopFootprint: the rules through the bit-vector AccOps) equals
 *     the device's dotQ15 of the rules' dummy input and weight, for every iteration and SIGN.
 * A fault in a rule therefore changes the engine and the proofs alike.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { num, type Ops } from '../../src/engines/ops.js';
import { bvOps } from '../../src/smt/ops.smt.js';
import { Script, bv, eq, not, toSigned, TRUE, FALSE, type BV, type Bool } from '../../src/smt/smtlib.js';
import { Z3Runtime } from '../../src/smt/runtime.js';
import { Rng } from '../../src/util/rng.js';
import * as R from '../../src/engines/japari-loopcount/rules.js';
import { loopCountPlanOf, iterationOf, seekReadsOf, lcPosition, type LcLeaLayer } from '../../src/engines/japari-loopcount/plan.js';
import { lcRuleOptions } from '../../src/engines/japari-loopcount/engine.js';
import { loopFootprint } from '../../src/smt/loopcount.smt.js';
import { proveContext } from '../../src/smt/context.js';
import { Deployment, runInference, warmedUp } from '../../src/engines/runner.js';
import { loadModel } from '../../src/model/models.js';
import { msp430fr5994 } from '../../src/device/profile.js';
import { dotQ15 } from '../../src/device/lea.js';
import { read16 } from '../../src/engines/inspect.js';

const z3 = new Z3Runtime();
afterAll(async () => {
  await z3.close();
});

// ---------------------------------------------------------------------------------------------
// 1. Differential: num == bvOps (constants) == bvOps (variables, Z3)

/** One rule call: integer and Boolean inputs, integer and Boolean outputs. */
interface RuleCase {
  readonly ns: readonly number[];
  readonly bs: readonly boolean[];
  run<N, B>(o: Ops<N, B>, n: readonly N[], b: readonly B[]): { ns: N[]; bs: B[] };
}

const OPTION_SETS: readonly R.LcRuleOptions[] = [
  R.NO_RULE_FAULTS,
  { firstPbOnly: true, resumeNext: true, scanFromZero: true, flipNotReset: true, signNotToggled: true },
  { ...R.NO_RULE_FAULTS, resumeNext: true },
  { ...R.NO_RULE_FAULTS, firstPbOnly: true },
  { ...R.NO_RULE_FAULTS, scanFromZero: true },
];

function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[rng.int(0, xs.length - 1)]!;
}

/** An int16 value biased to the edges and to small loop counts. */
function i16(rng: Rng): number {
  const r = rng.float();
  if (r < 0.1) return pick(rng, [-32768, 32767, 0, 1, -1, 255, 256, -256, -257, 2047, 2048, -2048]);
  if (r < 0.5) return rng.int(-40, 40);
  return rng.i16();
}

/** A loop count / iteration: small, around 16-bit wraps, or anywhere in int32/2. */
function iteration(rng: Rng): number {
  const r = rng.float();
  if (r < 0.2) return pick(rng, [1, 2, 255, 256, 257, 2047, 2048, 2049, 2304, 4101, 32767, 32768, 65535, 65536, 65537]);
  if (r < 0.7) return rng.int(1, 3000);
  return rng.int(-200000, 200000);
}

/** Footprint-like values near `v`: equal with probability `pEq`. */
function near(rng: Rng, v: number, pEq: number): number {
  return rng.float() < pEq ? v : ((v + rng.int(-3, 3)) << 16) >> 16;
}

type Gen = (rng: Rng) => RuleCase;

const GENERATORS: Record<string, Gen> = {
  loopCnt: (rng) => ({ ns: [iteration(rng)], bs: [], run: (o, n) => ({ ns: [R.loopCnt(o, n[0]!)], bs: [] }) }),
  dummyInput: (rng) => ({ ns: [], bs: [rng.float() < 0.5], run: (o, _n, b) => ({ ns: [R.dummyInput(o, b[0]!)], bs: [] }) }),
  dummyWeight: (rng) => ({ ns: [iteration(rng)], bs: [rng.float() < 0.5], run: (o, n, b) => ({ ns: [R.dummyWeight(o, b[0]!, n[0]!)], bs: [] }) }),
  copyFlip: (rng) => {
    const opts = pick(rng, OPTION_SETS);
    return { ns: [rng.int(0, 5000), rng.int(1, 100000)], bs: [], run: (o, n) => ({ ns: [R.copyFlip(o, n[0]!, n[1]!, opts)], bs: [] }) };
  },
  footprintSignMatches: (rng) => ({ ns: [i16(rng)], bs: [rng.float() < 0.5], run: (o, n, b) => ({ ns: [], bs: [R.footprintSignMatches(o, b[0]!, n[0]!)] }) }),
  namedIteration: (rng) => {
    const opts = pick(rng, OPTION_SETS);
    return { ns: [i16(rng)], bs: [rng.float() < 0.5], run: (o, n, b) => ({ ns: [R.namedIteration(o, b[0]!, n[0]!, opts)], bs: [] }) };
  },
  seekIteration: (rng) => {
    const opts = pick(rng, OPTION_SETS);
    return { ns: [i16(rng), rng.int(1, 3000)], bs: [rng.float() < 0.5], run: (o, n, b) => ({ ns: [R.seekIteration(o, b[0]!, n[0]!, n[1]!, opts)], bs: [] }) };
  },
  breaksMonotonicity: (rng) => ({ ns: [i16(rng), i16(rng)], bs: [rng.float() < 0.5], run: (o, n, b) => ({ ns: [], bs: [R.breaksMonotonicity(o, b[0]!, n[0]!, n[1]!)] }) }),
  unfinishedPbPixel: (rng) => {
    const opts = pick(rng, OPTION_SETS);
    const npix = rng.int(1, 16);
    const pb1 = rng.int(-300, 300);
    const pEq = pick(rng, [0.5, 0.9, 1]);
    return {
      ns: [pb1, ...Array.from({ length: npix }, () => near(rng, pb1, pEq))],
      bs: [],
      run: (o, n) => {
        const r = R.unfinishedPbPixel(o, n[0]!, npix, (k) => n[1 + k]!, () => {}, opts);
        return { ns: [r.at], bs: [r.found] };
      },
    };
  },
  firstBreak: (rng) => {
    const npix = rng.int(1, 16);
    const nfp = pick(rng, [1, 2, 4, 8]);
    const sign1 = rng.float() < 0.5;
    // Monotone running sums, with a break (or a saturation plateau) here and there.
    let v = rng.int(-100, 100);
    const seq: number[] = [v];
    for (let i = 0; i < npix * nfp; i++) {
      const r = rng.float();
      v = r < 0.05 ? v - 1 : r < 0.1 ? v + 1 : r < 0.2 ? v : sign1 ? v - rng.int(0, 3) : v + rng.int(0, 3);
      seq.push(v);
    }
    return {
      ns: seq,
      bs: [sign1],
      run: (o, n, b) => {
        const r = R.firstBreak(o, b[0]!, n[0]!, npix, nfp, (k, f) => n[1 + k * nfp + f]!, () => {});
        return { ns: [r.at], bs: [r.found] };
      },
    };
  },
  seekDecision: (rng) => {
    const opts = pick(rng, OPTION_SETS);
    const I = rng.int(1, 5);
    const sign1 = rng.float() < 0.5;
    const sgn = sign1 ? -1 : 1;
    const shapes = Array.from({ length: I }, (_, c) => ({ iter: c + 1, npix: rng.int(1, 4), nfp: pick(rng, [1, 2]), first: rng.float() < 0.4 }));
    const lc = rng.int(1, I);
    // Inputs: pb1, then per candidate: lastPb[npix], anchor, dest[npix * nfp].
    const ns: number[] = [rng.float() < 0.8 ? sgn * lc : pick(rng, [0, -sgn * lc, sgn * (I + 1), sgn * (lc - 1 || 1)])];
    const at: { lastPb: number; anchor: number; dest: number }[] = [];
    for (const sh of shapes) {
      const p = ns.length;
      for (let k = 0; k < sh.npix; k++) ns.push(near(rng, ns[0]!, 0.8));
      ns.push(sgn * rng.int(0, 20));
      let v = ns[ns.length - 1]!;
      for (let q = 0; q < sh.npix * sh.nfp; q++) {
        v = rng.float() < 0.15 ? v - sgn * rng.int(1, 3) : v + sgn * rng.int(0, 3);
        ns.push(v);
      }
      at.push({ lastPb: p, anchor: p + sh.npix, dest: p + sh.npix + 1 });
    }
    return {
      ns,
      bs: [sign1],
      run: <N, B>(o: Ops<N, B>, n: readonly N[], b: readonly B[]) => {
        type Sh = (typeof shapes)[number];
        const reads: R.SeekReads<N, Sh> = {
          firstPb: () => n[0]!,
          lastPb: (it, k) => n[at[it.iter - 1]!.lastPb + k]!,
          anchor: (it) => n[at[it.iter - 1]!.anchor]!,
          dest: (it, k, f) => n[at[it.iter - 1]!.dest + k * it.nfp + f]!,
        };
        // The encoder's split: every candidate iteration, as loopcount.smt.ts does.
        const split = (x: N, decide: (it: Sh) => R.Resume<N>): R.Resume<N> => {
          if (!o.symbolic) return decide(shapes[(o.constant(x) ?? 1) - 1]!);
          let acc = R.freshStart(o);
          for (const sh of shapes) {
            const rest = acc;
            acc = o.when(o.eq(x, o.k(sh.iter)), () => decide(sh), () => rest);
          }
          return acc;
        };
        const r = R.seekDecision(o, { sign1: b[0]!, iterations: o.k(I), opts }, reads, split);
        return { ns: [r.iter, r.op, r.pixel, r.how], bs: [] };
      },
    };
  },
  sign1Of: (rng) => ({ ns: [pick(rng, [1, -1, 0, 5, -7])], bs: [], run: (o, n) => ({ ns: [], bs: [R.sign1Of(o, n[0]!)] }) }),
  layerEnd: (rng) => {
    const opts = pick(rng, OPTION_SETS);
    const p = { layer: rng.int(0, 60), last: rng.float() < 0.5, lea: rng.float() < 0.7, opts };
    return {
      ns: [pick(rng, [1, -1]), rng.int(0, 60), pick(rng, [0, 1]), pick(rng, [0, 1, 65534, 65535])],
      bs: [],
      run: (o, n) => {
        const r = R.layerEnd(o, { state: n[0]!, layerIdx: n[1]!, running: n[2]!, runCounter: n[3]! }, p);
        return { ns: [r.state, r.layerIdx, r.running, r.runCounter], bs: [] };
      },
    };
  },
};

const CASES = 48;

describe('loop-count rules: bvOps == num (differential, constants and Z3)', () => {
  for (const [name, gen] of Object.entries(GENERATORS)) {
    it(name, async () => {
      const rng = new Rng(0x10c0 + name.length * 7919 + name.charCodeAt(0));
      const cases = Array.from({ length: CASES }, () => gen(rng));
      const s = new Script();
      const want: { ns: number[]; bs: boolean[] }[] = [];
      cases.forEach((c, i) => {
        const w = c.run(num, c.ns, c.bs);
        want.push(w);
        // Constants fold: the symbolic instance must take constants to the same constants.
        const oc = bvOps();
        const got = c.run(oc, c.ns.map((v) => oc.k(v)), c.bs.map((v) => oc.bool(v)));
        expect(got.ns.map((t) => oc.constant(t)), `${name} case ${i} (constants) ${JSON.stringify(c.ns)} ${JSON.stringify(c.bs)}`).toEqual(w.ns);
        expect(got.bs.map((t) => oc.constantB(t)), `${name} case ${i} (constants)`).toEqual(w.bs);
        // Variables fixed by assertions: Z3 evaluates the symbolic terms.
        const o = bvOps(s);
        const nv = c.ns.map((v, k) => {
          const x = s.declare(`n_${i}_${k}`, 32);
          s.assert(eq(x, bv(v, 32)));
          return x;
        });
        const bvb = c.bs.map((v, k) => {
          const x = s.declareBool(`b_${i}_${k}`);
          s.assert(v ? x : not(x));
          return x;
        });
        const r = c.run(o, nv, bvb);
        r.ns.forEach((t: BV, k) => s.observe(`out_${i}_${k}`, t));
        r.bs.forEach((t: Bool, k) => s.observeBool(`outb_${i}_${k}`, t));
        expect(o.requirements).toEqual([]);
      });
      const res = await z3.check(s, 60_000);
      expect(res.status).toBe('sat');
      cases.forEach((c, i) => {
        const w = want[i]!;
        const ns = w.ns.map((_, k) => Number(toSigned(res.values!.get(`out_${i}_${k}`) as bigint, 32)));
        const bs = w.bs.map((_, k) => res.values!.get(`outb_${i}_${k}`) as boolean);
        expect({ ns, bs }, `${name} case ${i} (Z3) ${JSON.stringify(c.ns)} ${JSON.stringify(c.bs)}`).toEqual(w);
      });
    }, 120_000);
  }
});

// ---------------------------------------------------------------------------------------------
// 2. The rules agree with the engine's observed behaviour

function deploy(model: string, batch: number, faults: readonly string[] = []): Deployment {
  return new Deployment(loadModel(model).q, { engine: 'japari-loopcount', batch, placement: 'spi-fram', profile: msp430fr5994, faults });
}

function isLea(l: ReturnType<typeof loopCountPlanOf>['layers'][number]): l is LcLeaLayer {
  return l.kind === 'conv' || l.kind === 'gemm';
}

/** The rule's decision on an NVM image (numeric, or on bit-vector constants), as the engine reads it. */
function decide<N, B>(o: Ops<N, B>, d: Deployment, l: LcLeaLayer, read: (a: number) => number, sign1: boolean): R.Resume<number> {
  const lc = loopCountPlanOf(d.plan);
  const B = lc.B;
  const opts = lcRuleOptions(d.faults);
  // The words the engine's seeker reads (plan.ts: the addresses the engine reads too).
  const reads = seekReadsOf(l, B, (addr: number): N => o.k(read16(read, addr)));
  const r = R.seekDecision(o, { sign1: o.bool(sign1), iterations: o.k(l.iterations), opts }, reads, (x, dec) => dec(iterationOf(l, B, o.constant(x)!, opts)));
  const c = (t: N) => {
    const v = o.constant(t);
    if (v === undefined) throw new Error('not a constant');
    return v;
  };
  return { iter: c(r.iter), op: c(r.op), pixel: c(r.pixel), how: c(r.how) };
}

describe('loop-count rules == the engine on the device', () => {
  it('PB footprints: dummyInput x dummyWeight through the LEA, every iteration of every layer, both SIGNs (lenet B=1, tiny-concat B=2)', () => {
    for (const [model, batch] of [
      ['lenet', 1],
      ['tiny-concat', 2],
    ] as const) {
      const d = deploy(model, batch);
      const lc = loopCountPlanOf(d.plan);
      const m = loadModel(model);
      const records = d.records();
      const arith = d.plan.params.arithmetic;
      for (const warm of [0, 1]) {
        let checked = 0;
        runInference(d, {
          input: m.inputQ(0),
          supply: { kind: 'continuous' },
          seed: 1,
          ...(warm ? { nvm: warmedUp(d, [m.inputQ(1)]) } : {}),
          onCheckpoint: (dv, pos) => {
            const l = lc.layers[Math.floor(pos / 4294967296)]!;
            const p = pos % 4294967296;
            // op 1, pixel 0 of an iteration: op 0 wrote every PB pixel of this iteration.
            if (!isLea(l) || p % 32 !== 16) return;
            const iter = Math.floor(p / 32) + 1;
            const sign1 = R.sign1Of(num, records.peek((a) => dv.nvm.readU8(a)).slots[l.slot]!.state);
            const want = dotQ15(Int16Array.of(R.dummyInput(num, sign1)), 0, Int16Array.of(R.dummyWeight(num, sign1, iter)), 0, 1, 1, arith);
            const it = iterationOf(l, lc.B, iter);
            for (let k = 0; k < it.npix; k++) for (let f = 0; f < it.nfp; f++) expect(read16((a) => dv.nvm.readU8(a), l.pb + 2 * (k * it.callWords + f * (lc.B + 1) + lc.B))).toBe(want);
            checked++;
          },
        });
        expect(checked).toBe(lc.layers.filter(isLea).reduce((n, l) => n + l.iterations, 0));
      }
    }
  });

  it('SIGN toggles: the record after each inference is layerEnd of the one before, layer by layer', () => {
    const d = deploy('tiny-concat', 2);
    const m = loadModel('tiny-concat');
    const lc = loopCountPlanOf(d.plan);
    const records = d.records();
    let nvm = d.installImage();
    for (let n = 0; n < 3; n++) {
      const before = records.peek((a) => nvm.readU8(a));
      const r = runInference(d, { input: m.inputQ(n), supply: { kind: 'continuous' }, seed: 1, nvm });
      nvm = r.device.nvm;
      const after = records.peek((a) => nvm.readU8(a));
      let want = { state: 0, layerIdx: 0, running: 1, runCounter: before.runCounter };
      const states = before.slots.map((s) => s.state);
      for (const l of lc.layers) {
        const e = R.layerEnd(num, { ...want, state: isLea(l) ? states[l.slot]! : 0 }, { layer: l.index, last: l.index === lc.layers.length - 1, lea: isLea(l), opts: R.NO_RULE_FAULTS });
        if (isLea(l)) states[l.slot] = e.state;
        want = e;
      }
      expect(after.slots.map((s) => s.state)).toEqual(states);
      expect([after.layerIdx, after.running, after.runCounter]).toEqual([want.layerIdx, want.running, want.runCounter]);
    }
  });

  // Every seek after a failure: the engine's reported job and resume position equal the rule
  // evaluated on the NVM it read (numbers and bit-vector constants), and the inspector's view.
  for (const [model, batch, faults, step] of [
    ['tiny-concat', 2, [], 3],
    ['tiny-fc', 4, [], 1],
    ['tiny-concat', 1, ['loopcount-resume-next-iteration'], 5],
    ['tiny-concat', 2, ['loopcount-scan-from-zero', 'loopcount-flip-not-reset'], 5],
    ['lenet', 4, [], 4001],
  ] as const) {
    it(`every seek == seekDecision on its NVM: ${model} B=${batch}${faults.length ? ` (${faults.join(', ')})` : ''}, one failure every ${step} action(s), both SIGNs`, () => {
      const d = deploy(model, batch, faults);
      const m = loadModel(model);
      const lc = loopCountPlanOf(d.plan);
      const insp = d.inspector();
      const records = d.records();
      let seeks = 0;
      let midLayer = 0;
      for (const warm of [0, 1]) {
        const nvm = warm ? warmedUp(d, [m.inputQ(1)]) : d.installImage();
        const actions = runInference(d, { input: m.inputQ(0), supply: { kind: 'continuous' }, seed: 1, nvm: nvm.snapshot() }).actions;
        for (let a = 0; a < actions; a += step) {
          runInference(d, {
            input: m.inputQ(0),
            supply: { kind: 'schedule', failAt: [a] },
            seed: 5,
            nvm: nvm.snapshot(),
            onRecovered: (dv, layer, job, position) => {
              const l = lc.layers[layer]!;
              if (!isLea(l)) return;
              const read = (x: number) => dv.nvm.readU8(x);
              const sign1 = R.sign1Of(num, records.peek(read).slots[l.slot]!.state);
              const want = decide(num, d, l, read, sign1);
              expect(decide(bvOps(), d, l, read, sign1)).toEqual(want);
              expect([job, position]).toEqual([want.iter - 1, lcPosition(want.iter, want.op === 1 ? 1 : 0, want.pixel)]);
              expect(insp.finishedPrefix!(layer, read)).toBe(job);
              seeks++;
              if (job > 0) midLayer++;
            },
          });
        }
      }
      expect(seeks).toBeGreaterThan(0);
      expect(midLayer).toBeGreaterThan(0);
    }, 300_000);
  }
});

// ---------------------------------------------------------------------------------------------
// 3. The encoder's footprint == the device's

describe('loopFootprint (the rules through the bit-vector LEA) == dotQ15 of the rules on numbers', () => {
  it('lenet B=1: every iteration up to 2400 (past the 16-bit wrap at 2048) and both SIGNs', () => {
    const ctx = proveContext({ model: 'lenet', engine: 'japari-loopcount', batch: 1 });
    const arith = ctx.plan.params.arithmetic;
    for (let i = 1; i <= 2400; i += i < 100 ? 1 : 37) {
      for (const sign1 of [false, true]) {
        const s = new Script();
        const o = bvOps(s);
        const got = loopFootprint(s, ctx, o, sign1 ? TRUE : FALSE, bv(i, 32));
        const want = dotQ15(Int16Array.of(R.dummyInput(num, sign1)), 0, Int16Array.of(R.dummyWeight(num, sign1, i)), 0, 1, 1, arith);
        expect(got.c === undefined ? NaN : Number(toSigned(got.c, 16)), `iteration ${i} SIGN ${sign1 ? 1 : 0}`).toBe(want);
      }
    }
  });
});
