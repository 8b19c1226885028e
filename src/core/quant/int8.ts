/**
 * TypeScript reference for symmetric per-output-channel INT8 (compressed-tensors `W8A16`,
 * strategy "channel"). Deterministic; the native kernels match it bit for bit.
 *
 * Conventions (those of compressed-tensors `calculate_qparams` + `quantize`, computed in fp32):
 * - amax = max |w| over the row's finite elements (NaN/±Inf ignored for the scale);
 * - scale = max(fp32(amax / 127.5), 2^-23): the symmetric range is (q_max − q_min)/2 = 255/2, and
 *   torch.finfo(float32).eps is the floor (an all-zero row gets scale 2^-23 and codes 0);
 * - with `scaleDtype: 'BF16'` the scale is rounded to bf16 (RNE) first — compressed-tensors stores
 *   the scale in the weight dtype (BF16 for MiniMax-M1) — and that rounded value is used below;
 * - q = clamp(rintEven(fp32(w / scale)), −128, 127) (round half to even, as torch.round);
 *   NaN → 0, ±Inf → ±127/−128 by the clamp;
 * - dequantization: fp32(q · scale).
 */
import { InputError } from '../errors.js';
import { roundBf16 } from '../dtype/convert.js';
import type { QuantKernel } from './kernel.js';

/** torch.finfo(torch.float32).eps: lower bound of a symmetric integer scale. */
export const INT_SCALE_EPS = 2 ** -23;

export type ScaleDtype = 'F32' | 'BF16';

/** Round half to even; NaN → 0, ±Inf pass through (callers clamp). */
export function rintEven(v: number): number {
  if (v !== v) return 0;
  if (!Number.isFinite(v)) return v;
  const f = Math.floor(v);
  const d = v - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/** max |x| over finite elements of x[from, to). */
export function finiteAmax(x: Float32Array, from: number, to: number): number {
  let m = 0;
  for (let i = from; i < to; i++) {
    const a = Math.abs(x[i]!);
    if (a > m && a !== Infinity) m = a;
  }
  return m;
}

/** Symmetric scale for `amax` with half-range `halfRange` (127.5 for int8, 7.5 for int4). */
export function symmetricScale(amax: number, halfRange: number, scaleDtype: ScaleDtype = 'F32'): number {
  let s = Math.max(Math.fround(amax / halfRange), INT_SCALE_EPS);
  if (scaleDtype === 'BF16') s = roundBf16(s);
  return s;
}

/** Quantize one value with a given scale into [qmin, qmax]. */
export function quantizeSym(x: number, scale: number, qmin: number, qmax: number): number {
  const q = rintEven(Math.fround(x / scale));
  return q < qmin ? qmin : q > qmax ? qmax : q;
}

export function checkMatrix(n: number, rows: number, cols: number, what: string): void {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) {
    throw new InputError('E_QUANT_SHAPE', `${what}: rows and cols must be non-negative integers, got ${rows}×${cols}`);
  }
  if (n !== rows * cols) throw new InputError('E_QUANT_SHAPE', `${what}: expected ${rows}×${cols} = ${rows * cols} elements, found ${n}`);
}

/**
 * Symmetric per-row INT8 of a [rows, cols] fp32 weight.
 * @returns q [rows, cols] int8 and scale [rows].
 * @example const { q, scale } = quantizeInt8Rows(w, 9216, 6144);
 */
export function quantizeInt8Rows(
  w: Float32Array,
  rows: number,
  cols: number,
  opts: { scaleDtype?: ScaleDtype } = {},
): { q: Int8Array; scale: Float32Array } {
  checkMatrix(w.length, rows, cols, 'quantizeInt8Rows');
  const q = new Int8Array(rows * cols);
  const scale = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const s = symmetricScale(finiteAmax(w, base, base + cols), 127.5, opts.scaleDtype);
    scale[r] = s;
    for (let c = 0; c < cols; c++) q[base + c] = quantizeSym(w[base + c]!, s, -128, 127);
  }
  return { q, scale };
}

/** fp32(q · scale[row]) for a [rows, cols] INT8 matrix. */
export function dequantizeInt8Rows(q: Int8Array, scale: Float32Array, rows: number, cols: number): Float32Array {
  checkMatrix(q.length, rows, cols, 'dequantizeInt8Rows');
  if (scale.length !== rows) throw new InputError('E_QUANT_SHAPE', `dequantizeInt8Rows: expected ${rows} scales, found ${scale.length}`);
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const s = scale[r]!;
    for (let c = 0; c < cols; c++) out[r * cols + c] = q[r * cols + c]! * s;
  }
  return out;
}

/** The `int8` line of M1K_QUANT_FORMATS (kernels/cpu/int_quant_impl.h): one scale per row. */
export const int8Kernel: QuantKernel<Int8Array, Float32Array> = {
  name: 'int8', codes: Int8Array, scale: Float32Array,
  codesShape: (r, c) => [r, c], scaleShape: (r) => [r, 1],
  fixedGroup: 1,
  quantize: (w, r, c, _g, p) => {
    const { q, scale } = quantizeInt8Rows(w, r, c, p.bf16Scale ? { scaleDtype: 'BF16' } : {});
    return { codes: q, scale };
  },
  dequantize: (q, scale, r, c) => dequantizeInt8Rows(q, scale, r, c),
};
