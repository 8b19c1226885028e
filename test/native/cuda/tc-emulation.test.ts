/**
 * The tensor-core lightning prefill's decomposition (kernels/cuda/lightning_tc_plan.h), run on the host
 * by the same chunks, segments, scan order and bf16 rounding points as the GPU kernels, checked against
 * the float64 definition (lightningNaive) on odd sizes. This is what can be tested without a GPU;
 * `npm run test:cuda` compares the device against this emulation where a device exists.
 */
import { describe, expect, it } from 'vitest';
import { cudaLightningPrefillEmulated, CUDA_LIGHTNING_CHUNK } from '../../../src/core/ops/cuda.js';
import { lightningNaive } from '../../../src/core/ops/lightning.ref.js';
import { f32ToBf16, bf16ToF32 } from '../../../src/core/dtype/convert.js';
import { nativeAvailable } from '../../../src/native/index.js';
import { mulberry32 } from '../../../src/core/generation/sampling.js';

/**
 * bf16 keeps 8 significant bits, so one round-to-nearest has relative error ≤ u = 2⁻⁸. Each output
 * element goes through at most two such roundings on any path: the masked score P (intra term), or the
 * decayed key of a state increment and then the state itself in q·bf16(S) (inter term). So
 * |o − o_ref| ≤ 2u · o_abs, where o_abs is the same computation on |q|, |k|, |v|, |S₀| (an upper bound
 * of the sum of absolute terms); the state sees only the key rounding: |S − S_ref| ≤ u · S_abs.
 */
const BF16_UNIT_ROUNDOFF = 2 ** -8;
const TC_BF16_REL = 2 * BF16_UNIT_ROUNDOFF;
const TC_STATE_BF16_REL = BF16_UNIT_ROUNDOFF;
/** fp32 accumulation over ≤ d + 64 products per k-chain plus the chunk scan: γ_n ≈ n·2⁻²⁴ for n ≤ 256. */
const FP32_ACCUM_REL = 2 ** -16;

function bf16Rand(n: number, rng: () => number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (rng() * 2 - 1) * scale;
  return bf16ToF32(f32ToBf16(a));
}
const abs = (a: Float32Array) => a.map(Math.abs);

function within(got: Float32Array, ref: Float64Array, absRef: Float64Array, rel: number): { worst: number; at: number } {
  let worst = 0, at = -1;
  for (let i = 0; i < ref.length; i++) {
    const bound = (rel + FP32_ACCUM_REL) * absRef[i]! + 1e-30;
    const r = Math.abs(got[i]! - ref[i]!) / bound;
    if (!(r <= worst)) (worst = Number.isNaN(r) ? Infinity : r), (at = i);
  }
  return { worst, at };
}

const SHAPES: Array<[n: number, h: number, d: number]> = [
  [1, 1, 128], [63, 2, 48], [64, 1, 16], [65, 1, 100], [257, 3, 128], [700, 2, 40],
];

