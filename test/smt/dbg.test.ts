import { it, afterAll } from 'vitest';
import { prove } from '../../src/smt/prove.js';
import { closeSharedZ3 } from '../../src/smt/runtime.js';
afterAll(() => closeSharedZ3());
it('dbg', async () => {
  const [model, engine, b, ob] = (process.env.DBG ?? 'lenet,japari,1').split(',');
  const r = await prove({ model: model!, engine: engine as 'japari', batch: Number(b), timeoutMs: 30_000, ...(ob ? { obligation: ob as 'layer-commit' } : {}) }, undefined, (o) => {
    console.log(o.verdict.padEnd(8), o.seconds.toFixed(2).padStart(6), o.id.padEnd(30), o.layer, o.limit ?? '', o.goal ?? '', o.counterexample ? JSON.stringify(o.counterexample).slice(0, 400) : '', o.replay ? JSON.stringify(o.replay).slice(0, 300) : '');
  });
  console.log(r.counts);
}, 600_000);
