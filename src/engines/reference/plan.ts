/**
 * Deployment planning: from a quantized network and engine parameters to everything the
 * engines need on the device: engine layers, tiles that fit the LEA RAM, NVM slots and
 * addresses, the read-only program image (pre-arranged filter matrices), and the
 * ArithmeticPlan that defines the bit-exact Q15 reference for this deployment.
 *
 * Tiling follows the reference engine (algorithms.md "Reference engine parameters"):
 *  - conv input-channel tile: start at C (odd) or the largest power of two <= 128 dividing C;
 *    filter_len = roundeven(ict * kW + 1) * 2 * kH; halve the output tile from OC while
 *    (2 * otc + 2) * filter_len > 1884; if it gets odd or below op_filters, halve the input tile.
 *    The factor 2 is applied for every engine (as Stateful-CNN's transform.py does), so the
 *    input tiles -- the only tiling that changes the arithmetic -- are the same for all engines
 *    and B, and all engines share one bit-exact reference.
 *  - the output tile is then chosen per engine (n = 2 * otc for JAPARI, otc otherwise);
 *    output rows are processed in tiles of up to 8 (Stateful-CNN: min(H, 8 * stride) input rows).
 *  - FC: op_filters outputs per LEA call (4 for MNIST/KWS/HAR, 2 for CIFAR-10); the input
 *    tile is the largest (<= 512 rows) that fits the LEA buffer with room for B = 1 footprints.
 * Every tile is checked against the real LEA RAM footprint of the engine's buffers; a layer
 * that cannot fit is a ConfigError that says how many words it needs.
 */
import type { Network, Node, Shape, ConvOp, MaxPoolOp } from '../../model/ir.js';
import { numel, shapeStr } from '../../model/ir.js';
import type { QuantizedNetwork, QNode, QConv, QGemm } from '../../model/quantize.js';
import type { ArithmeticPlan, LayerArithmetic, ArithPart } from '../../model/q15.js';
import { type Layout, type Orient, fmapLayout, vecLayout, chanWord, extWords, ceilTo, logicalOfWords } from '../../model/layout.js';
import type { DeviceProfile, NvmPlacement } from '../../device/profile.js';
import { type LeaArithmetic, TI_REFERENCE_ARITHMETIC } from '../../device/lea.js';
import { LEA_RAM_BASE } from '../../device/device.js';
import { ConfigError, InputError } from '../../util/errors.js';
import { recordBytes } from '../common/record.js';
import { RomImage } from '../common/rom.js';
import { type FirmwareId, type FirmwareProfile, type FittedConstants, firmwareOf, deviceFor, withConstants, LIBRARY_DEFAULT_FIRMWARE } from './firmware.js';

/**
 * output-preservation: outputs are not written to NVM (Baseline, JAPARI without output
 * preservation); indicator-preservation: progress indicators are not written (HAWAII without
 * footprint preservation). Modelled as writes that land at no cost, so later layers still read
 * the right values (the run cannot recover, so it runs under continuous power only).
 */
export type Ablation = 'output-preservation' | 'indicator-preservation';
export const ABLATIONS: readonly Ablation[] = ['output-preservation', 'indicator-preservation'];

/** An engine kind of the registry (src/engines/registry.ts): built-in or registered by a user. */
export type EngineKind = string;

export interface EngineParams {
  readonly engine: EngineKind;
  /** Preservation granularity B (values per progress indicator). */
  readonly batch: number;
  readonly placement: NvmPlacement;
  readonly profile: DeviceProfile;
  readonly arithmetic?: LeaArithmetic;
  /** FC outputs per LEA call; default from the model name (4, or 2 for CIFAR-10). */
  readonly opFilters?: number;
  /** Overlap each result's NVM write with the next LEA call (default true). */
  readonly piggyback?: boolean;
  /** Upper bound on output rows per conv row tile (default 8). */
  readonly maxRowTile?: number;
  /** Number of NVM feature-map slots (default: 3, more if liveness needs them). */
  readonly slots?: number;
  /** The firmware build (firmware.ts FIRMWARE_IDS); default LIBRARY_DEFAULT_FIRMWARE. */
  readonly firmware?: string;
  /** Override the build's fitted constants (calibration only). */
  readonly firmwareConstants?: FittedConstants | null;
  /** An ablation the authors measured (firmware-2021.md "Ablations"); continuous power only. */
  readonly ablate?: Ablation | null;
  /** Seeded faults switched on (catalogue.ts FAULTS; the Deployment checks they belong to the engine). */
  readonly faults?: readonly string[];
  /** Corrections of published-design findings switched on (catalogue.ts FIXES). */
  readonly fixes?: readonly string[];
}

/** A tensor as stored: where, in which layout, and how many slices (partial sums). */
export interface TensorRef {
  readonly name: string;
  /** -1: the input sample region (a constant: no footprints, no slot state). */
  readonly slot: number;
  /** NVM byte address of stored word 0 of slice 0. */
  readonly base: number;
  readonly layout: Layout;
  readonly slices: number;
  /** Stored words of all slices. */
  readonly words: number;
}

interface LayerCommon {
  readonly index: number;
  /** Display name, e.g. "Conv_0" or "Conv_0/merge". */
  readonly name: string;
  readonly node: string;
  readonly out: TensorRef;
  /** How the progress seeker maps job indices to NVM offsets (Stateful-CNN job_index_to_offset). */
  readonly jobMap: 'conv' | 'generic';
}

export interface ConvSlice {
  readonly c0: number;
  readonly c1: number;
  /** Words per row segment: kQ * (c1 - c0) values + one constant, rounded up to even. */
  readonly segLen: number;
  /** A-vector length kP * segLen. */
  readonly L: number;
  /** Row of the B matrix multiplied by the constant that carries bias and footprint weights. */
  readonly biasRow: number;
  /** ROM word offset of the B matrix of each filter tile, [L x ncolsLea]. */
  readonly rom: readonly number[];
}

export interface ConvLayer extends LayerCommon {
  readonly kind: 'conv';
  readonly in: TensorRef;
  readonly op: ConvOp;
  readonly slices: readonly ConvSlice[];
  /** Logical output channels and computed channels (JAPARI rounds up to a multiple of B). */
  readonly OC: number;
  readonly OCp: number;
  /** Output channels per LEA call and the number of filter tiles. */
  readonly otc: number;
  readonly filterTiles: number;
  /** Stored words one LEA call writes, and the LEA column count (even). */
  readonly callWords: number;
  readonly ncolsLea: number;
  /** Kernel/stride/padding along the input's outer (P) and inner (Q) spatial axes. */
  readonly kP: number;
  readonly kQ: number;
  readonly sP: number;
  readonly sQ: number;
  readonly padP: number;
  readonly padQ: number;
  readonly Pin: number;
  readonly Qin: number;
  readonly Pout: number;
  readonly Qout: number;
  /** Output rows per row tile. */
  readonly rowTile: number;
  /** LEA RAM word addresses. */
  readonly lea: { readonly b: number; readonly a: number; readonly c0: number; readonly c1: number; readonly end: number };
  /** Non-LEA SRAM staging for reading footprinted input. */
  readonly stage: number;
}

