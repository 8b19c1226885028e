/**
 * Independent test references for ggml's Q8_0 / Q4_0 reference block quantizers, written from the
 * format definition: float32 arithmetic is emulated by storing every intermediate into a Float32Array
 * cell, and fp16 rounding is derived from scratch (nearest representable, ties to even mantissa).
 */

const cell = new Float32Array(1);
/** Round a double to float32 by storing it. */
const f = (x: number): number => ((cell[0] = x), cell[0]);

/** fp16 bits of a float32 value: nearest, ties to even; ±Inf beyond the largest finite (65504). */
export function refF16Bits(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a === 0) return sign;
  if (a >= 65520) return sign | 0x7c00; // 65504 + half an ulp (16): the tie rounds to the even neighbour, which is Inf
  let e = -14;
  while (2 ** (e + 1) <= a) e++; // e = floor(log2 a), at least -14 (subnormal range shares exponent -14)
  const ulp = 2 ** (e - 10);
  const q = a / ulp; // exact: dividing by a power of two
  let r = Math.floor(q);
  const frac = q - r;
  if (frac > 0.5 || (frac === 0.5 && r % 2 === 1)) r++;
  if (r < 1024) return sign | r; // subnormal (only when e = -14)
  if (r === 2048) { r = 1024; e++; }
  return sign | ((e + 15) << 10) | (r - 1024);
}

/** C roundf: nearest integer, halves away from zero. */
const roundf = (x: number): number => Math.sign(x) * Math.floor(Math.abs(x) + 0.5);

export function refQ8_0(x: Float32Array): Uint8Array {
  const out = new Uint8Array((x.length / 32) * 34);
  const dv = new DataView(out.buffer);
  for (let b = 0; b < x.length / 32; b++) {
    let amax = 0;
    for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[b * 32 + j]!));
    const d = f(amax / 127);
    const id = d === 0 ? 0 : f(1 / d);
    dv.setUint16(b * 34, refF16Bits(d), true);
    for (let j = 0; j < 32; j++) dv.setInt8(b * 34 + 2 + j, roundf(f(x[b * 32 + j]! * id)));
  }
  return out;
}

export function refQ4_0(x: Float32Array): Uint8Array {
  const out = new Uint8Array((x.length / 32) * 18);
  const dv = new DataView(out.buffer);
  for (let b = 0; b < x.length / 32; b++) {
    let best = 0; // value with the largest magnitude, the first one on ties
    for (let j = 0; j < 32; j++) if (Math.abs(x[b * 32 + j]!) > Math.abs(best)) best = x[b * 32 + j]!;
    const d = f(best / -8);
    const id = d === 0 ? 0 : f(1 / d);
    dv.setUint16(b * 18, refF16Bits(d), true);
    const code = (v: number): number => Math.min(15, Math.trunc(f(f(v * id) + 8.5)));
    for (let j = 0; j < 16; j++) dv.setUint8(b * 18 + 2 + j, code(x[b * 32 + j]!) | (code(x[b * 32 + 16 + j]!) << 4));
  }
  return out;
}
