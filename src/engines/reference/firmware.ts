/**
 * Build profiles: the firmware whose latency was measured, as data (firmware-2021.md).
 *
 * The published HAWAII, JAPARI and Stateful latencies come from two 2021 builds of the authors'
 * reference engine (EMCLab-Sinica/Stateful-CNN): `stateful-cnn-2021-02` (commit 672ed9a:
 * CIFAR-10 SqueezeNet, KWS) and `stateful-cnn-2021-08` (commit 37708ef: MNIST LeNet). A profile
 * fixes everything in which a build differs from another: the graph transformation of
 * dnn-models/transform.py, each design's preservation pattern, whether LEA compute overlaps the
 * output DMA, the SPI framing and the named per-call software overheads. The planner
 * (plan.ts), the kernels (engine.ts) and the designs' preservations read the profile; nothing
 * compares build ids.
 *
 * `stateful-cnn-later` keeps japari's earlier behaviour: algorithms.md "Reference engine
 * parameters", which describe the engine's later (late 2021/2022) code -- except the FC input
 * tiling, which now follows the later transform.py (FcTileRule; japari's own "largest tile that
 * fits", gemmInputTile before issue 15, is not what that code does).
 *
 * Citations: "fw21" = ../shared/reference/firmware-2021.md, "alg" = algorithms.md, "dev" =
 * device.md; code as EMCLab-Sinica/Stateful-CNN@commit:path.
 */
import type { DeviceProfile, FirmwareOverheads } from '../../device/profile.js';
import { UsageError } from '../../util/errors.js';
import { FITTED } from './firmware-fit.js';

export type FirmwareId = 'stateful-cnn-2021-02' | 'stateful-cnn-2021-08' | 'stateful-cnn-later';
/** A variant of a build registered at run time (registerFirmwareVariant), e.g. one fact toggled. */
export type FirmwareVariantId = `${FirmwareId}~${string}`;
export const FIRMWARE_IDS: readonly FirmwareId[] = ['stateful-cnn-2021-02', 'stateful-cnn-2021-08', 'stateful-cnn-later'];
/** The default build of every command (the issue: the later of the two measured builds). */
export const DEFAULT_FIRMWARE: FirmwareId = 'stateful-cnn-2021-08';
/** What a Deployment runs when its parameters name no build (japari's behaviour before build profiles, FC tiling aside: see the header). */
export const LIBRARY_DEFAULT_FIRMWARE: FirmwareId = 'stateful-cnn-later';

/**
 * The hardware's configurations: which build ran which of the authors' models (firmware-2021.md
 * "The two builds": CIFAR-10 SqueezeNet and KWS on 672ed9a, MNIST on 37708ef).
 */
export const MEASURED_BUILDS: readonly { readonly build: FirmwareId; readonly model: string }[] = [
  { build: 'stateful-cnn-2021-08', model: 'mnist' },
  { build: 'stateful-cnn-2021-02', model: 'kws' },
  { build: 'stateful-cnn-2021-02', model: 'cifar10' },
];

/** The build a model runs as when verified: the one the hardware ran it on, else DEFAULT_FIRMWARE. */
export function buildOfModel(model: string): FirmwareId {
  return MEASURED_BUILDS.find((h) => h.model === model)?.build ?? DEFAULT_FIRMWARE;
}

/** The free constants of a build: fitted by `japari calibrate` on calibration.md only. */
export interface FittedConstants {
  /** CPU cycles of the driver call chain around one SPI FRAM transaction (extfram.c). */
  readonly spiCallCycles: number;
  /** CPU cycles of one my_memcpy_from_param call around the block DMA from program FRAM (gemm.cpp, conv.cpp). */
  readonly paramCallCycles: number;
  /** CPU cycles of one iteration of hawaii_record_footprints' loop (op_utils.cpp), counter write excluded. */
  readonly footprintLoopCycles: number;
  /** CPU cycles of one call of hawaii_record_footprints and its caller's bookkeeping (op_utils.cpp). */
  readonly footprintCallCycles: number;
}

