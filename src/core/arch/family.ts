/**
 * What m1kit knows about a model family, as one object per family folder (arch/<family>/index.ts):
 * the `architectures` names it answers to, its config keys and reader, its tensor names and roles, the
 * lightning decay slopes, its GGUF name mapping and its FLOPs description. Pure: no I/O.
 */
import type { M1Config } from './minimax-m1/config.js';
import type { GgufName } from './minimax-m1/gguf.js';
import type { NameInfo } from './minimax-m1/tensors.js';
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
    /** Keys of the per-layer attention kind, in order of precedence. */
    layerKindKeys: readonly string[];
    /** Strings of the string-valued layer-kind key → attention kind. */
    layerTypeValues: Readonly<Record<string, number>>;
    /** Fields with several spellings: field → keys, first wins. */
    aliasedKeys: Readonly<Record<string, readonly string[]>>;
  };
  tensors: {
    /** Every tensor a config implies, in file order. */
    expected(c: M1Config, weightDtype?: DType): TensorSpec[];
    /** Role (and layer, expert) of a tensor name; undefined for a name of no role. */
    classify(name: string): NameInfo | undefined;
    /** The prefix of layer `l`'s tensor names. */
    layerPrefix(l: number): string;
  };
  /** Lightning decay rate of every head of layer `layer` (fp32). */
  slopes(layer: number, numLayers: number, heads: number): Float32Array;
  gguf: {
    arch: string;
    head: readonly GgufName[];
    layer: Readonly<Record<number, readonly GgufName[]>>;
    tail: readonly GgufName[];
  };
  /** The architecture for parameter, FLOPs and cache counting (`id`, `name`, `source` label it). */
  flops(c: M1Config, label?: { id?: string; name?: string; source?: string }): ArchSpec;
}
