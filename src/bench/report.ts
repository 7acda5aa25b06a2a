/**
 * Rendering a BenchReport: the Markdown report (README.md), a flat CSV of every row, the
 * charts, and the machine-dependent simulation-speed page (speed.md), all from the JSON
 * documents (the source of truth). Pure functions of the reports: same report, same bytes.
 */
import { CATEGORIES } from '../device/device.js';
import { PROFILES, type Cost, type DeviceProfile } from '../device/profile.js';
import type { EngineKind } from '../engines/reference/plan.js';
import { stableStringify } from '../util/json.js';
import type { BenchReport, SpeedReport } from './bench.js';
import type { BenchRow } from './sweep.js';
import type { Speedup } from './derive.js';
import { CONTINUOUS } from './conditions.js';
import { charts, breakdownCondition, referenceChoices, type Chart } from './charts.js';

// ---------------------------------------------------------------------------------------------
// Number formatting (deterministic, no locale)

/** Seconds with 3 significant digits ("0.428", "12.7", "1234"). */
export function fmtS(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x >= 1000) return x.toFixed(0);
  return String(+x.toPrecision(3));
}

function fmtX(x: number | null): string {
  return x === null ? '-' : `${x.toFixed(2)}x`;
}

function fmtUF(uF: number | null): string {
  if (uF === null) return '-';
  return uF >= 1000 ? `${+(uF / 1000).toPrecision(3)} mF` : `${+uF.toPrecision(3)} uF`;
}

