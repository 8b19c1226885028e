import { describe, expect, it } from 'vitest';
import { headSlopes, layerDecays, layerFactor } from '../../../src/core/arch/minimax-m1/slopes.js';
import { applyRopeRow, ropeAngles, ropeFrequencies } from '../../../src/core/model/rope.js';
import { lightningBlock, lightningRecurrence } from '../../../src/core/ops/lightning.ref.js';
import { route } from '../../../src/core/model/moe.js';
import { rmsNorm, roundBf16InPlace } from '../../../src/core/model/math.js';
import { gaussian, maxDiff, prng } from './helpers.js';

/** fp32 block form / recurrence vs a float64 sum over n ≤ 700 rows of d = 8: fp32 rounding of the
 * state and outputs (rel. 6e-8 per op) accumulated over ≤ 700 steps; observed ≤ 1e-6 relative. */
const LIGHTNING_FP32_REL = 1e-5;

describe('slopes (docs/architecture.md §3.3.2, §3.8)', () => {
  it('matches the published values for 64 heads and 80 layers', () => {
    const s = headSlopes(64);
    expect(s[0]).toBe(Math.fround(0.9170040432)); // stored as fp32
    expect(s[1]).toBe(Math.fround(0.8408964153));
    expect(s[63]).toBe(0.00390625);
    expect(layerFactor(39, 80)).toBeCloseTo(0.506339, 6);
    expect(layerFactor(0, 80)).toBeCloseTo(1.00001, 12);
    const d78 = layerDecays(78, 80, 64);
    expect(d78[63]).toBeCloseTo(0.00390625 * 0.0126683, 8);
  });
  it('extends non-power-of-two head counts with the even entries of the 2p list', () => {
    expect(Array.from(headSlopes(6))).toEqual([0.25, 0.0625, 0.015625, 0.00390625, 0.5, 0.125]);
  });
  it('uses factor 1 + 1e-5 for a single-layer model', () => {
    expect(layerFactor(0, 1)).toBe(1 + 1e-5);
  });
});

describe('RoPE (docs/architecture.md §3.4)', () => {
  it('frequencies ω_i = θ^(−2i/64)', () => {
    const w = ropeFrequencies(64, 1e7);
    expect(w[0]).toBe(1);
    expect(w[1]).toBeCloseTo(0.6042963902, 8);
    expect(w[31]! / 1.654817e-7).toBeCloseTo(1, 5);
  });
  it('rotates pairs (i, i + r/2) of the first rotaryDim dims and leaves the rest', () => {
    const d = 8;
    const r = 4;
    const freqs = ropeFrequencies(r, 10000);
    const x = Float32Array.from({ length: 2 * d }, (_, i) => i + 1);
    const y = x.slice();
    const { cos, sin } = ropeAngles(3, freqs);
    applyRopeRow(y, 0, 2, d, r, cos, sin);
    for (let hh = 0; hh < 2; hh++) {
      const b = hh * d;
      for (let i = 0; i < 2; i++) {
        const phi = 3 * 10000 ** (-(2 * i) / r);
        expect(y[b + i]).toBeCloseTo(x[b + i]! * Math.cos(phi) - x[b + i + 2]! * Math.sin(phi), 5);
        expect(y[b + i + 2]).toBeCloseTo(x[b + i + 2]! * Math.cos(phi) + x[b + i]! * Math.sin(phi), 5);
      }
      for (let i = r; i < d; i++) expect(y[b + i]).toBe(x[b + i]);
    }
  });
  it('position 0 is the identity', () => {
    const x = Float32Array.from([0.1, -0.2, 0.3, 0.4]);
    const y = x.slice();
    const { cos, sin } = ropeAngles(0, ropeFrequencies(4, 1e7));
    applyRopeRow(y, 0, 1, 4, 4, cos, sin);
    expect(Array.from(y)).toEqual(Array.from(x));
  });
});

/**
 * Naive O(n²) decayed attention in float64: o_t = Σ_{j≤t} λ^{t−j} (q_t·k_j) v_j; state Σ λ^{n−1−j} k_jᵀv_j.
 * q, k, v, o token-major [n, h, d].
 */
function naiveLightning(q: Float32Array, k: Float32Array, v: Float32Array, n: number, h: number, d: number, s: Float32Array) {
  const o = new Float64Array(n * h * d);
  const S = new Float64Array(h * d * d);
  const at = (t: number, j: number) => (t * h + j) * d;
  for (let j = 0; j < h; j++) {
    const lam = Math.exp(-s[j]!);
    for (let t = 0; t < n; t++) {
      for (let i = 0; i <= t; i++) {
        let qk = 0;
        for (let e = 0; e < d; e++) qk += q[at(t, j) + e]! * k[at(i, j) + e]!;
        const w = lam ** (t - i) * qk;
        for (let f = 0; f < d; f++) o[at(t, j) + f]! += w * v[at(i, j) + f]!;
      }
    }
    for (let i = 0; i < n; i++) {
      for (let e = 0; e < d; e++) for (let f = 0; f < d; f++) S[j * d * d + e * d + f]! += lam ** (n - 1 - i) * k[at(i, j) + e]! * v[at(i, j) + f]!;
    }
  }
  return { o, S };
}

function randomQkv(n: number, h: number, d: number, seed: number) {
  const r = prng(seed);
  const mk = () => Float32Array.from({ length: h * n * d }, () => 0.3 * gaussian(r));
  return { q: mk(), k: mk(), v: mk() };
}