export interface GemmTile {
  /** Stored input words (non-footprint, in storage order) of this tile: indices into `inWords`. */
  readonly r0: number;
  readonly r1: number;
  /** ROM word offset of each call's B block [(r1 - r0 + 2) x ncolsLea]. */
  readonly rom: readonly number[];
}

export interface GemmLayer extends LayerCommon {
  readonly kind: 'gemm';
  readonly in: TensorRef;
  readonly N: number;
  /** Stored word offsets (within the input tensor) of every real input value, storage order. */
  readonly inWords: Int32Array;
  readonly tiles: readonly GemmTile[];
  readonly opFilters: number;
  /** Per call: first output, width, stored words (values + footprints), stored offset in a slice. */
  readonly calls: readonly { readonly n0: number; readonly width: number; readonly words: number; readonly off: number; readonly fps: boolean }[];
  readonly ncolsLea: number;
  readonly lea: { readonly a: number; readonly b: number; readonly c0: number; readonly c1: number; readonly end: number };
}

export interface MergeLayer extends LayerCommon {
  readonly kind: 'merge';
  readonly in: TensorRef;
  /** Stored words per chunk (a multiple of B + 1 under JAPARI). */
  readonly chunk: number;
  readonly lea: { readonly acc: number; readonly tmp: number; readonly end: number };
}

export interface ReluLayer extends LayerCommon {
  readonly kind: 'relu';
  readonly in: TensorRef;
  /** Stored words per tile (16 real values and their footprints). */
  readonly tile: number;
  readonly buf: number;
  /** One read and one write per value (a ReLU after an FC layer in the 2021 builds). */
  readonly perElement: boolean;
}

export interface MaxPoolLayer extends LayerCommon {
  readonly kind: 'maxpool';
  readonly in: TensorRef;
  readonly op: MaxPoolOp;
  readonly buf: number;
  readonly acc: number;
  /** One output value at a time: single-word window reads and one single-word write (feeds a Reshape, 2021 builds). */
  readonly perElement: boolean;
}

export interface GapLayer extends LayerCommon {
  readonly kind: 'gap';
  readonly in: TensorRef;
  readonly buf: number;
  readonly out1: number;
}

export interface ConcatLayer extends LayerCommon {
  readonly kind: 'concat';
  readonly ins: readonly TensorRef[];
  readonly buf: number;
  readonly outBuf: number;
}

export interface AddLayer extends LayerCommon {
  readonly kind: 'add';
  readonly a: TensorRef;
  readonly b: TensorRef;
  readonly chunk: number;
  readonly lea: { readonly x: number; readonly y: number; readonly end: number };
}

export type EngineLayer = ConvLayer | GemmLayer | MergeLayer | ReluLayer | MaxPoolLayer | GapLayer | ConcatLayer | AddLayer;

export interface NvmMap {
  /** Model record shadow pair. */
  readonly record: number;
  readonly recordBytes: number;
  /** HAWAII footprint counters: per layer two 4-byte copies. */
  readonly counters: number;
  readonly samples: number;
  readonly slots: readonly number[];
  readonly slotBytes: number;
  readonly end: number;
  /** Where the slot count and size come from (the build's transform.py config, or japari's rule). */
  readonly origin: string;
}

/** The NVM slot layout a deployment uses: from the build's per-model config, or japari's rule. */
export interface SlotLayout {
  readonly slots: number;
  /** Bytes per slot; null: the largest stored tensor, 16-byte aligned (japari's rule). */
  readonly slotBytes: number | null;
  /** The conv input tile halves until the partial sums are below this many bytes (transform.py), or null. */
  readonly convTileLimit: number | null;
  readonly origin: string;
}

export interface EnginePlan {
  readonly q: QuantizedNetwork;
  readonly params: Required<Omit<EngineParams, 'arithmetic' | 'opFilters' | 'maxRowTile' | 'slots' | 'faults' | 'fixes' | 'firmware' | 'ablate' | 'firmwareConstants'>> & {
    readonly firmware: FirmwareId;
    readonly firmwareConstants: FittedConstants | null;
    readonly ablate: Ablation | null;
    readonly faults: readonly string[];
    readonly fixes: readonly string[];
    readonly arithmetic: LeaArithmetic;
    readonly opFilters: number;
    readonly maxRowTile: number;
    readonly slots: number;
  };
  /** Footprints in feature maps (JAPARI). */
  readonly aug: boolean;
  readonly B: number;
  readonly layers: readonly EngineLayer[];
  readonly input: TensorRef;
  readonly output: TensorRef;
  /** Output tensor name in the IR (after aliases). */
  readonly outputTensor: string;
  readonly nvm: NvmMap;
  readonly rom: Int16Array;
  readonly arithmetic: ArithmeticPlan;
  /** LEA RAM words used at most by any layer. */
  readonly leaWordsUsed: number;
  /** Every layer the engine runs, in order (also for designs whose `layers` are not the reference engine's). */
  readonly stages: readonly { readonly name: string; readonly kind: string }[];
  /**
   * Design-specific plan data (the loop-count engine keeps its own plan under `loopCount`, and
   * `layers` is then empty; a user's design may keep anything here).
   */
  readonly extra?: { readonly [key: string]: unknown };
}

// ---------------------------------------------------------------------------------------------

const RECORD_SLOTS_MAX = 16;
export { recordBytes };

function roundEven(x: number): number {
  return x % 2 === 0 ? x : x + 1;
}

/** FC outputs per LEA call for the published models (algorithms.md "Reference engine parameters"). */
export function defaultOpFilters(modelName: string): number {
  return /cifar|squeeze/i.test(modelName) ? 2 : 4;
}

function largestPow2Dividing(c: number, cap: number): number {
  let p = 1;
  while (p * 2 <= cap && c % (p * 2) === 0) p *= 2;
  return p;
}

/**
 * The slot layout of a build for a network: transform.py's `num_slots` x `intermediate_values_size`
 * for the models the authors configured (doubled under JAPARI's footprints), japari's rule
 * otherwise. `slotsOverride` (EngineParams.slots) replaces the slot count.
 */
export function slotLayoutFor(fw: FirmwareProfile, model: string, footprints: boolean, slotsOverride?: number): SlotLayout {
  const rule = fw.nvm;
  const cfg = rule ? rule.models[model] : undefined;
  if (!rule || !cfg) {
    const slots = slotsOverride ?? rule?.defaultSlots ?? 3;
    const why = rule ? `${fw.id} has no config for ${model}` : `${fw.id}`;
    return { slots, slotBytes: null, convTileLimit: null, origin: `japari's rule (${why}): ${slots} slots, each the largest stored tensor rounded up to 16 bytes` };
  }
  const doubled = footprints && rule.footprintsDoubleSlot;
  const slotBytes = doubled ? 2 * cfg.slotBytes : cfg.slotBytes;
  const slots = slotsOverride ?? cfg.slots;
  const origin =
    `${fw.id} config for ${model}: ${slots} slots of ${slotBytes} bytes` +
    (doubled ? ` (intermediate_values_size ${cfg.slotBytes}, doubled for JAPARI's footprints)` : ' (intermediate_values_size)') +
    ', transform.py';
  return { slots, slotBytes, convTileLimit: rule.convTileFitsSlot ? slotBytes : null, origin };
}

