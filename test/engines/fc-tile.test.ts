/**
 * FC input tiling per build (firmware.ts FcTileRule, plan.ts gemmInputTile): the rows per slice of
 * partial sums that each build's transform.py (determine_gemm_tile_sizes) gives the evaluated
 * models' FC layers, worked out by hand from the rule's text (LEA buffer 1884 words, op_filters 4):
 *  - 2021-02 ('all-partial-sums'): the largest multiple of 4 with
 *    1884 - (K + 2) - (rows + 2) * 8 >= (N + floor(N / B)) * ceil(K / rows);
 *  - 2021-08 and later ('input-and-block'): the largest multiple of 4 with
 *    (K + 2) + (rows + 3) * (4 + floor(4 / B) + 1) <= 1884 (later: rows <= 512 too).
 * mnist's FC is 256 -> 10, kws's 250 -> 144, 144 -> 144 (x2), 144 -> 12; cifar10 has no FC.
 * Every tiling still runs bit-exactly on the Q15 reference.
 */
import { describe, it, expect } from 'vitest';
import { loadModel } from '../../src/model/models.js';
import { Deployment, runInference } from '../../src/engines/runner.js';
import { msp430fr5994 } from '../../src/device/profile.js';
import { FIRMWARE, type FirmwareId, type FcTileRule } from '../../src/engines/reference/firmware.js';
import { gemmInputTile } from '../../src/engines/reference/plan.js';
import { tinyNetwork, tinySample } from '../../src/model/builtin.js';
import { quantize, quantizeInput } from '../../src/model/quantize.js';
import { sharedAvailable } from '../../src/util/shared.js';
import { ConfigError } from '../../src/util/errors.js';

const HAVE_MODELS = sharedAvailable('models');
if (!HAVE_MODELS) console.warn('fc-tile.test: ../shared/models is absent: the real-model tile checks are skipped');

const params = (engine: string, batch: number, firmware: string) => ({ engine, batch, placement: 'spi-fram' as const, profile: msp430fr5994, firmware });

/** Rows per input tile of each FC layer, in plan order. */
function fcRows(model: string, engine: string, batch: number, firmware: FirmwareId): number[][] {
  const plan = new Deployment(loadModel(model).q, params(engine, batch, firmware)).plan;
  return plan.layers.flatMap((l) => (l.kind === 'gemm' ? [l.tiles.map((t) => t.r1 - t.r0)] : []));
}

/** Expected rows per tile, by build and B (see the header). */
const EXPECTED: Record<string, Record<FirmwareId, Record<number, number[][]>>> = {
  mnist: {
    'stateful-cnn-2021-02': { 1: [[196, 60]], 2: [[196, 60]], 4: [[196, 60]] },
    'stateful-cnn-2021-08': { 1: [[176, 80]], 2: [[228, 28]], 4: [[256]] },
    'stateful-cnn-later': { 1: [[176, 80]], 2: [[228, 28]], 4: [[256]] },
  },
  kws: {
    'stateful-cnn-2021-02': { 1: [[128, 122], [144], [144], [144]], 2: [[148, 102], [144], [144], [144]], 4: [[156, 94], [144], [144], [144]] },
    'stateful-cnn-2021-08': { 1: [[176, 74], [144], [144], [144]], 2: [[228, 22], [144], [144], [144]], 4: [[248, 2], [144], [144], [144]] },
    'stateful-cnn-later': { 1: [[176, 74], [144], [144], [144]], 2: [[228, 22], [144], [144], [144]], 4: [[248, 2], [144], [144], [144]] },
  },
  cifar10: {
    'stateful-cnn-2021-02': { 1: [], 2: [], 4: [] },
    'stateful-cnn-2021-08': { 1: [], 2: [], 4: [] },
    'stateful-cnn-later': { 1: [], 2: [], 4: [] },
  },
};

