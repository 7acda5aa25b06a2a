/**
 * The HTML counterexample report in a real browser: headless Chromium (the Debian package,
 * /usr/bin/chromium, or JAPARI_CHROMIUM) driven by playwright-core. The page must render with
 * the counterexample's numbers -- the timeline's power cycles and failures, the torn NVM bytes,
 * the seeker's verdict per job, the replay command -- without touching the network, and a
 * screenshot of the timeline must show the failure where the report puts it (a structural check
 * on pixels, not a pixel comparison). Without Chromium the browser tests skip and say why.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { buildCounterexample, type CounterexampleReport } from '../../src/report/counterexample.js';
import { buildForensics, type Forensics } from '../../src/report/forensics.js';
import { counterexampleHtml, FAILURE_RGB, TIMELINE, timelineX } from '../../src/report/html.js';
import type { RunSpec } from '../../src/properties/token.js';
import { decodePng, pixel } from './png.js';

/** The published FC footprint-sign finding on tiny-fc (the Aug 2021 build): one torn write of "preserve job" at action 192. */
const SPEC: RunSpec = {
  firmware: 'stateful-cnn-2021-08',
  model: 'tiny-fc',
  engine: 'japari',
  batch: 1,
  placement: 'spi-fram',
  profile: 'inas2021',
  faults: [],
  fixes: [],
  input: 1,
  warmup: [2],
  seed: 0,
  garbage: { kind: 'random' },
  schedule: [192],
};

const CHROMIUM = process.env['JAPARI_CHROMIUM'] ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
// CI (.ci/run) installs Chromium and sets this: there a missing browser is a failure, not a skip.
if (!HAVE_CHROMIUM && process.env['JAPARI_REQUIRE_CHROMIUM'] === '1') throw new Error(`JAPARI_REQUIRE_CHROMIUM is set but there is no Chromium at ${CHROMIUM}`);
const SKIP_NOTE = `SKIPPED: no Chromium at ${CHROMIUM} (apt-get install chromium, or set JAPARI_CHROMIUM) -- `;
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let rep: CounterexampleReport;
let forensics: Forensics;
let html: string;
let dir: string;

