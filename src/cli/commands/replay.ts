/**
 * `japari replay <token>`: re-run a counterexample exactly (model, engine, parameters, faults,
 * fixes, input, warm-up, garbage seed and schedule all come from the token) with every property
 * monitored, and print its report: violations, seeks, a trace around each power failure, and the
 * output difference. `--html` writes the self-contained HTML page, `--report` the whole set.
 *
 * The token records the model's content hash: a model file that changed since is refused, and
 * `--model PATH` says where the file is when the token was made in another folder or machine.
 *
 * Exit 1 when a property is violated (the counterexample reproduces), 0 when the run passes.
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { decodeTokenInfo, type RunSpec } from '../../properties/token.js';
import { ensureTokenEngine } from '../../properties/modules.js';
import { buildCounterexample, counterexampleMarkdown } from '../../report/counterexample.js';
import { buildForensics } from '../../report/forensics.js';
import { counterexampleHtml } from '../../report/html.js';
import { stableStringify } from '../../util/json.js';
import { UsageError } from '../../util/errors.js';
import { validateOutputDir, validateOutputFile, writeFileAtomicSync } from '../../util/fsx.js';
import { VERSION } from '../../util/version.js';
import type { Io } from '../io.js';
import { resolvePath } from '../options.js';
import { checkInputIds, loadTargetModel, resolveModelSpec } from '../verify-options.js';
import { writeCounterexampleFiles } from './fuzz.js';
import { type CommandContext, EXIT_CHECK_FAILED, EXIT_OK } from '../command.js';
import { saveCounterexamples } from '../save-to.js';

export const name = 'replay';

export interface ReplayCommandOptions {
  readonly token: string;
  /** Where the token's model is now (a .onnx path, or a model name). */
  readonly model?: string;
  readonly report?: string;
  readonly html?: string;
  readonly json: boolean;
  /** Corpus folder: keep this run with its verdict now as a regression test (save-to.ts). */
  readonly saveTo?: string;
}

function short(h: string): string {
  return h.slice(0, 16);
}

/**
 * The run the token describes, with its model found and checked: the file named in the token, or
 * the --model override; its content hash must be the one recorded (UsageError otherwise).
 */
export function resolveReplay(o: Pick<ReplayCommandOptions, 'token' | 'model'>, io: Pick<Io, 'cwd' | 'err'>): RunSpec {
  const info = decodeTokenInfo(o.token);
  const recorded = info.spec.model;
  const model = resolveModelSpec(io, o.model ?? recorded);
  if (o.model === undefined && model.toLowerCase().endsWith('.onnx') && !existsSync(model)) {
    throw new UsageError(`the token's model file ${recorded} is not here; pass --model PATH to say where it is now`);
  }
  const m = loadTargetModel(io, model);
  if (info.modelHash !== undefined && m.contentHash !== info.modelHash) {
    throw new UsageError(
      `model ${model} is not the model the token was made on: its sha256 is ${short(m.contentHash)}..., the token records ${short(info.modelHash)}...${o.model === undefined && !recorded.toLowerCase().endsWith('.onnx') ? ' (the built-in model changed since)' : ' (the file changed, or --model names another one)'}; refusing to replay a different model`,
    );
  }
  if (info.format === 'jp1') io.err(`replay: a jp1 token records no model hash; replaying ${model} as it is now\n`);
  else if (info.version !== VERSION) io.err(`replay: the token was made by japari ${info.version}; this is ${VERSION}\n`);
  const spec = { ...info.spec, model };
  checkInputIds(m, [{ id: spec.input, option: 'token input' }, ...spec.warmup.map((id) => ({ id, option: 'token warm-up input' }))]);
  return spec;
}

export async function runReplay(o: ReplayCommandOptions, io: Io): Promise<number> {
  // Output paths first: a bad one is exit 2 before the replay runs.
  if (o.report) validateOutputDir(o.report, '--report', io.cwd);
  if (o.html) validateOutputFile(o.html, '--html', io.cwd);
  if (o.saveTo !== undefined) validateOutputDir(o.saveTo, '--save-to', io.cwd);
  // A design from an engine module: load the module the token names (or the one --engine-module
  // loaded, if it is the same file content) before replaying.
  const info = decodeTokenInfo(o.token);
  await ensureTokenEngine(info.spec.engine, info.module);
  const spec = resolveReplay(o, io);
  const rep = buildCounterexample(spec);
  if (o.report) {
    const files = writeCounterexampleFiles(resolvePath(io, o.report), 'replay', spec);
    io.err(`wrote ${files.join(', ')}\n`);
  }
  if (o.html) {
    const path = resolvePath(io, o.html);
    writeFileAtomicSync(path, counterexampleHtml(rep, buildForensics(spec)));
    io.err(`wrote ${path}\n`);
  }
  if (o.saveTo !== undefined) saveCounterexamples(io, o.saveTo, [{ spec, source: `japari replay (${rep.verdict === 'fail' ? `violates ${rep.properties.join(', ')}` : 'passes'})` }], 'any');
  if (o.json) {
    io.out(
      stableStringify({
        schema: 1,
        command: 'replay',
        verdict: rep.verdict,
        replay: rep.token,
        spec: rep.spec,
        properties: rep.properties,
        violations: rep.violations,
        seeks: rep.seeks,
        failures: rep.failures,
        output: rep.output,
        events: rep.stats.events,
      }) + '\n',
    );
  } else {
    io.out(counterexampleMarkdown(rep));
  }
  return rep.verdict === 'fail' ? EXIT_CHECK_FAILED : EXIT_OK;
}

export function register(program: Command, ctx: CommandContext): void {
  program
    .command(name)
    .description('re-run a counterexample from its replay token and print its report')
    .argument('<token>', 'a replay token (jp2.... or jp1....) printed by fuzz, explore, prove or mutants')
    .option('--model <path|name>', "where the token's model is now (a token made elsewhere); its content must match the token's hash")
    .option('--report <dir>', 'also write the report (JSON, Markdown, SVG timeline, HTML page) here')
    .option('--html <file>', 'also write the self-contained HTML page of the counterexample here')
    .option('--json', 'print one JSON document')
    .option('--save-to <dir>', 'keep this run as a regression test in this corpus folder (e.g. test/corpus/), expecting the verdict it has now')
    .action(async (token: string, raw: { model?: string; report?: string; html?: string; json?: boolean; saveTo?: string }) =>
      ctx.setExit(
        await runReplay(
          {
            token,
            ...(raw.model !== undefined ? { model: raw.model } : {}),
            ...(raw.report !== undefined ? { report: raw.report } : {}),
            ...(raw.html !== undefined ? { html: raw.html } : {}),
            ...(raw.saveTo !== undefined ? { saveTo: raw.saveTo } : {}),
            json: raw.json === true,
          },
          ctx.io,
        ),
      ),
    );
}