export const FREE_CONSTANTS: readonly (keyof FittedConstants)[] = ['spiCallCycles', 'paramCallCycles', 'footprintLoopCycles', 'footprintCallCycles'];

/**
 * The FC input tiling rule of a build (dnn-models/transform.py, determine_gemm_tile_sizes). With
 * K input rows (the Gemm's B_rows = A_cols), N outputs, u = op_filters (tile_size_unit) and the
 * build's B (--batch-size, for every method): tile_channel starts at min(cap, K) rounded down to a
 * multiple of u and drops by u until the LEA buffer (1884 words) holds
 *  - 'all-partial-sums': the input row (K + 2), the B block (rows + 2) x 2u ("* 2 to fit JAPARI
 *    footprint kernels") and the outputs of every tile: (N + floor(N / B)) * ceil(K / rows);
 *  - 'input-and-block': the input row (K + 2), the B block (rows + 2) x w and one output row w,
 *    w = (extend_for_footprints(u) + 1) / 2 * 2 = u + floor(u / B) + 1 (Python 3's `/` is float
 *    division, so the intended round-up to even is a plain + 1).
 * The cap is min(ARM_PSTATE_LEN / u - 2, K) in the 2021 code ((8704 / tile_width) / 2 * 2 - 2) and
 * min(K, 512) later (the DMA limit of 512 Q15 values; the pState term, 1086, never binds below it).
 * A model with K < u makes tile_channel 0 and transform.py's loop never ends; japari then takes
 * the whole input as one tile. When the fit fails for every multiple of u, the 2021 code widens
 * tile_width, which only makes the fit harder (its loop does not end either): a ConfigError.
 */
export interface FcTileRule {
  readonly fit: 'all-partial-sums' | 'input-and-block';
  /** ARM_PSTATE_LEN (words) of the cap ARM_PSTATE_LEN / u - 2; null: no such term. */
  readonly pstateWords: number | null;
  /** The DMA cap on rows (512); null: none. */
  readonly dmaRows: number | null;
  /** The stored version of transform.py the rule was read from, as repo@commit:path:lines. */
  readonly source: string;
}

