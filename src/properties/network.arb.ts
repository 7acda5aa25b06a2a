/**
 * fast-check arbitraries for fuzzing: small random networks, engine parameters, inputs,
 * failure schedules (as gaps, so every shrink is a valid schedule) and SRAM garbage patterns.
 */
import fc from 'fast-check';
import type { GarbagePattern } from '../device/device.js';
import { formatRandomNet } from '../model/random-net.js';

/** A conv stack (odd channel counts, channels not multiples of B, 1x1 and strided convs, concat). */
const convLayer = fc.oneof(
  fc.record({ oc: fc.integer({ min: 1, max: 7 }), k: fc.constantFrom(1, 3), s: fc.constantFrom(1, 2) }).map(({ oc, k, s }) => `c${oc}k${k}s${s}p${k === 3 ? 1 : 0}`),
  fc.constant('r'),
  fc.record({ a: fc.integer({ min: 1, max: 4 }), b: fc.integer({ min: 1, max: 4 }) }).map(({ a, b }) => `x${a}.${b}`),
);

/** Network descriptions for loadModel('rnd:...'): conv-only, FC-only, or conv then FC. */
export const randomNetworkArb: fc.Arbitrary<string> = fc.oneof(
  // conv then FC
  fc
    .record({
      c: fc.integer({ min: 1, max: 3 }),
      hw: fc.integer({ min: 4, max: 7 }),
      layers: fc.array(convLayer, { minLength: 1, maxLength: 3 }),
      pool: fc.boolean(),
      out: fc.integer({ min: 1, max: 7 }),
      seed: fc.nat({ max: 9999 }),
    })
    .map(({ c, hw, layers, pool, out, seed }) => formatRandomNet({ input: [c, hw, hw], layers: ['c3k3s1p1', ...layers, ...(pool ? ['m2s2'] : []), `g${out}`], seed })),
  // FC only
  fc
    .record({ n: fc.integer({ min: 2, max: 24 }), hidden: fc.array(fc.integer({ min: 1, max: 11 }), { minLength: 1, maxLength: 3 }), seed: fc.nat({ max: 9999 }) })
    .map(({ n, hidden, seed }) => formatRandomNet({ input: [n], layers: hidden.flatMap((h, i) => (i < hidden.length - 1 ? [`g${h}`, 'r'] : [`g${h}`])), seed })),
  // conv only (ends in global average pooling)
  fc
    .record({ c: fc.integer({ min: 1, max: 3 }), hw: fc.integer({ min: 3, max: 6 }), layers: fc.array(convLayer, { minLength: 1, maxLength: 3 }), seed: fc.nat({ max: 9999 }) })
    .map(({ c, hw, layers, seed }) => formatRandomNet({ input: [c, hw, hw], layers: ['c2k1s1p0', ...layers, 'a'], seed })),
);

export const garbageArb: fc.Arbitrary<GarbagePattern> = fc.oneof(
  { weight: 4, arbitrary: fc.constant<GarbagePattern>({ kind: 'random' }) },
  { weight: 1, arbitrary: fc.constant<GarbagePattern>({ kind: 'stale' }) },
  { weight: 1, arbitrary: fc.constantFrom(-1, 0x7fff, -32768, 0x5555).map((value): GarbagePattern => ({ kind: 'constant', value })) },
);

/**
 * Gaps between failures. Small gaps put the next failure inside the recovery of the previous
 * one; large gaps spread failures over the inference. `span` is the uninterrupted run's length.
 */
export function gapsArb(span: number, maxFailures: number): fc.Arbitrary<number[]> {
  const gap = fc.oneof({ weight: 2, arbitrary: fc.nat({ max: Math.max(1, span) }) }, { weight: 1, arbitrary: fc.nat({ max: 64 }) });
  return fc.array(gap, { minLength: 0, maxLength: maxFailures });
}
