/**
 * The CLI's only contact with the process: two output streams, whether stdout is a terminal,
 * the environment and the working folder. Commands take an Io, so tests run them in-process
 * with `captureIo()` and never spawn japari.
 */

export interface Io {
  /** Write to standard output, verbatim (callers add newlines). */
  out(s: string): void;
  /** Write to standard error, verbatim. */
  err(s: string): void;
  /** Whether standard output is a terminal (colour and layout decisions). */
  readonly isTTY: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Relative paths on the command line resolve against this folder. */
  readonly cwd: string;
}

/** The real process streams. */
export function realIo(): Io {
  return {
    out: (s) => void process.stdout.write(s),
    err: (s) => void process.stderr.write(s),
    isTTY: process.stdout.isTTY === true,
    env: process.env,
    cwd: process.cwd(),
  };
}

export interface CapturedIo extends Io {
  /** Everything written to stdout so far. */
  stdout(): string;
  /** Everything written to stderr so far. */
  stderr(): string;
}

/** An Io that records output (for tests). Not a terminal, empty environment, unless told. */
export function captureIo(o: { isTTY?: boolean; env?: Record<string, string | undefined>; cwd?: string } = {}): CapturedIo {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out: (s) => void out.push(s),
    err: (s) => void err.push(s),
    isTTY: o.isTTY ?? false,
    env: o.env ?? {},
    cwd: o.cwd ?? process.cwd(),
    stdout: () => out.join(''),
    stderr: () => err.join(''),
  };
}
