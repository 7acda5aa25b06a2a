/**
 * Every canonical report producer, in one place: importing this module registers the producers
 * that live outside src/report (proofs, benchmarks, mutants) with the registry in canonical.ts.
 */
export { PRODUCERS } from './canonical.js';
