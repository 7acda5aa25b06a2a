/**
 * The committed canonical reports are up to date: regenerating them gives the same bytes.
 * (Each producer that needs ../shared skips the parts it cannot generate.)
 */
import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { generateReports, PRODUCERS, registerProducer } from '../src/report/canonical.js';
import '../src/report/producers.js';
import { projectRoot } from '../src/util/shared.js';

describe('canonical reports', () => {
  // The verification of lenet on stateful-cnn-2021-08 explores about 543,000 failure points (HAWAII
  // published prunes little under the Aug 2021 recording): several minutes on one core.
  it('findings and the default model\'s verification are not stale', async () => {
    const r = await generateReports(join(projectRoot(), 'reports'), { check: true, only: ['findings', 'verification'] });
    expect(r.stale).toEqual([]);
    expect(r.unchanged.length).toBeGreaterThan(10);
  }, 900_000);

  it('every producer has an id and a description', () => {
    for (const p of PRODUCERS) expect(p.id.length * p.description.length).toBeGreaterThan(0);
  });

  it('a partial report (rows that need ../shared) is neither compared nor written over a committed one', async () => {
    registerProducer({ id: 'test-partial', description: 'test', produce: () => [{ path: 'x/README.md', content: 'partial\n', partial: true }] });
    const root = mkdtempSync(join(tmpdir(), 'japari-reports-'));
    const first = await generateReports(root, { check: false, only: ['test-partial'] });
    expect(first.written).toEqual(['x/README.md']); // nothing committed yet: better than nothing
    writeFileSync(join(root, 'x/README.md'), 'complete\n');
    const again = await generateReports(root, { check: false, only: ['test-partial'] });
    expect(again.skipped).toEqual(['x/README.md']);
    expect(readFileSync(join(root, 'x/README.md'), 'utf8')).toBe('complete\n');
    const check = await generateReports(root, { check: true, only: ['test-partial'] });
    expect([check.stale, check.skipped]).toEqual([[], ['x/README.md']]);
  });
});
