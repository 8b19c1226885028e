/**
 * m1kit library entry. One function per command (download, inspect, convert, quantize, dequantize,
 * forward, verify, verifyCorpus, imatrix, bench, fixture — see library.ts), then the building blocks. Nothing here prints or
 * exits; long work takes `onProgress` callbacks and an `AbortSignal`. Errors are `M1kitError`s with a
 * stable `code` and an `exitCode`.
 */
export {
  download, verifyDownload, inspect, convert, quantize, dequantize, fixture, forward, verify, verifyTrainVsInfer, verifyCorpus, imatrix, bench,
  type CorpusVerifyOptions, type ImatrixOptions, type CommonOptions, type DownloadOptions, type ConvertOptions, type GgufConvertOptions, type QuantizeOptions, type VerifyOptions, type BenchOptions,
} from './library.js';
export type { DownloadSummary } from './core/hub/download-repo.js';
export type { VerifyResult as DownloadVerifyResult } from './core/hub/verify-download.js';
export type { RunResult } from './core/convert/run.js';
export type { CompareResult } from './core/verify/against.js';
export type { TrainVsInferResult } from './core/verify/train-vs-infer.js';
export type { CorpusEvalResult } from './core/verify/perplexity.js';
export type { ImatrixResult } from './core/imatrix/run.js';
export type { BenchResult } from './core/bench/schema.js';
export type { GenerateResult } from './core/fixture/generate.js';
export * from './core/errors.js';
export { parseConfig, softmaxLayers, lightningLayers, type M1Config, type AttnType } from './core/checkpoint/config.js';
export { Checkpoint, type TensorLocation } from './core/checkpoint/checkpoint.js';
export { expectedTensors, checkCompleteness, type Problem } from './core/checkpoint/layout.js';
export { layerTensors } from './core/arch/minimax-m1/tensors.js';
export { FAMILIES, familyOf, type ModelFamily } from './core/arch/registry.js';
export { openTensorView, type TensorView, type ViewOptions } from './core/view/open.js';
export { countParams, type ParamCounts } from './core/checkpoint/params.js';
export { M1_CONFIG, MODEL_PRESETS, FIXTURE_PRESETS } from './core/checkpoint/presets.js';
export { SafetensorsReader } from './core/safetensors/reader.js';
export { SafetensorsWriter, writeSafetensors, type TensorSpec } from './core/safetensors/writer.js';
export { parseHeader, type SafetensorsHeader, type TensorInfo } from './core/safetensors/header.js';
export { readIndex, writeIndex, shardName } from './core/safetensors/index-json.js';
export { generateCheckpoint } from './core/fixture/generate.js';
export { inspectCheckpoint, type InspectReport } from './core/inspect/inspect.js';
export { memoryPlan, type MemoryPlan } from './core/inspect/memory-plan.js';
export { checkCheckpointForEngine, engineProblems, parseEngine, type EngineReport, type EngineSpec } from './core/engines/inspect-engine.js';
export { checkQuantized, DEFAULT_CHECK_MAX_KLD } from './core/verify/quantize-check.js';
export { loadRecipe, parseRecipe, selectModules, builtinRecipe, type Recipe, type RecipeRule, type Selection } from './core/quantize/recipe.js';
export { QUANT_FORMATS, GGUF_TYPES, type QuantFormat, type GgufType } from './core/formats/index.js';
export { COMPAT, type CompatRow, type CompatStatus } from './core/engines/compat.js';
export * from './core/dtype/convert.js';
export { DTYPES, type DType } from './core/dtype/dtypes.js';
export { importanceStats, importanceRatios, ratioHistogram, DEFAULT_CLIP_EPS, DEFAULT_CISPO_EPS_HIGH, DEFAULT_LOW_PROB, type ImportanceStats, type ClipShares } from './core/verify/importance.js';
export { EarlyTruncationGuard, EARLY_TRUNCATION_DEFAULTS, type EarlyTruncationOptions } from './core/generation/early-truncation.js';
