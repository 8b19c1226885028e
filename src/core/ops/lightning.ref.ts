/**
 * TypeScript references for lightning attention (docs/architecture.md §3.3.3), all in float64:
 * - `lightningNaive`: O(n²) definition o_t = Σ_{j≤t} λ^{t−j} (q_t·k_j) v_j + λ^{t+1} q_t·S₀ and the
 *   final state S_n = λ^n S₀ + Σ_j λ^{n−1−j} k_jᵀ v_j — independent of any block or recurrent form.
 * - `lightningRecurrent`: S ← λS + kᵀv, o = q·S token by token (also the fallback when the addon is
 *   missing, O(n·d²)).
 * Layouts: q, k, v, o [n, h, d] token-major; state [h, d, d] with o = q·S; λ_j = exp(−slopes[j]).
 * Decay powers below DECAY_FLOOR are 0 here exactly as in the native kernels.
 */

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

export function lightningRecurrent(a: LightningRefInput): { o: Float64Array; state: Float64Array } {
  const { n, h, d } = a;
  const o = new Float64Array(n * h * d);
  const st = a.state ? Float64Array.from(a.state) : new Float64Array(h * d * d);
  for (let j = 0; j < h; j++) {
    const lam = decayPow(a.slopes[j]!, 1);
    const S = st.subarray(j * d * d, (j + 1) * d * d);
    for (let t = 0; t < n; t++) {
      const b = (t * h + j) * d;
      for (let r = 0; r < d; r++) {
        const kr = a.k[b + r]!, qr = a.q[b + r]!;
        for (let c = 0; c < d; c++) {
          const sv = lam * S[r * d + c]! + kr * a.v[b + c]!;
          S[r * d + c] = sv;
          o[b + c]! += qr * sv;
        }
      }
    }
  }
  return { o, state: st };
}
