/**
 * Bulk dtype conversions (round to nearest even), native when available, else the TypeScript
 * reference in core/dtype/convert.ts — the two agree bit for bit.
 */
import { bf16ToF32, f32ToBf16, f32ToF16 } from '../dtype/convert.js';
import { threadsOf, useNative, type KernelOptions } from './common.js';
import * as native from '../../native/index.js';

/** Below this many elements the TypeScript loop is cheaper than a native round trip. */
const NATIVE_MIN_ELEMENTS = 4096;

/** bf16 bits → fp32 (exact). */
export async function convertBf16ToF32(src: Uint16Array, o: KernelOptions & { out?: Float32Array } = {}): Promise<Float32Array> {
  const dst = o.out ?? new Float32Array(src.length);
  if (src.length >= NATIVE_MIN_ELEMENTS || o.backend === 'native') {
    if (useNative(o, 'convertBf16ToF32')) {
      await native.convert({ kind: 'bf16-f32', src, dst, n: src.length, threads: threadsOf(o) }, 'convertBf16ToF32');
      return dst;
    }
  }
  return bf16ToF32(src, dst);
}

async function toHalf(kind: 'f32-bf16' | 'f32-f16', src: Float32Array, o: KernelOptions & { out?: Uint16Array }): Promise<Uint16Array> {
  const dst = o.out ?? new Uint16Array(src.length);
  const op = kind === 'f32-bf16' ? 'convertF32ToBf16' : 'convertF32ToF16';
  if (src.length >= NATIVE_MIN_ELEMENTS || o.backend === 'native') {
    if (useNative(o, op)) {
      await native.convert({ kind, src, dst, n: src.length, threads: threadsOf(o) }, op);
      return dst;
    }
  }
  return kind === 'f32-bf16' ? f32ToBf16(src, dst) : f32ToF16(src, dst);
}

/** fp32 → bf16 bits, RNE, NaN kept quiet with its sign. */
export function convertF32ToBf16(src: Float32Array, o: KernelOptions & { out?: Uint16Array } = {}): Promise<Uint16Array> {
  return toHalf('f32-bf16', src, o);
}

/** fp32 → fp16 bits, RNE, overflow → ±Inf, NaN kept quiet. */
export function convertF32ToF16(src: Float32Array, o: KernelOptions & { out?: Uint16Array } = {}): Promise<Uint16Array> {
  return toHalf('f32-f16', src, o);
}
