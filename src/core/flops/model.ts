/**
 * FLOPs and bytes under the "physical" convention (docs/architecture.md §5.1, §5.3, §5.6):
 * 1 MAC = 2 FLOPs; only matmul-like work; embedding lookup free; LM head 2·V·H per token with logits;
 * router excluded; decode at context n attends to n keys; prefill of n tokens has n(n+1)/2 causal pairs.
 * Pure functions of an ArchSpec.
 */
import { countParams, type ArchSpec, type AttentionSpec } from '../arch/spec.js';

/** How MLA attention is counted: expanded heads ("naive") or weight-absorbed latent attention. */
export type MlaMode = 'naive' | 'absorbed';

/** Bytes per cached K/V element (bf16) and per lightning-state element (fp32), per docs/architecture.md §5.6. */
export const KV_BYTES_PER_ELEMENT = 2;
export const STATE_BYTES_PER_ELEMENT = 4;
/** Weights assumed stored in bf16 for the bytes-read model. */
export const WEIGHT_BYTES_PER_PARAM = 2;

export interface CostConstants {
  /** Non-embedding activated matmul parameters N_body. */
  nBody: number;
  /** LM head V·H. */
  lmHead: number;
  /** 2·(N_body + V·H): matmul FLOPs per token with logits, excluding attention over keys and lightning. */
  linearPerToken: number;
  /** A: attention FLOPs per (query, key) pair summed over softmax layers (MLA as chosen). */
  attnPair: number;
  /** Lightning decode FLOPs per token, all lightning layers: Σ 4·h·d². */
  lightningDecode: number;
  /** Lightning block-prefill FLOPs per token, all layers, dense diagonal blocks: Σ (4·h·d² + 4·h·B·d). */
  lightningPrefill: number;
  /** Same with the causal half of the diagonal blocks skipped: Σ (4·h·d² + 2·h·B·d). */
  lightningPrefillCausalSkip: number;
  /** KV-cache bytes per token (bf16 K and V, or MLA latent + rope key). */
  kvBytesPerToken: number;
  /** Constant recurrent-state bytes (fp32 h·d·d per lightning layer). */
  stateBytes: number;
  /** Bytes of weights read per decoded token (bf16 N_body + LM head). */
  weightBytesPerToken: number;
}

/** What one layer of each attention kind adds to the per-model constants. */
type LayerCosts = Pick<CostConstants, 'attnPair' | 'lightningDecode' | 'lightningPrefill' | 'lightningPrefillCausalSkip'> & { kvBytes: number; stateBytes: number };

/** Softmax layers (GQA, MLA): attention over keys and a KV cache, no recurrent state. */
const NO_RECURRENCE = { lightningDecode: 0, lightningPrefill: 0, lightningPrefillCausalSkip: 0, stateBytes: 0 };

function layerCosts(a: AttentionSpec, mla: MlaMode): LayerCosts {
  switch (a.kind) {
    case 'lightning': {
      const hd2 = 4 * a.heads * a.headDim * a.headDim;
      return {
        attnPair: 0,
        kvBytes: 0,
        lightningDecode: hd2,
        lightningPrefill: hd2 + 4 * a.heads * a.blockSize * a.headDim,
        lightningPrefillCausalSkip: hd2 + 2 * a.heads * a.blockSize * a.headDim,
        stateBytes: a.heads * a.headDim * a.headDim * STATE_BYTES_PER_ELEMENT,
      };
    }
    case 'gqa':
      // QKᵀ 2·h·d + PV 2·h·d
      return { ...NO_RECURRENCE, attnPair: 4 * a.heads * a.headDim, kvBytes: 2 * a.kvHeads * a.headDim * KV_BYTES_PER_ELEMENT };
    case 'mla':
      return {
        ...NO_RECURRENCE,
        attnPair:
          mla === 'naive'
            ? 2 * a.heads * (a.qkNopeDim + a.qkRopeDim + a.vHeadDim)
            : 2 * a.heads * (a.kvLoraRank + a.qkRopeDim + a.kvLoraRank), // scores over 576-dim latent keys, values 512
        kvBytes: (a.kvLoraRank + a.qkRopeDim) * KV_BYTES_PER_ELEMENT,
      };
  }
}

