/**
 * Float64 naive reference forward pass, written from docs/architecture.md §3 only: every token recomputes its
 * attention from scratch (o_t = Σ_{j≤t} λ^{t−j} (q_t·k_j) v_j; softmax over all keys ≤ t), no blocks,
 * no state, no caches, no rounding.
 */
import type { MemorySource } from './helpers.js';

const rms = (x: Float64Array, g: Float64Array, eps: number): Float64Array => {
  let ss = 0;
  for (const v of x) ss += v * v;
  const inv = 1 / Math.sqrt(ss / x.length + eps);
  return x.map((v, i) => v * inv * g[i]!);
};
const matvec = (w: Float64Array, x: Float64Array, rows: number): Float64Array => {
  const k = x.length;
  const y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < k; c++) s += w[r * k + c]! * x[c]!;
    y[r] = s;
  }
  return y;
};
const silu = (v: number) => v / (1 + Math.exp(-v));

/** Slopes per docs/architecture.md §3.3.2 (power-of-two head counts only, enough for the tests). */
export function naiveSlopes(h: number): number[] {
  const start = 2 ** (-8 / h);
  return Array.from({ length: h }, (_, j) => start ** (j + 1));
}

export function naiveForward(src: MemorySource, tokens: number[], logitScale = 1): Float64Array[] {
  const c = src.config;
  const W = (n: string) => src.values.get(n)!;
  const { hiddenSize: H, numHeads: h, headDim: d, numKvHeads: g, rotaryDim: R } = c;
  const n = tokens.length;
  let xs = tokens.map((t) => W('model.embed_tokens.weight').slice(t * H, (t + 1) * H));
  for (let l = 0; l < c.numLayers; l++) {
    const p = `model.layers.${l}.`;
    const us = xs.map((x) => rms(x, W(`${p}input_layernorm.weight`), c.rmsNormEps));
    let as: Float64Array[];
    if (c.attnTypes[l] === 0) {
      const s = naiveSlopes(h).map((v) => v * (1 - l / (c.numLayers - 1) + 1e-5));
      const P = us.map((u) => matvec(W(`${p}self_attn.qkv_proj.weight`), u, 3 * h * d).map(silu));
      const part = (t: number, j: number, o: number) => P[t]!.slice(j * 3 * d + o * d, j * 3 * d + (o + 1) * d);
      as = us.map((u, t) => {
        const O = new Float64Array(h * d);
        for (let j = 0; j < h; j++) {
          const q = part(t, j, 0);
          for (let i = 0; i <= t; i++) {
            const k = part(i, j, 1);
            const v = part(i, j, 2);
            let qk = 0;
            for (let e = 0; e < d; e++) qk += q[e]! * k[e]!;
            const w = Math.exp(-s[j]! * (t - i)) * qk;
            for (let e = 0; e < d; e++) O[j * d + e]! += w * v[e]!;
          }
        }
        const on = rms(O, W(`${p}self_attn.norm.weight`), 1e-6);
        const G = matvec(W(`${p}self_attn.output_gate.weight`), u, h * d).map((z) => 1 / (1 + Math.exp(-z)));
        return matvec(W(`${p}self_attn.out_proj.weight`), on.map((v, i) => v * G[i]!), H);
      });
    } else {
      const rope = (x: Float64Array, heads: number, pos: number) => {
        const y = x.slice();
        for (let j = 0; j < heads; j++) {
          for (let i = 0; i < R / 2; i++) {
            const phi = pos * c.ropeTheta ** ((-2 * i) / R);
            const a = x[j * d + i]!;
            const b = x[j * d + i + R / 2]!;
            y[j * d + i] = a * Math.cos(phi) - b * Math.sin(phi);
            y[j * d + i + R / 2] = b * Math.cos(phi) + a * Math.sin(phi);
          }
        }
        return y;
      };
      const Q = us.map((u, t) => rope(matvec(W(`${p}self_attn.q_proj.weight`), u, h * d), h, t));
      const K = us.map((u, t) => rope(matvec(W(`${p}self_attn.k_proj.weight`), u, g * d), g, t));
      const V = us.map((u) => matvec(W(`${p}self_attn.v_proj.weight`), u, g * d));
      as = us.map((_, t) => {
        const O = new Float64Array(h * d);
        for (let j = 0; j < h; j++) {
          const kv = Math.floor(j / (h / g));
          const z = Array.from({ length: t + 1 }, (_, i) => {
            let s = 0;
            for (let e = 0; e < d; e++) s += Q[t]![j * d + e]! * K[i]![kv * d + e]!;
            return s / Math.sqrt(d);
          });
          const mx = Math.max(...z);
          const ex = z.map((v) => Math.exp(v - mx));
          const sum = ex.reduce((a, b) => a + b, 0);
          for (let i = 0; i <= t; i++) for (let e = 0; e < d; e++) O[j * d + e]! += (ex[i]! / sum) * V[i]![kv * d + e]!;
        }
        return matvec(W(`${p}self_attn.o_proj.weight`), O, H);
      });
    }
    const soft = c.attnTypes[l] === 1;
    const aA = soft ? c.fullAlpha : c.linearAlpha;
    const aB = soft ? c.fullBeta : c.linearBeta;
    const x1 = (c.postnorm ? us : xs).map((u, t) => u.map((v, i) => aA * v + aB * as[t]![i]!));
    const vs = x1.map((x) => rms(x, W(`${p}post_attention_layernorm.weight`), c.rmsNormEps));
    xs = vs.map((v, t) => {
      const r = matvec(W(`${p}block_sparse_moe.gate.weight`), v, c.numExperts);
      const mx = Math.max(...r);
      const pr = Array.from(r, (z) => Math.exp(z - mx));
      const sum = pr.reduce((a, b) => a + b, 0);
      const idx = pr.map((_, i) => i).sort((a, b) => pr[b]! - pr[a]! || a - b).slice(0, c.expertsPerTok);
      const sel = idx.reduce((a, i) => a + pr[i]! / sum, 0);
      const m = new Float64Array(H);
      for (const e of idx) {
        const ep = `${p}block_sparse_moe.experts.${e}.`;
        const a1 = matvec(W(`${ep}w1.weight`), v, c.intermediateSize);
        const a3 = matvec(W(`${ep}w3.weight`), v, c.intermediateSize);
        const y = matvec(W(`${ep}w2.weight`), a1.map((z, i) => silu(z) * a3[i]!), H);
        for (let i = 0; i < H; i++) m[i]! += (pr[e]! / sum / sel) * y[i]!;
      }
      const skip = c.postnorm ? v : x1[t]!;
      return skip.map((z, i) => c.mlpAlpha * z + c.mlpBeta * m[i]!);
    });
  }
  const gamma = W('model.norm.weight').map((v) => v * logitScale);
  return xs.map((x) => matvec(W('lm_head.weight'), rms(x, gamma, c.rmsNormEps), c.vocabSize));
}
