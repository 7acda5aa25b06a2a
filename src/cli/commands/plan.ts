/**
 * `japari plan --model M --engine E --batch B [--firmware F] [--json]`: per layer the tiles, LEA
 * calls, DMA transfers, counter/footprint writes, NVM slot bytes, LEA RAM words, SRAM use and
 * predicted cycles (src/bench/plan-report.ts). A network whose tensors do not fit the NVM is a
 * ConfigError naming the tensor, the bytes it needs and the bytes there are (exit 2).
 */
import type { Command } from 'commander';
import { planReport, type PlanReport } from '../../bench/plan-report.js';
import { DEFAULT_FIRMWARE, FIRMWARE_IDS } from '../../engines/reference/firmware.js';
import { stableStringify } from '../../util/json.js';
import { UsageError } from '../../util/errors.js';
import type { Io } from '../io.js';
import { createStyle } from '../style.js';
import { fmtCount, parsePositiveInt } from '../units.js';
import { parseEngine, parseFirmware } from '../options.js';
import { checkBatchForEngine, loadTargetModel, resolveModelSpec } from '../verify-options.js';
import { type CommandContext, EXIT_OK } from '../command.js';

export const name = 'plan';

export interface PlanOptions {
  readonly model: string;
  readonly engine: string;
  readonly batch: number;
  readonly firmware: string;
  readonly json: boolean;
}

export function planText(r: PlanReport, io: Io): string {
  const s = createStyle(io);
  const head = `${s.value(r.model)}  engine ${r.engine}, B = ${r.batch}, firmware ${r.firmware}\n` +
    `NVM ${fmtCount(r.nvm.bytes_used)} of ${fmtCount(r.nvm.bytes_available)} bytes (${r.nvm.slots} slots x ${fmtCount(r.nvm.slot_bytes)} bytes at ${r.nvm.slot_bases.join(', ')}; record ${r.nvm.record_bytes}, input ${r.nvm.input_bytes}); ` +
    `LEA RAM ${r.lea_ram.words_used} of ${r.lea_ram.words_usable} words\n` +
    `NVM layout: ${r.nvm.layout}\n\n`;
  const rows = r.layers.map((l) => [
    String(l.index),
    l.name,
    Object.entries(l.tiles).map(([k, v]) => `${k}=${v}`).join(' '),
    fmtCount(l.lea_calls),
    fmtCount(l.dma_transfers),
    fmtCount(l.indicator_writes),
    `${l.nvm_slot}:${fmtCount(l.nvm_output_bytes)}/${fmtCount(l.nvm_slot_bytes)}`,
    String(l.lea_ram_words),
    String(l.sram_words),
    fmtCount(l.cycles),
    `${(l.seconds * 1e3).toFixed(2)} ms`,
  ]);
  const table = s.table(
    [
      { header: '#', align: 'right' },
      { header: 'layer' },
      { header: 'tiles' },
      { header: 'LEA calls', align: 'right' },
      { header: 'DMA', align: 'right' },
      { header: 'indicator writes', align: 'right' },
      { header: 'NVM slot:bytes/size', align: 'right' },
      { header: 'LEA words', align: 'right' },
      { header: 'SRAM words', align: 'right' },
      { header: 'cycles', align: 'right' },
      { header: 'time', align: 'right' },
    ],
    rows,
  );
  return `${head}${table}\n\ntotal ${fmtCount(r.total_cycles)} cycles, ${r.total_seconds.toFixed(3)} s (continuous power)\n`;
}

export async function runPlan(o: PlanOptions, io: Io): Promise<number> {
  const m = loadTargetModel(io, resolveModelSpec(io, o.model));
  const r = planReport(m, o.engine, o.batch, o.firmware);
  io.out(o.json ? `${stableStringify(r)}\n` : planText(r, io));
  return EXIT_OK;
}

export function register(program: Command, ctx: CommandContext): void {
  program
    .command('plan')
    .description('per layer: tiles, LEA calls, DMA transfers, indicator writes, NVM/LEA RAM/SRAM use and predicted cycles')
    .option('--model <name|file.onnx>', 'model (default lenet)', 'lenet')
    .option('--engine <kind>', 'engine (default continuous)', 'continuous')
    .option('--batch <B>', 'preservation granularity B', '1')
    .option('--firmware <id>', `firmware build: ${FIRMWARE_IDS.join(', ')}`, DEFAULT_FIRMWARE)
    .option('--json', 'print one JSON document to stdout')
    .action(async (raw: { model: string; engine: string; batch: string; firmware: string; json?: boolean }) => {
      const engine = parseEngine(raw.engine);
      const batch = parsePositiveInt(raw.batch, '--batch');
      checkBatchForEngine(engine, batch);
      if (raw.model.trim() === '') throw new UsageError('--model: expected a model name or a .onnx path');
      ctx.setExit(await runPlan({ model: raw.model.trim(), engine, batch, firmware: parseFirmware(raw.firmware), json: raw.json === true }, ctx.io));
    });
}
