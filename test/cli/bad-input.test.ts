/**
 * Bad input is never a green verdict and never an internal error (issue 13): every command a
 * demanding user tried -- typos in filters, unusable models, tampered replay tokens, impossible
 * physics, output paths that are files, flags that mean nothing -- ends with exit 2 and one
 * clear "japari: ..." line before any work is done, or with a correct verdict. Each `it` names
 * the command it stands for.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { captureIo } from '../../src/cli/io.js';
import { runCampaign } from '../../src/properties/campaign.js';
import { InputError, UsageError } from '../../src/util/errors.js';
import { fixesFor } from '../../src/engines/catalogue.js';
import { gemmModel, nonFiniteModel, futureOpsetModel, unsupportedOpModel, saturatingModel } from './onnx-fixtures.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'japari-bad-'));
  writeFileSync(join(dir, 'garbage.onnx'), 'this is not a protobuf at all, just text');
  writeFileSync(join(dir, 'fc.onnx'), gemmModel(1));
  writeFileSync(join(dir, 'nan.onnx'), nonFiniteModel(NaN));
  writeFileSync(join(dir, 'inf.onnx'), nonFiniteModel(Infinity));
  writeFileSync(join(dir, 'opset99.onnx'), futureOpsetModel(99));
  writeFileSync(join(dir, 'erf.onnx'), unsupportedOpModel());
  writeFileSync(join(dir, 'saturating.onnx'), saturatingModel());
  writeFileSync(join(dir, 'a-file'), 'not a folder\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(args: string[], o: { cwd?: string } = {}) {
  const io = captureIo({ cwd: o.cwd ?? dir });
  const code = await main(args, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

/** Exit 2, nothing on stdout, one "japari: ..." line on stderr matching `msg`. */
async function expectUsage(args: string[], msg: RegExp, o: { cwd?: string } = {}) {
  const r = await cli(args, o);
  const lines = r.err.split('\n').filter((l) => l !== '');
  expect({ code: r.code, out: r.out, lines: lines.length }, r.err).toEqual({ code: 2, out: '', lines: 1 });
  expect(lines[0]).toMatch(/^japari: /);
  expect(lines[0]).not.toMatch(/internal error/);
  expect(lines[0]).toMatch(msg);
  return r;
}

function tempSiblings(parent: string): string[] {
  return readdirSync(parent).filter((f) => f.endsWith('.tmp'));
}

const token = (o: unknown) => `jp2.${Buffer.from(JSON.stringify(o)).toString('base64url')}`;

