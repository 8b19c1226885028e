/**
 * The TypeScript reference of lightning attention (docs/architecture.md §3.3.3–§3.3.4), one layout for
 * every caller: q, k, v, o [n, h, d] token-major (as the native kernels); state [h, d, d] with o = q·S
 * (row = k index, column = v index); per-head decay λ_j = exp(−slopes[j]).
 *
 * - `lightningNaive`: the O(n²) definition o_t = Σ_{j≤t} λ^{t−j} (q_t·k_j) v_j + λ^{t+1} q_t·S₀ and the
 *   final state S_n = λ^n S₀ + Σ_j λ^{n−1−j} k_jᵀ v_j, in float64 — independent of any block or recurrent
 *   form (what the kernels' tests compare against).
 * - `lightningRecurrence`: S ← λS + kᵀv, o = q·S token by token, in one of three numerics:
 *   'float64' (exact; the fallback of core/ops/lightning.ts and the bench's self-check reference), or the
 *   official code's 'fp32' / 'bf16' rounding points (the model's decode with --kernels ts).
 *   `lightningRecurrent` is its float64 form returning fresh arrays.
 * - `lightningBlock`: the block form over blocks of B tokens with the official code's 'fp32' / 'bf16'
 *   rounding points (the model's prefill with --kernels ts).
 *
 * Rounding points of the official code: decays are fp32 exponentials of fp32 products; in the block form
 * QKᵀ is rounded to bf16, the decayed K is rounded to bf16 and the state increment (Λ_k⊙K)ᵀV is rounded to
 * bf16 before being added to the fp32 state, and the output is rounded to bf16; in the recurrence the
 * outer product kᵀv is rounded to bf16, the output uses S rounded to bf16, and the output is rounded to
 * bf16. 'fp32' rounds the same intermediates to fp32 instead.
 */
import { roundBf16 } from '../dtype/convert.js';

/**
 * Decay powers exp(−s·p) below 2⁻⁶⁰ are taken as 0 by every lightning implementation (native and
 * TypeScript). A term scaled by less than 2⁻⁶⁰ is far below fp32 resolution (2⁻²⁴) of the sum it
 * joins, and flooring keeps steep heads (s up to 0.92 in M1, so λ²⁵⁶ ≈ 2⁻³³⁹) from ever producing
 * subnormal factors, which cost microcode assists on some CPUs.
 */
export const DECAY_FLOOR = 2 ** -60;

/** exp(−s·p), or 0 when that is below DECAY_FLOOR. */
export function decayPow(s: number, p: number): number {
  const e = Math.exp(-s * p);
  return e < DECAY_FLOOR ? 0 : e;
}

/** fp32 e^(−s·t) computed as in the official code: exp of the fp32 product. */
const decayPow32 = (s: number, t: number): number => Math.fround(Math.exp(Math.fround(-s * t)));

/** bf16 (RNE) of a number, via fp32 as the official code's casts. */
const bf16 = (x: number): number => roundBf16(Math.fround(x));

export interface LightningRefInput {
  q: Float32Array; k: Float32Array; v: Float32Array;
  n: number; h: number; d: number;
  slopes: Float32Array;
  state?: Float32Array;
}

export function lightningNaive(a: LightningRefInput): { o: Float64Array; state: Float64Array } {
  const { n, h, d } = a;
  const o = new Float64Array(n * h * d);
  const st = new Float64Array(h * d * d);
  for (let j = 0; j < h; j++) {
    const s = a.slopes[j]!;
    const base = (t: number) => (t * h + j) * d;
    for (let t = 0; t < n; t++) {
      const qt = base(t);
      for (let u = 0; u <= t; u++) {
        const ku = base(u);
        let dot = 0;
        for (let e = 0; e < d; e++) dot += a.q[qt + e]! * a.k[ku + e]!;
        const w = decayPow(s, t - u) * dot;
        for (let e = 0; e < d; e++) o[qt + e]! += w * a.v[ku + e]!;
      }
      if (a.state) {
        const f = decayPow(s, t + 1);
        for (let r = 0; r < d; r++) {
          const qr = a.q[qt + r]! * f;
          for (let c = 0; c < d; c++) o[qt + c]! += qr * a.state[(j * d + r) * d + c]!;
        }
      }
    }
    for (let r = 0; r < d; r++) {
      for (let c = 0; c < d; c++) {
        let acc = a.state ? decayPow(s, n) * a.state[(j * d + r) * d + c]! : 0;
        for (let u = 0; u < n; u++) acc += decayPow(s, n - 1 - u) * a.k[base(u) + r]! * a.v[base(u) + c]!;
        st[(j * d + r) * d + c] = acc;
      }
    }
  }
  return { o, state: st };
}