/**
 * The engine-independent conv input tile (algorithms.md tile search with n = 2 * otc). With
 * `fit` (the 2021 transform.py, determine_conv_tile_c), the partial sums of all input tiles must
 * also fit one slot: params_len = C / ict * OC * OH * OW * 2 < slot bytes. transform.py halves the
 * input tile while they do not, but halving only adds partial sums (params_len doubles), so the
 * rule never changes a tile: it either holds at the LEA tile or transform.py fails (its assert on
 * input_tile_c). Here that failure is a ConfigError naming the tensor and the bytes.
 */
export function convInputTile(
  C: number,
  OC: number,
  kP: number,
  kQ: number,
  usable: number,
  minOtc: number,
  where: string,
  fit?: { readonly tensor: string; readonly outValues: number; readonly slotBytes: number; readonly origin: string },
): number {
  const ict = leaInputTile(C, OC, kP, kQ, usable, minOtc, where);
  if (fit) {
    const paramsLen = (C / ict) * fit.outValues * 2;
    if (!(paramsLen < fit.slotBytes)) {
      const n = Math.ceil(C / ict);
      throw new ConfigError(
        `${where}: tensor ${fit.tensor} (partial sums of ${n} input tile${n === 1 ? '' : 's'} before the merge) needs ${paramsLen} bytes, an NVM slot holds ${fit.slotBytes} (${fit.origin}); smaller input tiles only add partial sums`,
      );
    }
  }
  return ict;
}

/** The input tile the LEA buffer allows. */
function leaInputTile(C: number, OC: number, kP: number, kQ: number, usable: number, minOtc: number, where: string): number {
  let ict = C % 2 === 1 ? C : largestPow2Dividing(C, 128);
  for (;;) {
    const filterLen = roundEven(ict * kQ + 1) * 2 * kP;
    let otc = OC;
    let ok = true;
    while ((2 * otc + 2) * filterLen > usable) {
      otc = Math.floor(otc / 2);
      if (otc % 2 === 1 || otc < minOtc) {
        ok = false;
        break;
      }
    }
    if (ok) return ict;
    if (ict === 1) {
      throw new ConfigError(
        `${where}: a ${kP}x${kQ} kernel with ${OC} output channels cannot be tiled into ${usable} words of LEA RAM even with 1 input channel per tile`,
      );
    }
    ict = Math.max(1, Math.floor(ict / 2));
  }
}

/** The engine-independent FC input tile (rows of the B block). */
export function gemmInputTile(K: number, opf: number, usable: number, where: string): number {
  const fw = roundEven(2 * opf); // room for B = 1 footprints
  let kt = Math.min(K, 512);
  while (kt > 0 && kt + 2 + (kt + 2) * fw + 2 * fw > usable) kt--;
  if (kt < 1) throw new ConfigError(`${where}: ${opf} outputs per LEA call do not fit ${usable} words of LEA RAM`);
  return kt;
}

interface StorageTensor {
  name: string;
  layout: Layout;
  slices: number;
  /** Engine layer index that writes it (-1: input). */
  producer: number;
  /** Last engine layer index that reads it. */
  lastUse: number;
}

/** Normalise a logical shape to [C, H, W] for feature maps (rank 2 [C, W] becomes [C, 1, W]). */
function asFmap(s: Shape): [number, number, number] | null {
  if (s.length === 3) return [s[0]!, s[1]!, s[2]!];
  if (s.length === 2) return [s[0]!, 1, s[1]!];
  return null;
}

/** How a design lays out the reference engine's tensors. */
export interface ReferenceLayout {
  /**
   * JAPARI's augmentation: one footprint word after every B values of every Conv/FC call (extra
   * filters), feature maps rounded up to whole groups of B (zero filters), footprints carried
   * through ReLU, pooling, merge and add.
   */
  readonly footprints: boolean;
  /**
   * Stateful: conv output channels rounded up to a multiple of B (zero filters) and output tiles
   * kept whole multiples of B, without footprint words (implied by `footprints`).
   */
  readonly groups?: boolean;
}

/** The build a plan's parameters name. */
export function planFirmware(plan: EnginePlan): FirmwareProfile {
  const fw = firmwareOf(plan.params.firmware);
  return plan.params.firmwareConstants ? withConstants(fw, plan.params.firmwareConstants) : fw;
}

/** Parameters every planner shares: the build, its device costs and the ablation. */
export function commonParams(p: EngineParams): { fw: FirmwareProfile; profile: DeviceProfile; ablate: Ablation | null; constants: FittedConstants | null } {
  const constants = p.firmwareConstants ?? null;
  const named = firmwareOf(p.firmware ?? LIBRARY_DEFAULT_FIRMWARE);
  const fw = constants ? withConstants(named, constants) : named;
  return { fw, profile: deviceFor(p.profile, fw), ablate: p.ablate ?? null, constants };
}

/** A layer waiting for its tensors' NVM slots: references are built after slotting. */
interface Pending {
  readonly build: (ref: (t: string) => TensorRef) => EngineLayer;
  readonly reads: string[];
  readonly writes: string;
}

/** What the per-layer planners of planReference share: the deployment's settings and the tables under construction. */
interface PlanCtx {
  readonly net: Network;
  readonly fw: FirmwareProfile;
  /** LEA RAM words a layer may use. */
  readonly usable: number;
  readonly B: number;
  /** Footprints in feature maps (JAPARI). */
  readonly aug: boolean;
  /** Conv output channels rounded up to a multiple of B (JAPARI, Stateful). */
  readonly grouped: boolean;
  /** Footprint interval of stored feature maps: B under JAPARI, else 0. */
  readonly fp: number;
  readonly opf: number;
  readonly maxRowTile: number;
  /** Fix 'japari-pad-vector-groups': vectors (FC, GAP outputs) padded to whole groups of B. */
  readonly padVec: boolean;
  /** Weight of the footprint column (fault 'japari-dummy-weight-2' makes it 2). */
  readonly dummyWeight: number;
  /** Storage tensors, and aliases (reshape/softmax view their input's storage). */
  readonly storage: Map<string, StorageTensor>;
  readonly alias: Map<string, string>;
  readonly arithLayers: Map<string, LayerArithmetic>;
  /** The read-only program image (pre-arranged filter matrices). */
  readonly rom: RomImage;
  leaWordsUsed: number;
  /** Pending layer definitions, in execution order (a layer's index is its position here). */
  readonly pending: Pending[];
  /** Tensors a Reshape reads (Stateful-CNN: a MaxPool feeding one gets the NHWC-to-NCHW flag). */
  readonly reshaped: ReadonlySet<string>;
  /** The NVM slot layout (the build's config for this model, or japari's rule). */
  readonly slotLayout: SlotLayout;
}

/** The IR node a layer planner is planning. */
interface PlanNode {
  readonly qn: QNode;
  readonly node: Node;
  /** Error prefix, e.g. "node Conv_0 (conv)". */
  readonly where: string;
  readonly outShape: Shape;
}

function resolve(ctx: PlanCtx, t: string): string {
  let r = t;
  while (ctx.alias.has(r)) r = ctx.alias.get(r)!;
  return r;
}

