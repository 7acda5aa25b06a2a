/**
 * The built-in designs, registered in the order listings show them. Importing this module (the
 * runner does) makes them available by kind (registry.ts).
 */
import { registerBuiltin } from './registry.js';
import { continuous } from './continuous/design.js';
import { hawaii } from './hawaii/design.js';
import { japari } from './japari/design.js';
import { japariLoopCount } from './japari-loopcount/design.js';
import { stateful } from './stateful/design.js';

export const BUILTIN_DESIGNS = [continuous, hawaii, japari, japariLoopCount, stateful] as const;
for (const d of BUILTIN_DESIGNS) registerBuiltin(d);

export { continuous, hawaii, japari, japariLoopCount, stateful };

// The registry's lookups, from the module that guarantees the built-in designs are registered.
export { designOf, hasEngine, engineKinds, isBuiltinEngine, checkBatch, registerEngine, verificationBuild, type EngineDesign } from './registry.js';

/** The built-in kinds, in listing order. */
export function builtinKinds(): string[] {
  return BUILTIN_DESIGNS.map((d) => d.kind);
}
