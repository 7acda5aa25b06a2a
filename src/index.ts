/**
 * japari's typed library API: the executable device model, networks and their bit-exact Q15
 * reference, the engines, the properties with fuzzing and exhaustive exploration, replay tokens
 * and reports. The CLI (`japari`) is a thin layer over these.
 *
 *   import { loadModel, Deployment, runInference, fuzz, explore, checkScenario } from 'japari';
 *   const m = loadModel('lenet');
 *   const d = new Deployment(m.q, { engine: 'japari', batch: 2, placement: 'spi-fram', profile: msp430fr5994 });
 *   const r = runInference(d, { input: m.inputQ(0), supply: { kind: 'schedule', failAt: [1200] }, seed: 1 });
 *   r.equal; // bit-exact with the uninterrupted Q15 reference?
 */
export { VERSION } from './util/version.js';

// The device (src/device): profile, memories, LEA arithmetic, energy, events.
export { msp430fr5994, msp430fr5994Tinas2024, PROFILES, activePowerW, costOf, type DeviceProfile, type Cost, type NvmPlacement } from './device/profile.js';
export { Device, CATEGORIES, Cat, isPowerFailure, type PowerSupply, type GarbagePattern, type TraceEvent, type Category, type DeviceOptions } from './device/device.js';
export { PagedMemory } from './device/paged.js';
export { TI_REFERENCE_ARITHMETIC, dotQ15, matMulRowQ15, dotGeneric, numberOps, type LeaArithmetic, type AccOps } from './device/lea.js';
export {
  type Capacitor,
  type Harvester,
  type PowerTrace,
  DEVICE_MD_CAPACITOR,
  DEVICE_MD_RC,
  energyAt,
  DEVICE_MD_VMAX,
  ratedVmax,
  type EnergyLedger,
  usableEnergy,
  rechargeSeconds,
  harvestPower,
  parsePowerTrace,
  loadPowerTrace,
} from './device/energy.js';

// Networks and the Q15 reference (src/model).
export { type Network, type Node, type Op, type Shape, inferShapes, numel, paramCount } from './model/ir.js';
export { importOnnx, toLogicalInput } from './model/onnx.js';
export { runFloat, argmax } from './model/float.js';
export { quantize, quantizeInput, dequantize, type QuantizedNetwork } from './model/quantize.js';
export { runQ15, canonicalArithmetic, argmaxQ15, type ArithmeticPlan, type Q15Result } from './model/q15.js';
export { loadModel, defineModel, readInputFile, type LoadedModel } from './model/models.js';
export { loadBuiltin, BUILTIN_MODELS, tinyNetwork } from './model/builtin.js';
export { randomNetwork, formatRandomNet, parseRandomNet } from './model/random-net.js';
export { augmentNetwork, augmentedOutput, realOutputs, type AugmentedNetwork, type AugmentedLayer } from './model/augment.js';
export { planReference, type EngineKind, type EngineParams, type EnginePlan, type EngineLayer, type TensorRef, type ReferenceLayout } from './engines/reference/plan.js';

// Engine designs (src/engines): the registry, the rule interface, and the building blocks of a design.
export {
  designOf,
  hasEngine,
  engineKinds,
  builtinKinds,
  isBuiltinEngine,
  checkBatch,
  registerEngine,
  BUILTIN_DESIGNS,
  continuous,
  hawaii,
  japari,
  japariLoopCount,
  stateful,
  type EngineDesign,
} from './engines/designs.js';
export type { Engine, FaultSet } from './engines/registry.js';
export { type Ops, num } from './engines/ops.js';
export { ReferenceEngine, type PreservationFactory } from './engines/reference/engine.js';
export { type Preservation, type SeekOutcome, NO_HOOKS } from './engines/reference/preservation.js';
export { RecordStore, initialRecord, type ModelRecord, type SlotState } from './engines/common/record.js';
export { newerIsCopy1, bumpVersion, writeTarget } from './engines/common/rules.js';
export { psb, flipStateBit, firstUnfinishedJob, footprintSaysFinished, layerEndSteps, type LayerEndStep, type TpTable } from './engines/japari/rules.js';
export { embedState, clearState, stateOfWord, stateSaysFinished, hasState } from './engines/stateful/rules.js';
export { halfScale } from './engines/stateful/half.js';
export { valueWord, countedValues, slotWordOf } from './engines/reference/geometry.js';
export { type IndicatorScheme, staleIndicators, tornWords } from './engines/scheme.js';
export type { LayerScheme } from './engines/registry.js';
export { Deployment, runInference, warmedUp, driveInference, type RunOptions, type RunResult } from './engines/runner.js';
export { FAULTS, FIXES, FINDINGS, fixesFor, faultsFor, findingsFor, checkCatalogue, type FaultSpec, type FixSpec, type FindingSpec, type FaultId, type FixId, type FindingId } from './engines/catalogue.js';

// Errors: bad input (exit 2 in the CLI) versus japari's own bugs.
export { JapariError, UsageError, InputError, ConfigError, EngineStuck } from './util/errors.js';
export { inactiveInspector, read16, type Inspector, type NvmRead, type TagRead, type Aliasing } from './engines/inspect.js';

// Properties, fuzzing, exploration, replay (src/properties).
export {
  PROPERTIES,
  checkScenario,
  checkSeek,
  registerProperty,
  registeredProperties,
  type PropertyId,
  type AnyPropertyId,
  type UserProperty,
  type SeekContext,
  type EndContext,
  type Violation,
  type Scenario,
  type CheckedRun,
} from './properties/properties.js';
export { fuzz, type FuzzOptions, type FuzzResult, type Counterexample } from './properties/fuzz.js';
export { replaySpec, deploymentOf } from './properties/replay.js';
export { explore, type ExploreOptions, type ExploreResult, type FailurePoint } from './properties/explore.js';
export { runCampaign, type CampaignSpec, type CampaignResult } from './properties/campaign.js';
export { encodeToken, decodeToken, decodeTokenInfo, scheduleFromGaps, type RunSpec, type TokenInfo } from './properties/token.js';
export { minimumWork, checkForwardProgress, type MinimumWork } from './properties/progress.js';
export { runMutants, summarize as summarizeMutants, type MutantRow } from './properties/mutants.js';

// Proofs (src/smt): Z3 runs in worker threads; close them with closeSharedZ3 when done.
export { prove, type ProveOptions, type ProofReport } from './smt/prove.js';
export { sharedZ3, closeSharedZ3 } from './smt/runtime.js';
export { attachObligations, obligationsFor } from './smt/designs.js';
export { schemeObligations } from './smt/scheme.smt.js';

// Reports (src/report).
export { buildCounterexample, counterexampleMarkdown, counterexampleSvg, type CounterexampleReport } from './report/counterexample.js';
export { buildForensics, type Forensics } from './report/forensics.js';
export { counterexampleHtml } from './report/html.js';
export { FINDINGS as FINDING_SEARCHES, evaluateFinding, type Finding } from './report/findings.js';
export { generateReports } from './report/canonical.js';
