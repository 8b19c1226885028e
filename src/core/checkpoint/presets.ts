/**
 * Presets as data. MiniMax-M1 values are the released config.json (both -40k and -80k share the
 * architecture; they differ in RL budget and shard count). Fixture presets are deliberately awkward:
 * heads × head_dim ≠ hidden_size, rotary_dim = head_dim / 2, a softmax layer between lightning layers.
 */

const M1_ATTN_TYPES = Array.from({ length: 80 }, (_, i) => (i % 8 === 7 ? 1 : 0));
const ALPHA_80 = 3.5565588200778455; // (2·80)^(1/4), DeepNet decoder α

/** Raw config.json of the released MiniMax-M1 (identical for -40k and -80k). */
export const M1_CONFIG: Readonly<Record<string, unknown>> = Object.freeze({
  architectures: ['MiniMaxM1ForCausalLM'],
  model_type: 'minimax_m1',
  attn_type_list: M1_ATTN_TYPES,
  head_dim: 128,
  hidden_act: 'silu',
  hidden_size: 6144,
  initializer_range: 0.02,
  intermediate_size: 9216,
  layernorm_full_attention_alpha: ALPHA_80,
  layernorm_full_attention_beta: 1.0,
  layernorm_linear_attention_alpha: ALPHA_80,
  layernorm_linear_attention_beta: 1.0,
  layernorm_mlp_alpha: ALPHA_80,
  layernorm_mlp_beta: 1.0,
  max_position_embeddings: 10240000,
  num_attention_heads: 64,
  num_experts_per_tok: 2,
  num_hidden_layers: 80,
  num_key_value_heads: 8,
  num_local_experts: 32,
  postnorm: true,
  rms_norm_eps: 1e-5,
  rope_theta: 10000000,
  rotary_dim: 64,
  shared_intermediate_size: 0,
  tie_word_embeddings: false,
  vocab_size: 200064,
});

export interface ModelPreset {
  repo: string;
  shards: number;
  config: Readonly<Record<string, unknown>>;
  note: string;
}

export const MODEL_PRESETS: Record<string, ModelPreset> = {
  'minimax-m1-40k': { repo: 'MiniMaxAI/MiniMax-M1-40k', shards: 413, config: M1_CONFIG, note: '40K thinking budget; 413 shards, 0-based names' },
  'minimax-m1-80k': { repo: 'MiniMaxAI/MiniMax-M1-80k', shards: 414, config: M1_CONFIG, note: '80K thinking budget; 414 shards, 0-based names' },
};

const fixtureConfig = (o: { L: number; attn: number[]; V: number; H: number; h: number; d: number; g: number; rot: number; I: number; E: number }) => ({
  architectures: ['MiniMaxM1ForCausalLM'],
  model_type: 'minimax_m1',
  attn_type_list: o.attn,
  head_dim: o.d,
  hidden_act: 'silu',
  hidden_size: o.H,
  initializer_range: 0.02,
  intermediate_size: o.I,
  layernorm_full_attention_alpha: (2 * o.L) ** 0.25,
  layernorm_full_attention_beta: 1.0,
  layernorm_linear_attention_alpha: (2 * o.L) ** 0.25,
  layernorm_linear_attention_beta: 1.0,
  layernorm_mlp_alpha: (2 * o.L) ** 0.25,
  layernorm_mlp_beta: 1.0,
  max_position_embeddings: 65536,
  num_attention_heads: o.h,
  num_experts_per_tok: 2,
  num_hidden_layers: o.L,
  num_key_value_heads: o.g,
  num_local_experts: o.E,
  postnorm: true,
  rms_norm_eps: 1e-5,
  rope_theta: 10000000,
  rotary_dim: o.rot,
  shared_intermediate_size: 0,
  tie_word_embeddings: false,
  vocab_size: o.V,
});

/**
 * A slice of the released model: the layers `attn` (0 lightning, 1 softmax) at MiniMax-M1's real sizes
 * (hidden 6144, 64 × 128 heads, 8 kv heads, 32 experts × 9216, vocab 200,064), with embeddings, final
 * norm and LM head. `divide` > 1 shrinks hidden, heads, kv heads, experts, intermediate and vocabulary
 * by that factor (head_dim and rotary_dim stay real) so tests can exercise the preset at small cost.
 * Bytes (bf16): a lightning layer 11.38 GB, a softmax layer 11.10 GB (32 experts are 10.87 GB of
 * either), embeddings and LM head 2.46 GB each: the default [0, 1] slice is 27.4 GB.
 */
export function realSliceConfig(attn: number[] = [0, 1], divide = 1): Record<string, unknown> {
  const d = (v: number, min = 1) => Math.max(min, Math.round(v / divide));
  const L = attn.length;
  return {
    ...M1_CONFIG,
    attn_type_list: attn,
    num_hidden_layers: L,
    hidden_size: d(6144),
    num_attention_heads: d(64),
    num_key_value_heads: d(8),
    num_local_experts: d(32, 2),
    intermediate_size: d(9216),
    vocab_size: d(200064),
    max_position_embeddings: 65536,
  };
}

/** Fixture presets for `m1kit fixture --preset`. */
export const FIXTURE_PRESETS: Record<string, Record<string, unknown>> = {
  /** ~1.6 MB: 5 layers, softmax at layer 3, h·d = 128 ≠ H = 96, rotary 16 of 32. Committed under fixtures/tiny. */
  tiny: fixtureConfig({ L: 5, attn: [0, 0, 0, 1, 0], V: 512, H: 96, h: 4, d: 32, g: 2, rot: 16, I: 64, E: 4 }),
  /** ~270 MB: the spec's small reproduction model (8 layers, softmax last, H 512, 8 experts). */
  small: fixtureConfig({ L: 8, attn: [0, 0, 0, 0, 0, 0, 0, 1], V: 32000, H: 512, h: 8, d: 64, g: 2, rot: 32, I: 1024, E: 8 }),
  /** ~2.2 GB: for I/O, convert and export benchmarks. */
  large: fixtureConfig({ L: 8, attn: [0, 0, 0, 1, 0, 0, 0, 1], V: 32000, H: 1024, h: 8, d: 128, g: 2, rot: 64, I: 2048, E: 16 }),
  /** 27.4 GB: one lightning and one softmax layer at the released model's sizes, for bench:runtime. */
  'real-slice': realSliceConfig(),
};

/**
 * How a preset's bf16 matrices are filled: 'normal' (default) draws each value through Box–Muller;
 * 'table' looks 16 random bits up in a table of 65,536 normal draws (two values per 32-bit draw, many
 * times faster), for presets too large to fill value by value.
 */
export const FIXTURE_FILL: Record<string, 'normal' | 'table'> = { 'real-slice': 'table' };
