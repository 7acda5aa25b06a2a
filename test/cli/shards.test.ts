/**
 * Campaigns split across machines: `japari explore --shard i/n --out DIR` in separate processes
 * (the built CLI, bin/japari.js, as a pod or CI job runs it), then `japari merge`, give the
 * unsharded run's result byte for byte; a rerun shard gives the same bytes; merge refuses shards
 * that do not make up one campaign. Also the CLI side of --stop-at-first and vacuous campaigns.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main, captureIo } from '../../src/cli/main.js';
import { projectRoot } from '../../src/util/shared.js';

const BIN = join(projectRoot(), 'bin', 'japari.js');
const TIMING = ['seconds', 'points_per_second', 'workers'];

/** Run the built CLI in its own process. */
function spawn(args: string[], cwd: string): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd, maxBuffer: 64 << 20, env: { ...process.env, NO_COLOR: '1' } }, (e, out, err) => {
      const code = e ? (typeof e.code === 'number' ? e.code : -1) : 0;
      resolve({ code, out, err });
    });
  });
}

async function run(args: string[], cwd: string) {
  const io = captureIo({ cwd });
  const code = await main(args, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

function withoutTiming(doc: Record<string, unknown>): Record<string, unknown> {
  const d = { ...doc };
  for (const k of TIMING) delete d[k];
  return d;
}

function onlyResult(dir: string): string {
  const files = readdirSync(dir).filter((f) => !f.endsWith('.timing.json'));
  expect(files).toHaveLength(1);
  return join(dir, files[0]!);
}

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'japari-shards-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('4 shard processes + merge == the unsharded run', () => {
  const campaign = ['explore', '--model', 'lenet', '--engine', 'japari', '--batch', '2'];

  it('lenet japari B=2: the merged result file is the unsharded one, byte for byte', async () => {
    expect(existsSync(join(projectRoot(), 'dist', 'src', 'cli', 'main.js'))).toBe(true); // npm test builds first
    const shards = join(tmp, 'lenet-shards');
    const whole = join(tmp, 'lenet-whole');
    const merged = join(tmp, 'lenet-merged');
    const runs = await Promise.all([
      ...[0, 1, 2, 3].map((i) => spawn([...campaign, '--shard', `${i}/4`, '--workers', '1', '--out', shards], tmp)),
      spawn([...campaign, '--workers', '2', '--out', whole, '--json'], tmp),
    ]);
    for (const r of runs) expect(r.code, r.err).toBe(0);
    const files = readdirSync(shards).sort();
    // Four results and four timing files, nothing half-written left behind.
    expect(files).toHaveLength(8);
    expect(files.filter((f) => /^explore-[0-9a-f]{16}-shard-[0-3]-of-4\.json$/.test(f))).toHaveLength(4);
    expect(files.filter((f) => /^explore-[0-9a-f]{16}-shard-[0-3]-of-4\.timing\.json$/.test(f))).toHaveLength(4);
    const m = await spawn(['merge', shards, '--out', merged, '--json'], tmp);
    expect(m.code, m.err).toBe(0);
    const mergedFile = onlyResult(merged);
    const wholeFile = onlyResult(whole);
    expect(mergedFile.slice(merged.length)).toBe(wholeFile.slice(whole.length));
    expect(readFileSync(mergedFile, 'utf8')).toBe(readFileSync(wholeFile, 'utf8'));
    // The JSON report too, timing fields aside.
    const a = JSON.parse(m.out) as Record<string, unknown>;
    const b = JSON.parse(runs[4]!.out) as Record<string, unknown>;
    expect(withoutTiming(a)).toEqual(withoutTiming(b));
    expect(a['verdict']).toBe('pass');
    expect(a['points']).toBe(a['write_units']);
    expect(a['torn_points']).toBeGreaterThan(0);
    expect(a['seconds']).toBeGreaterThan(0); // summed from the timing files
  });

  it('a rerun shard writes the same bytes, whatever its worker threads', async () => {
    const shards = join(tmp, 'lenet-shards');
    const name = readdirSync(shards).find((f) => /-shard-2-of-4\.json$/.test(f))!;
    const before = readFileSync(join(shards, name), 'utf8');
    const again = join(tmp, 'lenet-rerun');
    const r = await spawn([...campaign, '--shard', '2/4', '--workers', '2', '--out', again], tmp);
    expect(r.code, r.err).toBe(0);
    expect(readFileSync(join(again, name), 'utf8')).toBe(before);
    // Rerunning into the same folder replaces the file with identical bytes (a retried pod).
    const r2 = await spawn([...campaign, '--shard', '2/4', '--workers', '1', '--out', shards], tmp);
    expect(r2.code, r2.err).toBe(0);
    expect(readFileSync(join(shards, name), 'utf8')).toBe(before);
    expect(readdirSync(shards)).toHaveLength(8);
  });

  it('a failing campaign: the merge holds every failing point of the unsharded run, in order', async () => {
    const c = ['explore', '--model', 'tiny-fc', '--engine', 'japari', '--batch', '1'];
    const shards = join(tmp, 'fc-shards');
    const whole = join(tmp, 'fc-whole');
    for (const i of [0, 1, 2, 3]) expect((await run([...c, '--shard', `${i}/4`, '--workers', '1', '--out', shards], tmp)).code).toBe(1);
    const w = await run([...c, '--workers', '1', '--out', whole, '--json'], tmp);
    expect(w.code).toBe(1);
    const m = await run(['merge', ...readdirSync(shards).map((f) => join(shards, f)), '--out', join(tmp, 'fc-merged'), '--json', '--list', '1000'], tmp);
    expect(m.code, m.err).toBe(1);
    expect(readFileSync(onlyResult(join(tmp, 'fc-merged')), 'utf8')).toBe(readFileSync(onlyResult(whole), 'utf8'));
    const a = JSON.parse(m.out) as Record<string, unknown>;
    const b = JSON.parse(w.out) as Record<string, unknown>;
    expect(a['failing_points']).toBeGreaterThan(1);
    expect(withoutTiming({ ...a, failures: null })).toEqual(withoutTiming({ ...b, failures: null }));
    expect((a['failures'] as unknown[]).slice(0, 5)).toEqual(b['failures']);
    const human = await run(['merge', shards], tmp);
    expect(human.out).toMatch(/FAIL \d+ failing point\(s\) among \d+ failure points/);
    expect(human.out).toMatch(/replay: japari replay jp2\./);
  });
});

