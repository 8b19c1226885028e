/**
 * Serving memory plan (pure): weight bytes per GPU for a tensor-/expert-parallel layout, KV-cache bytes of
 * the softmax layers at a context length, and the constant lightning-attention state — for bf16 and for
 * each quantized storage format m1kit writes (quantizing expert and attention projection matrices).
 *
 * Layout rules (as vLLM serves MiniMax-M1): attention projections and the inner norm are split over `tp`
 * ranks by heads; embedding and LM head are vocab-parallel over `tp`; experts are TP-split over `tp`
 * ranks when ep = 1, else partitioned whole over `ep` ranks; routers and norms are replicated.
 * KV heads are split over min(tp, kv_heads) ranks (replicated beyond). The lightning state is fp32
 * (vLLM ≥ 0.9.2) and split by heads.
 */
import type { M1Config } from '../checkpoint/config.js';
import { layerTensors } from '../arch/minimax-m1/tensors.js';
import { formatOf, SCHEME_IDS, storedBytes, type SchemeId } from '../formats/index.js';

/** `bf16` or a quant format's registry id. */
export type StorageFormat = 'bf16' | SchemeId;
export const STORAGE_FORMATS: StorageFormat[] = ['bf16', ...SCHEME_IDS];

/** Bytes of one [out, in] matrix stored in `fmt` (scales included: the format's stored tensors at its default group). */
export function matrixBytes(out: number, inp: number, fmt: StorageFormat): number {
  return fmt === 'bf16' ? out * inp * 2 : storedBytes(formatOf(fmt), out, inp);
}

export interface MemoryPlanParams {
  tp: number;
  ep: number;
  ctx: number;
  /** Concurrent sequences (each has its own KV cache and lightning state). */
  batch?: number;
}

export interface FormatPlan {
  format: StorageFormat;
  weightBytesTotal: number;
  weightBytesPerGpu: number;
}

export interface MemoryPlan {
  tp: number;
  ep: number;
  gpus: number;
  ctx: number;
  batch: number;
  formats: FormatPlan[];
  kvCacheBytesPerToken: number;
  kvCacheBytesTotal: number;
  kvCacheBytesPerGpu: number;
  lightningStateBytesTotal: number;
  lightningStateBytesPerGpu: number;
  /** bf16 weights + KV + state per GPU. */
  totalBytesPerGpuBf16: number;
  /** Layout constraints the plan violates (the figures are then approximate). */
  warnings: string[];
}

const isQuantTarget = (name: string) => /\.(qkv_proj|output_gate|out_proj|q_proj|k_proj|v_proj|o_proj|w1|w2|w3)\.weight$/.test(name);

export function memoryPlan(c: M1Config, p: MemoryPlanParams): MemoryPlan {
  const batch = p.batch ?? 1;
  const gpus = Math.max(p.tp, p.ep);
  const formats = STORAGE_FORMATS.map((format) => {
    let total = 0;
    let perGpu = 0;
    const embed = c.vocabSize * c.hiddenSize * 2 * (c.tieWordEmbeddings ? 1 : 2);
    total += embed + c.hiddenSize * 2;
    perGpu += embed / p.tp + c.hiddenSize * 2;
    for (let l = 0; l < c.numLayers; l++) {
      for (const t of layerTensors(c, l)) {
        const bytes = t.shape.length === 2 && isQuantTarget(t.name) ? matrixBytes(t.shape[0]!, t.shape[1]!, format) : t.shape.reduce((a, b) => a * b, 1) * (t.dtype === 'F32' ? 4 : 2);
        total += bytes;
        if (t.name.includes('.experts.')) perGpu += p.ep > 1 ? bytes / p.ep : bytes / p.tp;
        else if (t.name.includes('.self_attn.')) perGpu += bytes / p.tp;
        else perGpu += bytes; // norms, router: replicated
      }
    }
    return { format, weightBytesTotal: total, weightBytesPerGpu: Math.ceil(perGpu) };
  });
  const nSoftmax = c.attnTypes.filter((t) => t === 1).length;
  const nLin = c.numLayers - nSoftmax;
  const kvPerToken = nSoftmax * 2 * c.numKvHeads * c.headDim * 2;
  const kvTotal = kvPerToken * p.ctx * batch;
  const kvSplit = Math.min(p.tp, c.numKvHeads);
  const state = nLin * c.numHeads * c.headDim * c.headDim * 4 * batch;
  const kvPerGpu = Math.ceil(kvTotal / kvSplit);
  const statePerGpu = Math.ceil(state / Math.min(p.tp, c.numHeads));
  return {
    tp: p.tp,
    ep: p.ep,
    gpus,
    ctx: p.ctx,
    batch,
    formats,
    kvCacheBytesPerToken: kvPerToken,
    kvCacheBytesTotal: kvTotal,
    kvCacheBytesPerGpu: kvPerGpu,
    lightningStateBytesTotal: state,
    lightningStateBytesPerGpu: statePerGpu,
    totalBytesPerGpuBf16: formats[0]!.weightBytesPerGpu + kvPerGpu + statePerGpu,
    warnings: layoutWarnings(c, p),
  };
}

function layoutWarnings(c: M1Config, p: MemoryPlanParams): string[] {
  const w: string[] = [];
  if (c.numHeads % p.tp !== 0) w.push(`num_attention_heads ${c.numHeads} is not divisible by tp ${p.tp}`);
  if (p.tp > c.numKvHeads) w.push(`tp ${p.tp} > num_key_value_heads ${c.numKvHeads}: KV heads are replicated`);
  if (p.ep > 1 && c.numExperts % p.ep !== 0) w.push(`num_local_experts ${c.numExperts} is not divisible by ep ${p.ep}`);
  if (p.ep === 1 && (c.intermediateSize / p.tp) % 128 !== 0) w.push(`intermediate_size/tp = ${c.intermediateSize / p.tp} is not a multiple of 128 (block FP8 experts need it)`);
  return w;
}
