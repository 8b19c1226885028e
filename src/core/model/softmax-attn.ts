/**
 * Softmax-attention layer (docs/architecture.md §3.4): q/k/v projections, partial rotate-half RoPE on the first
 * rotaryDim dims (fp32 angles), GQA (query head j uses kv head ⌊j·g/h⌋), causal softmax in fp32 with
 * scale 1/√d, output projection. K/V rows (after RoPE) are appended to the layer's cache, so the same
 * code serves prefill (n rows) and decode (1 row).
 */
import { applyRopeRow, ropeAngles, ropeFrequencies } from './rope.js';
import { bf16 } from './math.js';
import { linear, maybeRound, type LayerContext } from './context.js';

export interface KvCache {
  k: Float32Array;
  v: Float32Array;
  /** Rows stored. */
  len: number;
  freqs: Float32Array;
}

export function newKvCache(ctx: LayerContext): KvCache {
  const { rotaryDim, ropeTheta } = ctx.config;
  return { k: new Float32Array(0), v: new Float32Array(0), len: 0, freqs: ropeFrequencies(rotaryDim, ropeTheta) };
}

function grow(a: Float32Array, need: number): Float32Array {
  if (a.length >= need) return a;
  const b = new Float32Array(Math.max(need, 2 * a.length));
  b.set(a);
  return b;
}

/** Run softmax layer `layer` on u [n, H] at absolute positions cache.len … cache.len + n − 1. */
export async function softmaxLayer(ctx: LayerContext, layer: number, u: Float32Array, n: number, cache: KvCache): Promise<Float32Array> {
  const { numHeads: h, numKvHeads: g, headDim: d, rotaryDim } = ctx.config;
  const p = `model.layers.${layer}.self_attn.`;
  const Q = await linear(ctx, `${p}q_proj.weight`, u, n);
  const K = await linear(ctx, `${p}k_proj.weight`, u, n);
  const V = await linear(ctx, `${p}v_proj.weight`, u, n);
  const pos0 = cache.len;
  for (let t = 0; t < n; t++) {
    const { cos, sin } = ropeAngles(pos0 + t, cache.freqs);
    applyRopeRow(Q, t * h * d, h, d, rotaryDim, cos, sin);
    applyRopeRow(K, t * g * d, g, d, rotaryDim, cos, sin);
  }
  maybeRound(ctx, Q);
  maybeRound(ctx, K);
  const w = g * d;
  cache.k = grow(cache.k, (pos0 + n) * w);
  cache.v = grow(cache.v, (pos0 + n) * w);
  cache.k.set(K, pos0 * w);
  cache.v.set(V, pos0 * w);
  cache.len = pos0 + n;
  const group = h / g;
  const scale = Math.fround(1 / Math.sqrt(d));
  const out = new Float32Array(n * h * d);
  const z = new Float64Array(pos0 + n);
  const acc = new Float64Array(d);
  for (let t = 0; t < n; t++) {
    const nk = pos0 + t + 1;
    for (let j = 0; j < h; j++) {
      const kvh = Math.floor(j / group);
      const qo = t * h * d + j * d;
      let max = -Infinity;
      for (let s = 0; s < nk; s++) {
        const ko = s * w + kvh * d;
        let dot = 0;
        for (let e = 0; e < d; e++) dot += Q[qo + e]! * cache.k[ko + e]!;
        const zz = Math.fround(Math.fround(dot) * scale);
        z[s] = zz;
        if (zz > max) max = zz;
      }
      let sum = 0;
      for (let s = 0; s < nk; s++) {
        const e = Math.exp(z[s]! - max);
        z[s] = e;
        sum += e;
      }
      acc.fill(0);
      for (let s = 0; s < nk; s++) {
        const pr = Math.fround(z[s]! / sum);
        const vo = s * w + kvh * d;
        for (let e = 0; e < d; e++) acc[e]! += pr * cache.v[vo + e]!;
      }
      for (let e = 0; e < d; e++) out[qo + e] = ctx.bf16 ? bf16(acc[e]!) : acc[e]!;
    }
  }
  return linear(ctx, `${p}o_proj.weight`, out, n);
}
