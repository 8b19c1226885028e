/**
 * TypeScript reference for symmetric group-wise INT4 (compressed-tensors `W4A16`, strategy "group",
 * format "pack-quantized"). Deterministic; the native kernels match it bit for bit.
 *
 * Quantization (per row r and group g of `group` consecutive input columns; the last group of a row
 * may be shorter and uses only its real elements):
 * - amax = max |w| over the group's finite elements;
 * - scale = max(fp32(amax / 7.5), 2^-23) (half-range (7 − (−8))/2 = 7.5, as compressed-tensors);
 *   optionally rounded to bf16 first (`scaleDtype: 'BF16'`, the stored dtype for M1);
 * - q = clamp(rintEven(fp32(w / scale)), −8, 7) (ties to even; NaN → 0);
 * - dequantization: fp32(q · scale).
 *
 * Packing (compressed-tensors `pack_to_int32`, packed_dim = 1): each value is stored as the unsigned
 * nibble q + 8 (0…15); int32 word j of a row holds input columns 8j … 8j+7, column 8j+i in bits
 * 4i … 4i+3 (little nibble first); a row whose length is not a multiple of 8 is padded with nibble 0.
 * `packed` is [rows, ceil(cols/8)] int32, `scale` is [rows, ceil(cols/group)].
 */
import { InputError } from '../errors.js';
import { checkMatrix, finiteAmax, quantizeSym, symmetricScale, type ScaleDtype } from './int8.js';
import type { QuantKernel } from './kernel.js';

/**
 * Quantize a [rows, cols] fp32 weight to packed INT4 with one scale per `group` columns.
 * @example const { packed, scale } = quantizeInt4Rows(w, 6144, 9216); // packed [6144, 1152], scale [6144, 72]
 */
export function quantizeInt4Rows(
  w: Float32Array,
  rows: number,
  cols: number,
  group = 128,
  opts: { scaleDtype?: ScaleDtype } = {},
): { packed: Int32Array; scale: Float32Array } {
  checkMatrix(w.length, rows, cols, 'quantizeInt4Rows');
  if (!Number.isInteger(group) || group < 1) throw new InputError('E_QUANT_SHAPE', `quantizeInt4Rows: group must be a positive integer, got ${group}`);
  const words = Math.ceil(cols / 8);
  const ng = Math.ceil(cols / group);
  const packed = new Int32Array(rows * words);
  const scale = new Float32Array(rows * ng);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let g = 0; g < ng; g++) {
      const c0 = g * group;
      const c1 = Math.min(cols, c0 + group);
      const s = symmetricScale(finiteAmax(w, base + c0, base + c1), 7.5, opts.scaleDtype);
      scale[r * ng + g] = s;
      for (let c = c0; c < c1; c++) {
        const nib = quantizeSym(w[base + c]!, s, -8, 7) + 8;
        packed[r * words + (c >>> 3)]! |= nib << ((c & 7) * 4);
      }
    }
  }
  return { packed, scale };
}

/** Unpack and dequantize: fp32(q · scale[row, col / group]) for a [rows, cols] matrix. */
export function dequantizeInt4Rows(
  packed: Int32Array,
  scale: Float32Array,
  rows: number,
  cols: number,
  group = 128,
): Float32Array {
  const words = Math.ceil(cols / 8);
  const ng = Math.ceil(cols / group);
  checkMatrix(packed.length, rows, words, 'dequantizeInt4Rows (packed)');
  checkMatrix(scale.length, rows, ng, 'dequantizeInt4Rows (scale)');
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const nib = (packed[r * words + (c >>> 3)]! >>> ((c & 7) * 4)) & 15;
      out[r * cols + c] = (nib - 8) * scale[r * ng + ((c / group) | 0)]!;
    }
  }
  return out;
}

/** The `int4` line of M1K_QUANT_FORMATS (kernels/cpu/int_quant_impl.h): codes are int32 words of 8 nibbles. */
export const int4Kernel: QuantKernel<Int32Array, Float32Array> = {
  name: 'int4', codes: Int32Array, scale: Float32Array,
  codesShape: (r, c) => [r, Math.ceil(c / 8)], scaleShape: (r, c, g) => [r, Math.ceil(c / g)],
  quantize: (w, r, c, g, p) => {
    const { packed, scale } = quantizeInt4Rows(w, r, c, g, p.bf16Scale ? { scaleDtype: 'BF16' } : {});
    return { codes: packed, scale };
  },
  dequantize: (packed, scale, r, c, g) => dequantizeInt4Rows(packed, scale, r, c, g),
};