export type LightningNumerics = 'float64' | 'fp32' | 'bf16';

export interface LightningRecurrenceArgs {
  q: ArrayLike<number>; k: ArrayLike<number>; v: ArrayLike<number>;
  n: number; h: number; d: number;
  slopes: ArrayLike<number>;
  /** [h, d, d], updated in place: a Float64Array for 'float64', a Float32Array for 'fp32' / 'bf16'. */
  state: Float64Array | Float32Array;
  /** [n, h, d], written. */
  out: Float64Array | Float32Array;
  numerics: LightningNumerics;
}

/**
 * n recurrence steps for every head: S ← λS + kᵀv, then o = q·S (inclusive), accumulated in float64.
 * @example lightningRecurrence({ q, k, v, n: 1, h, d, slopes, state, out, numerics: 'fp32' })
 */
export function lightningRecurrence(a: LightningRecurrenceArgs): void {
  const { q, k, v, n, h, d, state: st, out } = a;
  const exact = a.numerics === 'float64';
  const emul = a.numerics === 'bf16';
  const acc = new Float64Array(d);
  for (let j = 0; j < h; j++) {
    const lam = exact ? decayPow(a.slopes[j]!, 1) : Math.fround(Math.exp(-a.slopes[j]!));
    const S = st.subarray(j * d * d, (j + 1) * d * d);
    for (let t = 0; t < n; t++) {
      const b = (t * h + j) * d;
      acc.fill(0);
      for (let r = 0; r < d; r++) {
        const kr = k[b + r]!, qr = q[b + r]!;
        const so = r * d;
        if (exact) {
          for (let c = 0; c < d; c++) S[so + c] = lam * S[so + c]! + kr * v[b + c]!;
        } else {
          for (let c = 0; c < d; c++) S[so + c] = Math.fround(lam * S[so + c]!) + (emul ? bf16(kr * v[b + c]!) : Math.fround(kr * v[b + c]!));
        }
        if (qr === 0) continue;
        if (emul) for (let c = 0; c < d; c++) acc[c]! += qr * bf16(S[so + c]!);
        else for (let c = 0; c < d; c++) acc[c]! += qr * S[so + c]!;
      }
      for (let c = 0; c < d; c++) out[b + c] = emul ? bf16(acc[c]!) : acc[c]!;
    }
  }
}

/** The float64 recurrence on copies: returns o [n, h, d] and the state after the last token. */
export function lightningRecurrent(a: Omit<LightningRefInput, 'state'> & { state?: ArrayLike<number> }): { o: Float64Array; state: Float64Array } {
  const o = new Float64Array(a.n * a.h * a.d);
  const state = a.state ? Float64Array.from(a.state) : new Float64Array(a.h * a.d * a.d);
  lightningRecurrence({ ...a, state, out: o, numerics: 'float64' });
  return { o, state };
}

export interface LightningBlockArgs {
  q: Float32Array; k: Float32Array; v: Float32Array;
  n: number; h: number; d: number;
  /** s_j per head (fp32). */
  slopes: Float32Array;
  /** [h, d, d] fp32, updated in place. */
  state: Float32Array;
  numerics: 'fp32' | 'bf16';
}

