/**
 * Float64 references used by the kernel benchmark's self-check (independent of the kernels under test):
 * the lightning recurrence of docs/architecture.md §3.3.3 and plain causal softmax attention of §3.4 step 4.
 * Layouts: q, k, v, o are [n, h, d] row-major; states [h, d, d] (row = k index, column = v index).
 */
import { decayPow } from '../ops/lightning.ref.js';

/** Per-step decay λ_j = exp(−s_j) of head j (0 below the kernels' DECAY_FLOOR, as every implementation). */
export const decayOf = (slope: number): number => decayPow(slope, 1);

/**
 * Lightning recurrence: S_t = λ·S_{t−1} + k_tᵀ v_t, o_t = q_t · S_t (inclusive), per head.
 * @returns outputs [n, h, d] and the final state [h, d, d] (float64).
 */
export function lightningRecurrenceRef(p: {
  q: ArrayLike<number>;
  k: ArrayLike<number>;
  v: ArrayLike<number>;
  n: number;
  h: number;
  d: number;
  slopes: ArrayLike<number>;
  state?: ArrayLike<number>;
}): { o: Float64Array; state: Float64Array } {
  const { n, h, d } = p;
  const o = new Float64Array(n * h * d);
  const S = new Float64Array(h * d * d);
  if (p.state) for (let i = 0; i < S.length; i++) S[i] = p.state[i]!;
  for (let j = 0; j < h; j++) {
    const lam = decayOf(p.slopes[j]!);
    const base = j * d * d;
    for (let t = 0; t < n; t++) {
      const row = (t * h + j) * d;
      for (let a = 0; a < d; a++) {
        const ka = p.k[row + a]!;
        const sRow = base + a * d;
        for (let b = 0; b < d; b++) S[sRow + b] = lam * S[sRow + b]! + ka * p.v[row + b]!;
      }
      for (let a = 0; a < d; a++) {
        const qa = p.q[row + a]!;
        const sRow = base + a * d;
        for (let b = 0; b < d; b++) o[row + b] = o[row + b]! + qa * S[sRow + b]!;
      }
    }
  }
  return { o, state: S };
}

/**
 * Causal softmax attention with GQA: query i sits at absolute position nk − n + i and sees keys 0..that
 * position; query head j uses kv head ⌊j·hkv/hq⌋; scores scaled by 1/√d.
 * q [n, hq, d], k and v [nk, hkv, d] → o [n, hq, d].
 */
export function softmaxAttentionRef(p: {
  q: ArrayLike<number>;
  k: ArrayLike<number>;
  v: ArrayLike<number>;
  n: number;
  nk: number;
  hq: number;
  hkv: number;
  d: number;
}): Float64Array {
  const { n, nk, hq, hkv, d } = p;
  const o = new Float64Array(n * hq * d);
  const scale = 1 / Math.sqrt(d);
  const z = new Float64Array(nk);
  for (let i = 0; i < n; i++) {
    const pos = nk - n + i;
    for (let j = 0; j < hq; j++) {
      const g = Math.floor((j * hkv) / hq);
      const qRow = (i * hq + j) * d;
      let max = -Infinity;
      for (let t = 0; t <= pos; t++) {
        const kRow = (t * hkv + g) * d;
        let s = 0;
        for (let a = 0; a < d; a++) s += p.q[qRow + a]! * p.k[kRow + a]!;
        z[t] = s * scale;
        if (z[t]! > max) max = z[t]!;
      }
      let sum = 0;
      for (let t = 0; t <= pos; t++) {
        z[t] = Math.exp(z[t]! - max);
        sum += z[t]!;
      }
      for (let t = 0; t <= pos; t++) {
        const w = z[t]! / sum;
        const vRow = (t * hkv + g) * d;
        for (let b = 0; b < d; b++) o[qRow + b] = o[qRow + b]! + w * p.v[vRow + b]!;
      }
    }
  }
  return o;
}

/** max |a − ref| / max |ref| (0 when both are all zero; Infinity on NaN). */
export function relMaxError(a: ArrayLike<number>, ref: ArrayLike<number>): number {
  if (a.length !== ref.length) return Infinity;
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) {
    const e = Math.abs(a[i]! - ref[i]!);
    if (Number.isNaN(e)) return Infinity;
    if (e > num) num = e;
    const r = Math.abs(ref[i]!);
    if (r > den) den = r;
  }
  return den === 0 ? num : num / den;
}
