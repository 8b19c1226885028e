/**
 * Native quantizers with TypeScript fallback. Conventions (rounding, scales, packing) are those of
 * the references in core/quant/{fp8,int8,int4}.ts, which the native kernels match bit for bit.
 */
import { dequantizeFp8Band, quantizeFp8Band } from '../quant/fp8.js';
import { dequantizeInt8Rows, quantizeInt8Rows, checkMatrix, type ScaleDtype } from '../quant/int8.js';
import { dequantizeInt4Rows, quantizeInt4Rows } from '../quant/int4.js';
import { threadsOf, useNative, type KernelOptions } from './common.js';
import * as native from '../../native/index.js';
import { InputError } from '../errors.js';
import { bf16ToF32 } from '../dtype/convert.js';
import { addErrorSums, type ErrorSample } from '../quant/error-sums.js';

export type { ErrorSample } from '../quant/error-sums.js';

/**
 * What the quantizers read: fp32 values, or bf16 bit patterns. bf16 → fp32 is exact, so both give the
 * same codes; the native kernels widen bf16 rows in cache instead of a separate decode pass over memory.
 */
export type QuantInput = Float32Array | { bf16: Uint16Array };

const lengthOf = (w: QuantInput): number => (w instanceof Float32Array ? w.length : w.bf16.length);
/** fp32 values of `w` (the TypeScript references work on fp32). */
const f32Of = (w: QuantInput): Float32Array => (w instanceof Float32Array ? w : bf16ToF32(w.bf16));
/** The addon's input fields for `w`. */
const nativeIn = (w: QuantInput): { w: Float32Array } | { wbf16: Uint16Array } => (w instanceof Float32Array ? { w } : { wbf16: w.bf16 });

export interface QuantOptions extends KernelOptions {
  scaleDtype?: ScaleDtype;
  /**
   * Also measure the quantization error on sampled row blocks (added to `errors.out`): in the same
   * native call as the quantization, or by the references when running in TypeScript.
   */
  errors?: ErrorSample;
}

/** The addon's error-sampling fields for `e`. */
const nativeErr = (e: ErrorSample | undefined) => (e ? { err: e.out, errUnit: e.unit, errStride: e.stride, errBlock0: e.block0 } : {});

/**
 * Reusable output buffers (each must have exactly the result's length). Fresh multi-MiB arrays cost a
 * page fault per 4 KiB on first write, which can exceed the kernel time itself; loops over bands
 * should allocate once and pass them here.
 */
export interface QuantOut {
  codes?: Uint8Array;
  q?: Int8Array;
  packed?: Int32Array;
  scale?: Float32Array;
}

function buf<T extends { length: number }>(given: T | undefined, make: () => T, n: number, what: string): T {
  if (given === undefined) return make();
  checkMatrix(given.length, n, 1, what);
  return given;
}

/**
 * Block FP8 of a whole [rows, cols] matrix: codes [rows, cols] and scaleInv
 * [ceil(rows/block), ceil(cols/block)] (row-major), i.e. DeepSeek-V3 `weight_scale_inv`.
 * @example const { codes, scaleInv } = await quantizeFp8Blocks(w, 9216, 6144); // scaleInv [72, 48]
 */