export interface FirmwareProfile {
  readonly id: FirmwareId;
  readonly title: string;
  /** Where the build's code is. */
  readonly code: string;
  /** Graph transformation (dnn-models/transform.py). */
  readonly transform: {
    /** FC outputs per LEA call for every model; null: per model (alg: 4, or 2 for CIFAR-10). */
    readonly opFilters: number | null;
    /** The LEA-buffer fit uses the doubled output tile (2 x otc + 2) for every method, not only JAPARI. */
    readonly doubledOutputTile: boolean;
    /** A merge node after every Conv and Gemm, even with a single input tile. */
    readonly mergeAfterEveryConvGemm: boolean;
    /** The merge scales every value with one LEA command per chunk (ConvMerge handler). */
    readonly mergeScales: boolean;
    /** A MaxPool that feeds a Reshape runs one output value at a time (k x k single-word reads, one single-word write). */
    readonly maxPoolPerElement: boolean;
    /** A ReLU after an FC layer reads and writes each value separately. */
    readonly fcReluPerElement: boolean;
    /** Conv filters are copied from program FRAM per (filter, kh, kw) (conv.cpp), not per tile. */
    readonly filterCopyPerKernelPosition: boolean;
    /** Concat is metadata: the next Conv reads the halves in place; no data moves, no time passes. */
    readonly concatMetadata: boolean;
    /** FC input tiling: the rows of each slice of partial sums (determine_gemm_tile_sizes). */
    readonly fcTile: FcTileRule;
  };
  /**
   * How the external FRAM holds feature maps (dnn-models/transform.py configs, platform.cpp
   * intermediate_values_offset); null: japari's own rule (every slot holds the largest tensor,
   * 3 slots unless liveness needs more).
   */
  readonly nvm: NvmLayoutRule | null;
  /** LEA compute overlaps the output's SPI DMA (piggyback). */
  readonly overlap: boolean;
  readonly hawaii: {
    /**
     * 'per-full-batch': one counter update (+B) per full B values, the remainder carried in a
     * static across calls and layers (alg; 672ed9a's `static non_recorded_jobs` with
     * `for (; non_recorded_jobs >= BATCH_SIZE; non_recorded_jobs -= BATCH_SIZE)`, issue 15);
     * 'floor-plus-one': hawaii_record_footprints loops `for (n = len; n >= 0; n -= B)`, floor(len/B)+1
     * counter updates per preserved vector, each adding min(B, n) (fw21, op_utils.cpp).
     */
    readonly updates: 'per-full-batch' | 'floor-plus-one';
    /** 1-byte SPI version reads before each counter write (get_newer_copy_id: 2; alg: 0). */
    readonly versionReadsPerUpdate: number;
    /** Each job's B values are written in a transfer of their own (the 2021-02 build). */
    readonly perJobValueWrites: boolean;
  };
  readonly japari: {
    /** FC weights copied one B-group per my_memcpy_from_param call (copy_size = MIN_VAL(BATCH_SIZE, tile_width), gemm.cpp). */
    readonly fcWeightCopyPerGroup: boolean;
    /** `% (BATCH_SIZE + 1)` per element in ReLU and MaxPool: one software division each (op_handlers.cpp, pooling.cpp). */
    readonly runtimeModulo: boolean;
  };
  /**
   * Stateful's preservation/cost pattern (its states ride in the values, so its costs sit in the
   * kernels' value loops and LEA passes, not in separate transfers). See STATEFUL_SOURCES for
   * the code each fact is read from.
   */
  readonly stateful: {
    /**
     * The CPU handlers (ReLU, MaxPool, GlobalAveragePool, the FC merge) test the state of every value they read
     * (`if (get_value_state_bit(val)) val -= 0x4000`): a compare per value read and a
     * subtraction per value that carries an offset, not a subtraction per state word only.
     */
    readonly valueStateTest: boolean;
    /**
     * ReLU after a conv (NHWC input) embeds the states per output pixel with one
     * my_offset_q15_batched pass over the pixel's channels (`if (offset) ...`), not per value.
     */
    readonly reluPixelPass: boolean;
    /**
     * How the firmware strips and embeds the states of a range of values (a conv input row, a
     * conv merge chunk, an FC input tile and each FC call's bias row, an Add chunk): 'batched': my_offset_q15_batched, one LEA offset command at
     * B = 1 and a CPU add per B values otherwise (conv input rows fall back to a per-value CPU
     * loop -- a state test and a subtraction per value -- when the input tile is narrower than B);
     * 'per-value': a CPU add per state word (japari's model before build profiles).
     */
    readonly rangePass: 'batched' | 'per-value';
    /**
     * The 2021 code's one-sided state offset: a state bit of 1 is stored as v + 0x4000, a state bit
     * of 0 as v itself (find_initial_state_bit: `get_state_bit(...) ? 0x4000 : 0`), so the strip
     * and embed passes run only over ranges whose state bit is 1 (`if (state_bit)` /
     * `if (!state_bit)` in the chunk handlers, `if (start_state)` for conv rows). japari stores the
     * later two-sided encoding (algorithms.md, Stateful-CNN@23c1a21 strip_state); this fact moves
     * only the cost: passes are charged for the words whose state is +1.
     */
    readonly oneSidedOffset: boolean;
    /**
     * Conv: 'tile-load': the state entries of the filter bias row are written when a filter tile
     * is loaded and kept across the LEA calls (only n_keep_state_bits is computed per call; a
     * turning point inside a call flips them); 'per-call': a state query per state column per call
     * (japari's model before build profiles).
     */
    readonly convEmbed: 'tile-load' | 'per-call';
  };
  /** SPI framing bytes (extfram.c): WREN on its own chip-select cycle, then WRITE + 3 address bytes; READ + 3 address bytes. */
  readonly spi: { readonly writeFramingBytes: number; readonly readFramingBytes: number };
  /** The fitted software overheads (firmware-fit.ts, written by `japari calibrate`). */
  readonly constants: FittedConstants;
  /** Where each fact comes from. */
  readonly sources: { readonly [fact: string]: string };
}

