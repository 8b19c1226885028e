/**
 * The quantization op: `quantizeWith` / `dequantizeWith` run any `QuantKernel` (core/quant/kernel.ts),
 * i.e. any line of M1K_QUANT_FORMATS, on the native kernel or on its TypeScript reference, which give
 * the same bytes. A format module hands its kernel record to these two; it needs no op of its own. The
 * named functions below are the same calls, shaped for the kernels m1kit ships (fp8, int8, int4 here;
 * nvfp4 and MX in microscale.ts).
 */
import { bf16ToF32 } from '../dtype/convert.js';
import { InputError } from '../errors.js';
import { addErrorSums, type ErrorSample } from '../quant/error-sums.js';
import { fp8Kernel } from '../quant/fp8.js';
import { int4Kernel } from '../quant/int4.js';
import { checkMatrix, int8Kernel, type ScaleDtype } from '../quant/int8.js';
import type { CodesArray, QuantKernel, QuantParams, ScaleArray } from '../quant/kernel.js';
import * as native from '../../native/index.js';
import { threadsOf, useNative, type KernelOptions } from './common.js';

export type { ErrorSample } from '../quant/error-sums.js';
export type { QuantKernel, QuantParams } from '../quant/kernel.js';

/**
 * What the quantizers read: fp32 values, or bf16 bit patterns. bf16 → fp32 is exact, so both give the
 * same codes; the native kernels widen bf16 rows in cache instead of a separate decode pass over memory.
 */
export type QuantInput = Float32Array | { bf16: Uint16Array };

export const quantInputLength = (w: QuantInput): number => (w instanceof Float32Array ? w.length : w.bf16.length);
/** fp32 values of `w` (the TypeScript references work on fp32). */
export const quantInputF32 = (w: QuantInput): Float32Array => (w instanceof Float32Array ? w : bf16ToF32(w.bf16));

export interface QuantRunOptions<C extends CodesArray, S extends ScaleArray> extends KernelOptions {
  params?: QuantParams;
  /**
   * Also measure the quantization error on sampled row blocks (added to `errors.out`): in the same
   * native call as the quantization, or by the reference when running in TypeScript.
   */
  errors?: ErrorSample | undefined;
  /**
   * Reusable outputs (each exactly the result's length). Fresh multi-MiB arrays cost a page fault per
   * 4 KiB on first write, which can exceed the kernel time itself; loops over bands allocate once.
   */
  out?: { codes?: C | undefined; scale?: S | undefined };
}

function checkParams(k: Pick<QuantKernel, 'globalScale'>, p: QuantParams, op: string): void {
  const g = p.globalScale;
  if (k.globalScale && (g === undefined || !(g > 0) || !Number.isFinite(g))) throw new InputError('E_QUANT_SCALE', `${op}: global scale must be a positive finite number, got ${g}`);
}

/** A reference result copied into the caller's buffer, when one was given. */
function into<A extends { length: number; set(a: A): void }>(given: A | undefined, r: A): A {
  if (given === undefined) return r;
  given.set(r);
  return given;
}

const nativeIn = (w: QuantInput): { w: Float32Array } | { wbf16: Uint16Array } => (w instanceof Float32Array ? { w } : { wbf16: w.bf16 });
const nativeCodes = (c: CodesArray): { packed: Int32Array } | { codes: Uint8Array | Int8Array } => (c instanceof Int32Array ? { packed: c } : { codes: c });
const nativeParams = (p: QuantParams) => ({ ...(p.bf16Scale ? { bf16Scale: true } : {}), ...(p.globalScale !== undefined ? { globalScale: p.globalScale } : {}) });
const nativeErr = (e: ErrorSample | undefined) => (e ? { err: e.out, errUnit: e.unit, errStride: e.stride, errBlock0: e.block0 } : {});

/**
 * Quantize a [rows, cols] matrix with kernel `k` (group: block or group edge; kernels with a fixed group ignore it).
 * @example const { codes, scale } = await quantizeWith(fp8Kernel, w, 9216, 6144, 128); // scale [72, 48]
 */
export async function quantizeWith<C extends CodesArray, S extends ScaleArray>(
  k: QuantKernel<C, S>, input: QuantInput, rows: number, cols: number, group: number, o: QuantRunOptions<C, S> = {}, op = `quantize ${k.name}`,
): Promise<{ codes: C; scale: S }> {
  checkMatrix(quantInputLength(input), rows, cols, op);
  const g = k.fixedGroup ?? group;
  const p = o.params ?? {};
  checkParams(k, p, op);
  const unit = k.errorRows?.(g) ?? 1;
  if (o.errors && o.errors.unit % unit !== 0) throw new InputError('E_KERNEL_SHAPE', `${op}: error blocks of ${o.errors.unit} rows must be whole ${k.name} blocks of ${unit}`);
  const cs = k.codesShape(rows, cols, g), ss = k.scaleShape(rows, cols, g);
  if (o.out?.codes) checkMatrix(o.out.codes.length, cs[0], cs[1], `${op} (out.codes)`);
  if (o.out?.scale) checkMatrix(o.out.scale.length, ss[0], ss[1], `${op} (out.scale)`);
  if (useNative(o, op)) {
    const codes = o.out?.codes ?? new k.codes(cs[0] * cs[1]);
    const scale = o.out?.scale ?? new k.scale(ss[0] * ss[1]);
    await native.quant({ format: k.name, op: 'quantize', ...nativeIn(input), ...nativeCodes(codes), scale, rows, cols, group: g, threads: threadsOf(o), ...nativeParams(p), ...nativeErr(o.errors) }, op);
    return { codes, scale };
  }
  const w = quantInputF32(input);
  const r = k.quantize(w, rows, cols, g, p);
  if (o.errors) {
    let deq: Float32Array | undefined; // the reference decode of the whole call, made once for the sampled rows
    addErrorSums(o.errors, w, rows, cols, (a, b) => (deq ??= k.dequantize(r.codes, r.scale, rows, cols, g, p)).subarray(a * cols, b * cols));
  }
  return { codes: into(o.out?.codes, r.codes), scale: into(o.out?.scale, r.scale) };
}

