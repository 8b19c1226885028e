/**
 * m1kit library entry. Core functions never print or exit; they take `onProgress` callbacks and an
 * `AbortSignal`. Errors are `M1kitError`s with a stable `code` and an `exitCode`.
 */
export * from './core/errors.js';
export { parseConfig, softmaxLayers, lightningLayers, type M1Config, type AttnType } from './core/checkpoint/config.js';
export { Checkpoint, type TensorLocation } from './core/checkpoint/checkpoint.js';
export { expectedTensors, checkCompleteness, layerTensors, type Problem } from './core/checkpoint/layout.js';
export { countParams, type ParamCounts } from './core/checkpoint/params.js';
export { M1_CONFIG, MODEL_PRESETS, FIXTURE_PRESETS } from './core/checkpoint/presets.js';
export { SafetensorsReader } from './core/safetensors/reader.js';
export { SafetensorsWriter, writeSafetensors, type TensorSpec } from './core/safetensors/writer.js';
export { parseHeader, type SafetensorsHeader, type TensorInfo } from './core/safetensors/header.js';
export { readIndex, writeIndex, shardName } from './core/safetensors/index-json.js';
export { generateCheckpoint } from './core/fixture/generate.js';
export { inspectCheckpoint, type InspectReport } from './core/inspect/inspect.js';
export { memoryPlan, type MemoryPlan } from './core/inspect/memory-plan.js';
export * from './core/dtype/convert.js';
export { DTYPES, type DType } from './core/dtype/dtypes.js';
