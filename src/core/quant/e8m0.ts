/**
 * E8M0 shared scales of the OCP Microscaling formats (OCP Microscaling Formats (MX) v1.0 spec, scale type E8M0), stored one per byte
 * (safetensors U8, compressed-tensors `scale_dtype: torch.uint8`): code e means 2^(e − 127); 255 is NaN.
 *
 * Scale selection (the MX spec's conversion of a block of floats, "shared exponent"): for a block with largest finite magnitude
 * amax, X = 2^(⌊log2 amax⌋ − emax), where emax is the exponent of the element type's largest normal
 * (2 for E2M1, whose max is 6 = 1.5·2²; 8 for E4M3, 448 = 1.75·2⁸), clamped to the E8M0 range
 * [2^-127, 2^127]. m1kit's conventions where the spec leaves a choice: NaN and ±Inf are ignored for
 * amax (their elements are encoded by the element rule); an all-zero block gets X = 1 (code 127);
 * a subnormal amax has ⌊log2⌋ < −126, which the clamp takes to 2^-127 in any case.
 */

export const E8M0_BIAS = 127;
export const E8M0_NAN = 255;

/** Largest-normal exponent of each MX element type. */
export const MX_EMAX = { e2m1: 2, e4m3: 8 } as const;
export type MxElement = keyof typeof MX_EMAX;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Shared exponent k (X = 2^k) for a block whose largest finite magnitude is `amax` (module doc). */
export function mxSharedExponent(amax: number, elem: MxElement): number {
  if (!(amax > 0)) return 0;
  f32[0] = amax;
  const biased = (u32[0]! >>> 23) & 0xff; // 0 for a subnormal amax: then the clamp below decides
  return Math.max(-E8M0_BIAS, biased - E8M0_BIAS - MX_EMAX[elem]);
}

/** Value of an E8M0 code: 2^(code − 127), NaN for 255. */
export function e8m0Decode(code: number): number {
  return code === E8M0_NAN ? NaN : 2 ** (code - E8M0_BIAS);
}
