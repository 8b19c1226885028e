/**
 * How a quantized storage format meets its native kernel: one `QuantKernel` per line of
 * M1K_QUANT_FORMATS (kernels/cpu/kernels.h), pairing that line's name and buffers with the format's
 * TypeScript reference, which the kernel matches bit for bit. core/ops/quant.ts runs any of them
 * (native, with the reference as fallback), so a new format declares its kernel here-shaped record in its
 * own module and needs no op wrapper of its own.
 */

/** Element buffers the kernels read and write: codes are bytes, int8 or int32 words; scales fp32 or one-byte codes. */
export type CodesArray = Uint8Array | Int8Array | Int32Array;
export type ScaleArray = Float32Array | Uint8Array;

/** A typed-array constructor (`Uint8Array`, `Float32Array`, …). */
export interface ArrayType<A> {
  new (n: number): A;
}

/** What a call passes besides the matrix: the scale rounding (int8/int4) and a tensor-wide scale (nvfp4). */
export interface QuantParams {
  /** Round each scale to bf16 before it is used (the scales are stored as BF16). */
  bf16Scale?: boolean;
  /** The tensor's fp32 global scale, for kernels with `globalScale`. */
  globalScale?: number;
}

export interface QuantKernel<C extends CodesArray = CodesArray, S extends ScaleArray = ScaleArray> {
  /** Its name in M1K_QUANT_FORMATS, i.e. the addon's slots quant_<name> and dequant_<name>. */
  name: string;
  /** Element type of the codes (Int32Array: passed to the addon as `packed`, else as `codes`). */
  codes: ArrayType<C>;
  /** Element type of the scales. */
  scale: ArrayType<S>;
  /** [rows, per-row] of the codes and of the scales of a [rows, cols] matrix with group `group`. */
  codesShape: (rows: number, cols: number, group: number) => [number, number];
  scaleShape: (rows: number, cols: number, group: number) => [number, number];
  /** The group this kernel always uses, whatever the caller passes (int8: 1, NVFP4: 16, MX: 32). */
  fixedGroup?: number;
  /** True when a call needs `QuantParams.globalScale`. */
  globalScale?: boolean;
  /** Rows that an error-sample block must be a whole multiple of (fp8: the block edge); 1 when absent. */
  errorRows?: (group: number) => number;
  // (methods, not function-typed fields, so that any kernel is a `QuantKernel` of the default parameters)
  /** TypeScript reference quantizer of a whole [rows, cols] fp32 matrix. */
  quantize(w: Float32Array, rows: number, cols: number, group: number, p: QuantParams): { codes: C; scale: S };
  /** TypeScript reference decoder: fp32 [rows, cols]. */
  dequantize(codes: C, scale: S, rows: number, cols: number, group: number, p: QuantParams): Float32Array;
}