beforeAll(() => {
  rep = buildCounterexample(SPEC);
  forensics = buildForensics(SPEC);
  html = counterexampleHtml(rep, forensics);
  dir = mkdtempSync(join(tmpdir(), 'japari-html-'));
  writeFileSync(join(dir, 'report.html'), html);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the HTML report (no browser)', () => {
  it('describes the counterexample: a torn write, then a seeker that misses a finished job', () => {
    expect(rep.verdict).toBe('fail');
    const f = forensics.failures[0]!;
    expect(f.action).toBe(192);
    expect(f.interrupted?.label).toBe('preserve job');
    expect(f.regions.some((r) => r.bytes.some((b) => b.mark === 'torn'))).toBe(true);
    expect(f.seek?.rows.some((r) => r.verdict === 'incomplete')).toBe(true);
  });

  it('is one deterministic, self-contained file (no script, no external resource)', () => {
    expect(counterexampleHtml(buildCounterexample(SPEC), buildForensics(SPEC))).toBe(html);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|\ssrc=|\shref=|url\(/i);
    // The only URL is the SVG namespace, which is a name, not a fetch.
    expect(html.match(/https?:\/\/[^"\s]+/g)).toEqual(['http://www.w3.org/2000/svg']);
    expect(html).toContain(`japari replay ${rep.token}`);
  });
});

describe('the HTML report in headless Chromium', () => {
  let ctx: BrowserContext | null = null;
  let page: Page;
  let profile: string;
  const external: string[] = [];

  beforeAll(async () => {
    if (!HAVE_CHROMIUM) return;
    const { chromium } = await import('playwright-core');
    profile = mkdtempSync(join(tmpdir(), 'japari-chromium-'));
    ctx = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1200, height: 900 }, deviceScaleFactor: 1 });
    // Any request beyond the file itself would mean the page is not self-contained.
    await ctx.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file:')) return route.continue();
      external.push(url);
      return route.abort();
    });
    page = await ctx.newPage();
    await page.goto(pathToFileURL(join(dir, 'report.html')).href);
  });
  afterAll(async () => {
    await ctx?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it.skipIf(!HAVE_CHROMIUM)(`${HAVE_CHROMIUM ? '' : SKIP_NOTE}renders the timeline with the counterexample's power cycles and failures`, async () => {
    const timeline = page.getByTestId('timeline');
    await expect(timeline.isVisible()).resolves.toBe(true);
    const box = (await timeline.boundingBox())!;
    expect(box.width).toBeGreaterThan(500);
    expect(await page.locator('[data-testid=timeline] g.boot').count()).toBe(rep.timeline.boots.length);
    expect(await page.locator('[data-testid=timeline] rect.layer').count()).toBe(rep.timeline.boots.reduce((n, b) => n + b.layers.length, 0));
    const failures = await page.locator('[data-testid=timeline] line.failure').evaluateAll((ls) => ls.map((l) => Number(l.getAttribute('data-action'))));
    expect(failures).toEqual(rep.failures.map((f) => f.action));
    expect(await page.getByTestId('replay').textContent()).toBe(`japari replay ${rep.token}`);
    expect(await page.getByTestId('verdict').textContent()).toBe('FAIL');
    expect(external).toEqual([]);
  });

  it.skipIf(!HAVE_CHROMIUM)(`${HAVE_CHROMIUM ? '' : SKIP_NOTE}renders the step list, the torn NVM bytes and the seeker table with the counterexample's numbers`, async () => {
    const f = forensics.failures[0]!;
    const failRow = page.locator('[data-testid=steps-1] tr.failure');
    expect(await failRow.getAttribute('data-action')).toBe(String(f.action));
    expect(await page.locator('[data-testid=steps-1] tr.interrupted td').nth(4).textContent()).toContain('preserve job');
    const torn = f.regions.reduce((n, r) => n + r.bytes.filter((b) => b.mark === 'torn').length, 0);
    // Each torn byte shows twice (before and after rows).
    expect(await page.locator('[data-testid^=nvm-1] td.b.torn').count()).toBe(2 * torn);
    const seeker = page.getByTestId('seeker-1');
    expect(await seeker.getAttribute('data-recovered')).toBe(String(f.seek!.recoveredJob));
    expect(await seeker.getAttribute('data-durable')).toBe(String(f.seek!.durableJobs));
    const rows = await page.locator('[data-testid=seeker-1] tr[data-job]').evaluateAll((rs) => rs.map((r) => [Number(r.getAttribute('data-job')), r.getAttribute('data-seeker'), r.className]));
    expect(rows).toEqual(f.seek!.rows.map((r) => [r.job, r.seekerFinished ? 'finished' : 'unfinished', r.verdict]));
    // Rendered, not only present: the table has a real size on the page.
    expect((await seeker.boundingBox())!.height).toBeGreaterThan(100);
  });

  it.skipIf(!HAVE_CHROMIUM)(`${HAVE_CHROMIUM ? '' : SKIP_NOTE}screenshot: the timeline shows the failure line where the report puts it`, async () => {
    const timeline = page.getByTestId('timeline');
    const box = (await timeline.boundingBox())!;
    const img = decodePng(await timeline.screenshot());
    // The screenshot is the element (device scale 1), up to the rounding of fractional edges.
    expect(Math.abs(img.width - box.width)).toBeLessThanOrEqual(1);
    expect(Math.abs(img.height - box.height)).toBeLessThanOrEqual(1);
    const isFailure = ([r, g, b]: [number, number, number]) => Math.abs(r - FAILURE_RGB[0]) < 40 && g < 60 && b < 60;
    // Failure 1 falls in boot 1 (the first row): a red column at its x, across the bar.
    const x = Math.round(timelineX(rep.failures[0]!.action, rep.timeline.actions));
    const y0 = TIMELINE.top;
    let red = 0;
    for (let y = y0; y < y0 + TIMELINE.barHeight; y++) for (let dx = -1; dx <= 1; dx++) if (isFailure(pixel(img, x + dx, y))) red++;
    expect(red).toBeGreaterThanOrEqual(TIMELINE.barHeight);
    // And nowhere far from it in that row (the line is where the failure is, not anywhere).
    let elsewhere = 0;
    for (let xx = TIMELINE.left; xx < img.width - TIMELINE.right; xx++) if (Math.abs(xx - x) > 6 && isFailure(pixel(img, xx, y0 + TIMELINE.barHeight / 2))) elsewhere++;
    expect(elsewhere).toBe(0);
    // Every boot row has its bar painted (layer colours, not the white background).
    for (let i = 0; i < rep.timeline.boots.length; i++) {
      const b = rep.timeline.boots[i]!;
      const mid = Math.round(timelineX((b.from + b.to) / 2, rep.timeline.actions));
      const [r, g, bl] = pixel(img, mid, TIMELINE.top + i * TIMELINE.rowHeight + TIMELINE.barHeight / 2);
      expect(r + g + bl).toBeLessThan(3 * 250);
    }
  });
});
