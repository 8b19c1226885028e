/**
 * Every compute and I/O entry point of the addon as one typed function. Each checks that the addon is
 * loaded (UnavailableError with the reason and possible fixes otherwise), runs the kernel and rewraps
 * what it throws as a typed m1kit error. Outputs are written into the typed arrays passed in (`o`, `y`,
 * `dst`, `codes`, …). `op` names the caller's operation in error messages (default: the entry point).
 * The shape checks and the choice between these kernels and the TypeScript references are core/ops'.
 */
import { callAsync, callSync } from './guard.js';
import type { RawConvertOpts, RawCopyFileRangeOpts, RawGemmGroupedOpts, RawGemmOpts, RawLightningOpts, RawQuantOpts, RawSoftmaxOpts } from './raw.js';

export type {
  RawConvertOpts as ConvertArgs, RawCopyFileRangeOpts as CopyFileRangeArgs, RawGemmGroupedOpts as GemmGroupedArgs, RawGemmOpts as GemmArgs,
  RawLightningOpts as LightningArgs, RawQuantOpts as QuantArgs, RawSoftmaxOpts as SoftmaxArgs,
} from './raw.js';

/** Block-form lightning prefill; `o` and `state` (carried in and out) are written. */
export const lightningPrefill = (a: RawLightningOpts, op = 'lightningPrefill'): Promise<void> => callAsync(op, (x) => x.lightningPrefill(a));
/** Recurrent lightning decode of n steps; `o` and `state` are written. */
export const lightningDecode = (a: Omit<RawLightningOpts, 'block'>, op = 'lightningDecode'): Promise<void> => callAsync(op, (x) => x.lightningDecode(a));
/** Causal GQA softmax attention (flash-style, fp32) into `o`. */
export const softmaxAttention = (a: RawSoftmaxOpts, op = 'softmaxAttention'): Promise<void> => callAsync(op, (x) => x.softmaxAttention(a));
/** y = x · Wᵀ. */
export const gemm = (a: RawGemmOpts, op = 'gemm'): Promise<void> => callAsync(op, (x) => x.gemm(a));
/** One GEMM per expert over its routed rows. */
export const gemmGrouped = (a: RawGemmGroupedOpts, op = 'gemmGrouped'): Promise<void> => callAsync(op, (x) => x.gemmGrouped(a));
/** Bulk dtype conversion (bf16 ↔ fp32, fp32 → fp16), round to nearest even. */
export const convert = (a: RawConvertOpts, op = 'convert'): Promise<void> => callAsync(op, (x) => x.convert(a));
/** Quantize or dequantize one tensor in a block/channel/group format. */
export const quant = (a: RawQuantOpts, op = 'quant'): Promise<void> => callAsync(op, (x) => x.quant(a));
/** Largest finite |w| of a rows × cols matrix (fp32 `w` or bf16 `wbf16`). */
export const quantAmax = (a: { w?: Float32Array; wbf16?: Uint16Array; rows: number; cols: number; threads: number }, op = 'quantAmax'): Promise<number> => callAsync(op, (x) => x.quantAmax(a));

/** Resolves with the FLOPs of `iters` rounds of the FMA probe's chains on every thread. */
export const fmaPeak = (a: { iters: number; threads: number }, op = 'fmaPeak'): Promise<number> => callAsync(op, (x) => x.fmaPeak(a));
/** Resolves with the FLOPs of `iters` rounds of the bf16 dot-product probe (vdpbf16ps or AMX). */
export const bf16Peak = (a: { iters: number; threads: number }, op = 'bf16Peak'): Promise<number> => callAsync(op, (x) => x.bf16Peak(a));
/** In-place stream: every float of buf[0, n) read and written once. */
export const stream = (a: { buf: Float32Array; n: number; threads: number }, op = 'stream'): Promise<void> => callAsync(op, (x) => x.stream(a));
/** Threaded memcpy of n floats. */
export const copy = (a: { src: Float32Array; dst: Float32Array; n: number; threads: number }, op = 'copy'): Promise<void> => callAsync(op, (x) => x.copy(a));

/** Byte range between two open files; resolves with the bytes copied (< length only at end of input). */
export const copyFileRange = (a: RawCopyFileRangeOpts, op = 'copyFileRange'): Promise<number> => callAsync(op, (x) => x.copyFileRange(a));
/** Start writing a file range to disk (advisory). */
export const writeback = (a: { fd: number; offset: number; length: number }, op = 'writeback'): Promise<number> => callAsync(op, (x) => x.writeback(a));
/** Reserve a file range's blocks; resolves with 1 when reserved. */
export const fallocate = (a: { fd: number; offset: number; length: number; keepSize?: boolean }, op = 'fallocate'): Promise<number> => callAsync(op, (x) => x.fallocate(a));

/** Synchronous: whether this CPU has the SHA extensions. */
export const sha256NiAvailable = (op = 'sha256Lanes'): boolean => callSync(op, (x) => x.sha256NiAvailable());
/** Synchronous: compress whole 64-byte blocks of data[l] into states[l] (8 words each). */
export const sha256Lanes = (states: Uint32Array[], data: Uint8Array[], op = 'sha256Lanes'): void => callSync(op, (x) => x.sha256Lanes(states, data));

/** CUDA lightning prefill or decode (bf16 inputs, fp32 state); `o` and `state` are written. */
export const cudaLightning = (a: Omit<RawLightningOpts, 'threads'> & { op: 'prefill' | 'decode' }, op = 'cudaLightning'): Promise<void> =>
  callAsync(op, (x) => x.cudaLightning(a));
/** CUDA block FP8 quantization into `codes` and `scale`. */
export const cudaQuantFp8 = (a: { w: Float32Array; codes: Uint8Array; scale: Float32Array; rows: number; cols: number; group: number }, op = 'cudaQuantFp8'): Promise<void> =>
  callAsync(op, (x) => x.cudaQuantFp8(a));
/** The tensor-core prefill's tile decomposition, run on the host (no device needed). */
export const cudaEmulateLightning = (a: Omit<RawLightningOpts, 'threads' | 'block' | 'bf16'> & { segment: number }, op = 'cudaEmulateLightning'): Promise<void> =>
  callAsync(op, (x) => x.cudaEmulateLightning(a));
/** Same-run CUDA figures into out: [mma peak FLOP/s, copy s, prefill s, decode step s, state bytes]. */
export const cudaBench = (a: { n: number; h: number; d: number; decodeHeads: number; out: Float64Array }, op = 'cudaBench'): Promise<void> => callAsync(op, (x) => x.cudaBench(a));
