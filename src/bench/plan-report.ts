/**
 * `japari plan`: what a deployment does per layer, as a firmware engineer compares it with the
 * device's own plan (a TFLM arena report, `stedgeai analyze`): the tiles, the number of LEA calls,
 * DMA transfers and counter/footprint writes, the NVM bytes of the layer's output slot, the LEA
 * RAM words and other SRAM it uses, and the predicted cycles.
 *
 * Counts and cycles come from one inference on the executable model under continuous power (the
 * model is deterministic, so the counts are the plan's); tiles and memory from the EnginePlan.
 */
import { Deployment, runInference } from '../engines/runner.js';
import type { EngineLayer, EnginePlan } from '../engines/reference/plan.js';
import type { LoadedModel } from '../model/models.js';
import { LEA_RAM_BASE, CATEGORIES, type TraceEvent } from '../device/device.js';
import { msp430fr5994, type DeviceProfile } from '../device/profile.js';

export interface PlanLayer {
  readonly index: number;
  readonly name: string;
  readonly kind: string;
  readonly tiles: Readonly<Record<string, number>>;
  readonly lea_calls: number;
  readonly dma_transfers: number;
  /** Transfers from program FRAM (weights) among them. */
  readonly weight_copies: number;
  /** HAWAII counter writes, or transfers that carry JAPARI footprints / indicators. */
  readonly indicator_writes: number;
  readonly nvm_slot: number;
  readonly nvm_output_bytes: number;
  /** Bytes of the output's slot (the layout's slot size). */
  readonly nvm_slot_bytes: number;
  readonly lea_ram_words: number;
  /** Non-LEA SRAM staging words the layer may use (footprint stripping, scratch). */
  readonly sram_words: number;
  readonly cycles: number;
  readonly seconds: number;
}

export interface PlanReport {
  readonly schema: 1;
  readonly command: 'plan';
  readonly model: string;
  readonly engine: string;
  readonly batch: number;
  readonly firmware: string;
  readonly nvm: {
    readonly bytes_used: number;
    readonly bytes_available: number;
    readonly slots: number;
    readonly slot_bytes: number;
    /** NVM byte address of each slot (base + slot x slot_bytes, Stateful-CNN intermediate_values_offset). */
    readonly slot_bases: readonly number[];
    /** Where the slot count and size come from (the build's transform.py config, or japari's rule). */
    readonly layout: string;
    readonly record_bytes: number;
    readonly input_bytes: number;
  };
  readonly lea_ram: { readonly words_used: number; readonly words_usable: number };
  readonly layers: readonly PlanLayer[];
  readonly total_cycles: number;
  readonly total_seconds: number;
}

function tilesOf(l: EngineLayer): Record<string, number> {
  switch (l.kind) {
    case 'conv':
      return {
        input_channel_tiles: l.slices.length,
        input_channels_per_tile: Math.max(...l.slices.map((s) => s.c1 - s.c0)),
        output_channels_per_call: l.otc,
        filter_tiles: l.filterTiles,
        rows_per_tile: l.rowTile,
      };
    case 'gemm':
      return { input_tiles: l.tiles.length, input_rows_per_tile: Math.max(...l.tiles.map((t) => t.r1 - t.r0)), outputs_per_call: l.opFilters, calls_per_tile: l.calls.length };
    case 'merge':
      return { chunk_words: l.chunk, slices: l.in.slices };
    case 'relu':
      return { tile_words: l.tile, per_element: l.perElement ? 1 : 0 };
    case 'maxpool':
      return { kernel: l.op.kernel[0] * l.op.kernel[1], per_element: l.perElement ? 1 : 0 };
    case 'add':
      return { chunk_words: l.chunk };
    default:
      return {};
  }
}

