/**
 * TypeScript reference for NVFP4 weights as compressed-tensors writes them (format
 * "nvfp4-pack-quantized", strategy "tensor_group", group 16; `quantization/utils/helpers.py`
 * `generate_gparam` and `calculate_qparams`, `lifecycle/forward_helpers.py` `_quantize`/`_dequantize`).
 * Deterministic; the native kernels (kernels/cpu/mx_impl.h) match it bit for bit. Every step is in fp32.
 *
 * For a [rows, cols] weight, groups are 16 consecutive input columns of a row (a shorter last group
 * uses its real elements):
 * - global scale G = fp32(448 · 6 / max(amax_t, 2^-126)), amax_t = largest finite |w| of the whole
 *   tensor; G = 1 when that is not finite. Stored as `weight_global_scale` (F32 [1]);
 * - group scale: sc = e4m3(fp32(fp32(amax_g / 6) · G)), amax_g = largest finite |w| of the group, the
 *   FP8 E4M3 encoding of fp8.ts (RNE, saturating at 448); a scale that rounds to zero is replaced by
 *   0.125 (compressed-tensors' replacement of zero FP8 scales). Stored as `weight_scale` (F8_E4M3
 *   [rows, cols/16]);
 * - elements: q = e2m1(fp32(w / fp32(decode(sc) / G))) with the E2M1 rule of e2m1.ts (RNE, ±6
 *   saturation, NaN → 0), packed two per byte as `weight_packed` (U8 [rows, cols/2]);
 * - dequantization: fp32(e2m1(q) · fp32(decode(sc) / G)).
 */
import { InputError } from '../errors.js';
import { E2M1_MAX, E2M1_TABLE, e2m1Encode } from './e2m1.js';
import { FP8_E4M3_MAX, FP8_E4M3_TABLE, fp8e4m3Encode } from './fp8.js';
import { checkMatrix, finiteAmax } from './int8.js';
import type { QuantKernel } from './kernel.js';

export const NVFP4_GROUP = 16;
/** E4M3 code of 0.125, the replacement of a zero group scale. */
export const NVFP4_ZERO_SCALE_CODE = 0x20;

/** Global scale G for a tensor whose largest finite magnitude is `amax` (module doc). */
export function nvfp4GlobalScale(amax: number): number {
  const g = Math.fround((FP8_E4M3_MAX * E2M1_MAX) / Math.max(Math.fround(amax), 2 ** -126));
  return Number.isFinite(g) ? g : 1;
}

/** E4M3 code of the scale of a group with largest finite magnitude `amax` under global scale `g`. */
export function nvfp4ScaleCode(amax: number, g: number): number {
  const c = fp8e4m3Encode(Math.fround(Math.fround(amax / E2M1_MAX) * g));
  return (c & 0x7f) === 0 ? NVFP4_ZERO_SCALE_CODE : c;
}

/** Effective fp32 step of a group: fp32(decode(code) / G). */
export const nvfp4Step = (code: number, g: number): number => Math.fround(FP8_E4M3_TABLE[code]! / g);

function checkGlobal(g: number, what: string): void {
  if (!(g > 0) || !Number.isFinite(g)) throw new InputError('E_QUANT_SCALE', `${what}: global scale must be a positive finite number, got ${g}`);
}

/**
 * Quantize a [rows, cols] fp32 weight to NVFP4 with global scale `g` (nvfp4GlobalScale of the whole
 * tensor's amax; passed in so row bands of one tensor share it).
 * @returns packed [rows, ⌈cols/2⌉] E2M1 pairs and scale [rows, ⌈cols/16⌉] E4M3 codes.
 * @example const g = nvfp4GlobalScale(finiteAmax(w, 0, w.length)); quantizeNvfp4Rows(w, 6144, 9216, g);
 */
export function quantizeNvfp4Rows(w: Float32Array, rows: number, cols: number, g: number): { packed: Uint8Array; scale: Uint8Array } {
  checkMatrix(w.length, rows, cols, 'quantizeNvfp4Rows');
  checkGlobal(g, 'quantizeNvfp4Rows');
  const ng = Math.ceil(cols / NVFP4_GROUP), bpr = Math.ceil(cols / 2);
  const packed = new Uint8Array(rows * bpr);
  const scale = new Uint8Array(rows * ng);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let j = 0; j < ng; j++) {
      const c0 = j * NVFP4_GROUP, c1 = Math.min(cols, c0 + NVFP4_GROUP);
      const sc = nvfp4ScaleCode(finiteAmax(w, base + c0, base + c1), g);
      scale[r * ng + j] = sc;
      const step = nvfp4Step(sc, g);
      for (let c = c0; c < c1; c++) packed[r * bpr + (c >> 1)]! |= e2m1Encode(Math.fround(w[base + c]! / step)) << ((c & 1) * 4);
    }
  }
  return { packed, scale };
}

/** Inverse of quantizeNvfp4Rows: fp32(e2m1(q) · fp32(decode(sc) / g)) for a [rows, cols] matrix. */
export function dequantizeNvfp4Rows(packed: Uint8Array, scale: Uint8Array, g: number, rows: number, cols: number): Float32Array {
  const ng = Math.ceil(cols / NVFP4_GROUP), bpr = Math.ceil(cols / 2);
  checkMatrix(packed.length, rows, bpr, 'dequantizeNvfp4Rows (packed)');
  checkMatrix(scale.length, rows, ng, 'dequantizeNvfp4Rows (scale)');
  checkGlobal(g, 'dequantizeNvfp4Rows');
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const q = (packed[r * bpr + (c >> 1)]! >> ((c & 1) * 4)) & 15;
      out[r * cols + c] = E2M1_TABLE[q]! * nvfp4Step(scale[r * ng + ((c / NVFP4_GROUP) | 0)]!, g);
    }
  }
  return out;
}

/** Largest finite |w| of a whole tensor (the input of nvfp4GlobalScale). */
export const tensorAmax = (w: Float32Array): number => finiteAmax(w, 0, w.length);

/** The `nvfp4` line of M1K_QUANT_FORMATS (kernels/cpu/mx_impl.h): packed E2M1 pairs, E4M3 scale codes per 16, a global scale. */
export const nvfp4Kernel: QuantKernel<Uint8Array, Uint8Array> = {
  name: 'nvfp4', codes: Uint8Array, scale: Uint8Array,
  codesShape: (r, c) => [r, Math.ceil(c / 2)], scaleShape: (r, c) => [r, Math.ceil(c / NVFP4_GROUP)],
  fixedGroup: NVFP4_GROUP,
  globalScale: true,
  quantize: (w, r, c, _g, p) => {
    const { packed, scale } = quantizeNvfp4Rows(w, r, c, p.globalScale!);
    return { codes: packed, scale };
  },
  dequantize: (packed, scale, r, c, _g, p) => dequantizeNvfp4Rows(packed, scale, p.globalScale!, r, c),
};
