/**
 * What Stateful's half-scale storage costs in accuracy (reports/verification/stateful-accuracy.*):
 * per model, the top-1 agreement of the bit-exact Q15 reference with the float network, with
 * full-scale storage (every other engine) and with Stateful's half-scale storage (one bit of
 * precision less per value: src/engines/stateful/half.ts), and the agreement of the two Q15
 * top-1s with each other; on models with labelled samples also the accuracy.
 *
 * Both Q15 outputs are the deployments' own references (Deployment.reference: the plan's
 * network and arithmetic), which the engines equal bit for bit on every run checked
 * (test/engines/stateful.test.ts); no engine is run here, so the figures do not depend on power.
 */
import { loadModel, SHARED_MODEL_NAMES } from '../model/models.js';
import { runFloat, argmax } from '../model/float.js';
import { argmaxQ15 } from '../model/q15.js';
import { Deployment } from '../engines/runner.js';
import { msp430fr5994 } from '../device/profile.js';
import { sharedAvailable, SHARED_MODELS } from '../util/shared.js';
import { stableStringify } from '../util/json.js';
import { REPORT_SCHEMA, type Producer, type ReportFile } from './canonical.js';

/** Inputs per model: every stored sample, or this many seeded synthetic inputs. */
export const ACCURACY_SYNTHETIC_INPUTS = 128;

export interface AccuracyRow {
  readonly model: string;
  readonly inputs: number;
  readonly input_kind: 'sample' | 'synthetic';
  /** Inputs whose Q15 top-1 equals the float network's: full-scale and half-scale storage. */
  readonly full_agrees_float: number;
  readonly half_agrees_float: number;
  /** Inputs where the two Q15 top-1s are equal. */
  readonly half_agrees_full: number;
  /** Correct top-1 on labelled samples (absent for synthetic inputs). */
  readonly labelled?: { readonly float: number; readonly full: number; readonly half: number };
}

/** The agreement figures of one model (`inputs`: how many; default every stored sample or 128 seeds). */
export function statefulAccuracyRow(model: string, inputs?: number): AccuracyRow {
  const m = loadModel(model);
  const n = inputs ?? (m.sampleCount > 0 ? m.sampleCount : ACCURACY_SYNTHETIC_INPUTS);
  const params = { batch: 1, placement: 'spi-fram' as const, profile: msp430fr5994 };
  const full = new Deployment(m.q, { ...params, engine: 'continuous' });
  const half = new Deployment(m.q, { ...params, engine: 'stateful' });
  let fullF = 0;
  let halfF = 0;
  let both = 0;
  const labels = { float: 0, full: 0, half: 0 };
  let labelled = 0;
  let kind: 'sample' | 'synthetic' = 'synthetic';
  for (let i = 0; i < n; i++) {
    const inp = m.input(i);
    kind = inp.kind;
    const f = argmax(runFloat(m.net, inp.x).get(m.net.output)!);
    const x = m.inputQ(i);
    const a = argmaxQ15(full.reference(x));
    const b = argmaxQ15(half.reference(x));
    if (a === f) fullF++;
    if (b === f) halfF++;
    if (a === b) both++;
    if (inp.label !== undefined) {
      labelled++;
      if (f === inp.label) labels.float++;
      if (a === inp.label) labels.full++;
      if (b === inp.label) labels.half++;
    }
  }
  return {
    model,
    inputs: n,
    input_kind: kind,
    full_agrees_float: fullF,
    half_agrees_float: halfF,
    half_agrees_full: both,
    ...(labelled === n && n > 0 ? { labelled: labels } : {}),
  };
}

/** lenet and every shared model present. */
export function accuracyModels(): string[] {
  return ['lenet', ...SHARED_MODEL_NAMES.filter((s) => sharedAvailable('models', SHARED_MODELS[s]))];
}

const pct = (k: number, n: number) => `${k}/${n} (${((100 * k) / n).toFixed(1)}%)`;

export function statefulAccuracyFiles(rows: readonly AccuracyRow[]): ReportFile[] {
  const missing = SHARED_MODEL_NAMES.filter((s) => !rows.some((r) => r.model === s));
  const json = { schema: REPORT_SCHEMA, kind: 'stateful-accuracy', synthetic_inputs: ACCURACY_SYNTHETIC_INPUTS, rows, ...(missing.length > 0 ? { missing_shared_models: missing } : {}) };
  const md = [
    '# Stateful: what half-scale storage costs in top-1 agreement',
    '',
    `Stateful keeps every stored value at half scale (v/2, one bit of precision less) so that a state offset of +-0x4000 fits beside it (algorithms.md "Stateful"; src/engines/stateful/half.ts). The table gives, per model, how often the top-1 of the bit-exact Q15 reference equals the float network's: with full-scale storage (HAWAII, JAPARI, continuous) and with Stateful's half-scale storage, and how often the two Q15 top-1s agree. Both are the deployments' references, which the engines equal bit for bit (test/engines/stateful.test.ts). Inputs: every stored sample (lenet, mnist: labelled MNIST digits), otherwise seeded synthetic inputs 0..${ACCURACY_SYNTHETIC_INPUTS - 1} (the models' \`--input\` seeds).`,
    '',
    '| model | inputs | Q15 full scale = float | Q15 half scale (Stateful) = float | half = full | labelled accuracy (float / full / half) |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.model} | ${r.inputs} ${r.input_kind === 'sample' ? 'samples' : 'synthetic'} | ${pct(r.full_agrees_float, r.inputs)} | ${pct(r.half_agrees_float, r.inputs)} | ${pct(r.half_agrees_full, r.inputs)} | ${r.labelled ? `${pct(r.labelled.float, r.inputs)} / ${pct(r.labelled.full, r.inputs)} / ${pct(r.labelled.half, r.inputs)}` : 'n/a'} |`,
    ),
    '',
    ...(missing.length > 0 ? [`Shared models absent when this was generated (skipped): ${missing.join(', ')}.`, ''] : []),
    'Regenerate with `npm run reports` (producer `stateful-accuracy`).',
    '',
  ].join('\n');
  // Without every shared model the report lacks rows: never compared, never written over a complete one.
  const partial = missing.length > 0 ? { partial: true } : {};
  return [
    { path: 'verification/stateful-accuracy.json', content: stableStringify(json, 2) + '\n', ...partial },
    { path: 'verification/stateful-accuracy.md', content: md, ...partial },
  ];
}

export const statefulAccuracyProducer: Producer = {
  id: 'stateful-accuracy',
  description: "Stateful's half-scale storage: Q15 top-1 agreement with and without it, per model (reports/verification/stateful-accuracy.*)",
  produce(onProgress) {
    const models = accuracyModels();
    const rows = models.map((model, i) => {
      onProgress?.(model, i, models.length);
      return statefulAccuracyRow(model);
    });
    return statefulAccuracyFiles(rows);
  },
};
