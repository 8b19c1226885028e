/**
 * Q8_0 and Q4_0 block quantizers, deterministic and bit-exact with ggml's reference ("_ref") block
 * quantizers: every step is done in float32 (Math.fround after each operation; a single float32
 * operation computed in double and rounded once is correctly rounded), and the block scale is stored
 * as fp16 rounded to nearest even.
 *
 * Q8_0 block (34 bytes, 32 values): d = amax / 127, q_j = roundf(x_j · (1/d)) (half away from zero),
 *   stored as [fp16 d][32 × int8 q].
 * Q4_0 block (18 bytes, 32 values): m = the value of largest magnitude (first one on ties),
 *   d = m / -8, q_j = min(15, trunc(x_j · (1/d) + 8.5)), stored as [fp16 d][16 bytes], byte j holding
 *   q_j in the low nibble and q_{j+16} in the high nibble. Dequantized value: (q - 8) · d.
 */
import { f16BitsToNumber, f32BitsToF16 } from '../dtype/convert.js';

export const QK = 32;
/** Bytes of one block: the fp16 scale d, then 32 × int8 (Q8_0) or 16 bytes of nibble pairs (Q4_0). */
export const Q8_0_BYTES = 34;
export const Q4_0_BYTES = 18;
const fr = Math.fround;
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const toF16 = (x: number): number => {
  f32[0] = x;
  return f32BitsToF16(u32[0]!);
};

function checkLength(n: number, what: string): void {
  if (n % QK !== 0) throw new RangeError(`${what}: length ${n} is not a multiple of ${QK}`);
}

/**
 * The block header both quantizers write: d rounded to float32, stored as fp16 little-endian in the
 * block's first two bytes at `o`; returns 1/d (0 for d = 0), the factor the block's codes are computed with.
 */
function storeScale(dst: Uint8Array, o: number, scale: number): number {
  const d = fr(scale);
  const h = toF16(d);
  dst[o] = h & 0xff;
  dst[o + 1] = h >>> 8;
  return d !== 0 ? fr(1 / d) : 0;
}

/** Quantize `src` (length a multiple of 32) to Q8_0 blocks. */
export function quantizeQ8_0(src: Float32Array, dst: Uint8Array = new Uint8Array((src.length / QK) * Q8_0_BYTES)): Uint8Array {
  checkLength(src.length, 'quantizeQ8_0');
  const nb = src.length / QK;
  const q = new Int8Array(dst.buffer, dst.byteOffset, dst.length);
  for (let b = 0; b < nb; b++) {
    const x0 = b * QK;
    let amax = 0;
    for (let j = 0; j < QK; j++) {
      const v = Math.abs(src[x0 + j]!);
      amax = amax > v ? amax : v;
    }
    const o = b * Q8_0_BYTES;
    const id = storeScale(dst, o, amax / 127);
    for (let j = 0; j < QK; j++) {
      // roundf (halves away from zero) of |y| ≤ 127 without a sign branch: s = y + 128.5 is exact in
      // double and positive, floor(s) - 128 rounds halves up, and only a negative exact half (s an
      // integer) must go one further down.
      const y = fr(src[x0 + j]! * id);
      const s = y + 128.5;
      const f = Math.floor(s);
      q[o + 2 + j] = f === s && y < 0 ? f - 129 : f - 128;
    }
  }
  return dst;
}

/** Quantize `src` (length a multiple of 32) to Q4_0 blocks. */
export function quantizeQ4_0(src: Float32Array, dst: Uint8Array = new Uint8Array((src.length / QK) * Q4_0_BYTES)): Uint8Array {
  checkLength(src.length, 'quantizeQ4_0');
  const nb = src.length / QK;
  for (let b = 0; b < nb; b++) {
    const x0 = b * QK;
    let amax = 0;
    let max = 0;
    for (let j = 0; j < QK; j++) {
      const v = src[x0 + j]!;
      if (amax < Math.abs(v)) {
        amax = Math.abs(v);
        max = v;
      }
    }
    const o = b * Q4_0_BYTES;
    const id = storeScale(dst, o, max / -8);
    for (let j = 0; j < QK / 2; j++) {
      const lo = Math.min(15, Math.trunc(fr(fr(src[x0 + j]! * id) + 8.5)));
      const hi = Math.min(15, Math.trunc(fr(fr(src[x0 + QK / 2 + j]! * id) + 8.5)));
      dst[o + 2 + j] = (lo & 0x0f) | ((hi & 0x0f) << 4);
    }
  }
  return dst;
}

/** Decodes the QK values of the block at byte `o` (scale d already read) into `out` from `x0`. */
type BlockDecoder = (src: Uint8Array, o: number, d: number, out: Float32Array, x0: number) => void;

/** The block walk both dequantizers share: each block's offset, its fp16 scale d, its first value's index. */
function dequantizeBlocks(src: Uint8Array, out: Float32Array, blockBytes: number, decode: BlockDecoder): Float32Array {
  const nb = src.length / blockBytes;
  for (let b = 0; b < nb; b++) {
    const o = b * blockBytes;
    decode(src, o, f16BitsToNumber(src[o]! | (src[o + 1]! << 8)), out, b * QK);
  }
  return out;
}

/** Q8_0 block: 32 × int8 q, value = q · d. */
const q8_0Values: BlockDecoder = (src, o, d, out, x0) => {
  for (let j = 0; j < QK; j++) out[x0 + j] = ((src[o + 2 + j]! << 24) >> 24) * d;
};

/** Q4_0 block: byte j holds q_j (low nibble) and q_{j+16} (high nibble), value = (q - 8) · d. */
const q4_0Values: BlockDecoder = (src, o, d, out, x0) => {
  for (let j = 0; j < QK / 2; j++) {
    const byte = src[o + 2 + j]!;
    out[x0 + j] = ((byte & 0x0f) - 8) * d;
    out[x0 + QK / 2 + j] = ((byte >>> 4) - 8) * d;
  }
};

/** Q8_0 blocks → float32 (value = q · d). */
export function dequantizeQ8_0(src: Uint8Array, out: Float32Array = new Float32Array((src.length / Q8_0_BYTES) * QK)): Float32Array {
  return dequantizeBlocks(src, out, Q8_0_BYTES, q8_0Values);
}

/** Q4_0 blocks → float32 (value = (q - 8) · d). */
export function dequantizeQ4_0(src: Uint8Array, out: Float32Array = new Float32Array((src.length / Q4_0_BYTES) * QK)): Float32Array {
  return dequantizeBlocks(src, out, Q4_0_BYTES, q4_0Values);
}
