/**
 * NVFP4, MXFP4 and MXFP8 kernels must equal the TypeScript references bit for bit on every SIMD path:
 * realistic weights (the vector paths), every E2M1/E4M3 rounding tie, zeros, subnormals, ±max fp32,
 * NaN, ±Inf, partial last groups and odd row lengths, fp32 and bf16 inputs, with error sampling.
 */
import { describe, expect, it } from 'vitest';
import { dequantizeMx, dequantizeNvfp4, matrixAmax, quantizeMx, quantizeNvfp4 } from '../../src/core/ops/microscale.js';
import { nvfp4GlobalScale } from '../../src/core/quant/nvfp4.js';
import { FP8_E4M3_TABLE } from '../../src/core/quant/fp8.js';
import { f32ToBf16 } from '../../src/core/dtype/convert.js';
import type { QuantInput } from '../../src/core/ops/quant.js';
import { announceSkip, forEachSimdPath, firstBitDiff, nativeLoaded, randArray, rng } from './helpers.js';

/** Values at and around every E2M1 tie (×2^k), E4M3 ties, fp32 extremes and non-finite values. */
function nasty(n: number, seed: number): Float32Array {
  const w = randArray(n, seed, 3);
  const r = rng(seed + 7);
  const ties = [0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 5, 6, 7, 1.0625, 1.1875, 448, 464, 480];
  const specials = [0, -0, NaN, -NaN, Infinity, -Infinity, 3.4e38, -3.4e38, 1e-45, -1e-40, 2 ** -126, 2 ** -127];
  for (let i = 0; i < n; i++) {
    const u = r();
    if (u > 0.8) w[i] = specials[Math.floor((u - 0.8) * 5 * specials.length) % specials.length]!;
    else if (u > 0.4) w[i] = (u > 0.6 ? -1 : 1) * ties[Math.floor((u - 0.4) * 2.5 * ties.length) % ties.length]! * 2 ** (Math.floor(r() * 8) - 4);
    else if (u < -0.8) w[i] = w[i]! * 1e-38;
  }
  return w;
}

const SHAPES: [number, number][] = [[1, 1], [1, 7], [3, 33], [2, 16], [5, 100], [33, 96], [4, 257]];
const bf16In = (w: Float32Array): QuantInput => ({ bf16: f32ToBf16(w) });

announceSkip('quant-mx.test.ts');

