/**
 * Decoders and the rounding rule of the FP4/FP8 microscaled formats, written for the tests from the
 * published texts — the OCP Microscaling Formats (MX) v1.0 spec (E2M1 and E4M3 elements, the E8M0
 * scale, the shared exponent ⌊log2 amax⌋ − emax) and compressed-tensors' NVFP4 rules (global scale
 * 448·6/amax, group scale amax/6 · G stored as E4M3, w = q · scale / G, low nibble = even column) —
 * never imported from m1kit's code, so the tests that use them check m1kit against the rules.
 */

/** E2M1: S.EE.M, exponent bias 1, E = 0 subnormal (M · 0.5). */
export function specE2M1(code: number): number {
  const s = (code >> 3) & 1, e = (code >> 1) & 3, m = code & 1;
  const mag = e === 0 ? m * 0.5 : 2 ** (e - 1) * (1 + m / 2);
  return s ? -mag : mag;
}

/** E4M3 (as torch float8_e4m3fn): bias 7, S.1111.111 NaN, no infinities, E = 0 subnormal 2^-6 · M/8. */
export function specE4M3(code: number): number {
  const s = (code >> 7) & 1, e = (code >> 3) & 15, m = code & 7;
  if (e === 15 && m === 7) return NaN;
  const mag = e === 0 ? 2 ** -6 * (m / 8) : 2 ** (e - 7) * (1 + m / 8);
  return s ? -mag : mag;
}

/** E8M0: 2^(x − 127), 0xFF NaN. */
export const specE8M0 = (x: number): number => (x === 255 ? NaN : 2 ** (x - 127));

/** compressed-tensors packing: byte j of a row = element 2j (bits 0–3) | element 2j+1 (bits 4–7). */
export const nibble = (packed: Uint8Array, bytesPerRow: number, r: number, c: number): number => (packed[r * bytesPerRow + (c >> 1)]! >> (c % 2 === 0 ? 0 : 4)) & 0xf;

/**
 * The code the spec's rounding picks for x among `codes` (finite values of x's sign, and zero): the
 * nearest value, on a tie the code whose mantissa LSB is 0; beyond the largest normal, that normal.
 */
export function nearestCode(x: number, decode: (c: number) => number, codes: number[]): number {
  const cands = sortedOf(decode, codes);
  const a = Math.abs(x);
  // first candidate with magnitude ≥ a (binary search), then the nearer of it and the one below
  let lo = 0, hi = cands.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cands[mid]!.mag < a) lo = mid + 1;
    else hi = mid;
  }
  if (lo === cands.length) return cands[cands.length - 1]!.code; // saturate
  if (lo === 0) return cands[0]!.code;
  const up = cands[lo]!, down = cands[lo - 1]!;
  const du = up.mag - a, dd = a - down.mag;
  if (du < dd) return up.code;
  if (dd < du) return down.code;
  return (up.code & 1) === 0 ? up.code : down.code;
}

/** Finite codes of `codes` sorted by magnitude, computed once per code list (and decoder). */
const sorted = new WeakMap<number[], { code: number; mag: number }[]>();
function sortedOf(decode: (c: number) => number, codes: number[]): { code: number; mag: number }[] {
  let t = sorted.get(codes);
  if (!t) {
    t = codes.map((code) => ({ code, mag: Math.abs(decode(code)) })).filter((e) => Number.isFinite(e.mag)).sort((p, q) => p.mag - q.mag);
    sorted.set(codes, t);
  }
  return t;
}

/** Every E2M1 / E4M3 (finite) code of one sign. */
const codeList = (n: number, sign: number): number[][] => [false, true].map((neg) => Array.from({ length: n }, (_, i) => (neg ? sign : 0) | i));
const E2M1_LISTS = codeList(8, 8), E4M3_LISTS = codeList(127, 0x80);
export const E2M1_CODES = (neg: boolean): number[] => E2M1_LISTS[neg ? 1 : 0]!;
export const E4M3_CODES = (neg: boolean): number[] => E4M3_LISTS[neg ? 1 : 0]!;

/** Same magnitude (the sign of a zero result is not part of the rule checked). */
export const sameMagnitude = (code: number, want: number, decode: (c: number) => number): boolean => Math.abs(decode(code)) === Math.abs(decode(want));

/** Same fp32 value, bit for bit (−0 ≠ +0), or both NaN. */
export function sameF32(a: number, b: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  const u = new Uint32Array(new Float32Array([a, b]).buffer);
  return u[0] === u[1];
}

/** Expected E8M0 code of an MX block with largest magnitude amax (emax 2 for E2M1, 8 for E4M3; X = 1 for a zero block). */
export const mxScaleCode = (amax: number, emax: number): number => (amax === 0 ? 127 : Math.max(-127, Math.floor(Math.log2(amax)) - emax) + 127);

/** Expected NVFP4 group scale code: E4M3 nearest of fp32(fp32(amax/6) · G); a zero scale becomes 0.125. */
export function nvfp4ScaleCodeSpec(amax: number, g: number): number {
  const c = nearestCode(Math.fround(Math.fround(amax / 6) * g), specE4M3, E4M3_CODES(false));
  return specE4M3(c) === 0 ? 0x20 : c;
}