/**
 * The NVM layout of a build: `num_slots` slots of `intermediate_values_size` bytes each at
 * INTERMEDIATE_VALUES_OFFSET + slot * INTERMEDIATE_VALUES_SIZE (platform.cpp), per model as
 * transform.py configures it.
 */
export interface NvmLayoutRule {
  /** transform.py `configs[model]`: num_slots and intermediate_values_size (bytes), keyed by japari's model name. */
  readonly models: { readonly [model: string]: { readonly slots: number; readonly slotBytes: number } };
  /** `--japari` doubles intermediate_values_size (transform.py: config['intermediate_values_size'] *= 2). */
  readonly footprintsDoubleSlot: boolean;
  /**
   * The conv input tile also halves until the partial sums fit one slot:
   * params_len = CHANNEL / input_tile_c * OUTPUT_CHANNEL * OUTPUT_H * OUTPUT_W * 2 < intermediate_values_size
   * (transform.py determine_conv_tile_c).
   */
  readonly convTileFitsSlot: boolean;
  /**
   * Models the authors never configured (lenet, har, tiny-*, random networks, user ONNX files):
   * japari's rule, the smallest 16-byte-aligned slot that holds the largest stored tensor (partial
   * sums and footprints included), `defaultSlots` slots or more if liveness needs them.
   */
  readonly defaultSlots: number;
  /** Where the figures come from. */
  readonly source: string;
}

const FW21 = 'firmware-2021.md';

/**
 * FC tiling rules, read from the stored versions of dnn-models/transform.py (the search index
 * holds four and does not name the commit of each; ordered by their contents):
 *  - the oldest (configs inline, op_filters 4 and scale 8 for every model at lines 175-219, the
 *    doubled output tile at 459-465: the layout firmware-2021.md cites for the 2021 builds) keeps
 *    the outputs of every tile in the LEA buffer: taken for 672ed9a;
 *  - the next (configs.py split off, BATCH_SIZE and extend_for_footprints, the doubled output tile
 *    and the tile_width of the 2021 gemm.cpp still there) fits the input row, the B block and one
 *    output row: taken for 37708ef (it gives mnist's last FC one slice of 256 at B = 4, as issue 15
 *    read 37708ef);
 *  - the later code (7cc00fb and dnn-models/layer_utils.py after it: no tile_width, the doubled
 *    tile for JAPARI only) keeps that fit and caps the rows at 512.
 */
const FC_TILE_2021_02: FcTileRule = {
  fit: 'all-partial-sums',
  pstateWords: 8704,
  dmaRows: null,
  source:
    'EMCLab-Sinica/Stateful-CNN@672ed9a:dnn-models/transform.py:~489-531 (determine_gemm_tile_sizes: total_buffer_size = LEA_BUFFER_SIZE - (A_rows * A_cols + 2); output_len += output_len // CUR_BATCH_SIZE; total_buffer_size - (tile_channel + 2) * tile_width * 2 >= output_len * ceil(B_rows / tile_channel); lines counted in the oldest stored version from firmware-2021.md\'s anchor 459-465)',
};
const FC_TILE_2021_08: FcTileRule = {
  fit: 'input-and-block',
  pstateWords: 8704,
  dmaRows: null,
  source:
    'EMCLab-Sinica/Stateful-CNN@37708ef:dnn-models/transform.py (determine_gemm_tile_sizes: full_tile_width = (extend_for_footprints(tile_width) + 1) / 2 * 2; needed_mem = (A_rows * A_cols + 2) + (tile_channel + 2) * full_tile_width + A_rows * full_tile_width <= LEA_BUFFER_SIZE; the second stored version, A_rows = 1)',
};
const FC_TILE_LATER: FcTileRule = {
  fit: 'input-and-block',
  pstateWords: null,
  dmaRows: 512,
  source:
    'EMCLab-Sinica/Stateful-CNN@7cc00fb:dnn-models/transform.py (determine_gemm_tile_sizes: tile_channel = min([..., B_rows, gemm_tile_length or inf, 512]) // tile_size_unit * tile_size_unit; the same needed_mem fit; configs.py sets no gemm_tile_length) and HEAD dnn-models/layer_utils.py (the same rule, tile_input_usage)',
};

