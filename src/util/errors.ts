/**
 * One small error hierarchy. Expected outcomes (a brown-out, an `unknown` verdict, a failed
 * property) are data, never exceptions; these classes are for bad input and for bugs.
 * Only the CLI maps them to exit codes (UsageError/InputError/ConfigError -> 2, anything else -> 70).
 */
export class JapariError extends Error {
  override name = 'JapariError';
}

/** The user asked for something malformed: a bad flag, a malformed unit, an unknown model. */
export class UsageError extends JapariError {
  override name = 'UsageError';
}

/** The input itself is unusable: malformed ONNX, an unsupported operator, a layer that cannot be tiled. */
export class InputError extends JapariError {
  override name = 'InputError';
}

/** A configuration that cannot work on the device: tiles beyond LEA RAM, a capacitor that cannot fund one job. */
export class ConfigError extends JapariError {
  override name = 'ConfigError';
}

export function assertNever(x: never, what = 'value'): never {
  throw new JapariError(`unexpected ${what}: ${JSON.stringify(x)}`);
}

export function invariant(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new JapariError(`invariant violated: ${msg}`);
}

/**
 * An engine reached a state its design has no way out of (the seeker finds two finished jobs
 * below the end, the turning-point table is full): on a device, a hang or a reboot loop. It is a
 * property violation of the engine under test (reported as a counterexample), not a bug of japari.
 */
export class EngineStuck extends JapariError {
  override name = 'EngineStuck';
}

// ---------------------------------------------------------------------------------------------
// Errors across a worker-thread boundary. A thrown object reaches the parent thread as a plain
// Error (structured clone keeps neither the prototype nor subclass fields), so workers post
// this wire form and the parent rebuilds the same class: an InputError in a worker is still an
// InputError (exit 2) in the CLI, and only real bugs become internal errors (exit 70).

/** The classes that keep their identity across the boundary (the rest become JapariError). */
const WIRE_CLASSES = { UsageError, InputError, ConfigError, EngineStuck, JapariError } as const;
export type WireClass = keyof typeof WIRE_CLASSES;

export interface WireError {
  readonly cls: WireClass | 'Error';
  readonly message: string;
  readonly stack: string;
}

export function errorToWire(e: unknown): WireError {
  const err = e instanceof Error ? e : new Error(String(e));
  let cls: WireError['cls'] = 'Error';
  // Most specific first: every class here extends JapariError.
  for (const k of ['UsageError', 'InputError', 'ConfigError', 'EngineStuck', 'JapariError'] as const) {
    if (err instanceof WIRE_CLASSES[k]) {
      cls = k;
      break;
    }
  }
  return { cls, message: err.message, stack: err.stack ?? '' };
}

/** The same class as in the worker; `context` prefixes the message of internal errors only. */
export function errorFromWire(w: WireError, context = ''): Error {
  const Cls = w.cls === 'Error' ? null : WIRE_CLASSES[w.cls];
  const e = Cls && w.cls !== 'JapariError' ? new Cls(w.message) : new Error(context ? `${context}: ${w.message}` : w.message);
  e.stack = w.stack;
  return e;
}
