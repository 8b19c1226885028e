/**
 * How vLLM (≤ 0.23) decides, per layer, between the quantized and the unquantized method, re-implemented
 * from its source as pure functions so m1kit can check a `quantization_config` before anyone loads it.
 *
 * - `quant_method: "fp8"` — `vllm/model_executor/layers/quantization/fp8.py` `Fp8Config.from_config` reads
 *   `ignored_layers`, else `modules_to_not_convert`; `Fp8Config.get_quant_method` asks
 *   `utils/quant_utils.py` `is_layer_skipped(prefix, ignored, fused_mapping)`, which (a) for a fused
 *   projection (last component a key of the packed mapping) checks every shard name by exact membership and
 *   requires all shards to agree, (b) for a prefix containing "experts" (the `FusedMoE`) skips when the
 *   prefix is a substring of an ignored entry that itself contains "experts", (c) otherwise checks exact
 *   membership of the prefix.
 * - `quant_method: "compressed-tensors"` — `compressed_tensors/utils.py` `should_ignore_layer` (same fused
 *   shard rule, shards must agree) with `check_equal_or_regex_match`: an entry matches when it equals the
 *   name or starts with `re:` and the rest `re.match`es it (anchored at the start only). For a `FusedMoE`,
 *   `CompressedTensorsConfig.get_quant_method` looks the scheme up for `<prefix>.0.gate_proj`.
 *   `CompressedTensorsConfig._quantization_scheme_map_from_config` asserts, for an activation-quantization
 *   format (`naive-quantized`, `int-quantized`, `float-quantized`, `nvfp4-pack-quantized`,
 *   `utils.py is_activation_quantization_format`) whose group has no `input_activations`, that the weights
 *   are of type float: int8 weights with no activation scheme are rejected when the config is parsed.
 */
import type { EngineLayer } from './layers.js';

export type FusedMapping = Readonly<Record<string, readonly string[]>>;

/** The packed mapping of a fused QKV (what vLLM models declare; MiniMax may declare none). */
export const QKV_PACKED: FusedMapping = { qkv_proj: ['q_proj', 'k_proj', 'v_proj'] };

export class ShardMismatch extends Error {}

function fusedShards(prefix: string, fused: FusedMapping): string[] | undefined {
  const proj = prefix.split('.').at(-1)!;
  const shards = fused[proj];
  if (!shards) return undefined;
  const base = prefix.slice(0, prefix.length - proj.length);
  return shards.map((s) => base + s);
}

function agree(prefix: string, shards: string[], test: (n: string) => boolean): boolean {
  const res = shards.map(test);
  if (res.some((r) => r !== res[0])) throw new ShardMismatch(`some but not all shards of ${prefix} are skipped`);
  return res[0]!;
}

/** vLLM `quant_utils.is_layer_skipped` as used by `Fp8Config` (exact match, experts by substring). */
export function fp8IsLayerSkipped(prefix: string, ignored: readonly string[], fused: FusedMapping = {}): boolean {
  const shards = fusedShards(prefix, fused);
  if (shards) return agree(prefix, shards, (s) => ignored.includes(s));
  if (prefix.includes('experts')) return ignored.filter((n) => n.includes('experts')).some((n) => n.includes(prefix));
  return ignored.includes(prefix);
}

/** compressed-tensors' `check_equal_or_regex_match`: equal, or `re:` + a Python `re.match` (start-anchored). */
export function ctEntryMatches(name: string, entry: string): boolean {
  if (entry === name) return true;
  if (!entry.startsWith('re:')) return false;
  return new RegExp(`^(?:${entry.slice(3)})`).test(name);
}

/** vLLM `compressed_tensors/utils.py` `should_ignore_layer`. */
export function ctShouldIgnoreLayer(name: string, ignore: readonly string[], fused: FusedMapping = {}): boolean {
  const shards = fusedShards(name, fused);
  const hit = (n: string) => ignore.some((e) => ctEntryMatches(n, e));
  if (shards && !ignore.includes(name)) return agree(name, shards, hit);
  return hit(name);
}

const ACTIVATION_FORMATS = new Set(['naive-quantized', 'int-quantized', 'float-quantized', 'nvfp4-pack-quantized']);

/** Reasons vLLM refuses a `quantization_config` while parsing it (empty when it parses). */
export function vllmParseProblems(qc: Record<string, unknown>): string[] {
  const out: string[] = [];
  const method = qc.quant_method;
  if (method === 'fp8') {
    const block = qc.weight_block_size;
    if (block !== undefined && !(Array.isArray(block) && block.length === 2)) out.push('fp8: weight_block_size must be [block_n, block_k]');
    return out;
  }
  if (method !== 'compressed-tensors') return [`quant_method ${JSON.stringify(method)} is not one m1kit knows vLLM's rules for`];
  const groups = (qc.config_groups ?? {}) as Record<string, Record<string, unknown>>;
  for (const [g, grp] of Object.entries(groups)) {
    const format = (grp.format as string | undefined) ?? (qc.format as string | undefined);
    const w = grp.weights as { type?: string } | null | undefined;
    if (format && ACTIVATION_FORMATS.has(format) && !grp.input_activations && w && w.type !== 'float') {
      out.push(`compressed-tensors ${g}: format "${format}" with no input_activations needs float weights (vLLM asserts this in CompressedTensorsConfig._quantization_scheme_map_from_config); weights are type "${w.type}"`);
    }
  }
  return out;
}

