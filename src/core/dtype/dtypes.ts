/** safetensors dtype table (names as in the safetensors spec) with element sizes in bytes. */
export const DTYPES = {
  BOOL: { bytes: 1, float: false },
  U8: { bytes: 1, float: false },
  I8: { bytes: 1, float: false },
  F8_E4M3: { bytes: 1, float: true },
  F8_E5M2: { bytes: 1, float: true },
  I16: { bytes: 2, float: false },
  U16: { bytes: 2, float: false },
  F16: { bytes: 2, float: true },
  BF16: { bytes: 2, float: true },
  I32: { bytes: 4, float: false },
  U32: { bytes: 4, float: false },
  F32: { bytes: 4, float: true },
  F64: { bytes: 8, float: true },
  I64: { bytes: 8, float: false },
  U64: { bytes: 8, float: false },
} as const;

export type DType = keyof typeof DTYPES;

export const isDType = (s: unknown): s is DType => typeof s === 'string' && Object.prototype.hasOwnProperty.call(DTYPES, s);
export const dtypeBytes = (d: DType): number => DTYPES[d].bytes;
/** Product of dims (1 for a scalar, 0 if any dim is 0). */
export const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
