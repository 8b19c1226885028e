/**
 * TypeScript reference for FP8 E4M3FN (`torch.float8_e4m3fn`) and DeepSeek-V3-style block FP8.
 * Deterministic; the native kernels (kernels/cpu/fp8_impl.h) match it bit for bit.
 *
 * E4M3FN: 1 sign, 4 exponent (bias 7), 3 mantissa bits; no infinities; 0x7f/0xff are NaN;
 * max finite ±448 (0x7e/0xfe); smallest subnormal 2^-9.
 *
 * Encoding conventions (`fp8e4m3Encode`):
 * - the input is first rounded to fp32 (the kernels take fp32), then rounded to nearest, ties to even,
 *   including in the subnormal range;
 * - |x| ≥ 448 and ±Inf saturate to ±448 (the clamp-then-cast of vLLM/DeepSeek weight quantization,
 *   unlike a bare `.to(float8_e4m3fn)` which would overflow to NaN);
 * - NaN → 0x7f with the input's sign bit (0xff for a negative NaN), as torch's conversion does;
 * - ±0 keep their sign (0x00 / 0x80).
 *
 * Block quantization (`quantizeFp8Band`), per 128×128 block (partial blocks at the right/bottom edge
 * use only their real elements):
 * - amax = max |w| over the block's finite elements (NaN and ±Inf are ignored for the scale);
 * - scaleInv = fp32(amax / 448), stored as `weight_scale_inv`; when amax = 0 (or amax/448 underflows
 *   to 0) the block is all zero in fp8 and scaleInv = 1, so dequantization is exact;
 * - code = e4m3(fp32(w / scaleInv)) (an fp32 division, saturating as above; NaN → NaN code, ±Inf → ±448);
 * - dequantization: fp32(decode(code) · scaleInv).
 */
import { InputError } from '../errors.js';
import type { QuantKernel } from './kernel.js';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Round half to even for a finite double. */
function rintEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/** E4M3FN code of the fp32 bit pattern `bits` (see module doc for rounding/saturation/NaN). */
export function fp8e4m3EncodeBits(bits: number): number {
  const sign = (bits >>> 24) & 0x80;
  const abs = bits & 0x7fffffff;
  if (abs > 0x7f800000) return sign | 0x7f; // NaN
  if (abs >= 0x43e00000) return sign | 0x7e; // ≥ 448 or Inf: saturate
  if (abs < 0x3c800000) {
    // below 2^-6: subnormal range of e4m3, step 2^-9 (code 8 = 2^-6 is the smallest normal, correct as is)
    u32[0] = abs;
    return sign | rintEven(f32[0]! * 512);
  }
  const e = (abs >>> 23) - 127; // -6 … 8
  const mant = abs & 0x7fffff;
  let r = ((e + 7) << 3) | (mant >>> 20);
  const rem = mant & 0xfffff;
  if (rem > 0x80000 || (rem === 0x80000 && (r & 1) !== 0)) r++; // carry into the exponent is correct
  return sign | r; // r ≤ 0x7e because abs < 448 rounds to at most 448
}

/** Encode a number (rounded to fp32 first) as an E4M3FN code, RNE, saturating to ±448, NaN → 0x7f|sign. */
export function fp8e4m3Encode(x: number): number {
  f32[0] = x;
  return fp8e4m3EncodeBits(u32[0]!);
}

/** Decode one E4M3FN code to its exact value (NaN for 0x7f / 0xff). */
export function fp8e4m3Decode(code: number): number {
  const sign = code & 0x80 ? -1 : 1;
  const e = (code >>> 3) & 0xf;
  const m = code & 7;
  if (e === 15 && m === 7) return NaN;
  if (e === 0) return sign * m * 2 ** -9;
  return sign * (1 + m / 8) * 2 ** (e - 7);
}

/** Decoded value of every code, index = code (NaN at 0x7f and 0xff). */
export const FP8_E4M3_TABLE: Float32Array = (() => {
  const t = new Float32Array(256);
  for (let c = 0; c < 256; c++) t[c] = fp8e4m3Decode(c);
  return t;
})();

export const FP8_E4M3_MAX = 448;

function checkBand(n: number, rows: number, cols: number, block: number, what: string): void {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0 || rows > block || block < 1) {
    throw new InputError('E_QUANT_SHAPE', `${what}: band of ${rows}×${cols} rows/cols must have 0 ≤ rows ≤ block (${block})`);
  }
  if (n !== rows * cols) throw new InputError('E_QUANT_SHAPE', `${what}: expected ${rows * cols} elements, found ${n}`);
}

/** Block scale as defined in the module doc: fp32(amax/448), or 1 for an all-zero block. */
export function fp8BlockScaleInv(amax: number): number {
  const s = Math.fround(amax / FP8_E4M3_MAX);
  return s > 0 ? s : 1;
}

