import { describe, it, expect } from 'vitest';
import { main } from '../../src/cli/main.js';
import { captureIo } from '../../src/cli/io.js';
import type { ModelInfo } from '../../src/cli/commands/models.js';
import { sharedAvailable } from '../../src/util/shared.js';

describe('japari models', () => {
  it('--json lists built-ins and shared models with availability', async () => {
    const io = captureIo();
    expect(await main(['models', '--json'], io)).toBe(0);
    const doc = JSON.parse(io.stdout()) as { models: ModelInfo[] };
    const names = doc.models.map((m) => m.name);
    expect(names).toEqual(['lenet', 'tiny-conv', 'tiny-fc', 'tiny-concat', 'tiny-strided', 'tiny-features', 'mnist', 'har', 'kws', 'cifar10']);
    const lenet = doc.models[0]!;
    expect(lenet).toMatchObject({ source: 'built-in', available: true, input_shape: [1, 28, 28], samples: 16 });
    expect(lenet.params).toBeGreaterThan(0);
    for (const m of doc.models.filter((x) => x.source === 'shared')) {
      expect(m.available).toBe(sharedAvailable('models', m.file!));
      if (m.available) expect(m.params).toBeGreaterThan(0);
      else expect(m.params).toBeNull();
    }
  });

  it('prints a table for humans', async () => {
    const io = captureIo();
    expect(await main(['models'], io)).toBe(0);
    expect(io.stdout()).toMatch(/^model\s+source\s+available\s+input\s+params/);
    expect(io.stdout()).toMatch(/^tiny-conv\s+built-in\s+yes\s+\[1, 6, 6\]/m);
  });
});