describe.skipIf(!nativeLoaded())('NVFP4 / MXFP4 / MXFP8 (native ≡ TypeScript, bit-exact)', () => {
  forEachSimdPath(() => {
    it('realistic weights, fp32 and bf16 input, 1 and 2 threads', async () => {
      const rows = 64, cols = 1536;
      const f = randArray(rows * cols, 11, 0.05);
      for (const input of [f, bf16In(f)]) {
        for (const threads of [1, 2]) {
          const g = nvfp4GlobalScale(await matrixAmax(input, rows, cols, { backend: 'ref' }));
          expect(await matrixAmax(input, rows, cols, { backend: 'native', threads })).toBe(await matrixAmax(input, rows, cols, { backend: 'ref' }));
          const n = await quantizeNvfp4(input, rows, cols, g, { backend: 'native', threads });
          const r = await quantizeNvfp4(input, rows, cols, g, { backend: 'ref' });
          expect(firstBitDiff(n.packed, r.packed)).toBe(-1);
          expect(firstBitDiff(n.scale, r.scale)).toBe(-1);
          for (const elem of ['e2m1', 'e4m3'] as const) {
            const nm = await quantizeMx(input, rows, cols, elem, { backend: 'native', threads });
            const rm = await quantizeMx(input, rows, cols, elem, { backend: 'ref' });
            expect(firstBitDiff(nm.codes, rm.codes)).toBe(-1);
            expect(firstBitDiff(nm.scale, rm.scale)).toBe(-1);
          }
        }
      }
    });

    it('edge values and odd shapes: codes, scales, amax and dequantized values', async () => {
      for (const [rows, cols] of SHAPES) {
        const w = nasty(rows * cols, rows * 1000 + cols);
        w.fill(0, 0, Math.min(cols, 16)); // an all-zero group
        const amax = await matrixAmax(w, rows, cols, { backend: 'native' });
        expect(amax).toBe(await matrixAmax(w, rows, cols, { backend: 'ref' }));
        for (const g of [nvfp4GlobalScale(amax), 1, 2 ** 100, 3e-30]) {
          const n = await quantizeNvfp4(w, rows, cols, g, { backend: 'native' });
          const r = await quantizeNvfp4(w, rows, cols, g, { backend: 'ref' });
          expect(firstBitDiff(n.packed, r.packed), `nvfp4 packed ${rows}×${cols} g=${g}`).toBe(-1);
          expect(firstBitDiff(n.scale, r.scale), `nvfp4 scale ${rows}×${cols} g=${g}`).toBe(-1);
          const dn = await dequantizeNvfp4(n.packed, n.scale, g, rows, cols, { backend: 'native' });
          const dr = await dequantizeNvfp4(r.packed, r.scale, g, rows, cols, { backend: 'ref' });
          expect(firstBitDiff(dn, dr)).toBe(-1);
        }
        for (const elem of ['e2m1', 'e4m3'] as const) {
          const n = await quantizeMx(w, rows, cols, elem, { backend: 'native' });
          const r = await quantizeMx(w, rows, cols, elem, { backend: 'ref' });
          expect(firstBitDiff(n.codes, r.codes), `${elem} codes ${rows}×${cols}`).toBe(-1);
          expect(firstBitDiff(n.scale, r.scale), `${elem} scale ${rows}×${cols}`).toBe(-1);
          const dn = await dequantizeMx(n.codes, n.scale, rows, cols, elem, { backend: 'native' });
          const dr = await dequantizeMx(r.codes, r.scale, rows, cols, elem, { backend: 'ref' });
          expect(firstBitDiff(dn, dr)).toBe(-1);
        }
      }
    });

    it('every E4M3 and E2M1 value survives an MX round trip at scale 1', async () => {
      // one block holding 448 has k = 0 (MXFP8) → every finite code must come back unchanged
      const w = new Float32Array(256);
      for (let c = 0; c < 256; c++) w[c] = FP8_E4M3_TABLE[c]!;
      for (let b = 0; b < 8; b++) w[b * 32] = 448; // every block's amax is 448
      const { codes, scale } = await quantizeMx(w, 1, 256, 'e4m3', { backend: 'native' });
      for (let b = 0; b < 8; b++) expect(scale[b]).toBe(127);
      for (let c = 0; c < 256; c++) if (c % 32 !== 0) expect(codes[c] === c || ((c & 0x7f) === 0x7f && (codes[c]! & 0x7f) === 0x7f)).toBe(true);
      const e = Float32Array.from([0, 0.5, 1, 1.5, 2, 3, 4, 6, -0, -0.5, -1, -1.5, -2, -3, -4, -6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6]);
      const p = await quantizeMx(e, 1, 32, 'e2m1', { backend: 'native' }); // amax 6 → k = 0
      expect(p.scale[0]).toBe(127);
      expect(Array.from(p.codes.subarray(0, 8))).toEqual([0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe]);
    });

    it('error sampling matches the reference sums', async () => {
      const rows = 16, cols = 96;
      const w = randArray(rows * cols, 5, 0.1);
      const g = nvfp4GlobalScale(await matrixAmax(w, rows, cols));
      const sums = async (backend: 'native' | 'ref', f: (o: { backend: 'native' | 'ref'; errors: { unit: number; stride: number; block0: number; out: Float64Array } }) => Promise<unknown>) => {
        const out = new Float64Array(3);
        await f({ backend, errors: { unit: 4, stride: 2, block0: 0, out } });
        return Array.from(out);
      };
      const runs = [
        (o: Parameters<typeof quantizeNvfp4>[4]) => quantizeNvfp4(w, rows, cols, g, o),
        (o: Parameters<typeof quantizeMx>[4]) => quantizeMx(w, rows, cols, 'e2m1', o),
        (o: Parameters<typeof quantizeMx>[4]) => quantizeMx(w, rows, cols, 'e4m3', o),
      ];
      for (const run of runs) {
        const n = await sums('native', run), r = await sums('ref', run);
        expect(n[0]).toBeGreaterThan(0);
        expect(n[0]).toBeCloseTo(r[0]!, 9);
        expect(n[1]).toBeCloseTo(r[1]!, 12);
        expect(n[2]).toBe(r[2]);
      }
    });
  });
});