function table(header: readonly string[], rows: readonly (readonly string[])[], align?: readonly ('l' | 'r')[]): string {
  const a = align ?? header.map((_, i) => (i === 0 ? 'l' : 'r'));
  const sep = a.map((x) => (x === 'r' ? '---:' : '---'));
  return [`| ${header.join(' | ')} |`, `| ${sep.join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** A short name of an engine for tables (a user's design: its kind). */
function engineShort(e: EngineKind): string {
  return ENGINE_SHORT_MAP[e] ?? e;
}

const ENGINE_SHORT_MAP: Readonly<Record<string, string>> = { continuous: 'continuous', hawaii: 'HAWAII', japari: 'JAPARI', 'japari-loopcount': 'JAPARI loop-count', stateful: 'Stateful' };

function key(...xs: (string | number)[]): string {
  return xs.join('|');
}

/** A row's latency for a table cell: the number, or why there is none. */
function cell(r: BenchRow | undefined): string {
  if (!r) return '';
  if (!r.completed) return 'stall';
  if (!r.equal) return `${fmtS(r.latency_s)} WRONG`;
  return fmtS(r.latency_s);
}

function combos(report: BenchReport, model: string): { engine: EngineKind; batch: number }[] {
  const seen = new Set<string>();
  const out: { engine: EngineKind; batch: number }[] = [];
  for (const e of report.engines) {
    for (const b of report.batches) {
      if (!report.rows.some((r) => r.model === model && r.engine === e && r.batch === b)) continue;
      const k = key(e, b);
      if (!seen.has(k)) {
        seen.add(k);
        out.push({ engine: e, batch: b });
      }
    }
  }
  return out;
}

function comboName(e: EngineKind, b: number): string {
  return e === 'continuous' ? 'continuous' : `${engineShort(e)} B=${b}`;
}

// ---------------------------------------------------------------------------------------------
// Modelling assumptions

function costLine(c: Cost, unit: string): string {
  const cyc = c.cyclesPerUnit ? `${+c.fixedCycles.toFixed(2)} + ${c.cyclesPerUnit} per ${unit}` : `${+c.fixedCycles.toFixed(2)}`;
  const nj = c.njPerUnit ? `${+c.fixedNj.toFixed(3)} + ${c.njPerUnit} per ${unit}` : `${+c.fixedNj.toFixed(3)}`;
  return `${cyc} cycles, ${nj} nJ`;
}

/** The cost of every device event, straight from the profile objects (so it cannot drift from the code). */
export function costTable(p: DeviceProfile): string {
  const spi = p.nvm['spi-fram'];
  const rows: [string, string, string][] = [
    ['DMA SPI FRAM -> SRAM, n words', costLine(spi.read, 'word'), spi.read.source],
    ['DMA SRAM -> SPI FRAM, n words (2n byte units)', costLine(spi.write, 'word'), spi.write.source],
    ['DMA program FRAM (weights) -> SRAM, n words', costLine(p.rom.read, 'word'), p.rom.read.source],
    ['LEA command over k element operations', costLine(p.lea.command, 'element op'), p.lea.command.source],
    ['CPU add / sub', costLine(p.cpu.add, ''), p.cpu.add.source],
    ['CPU multiply', costLine(p.cpu.mul, ''), p.cpu.mul.source],
    ['CPU divide / modulo', costLine(p.cpu.div, ''), p.cpu.div.source],
    ['CPU max / compare', costLine(p.cpu.max, ''), p.cpu.max.source],
    ['CPU word copy SRAM -> SRAM', costLine(p.cpu.copy, ''), p.cpu.copy.source],
    ['reboot (power-on to main)', `${p.reboot.seconds * 1e3} ms (${p.reboot.seconds * p.clockHz} cycles), ${p.reboot.nj} nJ`, p.reboot.source],
  ];
  return table(['event', 'cost', 'source'], rows.map((r) => [r[0], r[1], r[2].replace(/\.\.\/shared\/reference\//g, '')]), ['l', 'l', 'l']);
}

/**
 * Every modelling assumption behind the numbers: what an event costs and why, how energy and
 * time are modelled, and the bench's own definitions. Kept next to the code it describes
 * (src/device/profile.ts, device.ts, energy.ts, runner.ts, and this folder).
 */
export const ASSUMPTIONS: readonly { readonly topic: string; readonly text: string }[] = [
  { topic: 'Clock and time', text: 'The MCU runs at 16 MHz (device.md: "the published engines run it at 16 MHz"); modelled on-time is charged cycles / 16 MHz. Latency = on-time + recharge time (the device off, waiting for Von).' },
  { topic: 'SPI FRAM transfers', text: 'Every NVM access of every engine goes to the external CY15B104Q SPI FRAM at device.md\'s measured DMA cost: a fixed setup (~424 read / ~422 write cycles, 200 / 193 nJ) plus 64 cycles and 27.0 / 26.8 nJ per Q15 word (32 cycles per byte = a ~4 MHz SPI clock). Many small transfers therefore cost far more than one large one (HAWAII\'s 4-byte counter write costs 422 + 128 cycles).' },
  { topic: 'Write granularity', text: 'A DMA write lands byte by byte (SPI), one atomic action per byte, each carrying 1/2 of the per-word cost; the fixed setup is charged before the first byte. A power failure lands a prefix of the bytes. Reads, LEA commands, CPU steps and weight fetches are single atomic actions: a failure before they complete loses their (volatile) result.' },
  { topic: 'Weights in program FRAM', text: "ASSUMPTION (device.md has no DMA-from-internal-FRAM number): the engines fetch weights with the MSP430's block DMA: 30 cycles of setup plus 2 cycles per word (the datasheet's 125 ns FRAM access), at the active power (0.328 nJ per cycle, from the CPU add row). device.md's single-word CPU copy FRAM -> SRAM (10.26 nJ, 2024 re-profile) is a load/store loop, not a DMA, and is not used: paired with a 2-cycle duration it would mean about 82 mW during weight fetches." },
  { topic: 'LEA commands', text: 'ASSUMPTION: every LEA command (matrix multiply by rows, vector add, max) costs like device.md\'s vector MAC over the number of element operations it performs: a 1 x L by L x n matrix multiply is L x n MACs, 616 + 1.5 L n cycles and 204 + 0.527 L n nJ. device.md measures no other LEA command.' },
  { topic: 'LEA overlapped with a DMA write', text: 'When an engine writes the previous result while the LEA computes the next one (piggyback, on by default as in the reference engine), the pair takes the longer of the two durations and the sum of the two energies.' },
  { topic: 'CPU work', text: 'Engines are TypeScript; their CPU work is charged per operation from device.md (add/sub 12 cycles 3.94 nJ, multiply 44 / 19.3, divide 160 / 43.7, max 14 / 4.23) and SRAM word copies at the 2024 re-profile\'s 3.89 nJ, with cycles derived at the add\'s 0.328 nJ per cycle (ASSUMPTION; the datasheet\'s 118 uA/MHz at 3 V gives 0.354 nJ/cycle, within 8%). Loop control, address arithmetic and function calls are not charged.' },
  { topic: 'Reboot', text: 'A reboot after a power failure costs device.md\'s measured 70 ms (55 ms in the 2024 re-profile) and 77.88 uJ; during it the harvester keeps delivering at the Von power. The very first power-on of a run is free: the device starts with the capacitor charged to Von.' },
  { topic: 'Energy buffer', text: 'The capacitor holds E = 1/2 C V^2; the device runs from Von = 2.8 V and dies at Voff = 2.4 V (device.md), so one charge holds 1/2 C (Von^2 - Voff^2) = 104 uJ at 100 uF. An event the remaining energy cannot fund is cut where the energy runs out. No leakage, no regulator losses, no load while off. The capacitor\'s rated maximum is 3.0 V (device.md\'s settings charge it from Vsup = 3.0 V): a constant or trace harvester that delivers more than the device draws charges it above Von up to 3.0 V, and what it delivers beyond that is lost (an RC supply cannot charge above Vsup anyway).' },
  { topic: 'Harvesters', text: 'Constant: P watts into the capacitor. RC (device.md): P(V) = V (Vsup - V) / R with Vsup = 3.0 V, R = 1 kOhm, recharge t = -R C ln((Von - Vsup) / (V - Vsup)). Trace: the REACT RF recordings in ../shared/traces, 20 ms samples, piecewise constant, looped, indexed by modelled time (latency); every run starts at the trace\'s t = 0. Within one event the harvested power is taken at the event\'s start (events last micro- to milliseconds). Under a trace, latency depends on how a run\'s power cycles line up with the trace\'s strong and weak stretches, so speedups under traces swing widely (up to 7x) and mix engine cost with timing luck; constant and RC supplies isolate engine cost.' },
  { topic: 'Active power', text: 'profile.ts activePowerW = 118 uA/MHz x 16 MHz x 3.0 V = 5.66 mW is the datasheet figure the report shows as "where failures begin". The cost table itself is per event; the report also gives each engine\'s modelled average draw (energy / on-time of its uninterrupted run), which is the figure that decides whether a constant harvester keeps up.' },
  { topic: 'Forward progress', text: 'A run reports completed: false when the runner sees no forward progress: 16 consecutive power cycles that do not advance the position the engine recovers to (one charge cannot fund the engine\'s smallest unit of preserved work), or 100 000 power cycles in all, or a capacitor that cannot fund one reboot. The continuous engine preserves nothing within a layer and restarts the inference after every failure, so it completes only when one charge (plus harvest) covers the whole inference.' },
  { topic: 'Inputs and outputs', text: 'One inference per run: LeNet and MNIST on stored MNIST digit 0; HAR, KWS and SqueezeNet on seeded synthetic inputs (no dataset ships with them). The engines\' work does not depend on the input values, so neither do the costs. Every completed run\'s output is compared bit for bit with the Q15 reference; a wrong output is reported ("WRONG") and never counted as a result.' },
  { topic: 'Engines', text: 'The published engines (algorithms.md) by default; --fixes runs the corrected variants of src/engines/catalogue.ts. Tiling, FC outputs per call (4, or 2 for CIFAR-10), row tiles of 8 and the LEA buffer of 1884 words follow algorithms.md "Reference engine parameters"; the loop-count engine uses its own Tr x Tc x Tm x Tn = 4 x 4 x 8 x 8 tiling and supports B in 1, 2, 4, 8 only. The continuous engine has no progress indicator, so B does not apply to it; it runs at B = 1.' },
  { topic: 'Speedup', text: 'Speedup over HAWAII = HAWAII latency / engine latency for the same model, B and condition (latency includes recharge time). The continuous engine is compared with its single (B = 1) run at every B. Undefined when either run did not complete with the reference output.' },
  { topic: 'Lower bound', text: 'Per model and condition: the model\'s compute-only work (the continuous engine\'s "compute" category under continuous power: LEA and CPU arithmetic, no data movement, no preservation) must run, taking at least its cycles, and its energy must come from the capacitor\'s initial charge plus the harvest, delivered at most at the harvester\'s peak power (constant: P; RC: its power at Voff; trace: integrated from t = 0). The bound is the larger of the two times; "latency / bound" is how far an engine is from it.' },
  { topic: 'Minimum capacitor', text: 'Under the RC supply of device.md (Vsup 3.0 V, R 1 kOhm, Von 2.8 V, Voff 2.4 V): probe a ladder of capacitors (E3 series, 10 uF to 100 mF), take the largest ladder value that does not complete, and bisect on log capacitance between it and the next ladder value to within 2%. The minimum is the smallest capacitor found above which every probed capacitor completes. Completion is not always monotone in capacitance: where power fails moves with the capacitor, and a run can complete at a smaller capacitor by luck of alignment; such capacitors are listed, and the sweep\'s own RC runs are cross-checked against the minimum.' },
  { topic: 'TiNAS 2024 profile', text: 'device.md gives the 2024 DMA re-profile without fixed energies; the 2021 fixed energies (200 / 193 nJ) are kept. The 2024 reboot keeps the table\'s 77.88 uJ.' },
];

// ---------------------------------------------------------------------------------------------
// The Markdown report

function conditionsSection(report: BenchReport): string {
  const rows = report.conditions.map((c) => [
    `\`${c.id}\``,
    c.supply,
    c.description,
    c.capacitor_uF === null ? '-' : fmtUF(c.capacitor_uF),
    c.power_mW === null ? '-' : `${+c.power_mW.toPrecision(3)} mW${c.supply === 'trace' ? ' (mean)' : ''}`,
  ]);
  return table(['condition', 'supply', 'description', 'capacitor', 'harvested power'], rows, ['l', 'l', 'l', 'r', 'r']);
}