export async function quantizeFp8Blocks(
  input: QuantInput, rows: number, cols: number, block = 128, o: KernelOptions & { out?: QuantOut; errors?: ErrorSample } = {},
): Promise<{ codes: Uint8Array; scaleInv: Float32Array }> {
  checkMatrix(lengthOf(input), rows, cols, 'quantizeFp8Blocks');
  if (o.errors && o.errors.unit % block !== 0) throw new InputError('E_KERNEL_SHAPE', `quantizeFp8Blocks: error blocks of ${o.errors.unit} rows must be whole fp8 blocks of ${block}`);
  const nbr = Math.ceil(rows / block), nbc = Math.ceil(cols / block);
  const codes = buf(o.out?.codes, () => new Uint8Array(rows * cols), rows * cols, 'quantizeFp8Blocks (out.codes)');
  const scaleInv = buf(o.out?.scale, () => new Float32Array(nbr * nbc), nbr * nbc, 'quantizeFp8Blocks (out.scale)');
  if (useNative(o, 'quantizeFp8Blocks')) {
    await native.quant({ format: 'fp8', op: 'quantize', ...nativeIn(input), codes, scale: scaleInv, rows, cols, group: block, threads: threadsOf(o), ...nativeErr(o.errors) }, 'quantizeFp8Blocks');
    return { codes, scaleInv };
  }
  const w = f32Of(input);
  for (let b = 0; b < nbr; b++) {
    const r0 = b * block, rn = Math.min(block, rows - r0);
    const band = quantizeFp8Band(w.subarray(r0 * cols, (r0 + rn) * cols), rn, cols, block);
    codes.set(band.codes, r0 * cols);
    scaleInv.set(band.scaleInv, b * nbc);
  }
  if (o.errors) {
    // sampled blocks are whole fp8 blocks of rows when errors.unit is the block edge
    addErrorSums(o.errors, w, rows, cols, (a, b) => dequantizeFp8Band(codes.subarray(a * cols, b * cols), scaleInv.subarray(Math.floor(a / block) * nbc, Math.ceil(b / block) * nbc), b - a, cols, block));
  }
  return { codes, scaleInv };
}

/** Inverse of quantizeFp8Blocks: fp32(decode(code) · scaleInv[block]). */
export async function dequantizeFp8Blocks(
  codes: Uint8Array, scaleInv: Float32Array, rows: number, cols: number, block = 128, o: KernelOptions & { out?: Float32Array } = {},
): Promise<Float32Array> {
  checkMatrix(codes.length, rows, cols, 'dequantizeFp8Blocks');
  const nbr = Math.ceil(rows / block), nbc = Math.ceil(cols / block);
  checkMatrix(scaleInv.length, nbr, nbc, 'dequantizeFp8Blocks (scaleInv)');
  const out = outBuffer(o.out, rows * cols, 'dequantizeFp8Blocks');
  if (useNative(o, 'dequantizeFp8Blocks')) {
    await native.quant({ format: 'fp8', op: 'dequantize', out, codes, scale: scaleInv, rows, cols, group: block, threads: threadsOf(o) }, 'dequantizeFp8Blocks');
    return out;
  }
  for (let b = 0; b < nbr; b++) {
    const r0 = b * block, rn = Math.min(block, rows - r0);
    out.set(dequantizeFp8Band(codes.subarray(r0 * cols, (r0 + rn) * cols), scaleInv.subarray(b * nbc, (b + 1) * nbc), rn, cols, block), r0 * cols);
  }
  return out;
}

/** Per-row symmetric INT8: q [rows, cols], scale [rows]. */
export async function quantizeInt8(w: QuantInput, rows: number, cols: number, o: QuantOptions & { out?: QuantOut } = {}): Promise<{ q: Int8Array; scale: Float32Array }> {
  checkMatrix(lengthOf(w), rows, cols, 'quantizeInt8');
  if (!useNative(o, 'quantizeInt8')) {
    const f = f32Of(w);
    const r = quantizeInt8Rows(f, rows, cols, o.scaleDtype ? { scaleDtype: o.scaleDtype } : {});
    if (o.errors) addErrorSums(o.errors, f, rows, cols, (a, b) => dequantizeInt8Rows(r.q.subarray(a * cols, b * cols), r.scale.subarray(a, b), b - a, cols));
    return r;
  }
  const q = buf(o.out?.q, () => new Int8Array(rows * cols), rows * cols, 'quantizeInt8 (out.q)');
  const scale = buf(o.out?.scale, () => new Float32Array(rows), rows, 'quantizeInt8 (out.scale)');
  await native.quant({ format: 'int8', op: 'quantize', ...nativeIn(w), codes: q, scale, rows, cols, group: 1, threads: threadsOf(o), bf16Scale: o.scaleDtype === 'BF16', ...nativeErr(o.errors) }, 'quantizeInt8');
  return { q, scale };
}