/**
 * transform.py as stored in the 2021 form (inline configs with op_filters 4 and scale 8 for every
 * model, CUR_BATCH_SIZE, the params_len check in determine_conv_tile_c): mnist 2 x 26000, cifar10
 * 3 x 65000, kws 2 x 20000 (the 2020 form had mnist 2 x 20000, cifar10 3 x 30000, without
 * op_filters; the later configs.py keeps cifar10 65000 and kws 20000).
 */
const NVM_2021: NvmLayoutRule = {
  models: { mnist: { slots: 2, slotBytes: 26000 }, cifar10: { slots: 3, slotBytes: 65000 }, kws: { slots: 2, slotBytes: 20000 } },
  footprintsDoubleSlot: true,
  convTileFitsSlot: true,
  defaultSlots: 3,
  source:
    'EMCLab-Sinica/Stateful-CNN dnn-models/transform.py (2021 form) configs num_slots/intermediate_values_size, "--japari" doubling and determine_conv_tile_c params_len check; common/platform.cpp intermediate_values_offset(slot) = INTERMEDIATE_VALUES_OFFSET + slot * INTERMEDIATE_VALUES_SIZE',
};
const ZERO: FittedConstants = { spiCallCycles: 0, paramCallCycles: 0, footprintLoopCycles: 0, footprintCallCycles: 0 };

const SOURCES_2021 = {
  opFilters: `${FW21} "Graph transformation": op_filters = 4 for every model (Stateful-CNN dnn-models/transform.py ~175-219)`,
  doubledOutputTile: `${FW21} "Graph transformation": (output_tile_c * 2 + 1) + 1 for every method (transform.py ~459-465)`,
  mergeAfterEveryConvGemm: `${FW21} "Graph transformation": a merge follows every Conv and Gemm (transform.py ~335-349)`,
  mergeScales: `${FW21}: the merge reads, scales and writes every output value (conv.cpp ConvMerge)`,
  maxPoolPerElement: `${FW21}: MaxPool feeding a Reshape: k x k single-word reads and one single-word write per output (pooling.cpp)`,
  fcReluPerElement: `${FW21}: ReLU after an FC layer reads and writes each value separately (op_handlers.cpp)`,
  filterCopyPerKernelPosition: `${FW21} "Per-operation structure": conv filters load per (filter, kh, kw) with an interleave (conv.cpp)`,
  concatMetadata: `${FW21} "Graph transformation": Concat is metadata (op_handlers.cpp Concat); japari still materialises the tensor for its storage model, at no cost`,
  fcTile: 'transform.py determine_gemm_tile_sizes (see the rule\'s source)',
  hawaiiUpdates: `${FW21}: hawaii_record_footprints loops for (n = len; n >= 0; n -= B) (Stateful-CNN common/op_utils.cpp, 2021)`,
  versionReads: `${FW21}: write_hawaii_layer_footprint -> commit_versioned_data -> get_newer_copy_id: two 1-byte version reads, one 4-byte write (platform.cpp)`,
  fcWeightCopyPerGroup: `${FW21}: copy_size = MIN_VAL(BATCH_SIZE, tile_width) (gemm.cpp)`,
  runtimeModulo: `${FW21}: BATCH_SIZE is a runtime global, % (BATCH_SIZE + 1) per element in ReLU and MaxPool (op_handlers.cpp, pooling.cpp)`,
  spi: `${FW21} "NVM traffic": WREN on its own CS cycle, WRITE + 3-byte address; READ + 3-byte address (EMCLab-Sinica/MSP43X-CY15B10X extfram.c); framing is inside device.md's per-transfer DMA cost`,
  constants: 'fitted by `japari calibrate` on calibration.md (src/engines/reference/firmware-fit.ts)',
};