describe('a verdict needs evidence: filters that select nothing are usage errors', () => {
  it('prove --layer nonexistent-layer names the layers that exist', async () => {
    await expectUsage(['prove', '--model', 'tiny-fc', '--engine', 'japari', '--layer', 'nonexistent-layer'], /--layer "nonexistent-layer" matches no layer \(layers: .*"/);
  });

  it('prove --obligation seeker-exactness on the continuous engine names its obligations', async () => {
    await expectUsage(['prove', '--model', 'tiny-fc', '--engine', 'continuous', '--obligation', 'seeker-exactness'], /continuous engine has no such obligation \(it has: augmentation-transparency, layer-commit\)/);
  });

  it('explore --depth 2 --layer 99 names the engine layers', async () => {
    await expectUsage(['explore', '--model', 'tiny-fc', '--engine', 'hawaii', '--depth', '2', '--layer', '99'], /--layer 99: tiny-fc has engine layers 0\.\.\d+ \(0 /);
  });

  it('explore --layer without --depth 2 is refused', async () => {
    await expectUsage(['explore', '--model', 'tiny-fc', '--engine', 'hawaii', '--layer', '1'], /--layer applies to --depth 2/);
  });

  it('explore --shard that selects no failure point is not a pass', async () => {
    await expectUsage(['explore', '--model', 'tiny-fc', '--engine', 'hawaii', '--shard', '999/1000', '--workers', '1'], /--shard 999\/1000 selects no failure point/);
  });

  it('prove --max-jobs 1: the bound is in the human verdict line', async () => {
    const r = await cli(['prove', '--model', 'tiny-fc', '--engine', 'japari', '--fix', 'all', '--max-jobs', '1', '--obligation', 'seeker-exactness']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/proved, 0 refuted, 0 unknown in [0-9.]+ s: PROVED for jobs <= 1 only \(--max-jobs\)/);
    await expectUsage(['prove', '--model', 'tiny-fc', '--engine', 'hawaii', '--max-jobs', '1'], /--max-jobs bounds the japari engine's obligations/);
  });

  it('bench --models garbage.onnx / nope exits 2 before anything is written', async () => {
    await expectUsage(['bench', '--models', 'garbage.onnx', '--out', 'bench-out'], /not an ONNX model/);
    await expectUsage(['bench', '--models', 'nope', '--out', 'bench-out'], /unknown model "nope"/);
    expect(existsSync(join(dir, 'bench-out'))).toBe(false);
    expect(tempSiblings(dir)).toEqual([]);
  });
});

describe('bad input is never an internal error', () => {
  it('explore (worker threads) with a malformed, missing or unsupported ONNX file, or --batch 64: exit 2', async () => {
    await expectUsage(['explore', '--model', 'garbage.onnx', '--engine', 'hawaii', '--workers', '2'], /not an ONNX model/);
    await expectUsage(['explore', '--model', 'missing.onnx', '--engine', 'hawaii', '--workers', '2'], /cannot read ONNX model .*missing\.onnx/);
    await expectUsage(['explore', '--model', 'erf.onnx', '--engine', 'hawaii', '--workers', '2'], /operator Erf is not supported/);
    await expectUsage(['explore', '--model', 'lenet', '--batch', '64', '--workers', '2'], /tiles do not fit LEA RAM/);
  });

  it('explore --model mnist --shard 0/4 without ../shared: exit 2 naming the missing file', async () => {
    const saved = process.env['JAPARI_SHARED'];
    process.env['JAPARI_SHARED'] = join(dir, 'no-shared-here');
    try {
      await expectUsage(['explore', '--model', 'mnist', '--engine', 'japari', '--shard', '0/4'], /model mnist needs \.\.\/shared\/models\/mnist-8\.onnx/);
    } finally {
      if (saved === undefined) delete process.env['JAPARI_SHARED'];
      else process.env['JAPARI_SHARED'] = saved;
    }
  });

  it('errors keep their class across the worker-thread boundary (the campaign itself, 2 workers)', async () => {
    const run = { model: join(dir, 'erf.onnx'), engine: 'hawaii' as const, batch: 1, placement: 'spi-fram' as const, profile: 'inas2021', faults: [], fixes: [], input: 1, warmup: [], seed: 0, garbage: { kind: 'random' as const } };
    await expect(runCampaign({ run, mode: 'linear', prune: true, shard: { index: 0, count: 1 } }, 2)).rejects.toBeInstanceOf(InputError);
    await expect(runCampaign({ run: { ...run, model: 'nope' }, mode: 'linear', prune: true, shard: { index: 0, count: 1 } }, 2)).rejects.toBeInstanceOf(UsageError);
  });

  it('an output path that is an existing file is exit 2 at once (bench, fuzz, explore, replay, mutants)', async () => {
    await expectUsage(['bench', '--quick', '--out', 'a-file'], /--out a-file: exists and is not a folder/);
    await expectUsage(['fuzz', '--model', 'tiny-conv', '--runs', '5', '--report', 'a-file'], /--report a-file: exists and is not a folder/);
    await expectUsage(['explore', '--model', 'tiny-conv', '--report', 'a-file'], /--report a-file: exists and is not a folder/);
    await expectUsage(['mutants', '--quick', '--out', 'a-file'], /--out a-file: exists and is not a folder/);
    await expectUsage(['mutants', '--quick', '--out', 'a-file/sub'], /a-file is a file/);
    const t = (await cli(['explore', '--model', 'tiny-fc', '--engine', 'japari', '--workers', '1', '--json'])).out;
    const tok = JSON.parse(t).failures[0].replay as string;
    await expectUsage(['replay', tok, '--report', 'a-file'], /--report a-file: exists and is not a folder/);
    await expectUsage(['replay', tok, '--html', '.'], /--html \.: is a folder/);
    expect(readFileSync(join(dir, 'a-file'), 'utf8')).toBe('not a folder\n');
  });

  it('tampered replay tokens: null, {"d":"constructor"}, extra or missing fields: exit 2', async () => {
    await expectUsage(['replay', `jp1.${Buffer.from('null').toString('base64url')}`], /not a JSON object/);
    await expectUsage(['replay', `jp1.${Buffer.from('{"d":"constructor"}').toString('base64url')}`], /missing field/);
    await expectUsage(['replay', `jp2.${Buffer.from('[1,2]').toString('base64url')}`], /not a JSON object/);
    await expectUsage(['replay', 'jp2.%%%'], /corrupted/);
  });

  it('replay tokens with negative or huge seeds and inputs, or a constructor profile: exit 2', async () => {
    const good = JSON.parse(Buffer.from((JSON.parse((await cli(['explore', '--model', 'tiny-fc', '--engine', 'japari', '--workers', '1', '--json'])).out).failures[0].replay as string).slice(4), 'base64url').toString()) as Record<string, unknown>;
    await expectUsage(['replay', token({ ...good, s: -1 })], /bad seed -1 \(expected an integer in 0\.\.4294967295\)/);
    await expectUsage(['replay', token({ ...good, s: 2 ** 40 })], /bad seed/);
    await expectUsage(['replay', token({ ...good, i: -3 })], /bad input -3/);
    await expectUsage(['replay', token({ ...good, i: 2 ** 60 })], /bad input/);
    await expectUsage(['replay', token({ ...good, w: [1.5] })], /bad warm-up inputs/);
    await expectUsage(['replay', token({ ...good, d: 'constructor' })], /bad profile "constructor"/);
    await expectUsage(['replay', token({ ...good, extra: 1 })], /unknown field/);
    await expectUsage(['replay', token({ ...good, f: [5, 3] })], /strictly ascending/);
    await expectUsage(['replay', token({ ...good, b: 0 })], /bad batch/);
  });

  it('ONNX weights that are NaN or infinite are refused naming the initializer; a newer opset is refused', async () => {
    await expectUsage(['run', '--model', 'nan.onnx'], /initializer: tensor 'W' holds 1 value\(s\) that are NaN or infinite \(first at index 3: NaN\)/);
    await expectUsage(['run', '--model', 'inf.onnx'], /tensor 'W' holds 1 value\(s\) that are NaN or infinite \(first at index 3: Infinity\)/);
    await expectUsage(['run', '--model', 'opset99.onnx'], /opset 99; japari supports opsets up to 21/);
  });

  it('ONNX weights that saturate Q15 get a warning with the count', async () => {
    const r = await cli(['run', '--model', 'saturating.onnx']);
    expect(r.err).toMatch(/^japari: warning: \d+ weight\(s\) of .*saturating\.onnx saturate Q15/m);
  });

  it('--workers 1000 is capped at the number of cores, and says so', async () => {
    const r = await cli(['explore', '--model', 'tiny-conv', '--engine', 'hawaii', '--workers', '1000']);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/japari: --workers 1000: capped at \d+, the number of cores of this machine/);
  });

  it('flags mean the same everywhere: fuzz --input 99 on lenet is refused like run --input 99', async () => {
    await expectUsage(['run', '--model', 'lenet', '--input', '99'], /--input: lenet has \d+ stored samples/);
    await expectUsage(['fuzz', '--model', 'lenet', '--input', '99', '--runs', '5'], /--input: lenet has \d+ stored samples/);
    await expectUsage(['explore', '--model', 'lenet', '--warmup', '99'], /--warmup: lenet has \d+ stored samples/);
  });

  it('prove --fix all works as in fuzz and explore; a fix of another engine is refused', async () => {
    const r = await cli(['prove', '--model', 'tiny-fc', '--engine', 'japari', '--fix', 'all', '--obligation', 'seeker-exactness', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).fixes.length).toBeGreaterThan(0);
    await expectUsage(['prove', '--model', 'tiny-fc', '--engine', 'japari', '--fix', 'hawaii-layer-remainder'], /hawaii-layer-remainder is a fix of another engine, not of japari/);
    await expectUsage(['fuzz', '--engine', 'japari', '--fix', 'hawaii-layer-remainder'], /a fix of another engine/);
  });

  it('run --engine continuous --batch 4 is refused (B means nothing to it)', async () => {
    await expectUsage(['run', '--engine', 'continuous', '--batch', '4'], /--batch: the continuous engine has no progress indicators, so B does not apply \(leave it at 1\), got 4/);
    await expectUsage(['explore', '--engine', 'continuous', '--batch', '2'], /continuous engine has no progress indicators/);
  });

  it('fuzz --model random says what varies instead of B=1, and refuses --batch', async () => {
    const r = await cli(['fuzz', '--model', 'random', '--engine', 'hawaii', '--runs', '3', '--seed', '4']);
    expect(r.err).toMatch(/fuzzing hawaii on random networks \(B in 1, 2, 4, 8; NVM spi-fram or internal-fram\)/);
    expect(r.err).not.toMatch(/B=1/);
    const j = JSON.parse((await cli(['fuzz', '--model', 'random', '--engine', 'hawaii', '--runs', '3', '--seed', '4', '--json'])).out);
    expect(j.batch).toBeUndefined();
    expect(j.varies.batch).toEqual([1, 2, 4, 8]);
    await expectUsage(['fuzz', '--model', 'random', '--batch', '2'], /--batch cannot be combined with --model random/);
  });
});

describe('an engine that fails is a counterexample, not a crash', () => {
  // 14 conv layers of distinct sizes: JAPARI's turning-point table (8 entries per slot) fills up.
  const DEEP = `rnd:1x6x6:${Array.from({ length: 14 }, (_, i) => `c${i + 1}k3s1p1`).join('/')}:5`;

  it('run: a full turning-point table is a failed check (exit 1), not exit 70', async () => {
    const r = await cli(['run', '--model', DEEP, '--engine', 'japari']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/completed +no: the engine is stuck: turning-point table full/);
  });

  it('fuzz: a completion violation with a replay token that replays (exit 1)', async () => {
    const f = await cli(['fuzz', '--model', DEEP, '--engine', 'japari', '--runs', '5', '--seed', '1', '--json']);
    expect(f.code).toBe(1);
    const doc = JSON.parse(f.out);
    expect(doc.counterexample.property).toBe('completion');
    const r = await cli(['replay', doc.counterexample.replay, '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out).properties).toEqual(['completion']);
  });

  it('explore: the uninterrupted run gets stuck -> FAIL with a completion violation and a token', async () => {
    const e = await cli(['explore', '--model', DEEP, '--engine', 'japari', '--workers', '2', '--json']);
    expect(e.code).toBe(1);
    const doc = JSON.parse(e.out);
    expect(doc.golden_violations[0].property).toBe('completion');
    expect(doc.counterexample.replay).toMatch(/^jp2\./);
    expect((await cli(['replay', doc.counterexample.replay])).code).toBe(1);
  });

  it('fuzz honours --input and --warmup', async () => {
    const f = JSON.parse((await cli(['fuzz', '--model', 'tiny-conv', '--engine', 'japari', '--batch', '2', '--fault', 'japari-seek-skip-one', '--seed', '3', '--runs', '50', '--input', '7', '--warmup', 'none', '--json'])).out);
    expect(f.input).toBe(7);
    expect(f.warmup).toEqual([]);
    expect(f.counterexample.input).toBe(7);
    expect(f.counterexample.warmup).toEqual([]);
  });
});

describe('physics', () => {
  it('run --capacitor 1nF --power 2mW: a 1 nF capacitor cannot fund one job (exit 2)', async () => {
    await expectUsage(['run', '--model', 'lenet', '--engine', 'hawaii', '--capacitor', '1nF', '--power', '2mW'], /a 1 nF capacitor \(Von 2\.8 V, Voff 2\.4 V, Vmax 3 V\) holds at most 1\.62 nJ above Voff, but the largest step of one job needs/);
  });

  it('--von above the rated maximum is refused; --vmax raises the rating', async () => {
    await expectUsage(['run', '--engine', 'hawaii', '--capacitor', '100uF', '--power', '2mW', '--von', '3.1V'], /Von 3\.1 V is above the capacitor's rated maximum 3 V/);
    await expectUsage(['run', '--engine', 'hawaii', '--capacitor', '100uF', '--power', '2mW', '--vmax', '2.6V'], /Von 2\.8 V is above the capacitor's rated maximum 2\.6 V/);
    const r = await cli(['run', '--engine', 'hawaii', '--capacitor', '100uF', '--power', '2mW', '--von', '3.1V', '--vmax', '3.3V', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).supply.capacitor).toMatchObject({ von: 3.1, vmax: 3.3 });
  });
});

describe('replay tokens that survive', () => {
  it('a token made with --model ./x.onnx replays from another folder; a moved file needs --model; a changed one is refused', async () => {
    const a = join(dir, 'maker');
    const b = join(dir, 'elsewhere');
    mkdirSync(a);
    mkdirSync(b);
    writeFileSync(join(a, 'x.onnx'), gemmModel(7));
    const e = await cli(['explore', '--model', './x.onnx', '--engine', 'japari', '--fault', 'japari-seek-skip-one', '--workers', '1', '--json'], { cwd: a });
    const doc = JSON.parse(e.out);
    const tok = (doc.counterexample?.replay ?? doc.failures[0]?.replay) as string;
    expect(tok).toMatch(/^jp2\./);
    const here = await cli(['replay', tok], { cwd: b });
    expect(here.code).toBe(1);
    renameSync(join(a, 'x.onnx'), join(b, 'moved.onnx'));
    await expectUsage(['replay', tok], /the token's model file .*x\.onnx is not here; pass --model PATH/, { cwd: b });
    const moved = await cli(['replay', tok, '--model', 'moved.onnx', '--json'], { cwd: b });
    expect(moved.code).toBe(1);
    expect(JSON.parse(moved.out).spec.model).toBe(join(b, 'moved.onnx'));
    writeFileSync(join(b, 'changed.onnx'), gemmModel(8));
    await expectUsage(['replay', tok, '--model', 'changed.onnx'], /is not the model the token was made on: its sha256 is [0-9a-f]{16}\.\.\., the token records [0-9a-f]{16}\.\.\..*refusing/, { cwd: b });
  });

  it('a passing token with an empty schedule says "none", not "fails without any power failure"', async () => {
    const tiny = (await cli(['explore', '--model', 'tiny-fc', '--engine', 'japari', '--workers', '1', '--json'])).out;
    const fields = JSON.parse(Buffer.from((JSON.parse(tiny).failures[0].replay as string).slice(4), 'base64url').toString()) as Record<string, unknown>;
    const fixed = token({ ...fields, y: fixesFor('japari'), f: [] });
    const r = await cli(['replay', fixed]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^# Counterexample: none \(the run passes\)/);
    expect(r.out).toMatch(/power fails before action\(s\): none\n/);
    expect(r.out).not.toMatch(/fails without any power failure/);
  });
});

describe('reports as a set', () => {
  it('fuzz --report writes JSON, Markdown, SVG and HTML together, leaving no temporary file', async () => {
    const r = await cli(['fuzz', '--model', 'tiny-conv', '--engine', 'japari', '--batch', '2', '--fault', 'japari-seek-skip-one', '--seed', '3', '--runs', '50', '--report', 'ce']);
    expect(r.code).toBe(1);
    expect(readdirSync(join(dir, 'ce')).sort()).toEqual(['counterexample-progress-exactness.html', 'counterexample-progress-exactness.json', 'counterexample-progress-exactness.md', 'counterexample-progress-exactness.svg']);
    expect(tempSiblings(dir)).toEqual([]);
  });

  it('without ../shared, a standard bench never replaces a complete report with a partial one', async () => {
    const out = join(dir, 'bench-committed');
    mkdirSync(out);
    writeFileSync(join(out, 'bench.json'), '{"complete": true}\n');
    const saved = process.env['JAPARI_SHARED'];
    process.env['JAPARI_SHARED'] = join(dir, 'no-shared-here');
    try {
      const r = await cli(['bench', '--engines', 'hawaii', '--batch', '1', '--capacitor', '100uF', '--power', '5mW', '--supply', 'none', '--no-min-cap', '--out', out, '--jobs', '1']);
      expect(r.code).toBe(0);
      expect(r.err).toMatch(/bench: the sweep is partial .* so the report in .* is kept/);
      expect(readdirSync(out)).toEqual(['bench.json']);
      expect(readFileSync(join(out, 'bench.json'), 'utf8')).toBe('{"complete": true}\n');
    } finally {
      if (saved === undefined) delete process.env['JAPARI_SHARED'];
      else process.env['JAPARI_SHARED'] = saved;
    }
  });
});

describe('progress on stderr, stdout clean', () => {
  it('fuzz --time: one line per tenth of the time off a terminal; --json stdout is one document', async () => {
    const r = await cli(['fuzz', '--model', 'tiny-conv', '--engine', 'hawaii', '--time', '2s', '--seed', '1', '--json']);
    expect(r.code).toBe(0);
    expect(() => JSON.parse(r.out)).not.toThrow();
    expect(r.err).toMatch(/^fuzz: \d+% \([0-9.]+\/2\) s, \d+ schedules/m);
  });
});
