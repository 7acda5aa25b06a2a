/**
 * Writing files so that a crash, a kill or a full disk never leaves a half-written one behind:
 * write a temporary file in the same folder, flush it to disk, then rename it over the target
 * (rename within one file system is atomic on POSIX). Readers see the old file or the new one.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

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
  }
  syncDirSync(dir);
}
