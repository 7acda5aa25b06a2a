/**
 * Seeded faults: small, named deviations from a correct engine, switched on by configuration.
 * The catalogue (ids, descriptions, which engine they apply to) grows with the mutation work;
 * engines consult `has(id)` at the one place each fault changes.
 */
export type FaultSet = ReadonlySet<string>;
