/**
 * Coverage for power-failure fuzzing: what recovery distinguishes. Each power failure of a run
 * contributes one tuple
 *
 *   (layer, event, tear, job position, seeker view, recovery depth)
 *
 *   layer         the engine layer the failure hit (its kind -- conv, gemm, ... -- on random
 *                 networks, whose layer indices mean nothing across networks)
 *   event         the cost category of the event power failed in: compute, fetch,
 *                 preserve-output, preserve-indicator, seek, commit, ... (indicator and record
 *                 writes are the footprint and commit boundaries)
 *   tear          which unit of a multi-unit write transfer was cut: start (nothing landed),
 *                 mid-word (SPI FRAM: the low byte of a word landed, not the high one), mid
 *                 (between words), last (all but the last unit); '-' for single-action events
 *   job position  where the next seek finds durable work, relative to the job boundaries of the
 *                 layer it resumes: first (no job durable), inner, last (one job left), end (all
 *                 durable), next-layer (the failure's layer had committed), no-seek
 *   seeker view   the recovered job against the durable prefix: exact, redo (behind), skip
 *                 (ahead), with '!' when the seeker's finished-count disagrees with the truth
 *   depth         failures since the last boot that reached a checkpoint: 0 in normal
 *                 execution, 1 during the recovery of a failure, 2, 3+ (capped)
 *
 * A `CoverageMap` counts tuples; coverage-guided fuzzing (guided.ts) prefers failure sites
 * whose static part (layer, event, tear) has been exercised least, found in a `SiteMap` of the
 * uninterrupted run.
 */
import { CATEGORIES, type TraceEvent } from '../device/device.js';
import type { Deployment, RunOptions } from '../engines/runner.js';
import type { SeekRecord } from './properties.js';

/** One power failure of a run, as the device saw it. */
export interface FailureSite {
  readonly boot: number;
  readonly layer: number;
  readonly category: string;
  readonly units: number;
  readonly landed: number;
  readonly depth: number;
  readonly writeUnit: 1 | 2;
}

/** The tear class of failing before unit `landed` of an event of `units` actions. */
export function tearOf(units: number, landed: number, writeUnit: 1 | 2): string {
  if (units <= 1) return '-';
  if (landed === 0) return 'start';
  if (landed === units - 1) return 'last';
  return writeUnit === 1 && landed % 2 === 1 ? 'mid-word' : 'mid';
}

/** The layer as coverage names it: its index, or its kind on random networks. */
export function layerKey(d: Deployment, layer: number, byKind: boolean): string {
  if (!byKind) return String(layer);
  const l = d.plan.layers[layer] as { readonly kind?: string } | undefined;
  return l?.kind ?? `L${layer}`;
}

/** Collects the failure sites of one run (pass `observe` to replaySpec / checkScenario). */
export class SiteRecorder {
  readonly sites: FailureSite[] = [];
  private chain = 0;
  private progressBoot = -1;
  readonly observe: Required<Pick<RunOptions, 'onFailure' | 'onCheckpoint'>> = {
    onFailure: (dev, _label, cat, units, landed) => {
      const depth = this.progressBoot === dev.boots ? 0 : this.chain;
      this.chain = depth + 1;
      this.sites.push({ boot: dev.boots, layer: dev.layer, category: CATEGORIES[cat] ?? 'compute', units, landed, depth, writeUnit: dev.nvmWriteUnitBytes });
    },
    onCheckpoint: (dev) => {
      this.progressBoot = dev.boots;
    },
  };
}

/** The static part of a tuple: what a failure placed in the uninterrupted run determines. */
export function siteKey(layer: string, category: string, tear: string): string {
  return `${layer}|${category}|${tear}`;
}

/** The coverage tuples of a run's failures, given the seeks the run made. */
export function coverageTuples(d: Deployment, sites: readonly FailureSite[], seeks: readonly SeekRecord[], byKind: boolean): string[] {
  const insp = d.inspector();
  return sites.map((s) => {
    const seek = seeks.find((k) => k.boot === s.boot + 1);
    let where = 'no-seek';
    let view = '-';
    if (seek) {
      const jobs = insp.jobs(seek.layer);
      const durable = seek.durableJobs;
      where = seek.layer !== s.layer ? 'next-layer' : durable === 0 ? 'first' : durable >= jobs ? 'end' : durable === jobs - 1 ? 'last' : 'inner';
      view = (seek.recoveredJob === durable ? 'exact' : seek.recoveredJob < durable ? 'redo' : 'skip') + (seek.finishedView === durable ? '' : '!');
    }
    return `${siteKey(layerKey(d, s.layer, byKind), s.category, tearOf(s.units, s.landed, s.writeUnit))}|${where}|${view}|d${Math.min(s.depth, 3)}`;
  });
}

