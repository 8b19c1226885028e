/**
 * Encode float32 values as the bytes of a ggml tensor type (rows are contiguous, so a chunk of whole
 * rows encodes to a contiguous byte range of the tensor).
 */
import { ggufTypeOf } from '../formats/index.js';
import type { GgmlType } from './format.js';

/** Encode `src` as `type` (the registry's GGUF type); the result views new memory (never `src`'s buffer, except for F32). */
export function encodeF32(src: Float32Array, type: GgmlType): Uint8Array {
  return ggufTypeOf(type).encode(src);
}

/** Multiply in place by `k` (float32 rounding); no-op for k = 1. */
export function scaleInPlace(x: Float32Array, k: number): Float32Array {
  if (k === 1) return x;
  const kf = Math.fround(k);
  for (let i = 0; i < x.length; i++) x[i] = x[i]! * kf;
  return x;
}