function modelsSection(report: BenchReport): string {
  const rows = report.models.map((m) => [
    m.name,
    m.description,
    `\`${m.quantized_sha256}\``,
    fmtS(m.baseline.latency_s),
    fmtS(m.baseline.compute_s),
    fmtS(m.baseline.compute_mJ),
  ]);
  const plans = report.models.map((m) => `- ${m.name}: ${Object.entries(m.plans).map(([k, v]) => `${k} \`${v}\``).join(', ')}`);
  return [
    table(['model', 'what', 'quantized network (sha256/16)', 'continuous latency (s)', 'compute-only time (s)', 'compute-only energy (mJ)'], rows, ['l', 'l', 'l', 'r', 'r', 'r']),
    '',
    'Deployment plans (sha256/16 of the program image and NVM map, per engine and B):',
    '',
    ...plans,
    '',
    'Where JAPARI\'s progress seeker cannot see progress (from the plans; these explain most JAPARI stalls):',
    '',
    ...(report.models.some((m) => m.notes.length) ? report.models.flatMap((m) => m.notes.map((n) => `- ${m.name}: ${n}`)) : ['- nowhere in these models.']),
  ].join('\n');
}

function speedupCell(s: Speedup | undefined): string {
  if (!s) return '';
  switch (s.status) {
    case 'both-complete':
      return fmtX(s.speedup);
    case 'engine-failed':
      return 'stall';
    case 'hawaii-failed':
      return 'HAWAII stalls';
    case 'both-failed':
      return 'both stall';
  }
}

/** The headline table: engine / HAWAII per model and B, under the key conditions. */
function headline(report: BenchReport, engine: EngineKind, batches: readonly number[], conds: readonly string[]): string {
  const sp = new Map(report.derived.speedups.map((s) => [key(s.model, s.engine, s.batch, s.condition), s]));
  const header = ['model', ...conds.flatMap((c) => batches.map((b) => `${c} B=${b}`))];
  const rows = report.models.map((m) => [m.name, ...conds.flatMap((c) => batches.map((b) => speedupCell(sp.get(key(m.name, engine, b, c)))))]);
  return table(header, rows);
}

/** The headline conditions: continuous power, then the reference capacitor at 10 mW and 5 mW. */
export function keyConditions(report: BenchReport): string[] {
  const { capUF } = referenceChoices(report);
  const ids = report.conditions.map((c) => c.id);
  const want = [CONTINUOUS.id, ...[10, 5].map((p) => report.conditions.find((c) => c.supply === 'constant' && c.capacitor_uF === capUF && c.power_mW === p)?.id)];
  const picked = want.filter((x): x is string => x !== undefined && ids.includes(x));
  return picked.length > 1 ? picked : ids.slice(0, 3);
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Per model and B, over every condition: how often the engine beats HAWAII, by how much, and the stalls. */
function verdictTable(report: BenchReport, engine: EngineKind): string {
  const rows: string[][] = [];
  for (const m of report.models) {
    for (const b of report.batches) {
      const mine = report.derived.speedups.filter((s) => s.model === m.name && s.engine === engine && s.batch === b);
      if (mine.length === 0) continue;
      const sps = mine.filter((s) => s.speedup !== null).map((s) => s.speedup!);
      const slower = mine.filter((s) => s.speedup !== null && s.speedup <= 1).map((s) => s.condition);
      const stalls = mine.filter((s) => s.status === 'engine-failed').map((s) => s.condition);
      const hstalls = mine.filter((s) => s.status === 'hawaii-failed').map((s) => s.condition);
      const list = (xs: string[]) => (xs.length === 0 ? '-' : xs.length <= 4 ? xs.map((x) => `\`${x}\``).join(' ') : `${xs.length} conditions`);
      rows.push([
        m.name,
        String(b),
        `${sps.filter((x) => x > 1).length} / ${sps.length}`,
        sps.length ? fmtX(median(sps)) : '-',
        sps.length ? `${fmtX(Math.min(...sps))} - ${fmtX(Math.max(...sps))}` : '-',
        list(slower),
        list(stalls),
        list(hstalls),
      ]);
    }
  }
  return table(['model', 'B', 'faster in (conditions)', 'median speedup', 'range', 'not faster in', `${engineShort(engine)} stalls, HAWAII completes`, `HAWAII stalls, ${engineShort(engine)} completes`], rows, ['l', 'r', 'r', 'r', 'r', 'l', 'l', 'l']);
}