/** Which method vLLM gives `layer` under `qc`: quantized or not (never_quantized layers are always not). */
export function vllmQuantizes(layer: EngineLayer, qc: Record<string, unknown>, fused: FusedMapping = {}): boolean {
  if (layer.kind === 'never_quantized') return false;
  if (qc.quant_method === 'fp8') {
    const ignored = ((qc.ignored_layers as string[] | undefined)?.length ? qc.ignored_layers : qc.modules_to_not_convert) as string[] | undefined;
    return !fp8IsLayerSkipped(layer.prefix, ignored ?? [], fused);
  }
  const ignore = (qc.ignore as string[] | undefined) ?? [];
  const name = layer.kind === 'fused_moe' ? `${layer.prefix}.0.gate_proj` : layer.prefix;
  return !ctShouldIgnoreLayer(name, ignore, fused);
}

/**
 * The parameter a MiniMax expert tensor is loaded into by vLLM's `MiniMaxText01ForCausalLM.load_weights`
 * (`load_sparse_moe_weight`, unchanged up to 0.23): entries `E.wK.weight_scale` → `w13_scale`/`w2_scale`
 * come first, then `E.wK.weight` → `w13_weight`/`w2_weight`; the first entry (for the tensor's own expert)
 * that is a substring of the name is replaced everywhere in it. Returns the name after the rename.
 */
export function vllmMiniMaxExpertRename(name: string, numExperts: number): string {
  const own = /model\.layers\.\d+\.block_sparse_moe\.experts\.(\d+)\./.exec(name);
  const entries: [string, string, number][] = [];
  for (const kind of ['scale', 'weight'] as const)
    for (let e = 0; e < numExperts; e++)
      for (const w of ['w1', 'w2', 'w3']) {
        const fused = w === 'w2' ? 'w2' : 'w13';
        entries.push(kind === 'scale' ? [`${e}.${w}.weight_scale`, `${fused}_scale`, e] : [`${e}.${w}.weight`, `${fused}_weight`, e]);
      }
  for (const [from, to, e] of entries) {
    if (own && Number(own[1]) !== e) continue;
    if (name.includes(from)) return name.split(from).join(to);
  }
  return name;
}

export type VllmMethod = 'unquantized' | 'fp8-block' | 'ct-wna16' | 'ct-w8a8-int8' | 'other';

/**
 * Parameters each method registers on a Linear (`weight*` of the layer) and on a FusedMoE (`w13_*`, `w2_*`),
 * from `Fp8LinearMethod`/`Fp8MoEMethod.create_weights` (block: `weight_scale_inv`), compressed-tensors
 * `CompressedTensorsWNA16(.create_weights)`/`CompressedTensorsWNA16MoEMethod` and
 * `CompressedTensorsW8A8Int8`/`CompressedTensorsW8A8Int8MoEMethod`.
 */
export const VLLM_PARAMS: Record<Exclude<VllmMethod, 'other'>, { linear: string[]; moe: string[] }> = {
  unquantized: { linear: ['weight'], moe: ['w13_weight', 'w2_weight'] },
  'fp8-block': { linear: ['weight', 'weight_scale_inv'], moe: ['w13_weight', 'w2_weight', 'w13_weight_scale_inv', 'w2_weight_scale_inv'] },
  'ct-wna16': {
    linear: ['weight_packed', 'weight_scale', 'weight_shape', 'weight_g_idx'],
    moe: ['w13_weight_packed', 'w2_weight_packed', 'w13_weight_scale', 'w2_weight_scale', 'w13_weight_shape', 'w2_weight_shape', 'w13_weight_g_idx', 'w2_weight_g_idx'],
  },
  'ct-w8a8-int8': { linear: ['weight', 'weight_scale'], moe: ['w13_weight', 'w2_weight', 'w13_weight_scale', 'w2_weight_scale'] },
};

/** The quantized method vLLM picks for a config (per-layer skipping aside). */
export function vllmQuantMethod(qc: Record<string, unknown>): VllmMethod {
  if (qc.quant_method === 'fp8' && Array.isArray(qc.weight_block_size)) return 'fp8-block';
  if (qc.quant_method !== 'compressed-tensors') return 'other';
  const g = Object.values((qc.config_groups ?? {}) as Record<string, { weights?: { num_bits?: number; type?: string; strategy?: string }; input_activations?: { num_bits?: number; strategy?: string; dynamic?: boolean } | null }>)[0];
  const w = g?.weights;
  const a = g?.input_activations;
  if (qc.format === 'pack-quantized' && w?.type === 'int' && !a) return 'ct-wna16';
  if (w?.type === 'int' && w.num_bits === 8 && w.strategy === 'channel' && a?.num_bits === 8 && a.strategy === 'token' && a.dynamic) return 'ct-w8a8-int8';
  return 'other';
}
