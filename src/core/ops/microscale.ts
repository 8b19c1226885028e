/**
 * Native FP4/microscaled quantizers (NVFP4, MXFP4, MXFP8) with the TypeScript references of
 * core/quant/{nvfp4,mx}.ts as fallback; both give the same bytes. Inputs are fp32 values or bf16 bit
 * patterns (widened exactly inside the kernel).
 */
import { bf16ToF32 } from '../dtype/convert.js';
import { InputError } from '../errors.js';
import { addErrorSums, type ErrorSample } from '../quant/error-sums.js';
import { checkMatrix, finiteAmax } from '../quant/int8.js';
import type { MxElement } from '../quant/e8m0.js';
import { dequantizeMxRows, MX_BLOCK, mxRowBytes, quantizeMxRows } from '../quant/mx.js';
import { dequantizeNvfp4Rows, NVFP4_GROUP, quantizeNvfp4Rows } from '../quant/nvfp4.js';
import * as native from '../../native/index.js';
import { threadsOf, useNative, type KernelOptions } from './common.js';
import type { QuantInput } from './quant.js';

const lengthOf = (w: QuantInput): number => (w instanceof Float32Array ? w.length : w.bf16.length);
const f32Of = (w: QuantInput): Float32Array => (w instanceof Float32Array ? w : bf16ToF32(w.bf16));
const nativeIn = (w: QuantInput): { w: Float32Array } | { wbf16: Uint16Array } => (w instanceof Float32Array ? { w } : { wbf16: w.bf16 });
const nativeErr = (e: ErrorSample | undefined) => (e ? { err: e.out, errUnit: e.unit, errStride: e.stride, errBlock0: e.block0 } : {});

export interface MicroscaleOptions extends KernelOptions {
  /** Also measure the quantization error on sampled row blocks (added to `errors.out`). */
  errors?: ErrorSample;
  /** Reusable outputs (each exactly the result's length). */
  out?: { codes?: Uint8Array; scale?: Uint8Array };
}

function buf(given: Uint8Array | undefined, n: number, what: string): Uint8Array {
  if (!given) return new Uint8Array(n);
  checkMatrix(given.length, n, 1, what);
  return given;
}

/** Largest finite |w| of a [rows, cols] matrix (NVFP4's global-scale input). */
export async function matrixAmax(w: QuantInput, rows: number, cols: number, o: KernelOptions = {}): Promise<number> {
  checkMatrix(lengthOf(w), rows, cols, 'matrixAmax');
  if (!useNative(o, 'matrixAmax')) {
    const f = f32Of(w);
    return finiteAmax(f, 0, f.length);
  }
  return native.quantAmax({ ...nativeIn(w), rows, cols, threads: threadsOf(o) }, 'matrixAmax');
}

/**
 * NVFP4 of a [rows, cols] matrix under the tensor's global scale `g` (quant/nvfp4.ts nvfp4GlobalScale).
 * @returns packed [rows, ⌈cols/2⌉] E2M1 pairs and scale [rows, ⌈cols/16⌉] E4M3 codes.
 */
export async function quantizeNvfp4(w: QuantInput, rows: number, cols: number, g: number, o: MicroscaleOptions = {}): Promise<{ packed: Uint8Array; scale: Uint8Array }> {
  checkMatrix(lengthOf(w), rows, cols, 'quantizeNvfp4');
  if (!useNative(o, 'quantizeNvfp4')) {
    const f = f32Of(w);
    const r = quantizeNvfp4Rows(f, rows, cols, g);
    const bpr = Math.ceil(cols / 2), ng = Math.ceil(cols / NVFP4_GROUP);
    if (o.errors) addErrorSums(o.errors, f, rows, cols, (a, b) => dequantizeNvfp4Rows(r.packed.subarray(a * bpr, b * bpr), r.scale.subarray(a * ng, b * ng), g, b - a, cols));
    return intoOut(r.packed, r.scale, o);
  }
  if (!(g > 0) || !Number.isFinite(g)) throw new InputError('E_QUANT_SCALE', `quantizeNvfp4: global scale must be a positive finite number, got ${g}`);
  const packed = buf(o.out?.codes, rows * Math.ceil(cols / 2), 'quantizeNvfp4 (out.codes)');
  const scale = buf(o.out?.scale, rows * Math.ceil(cols / NVFP4_GROUP), 'quantizeNvfp4 (out.scale)');
  await native.quant({ format: 'nvfp4', op: 'quantize', ...nativeIn(w), codes: packed, scale, globalScale: g, rows, cols, group: NVFP4_GROUP, threads: threadsOf(o), ...nativeErr(o.errors) }, 'quantizeNvfp4');
  return { packed, scale };
}

