/**
 * One small error hierarchy. Expected outcomes (a brown-out, an `unknown` verdict, a failed
 * property) are data, never exceptions; these classes are for bad input and for bugs.
 * Only the CLI maps them to exit codes (UsageError/InputError -> 2).
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
