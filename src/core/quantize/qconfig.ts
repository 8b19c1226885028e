/**
 * What `quantization_config` lists as unquantized (each format writes its own fragment from these, see
 * formats/; docs/ecosystem.md §2.3–§2.4). The lists of unquantized modules must hold under the engines'
 * own matching rules, which see the engines' layer names (`model.layers.N.qkv_proj`, `model.layers.N.experts`; see engines/layers.ts), not only HF's:
 * - fp8-block: DeepSeek-V3 keys plus `modules_to_not_convert`, which vLLM matches exactly (no patterns;
 *   `quant_utils.is_layer_skipped`) and, for the fused experts, by substring. It lists the full HF module
 *   names and the engine names of the same modules; never a bare word, so `self_attn.output_gate` is
 *   never caught by "gate".
 * - compressed-tensors: one config group targeting "Linear"; `ignore` holds `re:` patterns (start-anchored
 *   `re.match`, compressed-tensors' `check_equal_or_regex_match`) that match a module under both its HF and
 *   its engine name, plus `lm_head`.
 */
import type { M1Config } from '../checkpoint/config.js';
import { expectedTensors } from '../checkpoint/layout.js';
import { classify } from '../pipeline/geometry.js';
import { engineNamesOf } from '../engines/layers.js';
import { formatOf, type ConfigContext, type SchemeId } from '../formats/index.js';
import { isTarget, type Targets } from './targets.js';

/** Linear modules (2-D weights other than the embedding) left unquantized, as full module names. */
export function unquantizedLinears(c: M1Config, targets: Targets): string[] {
  const out: string[] = [];
  for (const t of expectedTensors(c)) {
    const info = classify(t.name);
    if (!info || t.shape.length !== 2 || info.role === 'embed') continue;
    if (!isTarget(info.role, targets)) out.push(info.module);
  }
  return out;
}

/** `modules_to_not_convert` for Fp8Config: HF names then the engine names of the same modules. */
function fp8Skip(hf: string[]): string[] {
  const engine = new Set<string>();
  for (const m of hf) for (const e of engineNamesOf(m)) engine.add(e);
  return [...hf, ...[...engine].filter((e) => !hf.includes(e))];
}

/** compressed-tensors patterns, each matching HF (`self_attn.`, `block_sparse_moe.`) and engine names. */
export const CT_IGNORE = {
  router: 're:model\\.layers\\.\\d+\\.(block_sparse_moe\\.)?gate$',
  attention: 're:model\\.layers\\.\\d+\\.(self_attn\\.)?(qkv_proj|q_proj|k_proj|v_proj|o_proj|output_gate|out_proj)$',
  experts: 're:model\\.layers\\.\\d+\\.(block_sparse_moe\\.)?experts\\.\\d+\\.(w1|w2|w3|gate_proj|up_proj|down_proj)$',
} as const;

function ctIgnore(c: M1Config, targets: Targets): string[] {
  const out: string[] = [CT_IGNORE.router];
  if (targets === 'experts') out.push(CT_IGNORE.attention);
  if (targets === 'attention') out.push(CT_IGNORE.experts);
  if (!c.tieWordEmbeddings) out.push('lm_head');
  return out;
}

/** What every format's config fragment is built from: the unquantized modules under `targets`. */
export function configContext(c: M1Config, targets: Targets, group: number): ConfigContext {
  return { group, skipModules: fp8Skip(unquantizedLinears(c, targets)), ignorePatterns: ctIgnore(c, targets) };
}

/**
 * @example quantizationConfig(config, 'fp8-block', 'all', 128).quant_method // 'fp8'
 */
export function quantizationConfig(c: M1Config, scheme: SchemeId, targets: Targets, group: number): Record<string, unknown> {
  return formatOf(scheme).quantizationConfig(configContext(c, targets, group));
}
