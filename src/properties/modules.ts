/**
 * Engine modules: an ES module of the user's that exports a design (EngineDesign, as its default
 * export or as `design`) and optionally `properties` (UserProperty[]). Loading one registers the
 * design under its kind, tagged with the module's path and SHA-256 (replay tokens carry both, so
 * replaying against a changed module is refused), and registers its properties.
 *
 * Worker threads (exploration campaigns, bench pools) load the same modules: the paths travel in
 * the environment variable JAPARI_ENGINE_MODULES, which a worker inherits from the thread that
 * created it.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type EngineDesign, registerEngine, designOf, hasEngine } from '../engines/designs.js';
import { registerProperty, type UserProperty } from './properties.js';
import { UsageError } from '../util/errors.js';

export const MODULES_ENV = 'JAPARI_ENGINE_MODULES';

export interface LoadedEngineModule {
  readonly path: string;
  readonly sha256: string;
  readonly design: EngineDesign;
  readonly properties: readonly UserProperty[];
}

const loaded = new Map<string, LoadedEngineModule>();

/** The SHA-256 of a module file (what tokens record). */
export function moduleHash(path: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new UsageError(`engine module ${path}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Load an engine module and register what it exports. `expectSha256`: refuse a module whose
 * content changed since a token was made. Loading the same file twice is a no-op.
 */
export async function loadEngineModule(path: string, expectSha256?: string): Promise<LoadedEngineModule> {
  const abs = resolve(path);
  const sha256 = moduleHash(abs);
  if (expectSha256 !== undefined && sha256 !== expectSha256) {
    throw new UsageError(`engine module ${abs} has changed: its sha256 is ${sha256.slice(0, 12)}..., the token was made with ${expectSha256.slice(0, 12)}...; refusing to replay against a different engine`);
  }
  const hit = loaded.get(abs);
  if (hit && hit.sha256 === sha256) return hit;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(abs).href)) as Record<string, unknown>;
  } catch (e) {
    throw new UsageError(`engine module ${abs}: cannot import it: ${(e as Error).message.split('\n')[0]}`);
  }
  const design = (mod['default'] ?? mod['design']) as EngineDesign | undefined;
  if (!design || typeof design !== 'object' || typeof design.kind !== 'string') {
    throw new UsageError(`engine module ${abs} exports no design (export default { kind, plan, engine, inspector, ... })`);
  }
  const registered = registerEngine({ ...design, module: { path: abs, sha256 } });
  const props = mod['properties'];
  if (props !== undefined && !Array.isArray(props)) throw new UsageError(`engine module ${abs}: 'properties' must be an array of properties`);
  const properties = (props ?? []) as UserProperty[];
  for (const p of properties) registerProperty(p);
  const out = { path: abs, sha256, design: registered, properties };
  loaded.set(abs, out);
  process.env[MODULES_ENV] = JSON.stringify([...loaded.keys()]);
  return out;
}

/** The modules loaded so far (paths). */
export function loadedEngineModules(): readonly LoadedEngineModule[] {
  return [...loaded.values()];
}

/** In a worker thread: load the modules the creating thread had loaded. */
export async function loadModulesFromEnv(): Promise<void> {
  const raw = process.env[MODULES_ENV];
  if (!raw) return;
  for (const p of JSON.parse(raw) as string[]) await loadEngineModule(p);
}

/**
 * Make sure the design a token names is registered: a built-in, or a module the token records
 * (loaded from `override` when given -- a moved file -- and checked against the recorded hash).
 */
export async function ensureTokenEngine(engine: string, module: { readonly path: string; readonly sha256: string } | undefined, override?: string): Promise<void> {
  if (module) {
    if (hasEngine(engine)) {
      const d = designOf(engine);
      if (d.module && d.module.sha256 !== module.sha256 && override === undefined) {
        throw new UsageError(`the token's engine ${engine} was made with module sha256 ${module.sha256.slice(0, 12)}..., the loaded ${d.module.path} has ${d.module.sha256.slice(0, 12)}...; refusing to replay against a different engine`);
      }
      if (d.module && d.module.sha256 === module.sha256) return;
    }
    await loadEngineModule(override ?? module.path, module.sha256);
    if (!hasEngine(engine)) throw new UsageError(`engine module ${override ?? module.path} does not register engine ${engine}`);
    return;
  }
  if (!hasEngine(engine)) designOf(engine); // throws the usage error naming the known engines
}