/**
 * Block-form lightning attention over blocks of `blockSize` tokens; returns o [n, h, d] and leaves the
 * state after the last token.
 * @example lightningBlock({ q, k, v, n: 700, h: 2, d: 16, slopes, state: new Float32Array(2 * 16 * 16), numerics: 'fp32' }, 256)
 */
export function lightningBlock(a: LightningBlockArgs, blockSize: number): Float32Array {
  const { q, k, v, n, h, d, slopes, state } = a;
  const B = blockSize;
  const emul = a.numerics === 'bf16';
  const out = new Float32Array(n * h * d);
  const scores = new Float32Array(B * B);
  const inter = new Float64Array(d);
  const intra = new Float64Array(d);
  const inc = new Float64Array(d * d);
  const kd = new Float32Array(B * d);
  const row = (t: number, j: number) => (t * h + j) * d;
  for (let j = 0; j < h; j++) {
    const s = slopes[j]!;
    const qDecay = Float32Array.from({ length: B }, (_, r) => decayPow32(s, r + 1));
    const kDecayFull = Float32Array.from({ length: B }, (_, c) => decayPow32(s, B - 1 - c));
    const diag = Float32Array.from({ length: B }, (_, t) => decayPow32(s, t));
    const S = state.subarray(j * d * d, (j + 1) * d * d);
    for (let si = 0; si < n; si += B) {
      const m = Math.min(B, n - si);
      // intra-block scores: (q_r · k_c) for c ≤ r, times λ^{r−c}
      for (let r = 0; r < m; r++) {
        const qo = row(si + r, j);
        for (let c = 0; c <= r; c++) {
          const ko = row(si + c, j);
          let dot = 0;
          for (let e = 0; e < d; e++) dot += q[qo + e]! * k[ko + e]!;
          const z = emul ? bf16(dot) : Math.fround(dot);
          scores[r * B + c] = z * diag[r - c]!;
        }
      }
      for (let r = 0; r < m; r++) {
        const qo = row(si + r, j);
        // inter: (q_r · λ^{r+1}) · S, fp32 product then fp32 matmul
        inter.fill(0);
        for (let e = 0; e < d; e++) {
          const qe = Math.fround(q[qo + e]! * qDecay[r]!);
          if (qe === 0) continue;
          const so = e * d;
          for (let f = 0; f < d; f++) inter[f]! += qe * S[so + f]!;
        }
        intra.fill(0);
        for (let c = 0; c <= r; c++) {
          const sc = scores[r * B + c]!;
          if (sc === 0) continue;
          const vo = row(si + c, j);
          for (let f = 0; f < d; f++) intra[f]! += sc * v[vo + f]!;
        }
        for (let f = 0; f < d; f++) {
          const o = Math.fround(Math.fround(inter[f]!) + Math.fround(intra[f]!));
          out[qo + f] = emul ? bf16(o) : o;
        }
      }
      // state: S ← λ^m S + (Λ_k ⊙ K)ᵀ V with Λ_k[c] = λ^{m−1−c}
      const bd = decayPow32(s, m);
      for (let c = 0; c < m; c++) {
        const kdc = kDecayFull[B - m + c]!;
        const ko = row(si + c, j);
        for (let e = 0; e < d; e++) {
          const x = Math.fround(k[ko + e]! * kdc);
          kd[c * d + e] = emul ? bf16(x) : x;
        }
      }
      inc.fill(0);
      for (let c = 0; c < m; c++) {
        const vo = row(si + c, j);
        for (let e = 0; e < d; e++) {
          const kde = kd[c * d + e]!;
          if (kde === 0) continue;
          const io = e * d;
          for (let f = 0; f < d; f++) inc[io + f]! += kde * v[vo + f]!;
        }
      }
      for (let i = 0; i < d * d; i++) {
        const incR = emul ? bf16(inc[i]!) : Math.fround(inc[i]!);
        S[i] = Math.fround(bd * S[i]!) + incR;
      }
    }
  }
  return out;
}
