/**
 * Softmax-attention layer (docs/architecture.md §3.4): q/k/v projections, partial rotate-half RoPE on the first
 * rotaryDim dims (fp32 angles), GQA (query head j uses kv head ⌊j·g/h⌋), causal softmax in fp32 with
 * scale 1/√d, output projection. K/V rows (after RoPE) are appended to the layer's cache, so the same
 * code serves prefill (n rows) and decode (1 row).
 *
 * The rows of `u` may hold several sequences one after another (`segments`, each with its own cache):
 * the projections run once over all rows; RoPE and attention run per sequence, on the native
 * flash-style kernel (core/ops/softmax-attention) or its TypeScript reference in the fp32 numerics.
 */
import { applyRopeRow, ropeAngles, ropeFrequencies } from './rope.js';
import { bf16 } from './math.js';
import { linear, maybeRound, type LayerContext } from './context.js';
import { softmaxAttention } from '../ops/softmax-attention.js';
import { softmaxAttentionRef } from '../ops/softmax-attention.ref.js';
import { layerPrefix } from '../arch/minimax-m1/tensors.js';

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

/** One sequence's rows within a batch and its KV cache (appended to). */
export interface SoftmaxSegment {
  n: number;
  cache: KvCache;
}

/** Run softmax layer `layer` on u [N, H] (every segment's rows in order); returns [N, H]. */
export async function softmaxLayer(ctx: LayerContext, layer: number, u: Float32Array, segments: SoftmaxSegment[]): Promise<Float32Array> {
  const { numHeads: h, numKvHeads: g, headDim: d } = ctx.config;
  const N = segments.reduce((a, s) => a + s.n, 0);
  const p = `${layerPrefix(layer)}self_attn.`;
  const Q = await linear(ctx, `${p}q_proj.weight`, u, N);
  const K = await linear(ctx, `${p}k_proj.weight`, u, N);
  const V = await linear(ctx, `${p}v_proj.weight`, u, N);
  const out = new Float32Array(N * h * d);
  let row = 0;
  for (const s of segments) {
    const sl = (a: Float32Array, w: number) => a.subarray(row * w, (row + s.n) * w);
    out.set(await attend(ctx, sl(Q, h * d), sl(K, g * d), sl(V, g * d), s.n, s.cache), row * h * d);
    row += s.n;
  }
  return linear(ctx, `${p}o_proj.weight`, out, N);
}

/** RoPE on n rows of one sequence at positions cache.len …, append K/V to its cache, causal GQA attention. */
async function attend(ctx: LayerContext, Q: Float32Array, K: Float32Array, V: Float32Array, n: number, cache: KvCache): Promise<Float32Array> {
  const { numHeads: h, numKvHeads: g, headDim: d, rotaryDim } = ctx.config;
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
  const scale = Math.fround(1 / Math.sqrt(d));
  const nk = pos0 + n;
  const kv = { k: cache.k.subarray(0, nk * w), v: cache.v.subarray(0, nk * w), n, nk, hq: h, hkv: g, d, scale };
  if (ctx.store.native) {
    const o = await softmaxAttention({ q: Q, ...kv, backend: 'native', ...(ctx.store.threads !== undefined ? { threads: ctx.store.threads } : {}) });
    return maybeRound(ctx, o);
  }
  const ref = softmaxAttentionRef({ q: Q, ...kv, numerics: 'fp32' });
  const out = new Float32Array(n * h * d);
  for (let i = 0; i < out.length; i++) out[i] = ctx.bf16 ? bf16(ref[i]!) : ref[i]!;
  return out;
}