/**
 * Where Stateful's facts come from. The code index exposes some stored versions of a file with
 * their commit and others only by content; neither 672ed9a nor 37708ef could be opened by
 * commit, so each fact names the stored version read and the statement, and says how it was
 * placed relative to the two builds.
 */
const STATEFUL_SOURCES = {
  statefulValueStateTest:
    'EMCLab-Sinica/Stateful-CNN@a63e7b4:common/op_handlers.cpp handle_relu (`if (get_value_state_bit(input_val)) input_val -= 0x4000;` per value, both the NHWC and the per-value path) and @a63e7b4:common/pooling.cpp maxpool_patch (`if (get_value_state_bit(val)) val -= 0x4000;` per value of each window) and handle_globalaveragepool (the same per value read); the older stored pooling.cpp (index id 17046858596, the pre-pipeline hawaii_preserve_vector era) has the same maxpool_patch test. A later stored handle_relu (index id 17005985139: `offset_has_state(output_offset+j)` then `vals[j] *= 2`, `vals[k] /= 2`) has `static_assert(RELU_TILE_SIZE % BATCH_SIZE == 0)`, a compile-time BATCH_SIZE, so it is after both builds and not modelled',
  statefulGemm:
    'EMCLab-Sinica/Stateful-CNN@a63e7b4:common/gemm.cpp handle_gemm: the input tile is stripped through iterate_chunks -> GemmInputChunkHandler (`if (state_bit) my_offset_q15_batched(to_offset, -0x4000, ...)`), and per call the bias row gets `my_offset_q15_batched(filter_ptr, -offset, filter_ptr, tile_width_first)` whatever the offset; handle_gemmmerge strips each tile with a per-value loop (`if (get_value_state_bit(buffer_temp[idx])) buffer_temp[idx] -= 0x4000`) and embeds through OutputChunkHandler',
  statefulReluPixelPass:
    'EMCLab-Sinica/Stateful-CNN@a63e7b4:common/op_handlers.cpp handle_relu, NHWC input: per output pixel check_next_turning_point, then `if (offset) my_offset_q15_batched(lea_buffer, offset, lea_buffer, block_size)` (and a second pass past a turning point); the per-value path (after FC) adds `output_val += offset` at every BATCH_SIZE-th value',
  statefulRangePass:
    'EMCLab-Sinica/Stateful-CNN@a63e7b4:common/conv.cpp (the TI-DSPLib pipeline commit just before 37708ef, fw21) handle_conv_inner_loop: `my_offset_q15_batched(orig_dest_addr, -0x4000, orig_dest_addr, input_row_len)` per input row when `input_tile_c >= BATCH_SIZE`, else the per-value loop "Using a loop for stripping state bits"; same in the stored version 03be3dc, whose handle_convmerge strips per input chunk (ConvMergeInputChunkHandler) and embeds per chunk (`my_offset_q15_batched(lea_buffer, 0x4000, ...)`). For 2021-02: the stored pre-pipeline op_utils.cpp (index id 17074405832: HAWAII hawaii_preserve_vector with the floor(len/B)+1 loop, outputs written by my_memcpy_to_param) already defines my_offset_q15_batched (`BATCH_SIZE == 1` -> my_offset_q15, else `pDst[val_idx] += offset` every BATCH_SIZE) and embeds through it (OutputChunkHandler); the only stored conv.cpp with plain my_offset_q15 passes (index id 17009685060) has no BATCH_SIZE and writes HAWAII counters per offset, so it predates both builds. 672ed9a itself could not be opened',
  statefulOneSidedOffset:
    'op_utils.cpp (stored pre-pipeline version, index id 17074405832): find_initial_state_bit `*p_offset = get_state_bit(model, param->slot) ? 0x4000 : 0`, OutputChunkHandler `if (!state_bit) my_offset_q15_batched(to_offset, 0x4000, ...)`; conv.cpp@a63e7b4 handle_conv_inner_loop `if (start_state) my_offset_q15_batched(...)` and the fallback `if (get_value_state_bit(val)) *dest_ptr = val - 0x4000`; conv.cpp@03be3dc ConvMergeInputChunkHandler `if (state_bit)`. The two-sided `*val -= (*val & 0x8000) + 0x4000` strip_state is later (intermittent-cnn.h@23c1a21)',
  statefulConvEmbed:
    'conv.cpp convTask (both stored versions read, 03be3dc and index id 17009685060): the state entry `filter_tmp[filter_offset - 1] = -0x4000` is written inside the filter-load branch (cached_filter_idx != filter_idx); per call only n_keep_state_bits is computed; flip_filter_state_bits only when n_keep_state_bits != n_filters (a turning point inside the call)',
};

