/**
 * `japari mutants`: the kill matrix -- every seeded fault against fuzzing (fixed seed and budget),
 * linear exploration and the proofs: killed or survived, time to first detection, counterexample
 * size and replay token. `--list` prints the catalogue. Exit 1 when a fault survives that is not
 * argued equivalent. `--fuzz-ratio` instead measures coverage-guided against random fuzzing on
 * every fault (src/bench/fuzzratio.ts; `--out` writes coverage.json and coverage.md).
 */
import type { Command } from 'commander';
import { FAULTS } from '../../engines/catalogue.js';
import { runMutants, summarize, TECHNIQUES, type Technique } from '../../properties/mutants.js';
import { mutantsJson, mutantsMarkdown } from '../../report/mutants.js';
import '../../smt/mutants-prove.js';
import { closeSharedZ3 } from '../../smt/runtime.js';
import { stableStringify } from '../../util/json.js';
import { ReportSet, validateOutputDir } from '../../util/fsx.js';
import { createProgress } from '../progress.js';
import { UsageError } from '../../util/errors.js';
import { parseList, parsePositiveInt, parseSeed } from '../units.js';
import type { Io } from '../io.js';
import { createStyle } from '../style.js';
import { resolvePath } from '../options.js';
import { type CommandContext, EXIT_CHECK_FAILED, EXIT_OK } from '../command.js';
import { fuzzRatioJson, fuzzRatioMarkdown, runFuzzRatio } from '../../bench/fuzzratio.js';

export const name = 'mutants';

export interface MutantsCommandOptions {
  readonly quick: boolean;
  readonly list: boolean;
  readonly faults?: readonly string[];
  readonly techniques: readonly Technique[];
  readonly seed: number;
  readonly out?: string;
  readonly json: boolean;
  /** Measure guided against random fuzzing instead (runs per campaign, number of seeds). */
  readonly fuzzRatio?: { readonly runs: number; readonly seeds: number };
}

async function runFuzzRatioCommand(o: MutantsCommandOptions, fr: { runs: number; seeds: number }, io: Io): Promise<number> {
  if (o.out) validateOutputDir(o.out, '--out', io.cwd);
  const progress = createProgress(io, 'fuzz-ratio');
  const t0 = performance.now();
  const seeds = Array.from({ length: fr.seeds }, (_, i) => o.seed + i);
  let r: ReturnType<typeof runFuzzRatio>;
  try {
    r = runFuzzRatio({ runs: fr.runs, seeds, model: 'lenet', batch: 2, ...(o.faults ? { faults: o.faults } : {}), onStep: (what, done, total) => progress.step(what, done, total) });
  } finally {
    progress.done();
  }
  const wall = (performance.now() - t0) / 1000;
  if (o.out) {
    const set = new ReportSet(resolvePath(io, o.out));
    try {
      set.write('coverage.json', stableStringify({ ...fuzzRatioJson(r), wall_seconds: wall }, 2) + '\n');
      set.write('coverage.md', fuzzRatioMarkdown(r, wall));
      io.err(`wrote ${set.commit().join(' and ')}\n`);
    } finally {
      set.abort();
    }
  }
  if (o.json) io.out(stableStringify({ ...fuzzRatioJson(r), wall_seconds: wall }) + '\n');
  else {
    const s = r.summary;
    io.out(`guided: ${s.killed.guided}/${s.faults} faults killed, median ${s.medianSeconds.guided.toFixed(2)} s / ${s.medianRuns.guided} schedules to kill\n`);
    io.out(`random: ${s.killed.random}/${s.faults} faults killed, median ${s.medianSeconds.random.toFixed(2)} s / ${s.medianRuns.random} schedules to kill\n`);
    io.out(`ratio random / guided: ${s.secondsRatio.toFixed(2)} (time), ${s.runsRatio.toFixed(2)} (schedules); on the ${s.hard.faults} faults either needs more than one schedule for: ${s.hard.secondsRatio.toFixed(2)} (time), ${s.hard.runsRatio.toFixed(2)} (schedules); ${wall.toFixed(0)} s in all\n`);
  }
  return EXIT_OK;
}

