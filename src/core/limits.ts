/**
 * Named caps applied to every untrusted header before anything is allocated from its numbers.
 * Each cap is far above what a real MiniMax-M1 checkpoint needs and far below what would hurt.
 */

/** Largest safetensors JSON header accepted. The real M1 shards' headers are < 10 KiB; HF's own reader caps at 100 MB. */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;
/** Most tensors in one safetensors file (M1 shards hold ≤ 30; a single-file M1 would hold 8,243). */
export const MAX_TENSORS_PER_FILE = 1_000_000;
/** Highest tensor rank accepted (checkpoint tensors are rank 1–3). */
export const MAX_RANK = 8;
/** Largest single dimension (2^40; M1's largest is the vocab, 200,064). Keeps products exact in float64 after the byte check. */
export const MAX_DIM = 2 ** 40;
/** Largest element count of one tensor (2^48 bytes at most for any dtype ≤ 8 bytes, still exact in a double). */
export const MAX_TENSOR_ELEMENTS = 2 ** 45;
/** Most shard files referenced by an index (M1 has 413). */
export const MAX_SHARDS = 100_000;
/** Largest model.safetensors.index.json / config.json accepted (the real M1 index is 0.8 MB). */
export const MAX_JSON_FILE_BYTES = 64 * 1024 * 1024;
/** No single read or Buffer exceeds this (Node's Buffer limit is 4 GiB, a single read over 2 GiB kills the process). */
export const MAX_READ_BYTES = 256 * 1024 * 1024;
/** Default chunk for streaming copies / tensor reads. */
export const DEFAULT_CHUNK_BYTES = 16 * 1024 * 1024;
