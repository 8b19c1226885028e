/**
 * Exact shape of what kernels/build/Release/m1kit.node exports. Only src/native imports this.
 * Every asynchronous entry point takes one options object and returns a promise; outputs are
 * written into the typed arrays passed in (`o`, `y`, `dst`, `codes`, …).
 */
export interface RawLightningOpts {
  q: Float32Array; k: Float32Array; v: Float32Array; o: Float32Array; state: Float32Array; slopes: Float32Array;
  n: number; h: number; d: number; block: number; threads: number;
  /** Prefill only: the bf16 numerics (q, k, v rounded to bf16; fp32 sums and state). */
  bf16?: boolean;
}
export interface RawSoftmaxOpts {
  q: Float32Array; k: Float32Array; v: Float32Array; o: Float32Array;
  n: number; nk: number; hq: number; hkv: number; d: number; scale: number; threads: number;
}
export interface RawGemmOpts { x: Float32Array; w: Uint16Array | Float32Array; y: Float32Array; m: number; k: number; nOut: number; threads: number; bf16?: boolean }
/** Expert e: rows[e] rows of x from row offset[e], times W_e = w[e·nOut·k …]; offsets/rows exact integers. */
export interface RawGemmGroupedOpts {
  x: Float32Array; w: Uint16Array | Float32Array; y: Float32Array; offset: Float64Array; rows: Float64Array;
  experts: number; rowsTotal: number; k: number; nOut: number; threads: number; bf16?: boolean;
}
export type RawConvertOpts =
  | { kind: 'bf16-f32'; src: Uint16Array; dst: Float32Array; n: number; threads: number }
  | { kind: 'f32-bf16' | 'f32-f16'; src: Float32Array; dst: Uint16Array; n: number; threads: number };
export interface RawQuantOpts {
  /** A name of M1K_QUANT_FORMATS (kernels/cpu/kernels.h); the addon rejects any other, naming its list. */
  format: string; op: 'quantize' | 'dequantize';
  rows: number; cols: number; group: number; threads: number; bf16Scale?: boolean;
  w?: Float32Array; wbf16?: Uint16Array; out?: Float32Array; err?: Float64Array; errUnit?: number; errStride?: number; errBlock0?: number; codes?: Uint8Array | Int8Array; packed?: Int32Array;
  /** F32 scales (fp8, int8, int4) or one-byte scale codes (nvfp4: E4M3, mxfp4/mxfp8: E8M0). */
  scale: Float32Array | Uint8Array;
  /** nvfp4: the tensor's fp32 global scale. */
  globalScale?: number;
}
/**
 * Byte range between two open file descriptors; resolves with the bytes copied (< length only at end of
 * input). `writeback`: then start writing the copied output range to disk (advisory, does not wait).
 */
export interface RawCopyFileRangeOpts { fdIn: number; offIn: number; fdOut: number; offOut: number; length: number; writeback?: boolean; paced?: boolean }
export interface RawInfo {
  simdAvailable: string[]; simd: string; hardwareThreads: number; napiVersion: number; compiler?: string;
  /** Every level the addon knows, best first (kernels/cpu/isa_levels.h). */
  simdLevels: string[];
  /** Level → fp32 lanes of its vectors (16 AVX-512, 8 AVX2, 1 scalar). */
  simdLanes: Record<string, number>;
  /** Kernel slot → level whose implementation fills it (null: no usable level provides it). */
  slots: Record<string, string | null>;
  /** Why a level the CPU advertises is not used (AMX tile permission refused). */
  simdNote?: string;
}
export interface RawCudaInfo { deviceCount: number; loaded: boolean; devices: string[]; reason?: string }

export interface RawAddon {
  info(): RawInfo;
  selectSimd(name: string): string;
  /**
   * Synchronous: MXCSR of the calling thread before, on each of `threads` parallel workers inside a
   * compute kernel's flush-denormals region, and after it (ftzBit / dazBit name the two flags).
   */
  fpModeProbe(o: { threads: number }): { before: number; after: number; workers: number[]; ftzBit: number; dazBit: number };
  lightningPrefill(o: RawLightningOpts): Promise<void>;
  lightningDecode(o: Omit<RawLightningOpts, 'block'>): Promise<void>;
  softmaxAttention(o: RawSoftmaxOpts): Promise<void>;
  gemm(o: RawGemmOpts): Promise<void>;
  gemmGrouped(o: RawGemmGroupedOpts): Promise<void>;
  /** Resolves with the FLOPs executed by `iters` rounds of 12 vdpbf16ps (or 4 AMX tdpbf16ps) chains per thread. */
  bf16Peak(o: { iters: number; threads: number }): Promise<number>;
  /** In-place stream: every float of buf[0, n) read and written once. */
  stream(o: { buf: Float32Array; n: number; threads: number }): Promise<void>;
  convert(o: RawConvertOpts): Promise<void>;
  quant(o: RawQuantOpts): Promise<void>;
  /** Resolves with the largest finite |w| of the rows × cols input. */
  quantAmax(o: { w?: Float32Array; wbf16?: Uint16Array; rows: number; cols: number; threads: number }): Promise<number>;
  fmaPeak(o: { iters: number; threads: number }): Promise<number>;
  copy(o: { src: Float32Array; dst: Float32Array; n: number; threads: number }): Promise<void>;
  copyFileRange(o: RawCopyFileRangeOpts): Promise<number>;
  writeback(o: { fd: number; offset: number; length: number }): Promise<number>;
  fallocate(o: { fd: number; offset: number; length: number; keepSize?: boolean }): Promise<number>;
  /** Synchronous: whether this CPU has the SHA extensions. */
  sha256NiAvailable(): boolean;
  /** Synchronous: compress whole 64-byte blocks of data[l] into states[l] (8 words each). */
  sha256Lanes(states: Uint32Array[], data: Uint8Array[]): void;
  cudaInfo(libPath: string): RawCudaInfo;
  cudaLightning(o: Omit<RawLightningOpts, 'threads'> & { op: 'prefill' | 'decode' }): Promise<void>;
  cudaQuantFp8(o: { w: Float32Array; codes: Uint8Array; scale: Float32Array; rows: number; cols: number; group: number }): Promise<void>;
  /** The tensor-core prefill's tile decomposition run on the host (no device needed). */
  cudaEmulateLightning(o: Omit<RawLightningOpts, 'threads' | 'block' | 'bf16'> & { segment: number }): Promise<void>;
  /** Same-run CUDA figures into out: [mma peak FLOP/s, copy s, prefill s, decode step s, state bytes]. */
  cudaBench(o: { n: number; h: number; d: number; decodeHeads: number; out: Float64Array }): Promise<void>;
}
