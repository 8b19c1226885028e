/**
 * MiniMax-M1 → llama.cpp `minimax-01`: which configurations llama.cpp can run, the metadata keys,
 * and the tensor plan (GGUF name, dims, type, HF sources, fold factor). Pure: no I/O.
 * The contract is documented in docs/gguf.md; ne is the PyTorch shape reversed.
 */
import type { M1Config } from '../checkpoint/config.js';
import { InputError } from '../errors.js';
import { GGUF_ARCH, ggufLayerPrefix, type GgufName, type TensorRole } from '../arch/minimax-m1/gguf.js';
import { familyOfConfig } from '../arch/registry.js';
import { EXPERT_ROLES, roleShape, roleWeight } from '../arch/minimax-m1/tensors.js';
import { FILE_TYPE, type GgmlType, type GgufKv } from './format.js';
import type { ResidualFold } from './fold.js';

export { GGUF_ARCH, type TensorRole };
export type GgufDtype = 'f32' | 'f16' | 'bf16' | 'q8_0' | 'q4_0';
export const GGUF_DTYPES: readonly GgufDtype[] = ['f32', 'f16', 'bf16', 'q8_0', 'q4_0'];

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
  const out: PlannedTensor[] = [];
  const add = (prefix: string, n: GgufName, l: number): void => {
    const sourceShape = roleShape(c, n.role);
    const stacked = EXPERT_ROLES.has(n.role);
    const sources = stacked ? Array.from({ length: c.numExperts }, (_, e) => roleWeight(n.role, l, e)) : [roleWeight(n.role, l)];
    const ne = [...sourceShape].reverse();
    if (stacked) ne.push(sources.length);
    const scale = n.fold ? fold.layers[l]![n.fold.block][n.fold.part] : 1;
    out.push({ name: `${prefix}${n.gguf}.weight`, ne, type: tensorType(dtype, n.type, ne[0]!), role: n.type, sources, sourceShape, scale });
  };
  const names = familyOfConfig(c.raw).gguf;
  for (const n of names.head) add('', n, 0);
  for (let l = 0; l < c.numLayers; l++) for (const n of names.layer[c.attnTypes[l]!]!) add(ggufLayerPrefix(l), n, l);
  for (const n of names.tail) if (n.role !== 'lm_head' || hasLmHead) add('', n, 0);
  return out;
}
