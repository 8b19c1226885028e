/**
 * No subnormal arithmetic in the fp32 compute kernels: FTZ/DAZ on every worker thread with the caller's
 * MXCSR restored, and the lightning decay floor (DECAY_FLOOR) shared by kernels and references.
 */
import { describe, expect, it } from 'vitest';
import { fpModeReport } from '../../src/core/ops/info.js';
import { gemm } from '../../src/core/ops/gemm.js';
import { lightningDecode, lightningPrefill } from '../../src/core/ops/lightning.js';
import { DECAY_FLOOR, decayPow, lightningNaive, lightningRecurrent } from '../../src/core/ops/lightning.ref.js';
import { quantizeFp8Blocks } from '../../src/core/ops/quant.js';
import { announceSkip, forEachSimdPath, nativeLoaded, randArray } from './helpers.js';

announceSkip('fp-mode.test.ts');

describe('decay floor (TypeScript references)', () => {
  it('decayPow is exp(−s·p) down to 2⁻⁶⁰ and exactly 0 below', () => {
    expect(DECAY_FLOOR).toBe(2 ** -60);
    expect(decayPow(0.5, 3)).toBe(Math.exp(-1.5));
    // 60·ln 2 = 41.5888…: just above and just below the floor
    expect(decayPow(1, 41.5)).toBeGreaterThan(0);
    expect(decayPow(1, 41.6)).toBe(0);
    expect(decayPow(0.9170040432, 256)).toBe(0); // M1's steepest head over one block
  });

  it('a slope whose λ is below the floor leaves only the diagonal: o_t = (q_t·k_t) v_t', () => {
    const n = 5, h = 1, d = 3, s = Float32Array.from([50]); // e^-50 ≈ 2^-72
    const q = randArray(n * d, 1), k = randArray(n * d, 2), v = randArray(n * d, 3);
    for (const ref of [lightningNaive, lightningRecurrent]) {
      const r = ref({ q, k, v, n, h, d, slopes: s });
      for (let t = 0; t < n; t++) {
        let dot = 0;
        for (let e = 0; e < d; e++) dot += q[t * d + e]! * k[t * d + e]!;
        for (let c = 0; c < d; c++) expect(r.o[t * d + c]).toBeCloseTo(dot * v[t * d + c]!, 12);
      }
    }
  });
});

describe.skipIf(!nativeLoaded())('fp mode of the native kernels', () => {
  it('every worker flushes (FTZ + DAZ) inside a compute region; the caller gets its MXCSR back', () => {
    for (const threads of [1, 2, 5]) {
      const r = fpModeReport(threads);
      expect(r.workers).toBe(threads);
      expect(r.workersFlush).toBe(true);
      expect(r.callerRestored).toBe(true);
      expect(r.callerFlushedBefore).toBe(false);
    }
  });

  forEachSimdPath(() => {
    it('gemm flushes subnormal products to 0 on every thread (2⁻⁷⁰ · 2⁻⁷⁰ = 2⁻¹⁴⁰)', async () => {
      const m = 3, k = 37, nOut = 64;
      const x = new Float32Array(m * k).fill(2 ** -70), w = new Float32Array(nOut * k).fill(2 ** -70);
      const y = await gemm({ x, w, m, k, nOut, threads: 2 });
      expect(y.every((v) => v === 0)).toBe(true);
      // normal products are untouched
      const y2 = await gemm({ x: x.fill(2 ** -10), w: w.fill(2 ** -10), m, k, nOut, threads: 2 });
      expect(y2.every((v) => v === k * 2 ** -20)).toBe(true);
    });

    it('after compute kernels, an exact kernel still sees subnormals (quantizer bit-exact on a subnormal block)', async () => {
      const rows = 128, cols = 128;
      const w = randArray(rows * cols, 9, 2 ** -130); // all fp32 subnormals
      for (let i = 0; i < 8; i++) {
        await gemm({ x: new Float32Array(4), w: new Float32Array(4), m: 1, k: 4, nOut: 1, threads: 1 });
        const nat = await quantizeFp8Blocks(w, rows, cols, 128, { backend: 'native', threads: 1 });
        const ref = await quantizeFp8Blocks(w, rows, cols, 128, { backend: 'ref' });
        expect(Array.from(nat.scaleInv)).toEqual(Array.from(ref.scaleInv));
        expect(Array.from(nat.codes)).toEqual(Array.from(ref.codes));
      }
    });

    it('prefill and decode with a slope beyond the floor give the diagonal-only output', async () => {
      const n = 300, h = 2, d = 48, slopes = Float32Array.from([50, 0.9170040432]);
      const q = randArray(n * h * d, 11), k = randArray(n * h * d, 12), v = randArray(n * h * d, 13);
      const ref = lightningNaive({ q, k, v, n, h, d, slopes });
      for (const run of [lightningPrefill, lightningDecode]) {
        const r = await run({ q, k, v, n, h, d, slopes });
        let diff = 0, scale = 0;
        for (let i = 0; i < ref.o.length; i++) {
          diff = Math.max(diff, Math.abs(r.o[i]! - ref.o[i]!));
          scale = Math.max(scale, Math.abs(ref.o[i]!));
        }
        expect(diff).toBeLessThanOrEqual(3e-5 * scale); // LIGHTNING_REL_BUDGET of lightning.test.ts
        // head 0, token 1: exactly (q₁·k₁) v₁ in fp32 arithmetic (no earlier token contributes)
        expect(Number.isFinite(r.o[(1 * h) * d]!)).toBe(true);
      }
    });
  });
});