/** Check that a layer's LEA RAM buffers, ending at word address `end`, fit the device. */
function useLea(ctx: PlanCtx, end: number, where: string): void {
  const used = end - LEA_RAM_BASE;
  if (used > ctx.usable) throw new ConfigError(`${where}: needs ${used} words of LEA RAM, the device has ${ctx.usable}`);
  ctx.leaWordsUsed = Math.max(ctx.leaWordsUsed, used);
}

/** The index the next pending layer takes. */
function nextLayer(ctx: PlanCtx): number {
  return ctx.pending.length;
}

function use(ctx: PlanCtx, t: string, layerIdx: number): void {
  const s = ctx.storage.get(t)!;
  s.lastUse = Math.max(s.lastUse, layerIdx);
}

function define(ctx: PlanCtx, name: string, layout: Layout, slices: number, producer: number): void {
  ctx.storage.set(name, { name, layout, slices, producer, lastUse: -1 });
}

/** The settings planReference records in the plan (EnginePlan.params). */
function planParams(p: EngineParams, fw: FirmwareProfile, profile: DeviceProfile, ablate: Ablation | null, B: number, opf: number, maxRowTile: number, slots: number): EnginePlan['params'] {
  return {
    engine: p.engine,
    batch: B,
    placement: p.placement,
    profile,
    firmware: fw.id,
    firmwareConstants: p.firmwareConstants ?? null,
    ablate,
    // An ablated output write costs nothing, so there is nothing to overlap.
    piggyback: p.piggyback ?? (fw.overlap && ablate !== 'output-preservation'),
    arithmetic: p.arithmetic ?? TI_REFERENCE_ARITHMETIC,
    opFilters: opf,
    maxRowTile,
    slots,
    faults: [...(p.faults ?? [])].sort(),
    fixes: [...(p.fixes ?? [])].sort(),
  };
}

/**
 * Plan a deployment on the reference engine. Throws ConfigError when a layer cannot be tiled or the NVM is too small,
 * InputError for an operator layout the engines cannot run.
 */
export function planReference(q: QuantizedNetwork, p: EngineParams, layout: ReferenceLayout): EnginePlan {
  const net: Network = q.net;
  const { fw, profile, ablate } = commonParams(p);
  const B = p.batch;
  if (!Number.isInteger(B) || B < 1 || B > 64) throw new ConfigError(`batch B must be an integer in [1, 64], got ${p.batch}`);
  const aug = layout.footprints;
  const opf = p.opFilters ?? fw.transform.opFilters ?? defaultOpFilters(net.name);
  const slotLayout = slotLayoutFor(fw, net.name, aug, p.slots);
  const params = planParams(p, fw, profile, ablate, B, opf, p.maxRowTile ?? 8, slotLayout.slots);
  const ctx: PlanCtx = {
    net,
    fw,
    usable: profile.sram.leaUsableWords,
    B,
    aug,
    grouped: aug || layout.groups === true,
    fp: aug ? B : 0,
    opf,
    maxRowTile: params.maxRowTile,
    padVec: aug && params.fixes.includes('japari-pad-vector-groups'),
    dummyWeight: params.faults.includes('japari-dummy-weight-2') ? 2 : 1,
    storage: new Map(),
    alias: new Map(),
    arithLayers: new Map(),
    rom: new RomImage(),
    leaWordsUsed: 0,
    pending: [],
    reshaped: new Set(q.nodes.filter((n) => n.node.op.kind === 'reshape').map((n) => n.node.inputs[0]!)),
    slotLayout,
  };
  const inF = asFmap(net.input.shape);
  ctx.storage.set(net.input.name, {
    name: net.input.name,
    layout: inF ? fmapLayout(inF[0], inF[1], inF[2], 'hw', 0) : vecLayout(numel(net.input.shape), 0),
    slices: 1,
    producer: -1,
    lastUse: -1,
  });
  for (const qn of q.nodes) planNode(ctx, qn);

  const outputName = resolve(ctx, net.output);
  ctx.storage.get(outputName)!.lastUse = Infinity;
  if (ctx.pending.length === 0) throw new InputError(`${net.name}: the network has no layer the engines run`);
  const { slotOf, nSlots, slotBytes, largest } = assignSlots(ctx, slotLayout);
  const { nvm, slotsBase } = nvmMap(ctx, nSlots, slotBytes, slotLayout.origin);
  const nvmBytes = profile.nvm[p.placement].bytes;
  if (nvm.end > nvmBytes) {
    // Stateful-CNN: NUM_SLOTS slots of one size after the other regions.
    const what = slotLayout.slotBytes === null ? `tensor ${largest} needs ${slotBytes} bytes in each of ${nSlots} NVM slots` : `${nSlots} NVM slots of ${slotBytes} bytes (${slotLayout.origin})`;
    throw new ConfigError(`${net.name}: ${what} need ${nvm.end} bytes of NVM in all, from byte ${slotsBase}; ${p.placement} has ${nvmBytes}`);
  }
  const ref = (t: string): TensorRef => tensorRef(ctx, slotOf, nvm, t);
  const layers: EngineLayer[] = ctx.pending.map((pl) => pl.build(ref));
  return {
    q,
    params,
    aug,
    B,
    layers,
    input: ref(net.input.name),
    output: ref(outputName),
    outputTensor: outputName,
    nvm,
    rom: ctx.rom.image(),
    arithmetic: { name: `reference engine (input-channel tiles; ${params.arithmetic === TI_REFERENCE_ARITHMETIC ? 'TI arithmetic' : 'custom arithmetic'})`, lea: params.arithmetic, layers: ctx.arithLayers },
    leaWordsUsed: ctx.leaWordsUsed,
    stages: layers.map((l) => ({ name: l.name, kind: l.kind })),
  };
}

/** Where tensor `t` is stored once slots are assigned (the input sample region for the network input). */
function tensorRef(ctx: PlanCtx, slotOf: ReadonlyMap<string, number>, nvm: NvmMap, t: string): TensorRef {
  const st = ctx.storage.get(t)!;
  if (st.producer < 0 && t === ctx.net.input.name) {
    return { name: t, slot: -1, base: nvm.samples, layout: st.layout, slices: 1, words: st.layout.words };
  }
  const slot = slotOf.get(t);
  if (slot === undefined) throw new ConfigError(`internal: tensor ${t} has no slot`);
  return { name: t, slot, base: nvm.slots[slot]!, layout: st.layout, slices: st.slices, words: st.layout.words * st.slices };
}

/** Dispatch one IR node to the planner of its layer kind. */
function planNode(ctx: PlanCtx, qn: QNode): void {
  const node = qn.node;
  const op = node.op;
  const n: PlanNode = { qn, node, where: `node ${node.name} (${op.kind})`, outShape: ctx.net.shapes.get(node.output)! };
  switch (op.kind) {
    case 'reshape':
    case 'softmax':
      return planView(ctx, n, op.kind);
    case 'conv':
      return planConv(ctx, n, qn as QConv, op);
    case 'gemm':
      return planGemm(ctx, n, qn as QGemm, op.outFeatures);
    case 'relu':
      return planRelu(ctx, n);
    case 'maxpool':
      return planMaxPool(ctx, n, op);
    case 'gap':
      return planGap(ctx, n);
    case 'concat':
      return planConcat(ctx, n);
    case 'add':
      return planAdd(ctx, n);
  }
}