describe('merge refuses what is not one campaign (exit 2, one line saying which)', () => {
  let dir: string;
  const base = ['explore', '--model', 'tiny-conv', '--engine', 'hawaii', '--workers', '1'];
  const shardFile = (d: string, i: number, n: number) => join(d, readdirSync(d).find((f) => f.endsWith(`-shard-${i}-of-${n}.json`))!);

  beforeAll(async () => {
    dir = join(tmp, 'refuse');
    for (const [sub, extra] of [
      ['a', []],
      ['seed', ['--seed', '1']],
      ['stop', ['--stop-at-first']],
      ['three', []],
    ] as const) {
      const n = sub === 'three' ? 3 : 2;
      for (let i = 0; i < n; i++) expect((await run([...base, ...extra, '--shard', `${i}/${n}`, '--out', join(dir, sub)], tmp)).code).toBe(0);
    }
  });

  async function refused(args: string[], pattern: RegExp) {
    const r = await run(['merge', ...args], tmp);
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(pattern);
    expect(r.out).toBe('');
  }

  it('merges the complete set', async () => {
    const r = await run(['merge', join(dir, 'a')], tmp);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^PASS held at all \d+ failure points/);
  });

  it('different campaigns, naming the files and the fields that differ', async () => {
    const a0 = shardFile(join(dir, 'a'), 0, 2);
    const s1 = shardFile(join(dir, 'seed'), 1, 2);
    await refused([a0, s1], new RegExp(`${a0}.* and .*${s1}.*different campaigns.*seed 0 vs 1`));
    await refused([a0, shardFile(join(dir, 'stop'), 1, 2)], /different campaigns \(stop_at_first false vs true\)/);
  });

  it('a duplicate index, a missing index, another split', async () => {
    const copy = join(dir, 'copy');
    mkdirSync(copy, { recursive: true });
    const a0 = shardFile(join(dir, 'a'), 0, 2);
    copyFileSync(a0, join(copy, 'x.json'));
    await refused([join(dir, 'a'), join(copy, 'x.json')], /shard 0\/2 given twice/);
    await refused([shardFile(join(dir, 'a'), 1, 2)], /missing shard\(s\) 0 of 2/);
    await refused([a0, shardFile(join(dir, 'three'), 1, 3)], /shard 0\/2 but .* is shard 1\/3/);
  });

  it('damaged or foreign files', async () => {
    const a0 = shardFile(join(dir, 'a'), 0, 2);
    const edited = join(dir, 'edited.json');
    writeFileSync(edited, readFileSync(a0, 'utf8').replace('"seed": 0', '"seed": 5'));
    await refused([edited, shardFile(join(dir, 'a'), 1, 2)], /campaign_id does not match/);
    const junk = join(dir, 'junk.json');
    writeFileSync(junk, '{"schema": 1, "kind": "something-else"}');
    await refused([junk], /not a japari explore result/);
    writeFileSync(junk, 'not json');
    await refused([junk], /not JSON/);
    await refused([join(dir, 'nowhere')], /no such file or folder/);
  });
});

describe('explore --stop-at-first and vacuous campaigns on the command line', () => {
  it('--stop-at-first reports the first failing point of the whole search', async () => {
    const c = ['explore', '--model', 'tiny-fc', '--engine', 'japari', '--json'];
    const all = JSON.parse((await run([...c, '--workers', '1'], tmp)).out);
    const r = await run([...c, '--stop-at-first'], tmp);
    expect(r.code).toBe(1);
    const first = JSON.parse(r.out);
    expect(first.stop_at_first).toBe(true);
    expect(first.failing_points).toBe(1);
    expect(first.counterexample).toEqual(all.counterexample);
    expect(first.points).toBeLessThan(all.points);
    const bad = await run([...c, '--stop-at-first', '--workers', '2'], tmp);
    expect(bad.code).toBe(2);
  });

  it('a shard whose only point starts a transfer fails as vacuous', async () => {
    const c = ['explore', '--model', 'tiny-conv', '--engine', 'hawaii', '--workers', '1', '--one-parity'];
    const w = JSON.parse((await run([...c, '--shard', '0/2', '--json'], tmp)).out).write_units as number;
    const r = await run([...c, '--shard', `0/${w}`, '--json'], tmp);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.out);
    expect(doc).toMatchObject({ verdict: 'fail', vacuous: true, points: 1, torn_points: 0, failing_points: 0 });
    const human = await run([...c, '--shard', `0/${w}`], tmp);
    expect(human.code).toBe(1);
    expect(human.out).toMatch(/^FAIL vacuous: no point failed, but none of 1 failure points tore a write transfer/);
    const torn = await run([...c, '--shard', `1/${w}`], tmp);
    expect(torn.code).toBe(0);
    expect(torn.out).toMatch(/1 tore a write transfer/);
  });
});
