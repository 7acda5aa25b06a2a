/**
 * The Z3 obligations of each engine design (the registry's proof column, src/engines/registry.ts).
 * They are attached here, keyed by the design object, because the encoders live above the
 * engines: a built-in design gets its own encoder family; a design without one gets the
 * obligations every deployment of the reference engine has (augmentation transparency of its
 * LEA layers and the model record's commit atomicity).
 */
import type { EngineDesign } from '../engines/registry.js';
import { continuous, hawaii, japari, japariLoopCount, stateful } from '../engines/designs.js';
import type { ProveContext } from './context.js';
import type { Obligation } from './obligation.js';
import { japariObligations } from './japari.smt.js';
import { hawaiiObligations } from './hawaii.smt.js';
import { loopCountObligations } from './loopcount.smt.js';
import { statefulObligations } from './stateful.smt.js';
import { augmentationObligation } from './augment.smt.js';
import { recordObligation } from './record.smt.js';
import { schemeObligations } from './scheme.smt.js';

export type ObligationBuilder = (ctx: ProveContext) => Obligation[];

const builders = new WeakMap<EngineDesign, ObligationBuilder>();

/** Attach the obligations of a design (a user's design may attach its own). */
export function attachObligations(design: EngineDesign, build: ObligationBuilder): void {
  builders.set(design, build);
}

/** Obligations every reference-engine deployment has, whatever its progress indicators. */
export function commonObligations(ctx: ProveContext): Obligation[] {
  const out: Obligation[] = [];
  for (const l of ctx.plan.layers) if (l.kind === 'conv' || l.kind === 'gemm') out.push(augmentationObligation(ctx, l));
  out.push(recordObligation(ctx));
  return out;
}

attachObligations(continuous, commonObligations);
attachObligations(hawaii, hawaiiObligations);
attachObligations(japari, japariObligations);
attachObligations(japariLoopCount, loopCountObligations);
attachObligations(stateful, statefulObligations);

/**
 * The obligations of a deployment: its design's own encoders, or for a design without them the
 * common obligations plus those of its declarative indicator schemes (scheme.smt.ts).
 */
export function obligationsFor(ctx: ProveContext): Obligation[] {
  const d = ctx.deployment.design;
  const build = builders.get(d);
  if (build) return build(ctx);
  const schemes = d.schemes ? d.schemes(ctx.plan) : [];
  return [...commonObligations(ctx), ...schemeObligations(d.kind, schemes)];
}

/** Whether a design has obligations of its own (beyond the common ones). */
export function hasOwnObligations(design: EngineDesign): boolean {
  return builders.has(design) && builders.get(design) !== commonObligations;
}