function latencyTables(report: BenchReport): string {
  const ix = new Map(report.rows.map((r) => [key(r.model, r.engine, r.batch, r.condition), r]));
  const parts: string[] = [];
  for (const m of report.models) {
    const cs = combos(report, m.name);
    const header = ['condition', ...cs.map((c) => comboName(c.engine, c.batch))];
    const rows = report.conditions.map((c) => [`\`${c.id}\``, ...cs.map((x) => cell(ix.get(key(m.name, x.engine, x.batch, c.id))))]);
    parts.push(`### ${m.name}: latency (s)\n\n${table(header, rows)}`);
    const pc = report.conditions
      .filter((c) => c.supply !== 'continuous')
      .map((c) => [`\`${c.id}\``, ...cs.map((x) => {
        const r = ix.get(key(m.name, x.engine, x.batch, c.id));
        return r ? String(r.power_cycles) : '';
      })]);
    if (pc.length) parts.push(`<details><summary>${m.name}: power cycles</summary>\n\n${table(header, pc)}\n\n</details>`);
  }
  return parts.join('\n\n');
}

function speedupTables(report: BenchReport): string {
  const sp = new Map(report.derived.speedups.map((s) => [key(s.model, s.engine, s.batch, s.condition), s]));
  const engines = [...new Set(report.derived.speedups.map((s) => s.engine))].sort((a, b) => report.engines.indexOf(a) - report.engines.indexOf(b));
  const parts: string[] = [];
  for (const m of report.models) {
    const cols = engines.flatMap((e): { e: EngineKind; b: number }[] => (e === 'continuous' ? [{ e, b: report.batches[0]! }] : report.batches.map((b) => ({ e, b }))));
    const header = ['condition', ...cols.map(({ e, b }) => (e === 'continuous' ? 'continuous' : `${engineShort(e)} B=${b}`))];
    const rows = report.conditions.map((c) => [`\`${c.id}\``, ...cols.map(({ e, b }) => speedupCell(sp.get(key(m.name, e, b, c.id))))]);
    parts.push(`### ${m.name}: speedup over HAWAII at the same B\n\n${table(header, rows)}`);
  }
  return parts.join('\n\n');
}

function bestBatchTable(report: BenchReport): string {
  const parts: string[] = [];
  const engines = report.engines.filter((e) => e !== 'continuous');
  for (const m of report.models) {
    const bb = new Map(report.derived.best_batch.filter((b) => b.model === m.name).map((b) => [key(b.engine, b.condition), b]));
    const rows = report.conditions.map((c) => [
      `\`${c.id}\``,
      ...engines.map((e) => {
        const b = bb.get(key(e, c.id));
        return !b ? '' : b.batch === null ? 'none completes' : `B=${b.batch} (${fmtS(b.latency_s!)} s)`;
      }),
    ]);
    parts.push(`### ${m.name}\n\n${table(['condition', ...engines.map((e) => engineShort(e))], rows)}`);
  }
  return parts.join('\n\n');
}