/**
 * Per-model constants of §5.2: each layer group's costs times its layer count, summed.
 * @example costConstants(QWEN3_235B).linearPerToken // 43,036,704,768
 */
export function costConstants(arch: ArchSpec, mla: MlaMode = 'naive'): CostConstants {
  const p = countParams(arch);
  const sum: LayerCosts = { attnPair: 0, kvBytes: 0, ...NO_RECURRENCE };
  for (const g of arch.layers) {
    const c = layerCosts(g.attention, mla);
    for (const k of Object.keys(sum) as (keyof LayerCosts)[]) sum[k] += g.count * c[k];
  }
  return {
    nBody: p.activeBody,
    lmHead: p.lmHead,
    linearPerToken: 2 * (p.activeBody + p.lmHead),
    attnPair: sum.attnPair,
    lightningDecode: sum.lightningDecode,
    lightningPrefill: sum.lightningPrefill,
    lightningPrefillCausalSkip: sum.lightningPrefillCausalSkip,
    kvBytesPerToken: sum.kvBytes,
    stateBytes: sum.stateBytes,
    weightBytesPerToken: (p.activeBody + p.lmHead) * WEIGHT_BYTES_PER_PARAM,
  };
}

/** F_dec(n) = C_lin + A·n + lightning decode: FLOPs of decoding one token at context n (n keys). */
export const decodeFlops = (k: CostConstants, n: number): number => k.linearPerToken + k.attnPair * n + k.lightningDecode;

/** F_pre(n) = 2·N_body·n + 2·V·H + A·n(n+1)/2 + lightning block prefill·n (logits for the last token only). */
export const prefillFlops = (k: CostConstants, n: number): number =>
  2 * k.nBody * n + 2 * k.lmHead + (k.attnPair * n * (n + 1)) / 2 + k.lightningPrefill * n;

/** F_gen(n) = Σ_{t=1..n} F_dec(t) = (C_lin + lightning)·n + A·n(n+1)/2: generating n tokens from an empty prompt. */
export const generationFlops = (k: CostConstants, n: number): number =>
  (k.linearPerToken + k.lightningDecode) * n + (k.attnPair * n * (n + 1)) / 2;

/** KV-cache bytes after n tokens (lightning state excluded; it is constant: `stateBytes`). */
export const kvCacheBytes = (k: CostConstants, n: number): number => k.kvBytesPerToken * n;

/** Bytes moved to decode one token at context n: weights + whole KV cache + state read and write. */
export const decodeBytes = (k: CostConstants, n: number): number => k.weightBytesPerToken + k.kvBytesPerToken * n + 2 * k.stateBytes;

/** F(n) = linear·n + quadratic·n² — the shape of every cumulative-generation curve here. */
export interface QuadraticCurve {
  linear: number;
  quadratic: number;
}

export const evalCurve = (c: QuadraticCurve, n: number): number => c.linear * n + c.quadratic * n * n;

/** The physical generation curve as linear/quadratic coefficients (A·n(n+1)/2 split into both terms). */
export const generationCurve = (k: CostConstants): QuadraticCurve => ({
  linear: k.linearPerToken + k.lightningDecode + k.attnPair / 2,
  quadratic: k.attnPair / 2,
});

/**
 * Smallest n ≥ 0 above which curve a costs less than `ratio` × curve b (null if never or always).
 * F_a(n) < r·F_b(n) ⇔ a.lin + a.quad·n < r·(b.lin + b.quad·n) for n > 0.
 */
export function crossover(a: QuadraticCurve, b: QuadraticCurve, ratio: number): number | null {
  const slope = a.quadratic - ratio * b.quadratic;
  const offset = ratio * b.linear - a.linear;
  if (slope >= 0) return null; // a grows at least as fast: never drops below for large n
  const n = offset / slope;
  return n > 0 ? n : 0;
}
