// @ts-check
/**
 * An intermittent engine that is not in algorithms.md, written against japari's public API: the
 * template to copy for a design of your own (README.md next to this file).
 *
 * Round-tagged checkpoints: the reference engine's kernels preserve every LEA call's output as
 * usual; every N jobs (a job = B values in execution order) the engine writes ONE checkpoint word
 * into a per-layer table in NVM, after the values it covers. The word is a tag of the inference
 * ("round") r: tag(r) = 1 + (r mod 32767), never 0 (never-written NVM) and different for
 * consecutive rounds, so the table needs no reset at the start of an inference (HAWAII resets its
 * counters with two writes per layer) and a stale checkpoint of the previous inference never reads
 * as done. After a reboot, the first layer binary-searches its table for the first checkpoint not
 * tagged with this round and resumes at its first value: at most N jobs are redone.
 *
 * Compared with HAWAII (one counter write per B values), this writes N times fewer indicator
 * words, at the cost of redoing up to N jobs after a failure: the trade-off `japari bench
 * --engine-module` measures.
 *
 * The design's rules are pure functions over japari's Ops interface (numbers here, bit-vectors in
 * Z3): `tag` and the scheme's `finished` run in the engine's seeker AND in the proof of the
 * declarative scheme (`schemes`), so what Z3 proves is what the engine runs.
 */
import {
  Cat,
  NO_HOOKS,
  RecordStore,
  ReferenceEngine,
  countedValues,
  firstUnfinishedJob,
  inactiveInspector,
  num,
  planReference,
  read16,
  valueWord,
} from 'japari';

/** @typedef {import('japari').EnginePlan} EnginePlan */
/** @typedef {import('japari').EngineLayer} EngineLayer */
/** @typedef {import('japari').Preservation} Preservation */
/** @typedef {{ readonly values: number; readonly checkpoints: number; readonly table: number }} LayerTable */
/** @typedef {{ readonly per: number; readonly layers: readonly LayerTable[]; readonly end: number }} Tables */

/** Jobs per checkpoint. */
export const JOBS_PER_CHECKPOINT = 4;
export const KIND = 'example-checkpoint';

/**
 * The checkpoint word of round r (the record's 16-bit run counter): 1 + (r mod 32767).
 * @template N, B
 * @param {import('japari').Ops<N, B>} o
 * @param {N} r
 * @returns {N}
 */
export function tag(o, r) {
  return o.add(o.k(1), o.mod(r, o.k(32767)));
}

/**
 * The declarative indicator scheme of one layer with `checkpoints` checkpoints. Rounds are the
 * record's run counter, which wraps from 65535 to 0: before round 0 writes, a checkpoint word
 * holds never-written 0 (the first inference) or round 65535's tag (after the wrap).
 * @param {number} checkpoints
 * @returns {import('japari').IndicatorScheme}
 */
export function checkpointScheme(checkpoints) {
  return {
    name: 'round-tagged checkpoint words',
    jobs: checkpoints,
    indicator: (o, _c, r) => tag(o, r),
    stale: (o, _c, r) => [o.ite(o.eq(r, o.k(0)), o.k(0), tag(o, o.sub(r, o.k(1)))), o.ite(o.eq(r, o.k(0)), tag(o, o.k(65535)), tag(o, o.sub(r, o.k(1))))],
    finished: (o, word, _c, r) => o.eq(word, tag(o, r)),
    tearing: 'bytes-le',
  };
}

/**
 * Per layer: values, checkpoints and the NVM byte address of its checkpoint table.
 * @param {EnginePlan} plan
 * @returns {Tables}
 */
function layout(plan) {
  const per = JOBS_PER_CHECKPOINT * plan.B;
  let at = Math.ceil(plan.nvm.end / 16) * 16;
  const layers = plan.layers.map((l) => {
    const values = countedValues(l);
    const checkpoints = Math.ceil(values / per);
    const table = at;
    at += 2 * checkpoints;
    return { values, checkpoints, table };
  });
  return { per, layers, end: Math.ceil(at / 16) * 16 };
}

/**
 * The checkpoint tables a plan carries (design.plan puts them in `extra`).
 * @param {EnginePlan} plan
 * @returns {Tables}
 */
function cpOf(plan) {
  return /** @type {Tables} */ (plan.extra?.['checkpoints']);
}

/**
 * The engine's hooks into japari's reference engine (one object per boot: volatile state starts
 * afresh, as after a power failure).
 * @implements {Preservation}
 */
