import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stableStringify } from '../../src/util/json.js';
import { writeFileAtomic, writeFileAtomicSync } from '../../src/util/fsx.js';

describe('stableStringify', () => {
  it('sorts keys recursively, whatever the insertion order', () => {
    const a = { b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' } };
    const b = { a: { c: 'x', d: [3, { y: 2, z: 1 }] }, b: 1 };
    expect(stableStringify(a)).toBe(stableStringify(b));
    expect(stableStringify(a, 0)).toBe('{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}');
  });
  it('follows JSON.stringify for undefined, non-finite numbers and toJSON', () => {
    expect(stableStringify({ u: undefined, n: NaN, i: Infinity, f: () => 1, arr: [undefined] }, 0)).toBe('{"arr":[null],"i":null,"n":null}');
    expect(stableStringify({ when: { toJSON: () => 'then' } }, 0)).toBe('{"when":"then"}');
    expect(stableStringify(undefined)).toBe('null');
  });
  it('writes typed arrays as arrays and maps as objects', () => {
    expect(stableStringify({ x: new Int16Array([-32768, 32767]), m: new Map([['b', 1], ['a', 2]]) }, 0)).toBe('{"m":{"a":2,"b":1},"x":[-32768,32767]}');
  });
  it('refuses cycles and bigints', () => {
    const o: Record<string, unknown> = {};
    o['self'] = o;
    expect(() => stableStringify(o)).toThrow(/cyclic/);
    expect(() => stableStringify({ n: 1n })).toThrow(/bigint/);
  });
  it('allows the same object twice when it is not a cycle', () => {
    const shared = { k: 1 };
    expect(stableStringify([shared, shared], 0)).toBe('[{"k":1},{"k":1}]');
  });
});

describe('writeFileAtomic', () => {
  const dir = mkdtempSync(join(tmpdir(), 'japari-fsx-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('creates missing folders and replaces the file whole', async () => {
    const p = join(dir, 'a', 'b', 'report.json');
    await writeFileAtomic(p, 'first');
    await writeFileAtomic(p, 'second');
    expect(readFileSync(p, 'utf8')).toBe('second');
    writeFileAtomicSync(p, new Uint8Array([104, 105]));
    expect(readFileSync(p, 'utf8')).toBe('hi');
    expect(readdirSync(join(dir, 'a', 'b'))).toEqual(['report.json']); // no temp files left
  });

  it('leaves nothing behind when the write fails', async () => {
    const p = join(dir, 'target-is-a-folder');
    await writeFileAtomic(join(p, 'inner'), 'x'); // p is now a folder: renaming over it fails
    await expect(writeFileAtomic(p, 'y')).rejects.toThrow();
    expect(() => writeFileAtomicSync(p, 'y')).toThrow();
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
