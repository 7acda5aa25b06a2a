/**
 * The symbolic twins agree with the executable model (no Z3 needed: every encoder folds
 * constant terms to constants, so plugging in concrete values evaluates it):
 *   - jobFootprintWord (and its inverse) == ReferenceEngine.jobFootprintWord for every job
 *   - psbTerm (rules.ts psb on the symbolic slot table) == psb of the record the engine committed, at every layer start of
 *     three consecutive inferences (rounds 0, 1, 2), for every slot word
 *   - footprintValue == the footprint word the engine left in NVM after each layer
 *   - staleValue == the word a layer finds at each footprint when it starts (footprint sources)
 * (The loop-count encodings call the design's rules themselves: test/smt/loopcount-rules.test.ts.)
 */
import { describe, it, expect } from 'vitest';
import { proveContext } from '../../src/smt/context.js';
import { refFacts, jobFootprintWord, psbTerm, footprintValue, staleValue, isFootprint, W32 } from '../../src/smt/reference.smt.js';
import { bvOps } from '../../src/smt/ops.smt.js';
import { seenFinished } from '../../src/smt/japari.smt.js';
import { Script, bv, toSigned, TRUE, FALSE, type BV } from '../../src/smt/smtlib.js';
import { RecordStore } from '../../src/engines/common/record.js';
import { jobMapOf } from '../../src/engines/japari/design.js';
import { jobCount, jobFootprintWord as ruleWord, psb, footprintSaysFinished } from '../../src/engines/japari/rules.js';
import { num } from '../../src/engines/ops.js';
import { runInference } from '../../src/engines/runner.js';
import type { PagedMemory } from '../../src/device/paged.js';

function value(t: BV): number {
  if (t.c === undefined) throw new Error(`not constant: ${t.s.slice(0, 200)}`);
  return Number(toSigned(t.c, t.w));
}
function uvalue(t: BV): number {
  if (t.c === undefined) throw new Error(`not constant: ${t.s.slice(0, 200)}`);
  return Number(t.c);
}
function truth(b: { c?: boolean; s: string }): boolean {
  if (b.c === undefined) throw new Error(`not constant: ${b.s.slice(0, 200)}`);
  return b.c;
}

/**
 * [model, B, fixes, rounds]. Faithful configurations with a known finding run one round only:
 * from the second inference on, their seeker may skip a layer (the finding), which then writes
 * nothing to compare.
 */
const CONFIGS: readonly (readonly [string, number, readonly string[], number])[] = [
  ['lenet', 1, [], 3],
  ['lenet', 2, [], 2],
  ['tiny-concat', 1, [], 3],
  ['tiny-fc', 2, [], 1],
  ['tiny-fc', 2, ['japari-gemm-column-sign'], 3],
  ['rnd:2:g2/r/g1/r/g2:0', 1, [], 1],
  ['rnd:2:g2/r/g1/r/g2:0', 1, ['japari-gemm-column-sign'], 3],
  ['rnd:1x6x6:c3k3s1p1/c5k1s1p0/g5:0', 4, ['japari-gemm-slice-jobs', 'japari-gemm-column-sign'], 3],
  ['rnd:1x6x6:c3k3s1p1/c5k1s1p0/g5:0', 4, ['japari-pad-vector-groups', 'japari-gemm-column-sign'], 3],
  ['lenet', 8, ['japari-pad-vector-groups', 'japari-gemm-column-sign'], 3],
];

describe('reference-engine twins == the executable model', () => {
  for (const [model, batch, fixes, rounds] of CONFIGS) {
    it(`${model} japari B=${batch}${fixes.length ? ` (${fixes.join(', ')})` : ''}: job map, psb at every layer start of ${rounds} round(s), footprints written and found`, () => {
      const ctx = proveContext({ model, engine: 'japari', batch, fixes });
      const plan = ctx.plan;
      const f = refFacts(plan);
      for (const l of plan.layers) {
        const jobs = jobCount(jobMapOf(plan, l));
        for (let j = 0; j < jobs; j++) expect(uvalue(jobFootprintWord(f, l, bv(j, W32)))).toBe(ruleWord(num, jobMapOf(plan, l), j));
      }
      const records = new RecordStore(plan.nvm.record, plan.nvm.recordBytes, plan.nvm.slots.length);
      let nvm: PagedMemory | undefined;
      for (let round = 0; round < rounds; round++) {
        const odd = round % 2 === 1 ? TRUE : FALSE;
        const first = round === 0 ? TRUE : FALSE;
        // NVM at the first checkpoint of every layer (its start) and at the end.
        const starts = new Map<number, PagedMemory>();
        const r = runInference(ctx.deployment, {
          input: ctx.model.inputQ(round),
          supply: { kind: 'continuous' },
          seed: 0,
          ...(nvm ? { nvm } : {}),
          onCheckpoint: (dev, pos) => {
            const layer = Math.floor(pos / 4294967296);
            if (!starts.has(layer)) starts.set(layer, dev.nvm.snapshot());
          },
        });
        expect(r.completed).toBe(true);
        const after = (l: number): PagedMemory => starts.get(l + 1) ?? r.device.nvm;
        for (const l of plan.layers) {
          const at = starts.get(l.index);
          if (!at) continue; // a layer without checkpoints (none in these nets)
          const rec = records.peek((a) => at.readU8(a));
          const slot = l.out.slot;
          const sw = plan.nvm.slotBytes / 2;
          for (let x = 0; x < sw; x += Math.max(1, Math.floor(sw / 257))) {
            expect(value(psbTerm(bvOps(), f, slot, l.index, odd, bv(x, W32))) < 0, `psb slot ${slot} x ${x} layer ${l.name} round ${round}`).toBe(psb(num, rec.slots[slot]!, x) < 0);
          }
          const wf = f.writers[l.index]!;
          const end = after(l.index);
          const read16 = (m: PagedMemory, word: number) => ((m.readU8(l.out.base + 2 * word) | (m.readU8(l.out.base + 2 * word + 1) << 8)) << 16) >> 16;
          for (let j = 0; j < jobCount(jobMapOf(plan, l)); j++) {
            const w = ruleWord(num, jobMapOf(plan, l), j);
            const s = new Script();
            if (truth(isFootprint(f, wf, bv(w, W32)))) {
              expect(value(footprintValue(s, f, wf, odd, bv(w, W32))), `footprint ${l.name} job ${j} round ${round}`).toBe(read16(end, w));
            }
            const stale = staleValue(s, f, l.index, odd, first, bv(w + wf.offset, W32), 'd');
            if (stale.value.c !== undefined) expect(value(stale.value), `stale ${l.name} job ${j} round ${round}`).toBe(read16(at, w));
          }
        }
        nvm = r.device.nvm;
      }
    });
  }
});

describe('seeker predicate twin == ReferenceEngine.footprintSaysFinished', () => {
  for (const faults of [[], ['japari-seek-trusts-sign']]) {
    it(faults.length ? 'with the fault that compares the sign byte only' : 'exact comparison', () => {
      const ctx = proveContext({ model: 'tiny-conv', engine: 'japari', batch: 1, faults });
      const words = [0, 1, -1, 2, -2, 255, 256, -255, -256, 0x7f01, -32768, 32767];
      for (const v of words) {
        for (const want of [1, -1]) {
          expect(truth(seenFinished(ctx, bv(v, 16), bv(want, 16))), `${v} vs ${want}`).toBe(footprintSaysFinished(num, v, want, { trustsSign: faults.length > 0 }));
        }
      }
    });
  }
});
