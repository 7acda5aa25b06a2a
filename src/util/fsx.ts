/**
 * Writing files so that a crash, a kill or a full disk never leaves a half-written one behind:
 * write a temporary file in the same folder, flush it to disk, then rename it over the target
 * (rename within one file system is atomic on POSIX). Readers see the old file or the new one.
 *
 * Report sets (`ReportSet`) extend this to a folder of files written together (bench, reports,
 * counterexample reports): every file goes into a temporary sibling folder first, and only when
 * the set is complete are the files renamed into place, in one synchronous loop with SIGINT and
 * SIGTERM deferred, so a kill never leaves a folder that mixes old and new files.
 *
 * Temporary files and folders are tracked: they are removed when the process exits (normally or
 * by an uncaught error), and, under bin/japari.js's supervisor (which runs such commands in a
 * child process), also when the child is killed by a signal: the child reports every temporary
 * path to the supervisor over IPC, and the supervisor removes what is left.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync, unlinkSync, writeSync, accessSync, constants as fsConstants } from 'node:fs';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { UsageError } from './errors.js';

// ---------------------------------------------------------------------------------------------
// Temporary paths: tracked until renamed or removed.

const temps = new Set<string>();
let exitHookInstalled = false;

/** Messages to bin/japari.js's supervisor (see the header). */
export interface TempMessage {
  readonly japariTemp: 'add' | 'remove';
  readonly path: string;
}

function tellSupervisor(m: TempMessage): void {
  if (typeof process.send === 'function' && process.env['JAPARI_SUPERVISED'] === '1' && process.connected) {
    try {
      process.send(m);
    } catch {
      // The supervisor is gone; the exit hook still cleans up.
    }
  }
}

/** Remove every tracked temporary path now (synchronous: runs in the 'exit' hook). */
export function removeTempPaths(): void {
  for (const p of temps) {
    try {
      rmSync(p, { recursive: true, force: true });
    } catch {
      // best effort: nothing else can be done at exit
    }
  }
  temps.clear();
}

/** Track a temporary path (removed at exit unless released first). */
export function trackTemp(path: string): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', removeTempPaths);
  }
  temps.add(path);
  tellSupervisor({ japariTemp: 'add', path });
}

/** The path is no longer temporary (renamed into place or removed). */
export function releaseTemp(path: string): void {
  temps.delete(path);
  tellSupervisor({ japariTemp: 'remove', path });
}

/** Temporary paths currently tracked (tests). */
export function trackedTemps(): string[] {
  return [...temps];
}

let counter = 0;

/** A sibling name no concurrent writer in this process or another one picks. */
function tempPathFor(target: string): string {
  counter = (counter + 1) >>> 0;
  return join(dirname(target), `.${basename(target)}.${process.pid}.${counter}.tmp`);
}

function toBytes(data: string | Uint8Array): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

/** Make the rename itself durable: fsync the folder (best effort; not every platform allows it). */
function syncDirSync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Folders cannot be opened or fsynced on some platforms (Windows); the rename still happened.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Atomically replace `path` with `data`, creating missing parent folders. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const target = resolve(path);
  const dir = dirname(target);
  await mkdir(dir, { recursive: true });
  const tmp = tempPathFor(target);
  const bytes = toBytes(data);
  trackTemp(tmp);
  try {
    const fh = await open(tmp, 'wx', 0o644);
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, target);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  } finally {
    releaseTemp(tmp);
  }
  syncDirSync(dir);
}

/** The synchronous twin of `writeFileAtomic`. */
export function writeFileAtomicSync(path: string, data: string | Uint8Array): void {
  const target = resolve(path);
  const dir = dirname(target);
  mkdirSync(dir, { recursive: true });
  const tmp = tempPathFor(target);
  const bytes = toBytes(data);
  trackTemp(tmp);
  try {
    const fd = openSync(tmp, 'wx', 0o644);
    try {
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, target);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // the temporary file was never created, or is already gone
    }
    throw e;
  } finally {
    releaseTemp(tmp);
  }
  syncDirSync(dir);
}

// ---------------------------------------------------------------------------------------------
// Output paths: validated before any work starts.

/** The nearest existing ancestor of `path` (itself included). */
function nearestExisting(path: string): string {
  let p = resolve(path);
  while (!existsSync(p)) {
    const up = dirname(p);
    if (up === p) break;
    p = up;
  }
  return p;
}

/** Can a folder (or file) be created at `path`? Checks the nearest existing ancestor. */
function checkCreatable(path: string, option: string, what: string): void {
  const anc = nearestExisting(dirname(resolve(path)));
  if (!statSync(anc).isDirectory()) throw new UsageError(`${option} ${path}: ${anc} is a file, so the ${what} cannot be created under it`);
  try {
    accessSync(anc, fsConstants.W_OK);
  } catch {
    throw new UsageError(`${option} ${path}: the folder ${anc} is not writable`);
  }
}

