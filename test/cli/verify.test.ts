/**
 * The verification commands through main(): exit codes, JSON documents, and that a printed
 * replay token reproduces with `japari replay`.
 */
import { describe, it, expect } from 'vitest';
import { main, captureIo } from '../../src/cli/main.js';

async function run(args: string[]) {
  const io = captureIo();
  const code = await main(args, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

describe('japari fuzz / explore / replay', () => {
  it('fuzz --json on a broken engine gives a counterexample whose token replays', async () => {
    const f = await run(['fuzz', '--model', 'tiny-conv', '--engine', 'japari', '--batch', '2', '--fault', 'japari-seek-skip-one', '--seed', '3', '--runs', '50', '--json']);
    expect(f.code).toBe(1);
    const doc = JSON.parse(f.out);
    expect(doc.verdict).toBe('fail');
    expect(doc.seed).toBe(3);
    expect(doc.counterexample.property).toBe('progress-exactness');
    expect(Array.isArray(doc.counterexample.schedule)).toBe(true);
    const r = await run(['replay', doc.counterexample.replay, '--json']);
    expect(r.code).toBe(1);
    const rep = JSON.parse(r.out);
    expect(rep.properties).toContain('progress-exactness');
    expect(rep.replay).toBe(doc.counterexample.replay);
  });

  it('fuzz passes on a correct engine and prints its seed', async () => {
    const f = await run(['fuzz', '--model', 'tiny-conv', '--engine', 'hawaii', '--seed', '9', '--runs', '30']);
    expect(f.code).toBe(0);
    expect(f.out).toMatch(/PASS held for 30 guided schedule/);
    expect(f.out).toMatch(/seed 9/);
    expect(f.out).toMatch(/coverage: \d+ tuples/);
    const r = await run(['fuzz', '--model', 'tiny-conv', '--engine', 'hawaii', '--seed', '9', '--runs', '30', '--strategy', 'random', '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc.strategy).toBe('random');
    expect(doc.coverage.tuples).toBeGreaterThan(0);
    expect((await run(['fuzz', '--model', 'tiny-conv', '--strategy', 'smart'])).code).toBe(2);
  });

  it('explore --json counts every write unit and lists failing points with tokens', async () => {
    const e = await run(['explore', '--model', 'tiny-fc', '--engine', 'japari', '--batch', '1', '--workers', '1', '--json']);
    expect(e.code).toBe(1); // the published FC footprint-sign finding
    const doc = JSON.parse(e.out);
    expect(doc.points).toBe(doc.write_units);
    expect(doc.failing_points).toBeGreaterThan(0);
    expect(doc.failures[0].replay).toMatch(/^jp2\./);
    const fixed = await run(['explore', '--model', 'tiny-fc', '--engine', 'japari', '--batch', '1', '--fix', 'all', '--workers', '1', '--json']);
    expect(fixed.code).toBe(0);
    expect(JSON.parse(fixed.out).verdict).toBe('pass');
  });

  it('explore --shard splits the points', async () => {
    const a = JSON.parse((await run(['explore', '--model', 'tiny-conv', '--engine', 'hawaii', '--shard', '0/2', '--workers', '1', '--json'])).out);
    const b = JSON.parse((await run(['explore', '--model', 'tiny-conv', '--engine', 'hawaii', '--shard', '1/2', '--workers', '1', '--json'])).out);
    expect(a.points + b.points).toBe(a.write_units);
  });

  it('explore --depth 2 without --layer explores every pair of the inference and reports the reduction', async () => {
    const r = await run(['explore', '--model', 'rnd:2:g1:1', '--engine', 'japari', '--depth', '2', '--workers', '1', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.mode).toBe('depth2');
    expect(j.pairs).toBeGreaterThan(0);
    expect(j.points).toBe(j.pairs + j.write_units);
    expect(j.naive_points).toBeGreaterThan(j.points);
    expect(j.reduction_factor).toBeCloseTo(j.naive_points / j.points, 6);
    const text = await run(['explore', '--model', 'rnd:2:g1:1', '--engine', 'japari', '--depth', '2', '--workers', '2']);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(new RegExp(`${j.pairs} pairs placed of ${j.naive_points} schedules a naive enumeration places, reduction`));
  });

  it('bad usage exits 2 with one line', async () => {
    for (const args of [
      ['explore', '--depth', '4'],
      ['explore', '--shard', '3/2'],
      ['fuzz', '--runs', '5', '--time', '1s'],
      ['fuzz', '--fault', 'no-such-fault'],
      ['replay', 'not-a-token'],
      ['fuzz', '--fix', 'bogus'],
    ]) {
      const r = await run(args);
      expect(r.code).toBe(2);
      expect(r.err.trim().split('\n')).toHaveLength(1);
    }
  });
});
