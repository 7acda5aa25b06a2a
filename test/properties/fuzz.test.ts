/**
 * Fuzzing: broken engines are caught with small shrunk counterexamples that replay exactly;
 * correct engines hold; replay tokens round-trip; the same seed gives the same report.
 */
import { describe, it, expect } from 'vitest';
import { test as fcTest, fc } from '@fast-check/vitest';
import { fuzz } from '../../src/properties/fuzz.js';
import { replaySpec } from '../../src/properties/replay.js';
import { encodeToken, decodeToken, scheduleFromGaps, type RunSpec } from '../../src/properties/token.js';
import { buildCounterexample, counterexampleMarkdown, counterexampleSvg } from '../../src/report/counterexample.js';
import { stableStringify } from '../../src/util/json.js';
import { UsageError } from '../../src/util/errors.js';
import { builtinKinds } from '../../src/engines/designs.js';
import { fixesFor } from '../../src/engines/catalogue.js';

const base = { placement: 'spi-fram' as const, profile: 'inas2021', faults: [] as string[], fixes: [] as string[] };

describe('replay tokens', () => {
  fcTest.prop(
    [
      fc.record({
        model: fc.constantFrom('lenet', 'tiny-conv', 'rnd:3x5x5:c3k3s1p1/r/g4:17'),
        engine: fc.constantFrom(...builtinKinds()),
        batch: fc.integer({ min: 1, max: 8 }),
        placement: fc.constantFrom('spi-fram' as const, 'internal-fram' as const),
        profile: fc.constantFrom('inas2021', 'tinas2024'),
        faults: fc.uniqueArray(fc.constantFrom('japari-seek-skip-one', 'hawaii-single-copy')),
        fixes: fc.constant([] as string[]),
        input: fc.nat(100),
        warmup: fc.array(fc.nat(100), { maxLength: 2 }),
        seed: fc.nat(),
        garbage: fc.oneof(fc.constant({ kind: 'random' as const }), fc.constant({ kind: 'stale' as const }), fc.integer({ min: -32768, max: 32767 }).map((value) => ({ kind: 'constant' as const, value }))),
        schedule: fc.array(fc.nat(1000), { maxLength: 5 }).map((g) => scheduleFromGaps(g)),
      })
        // A token carries only fixes of its engine (the CLI refuses the others too).
        .chain((spec) => fc.subarray(fixesFor(spec.engine)).map((fixes) => ({ ...spec, fixes }))),
    ],
    { seed: 20261128, numRuns: 200 },
  )('round-trip every spec', (spec) => {
    expect(decodeToken(encodeToken(spec as RunSpec))).toEqual(spec);
  });

  it('rejects malformed tokens with a usage error', () => {
    for (const bad of ['', 'jp2.abc', 'jp1.!!!', `jp1.${Buffer.from('{"m":1}').toString('base64url')}`, encodeToken({ ...base, model: 'lenet', engine: 'japari', batch: 1, input: 0, warmup: [], seed: 0, garbage: { kind: 'random' }, schedule: [] }).replace('jp2.', 'jp2.x')]) {
      expect(() => decodeToken(bad)).toThrow(UsageError);
    }
  });

  it('schedules from gaps are strictly ascending for any gaps (every shrink is valid)', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(50)), (gaps) => {
        const s = scheduleFromGaps(gaps);
        return s.length === gaps.length && s.every((a, i) => i === 0 || a > s[i - 1]!);
      }),
      { seed: 7, numRuns: 300 },
    );
  });
});

describe('fuzzing catches broken engines with small counterexamples', () => {
  for (const [model, engine, fault] of [
    ['tiny-conv', 'japari', 'japari-seek-skip-one'],
    ['tiny-conv', 'hawaii', 'hawaii-counter-before-data'],
    ['tiny-conv', 'japari', 'japari-footprint-first'],
  ] as const) {
    it(`${engine} with ${fault}`, () => {
      const r = fuzz({ ...base, model, engine, batch: 2, faults: [fault], seed: 11, runs: 300 });
      expect(r.verdict).toBe('fail');
      const ce = r.counterexample!;
      expect(ce.spec.schedule.length).toBeLessThanOrEqual(3);
      // The token replays the same violation.
      const replay = replaySpec(decodeToken(ce.token));
      expect(replay.violations.map((v) => v.property)).toContain(ce.property);
      // Without the fault, the same schedule holds.
      expect(replaySpec({ ...ce.spec, faults: [] }).violations).toEqual([]);
    });
  }

  it('the same seed gives the same counterexample and a byte-identical report', () => {
    const run = () => fuzz({ ...base, model: 'tiny-conv', engine: 'japari', batch: 2, faults: ['japari-footprint-first'], seed: 99, runs: 200 });
    const a = run();
    const b = run();
    expect(a.counterexample!.token).toBe(b.counterexample!.token);
    const ra = buildCounterexample(a.counterexample!.spec);
    const rb = buildCounterexample(b.counterexample!.spec);
    expect(stableStringify(ra)).toBe(stableStringify(rb));
    expect(counterexampleMarkdown(ra)).toBe(counterexampleMarkdown(rb));
    expect(counterexampleSvg(ra)).toBe(counterexampleSvg(rb));
    expect(counterexampleMarkdown(ra)).toContain(a.counterexample!.token);
  });
});

describe('correct engines hold under fuzzing', () => {
  for (const [model, engine, batch, fixes] of [
    ['tiny-concat', 'japari', 2, []],
    ['tiny-strided', 'hawaii', 1, []],
    ['tiny-fc', 'japari', 1, ['japari-gemm-column-sign']],
    ['tiny-concat', 'hawaii', 4, ['hawaii-layer-remainder']],
    ['lenet', 'japari', 2, []],
  ] as const) {
    it(`${model} ${engine} B=${batch} ${fixes.join(' ')}`, () => {
      const r = fuzz({ ...base, model, engine, batch, fixes: [...fixes], seed: 5, runs: model === 'lenet' ? 40 : 150 });
      expect(r.counterexample?.violations ?? []).toEqual([]);
      expect(r.verdict).toBe('pass');
    });
  }

  it('random networks with the fixes hold', () => {
    for (const engine of ['hawaii', 'japari'] as const) {
      const r = fuzz({ ...base, model: 'random', engine, batch: 1, fixes: fixesFor(engine), seed: 3, runs: 120 });
      expect(r.counterexample?.violations ?? []).toEqual([]);
    }
  });

  it('random networks expose the published FC footprint-sign finding', () => {
    const r = fuzz({ ...base, model: 'random', engine: 'japari', batch: 1, seed: 42, runs: 300 });
    expect(r.verdict).toBe('fail');
    expect(replaySpec({ ...r.counterexample!.spec, fixes: fixesFor('japari') }).violations).toEqual([]);
  });
});