function boundTable(report: BenchReport): string {
  const parts: string[] = [];
  for (const m of report.models) {
    const lbs = report.derived.lower_bounds.filter((l) => l.model === m.name);
    const ratios = report.derived.bound_ratios.filter((r) => r.model === m.name);
    const rows = lbs.map((l) => {
      const best = (e: EngineKind): string => {
        const rs = ratios.filter((r) => r.engine === e && r.condition === l.condition && r.ratio !== null).map((r) => r.ratio!);
        return rs.length ? `${Math.min(...rs).toFixed(1)}x` : report.engines.includes(e) ? 'stall' : '';
      };
      return [`\`${l.condition}\``, fmtS(l.lower_bound_s), l.basis, ...report.engines.map(best)];
    });
    parts.push(`### ${m.name}\n\n${table(['condition', 'lower bound (s)', 'binding term', ...report.engines.map((e) => `${engineShort(e)} (best B)`)], rows)}`);
  }
  return parts.join('\n\n');
}

function breakdownTable(report: BenchReport, cond: string): string {
  const parts: string[] = [];
  for (const m of report.models) {
    const rows = report.rows
      .filter((r) => r.model === m.name && r.condition === cond)
      .map((r) => [
        comboName(r.engine, r.batch),
        r.completed ? fmtS(r.latency_s) : 'stall',
        ...CATEGORIES.map((c) => (r.latency_s > 0 ? `${((100 * r.breakdown[c].seconds) / r.latency_s).toFixed(1)}%` : '-')),
        String(r.power_cycles),
        fmtS(r.energy_mJ),
        String(r.nvm_bytes),
      ]);
    parts.push(`#### ${m.name}\n\n${table(['engine', 'latency (s)', ...CATEGORIES, 'power cycles', 'energy (mJ)', 'NVM bytes'], rows)}`);
  }
  return parts.join('\n\n');
}

/**
 * Where each engine's extra time goes: its breakdown minus the continuous engine's, by
 * category, under continuous power (no failures: pure preservation overhead).
 */
function overheadTable(report: BenchReport): string {
  const ix = new Map(report.rows.map((r) => [key(r.model, r.engine, r.batch, r.condition), r]));
  const cats = CATEGORIES.filter((c) => c !== 'reexec' && c !== 'reboot' && c !== 'recharge');
  const rows: string[][] = [];
  for (const m of report.models) {
    const base = ix.get(key(m.name, 'continuous', 1, CONTINUOUS.id));
    for (const e of report.engines.filter((x) => x !== 'continuous')) {
      for (const b of report.batches.filter((x) => x === 1 || x === 4)) {
        const r = ix.get(key(m.name, e, b, CONTINUOUS.id));
        if (!r || !base) continue;
        const d = (c: (typeof cats)[number]) => r.breakdown[c].seconds - base.breakdown[c].seconds;
        rows.push([m.name, comboName(e, b), fmtS(r.latency_s), `+${fmtS(r.latency_s - base.latency_s)}`, ...cats.map((c) => { const v = d(c); return Math.abs(v) < 5e-4 ? '0' : `${v > 0 ? '+' : ''}${v.toFixed(3)}`; })]);
      }
    }
  }
  if (rows.length === 0) return '_The continuous engine did not run under continuous power in this sweep._';
  return table(['model', 'engine', 'latency (s)', 'over continuous engine (s)', ...cats.map((c) => `${c} (s)`)], rows, ['l', 'l', ...cats.map(() => 'r' as const), 'r', 'r']);
}

function layerSection(report: BenchReport): string {
  const withLayers = report.rows.filter((r) => r.layers && r.condition === CONTINUOUS.id && r.batch === 1);
  if (withLayers.length === 0) return '';
  const parts: string[] = ['## Per-layer latency (continuous power, B = 1)', ''];
  for (const m of report.models) {
    const rs = withLayers.filter((r) => r.model === m.name);
    if (rs.length === 0) continue;
    const names = rs.find((r) => r.engine !== 'japari-loopcount')?.layers ?? rs[0]!.layers!;
    const header = ['layer', ...rs.map((r) => `${comboName(r.engine, r.batch)} (s)`)];
    const body = names.map((l) => [
      `${l.index} ${l.name} (${l.kind})`,
      ...rs.map((r) => {
        // Layer lists differ between the reference engine and the loop-count engine: match by name.
        const x = r.layers!.find((y) => y.name === l.name || y.name === l.name.replace(/\/merge$/, ''));
        return x ? fmtS(x.seconds) : '';
      }),
    ]);
    parts.push(`### ${m.name}`, '', table(header, body), '');
  }
  return parts.join('\n');
}