/** Tuples seen, and how often each static site class was exercised. */
export class CoverageMap {
  private readonly tuples = new Map<string, number>();
  private readonly sites = new Map<string, number>();
  private readonly kinds = new Map<string, number>();
  /** Add a run's tuples; returns how many were new. */
  add(tuples: readonly string[]): number {
    let fresh = 0;
    for (const t of tuples) {
      const n = this.tuples.get(t) ?? 0;
      if (n === 0) fresh++;
      this.tuples.set(t, n + 1);
      const [layer, category, tear] = t.split('|', 3);
      const k = siteKey(layer!, category!, tear!);
      this.sites.set(k, (this.sites.get(k) ?? 0) + 1);
      const kind = `${category}|${tear}`;
      this.kinds.set(kind, (this.kinds.get(kind) ?? 0) + 1);
    }
    return fresh;
  }
  get size(): number {
    return this.tuples.size;
  }
  /** Times a static site class was exercised (0: never). */
  siteHits(key: string): number {
    return this.sites.get(key) ?? 0;
  }
  /** Times an (event, tear) kind was exercised in any layer. */
  kindHits(kind: string): number {
    return this.kinds.get(kind) ?? 0;
  }
  keys(): string[] {
    return [...this.tuples.keys()].sort();
  }
}

/**
 * Every place a first power failure can fall in the uninterrupted run, by static site class:
 * each class lists (first action, actions) of its events and which units of them it covers.
 */
export class SiteMap {
  readonly classes: readonly string[];
  /** (event, tear) kinds, each with its classes (one per layer). */
  readonly kinds: ReadonlyMap<string, readonly string[]>;
  private readonly events = new Map<string, { action: number; total: number }[]>();
  constructor(
    d: Deployment,
    trace: readonly TraceEvent[],
    byKind: boolean,
    private readonly writeUnit: 1 | 2,
    /** Actions of the uninterrupted run. */
    readonly actions: number,
  ) {
    for (const e of trace) {
      if (e.kind === 'note' || e.kind === 'failure' || e.kind === 'reboot' || e.total < 1) continue;
      const layer = layerKey(d, e.layer, byKind);
      const tears = e.total <= 1 ? ['-'] : e.total === 2 ? ['start', 'last'] : ['start', 'last', writeUnit === 1 ? 'mid-word' : 'mid', 'mid'];
      for (const t of new Set(tears)) {
        const k = siteKey(layer, e.category, t);
        let list = this.events.get(k);
        if (!list) this.events.set(k, (list = []));
        list.push({ action: e.action, total: e.total });
      }
    }
    this.classes = [...this.events.keys()].sort();
    const kinds = new Map<string, string[]>();
    for (const k of this.classes) {
      const kind = k.slice(k.indexOf('|') + 1);
      let list = kinds.get(kind);
      if (!list) kinds.set(kind, (list = []));
      list.push(k);
    }
    this.kinds = kinds;
  }

  /**
   * The class to aim at next: the (event, tear) kind exercised least, then its layer exercised
   * least (ties: the first in a random order), so rare events -- record commits, torn indicator
   * bytes -- are reached without enumerating every layer first.
   */
  leastExercised(cov: CoverageMap, pick: (n: number) => number): string | null {
    const least = <T>(xs: readonly T[], hits: (x: T) => number): T | null => {
      if (xs.length === 0) return null;
      const off = pick(xs.length);
      let best = xs[off]!;
      for (let i = 1; i < xs.length; i++) {
        const x = xs[(off + i) % xs.length]!;
        if (hits(x) < hits(best)) best = x;
      }
      return best;
    };
    const kind = least([...this.kinds.keys()], (k) => cov.kindHits(k));
    return kind === null ? null : least(this.kinds.get(kind)!, (c) => cov.siteHits(c));
  }

  /** An action where a first failure falls in class `key` (`pick(n)`: a uniform integer in 0..n-1). */
  actionIn(key: string, pick: (n: number) => number): number {
    const list = this.events.get(key)!;
    const e = list[pick(list.length)]!;
    const tear = key.slice(key.lastIndexOf('|') + 1);
    if (tear === '-' || tear === 'start') return e.action;
    if (tear === 'last') return e.action + e.total - 1;
    // Interior units: odd counts landed (mid-word on byte units) or even ones (between words).
    const interior = e.total - 2;
    if (tear === 'mid-word') return e.action + 1 + 2 * pick(Math.max(1, Math.floor((interior + 1) / 2)));
    const even = this.writeUnit === 1 ? Math.max(1, Math.floor(interior / 2)) : Math.max(1, interior);
    return this.writeUnit === 1 ? e.action + Math.min(e.total - 2, 2 + 2 * pick(even)) : e.action + 1 + pick(even);
  }
}
