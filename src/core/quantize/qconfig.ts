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
import { ATTENTION_PROJ_ROLES, classify, EXPERT_ROLES, type NameInfo, type Role } from '../arch/minimax-m1/tensors.js';
import { engineNamesOf } from '../engines/layers.js';
import { formatOf, type ConfigContext, type SchemeId } from '../formats/index.js';
import { builtinRecipe, selectModules } from './recipe.js';
import type { Targets } from './targets.js';

/** Linear modules (2-D weights other than the embedding) left unquantized, as full module names. */
export function unquantizedLinears(c: M1Config, quantized: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const t of expectedTensors(c)) {
    const info = classify(t.name);
    if (!info || t.shape.length !== 2 || info.role === 'embed') continue;
    if (!quantized.has(info.module)) out.push(info.module);
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

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** vLLM's per-expert names of the HF expert projections. */
const EXPERT_ENGINE: Record<string, string> = { w1: 'gate_proj', w3: 'up_proj', w2: 'down_proj' };

/** One module's `ignore` entry: its HF name or any of its engine names, exactly. */
function exactIgnore(info: NameInfo): string {
  if (EXPERT_ROLES.has(info.role)) {
    return `re:model\\.layers\\.${info.layer}\\.(block_sparse_moe\\.)?experts\\.${info.expert}\\.(${info.role}|${EXPERT_ENGINE[info.role]})$`;
  }
  return `re:(${[info.module, ...engineNamesOf(info.module)].map(esc).join('|')})$`;
}

/**
 * compressed-tensors `ignore`: per class (router, attention, experts) its class pattern when no module of
 * the class is quantized; else, per layer, the class pattern of that layer when none of the layer's are,
 * or an exact entry per unquantized module; then `lm_head` when untied and kept.
 */
function ctIgnore(c: M1Config, quantized: ReadonlySet<string>): string[] {
  const classes: [keyof typeof CT_IGNORE, (r: Role) => boolean][] = [
    ['router', (r) => r === 'router'],
    ['attention', (r) => ATTENTION_PROJ_ROLES.has(r)],
    ['experts', (r) => EXPERT_ROLES.has(r)],
  ];
  const infos = expectedTensors(c).flatMap((t) => {
    const i = t.shape.length === 2 ? classify(t.name) : undefined;
    return i ? [i] : [];
  });
  const out: string[] = [];
  for (const [name, member] of classes) {
    const of = infos.filter((i) => member(i.role));
    const kept = of.filter((i) => !quantized.has(i.module));
    if (kept.length === 0) continue;
    if (kept.length === of.length) {
      out.push(CT_IGNORE[name]);
      continue;
    }
    for (const l of [...new Set(kept.map((i) => i.layer!))]) {
      const keptHere = kept.filter((i) => i.layer === l);
      if (keptHere.length === of.filter((i) => i.layer === l).length) out.push(CT_IGNORE[name].replace('layers\\.\\d+', `layers\\.${l}`));
      else out.push(...keptHere.map(exactIgnore));
    }
  }
  if (!c.tieWordEmbeddings && !quantized.has('lm_head')) out.push('lm_head');
  return out;
}

/** What every format's config fragment is built from: the modules left unquantized. */
export function configContext(c: M1Config, quantized: ReadonlySet<string>, group: number): ConfigContext {
  return { group, skipModules: fp8Skip(unquantizedLinears(c, quantized)), ignorePatterns: ctIgnore(c, quantized) };
}

/** The `quantization_config` of `scheme` applied to the `quantized` modules. */
export function quantizationConfigOf(c: M1Config, scheme: SchemeId, quantized: ReadonlySet<string>, group: number): Record<string, unknown> {
  return formatOf(scheme).quantizationConfig(configContext(c, quantized, group));
}

/**
 * The `quantization_config` of `--scheme scheme --targets targets` (the built-in recipe).
 * @example quantizationConfig(config, 'fp8-block', 'all', 128).quant_method // 'fp8'
 */
export function quantizationConfig(c: M1Config, scheme: SchemeId, targets: Targets, group: number): Record<string, unknown> {
  return quantizationConfigOf(c, scheme, selectModules(builtinRecipe(scheme, targets), c).modules, group);
}