export async function runMutantsCommand(o: MutantsCommandOptions, io: Io): Promise<number> {
  const st = createStyle(io);
  if (o.fuzzRatio && !o.list) return runFuzzRatioCommand(o, o.fuzzRatio, io);
  if (o.list) {
    if (o.json) io.out(stableStringify({ schema: 1, faults: FAULTS }) + '\n');
    else io.out(st.table([{ header: 'fault' }, { header: 'engine' }, { header: 'area' }, { header: 'mistake it stands for' }], FAULTS.map((f) => [f.id, f.engine, f.area, f.description])) + '\n');
    return EXIT_OK;
  }
  // The output folder is checked before the kill matrix runs (minutes), not after.
  if (o.out) validateOutputDir(o.out, '--out', io.cwd);
  const total = FAULTS.filter((f) => !o.faults || o.faults.includes(f.id)).length;
  const progress = createProgress(io, 'mutants');
  let done = 0;
  let rows: Awaited<ReturnType<typeof runMutants>>;
  try {
    rows = await runMutants({
      quick: o.quick,
      techniques: o.techniques,
      seed: o.seed,
      ...(o.faults ? { faults: o.faults } : {}),
      onRow: (r) => {
        const outcome = `${r.killed ? 'killed' : r.equivalent ? 'survived (argued equivalent)' : 'SURVIVED'}: ${r.outcomes.map((x) => `${x.technique} ${x.killed ? 'killed' : 'survived'}`).join(', ')}`;
        progress.step(`${r.fault} ${outcome}`, ++done, total);
      },
    });
  } finally {
    progress.done();
    // The proofs run Z3 in worker threads: stop them so the process can exit.
    await closeSharedZ3();
  }
  const s = summarize(rows);
  if (o.out) {
    const set = new ReportSet(resolvePath(io, o.out));
    try {
      set.write('mutants.json', stableStringify(mutantsJson(rows, s, o.quick), 2) + '\n');
      set.write('mutants.md', mutantsMarkdown(rows, s, o.quick));
      const files = set.commit();
      io.err(`wrote ${files.join(' and ')}\n`);
    } finally {
      set.abort();
    }
  }
  if (o.json) io.out(stableStringify(mutantsJson(rows, s, o.quick)) + '\n');
  else {
    for (const [t, p] of Object.entries(s.perTechnique)) {
      io.out(`${t.padEnd(8)} killed ${p.killed}/${p.of}, median time to detection ${p.medianSeconds.toFixed(2)} s, median counterexample ${p.medianFailures} failure(s) / ${p.medianEvents} events\n`);
    }
    io.out(`${s.survivors.length ? st.verdict('fail') : st.verdict('pass')} ${s.killed}/${s.faults} faults killed, ${s.equivalent} argued equivalent${s.survivors.length ? `, surviving: ${s.survivors.join(', ')}` : ''}\n`);
  }
  return s.survivors.length === 0 ? EXIT_OK : EXIT_CHECK_FAILED;
}

export function register(program: Command, ctx: CommandContext): void {
  program
    .command(name)
    .description('run every seeded fault against fuzzing, exploration and the proofs (the kill matrix)')
    .option('--list', 'print the fault catalogue')
    .option('--quick', 'the CI subset: smaller budgets')
    .option('--fault <ids>', 'only these faults')
    .option('--techniques <list>', `techniques: ${TECHNIQUES.join(', ')} (default all)`)
    .option('--seed <n>', 'fuzzing seed (default 20261128)')
    .option('--out <dir>', 'write mutants.json and mutants.md here (e.g. reports/mutants)')
    .option('--json', 'print one JSON document')
    .option('--fuzz-ratio', 'instead: time and schedules to kill each fault with coverage-guided against random fuzzing (writes coverage.json and coverage.md with --out)')
    .option('--runs <n>', 'with --fuzz-ratio: schedules per campaign (default 400)')
    .option('--seeds <n>', 'with --fuzz-ratio: seeds per fault and strategy, from --seed on (default 5)')
    .action(async (raw: { list?: boolean; quick?: boolean; fault?: string; techniques?: string; seed?: string; out?: string; json?: boolean; fuzzRatio?: boolean; runs?: string; seeds?: string }) => {
      if (!raw.fuzzRatio && (raw.runs !== undefined || raw.seeds !== undefined)) throw new UsageError('--runs and --seeds apply to --fuzz-ratio');
      const techniques = raw.techniques !== undefined ? parseList(raw.techniques, (t) => t as Technique, '--techniques') : [...TECHNIQUES];
      for (const t of techniques) if (!TECHNIQUES.includes(t)) throw new UsageError(`--techniques: unknown technique ${JSON.stringify(t)} (known: ${TECHNIQUES.join(', ')})`);
      const faults = raw.fault !== undefined ? parseList(raw.fault, (f) => f, '--fault') : undefined;
      for (const f of faults ?? []) if (!FAULTS.some((x) => x.id === f)) throw new UsageError(`--fault: unknown fault ${JSON.stringify(f)} (see japari mutants --list)`);
      ctx.setExit(
        await runMutantsCommand(
          {
            quick: raw.quick === true,
            list: raw.list === true,
            ...(faults ? { faults } : {}),
            techniques,
            seed: raw.seed !== undefined ? parseSeed(raw.seed) : 20261128,
            ...(raw.out !== undefined ? { out: raw.out } : {}),
            json: raw.json === true,
            ...(raw.fuzzRatio ? { fuzzRatio: { runs: raw.runs !== undefined ? parsePositiveInt(raw.runs, '--runs') : 400, seeds: raw.seeds !== undefined ? parsePositiveInt(raw.seeds, '--seeds') : 5 } } : {}),
          },
          ctx.io,
        ),
      );
    });
}
