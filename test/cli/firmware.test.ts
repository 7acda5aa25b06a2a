/**
 * The build flags on the command line: --firmware (unknown id: exit 2 naming the builds),
 * --ablate (continuous power only), `japari plan` (per layer, one JSON document), and the
 * build carried by replay tokens.
 */
import { describe, it, expect } from 'vitest';
import { main } from '../../src/cli/main.js';
import { captureIo } from '../../src/cli/io.js';
import type { PlanReport } from '../../src/bench/plan-report.js';
import { decodeToken, encodeToken, type RunSpec } from '../../src/properties/token.js';

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo();
  const code = await main(argv, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

describe('--firmware and --ablate', () => {
  it('an unknown build is exit 2 naming the builds, on every command that takes it', async () => {
    for (const cmd of [['run'], ['bench', '--quick'], ['fuzz', '--runs', '1'], ['explore'], ['prove'], ['plan']]) {
      const r = await cli(...cmd, '--firmware', 'stateful-cnn-1999');
      expect([cmd[0], r.code]).toEqual([cmd[0], 2]);
      expect(r.err).toContain('stateful-cnn-2021-02, stateful-cnn-2021-08, stateful-cnn-later');
    }
  });

  it('run: the build and the ablation are in the report; an ablated run under a capacitor is exit 2', async () => {
    const r = await cli('run', '--model', 'lenet', '--engine', 'hawaii', '--batch', '2', '--firmware', 'stateful-cnn-2021-02', '--ablate', 'indicator-preservation', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { firmware: string; ablate: string; latency_s: number; equal: boolean };
    expect([j.firmware, j.ablate, j.equal]).toEqual(['stateful-cnn-2021-02', 'indicator-preservation', true]);
    expect(j.latency_s).toBeGreaterThan(0);
    const bad = await cli('run', '--model', 'lenet', '--ablate', 'output-preservation', '--capacitor', '100uF', '--power', '5mW');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('continuous power only');
    expect((await cli('bench', '--models', 'lenet', '--ablate', 'output-preservation', '--power', '5mW')).code).toBe(2);
    expect((await cli('run', '--ablate', 'everything')).code).toBe(2);
  });

  it('plan --json: one document, a row per engine layer, counts and cycles that add up', async () => {
    const r = await cli('plan', '--model', 'lenet', '--engine', 'japari', '--batch', '2', '--json');
    expect(r.code).toBe(0);
    const p = JSON.parse(r.out) as PlanReport;
    expect(p.firmware).toBe('stateful-cnn-2021-08');
    expect(p.layers.length).toBeGreaterThan(4);
    expect(p.layers.some((l) => l.kind === 'merge')).toBe(true);
    for (const l of p.layers) {
      expect(l.lea_ram_words).toBeLessThanOrEqual(p.lea_ram.words_usable);
      expect(l.dma_transfers).toBeGreaterThan(0);
    }
    const sum = p.layers.reduce((s, l) => s + l.cycles, 0);
    expect(sum).toBeLessThanOrEqual(p.total_cycles + p.layers.length); // per-layer rounding
    expect(sum).toBeGreaterThan(0.95 * p.total_cycles);
    expect(p.nvm.bytes_used).toBeLessThanOrEqual(p.nvm.bytes_available);
    const text = await cli('plan', '--model', 'lenet', '--engine', 'hawaii');
    expect(text.code).toBe(0);
    expect(text.out).toContain('indicator writes');
  });

  it('plan shows the NVM layout once (slot count x size, base addresses, origin) and each layer its slot and slot size', async () => {
    const r = await cli('plan', '--model', 'lenet', '--engine', 'japari', '--batch', '1', '--json');
    const p = JSON.parse(r.out) as PlanReport;
    expect(p.nvm.slot_bases.length).toBe(p.nvm.slots);
    p.nvm.slot_bases.forEach((b, i) => expect(b).toBe(p.nvm.slot_bases[0]! + i * p.nvm.slot_bytes));
    expect(p.nvm.layout).toContain("japari's rule");
    for (const l of p.layers) {
      expect(l.nvm_slot_bytes).toBe(p.nvm.slot_bytes);
      expect(l.nvm_output_bytes).toBeLessThanOrEqual(l.nvm_slot_bytes);
    }
    const text = await cli('plan', '--model', 'lenet');
    expect(text.out).toContain(`${p.nvm.slots} slots x `);
    expect(text.out).toContain('NVM layout: ');
    expect(text.out).toContain('NVM slot:bytes/size');
  });

  it('plan: a network that does not fit its NVM slots is exit 2, one line naming the tensor and the bytes', async () => {
    // 64 x 64 x 64 conv outputs: 524,288 bytes per slot, 3 slots: more than the 512 KiB SPI FRAM.
    const big = await cli('plan', '--model', 'rnd:64x64x64:c64k1s1p0:1', '--engine', 'hawaii');
    expect(big.code).toBe(2);
    expect(big.err.trim().split('\n')).toHaveLength(1);
    expect(big.out).toBe('');
    expect(big.err).toMatch(/tensor \S+ needs 524288 bytes in each of 3 NVM slots .*spi-fram has 524288/);
  });

  it('replay tokens carry the build; a token without it decodes to the build before build profiles', () => {
    const spec: RunSpec = { model: 'lenet', engine: 'hawaii', batch: 2, placement: 'spi-fram', profile: 'inas2021', faults: [], fixes: [], input: 1, warmup: [], seed: 3, garbage: { kind: 'random' }, schedule: [5] };
    expect(decodeToken(encodeToken({ ...spec, firmware: 'stateful-cnn-2021-02' })).firmware).toBe('stateful-cnn-2021-02');
    expect(decodeToken(encodeToken(spec)).firmware).toBeUndefined();
    expect(encodeToken({ ...spec, firmware: 'stateful-cnn-later' })).toBe(encodeToken(spec));
  });
});
