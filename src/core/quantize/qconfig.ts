/**
 * `quantization_config` written into config.json for each scheme (docs/ecosystem.md §2.3–§2.4).
 * - fp8-block: DeepSeek-V3 keys plus `modules_to_not_convert` listing FULL module names (vLLM matches by
 *   full prefix), so the bare word "gate" never appears and `self_attn.output_gate` is not caught.
 * - compressed-tensors: one config group targeting "Linear"; `ignore` lists full module names of every
 *   Linear left unquantized (routers, LM head, attention or experts when not targeted).
 */
import type { M1Config } from '../checkpoint/config.js';
import { expectedTensors } from '../checkpoint/layout.js';
import { classify } from '../convert/names.js';
import type { SchemeName } from './formats.js';
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

/**
 * @example quantizationConfig(config, 'fp8-block', 'all', 128).quant_method // 'fp8'
 */
export function quantizationConfig(c: M1Config, scheme: SchemeName, targets: Targets, group: number): Record<string, unknown> {
  const skip = unquantizedLinears(c, targets);
  if (scheme === 'fp8-block') {
    return { quant_method: 'fp8', fmt: 'e4m3', activation_scheme: 'dynamic', weight_block_size: [group, group], modules_to_not_convert: skip };
  }
  const weights =
    scheme === 'int8-channel'
      ? { num_bits: 8, type: 'int', symmetric: true, strategy: 'channel', group_size: null, block_structure: null, dynamic: false, actorder: null, observer: 'minmax', observer_kwargs: {} }
      : { num_bits: 4, type: 'int', symmetric: true, strategy: 'group', group_size: group, block_structure: null, dynamic: false, actorder: null, observer: 'minmax', observer_kwargs: {} };
  return {
    quant_method: 'compressed-tensors',
    format: scheme === 'int8-channel' ? 'int-quantized' : 'pack-quantized',
    config_groups: { group_0: { targets: ['Linear'], weights, input_activations: null, output_activations: null } },
    ignore: skip,
    kv_cache_scheme: null,
    quantization_status: 'compressed',
  };
}