export const FIRMWARE: Readonly<Record<FirmwareId, FirmwareProfile>> = {
  'stateful-cnn-2021-02': {
    id: 'stateful-cnn-2021-02',
    title: 'Stateful-CNN as built in Feb 2021 (CIFAR-10 SqueezeNet, KWS)',
    code: 'EMCLab-Sinica/Stateful-CNN@672ed9a',
    transform: { opFilters: 4, doubledOutputTile: true, mergeAfterEveryConvGemm: true, mergeScales: true, maxPoolPerElement: true, fcReluPerElement: true, filterCopyPerKernelPosition: true, concatMetadata: true, fcTile: FC_TILE_2021_02 },
    // fw21 "The two builds": no overlap of LEA compute and output DMA in 672ed9a.
    overlap: false,
    // HAWAII recording: 672ed9a keeps a static non_recorded_jobs and adds whole B (issue 15: the
    // remainder "holds in 672ed9a and at HEAD"); firmware-2021.md's floor(len/B)+1 loop is
    // 37708ef's (issue 15 lead 1). A deviation from fw21's per-operation list (deviations.md).
    hawaii: { updates: 'per-full-batch', versionReadsPerUpdate: 2, perJobValueWrites: true },
    japari: { fcWeightCopyPerGroup: true, runtimeModulo: true },
    // The same Stateful code paths as 2021-08 in what could be read (see STATEFUL_SOURCES); the
    // builds differ for Stateful by the LEA/DMA overlap of the conv output writes (overlap).
    stateful: { valueStateTest: true, reluPixelPass: true, rangePass: 'batched', oneSidedOffset: true, convEmbed: 'tile-load' },
    spi: { writeFramingBytes: 5, readFramingBytes: 4 },
    nvm: NVM_2021,
    constants: FITTED['stateful-cnn-2021-02'] ?? ZERO,
    sources: {
      ...SOURCES_2021,
      ...STATEFUL_SOURCES,
      hawaiiUpdates:
        'issue 15 ("hawaii-remainder-crosses-layers holds in 672ed9a ... where a static non_recorded_jobs is never reset"); Stateful-CNN common/op_utils.cpp (stored form: static int16_t non_recorded_jobs; for (; non_recorded_jobs >= BATCH_SIZE; non_recorded_jobs -= BATCH_SIZE) write_hawaii_layer_footprint(layer, BATCH_SIZE)); firmware-2021.md\'s floor(len/B)+1 is the 37708ef loop',
      overlap: `${FW21} "The two builds": no LEA/DMA overlap in 672ed9a`,
      perJobValueWrites: `${FW21} "The two builds": HAWAII writes each job's values in a transfer of its own`,
    },
  },
  'stateful-cnn-2021-08': {
    id: 'stateful-cnn-2021-08',
    title: 'Stateful-CNN as built in Aug 2021 (MNIST LeNet)',
    code: 'EMCLab-Sinica/Stateful-CNN@37708ef',
    transform: { opFilters: 4, doubledOutputTile: true, mergeAfterEveryConvGemm: true, mergeScales: true, maxPoolPerElement: true, fcReluPerElement: true, filterCopyPerKernelPosition: true, concatMetadata: true, fcTile: FC_TILE_2021_08 },
    // fw21 "The two builds": the LEA command starts, then the output's SPI DMA (c7f2ab5, a63e7b4, ea4eace).
    overlap: true,
    hawaii: { updates: 'floor-plus-one', versionReadsPerUpdate: 2, perJobValueWrites: false },
    japari: { fcWeightCopyPerGroup: true, runtimeModulo: true },
    // my_offset_q15_batched (LEA at B = 1, a CPU add per B values otherwise), one-sided offsets.
    stateful: { valueStateTest: true, reluPixelPass: true, rangePass: 'batched', oneSidedOffset: true, convEmbed: 'tile-load' },
    spi: { writeFramingBytes: 5, readFramingBytes: 4 },
    nvm: NVM_2021,
    constants: FITTED['stateful-cnn-2021-08'] ?? ZERO,
    sources: { ...SOURCES_2021, ...STATEFUL_SOURCES, overlap: `${FW21} "The two builds": LEA/DMA pipeline in 37708ef (TI-DSPLib patch c7f2ab5, a63e7b4, ea4eace)`, perJobValueWrites: `${FW21}: only the earlier build writes per job` },
  },
  'stateful-cnn-later': {
    id: 'stateful-cnn-later',
    title: 'the reference engine as algorithms.md describes it (later code; japari before build profiles)',
    code: 'algorithms.md "Reference engine parameters"',
    transform: { opFilters: null, doubledOutputTile: false, mergeAfterEveryConvGemm: false, mergeScales: false, maxPoolPerElement: false, fcReluPerElement: false, filterCopyPerKernelPosition: false, concatMetadata: false, fcTile: FC_TILE_LATER },
    overlap: true,
    hawaii: { updates: 'per-full-batch', versionReadsPerUpdate: 0, perJobValueWrites: false },
    japari: { fcWeightCopyPerGroup: false, runtimeModulo: false },
    stateful: { valueStateTest: false, reluPixelPass: false, rangePass: 'per-value', oneSidedOffset: false, convEmbed: 'per-call' },
    spi: { writeFramingBytes: 5, readFramingBytes: 4 },
    // The later transform.py's nvm_layout divides the free external FRAM evenly among num_slots
    // (16-byte aligned); japari keeps its own rule here (parameters and samples live elsewhere in
    // japari's memory map, so "free FRAM" would mean something else).
    nvm: null,
    constants: ZERO,
    sources: { all: 'algorithms.md "Reference engine parameters" (see its correction note)', fcTile: `${FC_TILE_LATER.source}; japari took "the largest tile that fits the LEA buffer" (gemmInputTile) before, which the later code does not do` },
  },
};

