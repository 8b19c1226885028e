/**
 * One encode job: raw little-endian source bytes (BF16, F16 or F32 rows) → float32 → × scale →
 * bytes of the target ggml type. Pure; runs inline or inside an encode worker.
 */
import { f16ToF32 } from '../dtype/convert.js';
import { encodeF32, scaleInPlace } from './encode.js';
import type { GgmlType } from './format.js';

export type SourceDtype = 'BF16' | 'F16' | 'F32';

export interface EncodeJob {
  raw: Uint8Array;
  srcDtype: SourceDtype;
  /** Multiplier (residual fold); 1 = none. */
  scale: number;
  type: GgmlType;
}

/** A copy of `raw` that owns its (aligned) ArrayBuffer, unless it already does. */
export function ownBuffer(raw: Uint8Array): Uint8Array {
  return raw.byteOffset === 0 && raw.byteLength === raw.buffer.byteLength ? raw : new Uint8Array(raw);
}

/** Decode raw source bytes to float32 (bf16 widening is exact: the bits move up by 16). */
export function decodeToF32(raw: Uint8Array, srcDtype: SourceDtype): Float32Array {
  const own = raw.byteOffset % 4 === 0 ? raw : new Uint8Array(raw);
  switch (srcDtype) {
    case 'F32':
      return new Float32Array(own.buffer, own.byteOffset, own.byteLength / 4).slice();
    case 'BF16': {
      const h = new Uint16Array(own.buffer, own.byteOffset, own.byteLength / 2);
      const out = new Float32Array(h.length);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < h.length; i++) bits[i] = h[i]! << 16;
      return out;
    }
    case 'F16':
      return f16ToF32(new Uint16Array(own.buffer, own.byteOffset, own.byteLength / 2));
  }
}

export function runEncodeJob(j: EncodeJob): Uint8Array {
  return encodeF32(scaleInPlace(decodeToF32(j.raw, j.srcDtype), j.scale), j.type);
}