describe.skipIf(!HAVE_MODELS)('FC input tiles of the evaluated models follow each build\'s transform.py rule', () => {
  for (const model of Object.keys(EXPECTED)) {
    it(`${model}: every build, B = 1, 2, 4, every reference engine`, () => {
      for (const [fw, byB] of Object.entries(EXPECTED[model]!) as [FirmwareId, Record<number, number[][]>][]) {
        for (const [b, rows] of Object.entries(byB)) {
          // The rule depends on the build and B, never on the engine.
          for (const engine of ['continuous', 'hawaii', 'japari']) expect([model, fw, engine, b, fcRows(model, engine, Number(b), fw)]).toEqual([model, fw, engine, b, rows]);
        }
      }
    });
  }

  it('mnist B = 4: two slices on 2021-02, one slice of 256 on 2021-08; both bit-exact on the Q15 reference', () => {
    const m = loadModel('mnist');
    for (const fw of ['stateful-cnn-2021-02', 'stateful-cnn-2021-08'] as const) {
      const r = runInference(new Deployment(m.q, params('japari', 4, fw)), { input: m.inputQ(0), supply: { kind: 'continuous' }, seed: 1 });
      expect(r.completed).toBe(true);
      expect(Array.from(r.output)).toEqual(Array.from(r.reference));
    }
  });
});

describe('gemmInputTile', () => {
  const R = (id: FirmwareId): FcTileRule => FIRMWARE[id].transform.fcTile;

  it('each build names the stored transform.py it was read from', () => {
    expect(R('stateful-cnn-2021-02').source).toMatch(/^EMCLab-Sinica\/Stateful-CNN@672ed9a:dnn-models\/transform\.py/);
    expect(R('stateful-cnn-2021-08').source).toMatch(/^EMCLab-Sinica\/Stateful-CNN@37708ef:dnn-models\/transform\.py/);
    expect(R('stateful-cnn-later').source).toMatch(/^EMCLab-Sinica\/Stateful-CNN@7cc00fb:dnn-models\/transform\.py/);
  });

  it('the 512-row DMA cap of the later code, the pState cap of the 2021 code', () => {
    // har's dense layer: 1152 inputs, 6 outputs.
    expect(gemmInputTile(R('stateful-cnn-later'), 1152, 6, 4, 4, 1884, 'x')).toBe(116);
    expect(gemmInputTile(R('stateful-cnn-2021-08'), 1152, 6, 4, 4, 1884, 'x')).toBe(116);
    // A small input: the whole input when it is a multiple of op_filters; with a DMA cap of 512 rows, 512 at most.
    expect(gemmInputTile(R('stateful-cnn-later'), 64, 4, 4, 1, 1884, 'x')).toBe(64);
    expect(gemmInputTile({ ...R('stateful-cnn-later'), dmaRows: 8 }, 64, 4, 4, 1, 1884, 'x')).toBe(8);
    expect(gemmInputTile({ ...R('stateful-cnn-2021-02'), pstateWords: 48 }, 64, 4, 4, 1, 1884, 'x')).toBe(8);
  });

  it('fewer inputs than op_filters: one tile of all of them (transform.py would never leave its loop)', () => {
    for (const id of ['stateful-cnn-2021-02', 'stateful-cnn-2021-08', 'stateful-cnn-later'] as const) expect(gemmInputTile(R(id), 3, 5, 4, 1, 1884, 'x')).toBe(3);
  });

  it('no tile fits: a ConfigError that names the rule', () => {
    expect(() => gemmInputTile(R('stateful-cnn-2021-02'), 200, 800, 4, 1, 1884, 'node fc')).toThrow(ConfigError);
    expect(() => gemmInputTile(R('stateful-cnn-2021-08'), 1900, 4, 4, 1, 1884, 'node fc')).toThrow(/all-partial-sums|input-and-block/);
  });

  it('tiny-fc runs bit-exactly under every build at B = 1, 2, 4', () => {
    const net = tinyNetwork('tiny-fc', 7);
    const q = quantize(net, [1, 2, 3, 4].map((s) => tinySample(net, s)));
    const x = quantizeInput(tinySample(net, 99), q.exps.get(net.input.name)!);
    for (const fw of Object.keys(FIRMWARE)) {
      for (const b of [1, 2, 4]) {
        const r = runInference(new Deployment(q, params('japari', b, fw)), { input: x, supply: { kind: 'continuous' }, seed: 1 });
        expect(Array.from(r.output)).toEqual(Array.from(r.reference));
      }
    }
  });
});