/** Inverse of quantizeNvfp4: fp32(e2m1(q) · fp32(decode(scale) / g)). */
export async function dequantizeNvfp4(packed: Uint8Array, scale: Uint8Array, g: number, rows: number, cols: number, o: KernelOptions & { out?: Float32Array } = {}): Promise<Float32Array> {
  if (!useNative(o, 'dequantizeNvfp4')) return outOf(o.out, dequantizeNvfp4Rows(packed, scale, g, rows, cols));
  checkMatrix(packed.length, rows, Math.ceil(cols / 2), 'dequantizeNvfp4 (packed)');
  checkMatrix(scale.length, rows, Math.ceil(cols / NVFP4_GROUP), 'dequantizeNvfp4 (scale)');
  if (!(g > 0) || !Number.isFinite(g)) throw new InputError('E_QUANT_SCALE', `dequantizeNvfp4: global scale must be a positive finite number, got ${g}`);
  const out = outBuf(o.out, rows * cols, 'dequantizeNvfp4');
  await native.quant({ format: 'nvfp4', op: 'dequantize', out, codes: packed, scale, globalScale: g, rows, cols, group: NVFP4_GROUP, threads: threadsOf(o) }, 'dequantizeNvfp4');
  return out;
}

const formatOf = (elem: MxElement) => (elem === 'e2m1' ? 'mxfp4' : 'mxfp8') as 'mxfp4' | 'mxfp8';

/**
 * MXFP4 (`e2m1`) or MXFP8 (`e4m3`) of a [rows, cols] matrix.
 * @returns codes [rows, ⌈cols/2⌉ packed pairs | cols] and scale [rows, ⌈cols/32⌉] E8M0 codes.
 */
export async function quantizeMx(w: QuantInput, rows: number, cols: number, elem: MxElement, o: MicroscaleOptions = {}): Promise<{ codes: Uint8Array; scale: Uint8Array }> {
  checkMatrix(lengthOf(w), rows, cols, 'quantizeMx');
  const bpr = mxRowBytes(elem, cols), nb = Math.ceil(cols / MX_BLOCK);
  if (!useNative(o, 'quantizeMx')) {
    const f = f32Of(w);
    const r = quantizeMxRows(f, rows, cols, elem);
    if (o.errors) addErrorSums(o.errors, f, rows, cols, (a, b) => dequantizeMxRows(r.codes.subarray(a * bpr, b * bpr), r.scale.subarray(a * nb, b * nb), b - a, cols, elem));
    const { packed, scale } = intoOut(r.codes, r.scale, o);
    return { codes: packed, scale };
  }
  const codes = buf(o.out?.codes, rows * bpr, 'quantizeMx (out.codes)');
  const scale = buf(o.out?.scale, rows * nb, 'quantizeMx (out.scale)');
  await native.quant({ format: formatOf(elem), op: 'quantize', ...nativeIn(w), codes, scale, rows, cols, group: MX_BLOCK, threads: threadsOf(o), ...nativeErr(o.errors) }, 'quantizeMx');
  return { codes, scale };
}

/** Inverse of quantizeMx: fp32(element · 2^(scale − 127)). */
export async function dequantizeMx(codes: Uint8Array, scale: Uint8Array, rows: number, cols: number, elem: MxElement, o: KernelOptions & { out?: Float32Array } = {}): Promise<Float32Array> {
  if (!useNative(o, 'dequantizeMx')) return outOf(o.out, dequantizeMxRows(codes, scale, rows, cols, elem));
  checkMatrix(codes.length, rows, mxRowBytes(elem, cols), 'dequantizeMx (codes)');
  checkMatrix(scale.length, rows, Math.ceil(cols / MX_BLOCK), 'dequantizeMx (scale)');
  const out = outBuf(o.out, rows * cols, 'dequantizeMx');
  await native.quant({ format: formatOf(elem), op: 'dequantize', out, codes, scale, rows, cols, group: MX_BLOCK, threads: threadsOf(o) }, 'dequantizeMx');
  return out;
}

/** The reference's results copied into the caller's reusable outputs, when given. */
function intoOut(packed: Uint8Array, scale: Uint8Array, o: MicroscaleOptions): { packed: Uint8Array; scale: Uint8Array } {
  const p = o.out?.codes ? buf(o.out.codes, packed.length, 'out.codes') : packed;
  const s = o.out?.scale ? buf(o.out.scale, scale.length, 'out.scale') : scale;
  if (p !== packed) p.set(packed);
  if (s !== scale) s.set(scale);
  return { packed: p, scale: s };
}

function outBuf(out: Float32Array | undefined, n: number, what: string): Float32Array {
  if (!out) return new Float32Array(n);
  checkMatrix(out.length, n, 1, `${what} (out)`);
  return out;
}

function outOf(out: Float32Array | undefined, r: Float32Array): Float32Array {
  if (!out) return r;
  checkMatrix(out.length, r.length, 1, 'dequantize (out)');
  out.set(r);
  return out;
}
