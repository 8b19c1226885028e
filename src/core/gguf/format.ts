/**
 * GGUF v3 format constants (data only): metadata value types and the ggml tensor types m1kit writes.
 * Layout of a file: magic "GGUF" · u32 version · u64 tensor count · u64 KV count · KVs · tensor infos ·
 * zero padding to `alignment` · tensor data (each tensor starts at a multiple of `alignment`).
 * Everything is little-endian; strings are u64 length + UTF-8 bytes (no terminator).
 */

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
export const GGUF_VERSION = 3;
/** Default tensor-data alignment (used when `general.alignment` is absent, which m1kit never writes). */
export const GGUF_DEFAULT_ALIGNMENT = 32;

/** Metadata value type ids. */
export const GgufValueType = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12,
} as const;
export type GgufScalarType = Exclude<keyof typeof GgufValueType, 'ARRAY'>;

/** One metadata entry. Arrays hold scalars of one type (nested arrays are not needed here). */
export type GgufKv =
  | { key: string; type: GgufScalarType; value: number | bigint | boolean | string }
  | { key: string; type: 'ARRAY'; itemType: GgufScalarType; values: readonly (number | bigint | boolean | string)[] };

/**
 * ggml tensor types m1kit writes: id, elements per block and bytes per block.
 * Q8_0 block: fp16 scale d + 32 × int8. Q4_0 block: fp16 scale d + 16 bytes of 4-bit codes
 * (element j in the low nibble of byte j, element j+16 in the high nibble).
 */
export const GGML_TYPES = {
  F32: { id: 0, blockSize: 1, typeSize: 4 },
  F16: { id: 1, blockSize: 1, typeSize: 2 },
  Q4_0: { id: 2, blockSize: 32, typeSize: 18 },
  Q8_0: { id: 8, blockSize: 32, typeSize: 34 },
  BF16: { id: 30, blockSize: 1, typeSize: 2 },
} as const;
export type GgmlType = keyof typeof GGML_TYPES;

/** llama_ftype values for `general.file_type` (the "mostly" type of the file). */
export const FILE_TYPE = { F32: 0, F16: 1, Q4_0: 2, Q8_0: 7, BF16: 32 } as const satisfies Record<GgmlType, number>;

/** Token types of `tokenizer.ggml.token_type`. */
export const TokenType = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

/** Bytes of one row of `n` elements in type `t` (n must be a multiple of the block size). */
export function rowBytes(t: GgmlType, n: number): number {
  const { blockSize, typeSize } = GGML_TYPES[t];
  return (n / blockSize) * typeSize;
}

/** Bytes of a tensor whose GGUF shape is `ne` (ne[0] is the contiguous row). */
export function tensorBytes(t: GgmlType, ne: readonly number[]): number {
  const rows = ne.slice(1).reduce((a, b) => a * b, 1);
  return rowBytes(t, ne[0] ?? 1) * rows;
}
