/**
 * `japari models`: what can be deployed. The built-in models (always present) and the four
 * real models expected in ../shared/models, with availability, input shape, parameter count
 * and what their inputs are.
 */
import type { Command } from 'commander';
import { BUILTIN_MODELS } from '../../model/builtin.js';
import { loadModel, SHARED_MODEL_NAMES } from '../../model/models.js';
import { importOnnx } from '../../model/onnx.js';
import { paramCount, shapeStr } from '../../model/ir.js';
import { SHARED_MODELS, sharedAvailable, sharedDir, sharedPath, type SharedModelName } from '../../util/shared.js';
import { InputError } from '../../util/errors.js';
import { stableStringify } from '../../util/json.js';
import type { Io } from '../io.js';
import { createStyle } from '../style.js';
import { fmtCount } from '../units.js';
import { type CommandContext, EXIT_OK } from '../command.js';

export const name = 'models';

export interface ModelsOptions {
  readonly json: boolean;
}

export interface ModelInfo {
  readonly name: string;
  readonly source: 'built-in' | 'shared';
  /** File under ../shared/models (shared models only). */
  readonly file?: string;
  readonly available: boolean;
  /** Why an available file could not be read (shared models only). */
  readonly error?: string;
  /** Batch-free input shape as the model's file states it (what `run --input file.json` expects); null when unavailable. */
  readonly input_shape: readonly number[] | null;
  readonly params: number | null;
  /** Stored sample inputs (`run --input N` picks one); 0 when inputs are drawn from the seed N. */
  readonly samples: number;
  readonly description: string;
}

/**
 * What the shared models are (../shared/models/README.md) and where their inputs come from
 * (src/model/models.ts): only mnist-8 has real inputs (lenet's stored MNIST digits).
 */
const SHARED_DESCRIPTIONS: Record<SharedModelName, string> = {
  mnist: 'MNIST digits, ONNX model zoo CNN; inputs: the MNIST digits stored with lenet',
  har: 'UCI-HAR human activity, 6 classes, 1-D CNN; synthetic normal inputs',
  kws: 'Google Speech Commands keywords, 12 classes, fully connected; synthetic normal inputs',
  cifar10: 'CIFAR-10 images, 10 classes, SqueezeNet; synthetic normal inputs',
};

/** Every model japari knows by name, built-ins first. */
export function listModels(): ModelInfo[] {
  const out: ModelInfo[] = [];
  for (const b of BUILTIN_MODELS) {
    const m = loadModel(b.name);
    out.push({
      name: b.name,
      source: 'built-in',
      available: true,
      input_shape: [...m.net.input.shape],
      params: paramCount(m.net),
      samples: m.sampleCount,
      description: b.description,
    });
  }
  const lenetSamples = out.find((m) => m.name === 'lenet')?.samples ?? 0;
  for (const n of SHARED_MODEL_NAMES) {
    const file = SHARED_MODELS[n];
    const base = { name: n, source: 'shared' as const, file, samples: n === 'mnist' ? lenetSamples : 0, description: SHARED_DESCRIPTIONS[n] };
    if (!sharedAvailable('models', file)) {
      out.push({ ...base, available: false, input_shape: null, params: null });
      continue;
    }
    try {
      const net = importOnnx(sharedPath('models', file), { name: n });
      out.push({ ...base, available: true, input_shape: [...(net.onnxInput?.shape ?? net.input.shape)], params: paramCount(net) });
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      out.push({ ...base, available: false, error: e.message, input_shape: null, params: null });
    }
  }
  return out;
}

export async function runModels(opts: ModelsOptions, io: Io): Promise<number> {
  const models = listModels();
  if (opts.json) {
    io.out(`${stableStringify({ schema: 1, command: 'models', shared_dir: sharedDir(), models })}\n`);
    return EXIT_OK;
  }
  const s = createStyle(io);
  const rows = models.map((m) => [
    s.value(m.name),
    m.source,
    m.available ? s.ok('yes') : s.warn(m.error ? 'unreadable' : 'missing'),
    m.input_shape ? shapeStr(m.input_shape) : '-',
    m.params !== null ? fmtCount(m.params) : '-',
    m.samples > 0 ? `${m.samples} stored` : 'seeded',
    m.description,
  ]);
  io.out(
    `${s.table(
      [
        { header: 'model' },
        { header: 'source' },
        { header: 'available' },
        { header: 'input' },
        { header: 'params', align: 'right' },
        { header: 'inputs' },
        { header: 'description' },
      ],
      rows,
    )}\n`,
  );
  const missing = models.filter((m) => !m.available);
  if (missing.length > 0) {
    io.out(`\n${s.dim(`shared models are read from ${sharedPath('models')} (set JAPARI_SHARED to move it)`)}\n`);
    for (const m of missing.filter((x) => x.error)) io.out(`${s.warn(`${m.name}: ${m.error}`)}\n`);
  }
  io.out(`\n${s.dim('any other ONNX file within the supported operators: japari run --model path/to/model.onnx')}\n`);
  return EXIT_OK;
}

export function register(program: Command, ctx: CommandContext): void {
  program
    .command('models')
    .description('list the built-in and shared models (availability, input shape, parameters)')
    .option('--json', 'print one JSON document to stdout')
    .action(async (raw: { json?: boolean }) => {
      ctx.setExit(await runModels({ json: raw.json === true }, ctx.io));
    });
}
