/**
 * The NVFP4 / MXFP4 / MXFP8 references against the published rules, re-implemented here from the
 * texts (not from m1kit's code): the OCP Microscaling Formats (MX) v1.0 spec (E2M1 and E4M3 elements, the
 * E8M0 scale, the shared exponent ⌊log2 amax⌋ − emax of its block conversion) and compressed-tensors' NVFP4 rules (global
 * scale 448·6/amax, group scale amax/6 · G stored as E4M3, dequantization q · scale / G, nibble order
 * low = even column). Decoding is compared bit for bit; each chosen code is checked to be the nearest
 * representable value (ties to an even mantissa, saturation at the largest normal) in float64.
 */
import { describe, expect, it } from 'vitest';
import { dequantizeMxRows, quantizeMxRows } from '../../../src/core/quant/mx.js';
import { dequantizeNvfp4Rows, nvfp4GlobalScale, quantizeNvfp4Rows } from '../../../src/core/quant/nvfp4.js';

/** Deterministic normal-ish weights with a few outliers. */
function weights(n: number, seed: number): Float32Array {
  let x = seed >>> 0 || 1;
  const u = () => ((x = (x ^ (x << 13)) >>> 0), (x = (x ^ (x >>> 17)) >>> 0), (x = (x ^ (x << 5)) >>> 0), x / 2 ** 32);
  const w = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const g = Math.sqrt(-2 * Math.log(u() + 1e-12)) * Math.cos(2 * Math.PI * u());
    w[i] = u() < 0.01 ? g * 40 : g * 0.02;
  }
  return w;
}

// ---- decoders written from the specs ----

/** E2M1 (OCP MX): S.EE.M, exponent bias 1, E = 0 subnormal (M · 2^0 · 0.5). */
function specE2M1(code: number): number {
  const s = (code >> 3) & 1, e = (code >> 1) & 3, m = code & 1;
  const mag = e === 0 ? m * 0.5 : 2 ** (e - 1) * (1 + m / 2);
  return s ? -mag : mag;
}

/** E4M3 (OCP FP8, as torch float8_e4m3fn): bias 7, S.1111.111 NaN, no infinities, E = 0 subnormal 2^-6 · M/8. */
function specE4M3(code: number): number {
  const s = (code >> 7) & 1, e = (code >> 3) & 15, m = code & 7;
  if (e === 15 && m === 7) return NaN;
  const mag = e === 0 ? 2 ** -6 * (m / 8) : 2 ** (e - 7) * (1 + m / 8);
  return s ? -mag : mag;
}

/** E8M0 (OCP MX): 2^(x − 127), 0xFF NaN. */
const specE8M0 = (x: number): number => (x === 255 ? NaN : 2 ** (x - 127));

/** compressed-tensors packing: byte j of a row = element 2j (bits 0–3) | element 2j+1 (bits 4–7). */
const nibble = (packed: Uint8Array, bpr: number, r: number, c: number): number => (packed[r * bpr + (c >> 1)]! >> (c % 2 === 0 ? 0 : 4)) & 0xf;

const f32 = (x: number): number => Math.fround(x);

/** Same value or both NaN, compared as fp32 bit patterns otherwise (so −0 ≠ +0). */
function sameF32(a: number, b: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  const v = new Float32Array([a, b]);
  const u = new Uint32Array(v.buffer);
  return u[0] === u[1];
}

/**
 * The code the spec's rounding picks for x among `codes` (finite, same sign as x): nearest value, ties to
 * the code whose mantissa LSB is 0, values beyond the largest normal saturate to it.
 */
function nearestCode(x: number, decode: (c: number) => number, codes: number[]): number {
  let best = -1;
  for (const c of codes) {
    const v = decode(c);
    if (!Number.isFinite(v) || (v !== 0 && Math.sign(v) !== Math.sign(x))) continue;
    if (best < 0) {
      best = c;
      continue;
    }
    const d = Math.abs(x - v), db = Math.abs(x - decode(best));
    if (d < db || (d === db && (c & 1) === 0 && (best & 1) === 1)) best = c;
  }
  return best;
}

const E2M1_CODES = (neg: boolean) => Array.from({ length: 8 }, (_, i) => (neg ? 8 : 0) | i);
const E4M3_CODES = (neg: boolean) => Array.from({ length: 127 }, (_, i) => (neg ? 0x80 : 0) | i);

function magEq(code: number, want: number, decode: (c: number) => number): boolean {
  return Math.abs(decode(code)) === Math.abs(decode(want));
}

