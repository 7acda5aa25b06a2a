import { describe, it, expect } from 'vitest';
import { main } from '../../src/cli/main.js';
import { captureIo } from '../../src/cli/io.js';
import { CHECK_SECTIONS, executeCheck, renderCheck, type CheckReport, type CheckSection } from '../../src/cli/commands/check.js';

describe('japari check', () => {
  it('passes on lenet: every engine and B under continuous power, and the energy-driven runs', async () => {
    const io = captureIo();
    const code = await main(['check', '--json'], io);
    const r = JSON.parse(io.stdout()) as CheckReport;
    expect(r.sections.map((s) => s.id)).toEqual(CHECK_SECTIONS.map((s) => s.id));
    const failed = r.sections.flatMap((s) => s.results).filter((x) => x.status === 'fail');
    expect(failed).toEqual([]);
    expect(code).toBe(0);
    expect(r.passed).toBe(true);
    const names = r.sections.find((s) => s.id === 'continuous')!.results.map((x) => x.name);
    for (const e of ['continuous', 'hawaii', 'japari']) for (const b of [1, 2, 4]) expect(names).toContain(`${e} B=${b}`);
    const energy = r.sections.find((s) => s.id === 'energy')!.results;
    expect(energy.map((x) => x.name)).toEqual(['hawaii B=1', 'japari B=1', 'stateful B=1']);
    for (const x of energy) expect(x.data!['power_cycles']).toBeGreaterThan(0);
    // Exploration covers both parities on lenet and every preserving design on tiny-features.
    const explored = r.sections.find((s) => s.id === 'explore')!.results.map((x) => x.name);
    expect(explored).toEqual(expect.arrayContaining(['hawaii B=1', 'japari B=1', 'japari-loopcount B=4 on tiny-features']));
  }, 300_000);

  it('a failing section fails the check (exit 1); n/a does not', async () => {
    const sections: CheckSection[] = [
      { id: 'ok', title: 'fine', run: () => [{ name: 'a', status: 'pass', detail: '' }, { name: 'b', status: 'n/a', detail: 'not available: later' }] },
      { id: 'bad', title: 'broken', run: async () => [{ name: 'c', status: 'fail', detail: 'output differs' }] },
    ];
    const r = await executeCheck(sections);
    expect(r.counts).toEqual({ pass: 1, fail: 1, 'n/a': 1 });
    expect(r.passed).toBe(false);
    const text = renderCheck(r, { isTTY: false, env: {} });
    expect(text).toMatch(/^bad\s+c\s+FAIL\s+output differs$/m);
    expect(text).toMatch(/1 passed, 1 failed, 1 not available: FAIL/);
    const okOnly = await executeCheck([sections[0]!]);
    expect(okOnly.passed).toBe(true);
  });
});
