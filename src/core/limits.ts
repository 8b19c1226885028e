/**
 * Named caps applied to every untrusted input (safetensors headers, JSON files, config values) before
 * anything is allocated from its numbers. Each cap is far above what a real MiniMax-M1 checkpoint needs
 * and far below what would hurt (memory, time, or the stack of a recursive parser).
 */

/** Largest safetensors JSON header accepted. Real M1 shards' headers are < 10 KiB; a single-file M1 would need ≈ 1 MiB. */
export const MAX_HEADER_BYTES = 16 * 1024 * 1024;
/** Most tensors in one safetensors file (M1 shards hold ≤ 30; a single-file M1 would hold 8,243; quantized ≈ 25,000). */
export const MAX_TENSORS_PER_FILE = 100_000;
/** Most tensors in one checkpoint, all files together (M1: 8,243; quantized with scales and shapes ≈ 25,000). */
export const MAX_TENSORS_PER_CHECKPOINT = 200_000;
/** Largest sum of the safetensors header lengths of one checkpoint (M1: 413 headers ≈ 4 MB; quantized ≈ 10 MB). */
export const MAX_CHECKPOINT_HEADER_BYTES = 32 * 1024 * 1024;
/** Longest tensor name accepted, in UTF-16 units (M1's longest is 58; errors quote names, so they stay one readable line). */
export const MAX_TENSOR_NAME_LENGTH = 1024;
/** Most `__metadata__` entries of one safetensors header (writers put a handful there). */
export const MAX_METADATA_ENTRIES = 10_000;
/** Highest tensor rank accepted (checkpoint tensors are rank 1–3). */
export const MAX_RANK = 8;
/** Largest single dimension (2^40; M1's largest is the vocab, 200,064). Keeps products exact in float64 after the byte check. */
export const MAX_DIM = 2 ** 40;
/** Largest element count of one tensor (2^48 bytes at most for any dtype ≤ 8 bytes, still exact in a double). */
export const MAX_TENSOR_ELEMENTS = 2 ** 45;
/** Most shard files referenced by an index (M1 has 413). */
export const MAX_SHARDS = 10_000;
/** Largest JSON file read (config.json, the index, tokenizer files, layouts): the real M1 index is 0.8 MB, tokenizer.json ≈ 10 MB. */
export const MAX_JSON_FILE_BYTES = 64 * 1024 * 1024;
/**
 * Deepest nesting of arrays/objects in any JSON read (checked by a scan before JSON.parse, whose recursion
 * overflows the stack at ≈ 10^4–10^5 levels). HF configs and tokenizer files nest ≤ 6 deep; headers 3.
 */
export const MAX_JSON_DEPTH = 64;
/** No single read or Buffer exceeds this (Node's Buffer limit is 4 GiB, a single read over 2 GiB kills the process). */
export const MAX_READ_BYTES = 256 * 1024 * 1024;
/** Default chunk for streaming copies / tensor reads. */
export const DEFAULT_CHUNK_BYTES = 16 * 1024 * 1024;

/**
 * Ranges of config.json values for the MiniMax-M1 family, checked before anything is sized from them.
 * The released model's value is given for each; every cap is ≥ 8× it and small enough that the tensor
 * set, the per-layer state and one activation row stay far below the memory of a workstation.
 */
export const CONFIG_CAPS = {
  /** M1: 80. */
  num_hidden_layers: 1024,
  /** M1: 6,144. */
  hidden_size: 65_536,
  /** M1: 64. */
  num_attention_heads: 1024,
  /** M1: 8 (also ≤ num_attention_heads). */
  num_key_value_heads: 1024,
  /** M1: 128. */
  head_dim: 1024,
  /** M1: 64 (also ≤ head_dim). */
  rotary_dim: 1024,
  /** M1: 32. */
  num_local_experts: 1024,
  /** M1: 2 (also ≤ num_local_experts). */
  num_experts_per_tok: 1024,
  /** M1: 9,216. */
  intermediate_size: 1 << 20,
  /** M1: 0 (no shared expert). */
  shared_intermediate_size: 1 << 20,
  /** M1: 200,064. */
  vocab_size: 1 << 22,
  /** M1: 10,240,000 (never sized from; positions are indices). */
  max_position_embeddings: 2 ** 31,
  /** Lightning block (module constant 256; the kernels accept ≤ 4,096). */
  block: 4096,
} as const;
/** Widest attention projection (heads × head_dim; M1: 8,192). */
export const MAX_ATTENTION_WIDTH = 65_536;