function minCapSection(report: BenchReport): string {
  const mcs = report.derived.min_capacitors;
  if (mcs.length === 0) return '_Not run in this sweep._';
  const batches = [...new Set(mcs.map((m) => m.batch))].sort((a, b) => a - b);
  const engines = report.engines.filter((e) => mcs.some((m) => m.engine === e));
  const by = new Map(mcs.map((m) => [key(m.model, m.engine, m.batch), m]));
  const cols = engines.flatMap((e): { e: EngineKind; b: number }[] => (e === 'continuous' ? [{ e, b: 1 }] : batches.map((b) => ({ e, b }))));
  const rows = report.models.map((m) => [
    m.name,
    ...cols.map(({ e, b }) => {
      const r = by.get(key(m.name, e, b));
      if (!r) return '';
      if (r.min_capacitor_uF === null) return `> ${fmtUF(r.max_failing_uF)}`;
      if (r.max_failing_uF === null) return `<= ${fmtUF(r.min_capacitor_uF)}`;
      return fmtUF(r.min_capacitor_uF);
    }),
  ]);
  const checks = report.derived.min_capacitor_checks;
  const above = checks.filter((c) => c.above_min_failed.length > 0);
  const below = checks.filter((c) => c.below_min_completed.length > 0);
  const notes: string[] = [
    'Ladder (E3, 10 uF to 100 mF), then bisection to within 2%: the minimum is the smallest capacitor found above which every probed capacitor completes.',
    '',
    above.length
      ? `**Not monotone above the minimum**: sweep runs at or above it that did not complete: ${above.map((c) => `${c.model} ${comboName(c.engine, c.batch)} at ${c.above_min_failed.join(', ')}`).join('; ')}.`
      : 'Every sweep run under the same harvester at or above its minimum completed.',
    '',
    below.length
      ? `Completion is not monotone in capacitance: these complete at capacitors below their minimum (where power fails moves with the capacitor; a run can get through by luck of alignment): ${below.map((c) => `${c.model} ${comboName(c.engine, c.batch)} at ${c.below_min_completed.join(', ')}`).join('; ')}.`
      : 'No capacitor below a minimum completed (completion was monotone on every ladder).',
  ];
  return [table(['model', ...cols.map(({ e, b }) => comboName(e, b))], rows), '', ...notes].join('\n');
}

function drawSection(report: BenchReport): string {
  const rows = report.models.map((m) => {
    const ds = report.derived.average_draw.filter((d) => d.model === m.name);
    const fmt = (e: EngineKind) => {
      const xs = ds.filter((d) => d.engine === e).map((d) => d.average_draw_mW);
      return xs.length ? `${Math.min(...xs).toFixed(1)}-${Math.max(...xs).toFixed(1)}` : '';
    };
    return [m.name, ...report.engines.map(fmt)];
  });
  return table(['model', ...report.engines.map((e) => `${engineShort(e)} (mW, over B)`)], rows);
}

function calibrationSection(report: BenchReport): string {
  const rows = report.calibration.map((c) => {
    const m = c.measured;
    const p = c.model;
    const pair = (a: number | null, b: number) => (a === null ? `(${+b.toPrecision(4)})` : `${a} / ${+b.toPrecision(6)}`);
    return [
      c.profile,
      c.operation,
      pair(m.fixedCycles, p.fixedCycles),
      pair(m.cyclesPerElement, p.cyclesPerElement),
      pair(m.fixedNj, p.fixedNj),
      pair(m.njPerElement, p.njPerElement),
      c.max_rel_error < 1e-9 ? 'exact' : `${(100 * c.max_rel_error).toFixed(2)}%`,
    ];
  });
  return table(['profile', 'operation', 'fixed cycles (device.md / model)', 'cycles per element', 'fixed nJ', 'nJ per element', 'deviation'], rows, ['l', 'l', 'r', 'r', 'r', 'r', 'r']);
}

function skippedSection(report: BenchReport): string {
  if (report.skipped.length === 0) return '_None._';
  return report.skipped.map((s) => `- ${s.model === '*' ? 'every model' : s.model}, ${s.engine === '*' ? 'every engine' : s.engine}${s.batch !== null ? `, B = ${s.batch}` : ''}: ${s.reason}`).join('\n');
}

/** Each wrong output with its cause: the findings whose fix, alone, makes the same run right (sweep.ts WrongAttribution). */
function wrongOutputs(report: BenchReport): string[] {
  return report.rows
    .filter((r) => r.completed && !r.equal)
    .map((r) => {
      const a = r.attribution;
      if (!a) return `${r.model} ${r.engine} B=${r.batch} ${r.condition}`;
      const seen = a.replay.first_violation ? `; its ${a.replay.failures} failures replayed${a.replay.same_output ? ' (same output)' : ' (a different output)'}: ${a.replay.first_violation}` : '';
      const cause =
        a.findings.length > 0
          ? ` (${a.findings.join(', ')}: right with fix ${a.fixed_by.join(', ')}${seen})`
          : ` (not attributed by a fix: ${a.tried.length > 0 ? a.tried.map((t) => `fix ${t.fix}: ${t.outcome}`).join(', ') : 'the engine has none'}${seen})`;
      return `${r.model} ${r.engine} B=${r.batch} ${r.condition}${cause}`;
    });
}

