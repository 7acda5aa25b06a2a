/**
 * Coverage-guided power-failure fuzzing (`japari fuzz --strategy guided`, the default).
 *
 * The campaign keeps a coverage map of what recovery distinguishes (coverage.ts) and biases new
 * schedules toward what it has not seen:
 *
 *   stream    the `--strategy random` campaign's own cases, in its order (fast-check's seeded
 *             draws, simple cases first): the first three runs and every third one after, so
 *             what random fuzzing kills at once, guidance kills at once too
 *   fresh     a case drawn as `--strategy random` draws it (fast-check arbitraries)
 *   targeted  a drawn case whose first failure is placed in the static site class -- (layer,
 *             event, tear) of the uninterrupted run -- exercised least so far, optionally
 *             followed by failures a few actions to a few thousand later (inside the recovery)
 *   mutated   a case that reached new coverage, with one failure shifted, added, or removed,
 *             or a fresh input, warm-up and SRAM garbage; or extended by a failure aimed at the
 *             least exercised site class after its last failure (the case's run is longer than
 *             the uninterrupted one by its recoveries: the aim is shifted by that difference)
 *
 * Every choice flows from the seed (util/rng.ts and fast-check's seeded sampling), so a
 * campaign replays exactly. A failing case is shrunk deterministically: failures are dropped one
 * at a time, then the warm-up, while the case still fails.
 */
import fc from 'fast-check';
import { Rng, mixSeed } from '../util/rng.js';
import { deploymentOf, replaySpec } from './replay.js';
import { CoverageMap, SiteMap, SiteRecorder, coverageTuples } from './coverage.js';
import type { Violation } from './properties.js';
import type { RunSpec } from './token.js';

/** A fuzz case (fuzz.ts): a run spec without its schedule, and failures as gaps. */
export interface GuidedCase {
  readonly model: string;
  readonly batch: number;
  readonly placement: RunSpec['placement'];
  readonly input: number;
  readonly warm: readonly number[];
  readonly gaps: number[];
  readonly seed: number;
  readonly garbage: RunSpec['garbage'];
}

export interface CoveragePoint {
  readonly runs: number;
  readonly seconds: number;
  readonly tuples: number;
}

export interface GuidedOutcome {
  readonly runs: number;
  readonly interrupted: boolean;
  /** The first failing case, shrunk, and the seconds to it (before shrinking). */
  readonly failing?: { readonly c: GuidedCase; readonly shrinks: number; readonly seconds: number };
}

export interface CampaignHooks {
  readonly specOf: (c: GuidedCase) => RunSpec;
  readonly counts: (v: Violation) => boolean;
  readonly byKind: boolean;
  readonly coverage: CoverageMap;
  readonly curve: CoveragePoint[];
  readonly t0: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (runs: number) => void;
}

/** Run one case with coverage observed; returns whether it fails (counted violations). */
export function runObserved(h: CampaignHooks, c: GuidedCase, runs: number): { fails: boolean; fresh: number; actions: number } {
  const spec = h.specOf(c);
  const rec = new SiteRecorder();
  const r = replaySpec(spec, false, rec.observe);
  const fresh = h.coverage.add(coverageTuples(deploymentOf(spec), rec.sites, r.seeks, h.byKind));
  if (fresh > 0) h.curve.push({ runs, seconds: (performance.now() - h.t0) / 1000, tuples: h.coverage.size });
  return { fails: r.violations.some(h.counts), fresh, actions: r.result.actions };
}

function toGaps(schedule: readonly number[]): number[] {
  return schedule.map((a, i) => (i === 0 ? a : a - schedule[i - 1]! - 1));
}

function toSchedule(gaps: readonly number[]): number[] {
  const out: number[] = [];
  let at = -1;
  for (const g of gaps) out.push((at += 1 + g));
  return out;
}

/** An ascending schedule without duplicates or negatives, at most `max` failures. */
function normalise(schedule: readonly number[], max: number): number[] {
  return [...new Set(schedule.filter((a) => a >= 0).map((a) => Math.floor(a)))].sort((a, b) => a - b).slice(0, Math.max(0, max));
}

/** Drop failures, then the warm-up, while the case still fails. */
export function shrinkCase(c: GuidedCase, fails: (c: GuidedCase) => boolean): { c: GuidedCase; shrinks: number } {
  let best = c;
  let shrinks = 0;
  for (let changed = true; changed; ) {
    changed = false;
    const s = toSchedule(best.gaps);
    for (let i = s.length - 1; i >= 0; i--) {
      const cur = toSchedule(best.gaps);
      if (i >= cur.length) continue;
      const cand = { ...best, gaps: toGaps(cur.filter((_, j) => j !== i)) };
      if (fails(cand)) {
        best = cand;
        shrinks++;
        changed = true;
      }
    }
    if (best.warm.length > 0) {
      const cand = { ...best, warm: [] };
      if (fails(cand)) {
        best = cand;
        shrinks++;
        changed = true;
      }
    }
  }
  return { c: best, shrinks };
}

/**
 * The guided campaign: `numRuns` cases (or until `deadline`), stopping at the first failing
 * one, which it shrinks.
 */
