/**
 * `--save-to DIR` of fuzz, explore and replay: keep counterexamples as regression tests in a
 * corpus folder (src/properties/corpus.ts; japari's own is test/corpus/, replayed by the tests).
 */
import { corpusEntry, saveToCorpus } from '../properties/corpus.js';
import type { RunSpec } from '../properties/token.js';
import type { Io } from './io.js';
import { resolvePath } from './options.js';

export const SAVE_TO_HELP = 'save the counterexample(s) found as regression tests (token, model hash, engine, expected verdict) in this corpus folder, e.g. test/corpus/';

/**
 * Save runs whose replay fails (`expect` 'fail', campaigns) or whatever verdict they have now
 * (`expect` 'any', replay). A campaign's point whose replay passes is not saved (said on stderr).
 */
export function saveCounterexamples(io: Io, dir: string, runs: readonly { spec: RunSpec; source: string }[], expect: 'fail' | 'any'): string[] {
  const entries = [];
  for (const r of runs) {
    const e = corpusEntry(r.spec, r.source);
    if (expect === 'fail' && e.expected.verdict !== 'fail') {
      io.err(`save-to: the replay of ${r.source} passes; not saved\n`);
      continue;
    }
    entries.push(e);
  }
  const paths = saveToCorpus(resolvePath(io, dir), entries);
  io.err(`saved ${paths.length} corpus entr${paths.length === 1 ? 'y' : 'ies'} to ${dir}${paths.length ? `: ${paths.map((p) => p.split('/').pop()).join(', ')}` : ''}\n`);
  return paths;
}