/** Reshape and softmax run nothing: their output aliases the input's storage. */
function planView(ctx: PlanCtx, { node, where, outShape }: PlanNode, kind: 'reshape' | 'softmax'): void {
  const src = resolve(ctx, node.inputs[0]!);
  const st = ctx.storage.get(src)!;
  const target = asFmap(outShape);
  const from = st.layout;
  // A reshape is a view when the stored order is unchanged: flattening to a vector (a gemm
  // reads any layout through its word -> feature map), or the same [C, H, W] once rank-2
  // [C, W] is read as [C, 1, W] (Squeeze/Unsqueeze around 1-D convs).
  const flatToVec = outShape.length === 1;
  const same =
    target !== null &&
    ((from.kind === 'fmap' && target[0] === from.C && target[1] === from.H && target[2] === from.W) ||
      (from.kind === 'vec' && target[0] === from.C && target[1] === 1 && target[2] === 1));
  if (kind === 'reshape' && !flatToVec && !same) {
    throw new InputError(`${where}: cannot reshape ${shapeStr(ctx.net.shapes.get(node.inputs[0]!)!)} to ${shapeStr(outShape)} without moving data`);
  }
  ctx.alias.set(node.output, src);
}

/** Kernel, stride and padding of a conv along the input's outer (P) and inner (Q) spatial axes. */
type ConvGeometry = Pick<ConvLayer, 'kP' | 'kQ' | 'sP' | 'sQ' | 'padP' | 'padQ' | 'Pin' | 'Qin' | 'Pout' | 'Qout'> & {
  /** The input is stored 'hw' (P = H, Q = W). */
  readonly hw: boolean;
};

function convGeometry(op: ConvOp, inL: Layout, outShape: Shape): ConvGeometry {
  const [kh, kw] = op.kernel;
  const [sh, sw] = op.stride;
  const [pt, pl] = op.pads;
  const hw = inL.orient === 'hw';
  const [, OH, OW] = outShape as [number, number, number];
  return {
    hw,
    kP: hw ? kh : kw,
    kQ: hw ? kw : kh,
    sP: hw ? sh : sw,
    sQ: hw ? sw : sh,
    padP: hw ? pt : pl,
    padQ: hw ? pl : pt,
    Pin: hw ? inL.H : inL.W,
    Qin: hw ? inL.W : inL.H,
    Pout: hw ? OH : OW,
    Qout: hw ? OW : OH,
  };
}

/** A conv's output tile: channels per LEA call, stored words per call, LEA columns and output rows per row tile. */
interface ConvOutputTile {
  /** Longest A-row segment and A-vector (of the widest input-channel slice). */
  readonly maxSeg: number;
  readonly maxL: number;
  readonly otc: number;
  readonly callWords: number;
  readonly ncolsLea: number;
  readonly rowTile: number;
}

/**
 * The output tile per engine (algorithms.md "Reference engine parameters": n = 2 * otc for JAPARI,
 * otc otherwise), then shrunk until the real buffers fit: B matrix, A rows of one row tile, two
 * result buffers; and one call's result fits the 100-word result buffer.
 */
function convOutputTile(ctx: PlanCtx, g: ConvGeometry, OCp: number, ict: number, where: string): ConvOutputTile {
  const { aug, B, grouped, usable } = ctx;
  const { kP, kQ, sP, Pout } = g;
  const maxSeg = roundEven(kQ * ict + 1);
  const maxL = kP * maxSeg;
  const filterLen = roundEven(ict * kQ + 1) * 2 * kP;
  let otc = OCp;
  const nOf = (t: number) => (aug || ctx.fw.transform.doubledOutputTile ? 2 * t : t);
  while ((nOf(otc) + 2) * filterLen > usable) {
    const next = Math.floor(otc / 2);
    if (next < 1 || (grouped && next % B !== 0)) break;
    otc = next;
  }
  let callWords = aug ? extWords(otc, B) : otc;
  let ncolsLea = roundEven(callWords);
  // Fit the real buffers: B matrix, A rows of one row tile, two result buffers.
  let rowTile = Math.min(Pout, ctx.maxRowTile);
  const need = () => maxL * ncolsLea + ((rowTile - 1) * sP + kP) * maxSeg + 2 * ncolsLea;
  for (;;) {
    while (rowTile > 1 && need() > usable) rowTile--;
    if (need() <= usable) break;
    const next = Math.floor(otc / 2);
    if (next < 1 || (grouped && next % B !== 0)) {
      throw new ConfigError(`${where}: tiles do not fit LEA RAM: needs ${need()} words with ${otc} output channels per call, the device has ${usable}`);
    }
    otc = next;
    callWords = aug ? extWords(otc, B) : otc;
    ncolsLea = roundEven(callWords);
    rowTile = Math.min(Pout, ctx.maxRowTile);
  }
  if (ncolsLea > 100) {
    // The reference engine's result buffer holds 100 words (algorithms.md).
    while (ncolsLea > 100) {
      const next = Math.floor(otc / 2);
      if (next < 1 || (grouped && next % B !== 0)) throw new ConfigError(`${where}: one LEA call would produce ${ncolsLea} words; the result buffer holds 100`);
      otc = next;
      callWords = aug ? extWords(otc, B) : otc;
      ncolsLea = roundEven(callWords);
    }
  }
  return { maxSeg, maxL, otc, callWords, ncolsLea, rowTile };
}

/** ROM: the B matrix of every (input-channel slice, filter tile) of a conv. */
function convSlices(ctx: PlanCtx, qc: QConv, op: ConvOp, g: ConvGeometry, sliceRanges: readonly [number, number][], tile: ConvOutputTile, filterTiles: number): ConvSlice[] {
  const { aug, B } = ctx;
  const { otc, callWords, ncolsLea } = tile;
  const { kP, kQ, hw } = g;
  const [kh, kw] = op.kernel;
  const C = qc.inChannels;
  const OC = op.outChannels;
  return sliceRanges.map(([c0, c1], t) => {
    const ctw = c1 - c0;
    const segLen = roundEven(kQ * ctw + 1);
    const L = kP * segLen;
    const biasRow = (kP - 1) * segLen + kQ * ctw;
    const rom: number[] = [];
    for (let f = 0; f < filterTiles; f++) {
      const m = new Int16Array(L * ncolsLea);
      for (let j = 0; j < otc; j++) {
        const o = f * otc + j;
        const col = aug ? j + Math.floor(j / B) : j;
        if (o >= OC) continue; // zero filter (JAPARI rounds channels up to a multiple of B)
        for (let a = 0; a < kP; a++) {
          for (let b = 0; b < kQ; b++) {
            const [r, s] = hw ? [a, b] : [b, a];
            for (let c = c0; c < c1; c++) {
              const row = a * segLen + b * ctw + (c - c0);
              m[row * ncolsLea + col] = qc.weightQ[((o * C + c) * kh + r) * kw + s]!;
            }
          }
        }
        if (t === 0) m[biasRow * ncolsLea + col] = -qc.biasQ[o]!;
      }
      if (aug) for (let k = B; k < callWords; k += B + 1) m[biasRow * ncolsLea + k] = ctx.dummyWeight; // patched to psb(x) at run time
      rom.push(ctx.rom.add(m));
    }
    return { c0, c1, segLen, L, biasRow, rom };
  });
}

