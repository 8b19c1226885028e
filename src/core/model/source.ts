/**
 * What the runtime needs from a checkpoint: the parsed config and positioned reads of named tensors.
 * `Checkpoint` (src/core/checkpoint/checkpoint.ts) satisfies this structurally; tests may pass an
 * in-memory implementation.
 */
import type { M1Config } from '../checkpoint/config.js';
import type { DType } from '../dtype/dtypes.js';

export interface TensorMeta {
  dtype: DType;
  shape: number[];
}

export interface WeightSource {
  readonly config: M1Config;
  has(name: string): boolean;
  info(name: string): TensorMeta;
  /** Raw bytes of tensor `name` from `byteOffset` (relative to the tensor) for `byteLength` bytes (≤ 256 MiB). */
  read(name: string, byteOffset?: number, byteLength?: number): Promise<Uint8Array>;
}
