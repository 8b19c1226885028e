/**
 * MiniMax-M1 → llama.cpp `minimax-01`: which configurations llama.cpp can run, the metadata keys,
 * and the tensor plan (GGUF name, dims, type, HF sources, fold factor). Pure: no I/O.
 * The contract is documented in docs/gguf.md; ne is the PyTorch shape reversed.
 */
import type { M1Config } from '../checkpoint/config.js';
import { InputError } from '../errors.js';
import { FILE_TYPE, type GgmlType, type GgufKv } from './format.js';
import type { ResidualFold } from './fold.js';

export const GGUF_ARCH = 'minimax-01';
export type GgufDtype = 'f32' | 'f16' | 'bf16' | 'q8_0' | 'q4_0';
export const GGUF_DTYPES: readonly GgufDtype[] = ['f32', 'f16', 'bf16', 'q8_0', 'q4_0'];

/** Role of a tensor, which decides its type for a requested dtype. */
export type TensorRole = 'norm' | 'router' | 'matrix' | 'output';

/** Requested dtype → ggml type of each role. Norms and the router stay F32 in every mode; with q4_0 the LM head is Q8_0. */
const TYPE_TABLE: Record<GgufDtype, Record<TensorRole, GgmlType>> = {
  f32: { norm: 'F32', router: 'F32', matrix: 'F32', output: 'F32' },
  f16: { norm: 'F32', router: 'F32', matrix: 'F16', output: 'F16' },
  bf16: { norm: 'F32', router: 'F32', matrix: 'BF16', output: 'BF16' },
  q8_0: { norm: 'F32', router: 'F32', matrix: 'Q8_0', output: 'Q8_0' },
  q4_0: { norm: 'F32', router: 'F32', matrix: 'Q4_0', output: 'Q8_0' },
};
export const MAIN_TYPE: Record<GgufDtype, GgmlType> = { f32: 'F32', f16: 'F16', bf16: 'BF16', q8_0: 'Q8_0', q4_0: 'Q4_0' };

/** Type of a tensor; block-quantized types need rows that are a multiple of 32, else F16 (as llama.cpp's converter does). */
export function tensorType(dtype: GgufDtype, role: TensorRole, rowLength: number): GgmlType {
  const t = TYPE_TABLE[dtype][role];
  return (t === 'Q8_0' || t === 'Q4_0') && rowLength % 32 !== 0 ? 'F16' : t;
}

export interface PlannedTensor {
  name: string;
  ne: number[];
  type: GgmlType;
  role: TensorRole;
  /** HF tensor names; several = experts stacked along the slowest GGUF dim, in this order. */
  sources: string[];
  /** Expected PyTorch shape of every source. */
  sourceShape: number[];
  /** Multiplier applied to the weights (residual fold; 1 = bytes unchanged). */
  scale: number;
}

/** Refuse configurations llama.cpp's minimax-01 cannot compute. */
export function assertConvertible(c: M1Config, file = 'config.json'): void {
  const refuse = (msg: string): never => { throw new InputError('E_GGUF_UNSUPPORTED', `${file}: ${msg}`); };
  if (c.sharedIntermediateSize > 0) refuse(`shared_intermediate_size = ${c.sharedIntermediateSize}: llama.cpp minimax-01 has no shared expert`);
  if (!c.postnorm) refuse('postnorm = false: llama.cpp minimax-01 always uses the post-norm residual');
  if (!Number.isInteger(Math.log2(c.numHeads))) refuse(`num_attention_heads = ${c.numHeads} is not a power of two: llama.cpp's lightning slopes differ from the model's for such head counts`);
  // (Both layer types present also means L ≥ 2, which llama.cpp's slope factor 1 - l/(L-1) needs.)
  // llama.cpp's hybrid memory allocates one buffer for the softmax layers' KV cache and one for the
  // lightning layers' state; an empty one aborts the process at the first evaluation (GGML_ASSERT(buffer)).
  if (!c.attnTypes.includes(1)) refuse('no softmax-attention layer: llama.cpp minimax-01 aborts at the first evaluation when its KV cache has no layers');
  if (!c.attnTypes.includes(0)) refuse('no lightning-attention layer: llama.cpp minimax-01 aborts at the first evaluation when its recurrent state has no layers');
}

