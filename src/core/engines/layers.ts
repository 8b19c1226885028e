/**
 * The layers an engine builds for MiniMax-M1, named as the engine names them (pure). vLLM's and SGLang's
 * `minimax_text_01.py` (`MiniMaxText01DecoderLayer.__init__`) pass the decoder layer's own prefix
 * `model.layers.N` to both the attention module and `MiniMaxText01MoE`, so:
 * - lightning `self_attn.{qkv_proj,output_gate,out_proj}` → `model.layers.N.{qkv_proj,output_gate,out_proj}`;
 * - softmax `self_attn.{q,k,v}_proj` → one `QKVParallelLinear` `model.layers.N.qkv_proj`, `o_proj` → `model.layers.N.o_proj`;
 * - the 32 experts' w1/w2/w3 → one `FusedMoE` `model.layers.N.experts`;
 * - the router `block_sparse_moe.gate` → `ReplicatedLinear` `model.layers.N.gate` built with `quant_config=None`;
 * - `lm_head` (`ParallelLMHead`) and `embed_tokens` get no quantization config.
 */
import { classify, type Role } from '../pipeline/geometry.js';
import { layerPrefix } from '../arch/minimax-m1/tensors.js';

export type EngineLayerKind = 'linear' | 'fused_moe' | 'never_quantized';

export interface EngineLayer {
  /** The engine's module prefix, e.g. `model.layers.3.qkv_proj` or `model.layers.3.experts`. */
  prefix: string;
  kind: EngineLayerKind;
  /** HF module names (checkpoint side) whose weights this layer loads. */
  hf: string[];
}

const ATTN_TO_ENGINE: Partial<Record<Role, string>> = {
  qkv: 'qkv_proj',
  output_gate: 'output_gate',
  out_proj: 'out_proj',
  q: 'qkv_proj',
  k: 'qkv_proj',
  v: 'qkv_proj',
  o: 'o_proj',
};

/**
 * Engine layers (vLLM ≤ 0.23 and SGLang share this naming) for the HF weight names given, e.g. the keys
 * of a `model.safetensors.index.json`. Names that are not 2-D Linear weights (norms) are left out.
 * @example engineLayers(['model.layers.0.self_attn.qkv_proj.weight'])[0].prefix // 'model.layers.0.qkv_proj'
 */
export function engineLayers(weightNames: Iterable<string>): EngineLayer[] {
  const byPrefix = new Map<string, EngineLayer>();
  const add = (prefix: string, kind: EngineLayerKind, hf: string) => {
    const l = byPrefix.get(prefix) ?? { prefix, kind, hf: [] };
    if (!l.hf.includes(hf)) l.hf.push(hf);
    byPrefix.set(prefix, l);
  };
  for (const name of weightNames) {
    const info = classify(name);
    if (!info) continue;
    const layer = info.layer === undefined ? '' : layerPrefix(info.layer).slice(0, -1);
    const attn = ATTN_TO_ENGINE[info.role];
    if (attn) add(`${layer}.${attn}`, 'linear', info.module);
    else if (info.role === 'w1' || info.role === 'w2' || info.role === 'w3') add(`${layer}.experts`, 'fused_moe', info.module);
    else if (info.role === 'router') add(`${layer}.gate`, 'never_quantized', info.module);
    else if (info.role === 'lm_head' || info.role === 'embed') add(info.module, 'never_quantized', info.module);
  }
  return [...byPrefix.values()];
}

/**
 * HF module names and the engine names of the same unquantized Linear modules, the list an
 * `ignore`/`modules_to_not_convert` must cover. The engine's fused `qkv_proj` of a softmax layer is
 * listed together with its shards `q_proj`/`k_proj`/`v_proj` (for the lightning `qkv_proj` too), which
 * is what the engines check when the model declares a packed mapping for `qkv_proj`.
 */
export function engineNamesOf(hfModule: string): string[] {
  const info = classify(`${hfModule}.weight`);
  if (!info || info.layer === undefined) return [];
  const layer = layerPrefix(info.layer).slice(0, -1);
  if (info.role === 'qkv' || info.role === 'q' || info.role === 'k' || info.role === 'v') return ['qkv_proj', 'q_proj', 'k_proj', 'v_proj'].map((p) => `${layer}.${p}`);
  const attn = ATTN_TO_ENGINE[info.role];
  if (attn) return [`${layer}.${attn}`];
  if (info.role === 'router') return [`${layer}.gate`];
  if (info.role === 'w1' || info.role === 'w2' || info.role === 'w3') return [`${layer}.experts`];
  return [];
}
