/**
 * The record every quantized storage format fills in (see index.ts for the registry and how to add one).
 * A format is data plus its reference math: what it stores per quantized Linear, how it quantizes a row
 * band, how it decodes stored rows, the `quantization_config` it writes, how it is recognised from a
 * config and stored tensors, and which engines load it.
 */
import type { DType } from '../dtype/dtypes.js';
import type { KernelOptions } from '../ops/common.js';
import type { ErrorSample, QuantInput, QuantKernel } from '../ops/quant.js';

/** One tensor stored per quantized module, named `<module>.<suffix>`. */
export interface StoredTensor {
  suffix: string;
  dtype: DType;
  /** Stored shape for a logical [rows, cols] weight with group (block edge) `group`. */
  shape: (rows: number, cols: number, group: number) => number[];
}

/** What the decoder reads: a checkpoint, a rank layout or the runtime's weight source. */
export interface TensorStore {
  has(name: string): boolean;
  info(name: string): { dtype: DType; shape: readonly number[] };
  /** Raw bytes of tensor `name` from `byteOffset` (relative to the tensor) for `byteLength` bytes. */
  read(name: string, byteOffset?: number, byteLength?: number): Promise<Uint8Array>;
}

/** A stored weight recognised by a format: enough to decode any row band of it. */
export interface StoredLayout {
  /** The canonical weight name asked for (`<module>.weight`). */
  name: string;
  /** Registry id of the format (`plain` for an unquantized tensor). */
  format: string;
  rows: number;
  cols: number;
  /** Block/group edge the scales cover (0 when not applicable). */
  group: number;
  /** Stored tensors, codes first (the format's `outputs` order). */
  tensors: string[];
  /** Dtype of the codes tensor. */
  dtype: DType;
  /** Rows and columns of the weight one scale entry covers, for formats read in any tiling. */
  scaleSpan?: [number, number];
}

/** What a config fragment is built from; the quantize planner computes both lists from the targets or recipe. */
export interface ConfigContext {
  group: number;
  /** Exact module names left unquantized, HF names then the engines' names of the same modules. */
  skipModules: string[];
  /** compressed-tensors `ignore` entries (`re:` patterns matching HF and engine names, `lm_head`). */
  ignorePatterns: string[];
}

/** Quantizes the row bands of one [rows, cols] weight; keeps the small tensors until `finish`. */
export interface BandEncoder {
  /** Bytes of the codes (first stored tensor) of `n` rows × `w` columns. */
  codeBytes(n: number, w: number): number;
  /**
   * Quantize rows [r0, r0 + n) × columns [c0, c0 + w) of the weight (w < cols only when the format's
   * `columnPieces` is true) into `into`, returning the codes (row-major [n, w] of the codes' layout).
   */
  band(input: QuantInput, r0: number, n: number, c0: number, w: number, into: ArrayBuffer, o: { kernels: KernelOptions; errors: ErrorSample | undefined }): Promise<Uint8Array>;
  /** The other stored tensors' bytes (outputs[1…]), once every band is done. */
  finish(): Uint8Array[];
}

/** One row of the engine-compatibility table contributed by a format. */
export interface EngineFact {
  engine: 'vllm' | 'sglang' | 'llama.cpp';
  versions: string;
  targets: 'experts' | 'attention' | 'all';
  status: 'loads' | 'rejected' | 'not known';
  why: string;
}

/** What detection knows besides the tensors. */
export interface DetectContext {
  /** The group the checkpoint's config declares, when it declares this format. */
  declared?: number | undefined;
  /** The checkpoint's `quantization_config` ({} when it has none). */
  qc: Record<string, unknown>;
}