/** Inverse of quantizeWith: fp32 [rows, cols], into `o.out` when given. */
export async function dequantizeWith<C extends CodesArray, S extends ScaleArray>(
  k: QuantKernel<C, S>, codes: C, scale: S, rows: number, cols: number, group: number,
  o: KernelOptions & { params?: QuantParams; out?: Float32Array | undefined } = {}, op = `dequantize ${k.name}`,
): Promise<Float32Array> {
  const g = k.fixedGroup ?? group;
  const p = o.params ?? {};
  const [cr, cc] = k.codesShape(rows, cols, g), [sr, sc] = k.scaleShape(rows, cols, g);
  checkMatrix(codes.length, cr, cc, `${op} (codes)`);
  checkMatrix(scale.length, sr, sc, `${op} (scale)`);
  checkParams(k, p, op);
  if (o.out) checkMatrix(o.out.length, rows, cols, `${op} (out)`);
  if (!useNative(o, op)) return into(o.out, k.dequantize(codes, scale, rows, cols, g, p));
  const out = o.out ?? new Float32Array(rows * cols);
  await native.quant({ format: k.name, op: 'dequantize', out, ...nativeCodes(codes), scale, rows, cols, group: g, threads: threadsOf(o), ...nativeParams(p) }, op);
  return out;
}

export interface QuantOptions extends KernelOptions {
  scaleDtype?: ScaleDtype;
  /** Also measure the quantization error on sampled row blocks (added to `errors.out`). */
  errors?: ErrorSample | undefined;
}

/** Reusable output buffers of the named quantizers (each must have exactly the result's length). */
export interface QuantOut {
  codes?: Uint8Array;
  q?: Int8Array;
  packed?: Int32Array;
  scale?: Float32Array;
}

const bf16Scale = (o: QuantOptions): QuantParams => (o.scaleDtype === 'BF16' ? { bf16Scale: true } : {});

/**
 * Block FP8 of a whole [rows, cols] matrix: codes [rows, cols] and scaleInv
 * [ceil(rows/block), ceil(cols/block)] (row-major), i.e. DeepSeek-V3 `weight_scale_inv`.
 * @example const { codes, scaleInv } = await quantizeFp8Blocks(w, 9216, 6144); // scaleInv [72, 48]
 */
export async function quantizeFp8Blocks(
  input: QuantInput, rows: number, cols: number, block = 128, o: KernelOptions & { out?: QuantOut; errors?: ErrorSample | undefined } = {},
): Promise<{ codes: Uint8Array; scaleInv: Float32Array }> {
  const r = await quantizeWith(fp8Kernel, input, rows, cols, block, { ...o, out: { codes: o.out?.codes, scale: o.out?.scale } }, 'quantizeFp8Blocks');
  return { codes: r.codes, scaleInv: r.scale };
}

/** Inverse of quantizeFp8Blocks: fp32(decode(code) · scaleInv[block]). */
export const dequantizeFp8Blocks = (codes: Uint8Array, scaleInv: Float32Array, rows: number, cols: number, block = 128, o: KernelOptions & { out?: Float32Array } = {}): Promise<Float32Array> =>
  dequantizeWith(fp8Kernel, codes, scaleInv, rows, cols, block, o, 'dequantizeFp8Blocks');

/** Per-row symmetric INT8: q [rows, cols], scale [rows]. */
export async function quantizeInt8(w: QuantInput, rows: number, cols: number, o: QuantOptions & { out?: QuantOut } = {}): Promise<{ q: Int8Array; scale: Float32Array }> {
  const r = await quantizeWith(int8Kernel, w, rows, cols, 1, { ...o, params: bf16Scale(o), out: { codes: o.out?.q, scale: o.out?.scale } }, 'quantizeInt8');
  return { q: r.codes, scale: r.scale };
}

export const dequantizeInt8 = (q: Int8Array, scale: Float32Array, rows: number, cols: number, o: KernelOptions & { out?: Float32Array } = {}): Promise<Float32Array> =>
  dequantizeWith(int8Kernel, q, scale, rows, cols, 1, o, 'dequantizeInt8');

/** Group-wise symmetric INT4, compressed-tensors pack-quantized: packed [rows, ceil(cols/8)], scale [rows, ceil(cols/group)]. */
export async function quantizeInt4(
  w: QuantInput, rows: number, cols: number, group = 128, o: QuantOptions & { out?: QuantOut } = {},
): Promise<{ packed: Int32Array; scale: Float32Array }> {
  const r = await quantizeWith(int4Kernel, w, rows, cols, group, { ...o, params: bf16Scale(o), out: { codes: o.out?.packed, scale: o.out?.scale } }, 'quantizeInt4');
  return { packed: r.codes, scale: r.scale };
}

export const dequantizeInt4 = (packed: Int32Array, scale: Float32Array, rows: number, cols: number, group = 128, o: KernelOptions & { out?: Float32Array } = {}): Promise<Float32Array> =>
  dequantizeWith(int4Kernel, packed, scale, rows, cols, group, o, 'dequantizeInt4');
