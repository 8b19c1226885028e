/**
 * Lightning-attention layer (docs/architecture.md §3.3): qkv projection + SiLU, per-head split of the interleaved
 * [h, 3d] rows, block-form (prefill) or recurrent (decode) attention, RMSNorm over all h·d features
 * (eps config.lightningNormEps), sigmoid output gate, output projection.
 *
 * The rows of `u` may hold several sequences one after another (`segments`, each with its own state):
 * the projections run once over all rows, so each weight is read once per batch; only the attention
 * core runs per sequence. The core is the native kernel (core/ops/lightning, fp32 with fp32 state) or
 * the TypeScript reference beside it (core/ops/lightning.ref.ts), which also emulates the official bf16
 * rounding points (used in bf16 when `ctx.emulateLightning` asks for them).
 */
import { bf16, rmsNorm, sigmoid, silu } from './math.js';
import { layerDecays } from '../arch/minimax-m1/slopes.js';
import { linear, maybeRound, type LayerContext } from './context.js';
import { lightningDecode, lightningPrefill } from '../ops/lightning.js';
import { layerPrefix } from '../arch/minimax-m1/tensors.js';
import { lightningBlock, lightningRecurrence } from '../ops/lightning.ref.js';

export interface LightningState {
  /** [h, d, d] fp32 state S. */
  S: Float32Array;
  decays: Float32Array;
}

/** One sequence's rows within a batch and its state (updated in place). */
export interface LightningSegment {
  n: number;
  state: LightningState;
}

export function newLightningState(ctx: LayerContext, layer: number): LightningState {
  const { numHeads: h, headDim: d, numLayers } = ctx.config;
  return { S: new Float32Array(h * d * d), decays: layerDecays(layer, numLayers, h) };
}

/** Split rows [n, h, 3d] of P into q, k, v token-major [n, h, d], the layout of the kernels and the reference. */
function splitQkv(ctx: LayerContext, P: Float32Array, n: number): { q: Float32Array; k: Float32Array; v: Float32Array; h: number; d: number } {
  const { numHeads: h, headDim: d } = ctx.config;
  const q = new Float32Array(n * h * d);
  const k = new Float32Array(n * h * d);
  const v = new Float32Array(n * h * d);
  for (let r = 0; r < n * h; r++) {
    const src = r * 3 * d;
    q.set(P.subarray(src, src + d), r * d);
    k.set(P.subarray(src + d, src + 2 * d), r * d);
    v.set(P.subarray(src + 2 * d, src + 3 * d), r * d);
  }
  return { q, k, v, h, d };
}

/** TypeScript core (core/ops/lightning.ref.ts, the official rounding points): O [n, h·d]. */
function coreTs(ctx: LayerContext, P: Float32Array, n: number, st: LightningState, recurrent: boolean): Float32Array {
  const { q, k, v, h, d } = splitQkv(ctx, P, n);
  const numerics = ctx.bf16 ? 'bf16' : 'fp32';
  if (!recurrent) return lightningBlock({ q, k, v, n, h, d, slopes: st.decays, state: st.S, numerics }, ctx.config.blockSize);
  const out = new Float32Array(n * h * d);
  lightningRecurrence({ q, k, v, n, h, d, slopes: st.decays, state: st.S, out, numerics });
  return out;
}

/** Native core: O [n, h·d] is the kernel's output. */
async function coreNative(ctx: LayerContext, P: Float32Array, n: number, st: LightningState, recurrent: boolean): Promise<Float32Array> {
  const { q, k, v, h, d } = splitQkv(ctx, P, n);
  const args = { q, k, v, n, h, d, slopes: st.decays, state: st.S, inPlace: true, backend: 'native' as const, ...(ctx.store.threads !== undefined ? { threads: ctx.store.threads } : {}) };
  // q, k, v are on the bf16 grid in bf16 emulation ([HF] SiLU), so the kernel's bf16 numerics (vdpbf16ps products, fp32 sums and state) apply
  const precision = ctx.bf16 && !ctx.siluFp32 ? 'bf16' : 'fp32';
  const { o } = recurrent ? await lightningDecode(args) : await lightningPrefill({ ...args, blockSize: ctx.config.blockSize, precision });
  return maybeRound(ctx, o);
}

/**
 * Run lightning layer `layer` on u [N, H] (the normalised input of every segment's rows, in order).
 * `recurrent` selects the decode path (one recurrence step per row) instead of the block form.
 * Returns a [N, H].
 */
export async function lightningLayer(ctx: LayerContext, layer: number, u: Float32Array, segments: LightningSegment[], recurrent: boolean): Promise<Float32Array> {
  const { numHeads: h, headDim: d } = ctx.config;
  const hd = h * d;
  const N = segments.reduce((a, s) => a + s.n, 0);
  const p = `${layerPrefix(layer)}self_attn.`;
  const P = await ctx.store.linear(`${p}qkv_proj.weight`, u, N, ctx.bf16 ? 'bf16' : 'fp32');
  if (ctx.bf16 && !ctx.siluFp32) {
    for (let i = 0; i < P.length; i++) P[i] = bf16(silu(bf16(P[i]!)));
  } else {
    for (let i = 0; i < P.length; i++) P[i] = silu(ctx.bf16 ? bf16(P[i]!) : P[i]!);
  }
  const O = new Float32Array(N * hd);
  let row = 0;
  for (const s of segments) {
    const Ps = P.subarray(row * 3 * hd, (row + s.n) * 3 * hd);
    const native = ctx.store.native && !(ctx.bf16 && ctx.emulateLightning);
    O.set(native ? await coreNative(ctx, Ps, s.n, s.state, recurrent) : coreTs(ctx, Ps, s.n, s.state, recurrent), row * hd);
    row += s.n;
  }
  const normed = rmsNorm(O, await ctx.store.vector(`${p}norm.weight`, hd), N, hd, ctx.config.lightningNormEps, ctx.bf16);
  const G = await linear(ctx, `${p}output_gate.weight`, u, N);
  for (let i = 0; i < G.length; i++) {
    const g = ctx.bf16 ? bf16(sigmoid(G[i]!)) : sigmoid(G[i]!);
    G[i] = g * normed[i]!;
  }
  maybeRound(ctx, G);
  return linear(ctx, `${p}out_proj.weight`, G, N);
}
