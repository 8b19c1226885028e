/**
 * Weights that inference engines load as one fused layer, so that a tensor-wide scale (NVFP4's global
 * scale) must be one value across them: vLLM's and SGLang's MiniMax models build softmax q/k/v as one
 * `qkv_proj` (QKVParallelLinear) and each expert's w1/w3 as one `w13` slice of the FusedMoE
 * (engines/layers.ts), with one global scale per fused layer; llm-compressor makes them equal for the
 * same reason (`update_fused_layer_weight_global_scales`).
 */
import { classify, expertWeight, layerWeight } from '../arch/minimax-m1/tensors.js';

/** The other weights fused with `weight` (empty for a layer of its own). */
export function fusedPartners(weight: string): string[] {
  const i = classify(weight);
  if (!i || i.layer === undefined) return [];
  const l = i.layer;
  if ((i.role === 'w1' || i.role === 'w3') && i.expert !== undefined) return [expertWeight(l, i.expert, i.role === 'w1' ? 'w3' : 'w1')];
  if (i.role === 'q' || i.role === 'k' || i.role === 'v') return (['q', 'k', 'v'] as const).filter((r) => r !== i.role).map((r) => layerWeight(l, r));
  return [];
}