/**
 * The output of a conv or FC layer that reads `src` and leaves `nSlices` slices (partial sums):
 * with more than one, or when the build merges after every conv/FC, it is `#partials` and a
 * merge layer follows.
 */
function slicedOutput(ctx: PlanCtx, node: Node, src: string, layout: Layout, nSlices: number): { li: number; outName: string; merged: boolean } {
  const li = nextLayer(ctx);
  use(ctx, src, li);
  const merged = nSlices > 1 || ctx.fw.transform.mergeAfterEveryConvGemm;
  const outName = merged ? `${node.output}#partials` : node.output;
  define(ctx, outName, layout, nSlices, li);
  return { li, outName, merged };
}

/** A conv layer (tiling per the header), followed by a merge when it leaves partial sums. */
function planConv(ctx: PlanCtx, { node, where, outShape }: PlanNode, qc: QConv, op: ConvOp): void {
  const src = resolve(ctx, node.inputs[0]!);
  const inL = ctx.storage.get(src)!.layout;
  if (inL.kind !== 'fmap') throw new InputError(`${where}: input must be a feature map`);
  const g = convGeometry(op, inL, outShape);
  const C = qc.inChannels;
  const OC = op.outChannels;
  const lim = ctx.slotLayout.convTileLimit;
  const fit = lim === null ? undefined : { tensor: `${node.output}#partials`, outValues: OC * numel(outShape.slice(1)), slotBytes: lim, origin: ctx.slotLayout.origin };
  const ict = convInputTile(C, OC, g.kP, g.kQ, ctx.usable, Math.min(ctx.opf, OC), where, fit);
  const sliceRanges: [number, number][] = [];
  for (let c0 = 0; c0 < C; c0 += ict) sliceRanges.push([c0, Math.min(C, c0 + ict)]);
  const nSlices = sliceRanges.length;
  // Arithmetic: one part per input-channel slice, term order follows the input orientation.
  ctx.arithLayers.set(node.name, { parts: sliceRanges.map(([c0, c1]) => ({ c0, c1, pos: null })), order: inL.orient });
  const OCp = ctx.grouped ? ceilTo(OC, ctx.B) : OC;
  const tile = convOutputTile(ctx, g, OCp, ict, where);
  const { maxSeg, maxL, otc, ncolsLea, rowTile } = tile;
  const filterTiles = Math.ceil(OCp / otc);
  const bAddr = LEA_RAM_BASE;
  const aAddr = bAddr + maxL * ncolsLea;
  const c0Addr = aAddr + ((rowTile - 1) * g.sP + g.kP) * maxSeg;
  const c1Addr = c0Addr + ncolsLea;
  const end = c1Addr + ncolsLea;
  useLea(ctx, end, where);
  const slices = convSlices(ctx, qc, op, g, sliceRanges, tile, filterTiles);
  const [, OH, OW] = outShape as [number, number, number];
  const outLayout = fmapLayout(OC, OH, OW, flip(inL.orient), ctx.fp, ctx.grouped ? ctx.B : 1);
  const { li, outName, merged } = slicedOutput(ctx, node, src, outLayout, nSlices);
  const conv = {
    kind: 'conv' as const,
    index: li,
    name: node.name,
    node: node.name,
    jobMap: 'conv' as const,
    op,
    slices,
    OC,
    OCp,
    otc,
    filterTiles,
    callWords: tile.callWords,
    ncolsLea,
    kP: g.kP,
    kQ: g.kQ,
    sP: g.sP,
    sQ: g.sQ,
    padP: g.padP,
    padQ: g.padQ,
    Pin: g.Pin,
    Qin: g.Qin,
    Pout: g.Pout,
    Qout: g.Qout,
    rowTile,
    lea: { b: bAddr, a: aAddr, c0: c0Addr, c1: c1Addr, end },
    stage: 0,
  };
  ctx.pending.push({ reads: [src], writes: outName, build: (ref) => ({ ...conv, in: ref(src), out: ref(outName) }) });
  if (merged) addMerge(ctx, node.name, outName, node.output);
}

/** The real input words of a gemm in storage order, and the logical feature each holds (-1: a padded channel). */
function gemmInputWords(inL: Layout): { words: number[]; feats: number[] } {
  const logical = logicalOfWords(inL);
  const words: number[] = [];
  const feats: number[] = [];
  for (let w = 0; w < inL.words; w++) {
    const isFpWord = inL.fpEvery > 0 && w < inL.fpEnd && w % (inL.fpEvery + 1) === inL.fpEvery;
    if (isFpWord) continue;
    words.push(w);
    feats.push(logical[w]!); // -1 for padded channels (zero filters): weight 0
  }
  return { words, feats };
}

type GemmCall = GemmLayer['calls'][number];

/** Calls: op_filters outputs each; footprints only for full groups of B inside a call. */
function gemmCalls(ctx: PlanCtx, N: number, opfL: number, where: string): { calls: GemmCall[]; outLayout: Layout } {
  const { aug, B, padVec } = ctx;
  const fpsInCall = aug && B <= opfL;
  const calls: GemmCall[] = [];
  const padded = padVec && fpsInCall;
  // Columns computed: N real outputs, under the fix padded with zero filters to whole groups.
  const Nc = padded ? ceilTo(N, B) : N;
  let off = 0;
  for (let n0 = 0; n0 < Nc; n0 += opfL) {
    const width = Math.min(opfL, Nc - n0);
    const cw = fpsInCall ? extWords(width, B) : width;
    calls.push({ n0, width, words: cw, off, fps: fpsInCall });
    off += cw;
  }
  const outLayout = vecLayout(N, fpsInCall ? B : 0, padded);
  if (outLayout.words !== off) throw new ConfigError(`${where}: internal layout mismatch (${outLayout.words} vs ${off})`);
  return { calls, outLayout };
}

/** ROM: per input tile, one B block [(r1 - r0 + 2) x ncolsLea] per call; the bias row in tile 0 only. */
function gemmTiles(ctx: PlanCtx, qg: QGemm, N: number, feats: readonly number[], tileRanges: readonly [number, number][], calls: readonly GemmCall[], ncolsLea: number): GemmTile[] {
  const B = ctx.B;
  return tileRanges.map(([r0, r1], t) => {
    const rows = r1 - r0 + 2;
    const rom = calls.map((call) => {
      const m = new Int16Array(rows * ncolsLea);
      for (let j = 0; j < call.width; j++) {
        const n = call.n0 + j;
        if (n >= N) continue; // zero filter (padding)
        const col = call.fps ? j + Math.floor(j / B) : j;
        for (let r = r0; r < r1; r++) {
          const f = feats[r]!;
          if (f >= 0) m[(r - r0) * ncolsLea + col] = qg.weightQ[n * qg.inFeatures + f]!;
        }
        if (t === 0) m[(r1 - r0) * ncolsLea + col] = -qg.biasQ[n]!;
      }
      if (call.fps) for (let k = B; k < call.words; k += B + 1) m[(r1 - r0) * ncolsLea + k] = 1;
      return ctx.rom.add(m);
    });
    return { r0, r1, rom };
  });
}

