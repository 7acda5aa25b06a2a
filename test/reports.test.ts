/**
 * The committed canonical reports are up to date: regenerating them gives the same bytes.
 * (Each producer that needs ../shared skips the parts it cannot generate.)
 */
import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { generateReports, PRODUCERS } from '../src/report/canonical.js';
import '../src/report/producers.js';
import { projectRoot } from '../src/util/shared.js';

describe('canonical reports', () => {
  it('findings and the default model\'s verification are not stale', async () => {
    const r = await generateReports(join(projectRoot(), 'reports'), { check: true, only: ['findings', 'verification'] });
    expect(r.stale).toEqual([]);
    expect(r.unchanged.length).toBeGreaterThan(10);
  }, 300_000);

  it('every producer has an id and a description', () => {
    for (const p of PRODUCERS) expect(p.id.length * p.description.length).toBeGreaterThan(0);
  });
});
