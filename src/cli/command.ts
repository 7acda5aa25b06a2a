/**
 * What a command module provides: `register` adds the command (its flags and help) to the
 * program; its action validates the raw flags into a typed options object and calls the
 * command's pure `runX(opts, io)`, then reports the exit code through `ctx.setExit`.
 *
 * Exit codes (the only place they are defined):
 *   0  everything ran and every check passed
 *   1  a check failed (wrong output, an inference that did not complete, ...)
 *   2  bad usage or bad input (UsageError, InputError, ConfigError, commander's own errors)
 *  70  internal error (a bug; EX_SOFTWARE from sysexits.h)
 */
import type { Command } from 'commander';
import type { Io } from './io.js';

export const EXIT_OK = 0;
export const EXIT_CHECK_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERNAL = 70;

export interface CommandContext {
  readonly io: Io;
  /** Record the command's exit code (the action's return value). */
  setExit(code: number): void;
}

export interface CommandModule {
  readonly name: string;
  register(program: Command, ctx: CommandContext): void;
}
