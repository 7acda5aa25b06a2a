/**
 * Issue 15: every finding carries provenance, reach, effect and status; the README table and
 * deviations.md show them; the published loop-count retrieve scan (variant
 * loopcount-published-scan) is modelled and differs from japari's reconstructed scan.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { BUILD_IDS, BUILD_PROFILE, DEVIATIONS, FINDINGS, FINDING_STATUSES, LEADS, VARIANT_IDS, checkCatalogue, type FindingSpec } from '../../src/engines/catalogue.js';
import { FINDINGS as SEARCHES } from '../../src/report/findings.js';
import { PROOF_EVIDENCE, citeCode, deviationsMarkdown, findingsTable } from '../../src/report/provenance.js';
import { publishedScanPixel, breaksMonotonicity } from '../../src/engines/japari-loopcount/rules.js';
import { num } from '../../src/engines/ops.js';
import { recordEveryValue } from '../../src/engines/hawaii/rules.js';
import { loadModel } from '../../src/model/models.js';
import { Deployment, runInference } from '../../src/engines/runner.js';
import { msp430fr5994 } from '../../src/device/profile.js';
import { loopCountPlanOf, lcPosition } from '../../src/engines/japari-loopcount/plan.js';
import { positionOf } from '../../src/engines/reference/engine.js';
import { decodeToken, encodeToken } from '../../src/properties/token.js';
import { projectRoot } from '../../src/util/shared.js';
import { LIBRARY_DEFAULT_FIRMWARE } from '../../src/engines/reference/firmware.js';

const REPORTS = join(projectRoot(), 'reports', 'findings');

describe('finding provenance (catalogue)', () => {
  it("every committed counterexample replays on a build profile whose code has the behaviour (issue 15: evidence on the matching build)", () => {
    let checked = 0;
    for (const f of SEARCHES) {
      const path = join(REPORTS, `${f.id}.json`);
      if (!existsSync(path)) continue;
      const doc = JSON.parse(readFileSync(path, 'utf8')) as { replay: string; fixed_variant_replay?: string };
      const allowed = f.provenance.builds.map((b) => BUILD_PROFILE[b]);
      for (const token of [doc.replay, doc.fixed_variant_replay].filter((t): t is string => t !== undefined)) {
        const fw = decodeToken(token).firmware ?? LIBRARY_DEFAULT_FIRMWARE;
        if (allowed.length > 0) expect(allowed, `${f.id} replays on ${fw}`).toContain(fw);
      }
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(8);
  });

  it('every finding has a status, code with a commit and path, builds, reach, acceptance and an effect', () => {
    for (const f of FINDINGS as readonly FindingSpec[]) {
      const p = f.provenance;
      expect(FINDING_STATUSES).toContain(p.status);
      expect(p.statusReason.length, f.id).toBeGreaterThan(40);
      expect(p.code.length, f.id).toBeGreaterThan(0);
      for (const c of p.code) {
        expect(c.commit, f.id).toMatch(/^(HEAD|[0-9a-f]{7})(, (HEAD|[0-9a-f]{7}))*$/);
        expect(c.path.length).toBeGreaterThan(0);
        expect(citeCode(c)).toContain(`${c.repo}@${c.commit}:${c.path}`);
      }
      for (const b of p.builds) expect(BUILD_IDS).toContain(b);
      expect(p.reach.text.length, f.id).toBeGreaterThan(20);
      expect(p.accepted.length).toBeGreaterThan(2);
      expect(p.effects.length, f.id).toBeGreaterThan(0);
      // A reconstruction is in no build of the authors' code; anything else is in at least one.
      if (p.status === 'reconstruction') expect(p.builds, f.id).toEqual([]);
      else expect(p.builds.length, f.id).toBeGreaterThan(0);
    }
  });

  it('the verdicts of issue 15 (and the re-derivations of this round) hold in the catalogue', () => {
    const st = (id: string) => (FINDINGS as readonly FindingSpec[]).find((f) => f.id === id)!.provenance;
    expect(st('japari-gemm-call-sign').builds).toEqual(['2021-02', '2021-08', 'later']);
    expect(st('hawaii-remainder-crosses-layers').builds).toEqual(['2021-02', 'later']);
    expect(st('hawaii-remainder-crosses-layers').notIn?.map((n) => n.build)).toEqual(['2021-08']);
    expect(st('japari-fc-without-footprints').builds).toEqual(['later']);
    expect(st('japari-gemm-slice-job-map').status).toBe('published design');
    expect(st('japari-gemm-slice-job-map').reach.evaluated).toBe(false);
    expect(st('loopcount-torn-footprint-256').status).toBe('intent');
    expect(st('loopcount-saturated-running-sums').status).toBe('reconstruction');
    expect(st('loopcount-non-lea-livelock').status).toBe('reconstruction');
    expect(st('loopcount-retrieve-lost-lea').status).toBe('published design');
    expect(st('hawaii-2021-08-partial-increments').builds).toEqual(['2021-08']);
    // A reconstruction's title says so: it is never reported as a weakness of the published design.
    for (const f of FINDINGS as readonly FindingSpec[]) if (f.provenance.status === 'reconstruction') expect(f.title, f.id).toMatch(/reconstruction \(not the published design\)/);
  });

  it('every Z3 evidence names a committed proof report that lists the finding', () => {
    for (const [id, targets] of Object.entries(PROOF_EVIDENCE)) {
      for (const t of targets!) {
        const p = join(projectRoot(), 'reports', 'proofs', `${t}.json`);
        expect(existsSync(p), `${id}: ${t}`).toBe(true);
        expect(readFileSync(p, 'utf8'), `${id}: ${t}`).toContain(`"finding": "${id}"`);
      }
      expect(existsSync(join(REPORTS, `${id}.proof.md`)), id).toBe(true);
    }
  });

  it('the README table has one row per finding with its status, and lists every lead', () => {
    const table = findingsTable(new Map()).join('\n');
    for (const f of FINDINGS as readonly FindingSpec[]) expect(table).toContain(`| ${f.id} |`);
    const readme = readFileSync(join(REPORTS, 'README.md'), 'utf8');
    for (const f of FINDINGS as readonly FindingSpec[]) expect(readme).toMatch(new RegExp(`\\| ${f.id} \\|[^\\n]*\\*\\*${f.provenance.status}\\*\\*`));
    for (const l of LEADS) expect(readme).toContain(l.title);
  });

  it('deviations.md lists every catalogued deviation and variant (generated and committed)', () => {
    const md = deviationsMarkdown();
    const committed = readFileSync(join(REPORTS, 'deviations.md'), 'utf8');
    expect(committed).toBe(md);
    for (const d of DEVIATIONS) expect(committed).toContain(`| ${d.id} | ${d.kind} |`);
    for (const v of VARIANT_IDS) expect(committed).toContain(`\`${v}\``);
    expect(new Set(DEVIATIONS.map((d) => d.id)).size).toBe(DEVIATIONS.length);
  });

  it('a variant is accepted for its engine only, and travels in replay tokens', () => {
    expect(() => checkCatalogue('japari-loopcount', ['loopcount-published-scan'], [])).not.toThrow();
    expect(() => checkCatalogue('japari', ['loopcount-published-scan'], [])).toThrow(/belongs to the japari-loopcount engine/);
    const search = SEARCHES.find((s) => s.id === 'loopcount-retrieve-lost-lea')!;
    const spec = search.find('stateful-cnn-later')!;
    expect(decodeToken(encodeToken(spec)).faults).toEqual(['loopcount-published-scan']);
  });
});

describe('the Aug 2021 HAWAII recording (variant hawaii-record-every-value)', () => {
  it('adds MIN(B, n) for n = len, len - B, ... >= 0: every value, partial steps, a 0 step on multiples of B', () => {
    expect(recordEveryValue(10, 4)).toEqual([4, 4, 2]);
    expect(recordEveryValue(8, 4)).toEqual([4, 4, 0]);
    expect(recordEveryValue(3, 4)).toEqual([3]);
    expect(recordEveryValue(5, 1)).toEqual([1, 1, 1, 1, 1, 0]);
  });
});

describe('the published loop-count retrieve scan (variant loopcount-published-scan)', () => {
  it('publishedScanPixel: down column 0 from LL_MARKER = 0, then along the break row from 0, one channel-group read', () => {
    // 3 x 4 tile, SIGN 0: equal running sums everywhere -> no break: the last pixel.
    const reads: number[] = [];
    const eq = publishedScanPixel(num, false, 3, 4, (k) => (reads.push(k), 7), () => {});
    expect(eq).toBe(11);
    expect(reads).toEqual([0, 4, 8, 8, 9, 10, 11, 11]);
    // A break in row 1 (value below the one above it), then a break at column 2 of that row.
    const v = (k: number) => [5, 9, 9, 9, 3, 4, 2, 6, 0, 0, 0, 0][k]!;
    expect(publishedScanPixel(num, false, 3, 4, v, () => {})).toBe(4 + 2);
    // SIGN 1 runs the other way (a value above its predecessor breaks).
    expect(breaksMonotonicity(num, true, -3, -5)).toBe(true);
    expect(publishedScanPixel(num, true, 2, 2, (k) => [-1, -2, -3, -4][k]!, () => {})).toBe(3);
    expect(publishedScanPixel(num, true, 2, 2, (k) => [-1, -2, 2, -4][k]!, () => {})).toBe(2);
  });

  it('one failure in op 1 (lenet conv1, iteration 2): the published scan accumulates lost LEA RAM, the reconstruction is exact', () => {
    const m = loadModel('lenet');
    const params = { engine: 'japari-loopcount', batch: 1, placement: 'spi-fram', profile: msp430fr5994 } as const;
    const pub = new Deployment(m.q, { ...params, faults: ['loopcount-published-scan'] });
    const rec = new Deployment(m.q, params);
    const l = loopCountPlanOf(pub.plan).layers.find((x) => x.name === 'conv1')!;
    const x = m.inputQ(0);
    let at = -1;
    runInference(pub, { input: x, supply: { kind: 'continuous' }, seed: 11, onCheckpoint: (dv, p) => { if (at < 0 && p === positionOf(l.index, lcPosition(2, 1, 5))) at = dv.action; } });
    expect(at).toBeGreaterThan(0);
    const resumed: [number, number, number][] = [];
    const r = runInference(pub, { input: x, supply: { kind: 'schedule', failAt: [at + 1] }, seed: 11, onRecovered: (_d, ly, j, p) => resumed.push([ly, j, p]) });
    // The source copy's sums are equal: no break, op 1 resumes at the tile's last pixel (15).
    expect(resumed.filter(([ly]) => ly === l.index).at(-1)).toEqual([l.index, 1, lcPosition(2, 1, 15)]);
    expect(r.completed).toBe(true);
    expect(r.equal).toBe(false);
    expect(r.device.undefinedReads).toBeGreaterThan(0);
    const ok = runInference(rec, { input: x, supply: { kind: 'schedule', failAt: [at + 1] }, seed: 11 });
    expect(ok.equal).toBe(true);
    expect(ok.device.undefinedReads).toBe(0);
  });
});
