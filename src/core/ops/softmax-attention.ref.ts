/**
 * TypeScript reference for causal GQA softmax attention (docs/architecture.md §3.4), plain two-pass
 * softmax: query i (absolute position nk − n + i) attends keys 0 … nk − n + i of kv head ⌊j / (hq/hkv)⌋
 * with scores (q·k)·scale (default 1/√d). q [n, hq, d], k, v [nk, hkv, d], output [n, hq, d] in float64.
 *
 * `numerics` (default 'float64'): 'float64' keeps every intermediate exact; 'fp32' rounds where the
 * official code's fp32 attention does — the dot product, the scaled score and each probability to fp32
 * (the model's --kernels ts path). The weighted sum of v is accumulated in float64 in both.
 */
export function softmaxAttentionRef(a: {
  q: Float32Array; k: Float32Array; v: Float32Array;
  n: number; nk: number; hq: number; hkv: number; d: number; scale?: number;
  numerics?: 'float64' | 'fp32';
}): Float64Array {
  const { n, nk, hq, hkv, d } = a;
  const scale = a.scale ?? 1 / Math.sqrt(d);
  const fp32 = a.numerics === 'fp32';
  const o = new Float64Array(n * hq * d);
  const group = hq / hkv;
  const z = new Float64Array(nk);
  for (let j = 0; j < hq; j++) {
    const jk = Math.floor(j / group);
    for (let i = 0; i < n; i++) {
      const p = nk - n + i;
      const qb = (i * hq + j) * d;
      let m = -Infinity;
      for (let c = 0; c <= p; c++) {
        const kb = (c * hkv + jk) * d;
        let s = 0;
        for (let e = 0; e < d; e++) s += a.q[qb + e]! * a.k[kb + e]!;
        z[c] = fp32 ? Math.fround(Math.fround(s) * scale) : s * scale;
        if (z[c]! > m) m = z[c]!;
      }
      let sum = 0;
      for (let c = 0; c <= p; c++) {
        z[c] = Math.exp(z[c]! - m);
        sum += z[c]!;
      }
      for (let c = 0; c <= p; c++) {
        const w = fp32 ? Math.fround(z[c]! / sum) : z[c]! / sum;
        const vb = (c * hkv + jk) * d;
        for (let e = 0; e < d; e++) o[qb + e]! += w * a.v[vb + e]!;
      }
    }
  }
  return o;
}