/** The build profile with this id; a UsageError naming the ids otherwise. */
export function firmwareOf(id: string): FirmwareProfile {
  const f = (FIRMWARE as Record<string, FirmwareProfile>)[id] ?? VARIANTS.get(id);
  if (!f) throw new UsageError(`unknown firmware ${JSON.stringify(id)}: expected one of ${FIRMWARE_IDS.join(', ')}`);
  return f;
}

const VARIANTS = new Map<string, FirmwareProfile>();

/**
 * Register a variant of a build under `${build}~${name}` (the fidelity report toggles one fact
 * at a time to measure what it moves). Variants live in this process only: replay tokens and
 * the command line know the three builds.
 */
export function registerFirmwareVariant(base: FirmwareId, name: string, change: (f: FirmwareProfile) => FirmwareProfile): FirmwareVariantId {
  const id = `${base}~${name}` as FirmwareVariantId;
  VARIANTS.set(id, { ...change(FIRMWARE[base]), id: id as unknown as FirmwareId });
  return id;
}

/** A build with other constants (calibration explores these). */
export function withConstants(f: FirmwareProfile, c: FittedConstants): FirmwareProfile {
  return { ...f, constants: c };
}

/** The device profile a build runs on: the board's costs plus the build's per-transfer overheads. */
export function deviceFor(base: DeviceProfile, f: FirmwareProfile): DeviceProfile {
  const c = f.constants;
  if (c.spiCallCycles === 0 && c.paramCallCycles === 0) return base;
  const overheads: FirmwareOverheads = {
    spiCallCycles: c.spiCallCycles,
    paramCallCycles: c.paramCallCycles,
    source: `${f.id}: ${SOURCES_2021.constants}`,
  };
  return { ...base, name: `${base.name} + ${f.id}`, overheads };
}
