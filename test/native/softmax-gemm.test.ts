/**
 * Causal GQA softmax attention and the x·Wᵀ GEMM on every SIMD path vs float64 references; RoPE
 * helper against hand-derived values (docs/architecture.md §3.4, §3.8).
 */
import { describe, expect, it } from 'vitest';
import { softmaxAttention } from '../../src/core/ops/softmax-attention.js';
import { softmaxAttentionRef } from '../../src/core/ops/softmax-attention.ref.js';
import { gemm } from '../../src/core/ops/gemm.js';
import { gemmRef } from '../../src/core/ops/gemm.ref.js';
import { applyRope } from '../../src/core/ops/rope.js';
import { f32ToBf16 } from '../../src/core/dtype/convert.js';
import { announceSkip, forEachSimdPath, maxAbsDiff, nativeLoaded, poisoned, randArray } from './helpers.js';

/**
 * Softmax attention output is a convex combination of v rows (|o| ≤ max |v|): fp32 online softmax
 * vs float64 two-pass; observed ≈ 1e-7 absolute for |v| ≤ 1, budget 2e-6 · max|v|.
 */
const SOFTMAX_ABS_BUDGET = 2e-6;
/** Standard dot-product bound |Δ| ≤ γ_k Σ|x·w|, γ_k = k·u/(1 − k·u), u = 2^-24 (fp32 unit roundoff). */
const gemmBound = (k: number) => (k * 2 ** -24) / (1 - k * 2 ** -24);

announceSkip('softmax-gemm.test.ts');

describe.skipIf(!nativeLoaded())('softmax attention and gemm (native)', () => {
  forEachSimdPath(() => {
    for (const d of [48, 128]) {
      it(`prefill, chunked prefill and decode match the reference, d=${d}`, async () => {
        const hq = 4, hkv = 2;
        const cases: [number, number][] = [[1, 1], [2, 2], [3, 3], [5, 5], [7, 7], [15, 15], [17, 17], [31, 31], [33, 33],
          [65, 65], [130, 130], [1, 17], [1, 257], [3, 20], [64, 200]];
        for (const [n, nk] of cases) {
          const q = randArray(n * hq * d, n * 3 + nk), k = randArray(nk * hkv * d, nk + 1), v = randArray(nk * hkv * d, nk + 2);
          const ref = softmaxAttentionRef({ q, k, v, n, nk, hq, hkv, d, scale: 1 / Math.sqrt(d) });
          const o = await softmaxAttention({ q, k, v, n, nk, hq, hkv, d, out: poisoned(n * hq * d) });
          expect(maxAbsDiff(o, ref).diff).toBeLessThanOrEqual(SOFTMAX_ABS_BUDGET);
        }
      });
    }

    it('decode over a long cache with 8:1 GQA (key range split across threads) matches the reference', async () => {
      const d = 128, nk = 5000;
      for (const [hq, hkv] of [[8, 1], [16, 2]] as const) {
        for (const n of [1, 3]) {
          const q = randArray(n * hq * d, 40 + n + hq), k = randArray(nk * hkv * d, 41 + hkv), v = randArray(nk * hkv * d, 42 + hkv);
          const ref = softmaxAttentionRef({ q, k, v, n, nk, hq, hkv, d, scale: 1 / Math.sqrt(d) });
          for (const threads of [1, 2, 7]) {
            const o = await softmaxAttention({ q, k, v, n, nk, hq, hkv, d, threads, out: poisoned(n * hq * d) });
            expect(maxAbsDiff(o, ref).diff).toBeLessThanOrEqual(SOFTMAX_ABS_BUDGET);
          }
        }
      }
    });

    it('is causal: changing a future key does not change earlier outputs', async () => {
      const n = 70, hq = 2, hkv = 1, d = 48;
      const q = randArray(n * hq * d, 1), k = randArray(n * hkv * d, 2), v = randArray(n * hkv * d, 3);
      const a = await softmaxAttention({ q, k, v, n, nk: n, hq, hkv, d });
      k[69 * d] = 1e6; v[69 * d] = 1e6;
      const b = await softmaxAttention({ q, k, v, n, nk: n, hq, hkv, d });
      expect(Array.from(b.subarray(0, 69 * hq * d))).toEqual(Array.from(a.subarray(0, 69 * hq * d)));
      expect(b[69 * hq * d]).not.toBe(a[69 * hq * d]);
    });

    it('large scores do not overflow (online max subtraction)', async () => {
      const n = 40, d = 48;
      const q = randArray(n * d, 4, 100), k = randArray(n * d, 5, 100), v = randArray(n * d, 6);
      const ref = softmaxAttentionRef({ q, k, v, n, nk: n, hq: 1, hkv: 1, d, scale: 1 / Math.sqrt(d) });
      const o = await softmaxAttention({ q, k, v, n, nk: n, hq: 1, hkv: 1, d });
      // scores up to ~1e4: exp differences are exact to fp32 rounding of the scores (≈1e-3 absolute)
      expect(maxAbsDiff(o, ref).diff).toBeLessThanOrEqual(1e-2);
      expect(o.every(Number.isFinite)).toBe(true);
    });

    it('gemm x·Wᵀ with fp32 and bf16 weights stays within the fp32 dot-product bound', async () => {
      for (const m of [1, 3, 5, 17]) {
        for (const k of [1, 7, 48, 129, 257]) {
          for (const nOut of [1, 3, 5, 33]) {
            const x = randArray(m * k, m + k), wf = randArray(nOut * k, nOut + 2 * k);
            for (const w of [wf, f32ToBf16(wf)]) {
              const ref = gemmRef({ x, w, m, k, nOut });
              const y = await gemm({ x, w, m, k, nOut, out: poisoned(m * nOut) });
              const wv = w instanceof Uint16Array ? new Float32Array(Uint32Array.from(w, (b) => b << 16).buffer) : w;
              for (let i = 0; i < m; i++) {
                for (let o = 0; o < nOut; o++) {
                  let absSum = 0;
                  for (let c = 0; c < k; c++) absSum += Math.abs(x[i * k + c]! * wv[o * k + c]!);
                  expect(Math.abs(y[i * nOut + o]! - ref[i * nOut + o]!)).toBeLessThanOrEqual(gemmBound(k) * absSum + 1e-30);
                }
              }
            }
          }
        }
      }
    });
  });
});

