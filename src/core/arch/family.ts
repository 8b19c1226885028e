/**
 * What a family folder (arch/<family>/index.ts) hands the family-independent code that picks it by
 * config: the `architectures` names it answers to, its config reader, the tensors a config implies, its
 * GGUF name mapping and its FLOPs description. Its other facts (config keys, tensor roles, slopes) are
 * modules of the folder. Pure: no I/O.
 */
import type { M1Config } from './minimax-m1/config.js';
import type { GgufName } from './minimax-m1/gguf.js';
import type { ArchSpec } from './spec.js';
import type { DType } from '../dtype/dtypes.js';
import type { TensorSpec } from '../safetensors/writer.js';

export interface ModelFamily {
  /** Stable id (the folder name). */
  id: string;
  /** `architectures` entries of config.json that select this family. */
  architectures: readonly string[];
  config: {
    /** Parse and validate a config.json object (throws an InputError naming `file`). */
    parse(raw: unknown, file?: string): M1Config;
  };
  tensors: {
    /** Every tensor a config implies, in file order. */
    expected(c: M1Config, weightDtype?: DType): TensorSpec[];
  };
  gguf: {
    arch: string;
    head: readonly GgufName[];
    layer: Readonly<Record<number, readonly GgufName[]>>;
    tail: readonly GgufName[];
  };
  /** The architecture for parameter, FLOPs and cache counting (`id`, `name`, `source` label it). */
  flops(c: M1Config, label?: { id?: string; name?: string; source?: string }): ArchSpec;
}
