/**
 * Native quantizers and dtype conversions must equal the TypeScript references bit for bit, on every
 * SIMD path, including odd shapes, all-zero blocks, subnormals, ±max, NaN and ±Inf.
 */
import { describe, expect, it } from 'vitest';
import { dequantizeFp8Blocks, dequantizeInt4, dequantizeInt8, quantizeFp8Blocks, quantizeInt4, quantizeInt8, type ErrorSample } from '../../src/core/ops/quant.js';
import { convertBf16ToF32, convertF32ToBf16, convertF32ToF16 } from '../../src/core/ops/convert.js';
import { FP8_E4M3_TABLE } from '../../src/core/quant/fp8.js';
import { bf16ToF32, f32ToBf16, f32ToF16 } from '../../src/core/dtype/convert.js';
import { announceSkip, forEachSimdPath, firstBitDiff, nativeLoaded, randArray, rng } from './helpers.js';

/** Weights with every awkward value: zeros, ±max fp32, subnormals, NaN, ±Inf, ties at various scales. */
function nasty(n: number, seed: number): Float32Array {
  const w = randArray(n, seed);
  const r = rng(seed + 99);
  const specials = [0, -0, NaN, Infinity, -Infinity, 3.4e38, -3.4e38, 1e-45, -1e-40, 1.0625, 448, 464, 2 ** -10, 7.5, -127.5];
  for (let i = 0; i < n; i++) {
    const u = r();
    if (u > 0.9) w[i] = specials[Math.floor((u - 0.9) * 10 * specials.length) % specials.length]!;
    else if (u < -0.9) w[i] = w[i]! * 1e-30;
  }
  return w;
}

const SHAPES: [number, number][] = [[1, 1], [1, 7], [3, 129], [130, 257], [128, 128], [5, 300]];

announceSkip('quant-convert.test.ts');

