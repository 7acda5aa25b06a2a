/**
 * Soak campaigns (src/properties/soak.ts, `japari soak`): many inferences on one device with
 * random failures, NVM carried across them; deterministic per seed; long enough to wrap the
 * record's 8-bit version; a seeded fault that only the accumulated state exposes is caught and
 * named with a reproduction.
 */
import { describe, it, expect } from 'vitest';
import { soak } from '../../src/properties/soak.js';
import { fixesFor } from '../../src/engines/catalogue.js';
import { replaySpec } from '../../src/properties/replay.js';
import { decodeToken } from '../../src/properties/token.js';
import { main, captureIo } from '../../src/cli/main.js';

const RUN = { model: 'tiny-concat', engine: 'japari' as const, batch: 2, placement: 'spi-fram' as const, profile: 'inas2021', faults: [] as string[], fixes: fixesFor('japari') };

describe('soak', () => {
  it('holds on the corrected engine, wraps the record version, and is deterministic per seed', () => {
    const a = soak({ run: RUN, seed: 7, inferences: 40, maxFailures: 3 });
    const b = soak({ run: RUN, seed: 7, inferences: 40, maxFailures: 3 });
    expect(a.verdict).toBe('pass');
    expect(a.inferences).toBe(40);
    expect(a.failures).toBeGreaterThan(20);
    // 8 commits per inference of tiny-concat (start + 7 layers): 320 bumps of an 8-bit version.
    expect(a.versionWraps).toBeGreaterThanOrEqual(1);
    expect(a.stateFlips).toBeGreaterThan(0);
    expect(a.maxTurningPoints).toBeGreaterThan(0);
    expect({ ...b, seconds: 0 }).toEqual({ ...a, seconds: 0 });
  });

  it('catches a fault of the state that accumulates, naming the inference, with a reproduction', () => {
    const r = soak({ run: { ...RUN, faults: ['japari-no-state-negate'] }, seed: 7, inferences: 40, maxFailures: 2 });
    expect(r.verdict).toBe('fail');
    const f = r.failure!;
    expect(f.inference).toBe(r.inferences - 1);
    expect(f.violations.length).toBeGreaterThan(0);
    // The same soak stopped at that inference fails there again.
    const again = soak({ run: { ...RUN, faults: ['japari-no-state-negate'] }, seed: 7, inferences: f.inference + 1, maxFailures: 2 });
    expect(again.failure?.inference).toBe(f.inference);
    if (f.token) expect(replaySpec(decodeToken(f.token)).violations.length).toBeGreaterThan(0);
  });

  it('the CLI prints the state reached and refuses --input', async () => {
    const io = captureIo();
    expect(await main(['soak', '--model', 'tiny-concat', '--batch', '2', '--fix', 'all', '--inferences', '40', '--seed', '3', '--json'], io)).toBe(0);
    const doc = JSON.parse(io.stdout());
    expect(doc.verdict).toBe('pass');
    expect(doc.record_version_wraps).toBeGreaterThanOrEqual(1);
    expect(doc.seed).toBe(3);
    const bad = captureIo();
    expect(await main(['soak', '--input', '1'], bad)).toBe(2);
    expect(bad.stderr()).toMatch(/--input does not apply to soak/);
    const broken = captureIo();
    expect(await main(['soak', '--model', 'tiny-concat', '--batch', '2', '--fault', 'japari-no-state-negate', '--fix', 'all', '--inferences', '20', '--seed', '3'], broken)).toBe(1);
    expect(broken.stdout()).toMatch(/reproduce: japari soak .*--seed 3 --inferences \d+/);
  });
});