/**
 * A report folder given on the command line (--out, --report): absent, or an existing folder;
 * never an existing file, and never the working folder itself or one of its ancestors (the
 * report set moves files into it; it must be a folder of its own). Exit 2 before any work.
 */
export function validateOutputDir(path: string, option: string, cwd: string = process.cwd()): void {
  const abs = resolve(cwd, path);
  if (existsSync(abs)) {
    if (!statSync(abs).isDirectory()) throw new UsageError(`${option} ${path}: exists and is not a folder (give a folder for the report files)`);
    const rel = relative(abs, resolve(cwd));
    if (rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep))) throw new UsageError(`${option} ${path}: is the working folder or contains it; give the report a folder of its own`);
    try {
      accessSync(abs, fsConstants.W_OK);
    } catch {
      throw new UsageError(`${option} ${path}: the folder is not writable`);
    }
    return;
  }
  checkCreatable(abs, option, 'folder');
}

/** An output file given on the command line (--html): absent or a regular file, in a creatable folder. */
export function validateOutputFile(path: string, option: string, cwd: string = process.cwd()): void {
  const abs = resolve(cwd, path);
  if (existsSync(abs) && statSync(abs).isDirectory()) throw new UsageError(`${option} ${path}: is a folder (give a file name, e.g. report.html)`);
  checkCreatable(abs, option, 'file');
}

// ---------------------------------------------------------------------------------------------
// Report sets

let setCounter = 0;

/**
 * Files written together into one folder. `write` puts each file into a temporary sibling folder
 * (`.NAME.PID.N.tmp`, ignored by git); `commit` renames them all into the target folder at
 * once; `abort` (or exiting without committing) removes the temporary folder. Files of the
 * target folder that the set does not write are left alone.
 */
export class ReportSet {
  readonly dir: string;
  readonly tmp: string;
  private readonly files = new Map<string, string>();
  private open = true;

  constructor(dir: string) {
    this.dir = resolve(dir);
    setCounter = (setCounter + 1) >>> 0;
    this.tmp = join(dirname(this.dir), `.${basename(this.dir)}.${process.pid}.${setCounter}.tmp`);
    mkdirSync(dirname(this.dir), { recursive: true });
    trackTemp(this.tmp);
    mkdirSync(this.tmp, { recursive: false });
  }

  /** Write one file of the set (`rel`: a path relative to the folder). */
  write(rel: string, data: string | Uint8Array): void {
    if (!this.open) throw new Error(`report set ${this.dir} is already committed or aborted`);
    const target = resolve(this.tmp, rel);
    if (relative(this.tmp, target).startsWith('..')) throw new Error(`report file ${rel} lies outside its folder`);
    mkdirSync(dirname(target), { recursive: true });
    const fd = openSync(target, 'w', 0o644);
    try {
      const bytes = toBytes(data);
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.files.set(rel, target);
  }

  /** Relative names written so far, in the order written. */
  get written(): string[] {
    return [...this.files.keys()];
  }

  /** Move every file into the folder (absolute paths returned, sorted); the set is then closed. */
  commit(): string[] {
    if (!this.open) throw new Error(`report set ${this.dir} is already committed or aborted`);
    this.open = false;
    const out: string[] = [];
    withSignalsDeferred(() => {
      mkdirSync(this.dir, { recursive: true });
      for (const [rel, from] of [...this.files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        const to = join(this.dir, rel);
        mkdirSync(dirname(to), { recursive: true });
        renameSync(from, to);
        out.push(to);
      }
      syncDirSync(this.dir);
      rmSync(this.tmp, { recursive: true, force: true });
    });
    releaseTemp(this.tmp);
    return out;
  }

  /** Drop the set: nothing of it reaches the folder. */
  abort(): void {
    if (!this.open) return;
    this.open = false;
    rmSync(this.tmp, { recursive: true, force: true });
    releaseTemp(this.tmp);
  }
}

/**
 * Run `fn` (synchronous) with SIGINT and SIGTERM held back: a listener makes Node queue them
 * instead of dying mid-loop; once `fn` is done the queued signal is raised again, so Ctrl-C
 * still ends the command, just after the files are in place.
 */
export function withSignalsDeferred<T>(fn: () => T): T {
  let got: NodeJS.Signals | null = null;
  const hold = (s: NodeJS.Signals) => {
    got = s;
  };
  process.on('SIGINT', hold);
  process.on('SIGTERM', hold);
  try {
    return fn();
  } finally {
    // Signal callbacks run in the poll phase, before this check-phase callback.
    setImmediate(() => {
      process.off('SIGINT', hold);
      process.off('SIGTERM', hold);
      if (got) process.kill(process.pid, got);
    });
  }
}