function leaWords(l: EngineLayer): number {
  switch (l.kind) {
    case 'conv':
    case 'gemm':
    case 'merge':
    case 'add':
      return l.lea.end - LEA_RAM_BASE;
    case 'relu':
      return l.buf + l.tile - LEA_RAM_BASE;
    case 'maxpool':
      return l.acc + l.in.layout.Cs - LEA_RAM_BASE;
    case 'gap':
      return l.out1 + 2 - LEA_RAM_BASE;
    case 'concat':
      return l.outBuf + l.out.layout.Cs - LEA_RAM_BASE;
  }
}

function sramWords(l: EngineLayer, p: DeviceProfile): number {
  // Staging below the LEA RAM: footprint stripping of conv inputs and single-word scratch.
  if (l.kind === 'conv' && (l.in.layout.fpEvery > 0 || l.slices.length > 1)) return p.sramMap.stageWords;
  return 2;
}

export function planReport(m: LoadedModel, engine: string, batch: number, firmware: string): PlanReport {
  const d = new Deployment(m.q, { engine, batch, placement: 'spi-fram', profile: msp430fr5994, firmware });
  const plan: EnginePlan = d.plan;
  const r = runInference(d, { input: m.inputQ(0), supply: { kind: 'continuous' }, seed: 0, trace: true });
  const n = Math.max(plan.layers.length, plan.stages.length);
  const per = Array.from({ length: n }, () => ({ lea: 0, dma: 0, rom: 0, ind: 0 }));
  const carriesFootprints = plan.layers.map((l) => l.out.layout.fpEvery > 0);
  for (const e of r.trace as readonly TraceEvent[]) {
    if (e.layer < 0 || e.layer >= n) continue;
    const c = per[e.layer]!;
    // JAPARI's footprints ride with the outputs: every output write of such a layer carries some.
    if ((e.kind === 'dma-write' || e.kind === 'lea+dma-write') && e.category === 'preserve-output' && carriesFootprints[e.layer]) c.ind++;
    if (e.kind === 'lea' || e.kind === 'lea+dma-write') c.lea++;
    if (e.kind === 'dma-read' || e.kind === 'dma-write' || e.kind === 'dma-rom' || e.kind === 'lea+dma-write') c.dma++;
    if (e.kind === 'dma-rom') c.rom++;
    if ((e.kind === 'dma-write' || e.kind === 'lea+dma-write') && (e.category === 'preserve-indicator' || /footprint|indicator|counter/.test(e.label))) c.ind++;
  }
  const hz = plan.params.profile.clockHz;
  const lb = r.device.layerBreakdown(n);
  const cyclesOf = (i: number) => CATEGORIES.reduce((s, c) => s + lb[i]![c].cycles, 0);
  const layers: PlanLayer[] = plan.layers.map((l, i) => ({
    index: i,
    name: l.name,
    kind: l.kind,
    tiles: tilesOf(l),
    lea_calls: per[i]!.lea,
    dma_transfers: per[i]!.dma,
    weight_copies: per[i]!.rom,
    indicator_writes: per[i]!.ind,
    nvm_slot: l.out.slot,
    nvm_output_bytes: 2 * l.out.words,
    nvm_slot_bytes: plan.nvm.slotBytes,
    lea_ram_words: leaWords(l),
    sram_words: sramWords(l, plan.params.profile),
    cycles: Math.round(cyclesOf(i)),
    seconds: +(cyclesOf(i) / hz).toPrecision(6),
  }));
  const nvm = plan.nvm;
  return {
    schema: 1,
    command: 'plan',
    model: m.name,
    engine,
    batch,
    firmware: plan.params.firmware,
    nvm: {
      bytes_used: nvm.end,
      bytes_available: plan.params.profile.nvm[plan.params.placement].bytes,
      slots: nvm.slots.length,
      slot_bytes: nvm.slotBytes,
      slot_bases: [...nvm.slots],
      layout: nvm.origin,
      record_bytes: 2 * nvm.recordBytes,
      input_bytes: 2 * plan.input.words,
    },
    lea_ram: { words_used: plan.leaWordsUsed, words_usable: plan.params.profile.sram.leaUsableWords },
    layers,
    total_cycles: Math.round(r.cycles),
    total_seconds: +r.latencyS.toPrecision(6),
  };
}
