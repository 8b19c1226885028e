/**
 * Encode float32 values as the bytes of a ggml tensor type (rows are contiguous, so a chunk of whole
 * rows encodes to a contiguous byte range of the tensor).
 */
import { f32ToBf16, f32ToF16 } from '../dtype/convert.js';
import type { GgmlType } from './format.js';
import { quantizeQ4_0, quantizeQ8_0 } from '../quant/ggml.js';

/** Encode `src` as `type`; the result views new memory (never `src`'s buffer, except for F32). */
export function encodeF32(src: Float32Array, type: GgmlType): Uint8Array {
  switch (type) {
    case 'F32':
      return new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
    case 'F16': {
      const h = f32ToF16(src);
      return new Uint8Array(h.buffer, h.byteOffset, h.byteLength);
    }
    case 'BF16': {
      const h = f32ToBf16(src);
      return new Uint8Array(h.buffer, h.byteOffset, h.byteLength);
    }
    case 'Q8_0':
      return quantizeQ8_0(src);
    case 'Q4_0':
      return quantizeQ4_0(src);
  }
}

/** Multiply in place by `k` (float32 rounding); no-op for k = 1. */
export function scaleInPlace(x: Float32Array, k: number): Float32Array {
  if (k === 1) return x;
  const kf = Math.fround(k);
  for (let i = 0; i < x.length; i++) x[i] = x[i]! * kf;
  return x;
}
