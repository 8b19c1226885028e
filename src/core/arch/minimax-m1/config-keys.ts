/**
 * The config.json keys of the MiniMax-M1 family, as data (docs/architecture.md §1.1). Two schemas name the
 * same fields:
 * - the original remote-code one (`MiniMaxM1ForCausalLM`, `MiniMaxText01ForCausalLM`; `attn_type_list`
 *   of 0/1, `layernorm_*_alpha|beta`), which the released checkpoints carry;
 * - the transformers-native `-hf` one (`MiniMaxForCausalLM`, model_type `minimax`; `layer_types` of
 *   strings, `*_attn_alpha_factor|beta_factor`, `mlp_*_factor`).
 * Where both are present the original key wins.
 */
/** 0 = lightning (linear) attention, 1 = softmax attention. */
export type AttnType = 0 | 1;

/** `architectures` entries of this family (either schema). */
export const ARCHITECTURES: readonly string[] = ['MiniMaxM1ForCausalLM', 'MiniMaxText01ForCausalLM', 'MiniMaxForCausalLM'];

/** The per-layer attention kind: [original 0/1 list, `-hf` string list]. */
export const LAYER_KIND_KEYS = ['attn_type_list', 'layer_types'] as const;

/** `layer_types` strings → attention kind (0 lightning, 1 softmax). */
export const LAYER_TYPE_VALUES: Readonly<Record<string, AttnType>> = { linear_attention: 0, full_attention: 1 };

/** Fields spelled differently by the two schemas: [original key, `-hf` key]. */
export const ALIASED_KEYS = {
  linearAlpha: ['layernorm_linear_attention_alpha', 'linear_attn_alpha_factor'],
  linearBeta: ['layernorm_linear_attention_beta', 'linear_attn_beta_factor'],
  fullAlpha: ['layernorm_full_attention_alpha', 'full_attn_alpha_factor'],
  fullBeta: ['layernorm_full_attention_beta', 'full_attn_beta_factor'],
  mlpAlpha: ['layernorm_mlp_alpha', 'mlp_alpha_factor'],
  mlpBeta: ['layernorm_mlp_beta', 'mlp_beta_factor'],
} as const satisfies Record<string, readonly [string, string]>;
