/**
 * FP4 E2M1 elements (OCP Microscaling Formats (MX) v1.0 spec, "FP4 E2M1"; the element type of NVFP4 and MXFP4) and the
 * nibble packing of compressed-tensors (`compressors/nvfp4/helpers.py`, `pack_fp4_to_uint8`).
 *
 * E2M1: 1 sign, 2 exponent (bias 1), 1 mantissa bit; no Inf, no NaN. Magnitudes by code 0…7:
 * 0, 0.5, 1, 1.5, 2, 3, 4, 6; bit 3 is the sign (code 8 is −0).
 *
 * Encoding (`e2m1Encode`), on an fp32 value:
 * - round to the nearest magnitude, ties to the even code (0.25 → 0, 0.75 → 1, 1.25 → 1, 1.75 → 2,
 *   2.5 → 2, 3.5 → 4, 5 → 4): the thresholds of compressed-tensors' `cast_to_fp4`;
 * - |x| > 5 and ±Inf saturate to ±6 (the clamp to ±6 that precedes the cast there);
 * - the sign bit is kept, also when the magnitude rounds to 0 (−0.1 → code 8, −0);
 * - NaN → code 0 (E2M1 has no NaN; m1kit's policy, as for the integer schemes).
 *
 * Packing: two codes per byte along a row, element 2j in the low nibble and element 2j+1 in the high
 * nibble; a row of odd length ends with a zero high nibble. A [rows, cols] matrix packs to
 * [rows, ⌈cols/2⌉] bytes.
 */

/** Magnitude of each code 0…7. */
export const E2M1_MAGNITUDES = [0, 0.5, 1, 1.5, 2, 3, 4, 6] as const;

/** Decoded value of every 4-bit code, index = code. */
export const E2M1_TABLE: Float32Array = Float32Array.from({ length: 16 }, (_, c) => (c & 8 ? -1 : 1) * E2M1_MAGNITUDES[c & 7]!);

export const E2M1_MAX = 6;

/** E2M1 code of `x` (taken as fp32), see the module doc for rounding, saturation and NaN. */
export function e2m1Encode(x: number): number {
  const v = Math.fround(x);
  if (v !== v) return 0;
  const sign = v < 0 || Object.is(v, -0) ? 8 : 0;
  const a = Math.abs(v);
  if (a >= E2M1_MAX) return sign | 7;
  // nearest magnitude; on a tie the even code
  let best = 0;
  for (let c = 1; c < 8; c++) {
    const d = Math.abs(a - E2M1_MAGNITUDES[c]!), db = Math.abs(a - E2M1_MAGNITUDES[best]!);
    if (d < db || (d === db && (c & 1) === 0)) best = c;
  }
  return sign | best;
}
