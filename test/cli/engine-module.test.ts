/**
 * `--engine-module`: a design of the user's own, loaded by the built CLI (bin/japari.js, as a user
 * runs it) into run, fuzz, explore (worker threads included), prove and replay; replay tokens name
 * the module and its sha256, so a changed module is refused and a moved one is found with
 * --engine-module. The modules live in a scratch folder inside the project (they import 'japari',
 * the package itself).
 */
import { describe, it, expect, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, appendFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../src/util/shared.js';

const ROOT = projectRoot();
const BIN = join(ROOT, 'bin', 'japari.js');
const built = existsSync(join(ROOT, 'dist', 'src', 'index.js'));
const scratch = join(ROOT, 'tmp', `engine-module-${process.pid}`);
const example = join(ROOT, 'examples', 'checkpoint-engine', 'engine.js');

function cli(args: string[], cwd = scratch): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd, maxBuffer: 64 << 20, env: { ...process.env, NO_COLOR: '1' } }, (e, out, err) => {
      resolve({ code: e ? ((e as { code?: number }).code ?? 70) : 0, out, err });
    });
  });
}

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe.skipIf(!built)('japari --engine-module', () => {
  mkdirSync(scratch, { recursive: true });
  // A broken variant: it counts one value too many, so a checkpoint lands before its last value.
  const broken = join(scratch, 'broken.js');
  writeFileSync(
    broken,
    readFileSync(example, 'utf8')
      .replace("export const KIND = 'example-checkpoint';", "export const KIND = 'broken-checkpoint';")
      .replace('this.counted += fresh;', 'this.counted += fresh + 1;')
      .replace("from 'japari';", "from 'japari';\n// a broken copy made by test/cli/engine-module.test.ts"),
  );

  it('run, fuzz and explore (2 worker threads) accept the example design', async () => {
    const run = await cli(['run', '--engine-module', example, '--engine', 'example-checkpoint', '--batch', '2', '--json']);
    expect(run.code, run.err).toBe(0);
    expect(JSON.parse(run.out).equal).toBe(true);
    const fz = await cli(['fuzz', '--engine-module', example, '--engine', 'example-checkpoint', '--runs', '30', '--seed', '3']);
    expect(fz.code, fz.err).toBe(0);
    const ex = await cli(['explore', '--engine-module', example, '--engine', 'example-checkpoint', '--batch', '2', '--workers', '2']);
    expect(ex.code, ex.err).toBe(0);
    expect(ex.out).toMatch(/PASS held at all \d+ failure points/);
  });

  it('help lists the flag; a missing file or a module without a design is exit 2 with one line', async () => {
    const help = await cli(['--help']);
    expect(help.out).toMatch(/--engine-module <file\.js>/);
    const missing = await cli(['run', '--engine-module', join(scratch, 'nope.js'), '--engine', 'x']);
    expect(missing.code).toBe(2);
    expect(missing.err.trim().split('\n')).toHaveLength(1);
    expect(missing.err).toMatch(/cannot read it/);
    const empty = join(scratch, 'empty.js');
    writeFileSync(empty, 'export const x = 1;\n');
    const none = await cli(['run', '--engine-module', empty]);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/exports no design/);
  });

  it('a counterexample token names the module: replay loads it, refuses it changed, finds it moved', async () => {
    const fz = await cli(['fuzz', '--engine-module', broken, '--engine', 'broken-checkpoint', '--runs', '100', '--seed', '5']);
    expect(fz.code, fz.out + fz.err).toBe(1);
    const token = /jp2\.[A-Za-z0-9_-]+/.exec(fz.out + fz.err)![0];
    const again = await cli(['replay', token], ROOT);
    expect(again.code).toBe(1);
    const moved = join(scratch, 'moved.js');
    writeFileSync(moved, readFileSync(broken));
    appendFileSync(broken, '// changed\n');
    const changed = await cli(['replay', token], ROOT);
    expect(changed.code).toBe(2);
    expect(changed.err).toMatch(/has changed: its sha256 is .* refusing to replay against a different engine/);
    renameSync(moved, join(scratch, 'moved2.js'));
    const found = await cli(['replay', token, '--engine-module', join(scratch, 'moved2.js')], ROOT);
    expect(found.code).toBe(1);
  });

  it('prove proves the example\'s declarative scheme', async () => {
    const p = await cli(['prove', '--engine-module', example, '--engine', 'example-checkpoint', '--obligation', 'indicator-distinguishability', '--timeout', '60s']);
    expect(p.code, p.out + p.err).toBe(0);
    expect(p.out).toMatch(/PROVED/);
  });
});