/** Metadata KVs for the model part (prefix `minimax-01.`) plus `general.*`. */
export function modelMetadata(c: M1Config, fold: ResidualFold, dtype: GgufDtype, name: string): GgufKv[] {
  const a = (k: string): string => `${GGUF_ARCH}.${k}`;
  const u32 = (key: string, value: number): GgufKv => ({ key, type: 'UINT32', value });
  const f32 = (key: string, value: number): GgufKv => ({ key, type: 'FLOAT32', value });
  const kvs: GgufKv[] = [
    { key: 'general.architecture', type: 'STRING', value: GGUF_ARCH },
    { key: 'general.name', type: 'STRING', value: name },
    u32('general.file_type', FILE_TYPE[MAIN_TYPE[dtype]]),
    u32('general.quantization_version', 2),
    u32(a('context_length'), c.maxPositionEmbeddings),
    u32(a('embedding_length'), c.hiddenSize),
    u32(a('block_count'), c.numLayers),
    u32(a('feed_forward_length'), c.intermediateSize),
    u32(a('attention.head_count'), c.numHeads),
    u32(a('attention.head_count_kv'), c.numKvHeads),
    u32(a('attention.key_length'), c.headDim),
    u32(a('attention.value_length'), c.headDim),
    u32(a('rope.dimension_count'), c.rotaryDim),
    f32(a('rope.freq_base'), c.ropeTheta),
    f32(a('attention.layer_norm_rms_epsilon'), c.rmsNormEps),
    u32(a('expert_count'), c.numExperts),
    u32(a('expert_used_count'), c.expertsPerTok),
    f32(a('residual_scale'), fold.residualScale),
    // true = lightning (recurrent) layer; written for every pattern so llama.cpp never falls back to "every 8th".
    { key: a('attention.recurrent_layers'), type: 'ARRAY', itemType: 'BOOL', values: c.attnTypes.map((t) => t === 0) },
  ];
  return kvs;
}

/**
 * The tensor plan, in file order: token_embd, per layer (attention, norms, router, experts), output_norm, output.
 * `hasLmHead` is whether `lm_head.weight` exists (if not, llama.cpp reuses token_embd).
 */
export function tensorPlan(c: M1Config, fold: ResidualFold, dtype: GgufDtype, hasLmHead: boolean): PlannedTensor[] {
  const H = c.hiddenSize, V = c.vocabSize, I = c.intermediateSize, E = c.numExperts;
  const q = c.numHeads * c.headDim, kv = c.numKvHeads * c.headDim;
  const out: PlannedTensor[] = [];
  const add = (name: string, role: TensorRole, sourceShape: number[], sources: string[], scale = 1, stacked = false): void => {
    const ne = [...sourceShape].reverse();
    if (stacked) ne.push(sources.length);
    out.push({ name, ne, type: tensorType(dtype, role, ne[0]!), role, sources, sourceShape, scale });
  };
  add('token_embd.weight', 'matrix', [V, H], ['model.embed_tokens.weight']);
  for (let l = 0; l < c.numLayers; l++) {
    const hf = `model.layers.${l}.`, g = `blk.${l}.`;
    const f = fold.layers[l]!;
    add(`${g}attn_norm.weight`, 'norm', [H], [`${hf}input_layernorm.weight`], f.attn.norm);
    if (c.attnTypes[l] === 0) {
      add(`${g}attn_qkv.weight`, 'matrix', [3 * q, H], [`${hf}self_attn.qkv_proj.weight`], f.attn.input);
      add(`${g}attn_gate.weight`, 'matrix', [q, H], [`${hf}self_attn.output_gate.weight`], f.attn.input);
      add(`${g}attn_norm_2.weight`, 'norm', [q], [`${hf}self_attn.norm.weight`]);
      add(`${g}attn_output.weight`, 'matrix', [H, q], [`${hf}self_attn.out_proj.weight`], f.attn.output);
    } else {
      add(`${g}attn_q.weight`, 'matrix', [q, H], [`${hf}self_attn.q_proj.weight`], f.attn.input);
      add(`${g}attn_k.weight`, 'matrix', [kv, H], [`${hf}self_attn.k_proj.weight`], f.attn.input);
      add(`${g}attn_v.weight`, 'matrix', [kv, H], [`${hf}self_attn.v_proj.weight`], f.attn.input);
      add(`${g}attn_output.weight`, 'matrix', [H, q], [`${hf}self_attn.o_proj.weight`], f.attn.output);
    }
    add(`${g}ffn_norm.weight`, 'norm', [H], [`${hf}post_attention_layernorm.weight`], f.mlp.norm);
    add(`${g}ffn_gate_inp.weight`, 'router', [E, H], [`${hf}block_sparse_moe.gate.weight`], f.mlp.input);
    const experts = (w: string): string[] => Array.from({ length: E }, (_, e) => `${hf}block_sparse_moe.experts.${e}.${w}.weight`);
    add(`${g}ffn_gate_exps.weight`, 'matrix', [I, H], experts('w1'), f.mlp.input, true);
    add(`${g}ffn_up_exps.weight`, 'matrix', [I, H], experts('w3'), f.mlp.input, true);
    add(`${g}ffn_down_exps.weight`, 'matrix', [H, I], experts('w2'), f.mlp.output, true);
  }
  add('output_norm.weight', 'norm', [H], ['model.norm.weight']);
  if (hasLmHead) add('output.weight', 'output', [V, H], ['lm_head.weight']);
  return out;
}
