/**
 * The FP4/microscaled quantizers (NVFP4, MXFP4, MXFP8) as named calls of the quantization op
 * (quant.ts quantizeWith / dequantizeWith over the kernels of core/quant/{nvfp4,mx}.ts), and the
 * largest-|w| reduction NVFP4's global scale is computed from.
 */
import type { MxElement } from '../quant/e8m0.js';
import { MX_BLOCK, MX_KERNELS } from '../quant/mx.js';
import { NVFP4_GROUP, nvfp4Kernel } from '../quant/nvfp4.js';
import { checkMatrix, finiteAmax } from '../quant/int8.js';
import * as native from '../../native/index.js';
import { threadsOf, useNative, type KernelOptions } from './common.js';
import { dequantizeWith, quantInputF32, quantInputLength, quantizeWith, type ErrorSample, type QuantInput } from './quant.js';

export interface MicroscaleOptions extends KernelOptions {
  /** Also measure the quantization error on sampled row blocks (added to `errors.out`). */
  errors?: ErrorSample | undefined;
  /** Reusable outputs (each exactly the result's length). */
  out?: { codes?: Uint8Array; scale?: Uint8Array };
}

/** Largest finite |w| of a [rows, cols] matrix (NVFP4's global-scale input). */
export async function matrixAmax(w: QuantInput, rows: number, cols: number, o: KernelOptions = {}): Promise<number> {
  checkMatrix(quantInputLength(w), rows, cols, 'matrixAmax');
  if (!useNative(o, 'matrixAmax')) {
    const f = quantInputF32(w);
    return finiteAmax(f, 0, f.length);
  }
  const input = w instanceof Float32Array ? { w } : { wbf16: w.bf16 };
  return native.quantAmax({ ...input, rows, cols, threads: threadsOf(o) }, 'matrixAmax');
}

/**
 * NVFP4 of a [rows, cols] matrix under the tensor's global scale `g` (quant/nvfp4.ts nvfp4GlobalScale).
 * @returns packed [rows, ⌈cols/2⌉] E2M1 pairs and scale [rows, ⌈cols/16⌉] E4M3 codes.
 */
export async function quantizeNvfp4(w: QuantInput, rows: number, cols: number, g: number, o: MicroscaleOptions = {}): Promise<{ packed: Uint8Array; scale: Uint8Array }> {
  const r = await quantizeWith(nvfp4Kernel, w, rows, cols, NVFP4_GROUP, { ...o, params: { globalScale: g } }, 'quantizeNvfp4');
  return { packed: r.codes, scale: r.scale };
}

/** Inverse of quantizeNvfp4: fp32(e2m1(q) · fp32(decode(scale) / g)). */
export const dequantizeNvfp4 = (packed: Uint8Array, scale: Uint8Array, g: number, rows: number, cols: number, o: KernelOptions & { out?: Float32Array } = {}): Promise<Float32Array> =>
  dequantizeWith(nvfp4Kernel, packed, scale, rows, cols, NVFP4_GROUP, { ...o, params: { globalScale: g } }, 'dequantizeNvfp4');

/**
 * MXFP4 (`e2m1`) or MXFP8 (`e4m3`) of a [rows, cols] matrix.
 * @returns codes [rows, ⌈cols/2⌉ packed pairs | cols] and scale [rows, ⌈cols/32⌉] E8M0 codes.
 */
export const quantizeMx = (w: QuantInput, rows: number, cols: number, elem: MxElement, o: MicroscaleOptions = {}): Promise<{ codes: Uint8Array; scale: Uint8Array }> =>
  quantizeWith(MX_KERNELS[elem], w, rows, cols, MX_BLOCK, o, 'quantizeMx');

/** Inverse of quantizeMx: fp32(element · 2^(scale − 127)). */
export const dequantizeMx = (codes: Uint8Array, scale: Uint8Array, rows: number, cols: number, elem: MxElement, o: KernelOptions & { out?: Float32Array } = {}): Promise<Float32Array> =>
  dequantizeWith(MX_KERNELS[elem], codes, scale, rows, cols, MX_BLOCK, o, 'dequantizeMx');