class CheckpointPreservation {
  /** @param {import('japari').ReferenceEngine} e */
  constructor(e) {
    // Hooks the design does not need keep japari's defaults.
    this.beforeConvCall = NO_HOOKS.beforeConvCall;
    this.beforeGemmCall = NO_HOOKS.beforeGemmCall;
    this.embedIndicators = NO_HOOKS.embedIndicators;
    this.gapIndicator = NO_HOOKS.gapIndicator;
    this.indicatorWords = NO_HOOKS.indicatorWords;
    this.e = e;
    this.cp = cpOf(e.plan);
    this.preserves = true;
    /** After a reboot only the first layer seeks (later layers start at 0). */
    this.afterReboot = true;
    /** Values preserved in the current layer-run, and the next checkpoint to write. */
    this.counted = 0;
    this.next = 0;
  }
  boot() {
    this.afterReboot = true;
  }
  startInference() {}
  enterLayer() {
    this.counted = 0;
    this.next = 0;
  }
  /** @param {EngineLayer} layer */
  seek(layer) {
    if (!this.afterReboot) return { resumeWord: 0, job: -1 };
    this.afterReboot = false;
    const e = this.e;
    const L = this.cp.layers[layer.index];
    const round = e.rec.runCounter;
    const want = tag(num, round);
    const job = firstUnfinishedJob(
      num,
      L.checkpoints,
      /** @param {number} c */
      (c) => {
        // One single-word NVM read per probe (the staging area of the device's SRAM map).
        e.dev.dmaFromNvm(L.table + 2 * c, e.stage, 1, Cat.seek, 'read checkpoint');
        e.dev.cpu('max', 1, Cat.seek, 'compare checkpoint');
        const v = e.dev.load(e.stage);
        e.dev.release(e.stage, 1);
        return v === want;
      },
      { lastJobWhenAllFinished: false },
    );
    this.counted = Math.min(job * this.cp.per, L.values);
    this.next = job;
    return { resumeWord: valueWord(layer, this.counted), job };
  }
  beforeWrite() {}
  /**
   * After values landed: write every checkpoint they complete (the last one may be partial).
   * @param {EngineLayer} layer
   * @param {number} fresh
   */
  afterWrite(layer, fresh) {
    const e = this.e;
    const L = this.cp.layers[layer.index];
    this.counted += fresh;
    while (this.next < L.checkpoints && this.counted >= Math.min((this.next + 1) * this.cp.per, L.values)) {
      const scratch = e.plan.params.profile.sramMap.counterScratch;
      e.dev.store(scratch, tag(num, e.rec.runCounter));
      e.dev.step('write checkpoint');
      e.dev.dmaToNvm(scratch, L.table + 2 * this.next, 1, Cat.preserveIndicator, 'write checkpoint');
      e.dev.release(scratch, 1);
      this.next++;
    }
  }
  /**
   * @param {EngineLayer} layer
   * @param {boolean} last
   * @returns {import('japari').LayerEndStep[]}
   */
  layerEnd(layer, last) {
    return [{ kind: 'commit', layerIdx: layer.index + 1, last }];
  }
  /** @param {(v: number) => void} mix */
  carry(mix) {
    mix(this.afterReboot ? 1 : 0);
    mix(this.counted);
    mix(this.next);
  }
}

/**
 * Pure views of the checkpoints for japari's properties (progress exactness, indicator
 * distinguishability): the seeker's predicate exactly as the engine computes it.
 * @param {EnginePlan} plan
 * @returns {import('japari').Inspector}
 */
function inspector(plan) {
  const cp = cpOf(plan);
  const records = new RecordStore(plan.nvm.record, plan.nvm.recordBytes, plan.nvm.slots.length);
  const base = inactiveInspector(plan, (read) => records.peek(read));
  /** @param {number} l */
  const table = (l) => /** @type {LayerTable} */ (cp.layers[l]);
  return {
    ...base,
    active: true,
    // A checkpoint is written after all its values: "finished" must mean "its values landed".
    exact: true,
    jobs: (l) => table(l).checkpoints,
    jobWords: (l, c, out) => {
      const L = table(l);
      let n = 0;
      for (let v = c * cp.per; v < Math.min((c + 1) * cp.per, L.values); v++) out[n++] = valueWord(/** @type {EngineLayer} */ (plan.layers[l]), v);
      return n;
    },
    jobWordsMax: cp.per,
    indicatorAddr: (l, c) => table(l).table + 2 * c,
    seekerFinished: (l, c, read, rec) => read16(read, table(l).table + 2 * c) === tag(num, rec.runCounter),
    maxLagJobs: () => 0,
    seeks: (l) => table(l).checkpoints > 0,
  };
}

/**
 * The registration: what `japari fuzz --engine-module ./engine.js` loads.
 * @type {import('japari').EngineDesign}
 */
export const design = {
  kind: KIND,
  title: 'Round-tagged checkpoints every 4 jobs (example design)',
  source: 'examples/checkpoint-engine/README.md',
  preserves: true,
  plan(q, params) {
    const plan = planReference(q, params, { footprints: false });
    const cp = layout(plan);
    const bytes = plan.params.profile.nvm[plan.params.placement].bytes;
    if (cp.end > bytes) throw new Error(`${KIND}: the checkpoint tables need ${cp.end} bytes of NVM, the device has ${bytes}`);
    return { ...plan, nvm: { ...plan.nvm, end: cp.end }, extra: { ...(plan.extra ?? {}), checkpoints: cp } };
  },
  engine: (plan, faults) => new ReferenceEngine(plan, faults, (e) => new CheckpointPreservation(e)),
  inspector,
  /** One declarative scheme per layer that keeps checkpoints (the Z3 back end proves each). */
  schemes: (plan) =>
    cpOf(plan)
      .layers.map((L, i) => ({ layer: `${plan.layers[i]?.name} (#${i})`, layerIndex: i, scheme: checkpointScheme(L.checkpoints) }))
      .filter((s) => s.scheme.jobs > 0),
};

/**
 * A property of our own, checked beside japari's at every seek: a seek never resumes past the table.
 * @type {import('japari').UserProperty[]}
 */
export const properties = [
  {
    id: 'checkpoint-within-table',
    description: 'the seeker resumes at a checkpoint of the layer (never beyond its table)',
    atSeek: (c) => {
      const L = /** @type {LayerTable} */ (cpOf(c.deployment.plan).layers[c.layer]);
      return c.job > L.checkpoints ? `resumed at checkpoint ${c.job} of ${L.checkpoints}` : null;
    },
  },
];

export default design;
