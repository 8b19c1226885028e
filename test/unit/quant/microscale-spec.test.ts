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
import { E2M1_CODES, E4M3_CODES, mxScaleCode, nearestCode, nibble, nvfp4ScaleCodeSpec, sameF32, sameMagnitude, specE2M1, specE4M3, specE8M0 } from '../../helpers/mx-spec.js';

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

const f32 = (x: number): number => Math.fround(x);
const magEq = sameMagnitude;

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
          expect(scale[r * nb + b], `row ${r} block ${b}`).toBe(mxScaleCode(amax, emax));
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
        expect(specE4M3(scale[r * ng + j]!), `row ${r} group ${j}`).toBe(specE4M3(nvfp4ScaleCodeSpec(ag, G)));
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
