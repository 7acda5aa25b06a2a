/**
 * Proof obligations of a declarative indicator scheme (src/engines/scheme.ts): the Z3 back end
 * for designs whose author wrote no SMT. The scheme's functions run here on bit-vector terms
 * (ops.smt.ts), the very functions the design's engine runs on numbers.
 *
 * Values are NVM words: the scheme's values are taken modulo 2^16 (signed), as the engine stores them.
 *
 * indicator-distinguishability: for every job j < jobs and round r in [0, 2^31): the indicator
 *   job j writes reads finished, the word it overwrites reads unfinished, and so does every torn
 *   mix of the two that is not the indicator itself.
 * seeker-exactness: for every round r, count D <= jobs of jobs written and job j: with jobs below
 *   D written, job D torn or not yet written and the rest stale, the predicate holds exactly for
 *   the durable jobs; and the binary search over such a predicate returns the durable count
 *   (japari.smt.ts binarySearchScripts, the induction over japari/rules.ts's search steps).
 */
import type { IndicatorScheme } from '../engines/scheme.js';
import { staleIndicators, tornWords } from '../engines/scheme.js';
import type { LayerScheme } from '../engines/registry.js';
import { Script, all, any, bv, eq, not, ult, ule, iff, FALSE } from './smtlib.js';
import { type Obligation, goal } from './obligation.js';
import { bvOps, RULE_WIDTH } from './ops.smt.js';
import { binarySearchScripts } from './japari.smt.js';

const W = RULE_WIDTH;

function setup(s: Script, sc: IndicatorScheme): { j: ReturnType<Script['declare']>; r: ReturnType<Script['declare']> } {
  const j = s.declare('j', W, 'unsigned');
  const r = s.declare('round', W, 'unsigned');
  s.assert(all(ult(j, bv(sc.jobs, W)), ult(r, bv(0x80000000, W))));
  return { j, r };
}

export function distinguishabilityScript(sc: IndicatorScheme): Script {
  const s = new Script();
  const o = bvOps(s);
  const { j, r } = setup(s, sc);
  // NVM holds 16-bit words: what the engine stores is the low 16 bits of the scheme's value.
  const written = s.observe('written', o.wrapS(sc.indicator(o, j, r), 16), 'signed');
  const finished = (w: typeof written) => sc.finished(o, w, j, r);
  const unseen = s.observeBool('written_seen_unfinished', not(finished(written)));
  const bad = staleIndicators(o, sc, j, r).flatMap((st, k) => {
    const stale = s.observe(`stale${k}`, o.wrapS(st, 16), 'signed');
    const staleSeen = s.observeBool(`stale${k}_seen_finished`, finished(stale));
    const torn = tornWords(o, sc, stale, written).map((t, i) => {
      const tw = s.observe(`torn${k}_${i}`, t, 'signed');
      return s.observeBool(`torn${k}_${i}_seen_finished`, all(not(eq(tw, written)), finished(tw)));
    });
    return [staleSeen, ...torn];
  });
  s.assert(any(o.violated(), unseen, ...bad));
  return s;
}

export function compositionScript(sc: IndicatorScheme): Script {
  const s = new Script();
  const o = bvOps(s);
  const { j, r } = setup(s, sc);
  const D = s.declare('written_jobs', W, 'unsigned');
  const tearsNext = s.declareBool('next_job_torn', true);
  s.assert(ule(D, bv(sc.jobs, W)));
  const ind = o.wrapS(sc.indicator(o, j, r), 16);
  // Whichever stale word the design can leave (a symbolic choice among them), as a 16-bit word.
  const candidates = staleIndicators(o, sc, j, r).map((c) => o.wrapS(c, 16));
  const pick = s.declare('stale_choice', W, 'unsigned');
  s.assert(ult(pick, bv(candidates.length, W)));
  const stale = candidates.slice(1).reduce((acc, c, i) => o.ite(eq(pick, bv(i + 1, W)), c, acc), candidates[0]!);
  const torn = tornWords(o, sc, stale, ind);
  const atD = eq(j, D);
  const tornWord = torn.length > 0 ? torn[0]! : stale;
  const word = o.ite(ult(j, D), ind, o.ite(all(atD, tearsNext), tornWord, stale));
  // A torn write that already equals the indicator is the indicator: that job is complete.
  const durable = any(ult(j, D), all(atD, tearsNext, torn.length > 0 ? eq(tornWord, ind) : FALSE));
  s.observe('word', word, 'signed');
  s.assert(any(o.violated(), not(iff(sc.finished(o, word, j, r), durable))));
  return s;
}

/** The obligations of the schemes a design declares for a deployment. */
export function schemeObligations(kind: string, schemes: readonly LayerScheme[]): Obligation[] {
  const out: Obligation[] = [];
  for (const ls of schemes) {
    const sc = ls.scheme;
    const tied = [`${kind} scheme "${sc.name}"#indicator`, `${kind} scheme "${sc.name}"#finished`, ...(sc.stale ? [`${kind} scheme "${sc.name}"#stale`] : [])];
    const encoding = `symbolic job j < ${sc.jobs} and round r < 2^31 (32-bit); the scheme's functions on bit-vector terms${sc.tearing === 'bytes-le' ? '; torn = new low byte + old high byte' : '; word-atomic writes'}`;
    out.push({
      id: 'indicator-distinguishability',
      layer: ls.layer,
      ...(ls.layerIndex !== undefined ? { layerIndex: ls.layerIndex } : {}),
      statement: `Scheme "${sc.name}": every job j < ${sc.jobs} of ${ls.layer} that writes its indicator in round r is seen finished, and the word it overwrites${sc.tearing === 'bytes-le' ? ' and every torn mix of the two' : ''} is seen unfinished, for every round.`,
      tiedTo: tied,
      encoding,
      goals: [goal('an indicator is misjudged (written unseen, stale or torn seen finished)', distinguishabilityScript(sc), undefined, { name: 'round', w: W })],
    });
    const bs = binarySearchScripts(sc.jobs, { lastJobWhenAllFinished: false });
    out.push({
      id: 'seeker-exactness',
      layer: ls.layer,
      ...(ls.layerIndex !== undefined ? { layerIndex: ls.layerIndex } : {}),
      statement: `Scheme "${sc.name}": after any number D of ${ls.layer}'s jobs written in a round (the next one possibly torn), the seeker sees exactly the durable jobs finished, and its binary search returns D.`,
      tiedTo: [...tied, 'japari/rules.ts#firstUnfinishedJob'],
      bound: `every job count D <= ${sc.jobs}; the binary search by induction for every job count 1 <= J <= ${sc.jobs}`,
      encoding: `${encoding}; symbolic D and torn flag (composition); symbolic J, D and loop state (search)`,
      goals: [
        goal("the seeker's view differs from the durable jobs after some prefix", compositionScript(sc), undefined, { name: 'round', w: W }),
        goal('binary search: the invariant fails initially', bs.init),
        goal('binary search: an iteration breaks the invariant', bs.step),
        goal('binary search: an iteration does not halve the range', bs.halves),
        goal('binary search: the exit returns something other than the durable prefix', bs.exit),
      ],
    });
  }
  return out;
}