export function renderMarkdown(report: BenchReport, chartList: readonly Chart[]): string {
  const p = PROFILES[report.profile]!;
  const kc = keyConditions(report);
  const hb = report.batches.filter((b) => b <= 4);
  const engines = report.engines.filter((e) => e !== 'hawaii' && e !== 'continuous');
  const wrong = wrongOutputs(report);
  const stalls = report.rows.filter((r) => !r.completed).length;
  const bc = breakdownCondition(report);
  const out: string[] = [
    '# japari bench: latency, energy and overheads on the executable model',
    '',
    `Generated by \`japari bench\` (japari ${report.japari_version}) from \`bench.json\` (the source of truth; schema ${report.schema}). ` +
      `Device profile \`${report.profile}\` (${report.profile_name}), feature maps in ${report.placement}, ${report.fixes ? '**corrected engine variants (--fixes)**' : 'the published engines'}, ` +
      `input ${report.input}, SRAM garbage seed ${report.seed}, stall limit ${report.stall_limit} power cycles, at most ${report.max_power_cycles} power cycles per run.`,
    '',
    'Every number here is modelled: the same inputs give the same numbers, byte for byte. Wall-clock figures (how fast the simulator runs) are machine-dependent and live apart, in [speed.md](speed.md).',
    '',
    `${report.rows.length} runs; ${stalls} made no forward progress (shown as "stall"). ` +
      (wrong.length ? `**${wrong.length} completed runs produced a wrong output** (marked WRONG, never counted; the cause in parentheses is the finding whose fix, switched on alone, makes the same run complete with the reference output): ${wrong.join(', ')}.` : 'Every completed run produced the bit-exact reference output.'),
    '',
    '## Summary',
    '',
    ...engines.flatMap((e) => [
      `### ${engineShort(e)} over HAWAII (speedup = HAWAII latency / ${engineShort(e)} latency; > 1: ${engineShort(e)} is faster)`,
      '',
      headline(report, e, hb, kc),
      '',
      `Over all ${report.conditions.length} conditions (both runs completed with the reference output; the per-condition numbers are in "Speedup over HAWAII" below):`,
      '',
      verdictTable(report, e),
      '',
    ]),
    '### Where the extra time goes (continuous power)',
    '',
    'Each engine\'s breakdown minus the continuous engine\'s (which preserves nothing), by category: the cost of progress preservation itself.',
    '',
    overheadTable(report),
    '',
    '### Where power failures begin',
    '',
    `The datasheet active draw (profile.ts \`activePowerW\`: 118 uA/MHz x 16 MHz x 3.0 V) is **${report.device.active_power_mW.toFixed(2)} mW**. ` +
      'The cost table is per event, though, and the average power an engine actually draws in the model (energy / on-time of its uninterrupted run) is higher, because weight fetches from program FRAM are charged the measured FRAM -> SRAM copy energy over a 125 ns access (see the assumptions). A constant harvester above the average draw never lets the capacitor run down; below it, power fails.',
    '',
    drawSection(report),
    '',
    `### Smallest capacitor that still completes (${report.min_capacitor_harvester ?? 'not run'})`,
    '',
    minCapSection(report),
    '',
    '## Charts',
    '',
    ...chartList.flatMap((c) => [`### ${c.title}`, '', `![${c.title}](${c.file})`, '']),
    '## Conditions',
    '',
    conditionsSection(report),
    '',
    '## Models (version)',
    '',
    modelsSection(report),
    '',
    '## Latency per model, engine, B and condition',
    '',
    'Seconds, including recharge time. "stall": no forward progress (see the reason in bench.json or rows.csv).',
    '',
    latencyTables(report),
    '',
    '## Speedup over HAWAII',
    '',
    speedupTables(report),
    '',
    '## Best B per engine and condition',
    '',
    bestBatchTable(report),
    '',
    '## Latency over a lower bound',
    '',
    'The lower bound is the larger of the compute-only time and the time to harvest the compute-only energy (see the assumptions); each engine column gives its best ratio over B.',
    '',
    boundTable(report),
    '',
    `## Overhead breakdown (share of latency by category)`,
    '',
    `### Under ${report.conditions.find((c) => c.id === bc)?.description ?? bc}`,
    '',
    breakdownTable(report, bc),
    '',
    '### Under continuous power',
    '',
    breakdownTable(report, CONTINUOUS.id),
    '',
    layerSection(report),
    '## Modelling assumptions',
    '',
    'What every device event costs in the model, generated from the profile objects the simulator charges (src/device/profile.ts; every number cites ../shared/reference/device.md):',
    '',
    costTable(p),
    '',
    ...ASSUMPTIONS.map((a) => `- **${a.topic}.** ${a.text}`),
    '',
    '## Calibration against device.md',
    '',
    'Each microbenchmark of device.md run as a tiny program of real Device events (DMA read/write of n words, an LEA MAC over n elements, CPU operations, a reboot) on both profiles; fixed and per-element costs recovered from two sizes. Numbers in parentheses: device.md gives none, shown for information. test/bench/calibration.test.ts checks the same.',
    '',
    calibrationSection(report),
    '',
    '## Skipped combinations',
    '',
    skippedSection(report),
    '',
    '## Files',
    '',
    '- `bench.json`: every row, the derived figures, conditions, model digests, calibration (deterministic).',
    '- `rows.csv`: one line per run with the breakdown in seconds per category.',
    ...chartList.map((c) => `- \`${c.file}\`: ${c.title.toLowerCase()}.`),
    '- `speed.json`, `speed.md`: simulation speed (machine-dependent).',
    '',
  ];
  return out.join('\n');
}

export function renderCsv(report: BenchReport): string {
  const cols = ['model', 'engine', 'batch', 'fixes', 'condition', 'supply', 'capacitor_uF', 'power_mW', 'completed', 'equal', 'latency_s', 'on_time_s', 'recharge_s', 'power_cycles', 'energy_mJ', 'nvm_bytes', 'cycles', 'actions', ...CATEGORIES.map((c) => `${c}_s`), ...CATEGORIES.map((c) => `${c}_mJ`), 'reason'];
  const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = report.rows.map((r) =>
    [
      r.model,
      r.engine,
      String(r.batch),
      r.fixes.join(' '),
      r.condition,
      r.supply,
      r.capacitor_uF === null ? '' : String(r.capacitor_uF),
      r.power_mW === null ? '' : String(r.power_mW),
      String(r.completed),
      String(r.equal),
      String(r.latency_s),
      String(r.on_time_s),
      String(r.recharge_s),
      String(r.power_cycles),
      String(r.energy_mJ),
      String(r.nvm_bytes),
      String(r.cycles),
      String(r.actions),
      ...CATEGORIES.map((c) => String(r.breakdown[c].seconds)),
      ...CATEGORIES.map((c) => String(r.breakdown[c].energy_mJ)),
      r.reason ?? '',
    ]
      .map(q)
      .join(','),
  );
  return `${cols.join(',')}\n${lines.join('\n')}\n`;
}