describe('MXFP4 / MXFP8 against the OCP MX rules', () => {
  const rows = 8, cols = 96;
  const w = weights(rows * cols, 3);
  w[5] = 0; w[40] = -0; // zeros inside blocks
  w.fill(0, cols, cols + 32); // an all-zero block (row 1, block 0)

  for (const [elem, emax, decodeElem, codesFor] of [
    ['e2m1', 2, specE2M1, E2M1_CODES],
    ['e4m3', 8, specE4M3, E4M3_CODES],
  ] as const) {
    it(`${elem}: the shared exponent is ⌊log2 amax⌋ − ${emax}, each element the nearest representable value of w / X`, () => {
      const { codes, scale } = quantizeMxRows(w, rows, cols, elem);
      const bpr = elem === 'e2m1' ? cols / 2 : cols;
      const nb = cols / 32;
      let checked = 0;
      for (let r = 0; r < rows; r++) {
        for (let b = 0; b < nb; b++) {
          let amax = 0;
          for (let c = b * 32; c < b * 32 + 32; c++) amax = Math.max(amax, Math.abs(w[r * cols + c]!));
          const expectExp = amax === 0 ? 0 : Math.max(-127, Math.floor(Math.log2(amax)) - emax);
          expect(scale[r * nb + b], `row ${r} block ${b}`).toBe(expectExp + 127);
          const X = specE8M0(scale[r * nb + b]!);
          for (let c = b * 32; c < b * 32 + 32; c++) {
            const x = w[r * cols + c]! / X; // exact: X is a power of two and x stays normal here
            const code = elem === 'e2m1' ? nibble(codes, bpr, r, c) : codes[r * bpr + c]!;
            const want = nearestCode(x, decodeElem, codesFor(x < 0 || Object.is(x, -0)));
            expect(magEq(code, want, decodeElem), `row ${r} col ${c}: x=${x} code ${code} want ${want}`).toBe(true);
            checked++;
          }
        }
      }
      expect(checked).toBe(rows * cols);
    });

    it(`${elem}: m1kit's dequantization equals the spec's decoding bit for bit`, () => {
      const { codes, scale } = quantizeMxRows(w, rows, cols, elem);
      const d = dequantizeMxRows(codes, scale, rows, cols, elem);
      const bpr = elem === 'e2m1' ? cols / 2 : cols;
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++) {
          const code = elem === 'e2m1' ? nibble(codes, bpr, r, c) : codes[r * bpr + c]!;
          const want = f32(decodeElem(code) * specE8M0(scale[r * (cols / 32) + (c >> 5)]!));
          expect(sameF32(d[r * cols + c]!, want), `row ${r} col ${c}`).toBe(true);
        }
      }
    });
  }

  it('saturation and ties at the element level (values placed exactly on the grid midpoints)', () => {
    // block amax 6 → X = 1 for E2M1: midpoints 0.25 0.75 1.25 1.75 2.5 3.5 5 round to the even code
    const mid = Float32Array.from([6, 0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 5, -0.25, -0.75, -5, 5.5, 1e-30, -1e-30, 0, 0, ...new Array(16).fill(0)]);
    const { codes } = quantizeMxRows(mid, 1, 32, 'e2m1');
    const got = Array.from({ length: 16 }, (_, c) => specE2M1(nibble(codes, 16, 0, c)));
    expect(got).toEqual([6, 0, 1, 1, 2, 2, 4, 4, -0, -1, -4, 6, 0, -0, 0, 0]);
  });
});

describe('NVFP4 against compressed-tensors\' rules', () => {
  const rows = 6, cols = 64;
  const w = weights(rows * cols, 9);
  w.fill(0, 16, 32); // an all-zero group
  let amax = 0;
  for (const v of w) amax = Math.max(amax, Math.abs(v));
  const G = nvfp4GlobalScale(amax);

  it('global scale is fp32(448·6 / amax)', () => {
    expect(G).toBe(f32(2688 / amax));
  });

  it('group scales are E4M3(amax_g / 6 · G) (zero → 0.125); elements the nearest E2M1 of w / (scale / G)', () => {
    const { packed, scale } = quantizeNvfp4Rows(w, rows, cols, G);
    const ng = cols / 16;
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < ng; j++) {
        let ag = 0;
        for (let c = j * 16; c < j * 16 + 16; c++) ag = Math.max(ag, Math.abs(w[r * cols + c]!));
        const target = f32(f32(ag / 6) * G);
        let want = nearestCode(target, specE4M3, E4M3_CODES(false));
        if (specE4M3(want) === 0) want = 0x20;
        expect(specE4M3(scale[r * ng + j]!), `row ${r} group ${j}`).toBe(specE4M3(want));
        const step = f32(specE4M3(scale[r * ng + j]!) / G);
        for (let c = j * 16; c < j * 16 + 16; c++) {
          const x = f32(w[r * cols + c]! / step);
          const code = nibble(packed, cols / 2, r, c);
          const wantQ = nearestCode(x, specE2M1, E2M1_CODES(x < 0 || Object.is(x, -0)));
          expect(magEq(code, wantQ, specE2M1), `row ${r} col ${c}: x=${x}`).toBe(true);
        }
      }
    }
  });

  it("m1kit's dequantization equals q · (scale / G) decoded from the bytes, bit for bit", () => {
    const { packed, scale } = quantizeNvfp4Rows(w, rows, cols, G);
    const d = dequantizeNvfp4Rows(packed, scale, G, rows, cols);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const want = f32(specE2M1(nibble(packed, cols / 2, r, c)) * f32(specE4M3(scale[r * (cols / 16) + (c >> 4)]!) / G));
        expect(sameF32(d[r * cols + c]!, want), `row ${r} col ${c}`).toBe(true);
      }
    }
  });
});
