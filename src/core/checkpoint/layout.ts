/**
 * The tensor set of a MiniMax-M1 checkpoint derived from its config (names, shapes, dtypes as released:
 * BF16 everywhere except the F32 routers), and the completeness check against what a checkpoint holds.
 */
import type { DType } from '../dtype/dtypes.js';
import type { TensorSpec } from '../safetensors/writer.js';
import type { M1Config } from './config.js';

export const layerPrefix = (l: number): string => `model.layers.${l}.`;
export const expertPrefix = (l: number, e: number): string => `${layerPrefix(l)}block_sparse_moe.experts.${e}.`;
export const ROUTER_SUFFIX = 'block_sparse_moe.gate.weight';

/** Tensors of one decoder layer, grouped: norms, attention, router, experts in index order (w1, w3, w2). */
export function layerTensors(c: M1Config, l: number, weightDtype: DType = 'BF16'): TensorSpec[] {
  const H = c.hiddenSize;
  const hd = c.numHeads * c.headDim;
  const kvd = c.numKvHeads * c.headDim;
  const p = layerPrefix(l);
  const t = (name: string, shape: number[], dtype: DType = weightDtype): TensorSpec => ({ name: p + name, dtype, shape });
  const out: TensorSpec[] = [t('input_layernorm.weight', [H])];
  if (c.attnTypes[l] === 0) {
    out.push(t('self_attn.qkv_proj.weight', [3 * hd, H]), t('self_attn.output_gate.weight', [hd, H]), t('self_attn.norm.weight', [hd]), t('self_attn.out_proj.weight', [H, hd]));
  } else {
    out.push(t('self_attn.q_proj.weight', [hd, H]), t('self_attn.k_proj.weight', [kvd, H]), t('self_attn.v_proj.weight', [kvd, H]), t('self_attn.o_proj.weight', [H, hd]));
  }
  out.push(t('post_attention_layernorm.weight', [H]), t(ROUTER_SUFFIX, [c.numExperts, H], 'F32'));
  for (let e = 0; e < c.numExperts; e++) {
    const ep = `block_sparse_moe.experts.${e}.`;
    out.push(t(ep + 'w1.weight', [c.intermediateSize, H]), t(ep + 'w3.weight', [c.intermediateSize, H]), t(ep + 'w2.weight', [H, c.intermediateSize]));
  }
  return out;
}

/** Every tensor the config implies, in a locality-friendly order (embedding, layers 0..L-1, final norm, LM head). */
export function expectedTensors(c: M1Config, weightDtype: DType = 'BF16'): TensorSpec[] {
  const out: TensorSpec[] = [{ name: 'model.embed_tokens.weight', dtype: weightDtype, shape: [c.vocabSize, c.hiddenSize] }];
  for (let l = 0; l < c.numLayers; l++) out.push(...layerTensors(c, l, weightDtype));
  out.push({ name: 'model.norm.weight', dtype: weightDtype, shape: [c.hiddenSize] });
  if (!c.tieWordEmbeddings) out.push({ name: 'lm_head.weight', dtype: weightDtype, shape: [c.vocabSize, c.hiddenSize] });
  return out;
}

export type ProblemKind = 'missing' | 'unexpected' | 'shape' | 'dtype' | 'architecture' | 'quantization';
export interface Problem {
  kind: ProblemKind;
  tensor: string;
  expected?: string;
  found?: string;
  message: string;
}

/**
 * Compare what a checkpoint holds with what the config implies. `allowDtypes` lists dtypes accepted
 * for weights besides the expected one (e.g. a converted fp16 checkpoint); routers may be F32 or the weight dtype.
 * Tensors of quantized checkpoints (`*.weight_scale_inv`, `*.weight_scale`, …) are not flagged.
 */
export function checkCompleteness(
  c: M1Config,
  actual: Map<string, { dtype: DType; shape: number[] }>,
  opts: { allowDtypes?: DType[]; quantized?: boolean } = {},
): Problem[] {
  return compareTensors(expectedTensors(c), actual, opts);
}

/** Compare what a checkpoint holds with an expected tensor list (see checkCompleteness). */
export function compareTensors(
  expected: TensorSpec[],
  actual: Map<string, { dtype: DType; shape: number[] }>,
  opts: { allowDtypes?: DType[]; quantized?: boolean } = {},
): Problem[] {
  const problems: Problem[] = [];
  const names = new Set(expected.map((t) => t.name));
  const allowed = new Set<DType>(['BF16', ...(opts.allowDtypes ?? [])]);
  for (const t of expected) {
    const a = actual.get(t.name) ?? (opts.quantized ? actual.get(t.name.replace(/\.weight$/, '.weight_packed')) : undefined);
    if (!a) {
      problems.push({ kind: 'missing', tensor: t.name, expected: `${t.dtype} ${JSON.stringify(t.shape)}`, message: `missing tensor "${t.name}" (expected ${t.dtype} ${JSON.stringify(t.shape)})` });
      continue;
    }
    const quantizedTensor = opts.quantized && a.dtype !== t.dtype && !allowed.has(a.dtype);
    if (!quantizedTensor && JSON.stringify(a.shape) !== JSON.stringify(t.shape)) {
      problems.push({ kind: 'shape', tensor: t.name, expected: JSON.stringify(t.shape), found: JSON.stringify(a.shape), message: `tensor "${t.name}" has shape ${JSON.stringify(a.shape)}, expected ${JSON.stringify(t.shape)}` });
    }
    const okDtype = t.name.endsWith(ROUTER_SUFFIX) ? a.dtype === 'F32' || allowed.has(a.dtype) : allowed.has(a.dtype) || Boolean(quantizedTensor);
    if (!okDtype) {
      problems.push({ kind: 'dtype', tensor: t.name, expected: t.dtype, found: a.dtype, message: `tensor "${t.name}" has dtype ${a.dtype}, expected ${t.dtype}` });
    }
  }
  for (const name of actual.keys()) {
    if (names.has(name)) continue;
    if (opts.quantized && /\.(weight_scale_inv|weight_scale|weight_shape|weight_zero_point|weight_packed)$/.test(name)) continue;
    problems.push({ kind: 'unexpected', tensor: name, message: `unexpected tensor "${name}" (not implied by config.json)` });
  }
  return problems;
}