export function guidedCampaign(
  h: CampaignHooks,
  o: { readonly seed: number; readonly numRuns: number; readonly deadline: number; readonly maxFailures: number; readonly caseArb: fc.Arbitrary<GuidedCase> },
): GuidedOutcome {
  const rng = new Rng(mixSeed(o.seed, 0x6a09e667));
  const pick = (n: number) => Math.min(n - 1, Math.floor(rng.float() * n));
  const fresh = (): GuidedCase => fc.sample(o.caseArb, { seed: rng.u32() | 0, numRuns: 1 })[0]!;
  /** Cases that reached new coverage, with the actions their run took (longer than the uninterrupted run by its recoveries). */
  const pool: { c: GuidedCase; actions: number }[] = [];
  // The random strategy's cases (fc.check with the same seed draws the same first 64), in chunks.
  let chunk: GuidedCase[] = [];
  let chunkNo = 0;
  const stream = (): GuidedCase => {
    if (chunk.length === 0) chunk = fc.sample(o.caseArb, { seed: chunkNo === 0 ? o.seed | 0 : mixSeed(o.seed, chunkNo) | 0, numRuns: 64 }).reverse();
    if (chunk.length === 1) chunkNo++;
    return chunk.pop()!;
  };
  const maps = new Map<string, SiteMap>();
  const siteMapOf = (c: GuidedCase): SiteMap => {
    const key = JSON.stringify([c.model, c.batch, c.placement, c.warm.length > 0]);
    let m = maps.get(key);
    if (!m) {
      const spec = { ...h.specOf({ ...c, gaps: [] }), warmup: c.warm.length > 0 ? [c.warm[0]!] : [] };
      const r = replaySpec(spec, true);
      m = new SiteMap(deploymentOf(spec), r.result.trace ?? [], h.byKind, r.result.device.nvmWriteUnitBytes, r.result.actions);
      if (maps.size > 64) maps.clear();
      maps.set(key, m);
    }
    return m;
  };
  /** Failures after `a`: inside its recovery (a few actions to a few thousand later). */
  const followUps = (a: number): number[] => {
    const out: number[] = [];
    let at = a;
    const n = rng.float() < 0.5 ? 0 : 1 + pick(Math.max(1, o.maxFailures - 1));
    for (let i = 0; i < n; i++) out.push((at += 1 + pick(1 << (1 + pick(12)))));
    return out;
  };
  const targeted = (base: GuidedCase): GuidedCase => {
    const m = siteMapOf(base);
    const best = m.leastExercised(h.coverage, pick);
    if (best === null) return base;
    const a = m.actionIn(best, pick);
    return { ...base, gaps: toGaps(normalise([a, ...followUps(a)], o.maxFailures)) };
  };
  const mutated = (p: { c: GuidedCase; actions: number }): GuidedCase => {
    const c = p.c;
    const s = toSchedule(c.gaps);
    const op = pick(6);
    let next = s;
    if (op === 0 && s.length > 0) {
      const i = pick(s.length);
      const d = (rng.float() < 0.5 ? -1 : 1) * (1 + pick(1 << pick(11)));
      next = s.map((a, j) => (j === i ? a + d : a));
    } else if (op === 1 && s.length > 0) next = [...s, ...followUps(s[s.length - 1]!).slice(0, 1)];
    else if (op === 2 && s.length > 1) {
      const i = pick(s.length);
      next = s.filter((_, j) => j !== i);
    } else if ((op === 3 || op === 4) && s.length > 0 && s.length < o.maxFailures) {
      // Aim a further failure at the least exercised class beyond the last one.
      const m = siteMapOf(c);
      const shift = Math.max(0, p.actions - m.actions);
      const last = s[s.length - 1]!;
      for (let tries = 0; tries < 8 && next === s; tries++) {
        const k = m.leastExercised(h.coverage, pick);
        if (k === null) break;
        const a = m.actionIn(k, pick) + shift;
        if (a > last) next = [...s, a];
      }
    } else {
      const f = fresh();
      return { ...c, input: f.input, warm: f.model === c.model ? f.warm : c.warm, seed: f.seed, garbage: f.garbage };
    }
    return { ...c, gaps: toGaps(normalise(next, o.maxFailures)) };
  };

  let runs = 0;
  while (runs < o.numRuns) {
    if (h.signal?.aborted) break;
    if (performance.now() > o.deadline) return { runs, interrupted: true };
    const u = rng.float();
    // On random networks the network itself is what varies most: aim at fresh ones more often.
    const c =
      runs < 3 || runs % 3 === 2
        ? stream()
        : pool.length === 0 || u < 0.2
        ? fresh()
        : u < 0.65
          ? targeted(h.byKind || rng.float() < 0.5 ? fresh() : pool[pick(pool.length)]!.c)
          : mutated(pool[pick(pool.length)]!);
    runs++;
    if (h.onProgress && runs % 25 === 0) h.onProgress(runs);
    const r = runObserved(h, c, runs);
    if (r.fresh > 0) pool.push({ c, actions: r.actions });
    if (r.fails) {
      const seconds = (performance.now() - h.t0) / 1000;
      const failsNow = (x: GuidedCase) => replaySpec(h.specOf(x)).violations.some(h.counts);
      return { runs, interrupted: false, failing: { ...shrinkCase(c, failsNow), seconds } };
    }
  }
  return { runs, interrupted: false };
}
