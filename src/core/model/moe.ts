/**
 * Mixture of experts (docs/architecture.md §3.5): fp32 router logits and softmax, top-k with ties broken towards the
 * lower expert index, renormalised weights, experts W2·(SiLU(W1 v) ⊙ W3 v) loaded lazily (only experts
 * that receive a token), combined in fp32. In bf16 emulation each expert Linear output, the SiLU and
 * the product are rounded to bf16 as in the official code.
 */
import { bf16, silu } from './math.js';
import { linear, maybeRound, type LayerContext } from './context.js';
import { layerPrefix } from '../arch/minimax-m1/tensors.js';

export interface Routing {
  /** [n, k] expert indices, best first. */
  experts: Int32Array;
  /** [n, k] renormalised weights (fp32). */
  weights: Float32Array;
}

/**
 * Route each row of router logits [n, E] (fp32): softmax in fp32, pick the k largest probabilities
 * (lowest index first on ties), renormalise them to sum to 1.
 */
export function route(logits: Float32Array, n: number, E: number, k: number): Routing {
  const experts = new Int32Array(n * k);
  const weights = new Float32Array(n * k);
  const p = new Float32Array(E);
  const order = Array.from({ length: E }, (_, i) => i);
  for (let t = 0; t < n; t++) {
    let max = -Infinity;
    for (let e = 0; e < E; e++) max = Math.max(max, logits[t * E + e]!);
    let sum = 0;
    for (let e = 0; e < E; e++) sum += Math.exp(logits[t * E + e]! - max);
    for (let e = 0; e < E; e++) p[e] = Math.exp(logits[t * E + e]! - max) / sum;
    order.sort((a, b) => p[b]! - p[a]! || a - b);
    let sel = 0;
    for (let i = 0; i < k; i++) sel += p[order[i]!]!;
    for (let i = 0; i < k; i++) {
      experts[t * k + i] = order[i]!;
      weights[t * k + i] = p[order[i]!]! / Math.fround(sel);
    }
  }
  return { experts, weights };
}

/** Router + experts for v [n, H] (rows of one or several sequences: every row is routed on its own); returns m [n, H]. */
export async function moeLayer(ctx: LayerContext, layer: number, v: Float32Array, n: number): Promise<Float32Array> {
  const { hiddenSize: H, numExperts: E, expertsPerTok: k } = ctx.config;
  const p = `${layerPrefix(layer)}block_sparse_moe.`;
  // router logits in fp32 (not rounded in bf16 emulation), on the selected GEMM
  const { experts, weights } = route(await ctx.store.linear(`${p}gate.weight`, v, n), n, E, k);
  const m = new Float64Array(n * H);
  const rowsOf: number[][] = Array.from({ length: E }, () => []);
  const wsOf: number[][] = Array.from({ length: E }, () => []);
  for (let t = 0; t < n; t++) {
    for (let i = 0; i < k; i++) {
      const e = experts[t * k + i]!;
      rowsOf[e]!.push(t);
      wsOf[e]!.push(weights[t * k + i]!);
    }
  }
  const used = rowsOf.flatMap((r, e) => (r.length > 0 ? [e] : []));
  const names = (e: number) => ['w1', 'w3', 'w2'].map((w) => `${p}experts.${e}.${w}.weight`);
  for (const [ui, e] of used.entries()) {
    // read the next routed expert while this one computes
    if (ui + 1 < used.length) for (const nm of names(used[ui + 1]!)) ctx.store.prefetch(nm);
    const rows = rowsOf[e]!;
    const ws = wsOf[e]!;
    const x = new Float32Array(rows.length * H);
    rows.forEach((t, r) => x.set(v.subarray(t * H, (t + 1) * H), r * H));
    const [w1, w3, w2] = names(e) as [string, string, string];
    const h1 = await linear(ctx, w1, x, rows.length);
    const h3 = await linear(ctx, w3, x, rows.length);
    for (let i = 0; i < h1.length; i++) {
      const a = ctx.bf16 ? bf16(silu(h1[i]!)) : silu(h1[i]!);
      h1[i] = a * h3[i]!;
    }
    maybeRound(ctx, h1);
    const y = await linear(ctx, w2, h1, rows.length);
    rows.forEach((t, r) => {
      const w = ws[r]!;
      for (let c = 0; c < H; c++) m[t * H + c]! += w * y[r * H + c]!;
    });
  }
  return Float32Array.from(m);
}
