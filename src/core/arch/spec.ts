/**
 * A model architecture described as data, just detailed enough to count parameters, FLOPs and cache
 * bytes (docs/architecture.md §5). One description covers MiniMax-M1 (lightning + GQA softmax layers),
 * DeepSeek-R1 (MLA, dense + MoE FFN) and Qwen3 (GQA, MoE). Pure: no I/O.
 *
 * Convention: a Linear with weight [out, in] has out·in parameters; there are no biases in these models.
 */

/** Lightning (linear) attention: fused qkv [3·h·d, H], output gate [h·d, H], out_proj [H, h·d], norm [h·d]. */
export interface LightningAttention {
  kind: 'lightning';
  heads: number;
  headDim: number;
  /** Block size B of the block-form prefill (256 in the official code). */
  blockSize: number;
}

/** Softmax attention with grouped K/V heads: q [h·d, H], k and v [g·d, H], o [H, h·d]; optional per-head q/k norms. */
export interface GqaAttention {
  kind: 'gqa';
  heads: number;
  kvHeads: number;
  headDim: number;
  /** q_norm and k_norm of size headDim (Qwen3); not a matmul. */
  qkNorm?: boolean;
}

/** DeepSeek multi-head latent attention (MLA), LoRA-compressed q and kv. */
export interface MlaAttention {
  kind: 'mla';
  heads: number;
  qLoraRank: number;
  kvLoraRank: number;
  qkNopeDim: number;
  qkRopeDim: number;
  vHeadDim: number;
}

export type AttentionSpec = LightningAttention | GqaAttention | MlaAttention;

/** Gated FFN (SiLU(W1 x) ⊙ W3 x, then W2): 3·H·I parameters. */
export interface DenseFfn {
  kind: 'dense';
  intermediate: number;
}

/** Mixture of experts: `topK` of `experts` routed experts (each 3·H·I) plus `shared` always-on experts. */
export interface MoeFfn {
  kind: 'moe';
  experts: number;
  topK: number;
  intermediate: number;
  shared: number;
  /** Width of each shared expert (default: `intermediate`). */
  sharedIntermediate?: number;
  /** Router has a per-expert score-correction bias (DeepSeek-V3/R1). */
  routerBias?: boolean;
}

export type FfnSpec = DenseFfn | MoeFfn;

/** `count` identical layers. */
export interface LayerGroup {
  count: number;
  attention: AttentionSpec;
  ffn: FfnSpec;
}

/** How the tech report's Figure 1 counted this model (docs/architecture.md §5.4); absent = the plain Figure-1 formulas. */
export interface Figure1Quirks {
  /** Quirk 1: the layout is replaced by `softmaxLayers` softmax and (L − softmaxLayers) lightning layers. */
  softmaxLayers?: number;
  /** Quirk 2: each lightning layer costs 2·(h·d)² per token, as if one (h·d)×(h·d) state were used. */
  lightningFullWidthState?: boolean;
  /** Quirk 3: this many dense-FFN layers are counted in addition to the MoE layers (R1: 3). */
  extraDenseFfnLayers?: { count: number; intermediate: number };
}

export interface ArchSpec {
  /** Stable id used in metric names (kebab-case). */
  id: string;
  /** Display name. */
  name: string;
  vocabSize: number;
  hiddenSize: number;
  tieWordEmbeddings: boolean;
  layers: LayerGroup[];
  /** Maximum context the model was released for (tokens); beyond it figures are extrapolations. */
  contextLimit: number;
  /** Where the numbers come from. */
  source: string;
  figure1?: Figure1Quirks;
}

/** Matmul parameters of one attention block (what a token multiplies through). */
export function attentionMatmulParams(a: AttentionSpec, H: number): number {
  switch (a.kind) {
    case 'lightning':
      return 5 * a.heads * a.headDim * H; // qkv (3), gate (1), out (1)
    case 'gqa':
      return 2 * a.heads * a.headDim * H + 2 * a.kvHeads * a.headDim * H;
    case 'mla': {
      const qk = a.qkNopeDim + a.qkRopeDim;
      return (
        H * a.qLoraRank + // wq_a
        a.qLoraRank * a.heads * qk + // wq_b
        H * (a.kvLoraRank + a.qkRopeDim) + // wkv_a
        a.kvLoraRank * a.heads * (a.qkNopeDim + a.vHeadDim) + // wkv_b
        a.heads * a.vHeadDim * H // wo
      );
    }
  }
}

/** Non-matmul parameters (norm weights) inside an attention block. */
export function attentionNormParams(a: AttentionSpec): number {
  switch (a.kind) {
    case 'lightning':
      return a.heads * a.headDim;
    case 'gqa':
      return a.qkNorm ? 2 * a.headDim : 0;
    case 'mla':
      return a.qLoraRank + a.kvLoraRank;
  }
}

/** Parameters of one expert / dense FFN of width I. */
export const ffnUnitParams = (I: number, H: number): number => 3 * H * I;

/** FFN parameters a token passes through (top-k + shared experts, or the dense FFN). */
export function ffnActiveParams(f: FfnSpec, H: number): number {
  if (f.kind === 'dense') return ffnUnitParams(f.intermediate, H);
  return f.topK * ffnUnitParams(f.intermediate, H) + sharedParams(f, H);
}

const sharedParams = (f: MoeFfn, H: number): number => f.shared * ffnUnitParams(f.sharedIntermediate ?? f.intermediate, H);

/** All FFN parameters of one layer, including the router. */
export function ffnTotalParams(f: FfnSpec, H: number): number {
  if (f.kind === 'dense') return ffnUnitParams(f.intermediate, H);
  return f.experts * ffnUnitParams(f.intermediate, H) + sharedParams(f, H) + f.experts * H + (f.routerBias ? f.experts : 0);
}

export interface ParamCounts {
  /** Every stored parameter (embedding, head, norms, routers, all experts). */
  total: number;
  /** Non-embedding matmul parameters a token touches (the paper's "activated" for M1): N_body. */
  activeBody: number;
  /** LM head V·H (tied or not, it is computed). */
  lmHead: number;
  /** Router matmul parameters a token touches (E·H per MoE layer). */
  routers: number;
  /** Norm parameters a token touches. */
  norms: number;
}

/**
 * Count parameters of an architecture.
 * @example countParams(minimaxArch(parseConfig(raw))).total // 456,089,655,296 for MiniMax-M1
 */
export function countParams(arch: ArchSpec): ParamCounts {
  const H = arch.hiddenSize;
  const VH = arch.vocabSize * H;
  let total = VH * (arch.tieWordEmbeddings ? 1 : 2) + H; // embedding (+ head) + final norm
  let activeBody = 0;
  let routers = 0;
  let norms = H;
  for (const g of arch.layers) {
    const attn = attentionMatmulParams(g.attention, H);
    const layerNorms = 2 * H + attentionNormParams(g.attention);
    total += g.count * (attn + layerNorms + ffnTotalParams(g.ffn, H));
    activeBody += g.count * (attn + ffnActiveParams(g.ffn, H));
    if (g.ffn.kind === 'moe') routers += g.count * g.ffn.experts * H;
    norms += g.count * layerNorms;
  }
  return { total, activeBody, lmHead: VH, routers, norms };
}

/** Number of layers whose attention is of the given kind. */
export const layersOfKind = (arch: ArchSpec, kind: AttentionSpec['kind']): number =>
  arch.layers.reduce((s, g) => s + (g.attention.kind === kind ? g.count : 0), 0);

export const totalLayers = (arch: ArchSpec): number => arch.layers.reduce((s, g) => s + g.count, 0);