/** An FC layer (tiling per the header), followed by a merge when it leaves partial sums. */
function planGemm(ctx: PlanCtx, { node, where }: PlanNode, qg: QGemm, N: number): void {
  const src = resolve(ctx, node.inputs[0]!);
  const inL = ctx.storage.get(src)!.layout;
  const { words, feats } = gemmInputWords(inL);
  const K = words.length;
  // Fix 'japari-pad-vector-groups': whole groups of B per LEA call (wider calls when B > op_filters).
  const opfL = ctx.padVec ? ceilTo(ctx.opf, ctx.B) : ctx.opf;
  const kt = gemmInputTile(K, opfL, ctx.usable, where);
  const tileRanges: [number, number][] = [];
  for (let r0 = 0; r0 < K; r0 += kt) tileRanges.push([r0, Math.min(K, r0 + kt)]);
  const parts: ArithPart[] = tileRanges.map(([r0, r1]) => ({
    c0: 0,
    c1: 0,
    pos: null,
    features: Int32Array.from(feats.slice(r0, r1).filter((f) => f >= 0)),
  }));
  ctx.arithLayers.set(node.name, { parts, order: 'hw' });
  const { calls, outLayout } = gemmCalls(ctx, N, opfL, where);
  const ncolsLea = roundEven(Math.max(...calls.map((c) => c.words)));
  const aAddr = LEA_RAM_BASE;
  const bAddr = aAddr + roundEven(kt + 2);
  const c0Addr = bAddr + (kt + 2) * ncolsLea;
  const c1Addr = c0Addr + ncolsLea;
  const end = c1Addr + ncolsLea;
  useLea(ctx, end, where);
  const tiles = gemmTiles(ctx, qg, N, feats, tileRanges, calls, ncolsLea);
  const { li, outName, merged } = slicedOutput(ctx, node, src, outLayout, tiles.length);
  const gemm = {
    kind: 'gemm' as const,
    index: li,
    name: node.name,
    node: node.name,
    jobMap: 'generic' as const,
    N,
    inWords: Int32Array.from(words),
    tiles,
    opFilters: opfL,
    calls,
    ncolsLea,
    lea: { a: aAddr, b: bAddr, c0: c0Addr, c1: c1Addr, end },
  };
  ctx.pending.push({ reads: [src], writes: outName, build: (ref) => ({ ...gemm, in: ref(src), out: ref(outName) }) });
  if (merged) addMerge(ctx, node.name, outName, node.output);
}

function planRelu(ctx: PlanCtx, { node, where }: PlanNode): void {
  const { aug, B } = ctx;
  const src = resolve(ctx, node.inputs[0]!);
  const st = ctx.storage.get(src)!;
  const li = nextLayer(ctx);
  use(ctx, src, li);
  define(ctx, node.output, st.layout, 1, li);
  const tile = aug ? extWords(16, B) : 16; // RELU_TILE_SIZE = 16 real values
  if (aug && 16 % B !== 0) throw new ConfigError(`${where}: the reference engine's ReLU tile of 16 values needs B to divide 16, got B = ${B}`);
  const perElement = ctx.fw.transform.fcReluPerElement && st.layout.kind === 'vec';
  const l = { kind: 'relu' as const, index: li, name: node.name, node: node.name, jobMap: 'generic' as const, tile, buf: LEA_RAM_BASE, perElement };
  useLea(ctx, LEA_RAM_BASE + tile, where);
  ctx.pending.push({ reads: [src], writes: node.output, build: (ref) => ({ ...l, in: ref(src), out: ref(node.output) }) });
}

function planMaxPool(ctx: PlanCtx, { node, where, outShape }: PlanNode, op: MaxPoolOp): void {
  const src = resolve(ctx, node.inputs[0]!);
  const inL = ctx.storage.get(src)!.layout;
  if (inL.kind !== 'fmap') throw new InputError(`${where}: input must be a feature map`);
  const [, OH, OW] = outShape as [number, number, number];
  const li = nextLayer(ctx);
  use(ctx, src, li);
  // The kernel addresses input and output pixels with one stride: keep the input's stored
  // channels (Stateful's zero-filter padding included).
  define(ctx, node.output, ctx.fp > 0 ? fmapLayout(inL.C, OH, OW, inL.orient, ctx.fp) : fmapLayout(inL.C, OH, OW, inL.orient, 0, inL.Cs), 1, li);
  const l = {
    kind: 'maxpool' as const,
    index: li,
    name: node.name,
    node: node.name,
    jobMap: 'generic' as const,
    op,
    buf: LEA_RAM_BASE,
    acc: LEA_RAM_BASE + inL.Cs,
    perElement: ctx.fw.transform.maxPoolPerElement && ctx.reshaped.has(node.output),
  };
  useLea(ctx, LEA_RAM_BASE + 2 * inL.Cs, where);
  ctx.pending.push({ reads: [src], writes: node.output, build: (ref) => ({ ...l, in: ref(src), out: ref(node.output) }) });
}

function planGap(ctx: PlanCtx, { node, where }: PlanNode): void {
  const src = resolve(ctx, node.inputs[0]!);
  const inL = ctx.storage.get(src)!.layout;
  if (inL.kind !== 'fmap') throw new InputError(`${where}: input must be a feature map`);
  const li = nextLayer(ctx);
  use(ctx, src, li);
  define(ctx, node.output, vecLayout(inL.C, ctx.fp, ctx.padVec), 1, li);
  const l = { kind: 'gap' as const, index: li, name: node.name, node: node.name, jobMap: 'generic' as const, buf: LEA_RAM_BASE, out1: LEA_RAM_BASE + inL.Cs };
  useLea(ctx, LEA_RAM_BASE + inL.Cs + 2, where);
  ctx.pending.push({ reads: [src], writes: node.output, build: (ref) => ({ ...l, in: ref(src), out: ref(node.output) }) });
}

function planConcat(ctx: PlanCtx, { node, where, outShape }: PlanNode): void {
  const srcs = node.inputs.map((t) => resolve(ctx, t));
  const ls = srcs.map((s) => ctx.storage.get(s)!.layout);
  const orient = ls[0]!.orient;
  if (ls.some((l) => l.kind !== 'fmap' || (l.orient !== orient && l.H > 1 && l.W > 1))) {
    throw new InputError(`${where}: concatenated feature maps must share one layout orientation`);
  }
  const [C, H, W] = outShape as [number, number, number];
  const li = nextLayer(ctx);
  for (const s of srcs) use(ctx, s, li);
  const outL = fmapLayout(C, H, W, orient, ctx.fp);
  define(ctx, node.output, outL, 1, li);
  const inMax = Math.max(...ls.map((l) => l.Cs));
  const l = { kind: 'concat' as const, index: li, name: node.name, node: node.name, jobMap: 'generic' as const, buf: LEA_RAM_BASE, outBuf: LEA_RAM_BASE + inMax };
  useLea(ctx, LEA_RAM_BASE + inMax + outL.Cs, where);
  ctx.pending.push({ reads: srcs, writes: node.output, build: (ref) => ({ ...l, ins: srcs.map(ref), out: ref(node.output) }) });
}