describe.skipIf(!nativeLoaded())('quantizers and conversions (native ≡ TypeScript, bit-exact)', () => {
  forEachSimdPath(() => {
    it('realistic weights (the vectorised fast paths, no special values) are bit-exact', async () => {
      const rows = 256, cols = 1100;
      const w = randArray(rows * cols, 7);
      const n = await quantizeFp8Blocks(w, rows, cols, 128, { backend: 'native', threads: 2 });
      const r = await quantizeFp8Blocks(w, rows, cols, 128, { backend: 'ref' });
      expect(firstBitDiff(n.codes, r.codes)).toBe(-1);
      expect(firstBitDiff(n.scaleInv, r.scaleInv)).toBe(-1);
      const n4 = await quantizeInt4(w, rows, cols, 128, { backend: 'native', threads: 2 });
      const r4 = await quantizeInt4(w, rows, cols, 128, { backend: 'ref' });
      expect(firstBitDiff(n4.packed, r4.packed)).toBe(-1);
      expect(firstBitDiff(n4.scale, r4.scale)).toBe(-1);
    });

    it('block FP8 (128 and 32) incl. an all-zero block', async () => {
      for (const [rows, cols] of SHAPES) {
        for (const block of [128, 32]) {
          const w = nasty(rows * cols, rows * 1000 + cols);
          w.fill(0, 0, Math.min(cols, block)); // first row's first block columns zero (whole block zero when rows = 1)
          const nat = await quantizeFp8Blocks(w, rows, cols, block, { backend: 'native' });
          const ref = await quantizeFp8Blocks(w, rows, cols, block, { backend: 'ref' });
          expect(firstBitDiff(nat.codes, ref.codes)).toBe(-1);
          expect(firstBitDiff(nat.scaleInv, ref.scaleInv)).toBe(-1);
          const dn = await dequantizeFp8Blocks(nat.codes, nat.scaleInv, rows, cols, block, { backend: 'native' });
          const dr = await dequantizeFp8Blocks(ref.codes, ref.scaleInv, rows, cols, block, { backend: 'ref' });
          expect(firstBitDiff(dn, dr)).toBe(-1);
        }
      }
    });

    it('FP8 encode round-trips all 256 codes through the native kernel', async () => {
      // one 1×256 row with block 256: amax = 448 → scaleInv = 1, so code(decode(c)) must be c
      const w = Float32Array.from(FP8_E4M3_TABLE);
      const { codes, scaleInv } = await quantizeFp8Blocks(w, 1, 256, 256, { backend: 'native' });
      expect(scaleInv[0]).toBe(1);
      for (let c = 0; c < 256; c++) expect(codes[c] === c || ((c & 0x7f) === 0x7f && (codes[c]! & 0x7f) === 0x7f)).toBe(true);
    });

    it('INT8 per row and INT4 per group (F32 and BF16 scales)', async () => {
      for (const [rows, cols] of SHAPES) {
        for (const scaleDtype of ['F32', 'BF16'] as const) {
          const w = nasty(rows * cols, rows * 31 + cols);
          w.fill(0, 0, cols); // an all-zero row
          const n8 = await quantizeInt8(w, rows, cols, { backend: 'native', scaleDtype });
          const r8 = await quantizeInt8(w, rows, cols, { backend: 'ref', scaleDtype });
          expect(firstBitDiff(n8.q, r8.q)).toBe(-1);
          expect(firstBitDiff(n8.scale, r8.scale)).toBe(-1);
          expect(firstBitDiff(await dequantizeInt8(n8.q, n8.scale, rows, cols, { backend: 'native' }), await dequantizeInt8(r8.q, r8.scale, rows, cols, { backend: 'ref' }))).toBe(-1);
          for (const group of [128, 32, 7]) {
            const n4 = await quantizeInt4(w, rows, cols, group, { backend: 'native', scaleDtype });
            const r4 = await quantizeInt4(w, rows, cols, group, { backend: 'ref', scaleDtype });
            expect(firstBitDiff(n4.packed, r4.packed)).toBe(-1);
            expect(firstBitDiff(n4.scale, r4.scale)).toBe(-1);
            expect(firstBitDiff(await dequantizeInt4(n4.packed, n4.scale, rows, cols, group, { backend: 'native' }),
              await dequantizeInt4(r4.packed, r4.scale, rows, cols, group, { backend: 'ref' }))).toBe(-1);
          }
        }
      }
    });

    it('bf16 input (widened in the kernel) gives the same codes and scales as its fp32 copy through the reference', async () => {
      for (const [rows, cols] of [...SHAPES, [256, 1100] as [number, number]]) {
        // bf16 patterns of awkward weights (NaN, ±Inf, subnormals, ties), and their exact fp32 values
        const bits = f32ToBf16(nasty(rows * cols, rows * 31 + cols));
        const f32 = bf16ToF32(bits);
        const nat = await quantizeFp8Blocks({ bf16: bits }, rows, cols, 128, { backend: 'native', threads: 2 });
        const ref = await quantizeFp8Blocks(f32, rows, cols, 128, { backend: 'ref' });
        expect(firstBitDiff(nat.codes, ref.codes)).toBe(-1);
        expect(firstBitDiff(nat.scaleInv, ref.scaleInv)).toBe(-1);
        const n8 = await quantizeInt8({ bf16: bits }, rows, cols, { backend: 'native', threads: 2, scaleDtype: 'BF16' });
        const r8 = await quantizeInt8(f32, rows, cols, { backend: 'ref', scaleDtype: 'BF16' });
        expect(firstBitDiff(n8.q, r8.q)).toBe(-1);
        expect(firstBitDiff(n8.scale, r8.scale)).toBe(-1);
        const n4 = await quantizeInt4({ bf16: bits }, rows, cols, 128, { backend: 'native', threads: 2, scaleDtype: 'BF16' });
        const r4 = await quantizeInt4(f32, rows, cols, 128, { backend: 'ref', scaleDtype: 'BF16' });
        expect(firstBitDiff(n4.packed, r4.packed)).toBe(-1);
        expect(firstBitDiff(n4.scale, r4.scale)).toBe(-1);
      }
      // the reference path accepts bf16 input too (decoded first), with the same result
      const bits = f32ToBf16(randArray(3 * 129, 3));
      const viaRef = await quantizeFp8Blocks({ bf16: bits }, 3, 129, 128, { backend: 'ref' });
      const viaNat = await quantizeFp8Blocks({ bf16: bits }, 3, 129, 128, { backend: 'native' });
      expect(firstBitDiff(viaRef.codes, viaNat.codes)).toBe(-1);
    });

    it('error sums measured in the quantizing call equal the reference sums over the same sampled blocks', async () => {
      // the sums are float64 over the same elements in another order: equal up to a few ulps each
      const SUM_RTOL = 1e-12;
      const rows = 700, cols = 300; // 6 blocks of 128 rows, the last partial
      const bits = f32ToBf16(nasty(rows * cols, 77));
      const f32 = bf16ToF32(bits);
      const run = async (q: (input: Float32Array | { bf16: Uint16Array }, e: ErrorSample, backend: 'native' | 'ref') => Promise<unknown>) => {
        for (const [stride, block0] of [[1, 0], [2, 1], [3, 0]] as const) {
          const sample = () => ({ unit: 128, stride, block0, out: Float64Array.of(1, 2, 0.5) }); // adds to what is there
          const nat = sample(), ref = sample();
          await q({ bf16: bits }, nat, 'native');
          await q(f32, ref, 'ref');
          expect(ref.out[0]).toBeGreaterThan(1); // something was measured
          for (let j = 0; j < 2; j++) expect(Math.abs(nat.out[j]! - ref.out[j]!)).toBeLessThanOrEqual(SUM_RTOL * Math.abs(ref.out[j]!));
          expect(nat.out[2]).toBe(ref.out[2]); // a max does not depend on the order
        }
      };
      await run((w, errors, backend) => quantizeFp8Blocks(w, rows, cols, 128, { backend, errors, threads: 2 }));
      await run((w, errors, backend) => quantizeInt8(w, rows, cols, { backend, errors, threads: 2, scaleDtype: 'BF16' }));
      await run((w, errors, backend) => quantizeInt4(w, rows, cols, 128, { backend, errors, threads: 2, scaleDtype: 'BF16' }));
      // independent check of one case: fp8 with every block sampled, against dequantize + float64 sums here
      const e = { unit: 128, stride: 1, block0: 0, out: new Float64Array(3) };
      const q = await quantizeFp8Blocks({ bf16: bits }, rows, cols, 128, { backend: 'native', errors: e });
      const d = await dequantizeFp8Blocks(q.codes, q.scaleInv, rows, cols, 128, { backend: 'ref' });
      let s2 = 0, e2 = 0, mx = 0;
      for (let i = 0; i < f32.length; i++) {
        const diff = d[i]! - f32[i]!;
        if (!Number.isFinite(diff)) continue;
        s2 += f32[i]! * f32[i]!;
        e2 += diff * diff;
        mx = Math.max(mx, Math.abs(diff));
      }
      expect(Math.abs(e.out[0]! - s2)).toBeLessThanOrEqual(SUM_RTOL * s2);
      expect(Math.abs(e.out[1]! - e2)).toBeLessThanOrEqual(SUM_RTOL * e2);
      expect(e.out[2]).toBe(mx);
    });

    it('bf16 → fp32 for all 65536 patterns; fp32 → bf16/fp16 on specials, ties, subnormals and random bits', async () => {
      const all = new Uint16Array(65536).map((_, i) => i);
      expect(firstBitDiff(await convertBf16ToF32(all, { backend: 'native' }), bf16ToF32(all))).toBe(-1);
      const bits = new Uint32Array(200_003);
      const r = rng(5);
      for (let i = 0; i < bits.length; i++) bits[i] = ((r() + 1) * 2 ** 31) >>> 0;
      const special = [0, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00001, 0x7f800001, 0x00000001, 0x807fffff,
        0x3f808000, 0x3f818000, 0x3f807fff, 0x477fefff, 0x477ff000, 0x33000000, 0x33000001, 0x387fc000, 0x38800000, 0x7f7fffff];
      special.forEach((b, i) => (bits[i] = b));
      // every exponent with halfway mantissas for fp16 (bit 12 set) and bf16 (bit 15 set)
      for (let e = 0; e < 256; e++) {
        bits[100 + e] = (e << 23) | 0x1000;
        bits[400 + e] = (e << 23) | 0x3000;
        bits[700 + e] = (e << 23) | 0x8000;
        bits[1000 + e] = (e << 23) | 0x18000;
      }
      const f = new Float32Array(bits.buffer);
      expect(firstBitDiff(await convertF32ToBf16(f, { backend: 'native' }), f32ToBf16(f))).toBe(-1);
      expect(firstBitDiff(await convertF32ToF16(f, { backend: 'native' }), f32ToF16(f))).toBe(-1);
    });
  });
});
