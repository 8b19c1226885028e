/**
 * Lightning-attention core for one layer (docs/architecture.md §3.3.3–§3.3.4): per head j with decay s_j (λ = e^(−s)),
 * state S [d, d] (fp32), q/k/v in head-major layout [h, n, d].
 *
 * - `lightningBlock`: block form over n rows with blocks of B rows (prefill / training path).
 * - `lightningStep`: the recurrence for one row (decode / inference path).
 *
 * With `bf16` set the rounding points of the official code are emulated: in the block form QKᵀ is
 * rounded to bf16, the decayed K is rounded to bf16 and the state increment (Λ_k⊙K)ᵀV is rounded to
 * bf16 before being added to the fp32 state, and the output is rounded to bf16; in the recurrence the
 * outer product kᵀv is rounded to bf16, the output uses S rounded to bf16, and the output is rounded to
 * bf16. Decays are fp32 exponentials in both modes.
 */
import { bf16 } from './math.js';

export interface LightningCoreArgs {
  /** [h, n, d] each. */
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  n: number;
  h: number;
  d: number;
  /** s_j per head (fp32). */
  decays: Float32Array;
  /** [h, d, d] fp32, updated in place. */
  state: Float32Array;
  bf16: boolean;
}

/** fp32 e^(−s·t) computed as in the official code: exp of the fp32 product. */
const decayPow = (s: number, t: number): number => Math.fround(Math.exp(Math.fround(-s * t)));

/**
 * Block-form lightning attention; returns O [h, n, d] and leaves the state after the last row.
 * @example lightningBlock({ q, k, v, n: 700, h: 2, d: 16, decays, state: new Float32Array(2 * 16 * 16), bf16: false }, 256)
 */
export function lightningBlock(a: LightningCoreArgs, blockSize: number): Float32Array {
  const { q, k, v, n, h, d, decays, state } = a;
  const B = blockSize;
  const emul = a.bf16;
  const out = new Float32Array(h * n * d);
  const scores = new Float32Array(B * B);
  const inter = new Float64Array(d);
  const intra = new Float64Array(d);
  const inc = new Float64Array(d * d);
  const kd = new Float32Array(B * d);
  for (let j = 0; j < h; j++) {
    const s = decays[j]!;
    const qDecay = Float32Array.from({ length: B }, (_, r) => decayPow(s, r + 1));
    const kDecayFull = Float32Array.from({ length: B }, (_, c) => decayPow(s, B - 1 - c));
    const diag = Float32Array.from({ length: B }, (_, t) => decayPow(s, t));
    const S = state.subarray(j * d * d, (j + 1) * d * d);
    const hb = j * n * d;
    for (let si = 0; si < n; si += B) {
      const m = Math.min(B, n - si);
      // intra-block scores: (q_r · k_c) for c ≤ r, times λ^{r−c}
      for (let r = 0; r < m; r++) {
        const qo = hb + (si + r) * d;
        for (let c = 0; c <= r; c++) {
          const ko = hb + (si + c) * d;
          let dot = 0;
          for (let e = 0; e < d; e++) dot += q[qo + e]! * k[ko + e]!;
          const z = emul ? bf16(dot) : Math.fround(dot);
          scores[r * B + c] = z * diag[r - c]!;
        }
      }
      for (let r = 0; r < m; r++) {
        const qo = hb + (si + r) * d;
        // inter: (q_r · λ^{r+1}) · S, fp32 product then fp32 matmul
        inter.fill(0);
        for (let e = 0; e < d; e++) {
          const qe = Math.fround(q[qo + e]! * qDecay[r]!);
          if (qe === 0) continue;
          const so = e * d;
          for (let f = 0; f < d; f++) inter[f]! += qe * S[so + f]!;
        }
        const oo = hb + (si + r) * d;
        intra.fill(0);
        for (let c = 0; c <= r; c++) {
          const sc = scores[r * B + c]!;
          if (sc === 0) continue;
          const vo = hb + (si + c) * d;
          for (let f = 0; f < d; f++) intra[f]! += sc * v[vo + f]!;
        }
        for (let f = 0; f < d; f++) {
          const o = Math.fround(Math.fround(inter[f]!) + Math.fround(intra[f]!));
          out[oo + f] = emul ? bf16(o) : o;
        }
      }
      // state: S ← λ^m S + (Λ_k ⊙ K)ᵀ V with Λ_k[c] = λ^{m−1−c}
      const bd = decayPow(s, m);
      for (let c = 0; c < m; c++) {
        const kdc = kDecayFull[B - m + c]!;
        for (let e = 0; e < d; e++) {
          const x = Math.fround(k[hb + (si + c) * d + e]! * kdc);
          kd[c * d + e] = emul ? bf16(x) : x;
        }
      }
      inc.fill(0);
      for (let c = 0; c < m; c++) {
        const vo = hb + (si + c) * d;
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

/**
 * One recurrence step for every head: S ← λS + kᵀv, o = q·S. q, k, v are [h, d] (one row);
 * returns o [h, d].
 */
export function lightningStep(a: Omit<LightningCoreArgs, 'n'>): Float32Array {
  const { q, k, v, h, d, decays, state } = a;
  const emul = a.bf16;
  const out = new Float32Array(h * d);
  const acc = new Float64Array(d);
  for (let j = 0; j < h; j++) {
    const lambda = Math.fround(Math.exp(-decays[j]!));
    const S = state.subarray(j * d * d, (j + 1) * d * d);
    const o = j * d;
    for (let e = 0; e < d; e++) {
      const ke = k[o + e]!;
      for (let f = 0; f < d; f++) {
        const kv = emul ? bf16(ke * v[o + f]!) : Math.fround(ke * v[o + f]!);
        S[e * d + f] = Math.fround(lambda * S[e * d + f]!) + kv;
      }
    }
    acc.fill(0);
    for (let e = 0; e < d; e++) {
      const qe = q[o + e]!;
      if (qe === 0) continue;
      for (let f = 0; f < d; f++) acc[f]! += qe * (emul ? bf16(S[e * d + f]!) : S[e * d + f]!);
    }
    for (let f = 0; f < d; f++) out[o + f] = emul ? bf16(acc[f]!) : acc[f]!;
  }
  return out;
}
