/**
 * The files of one counterexample report, by name: `${base}.json` (the source of truth), `.md`,
 * `.svg` (timeline) and `.html` (the self-contained page with the forensics of each failure).
 */
import { stableStringify } from '../util/json.js';
import { counterexampleMarkdown, counterexampleSvg, type CounterexampleReport } from './counterexample.js';
import { buildForensics } from './forensics.js';
import { counterexampleHtml } from './html.js';

export function counterexampleFiles(rep: CounterexampleReport, base: string): Record<string, string> {
  return {
    [`${base}.json`]: stableStringify(rep, 2) + '\n',
    [`${base}.md`]: counterexampleMarkdown(rep, `${base}.svg`),
    [`${base}.svg`]: counterexampleSvg(rep),
    [`${base}.html`]: counterexampleHtml(rep, buildForensics(rep.spec)),
  };
}