function planAdd(ctx: PlanCtx, { node, where }: PlanNode): void {
  const { aug, B } = ctx;
  const a = resolve(ctx, node.inputs[0]!);
  const b = resolve(ctx, node.inputs[1]!);
  const la = ctx.storage.get(a)!.layout;
  const lb = ctx.storage.get(b)!.layout;
  if (la.words !== lb.words || la.orient !== lb.orient || la.Cs !== lb.Cs) {
    throw new InputError(`${where}: operands are stored in different layouts (add needs equal orientation and channel layout)`);
  }
  const li = nextLayer(ctx);
  use(ctx, a, li);
  use(ctx, b, li);
  define(ctx, node.output, la, 1, li);
  const chunk = Math.min(la.words, aug ? Math.max(B + 1, Math.floor(256 / (B + 1)) * (B + 1)) : 256);
  const l = {
    kind: 'add' as const,
    index: li,
    name: node.name,
    node: node.name,
    jobMap: 'generic' as const,
    chunk,
    lea: { x: LEA_RAM_BASE, y: LEA_RAM_BASE + chunk, end: LEA_RAM_BASE + 2 * chunk },
  };
  useLea(ctx, LEA_RAM_BASE + 2 * chunk, where);
  ctx.pending.push({ reads: [a, b], writes: node.output, build: (ref) => ({ ...l, a: ref(a), b: ref(b), out: ref(node.output) }) });
}

/** The merge after a conv or FC layer that leaves partial sums: sums the slices into `final`. */
function addMerge(ctx: PlanCtx, nodeName: string, partials: string, final: string): void {
  const { aug, B } = ctx;
  const st = ctx.storage.get(partials)!;
  const li = nextLayer(ctx);
  use(ctx, partials, li);
  define(ctx, final, st.layout, 1, li);
  const L = st.layout;
  // Stateful-CNN ConvMerge: chunks of 2 x OC stored words (JAPARI: whole jobs).
  let chunk = Math.min(L.words, 2 * L.Cs);
  if (aug && L.fpEvery > 0) chunk = Math.max(B + 1, Math.floor(chunk / (B + 1)) * (B + 1));
  chunk = Math.min(chunk, Math.floor(ctx.usable / 2));
  if (aug && L.fpEvery > 0) chunk = Math.max(B + 1, Math.floor(chunk / (B + 1)) * (B + 1));
  const l = {
    kind: 'merge' as const,
    index: li,
    name: `${nodeName}/merge`,
    node: nodeName,
    jobMap: 'generic' as const,
    chunk,
    lea: { acc: LEA_RAM_BASE, tmp: LEA_RAM_BASE + chunk, end: LEA_RAM_BASE + 2 * chunk },
  };
  useLea(ctx, LEA_RAM_BASE + 2 * chunk, `node ${nodeName} (merge)`);
  ctx.pending.push({ reads: [partials], writes: final, build: (ref) => ({ ...l, in: ref(partials), out: ref(final) }) });
}

/**
 * Slot assignment: round robin over slots whose tensor is dead (Stateful-CNN get_next_slot).
 * Under japari's rule every slot holds the largest tensor (`largest` names it for the error when
 * the NVM is too small); under a build's config every tensor must fit the configured slot size,
 * and a network whose live tensors need more slots than configured is refused.
 */
function assignSlots(ctx: PlanCtx, layout: SlotLayout): { slotOf: Map<string, number>; nSlots: number; slotBytes: number; largest: string } {
  const nSlotsWanted = layout.slots;
  const slotOf = new Map<string, number>();
  const slotUser: (StorageTensor | null)[] = [];
  let cursor = -1;
  let slotBytes = 0;
  let largest = '';
  ctx.pending.forEach((pl, li) => {
    const t = ctx.storage.get(pl.writes)!;
    const dead = (u: StorageTensor | null) => u === null || u.lastUse < li;
    let chosen = -1;
    for (let k = 1; k <= slotUser.length; k++) {
      const s = (cursor + k) % slotUser.length;
      if (dead(slotUser[s]!) && !pl.reads.some((r) => slotOf.get(r) === s)) {
        chosen = s;
        break;
      }
    }
    if (chosen < 0 && slotUser.length < Math.max(nSlotsWanted, 1)) {
      chosen = slotUser.length;
      slotUser.push(null);
    }
    if (chosen < 0) {
      chosen = slotUser.length;
      slotUser.push(null);
    }
    slotUser[chosen] = t;
    slotOf.set(pl.writes, chosen);
    cursor = chosen;
    const bytes = 2 * t.layout.words * t.slices;
    if (layout.slotBytes !== null && bytes > layout.slotBytes) {
      throw new ConfigError(`${ctx.net.name}: tensor ${describeTensor(ctx, t)} needs ${bytes} bytes, its NVM slot holds ${layout.slotBytes} (${layout.origin})`);
    }
    if (bytes > slotBytes) largest = t.name;
    slotBytes = Math.max(slotBytes, bytes);
  });
  while (slotUser.length < nSlotsWanted) slotUser.push(null);
  const nSlots = slotUser.length;
  if (layout.slotBytes !== null && nSlots > nSlotsWanted) {
    throw new ConfigError(`${ctx.net.name}: its live tensors need ${nSlots} NVM slots, the layout has ${nSlotsWanted} (${layout.origin})`);
  }
  if (nSlots > RECORD_SLOTS_MAX) throw new ConfigError(`${ctx.net.name}: needs ${nSlots} NVM slots, at most ${RECORD_SLOTS_MAX} are supported`);
  return { slotOf, nSlots, slotBytes: layout.slotBytes ?? ceilTo(slotBytes, 16), largest };
}

/** A tensor's name for an error, saying what a partial-sum tensor is and whether footprints extend it. */
function describeTensor(ctx: PlanCtx, t: StorageTensor): string {
  const notes: string[] = [];
  if (t.name.endsWith('#partials')) notes.push(`partial sums of ${t.slices} input tile${t.slices === 1 ? '' : 's'} before the merge`);
  if (t.layout.fpEvery > 0) notes.push(`with JAPARI footprints, B = ${ctx.B}`);
  return notes.length ? `${t.name} (${notes.join(', ')})` : t.name;
}

/** NVM addresses: record shadow pair, HAWAII footprint counters, the input sample, then the slots. */
function nvmMap(ctx: PlanCtx, nSlots: number, slotBytes: number, origin: string): { nvm: NvmMap; slotsBase: number } {
  const recBytes = recordBytes(nSlots);
  const record = 0;
  const counters = ceilTo(2 * recBytes, 16);
  const samples = ceilTo(counters + 8 * ctx.pending.length, 16);
  const inSt = ctx.storage.get(ctx.net.input.name)!;
  const slotsBase = ceilTo(samples + 2 * inSt.layout.words, 256);
  const slots = Array.from({ length: nSlots }, (_, i) => slotsBase + i * slotBytes);
  const end = slotsBase + nSlots * slotBytes;
  return { nvm: { record, recordBytes: recBytes, counters, samples, slots, slotBytes, end, origin }, slotsBase };
}

function flip(o: Orient): Orient {
  return o === 'hw' ? 'wh' : 'hw';
}

/** Stored word of channel c of pixel (h, w) in a tensor reference (slice 0). */
export function storedChan(l: Layout, c: number): number {
  return chanWord(l, c);
}