export function renderSpeed(speed: SpeedReport): string {
  const rows = speed.models.map((m) => [
    m.model,
    String(m.runs),
    m.wall_s.toFixed(2),
    fmtS(m.sim_on_s),
    fmtS(m.sim_latency_s),
    m.on_s_per_wall_s.toFixed(1),
    m.latency_s_per_wall_s.toFixed(1),
    `${(m.actions_per_wall_s / 1e6).toFixed(2)} M`,
    m.load_s.toFixed(2),
  ]);
  const engines = [...new Set(speed.models.flatMap((m) => Object.keys(m.uninterrupted)))];
  const unint = speed.models.map((m) => [
    m.model,
    ...engines.map((e) => {
      const u = m.uninterrupted[e];
      return u ? `${u.on_s_per_wall_s.toFixed(1)} s/s, ${(u.actions_per_wall_s / 1e6).toFixed(2)} M actions/s` : '';
    }),
  ]);
  return [
    '# japari bench: simulation speed (MACHINE-DEPENDENT)',
    '',
    'Wall-clock figures of the sweep that produced README.md / bench.json. Unlike everything else in this folder they depend on the machine, its load (other processes share its CPUs) and the Node version; compare ratios within one run, not across runs.',
    '',
    `Machine: ${speed.machine.cpu_model}, ${speed.machine.cpus} CPUs, ${speed.machine.platform}, Node ${speed.machine.node}. ` +
      `${speed.jobs} jobs on ${speed.workers} worker thread(s): **${speed.total_wall_s.toFixed(1)} s wall for the whole sweep**, ${speed.busy_wall_s.toFixed(1)} s of per-job time.`,
    '',
    '## All runs of the sweep (including power failures and the minimum-capacitor probes)',
    '',
    table(['model', 'runs', 'wall (s)', 'simulated on-time (s)', 'simulated latency (s)', 'on-time s per wall s', 'latency s per wall s', 'device actions per wall s', 'load + quantize (s)'], rows),
    '',
    '## Uninterrupted inferences (continuous power), per engine',
    '',
    table(['model', ...engines.map((e) => `${e}`)], unint),
    '',
    '## Exhaustive exploration, beside the actions/s above (same run)',
    '',
    table(
      ['model', 'engine', 'write units', 'single failures sampled', 'points/s (wall)', 'points/s (CPU)', 'pairs sampled', 'pairs/s (wall)', 'pairs/s (CPU)', 'device actions/s (all runs)', 'setup (s)'],
      speed.models
        .filter((m) => m.exploration)
        .map((m) => {
          const x = m.exploration!;
          return [
            m.model,
            `${x.engine} B=${x.batch}`,
            String(x.write_units),
            `${x.points} (1/${x.linear_stride} of them, contiguous)`,
            x.points_per_wall_s.toFixed(0),
            x.points_per_cpu_s.toFixed(0),
            `${x.pairs} (under 1/${x.pairs_stride} of the first failures)`,
            x.pairs_per_wall_s.toFixed(0),
            x.pairs_per_cpu_s.toFixed(0),
            `${(m.actions_per_wall_s / 1e6).toFixed(2)} M`,
            x.setup_wall_s.toFixed(2),
          ];
        }),
    ),
    '',
    "A point is one failure placed at a write unit: rebuild the NVM state from the nearest checkpoint, reboot with garbage SRAM, seek, re-execute until the state equals the uninterrupted run's, check the seek (src/properties/explore.ts). A pair is a second failure inside such a recovery (`japari explore --depth 2`). Both rates leave out recording the uninterrupted run (setup, once per campaign); CPU rates count this thread's CPU time, robust to other processes on the machine.",
    '',
    'Simulated on-time is the device\'s modelled active time; latency adds the recharge time, which the model computes in closed form (so it costs nothing to simulate). A device action is one atomic step of the model (a DMA transfer, one byte of an SPI write, an LEA command, a CPU step). Wall time per run includes the Q15 reference computed once per deployment and the JIT warm-up of the first runs.',
    '',
    'Slowest jobs:',
    '',
    table(['job', 'wall (s)'], speed.slowest.map((s) => [s.job, s.wall_s.toFixed(2)]), ['l', 'r']),
    '',
  ].join('\n');
}

/** A deep copy with every non-integer number rounded to `digits` significant digits. */
export function roundNumbers<T>(x: T, digits = 10): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'number') return Number.isInteger(v) || !Number.isFinite(v) ? v : +v.toPrecision(digits);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, y]) => [k, walk(y)]));
    return v;
  };
  return walk(x) as T;
}

/** Every file of the report folder, by name. */
export function reportFiles(report: BenchReport, speed: SpeedReport): Record<string, string> {
  const cs = charts(report);
  const files: Record<string, string> = {
    'README.md': renderMarkdown(report, cs),
    // Compact, numbers to 10 significant digits: the file holds every row (a few MB otherwise).
    'bench.json': `${stableStringify(roundNumbers(report), 0)}\n`,
    'rows.csv': renderCsv(roundNumbers(report)),
    'speed.json': `${stableStringify(speed)}\n`,
    'speed.md': renderSpeed(speed),
  };
  for (const c of cs) files[c.file] = c.svg;
  return files;
}

