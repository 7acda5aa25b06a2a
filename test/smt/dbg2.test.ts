import { it, afterAll } from 'vitest';
import { proveContext } from '../../src/smt/context.js';
import { obligationsFor } from '../../src/smt/prove.js';
import { Z3Runtime } from '../../src/smt/runtime.js';
const z3 = new Z3Runtime();
afterAll(() => z3.close());
it('dbg', async () => {
  const ctx = proveContext({ model: 'lenet', engine: 'japari', batch: 1 });
  const obs = obligationsFor(ctx).filter((o) => o.id === 'seeker-exactness' && o.layer.startsWith('conv1'));
  for (const o of obs) for (const g of o.goals) {
    const t0 = performance.now();
    const r = await z3.check(g.script, 30000);
    console.log('RES', g.name, g.script.size, r.status, r.reason, ((performance.now() - t0) / 1000).toFixed(2));
  }
}, 600_000);
