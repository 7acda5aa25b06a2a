/**
 * Deterministic JSON: object keys sorted recursively (UTF-16 code-unit order), so the same
 * report serialises to the same bytes on every run and machine (conventions.md "Reports").
 *
 * Follows JSON.stringify otherwise: `toJSON` is honoured, undefined / function / symbol
 * properties are dropped (null inside arrays), non-finite numbers become null. Typed arrays
 * serialise as arrays of numbers and Maps as objects keyed by String(key). Cycles and bigints
 * throw a TypeError rather than produce something that does not round-trip.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function normalize(value: unknown, stack: Set<object>): Json | undefined {
  if (value === null) return null;
  switch (typeof value) {
    case 'boolean':
    case 'string':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'bigint':
      throw new TypeError('stableStringify: cannot serialise a bigint');
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    case 'object':
      break;
  }
  const obj = value as object;
  if (stack.has(obj)) throw new TypeError('stableStringify: cannot serialise a cyclic structure');
  const toJSON = (obj as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return normalize(toJSON.call(obj), stack);
  stack.add(obj);
  try {
    if (ArrayBuffer.isView(obj) && !(obj instanceof DataView)) {
      return Array.from(obj as unknown as ArrayLike<number | bigint>, (x) => normalize(x, stack) ?? null);
    }
    if (Array.isArray(obj)) return obj.map((x) => normalize(x, stack) ?? null);
    const entries: [string, unknown][] = obj instanceof Map ? [...obj].map(([k, v]) => [String(k), v]) : Object.entries(obj);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const out: { [key: string]: Json } = {};
    for (const [k, v] of entries) {
      const n = normalize(v, stack);
      if (n !== undefined) out[k] = n;
    }
    return out;
  } finally {
    stack.delete(obj);
  }
}

/** JSON text with recursively sorted keys; `indent` as in JSON.stringify (default 2). */
export function stableStringify(value: unknown, indent: number | string = 2): string {
  const n = normalize(value, new Set());
  // JSON.stringify(undefined) is undefined; a document must be text, so say null.
  return JSON.stringify(n === undefined ? null : n, null, indent);
}
