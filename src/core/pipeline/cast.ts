/**
 * Float dtype casts of raw little-endian tensor bytes (BF16, F16, F32), through fp32 with the RNE
 * reference conversions of dtype/convert.ts. BF16/F16 → F32 are exact; narrowing rounds to nearest even.
 */
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from '../dtype/convert.js';
import type { DType } from '../dtype/dtypes.js';
import { InputError } from '../errors.js';
import { aligned } from '../formats/common.js';

export const CASTABLE: ReadonlySet<DType> = new Set(['BF16', 'F16', 'F32']);

/** Decode BF16/F16/F32 bytes to fp32. */
export function toF32(data: Uint8Array, from: DType): Float32Array {
  const ab = data.byteOffset % 4 === 0 ? data.buffer.slice(data.byteOffset, data.byteOffset + data.length) : aligned(data);
  switch (from) {
    case 'F32':
      return new Float32Array(ab);
    case 'BF16':
      return bf16ToF32(new Uint16Array(ab));
    case 'F16':
      return f16ToF32(new Uint16Array(ab));
    default:
      throw new InputError('E_DTYPE', `cannot decode dtype ${from} (expected BF16, F16 or F32)`);
  }
}

/** Encode fp32 values as `to` bytes. */
export function fromF32(f: Float32Array, to: DType): Buffer {
  switch (to) {
    case 'F32':
      return Buffer.from(f.buffer, f.byteOffset, f.byteLength);
    case 'BF16': {
      const u = f32ToBf16(f);
      return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
    }
    case 'F16': {
      const u = f32ToF16(f);
      return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
    }
    default:
      throw new InputError('E_DTYPE', `cannot encode dtype ${to} (expected BF16, F16 or F32)`);
  }
}

/** Cast raw bytes from one float dtype to another (identity when equal: the same Buffer). */
export function castBytes(data: Buffer, from: DType, to: DType): Buffer {
  if (from === to) return data;
  return fromF32(toF32(data, from), to);
}