/**
 * Quantize one band of ≤ `block` rows of a [rows, cols] fp32 weight to block FP8.
 * @returns codes [rows, cols] (row-major, E4M3FN) and scaleInv [ceil(cols/block)] for this band.
 * @example const { codes, scaleInv } = quantizeFp8Band(w, 128, 6144); // scaleInv.length === 48
 */
export function quantizeFp8Band(
  w: Float32Array,
  rows: number,
  cols: number,
  block = 128,
): { codes: Uint8Array; scaleInv: Float32Array } {
  checkBand(w.length, rows, cols, block, 'quantizeFp8Band');
  const nb = Math.ceil(cols / block);
  const codes = new Uint8Array(rows * cols);
  const scaleInv = new Float32Array(nb);
  const bits = new Uint32Array(w.buffer, w.byteOffset, w.length);
  for (let b = 0; b < nb; b++) {
    const c0 = b * block;
    const c1 = Math.min(cols, c0 + block);
    let amax = 0;
    for (let r = 0; r < rows; r++) {
      for (let c = c0; c < c1; c++) {
        const a = Math.abs(w[r * cols + c]!);
        if (a > amax && a !== Infinity) amax = a;
      }
    }
    const s = fp8BlockScaleInv(amax);
    scaleInv[b] = s;
    for (let r = 0; r < rows; r++) {
      for (let c = c0; c < c1; c++) {
        const i = r * cols + c;
        const x = w[i]!;
        codes[i] = x !== x ? fp8e4m3EncodeBits(bits[i]!) : fp8e4m3Encode(Math.fround(x / s));
      }
    }
  }
  return { codes, scaleInv };
}

/** Inverse of quantizeFp8Band: fp32(decode(code) · scaleInv[block of the column]). */
export function dequantizeFp8Band(
  codes: Uint8Array,
  scaleInv: Float32Array,
  rows: number,
  cols: number,
  block = 128,
): Float32Array {
  checkBand(codes.length, rows, cols, block, 'dequantizeFp8Band');
  const nb = Math.ceil(cols / block);
  if (scaleInv.length !== nb) {
    throw new InputError('E_QUANT_SHAPE', `dequantizeFp8Band: expected ${nb} block scales, found ${scaleInv.length}`);
  }
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      out[i] = FP8_E4M3_TABLE[codes[i]!]! * scaleInv[(c / block) | 0]!;
    }
  }
  return out;
}

/**
 * Block FP8 of a whole [rows, cols] matrix, band by band of `block` rows.
 * @returns codes [rows, cols] and scaleInv [⌈rows/block⌉, ⌈cols/block⌉] (row-major), i.e. DeepSeek-V3 `weight_scale_inv`.
 */
export function quantizeFp8Matrix(w: Float32Array, rows: number, cols: number, block = 128): { codes: Uint8Array; scaleInv: Float32Array } {
  const nbc = Math.ceil(cols / block);
  const codes = new Uint8Array(rows * cols);
  const scaleInv = new Float32Array(Math.ceil(rows / block) * nbc);
  for (let r0 = 0, b = 0; r0 < rows; r0 += block, b++) {
    const n = Math.min(block, rows - r0);
    const band = quantizeFp8Band(w.subarray(r0 * cols, (r0 + n) * cols), n, cols, block);
    codes.set(band.codes, r0 * cols);
    scaleInv.set(band.scaleInv, b * nbc);
  }
  return { codes, scaleInv };
}

/** Inverse of quantizeFp8Matrix. */
export function dequantizeFp8Matrix(codes: Uint8Array, scaleInv: Float32Array, rows: number, cols: number, block = 128): Float32Array {
  const nbc = Math.ceil(cols / block);
  const out = new Float32Array(rows * cols);
  for (let r0 = 0, b = 0; r0 < rows; r0 += block, b++) {
    const n = Math.min(block, rows - r0);
    out.set(dequantizeFp8Band(codes.subarray(r0 * cols, (r0 + n) * cols), scaleInv.subarray(b * nbc, (b + 1) * nbc), n, cols, block), r0 * cols);
  }
  return out;
}

/** The `fp8` line of M1K_QUANT_FORMATS (kernels/cpu/fp8_impl.h): group = block edge; error samples are whole blocks. */
export const fp8Kernel: QuantKernel<Uint8Array, Float32Array> = {
  name: 'fp8', codes: Uint8Array, scale: Float32Array,
  codesShape: (r, c) => [r, c], scaleShape: (r, c, g) => [Math.ceil(r / g), Math.ceil(c / g)],
  errorRows: (g) => g,
  quantize: (w, r, c, g) => {
    const { codes, scaleInv } = quantizeFp8Matrix(w, r, c, g);
    return { codes, scale: scaleInv };
  },
  dequantize: (codes, scale, r, c, g) => dequantizeFp8Matrix(codes, scale, r, c, g),
};
