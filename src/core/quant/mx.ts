/**
 * TypeScript reference for the OCP Microscaling weight formats MXFP4 (E2M1 elements) and MXFP8 (E4M3
 * elements), blocks of 32 consecutive input columns of a row with one E8M0 scale each (OCP Microscaling
 * Formats (MX) v1.0 spec), in compressed-tensors' storage (`compressors/mxfp4/base.py`, "mxfp4-pack-quantized":
 * `weight_packed` U8 [rows, cols/2] + `weight_scale` U8 [rows, cols/32]; `compressors/mxfp8/base.py`,
 * "mxfp8-quantized": `weight` F8_E4M3 [rows, cols] + `weight_scale` U8 [rows, cols/32]). Deterministic;
 * the native kernels (kernels/cpu/mx_impl.h) match it bit for bit.
 *
 * Per block (a shorter last block uses its real elements): k = mxSharedExponent(amax, element) (e8m0.ts),
 * stored as the code k + 127; each element is encoded from fp32(w · 2^-k) — an exact power-of-two
 * scaling unless the result is an fp32 subnormal, then rounded once — by the element rule: e2m1.ts
 * (RNE, ±6 saturation, NaN → 0) or fp8.ts (RNE, ±448 saturation, NaN kept). Dequantization:
 * fp32(element · 2^k), k = code − 127 (code 255, NaN in E8M0, decodes to NaN).
 */
import { E2M1_TABLE, e2m1Encode } from './e2m1.js';
import { e8m0Decode, E8M0_BIAS, mxSharedExponent, type MxElement } from './e8m0.js';
import { FP8_E4M3_TABLE, fp8e4m3Encode, fp8e4m3EncodeBits } from './fp8.js';
import { checkMatrix, finiteAmax } from './int8.js';
import type { QuantKernel } from './kernel.js';

export const MX_BLOCK = 32;

/** Bytes of a row of `cols` elements: packed E2M1 pairs or one E4M3 code per element. */
export const mxRowBytes = (elem: MxElement, cols: number): number => (elem === 'e2m1' ? Math.ceil(cols / 2) : cols);

/**
 * Quantize a [rows, cols] fp32 weight to MXFP4 (`e2m1`) or MXFP8 (`e4m3`).
 * @returns codes [rows, mxRowBytes(elem, cols)] and scale [rows, ⌈cols/32⌉] E8M0 codes.
 * @example const { codes, scale } = quantizeMxRows(w, 6144, 9216, 'e4m3'); // scale [6144, 288]
 */
export function quantizeMxRows(w: Float32Array, rows: number, cols: number, elem: MxElement): { codes: Uint8Array; scale: Uint8Array } {
  checkMatrix(w.length, rows, cols, 'quantizeMxRows');
  const nb = Math.ceil(cols / MX_BLOCK), bpr = mxRowBytes(elem, cols);
  const codes = new Uint8Array(rows * bpr);
  const scale = new Uint8Array(rows * nb);
  const bits = new Uint32Array(w.buffer, w.byteOffset, w.length);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let b = 0; b < nb; b++) {
      const c0 = b * MX_BLOCK, c1 = Math.min(cols, c0 + MX_BLOCK);
      const k = mxSharedExponent(finiteAmax(w, base + c0, base + c1), elem);
      scale[r * nb + b] = k + E8M0_BIAS;
      const f = 2 ** -k;
      for (let c = c0; c < c1; c++) {
        const x = Math.fround(w[base + c]! * f);
        if (elem === 'e2m1') codes[r * bpr + (c >> 1)]! |= e2m1Encode(x) << ((c & 1) * 4);
        else codes[r * bpr + c] = x === x ? fp8e4m3Encode(x) : fp8e4m3EncodeBits(bits[base + c]!); // NaN keeps its sign
      }
    }
  }
  return { codes, scale };
}

/** Inverse of quantizeMxRows: fp32(element · 2^(code − 127)). */
export function dequantizeMxRows(codes: Uint8Array, scale: Uint8Array, rows: number, cols: number, elem: MxElement): Float32Array {
  const nb = Math.ceil(cols / MX_BLOCK), bpr = mxRowBytes(elem, cols);
  checkMatrix(codes.length, rows, bpr, 'dequantizeMxRows (codes)');
  checkMatrix(scale.length, rows, nb, 'dequantizeMxRows (scale)');
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const e = elem === 'e2m1' ? E2M1_TABLE[(codes[r * bpr + (c >> 1)]! >> ((c & 1) * 4)) & 15]! : FP8_E4M3_TABLE[codes[r * bpr + c]!]!;
      out[r * cols + c] = e * e8m0Decode(scale[r * nb + ((c / MX_BLOCK) | 0)]!);
    }
  }
  return out;
}

/** The `mxfp4` (E2M1) or `mxfp8` (E4M3) line of M1K_QUANT_FORMATS (kernels/cpu/mx_impl.h): E8M0 scale codes per 32. */
function mxKernel(name: string, elem: MxElement): QuantKernel<Uint8Array, Uint8Array> {
  return {
    name,
    codes: Uint8Array,
    scale: Uint8Array,
    codesShape: (r, c) => [r, mxRowBytes(elem, c)], scaleShape: (r, c) => [r, Math.ceil(c / MX_BLOCK)],
    fixedGroup: MX_BLOCK,
    quantize: (w, r, c) => quantizeMxRows(w, r, c, elem),
    dequantize: (codes, scale, r, c) => dequantizeMxRows(codes, scale, r, c, elem),
  };
}

export const MX_KERNELS: Readonly<Record<MxElement, QuantKernel<Uint8Array, Uint8Array>>> = { e2m1: mxKernel('mxfp4', 'e2m1'), e4m3: mxKernel('mxfp8', 'e4m3') };