describe('softmax / gemm TypeScript fallback', () => {
  it('backend "ref" gives the reference', async () => {
    const q = randArray(2 * 2 * 8, 1), k = randArray(5 * 8, 2), v = randArray(5 * 8, 3);
    const o = await softmaxAttention({ q, k, v, n: 2, nk: 5, hq: 2, hkv: 1, d: 8, backend: 'ref' });
    expect(maxAbsDiff(o, softmaxAttentionRef({ q, k, v, n: 2, nk: 5, hq: 2, hkv: 1, d: 8, scale: 1 / Math.sqrt(8) })).diff).toBeLessThan(1e-7);
    // single key: the output is exactly that value row
    const o1 = await softmaxAttention({ q: q.subarray(0, 8), k: k.subarray(0, 8), v: v.subarray(0, 8), n: 1, nk: 1, hq: 1, hkv: 1, d: 8, backend: 'ref' });
    expect(Array.from(o1)).toEqual(Array.from(v.subarray(0, 8)));
  });

  it('rejects hq not divisible by hkv', async () => {
    await expect(softmaxAttention({ q: new Float32Array(3), k: new Float32Array(2), v: new Float32Array(2), n: 1, nk: 1, hq: 3, hkv: 2, d: 1 }))
      .rejects.toMatchObject({ code: 'E_KERNEL_SHAPE' });
  });
});

describe('applyRope (rotate-half, partial)', () => {
  it('rotates pairs (i, i + half) by p·θ^(−2i/rotaryDim) and leaves dims ≥ rotaryDim unchanged', () => {
    const d = 8, rot = 4;
    const x = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    const y = applyRope(x, [3], rot, 10000, d);
    const w1 = Math.fround(10000 ** -0.5); // i = 1: θ^(−2/4)
    const phi0 = 3, phi1 = Math.fround(3 * w1);
    expect(y[0]).toBeCloseTo(1 * Math.cos(phi0) - 3 * Math.sin(phi0), 6);
    expect(y[2]).toBeCloseTo(3 * Math.cos(phi0) + 1 * Math.sin(phi0), 6);
    expect(y[1]).toBeCloseTo(2 * Math.cos(phi1) - 4 * Math.sin(phi1), 6);
    expect(y[3]).toBeCloseTo(4 * Math.cos(phi1) + 2 * Math.sin(phi1), 6);
    expect(Array.from(y.subarray(4))).toEqual([5, 6, 7, 8]);
  });

  it('position 0 is the identity and M1 frequencies match §3.8 (ω_1 = 0.6042963902)', () => {
    const x = randArray(2 * 128, 9);
    expect(Array.from(applyRope(x.subarray(0, 128), [0], 64, 1e7, 128))).toEqual(Array.from(x.subarray(0, 128)));
    const e = new Float32Array(128);
    e[1] = 1; // x_1 = 1 → y_1 = cos(ω_1), y_33 = sin(ω_1) at position 1
    const y = applyRope(e, [1], 64, 1e7, 128);
    expect(Math.acos(y[1]!)).toBeCloseTo(0.6042963902, 6);
    expect(Math.asin(y[33]!)).toBeCloseTo(0.6042963902, 6);
  });
});