export async function dequantizeInt8(q: Int8Array, scale: Float32Array, rows: number, cols: number, o: KernelOptions & { out?: Float32Array } = {}): Promise<Float32Array> {
  if (!useNative(o, 'dequantizeInt8')) return intoOut(o.out, dequantizeInt8Rows(q, scale, rows, cols));
  checkMatrix(q.length, rows, cols, 'dequantizeInt8');
  checkMatrix(scale.length, rows, 1, 'dequantizeInt8 (scale)');
  const out = outBuffer(o.out, rows * cols, 'dequantizeInt8');
  await native.quant({ format: 'int8', op: 'dequantize', out, codes: q, scale, rows, cols, group: 1, threads: threadsOf(o) }, 'dequantizeInt8');
  return out;
}

/** Group-wise symmetric INT4, compressed-tensors pack-quantized: packed [rows, ceil(cols/8)], scale [rows, ceil(cols/group)]. */
export async function quantizeInt4(
  w: QuantInput, rows: number, cols: number, group = 128, o: QuantOptions & { out?: QuantOut } = {},
): Promise<{ packed: Int32Array; scale: Float32Array }> {
  checkMatrix(lengthOf(w), rows, cols, 'quantizeInt4');
  if (!useNative(o, 'quantizeInt4')) {
    const f = f32Of(w);
    const r = quantizeInt4Rows(f, rows, cols, group, o.scaleDtype ? { scaleDtype: o.scaleDtype } : {});
    const words = Math.ceil(cols / 8), ng = Math.ceil(cols / group);
    if (o.errors) addErrorSums(o.errors, f, rows, cols, (a, b) => dequantizeInt4Rows(r.packed.subarray(a * words, b * words), r.scale.subarray(a * ng, b * ng), b - a, cols, group));
    return r;
  }
  const nw = rows * Math.ceil(cols / 8), ns = rows * Math.ceil(cols / group);
  const packed = buf(o.out?.packed, () => new Int32Array(nw), nw, 'quantizeInt4 (out.packed)');
  const scale = buf(o.out?.scale, () => new Float32Array(ns), ns, 'quantizeInt4 (out.scale)');
  await native.quant({ format: 'int4', op: 'quantize', ...nativeIn(w), packed, scale, rows, cols, group, threads: threadsOf(o), bf16Scale: o.scaleDtype === 'BF16', ...nativeErr(o.errors) }, 'quantizeInt4');
  return { packed, scale };
}

export async function dequantizeInt4(
  packed: Int32Array, scale: Float32Array, rows: number, cols: number, group = 128, o: KernelOptions & { out?: Float32Array } = {},
): Promise<Float32Array> {
  if (!useNative(o, 'dequantizeInt4')) return intoOut(o.out, dequantizeInt4Rows(packed, scale, rows, cols, group));
  checkMatrix(packed.length, rows, Math.ceil(cols / 8), 'dequantizeInt4 (packed)');
  checkMatrix(scale.length, rows, Math.ceil(cols / group), 'dequantizeInt4 (scale)');
  const out = outBuffer(o.out, rows * cols, 'dequantizeInt4');
  await native.quant({ format: 'int4', op: 'dequantize', out, packed, scale, rows, cols, group, threads: threadsOf(o) }, 'dequantizeInt4');
  return out;
}

/** The caller's `out` (checked to hold exactly `n` values) or a fresh array. */
function outBuffer(out: Float32Array | undefined, n: number, what: string): Float32Array {
  if (!out) return new Float32Array(n);
  checkMatrix(out.length, n, 1, `${what} (out)`);
  return out;
}

/** Copy a reference result into the caller's `out` when one was given. */
function intoOut(out: Float32Array | undefined, r: Float32Array): Float32Array {
  if (!out) return r;
  checkMatrix(out.length, r.length, 1, 'dequantize (out)');
  out.set(r);
  return out;
}