describe('lightning attention core (docs/architecture.md §3.3.3–§3.3.4)', () => {
  const h = 3;
  const d = 8;
  const decays = Float32Array.from([0.9, 0.1, 0.001]);
  for (const [n, B] of [[1, 16], [15, 16], [16, 16], [17, 16], [700, 256], [513, 256]] as const) {
    it(`block form (B = ${B}) and recurrence match the naive sum for n = ${n}`, () => {
      const { q, k, v } = randomQkv(n, h, d, n);
      const ref = naiveLightning(q, k, v, n, h, d, decays);
      const S1 = new Float32Array(h * d * d);
      const ob = lightningBlock({ q, k, v, n, h, d, slopes: decays, state: S1, numerics: 'fp32' }, B);
      const S2 = new Float32Array(h * d * d);
      const or = new Float32Array(n * h * d);
      for (let t = 0; t < n; t++) {
        const row = (a: Float32Array) => a.subarray(t * h * d, (t + 1) * h * d);
        lightningRecurrence({ q: row(q), k: row(k), v: row(v), n: 1, h, d, slopes: decays, state: S2, out: row(or), numerics: 'fp32' });
      }
      for (const [got, want] of [[ob, ref.o], [or, ref.o], [S1, ref.S], [S2, ref.S]] as const) {
        const m = maxDiff(got, want);
        expect(m.maxAbs).toBeLessThanOrEqual(LIGHTNING_FP32_REL * Math.max(1, m.maxRef));
      }
    });
  }
  it('bf16 emulation rounds outputs to bf16 and stays near the exact values', () => {
    const n = 40;
    const { q, k, v } = randomQkv(n, h, d, 99);
    for (const a of [q, k, v]) roundBf16InPlace(a);
    const ref = naiveLightning(q, k, v, n, h, d, decays);
    const ob = lightningBlock({ q, k, v, n, h, d, slopes: decays, state: new Float32Array(h * d * d), numerics: 'bf16' }, 16);
    expect(Array.from(ob)).toEqual(Array.from(roundBf16InPlace(ob.slice())));
    const m = maxDiff(ob, ref.o);
    // bf16 has 8 significant bits: ≤ 2% of the largest output after a few bf16 roundings
    expect(m.maxAbs).toBeLessThan(0.02 * m.maxRef);
    expect(m.maxAbs).toBeGreaterThan(0);
  });
  it('continues from an incoming state (second prefill chunk)', () => {
    const n = 50;
    const { q, k, v } = randomQkv(n, h, d, 5);
    const full = lightningBlock({ q, k, v, n, h, d, slopes: decays, state: new Float32Array(h * d * d), numerics: 'fp32' }, 16);
    const cut = 21;
    const part = (a: Float32Array, t0: number, t1: number) => a.subarray(t0 * h * d, t1 * h * d);
    const S = new Float32Array(h * d * d);
    lightningBlock({ q: part(q, 0, cut), k: part(k, 0, cut), v: part(v, 0, cut), n: cut, h, d, slopes: decays, state: S, numerics: 'fp32' }, 16);
    const tail = lightningBlock({ q: part(q, cut, n), k: part(k, cut, n), v: part(v, cut, n), n: n - cut, h, d, slopes: decays, state: S, numerics: 'fp32' }, 16);
    const m = maxDiff(tail, part(full, cut, n));
    expect(m.maxAbs).toBeLessThan(LIGHTNING_FP32_REL * m.maxRef);
  });
});

describe('MoE routing (docs/architecture.md §3.5)', () => {
  it('renormalises the top-k probabilities to sum to 1', () => {
    const logits = Float32Array.from([0.3, -1, 2, 0.7, 1.1]);
    const { experts, weights } = route(logits, 1, 5, 2);
    expect(Array.from(experts)).toEqual([2, 4]);
    const e2 = Math.exp(2);
    const e4 = Math.exp(1.1);
    expect(weights[0]).toBeCloseTo(e2 / (e2 + e4), 6);
    expect(weights[0]! + weights[1]!).toBeCloseTo(1, 6);
  });
  it('breaks ties towards the lower expert index', () => {
    const logits = Float32Array.from([0, Math.log(3), 0, 0, 5, 5, 1, 5]);
    const r = route(logits, 2, 4, 2);
    expect(Array.from(r.experts)).toEqual([1, 0, 0, 1]);
    expect(r.weights[0]).toBeCloseTo(0.75, 6);
    expect(r.weights[1]).toBeCloseTo(0.25, 6);
    expect(r.weights[2]).toBeCloseTo(0.5, 6);
  });
});

describe('RMSNorm (docs/architecture.md §3.6)', () => {
  it('rounds the normalised value to bf16 before the γ product in bf16 emulation', () => {
    const x = Float32Array.from([1, 2, 3, 4.5]);
    const g = Float32Array.from([1.5, 1, 0.5, 2]);
    const inv = 1 / Math.sqrt((1 + 4 + 9 + 20.25) / 4 + 1e-5);
    const f = rmsNorm(x, g, 1, 4, 1e-5, false);
    const b = rmsNorm(x, g, 1, 4, 1e-5, true);
    const r16 = (v: number) => roundBf16InPlace(Float32Array.from([v]))[0]!;
    for (let i = 0; i < 4; i++) {
      expect(f[i]).toBeCloseTo(x[i]! * inv * g[i]!, 6);
      expect(b[i]).toBe(r16(g[i]! * r16(x[i]! * inv)));
    }
  });
});