/** A stored layout the decoder recognises (every writable format is one; some are only read). */
export interface StoredFormat {
  /** Registry id (the `--scheme` value of a writable format, e.g. `fp8-block`). */
  id: string;
  /**
   * Where the decoder tries this format among the others, lowest first: a layout whose tensors another
   * format would also accept (a global scale beside packed codes, a narrower codes dtype) ranks before
   * that format (the table in index.ts).
   */
  detectRank: number;
  /** The group a `quantization_config` declares when it describes this format, else undefined (throws InputError when malformed). */
  fromConfig: (qc: Record<string, unknown>, where: string) => { group: number } | undefined;
  /**
   * Recognise weight `stem`.weight stored in this format, or undefined when its tensors are not this
   * format's. `ctx.declared` is the group the config declares when it names this format: the stored
   * tensors must then be exactly the format's `outputs` (else an InputError); without it the format reads
   * what other writers store (scale dtypes, tilings), taking hints from `ctx.qc`.
   */
  detect: (store: TensorStore, stem: string, ctx: DetectContext) => Promise<StoredLayout | undefined>;
  /** fp32 rows [r0, r0 + n) × cols of a weight this format detected. */
  decodeRows: (store: TensorStore, lay: StoredLayout, r0: number, n: number, kernels?: KernelOptions) => Promise<Float32Array>;
}

/** A quantized safetensors format m1kit writes and reads. */
export interface QuantFormat<Id extends string = string> extends StoredFormat {
  /** Registry id as a literal type, so the `--scheme` values are a typed union in the library API. */
  id: Id;
  summary: string;
  /** Block/group edge (fp8 block, int4 group); 0 for per-channel. */
  defaultGroup: number;
  /** Whether `--group-size` may change the group. */
  groupOption: boolean;
  /** Bits per weight for an [out, in] matrix, scales included. */
  bitsPerWeight: (out: number, inp: number, group: number) => number;
  /** Expected relative RMSE on Gaussian weights (rounding-step estimate, see `expectedError`). */
  expectedRelRmse: number;
  expectedError: string;
  /** Loader family reading it. */
  loader: string;
  /** Output tensors per quantized module, in file order (largest first, codes first). */
  outputs: StoredTensor[];
  /** Rows of one quantization unit: bands start on multiples of it, errors are sampled per unit. */
  rowUnit: (group: number) => number;
  /** True when a band may be a column piece of whole blocks (rows too wide for one unit of rows). */
  columnPieces: boolean;
  /** Why this [rows, cols] weight cannot be stored with `group` (completes `"<tensor>" …`), or undefined. */
  shapeProblem?: (rows: number, cols: number, group: number) => string | undefined;
  /** TypeScript reference: the stored tensors' bytes (outputs order) of a [rows, cols] fp32 weight. */
  quantizeRef: (w: Float32Array, rows: number, cols: number, group: number) => Uint8Array[];
  /** TypeScript reference: fp32 [rows, cols] from the stored tensors' bytes (outputs order). */
  dequantizeRef: (stored: Uint8Array[], rows: number, cols: number, group: number) => Float32Array;
  /**
   * Its native kernel: the line of M1K_QUANT_FORMATS (kernels/cpu/kernels.h) it runs on, with the
   * TypeScript reference the kernel matches; `encoder` and `decodeRows` call it through ops/quant.ts
   * quantizeWith / dequantizeWith.
   */
  kernel: QuantKernel;
  /** Band quantizer (native kernels with the reference as fallback, bit-identical). */
  encoder: (rows: number, cols: number, group: number, tensor?: { amax: number }) => BandEncoder;
  /**
   * Formats with a tensor-wide scale (NVFP4's global scale, from the largest finite |w|): the quantize
   * job measures that amax before the first band and passes it to `encoder`; with `fused`, over the
   * tensor and the weights an engine fuses it with (whose scales must agree; quantize/fused.ts).
   */
  tensorAmax?: { fused: boolean };
  /** `quantization_config` of a checkpoint whose quantized modules use this format. */
  quantizationConfig: (ctx: ConfigContext) => Record<string, unknown>;
  /** Rows of the engine-compatibility table (engines/compat.ts) for this format. */
  engines: EngineFact[];
}

/** A GGUF tensor type (ggml `type_traits`): block layout and the reference encoder/decoder of f32 values. */
export interface GgufType {
  /** `--dtype` spelling (lower case). */
  id: string;
  /** ggml type name. */
  ggml: string;
  /** ggml_type enum value. */
  typeId: number;
  blockSize: number;
  /** Bytes per block. */
  typeSize: number;
  /** Encode f32 values (length a multiple of blockSize) as this type's bytes. */
  encode: (src: Float32Array) => Uint8Array;
  /** Decode this type's bytes to f32. */
  decode: (src: Uint8Array) => Float32Array;
}
