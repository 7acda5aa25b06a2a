/**
 * Every canonical report producer, in one place: importing this module registers the producers
 * that live outside src/report (the Z3 proof reports) with the registry in canonical.ts.
 * Benchmarks (`npm run bench`) and the kill matrix (`japari mutants --out reports/mutants`)
 * carry wall-clock figures, so they are written by their own commands, not regenerated here.
 */
import { registerProducer } from './canonical.js';
import { proofReportFiles } from '../smt/report.js';
import { statefulAccuracyProducer } from './stateful-accuracy.js';

registerProducer({
  id: 'proofs',
  description: 'Z3 proof obligations per deployment, and refutations of published designs (reports/proofs/, reports/findings/*.proof.*)',
  produce: (onProgress) => proofReportFiles(undefined, onProgress),
});

registerProducer(statefulAccuracyProducer);

export { PRODUCERS } from './canonical.js';