describe.runIf(nativeAvailable())('tensor-core lightning prefill decomposition, emulated on the host', () => {
  for (const [n, h, d] of SHAPES) {
    it(`n=${n} h=${h} d=${d}: within the bf16 rounding bound of the float64 definition, every element written`, async () => {
      const rng = mulberry32(n * 31 + h * 7 + d);
      const q = bf16Rand(n * h * d, rng), k = bf16Rand(n * h * d, rng), v = bf16Rand(n * h * d, rng);
      const state = bf16Rand(h * d * d, rng, 0.1);
      // a shallow head and the steepest decay of the released model's layer 0 (s ≈ 0.92), and between
      const slopes = Float32Array.from({ length: h }, (_, j) => [0.0039, 0.92, 0.35][j % 3]!);
      const out = new Float32Array(n * h * d).fill(NaN);
      const got = await cudaLightningPrefillEmulated({ q, k, v, n, h, d, slopes, state, out });
      const ref = lightningNaive({ q, k, v, n, h, d, slopes, state });
      const bound = lightningNaive({ q: abs(q), k: abs(k), v: abs(v), n, h, d, slopes, state: abs(state) });
      const eo = within(got.o, ref.o, bound.o, TC_BF16_REL);
      const es = within(got.state, ref.state, bound.state, TC_STATE_BF16_REL);
      expect(eo.worst, `o[${eo.at}] = ${got.o[eo.at]} vs ${ref.o[eo.at]}`).toBeLessThanOrEqual(1);
      expect(es.worst, `state[${es.at}] = ${got.state[es.at]} vs ${ref.state[es.at]}`).toBeLessThanOrEqual(1);
      expect(state.every((x, i) => x === got.state[i])).toBe(n === 0); // the caller's state is not modified
    });
  }

  it('the bound is tight enough to catch a wrong decay: a shifted power (λ^r instead of λ^{r+1}) fails it', async () => {
    const n = 130, h = 1, d = 32, rng = mulberry32(5);
    const q = bf16Rand(n * d, rng), k = bf16Rand(n * d, rng), v = bf16Rand(n * d, rng), state = bf16Rand(d * d, rng);
    const slopes = Float32Array.of(0.3);
    const got = await cudaLightningPrefillEmulated({ q, k, v, n, h, d, slopes, state });
    const ref = lightningNaive({ q, k, v, n, h, d, slopes, state });
    const bound = lightningNaive({ q: abs(q), k: abs(k), v: abs(v), n, h, d, slopes, state: abs(state) });
    expect(within(got.o, ref.o, bound.o, TC_BF16_REL).worst).toBeLessThanOrEqual(1);
    // the same check against a reference whose inter term is decayed one step less must fail
    const wrong = lightningNaive({ q, k, v, n, h, d, slopes: Float32Array.of(0.3), state: state.map((x) => x / Math.exp(-0.3)) });
    expect(within(got.o, wrong.o, bound.o, TC_BF16_REL).worst).toBeGreaterThan(1);
  });

  it('segments carry the state exactly: any segment length, and a split call, give the same bits', async () => {
    const n = 640, h = 2, d = 64, rng = mulberry32(9);
    const q = bf16Rand(n * h * d, rng), k = bf16Rand(n * h * d, rng), v = bf16Rand(n * h * d, rng);
    const slopes = Float32Array.of(0.05, 0.6);
    const whole = await cudaLightningPrefillEmulated({ q, k, v, n, h, d, slopes });
    for (const segmentTokens of [CUDA_LIGHTNING_CHUNK, 3 * CUDA_LIGHTNING_CHUNK]) {
      const seg = await cudaLightningPrefillEmulated({ q, k, v, n, h, d, slopes, segmentTokens });
      expect(Buffer.from(seg.o.buffer).equals(Buffer.from(whole.o.buffer))).toBe(true);
      expect(Buffer.from(seg.state.buffer).equals(Buffer.from(whole.state.buffer))).toBe(true);
    }
    const cut = 5 * CUDA_LIGHTNING_CHUNK, row = h * d;
    const first = await cudaLightningPrefillEmulated({ q: q.subarray(0, cut * row), k: k.subarray(0, cut * row), v: v.subarray(0, cut * row), n: cut, h, d, slopes });
    const second = await cudaLightningPrefillEmulated({ q: q.subarray(cut * row), k: k.subarray(cut * row), v: v.subarray(cut * row), n: n - cut, h, d, slopes, state: first.state });
    const joined = new Float32Array(n * row);
    joined.set(first.o);
    joined.set(second.o, cut * row);
    expect(Buffer.from(joined.buffer).equals(Buffer.from(whole.o.buffer))).toBe(true);
    expect(Buffer.from(second.state.buffer).equals(Buffer.from(whole.state.buffer))).toBe(true);
  });

  it('refuses a segment length that is not a whole number of chunks, and d > 128', async () => {
    const x = new Float32Array(2 * 130);
    await expect(cudaLightningPrefillEmulated({ q: x, k: x, v: x, n: 2, h: 1, d: 130, slopes: Float32Array.of(0.1) })).rejects.toThrow();
    await expect(cudaLightningPrefillEmulated({ q: x, k: x, v: x, n: 2, h: 1, d: 2, slopes: Float32Array.of(0.1), segmentTokens: 100 }))
      .rejects.toMatchObject({ code: 'E_KERNEL_SHAPE' });
  });
});
