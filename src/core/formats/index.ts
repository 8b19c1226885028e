/**
 * The quant-format registry: one record per storage format, as ggml's `type_traits` table has one per
 * tensor type. Every caller asks here (quantize planning and jobs, convert's and the runtime's decoder,
 * config writing and reading, validation, `quantize --list`, the engine-compatibility table); nothing
 * else branches on a format's name.
 *
 * Adding a safetensors format `xyz` is one module, its entry below, and one kernel slot:
 * 1. `formats/xyz.ts` exports a `QuantFormat<'xyz'>` (format.ts): its stored tensors (`outputs`), its
 *    reference `quantizeRef`/`dequantizeRef`, its `kernel` (a `QuantKernel`, core/quant/kernel.ts: the
 *    kernel's name, buffers and the reference it matches), a band `encoder` and `decodeRows` that run that
 *    kernel through ops/quant.ts `quantizeWith`/`dequantizeWith`, its `quantizationConfig` fragment,
 *    `fromConfig` + `detect` (recognise it from a config and from stored tensors) with its `detectRank`,
 *    and its `engines` rows. Its pure math may sit in the module or in core/quant/.
 * 2. Its entry in `QUANT_FORMATS` below (the order of `quantize --list`). Its id becomes a `--scheme` value
 *    and a literal of `SchemeId`; the decoder's order comes from the ranks.
 * 3. The kernel slot: one line in M1K_QUANT_FORMATS (kernels/cpu/kernels.h), named as `kernel.name`, and
 *    its `_impl.h` (included by kernels/cpu/table_impl.h). The N-API entry, the addon's format check and
 *    the slot table follow from that line; a test checks that the registry's kernels and the addon's
 *    quant slots are the same set.
 * A GGUF type is a `GgufType` module in formats/gguf/, added to `GGUF_TYPES`.
 */
import { dtypeBytes, numel } from '../dtype/dtypes.js';
import { InputError, UsageError } from '../errors.js';
import { ctScaled } from './ct-scaled.js';
import type { GgufType, QuantFormat, StoredFormat } from './format.js';
import { fp8Block } from './fp8-block.js';
import { ggufBf16 } from './gguf/bf16.js';
import { ggufF16 } from './gguf/f16.js';
import { ggufF32 } from './gguf/f32.js';
import { ggufQ4_0 } from './gguf/q4_0.js';
import { ggufQ8_0 } from './gguf/q8_0.js';
import { int8Channel } from './int8-channel.js';
import { mxfp4 } from './mxfp4.js';
import { mxfp8 } from './mxfp8.js';
import { nvfp4 } from './nvfp4.js';
import { w4a16 } from './w4a16.js';

export type { BandEncoder, ConfigContext, DetectContext, EngineFact, GgufType, QuantFormat, StoredFormat, StoredLayout, StoredTensor, TensorStore } from './format.js';

/** The formats `quantize --scheme` writes, in the order `quantize --list` prints them. */
export const QUANT_FORMATS = [fp8Block, int8Channel, w4a16, nvfp4, mxfp4, mxfp8] as const;

/** Layouts the decoder reads that m1kit does not write. */
const READ_ONLY_FORMATS: readonly StoredFormat[] = [ctScaled];

/**
 * Formats the decoder recognises from stored tensors, tried by `detectRank` (most specific first):
 * nvfp4 10, mxfp4 20, w4a16 30, fp8-block 40, mxfp8 50, int8-channel 60, ct-scaled 90.
 */
export const STORED_FORMATS: readonly StoredFormat[] = [...QUANT_FORMATS, ...READ_ONLY_FORMATS].sort((a, b) => a.detectRank - b.detectRank);

/** GGUF tensor types m1kit encodes. */
export const GGUF_TYPES: readonly GgufType[] = [ggufF32, ggufF16, ggufBf16, ggufQ8_0, ggufQ4_0];

/** Registry id of a writable format (a `--scheme` value): a literal union, so a library caller's typo fails to compile. */
export type SchemeId = (typeof QUANT_FORMATS)[number]['id'];

/** Registry ids of the writable formats (the `--scheme` values). */
export const SCHEME_IDS: readonly SchemeId[] = QUANT_FORMATS.map((f) => f.id);

/** The writable format `id`, or undefined. */
export function findFormat(id: string): QuantFormat<SchemeId> | undefined {
  return QUANT_FORMATS.find((f) => f.id === id);
}

/** The writable format `id`; a UsageError naming the known ones otherwise. */
export function formatOf(id: string, what = '--scheme'): QuantFormat<SchemeId> {
  const f = findFormat(id);
  if (!f) throw new UsageError(`${what} must be one of ${SCHEME_IDS.join(', ')}; got "${id}"`);
  return f;
}

/** The format a `quantization_config` declares, with its group, or undefined when none of the registry's does. */
export function declaredFormat(qc: Record<string, unknown>, where: string): { format: QuantFormat; group: number } | undefined {
  for (const format of QUANT_FORMATS) {
    const d = format.fromConfig(qc, where);
    if (d) return { format, group: d.group };
  }
  return undefined;
}

/** As declaredFormat, but a config no format recognises is an InputError (E_QUANT_CONFIG) naming `where`. */
export function requireDeclaredFormat(qc: Record<string, unknown>, where: string): { format: QuantFormat; group: number } {
  const d = declaredFormat(qc, where);
  if (d) return d;
  throw new InputError('E_QUANT_CONFIG', `${where}: quantization_config ${JSON.stringify(qc).slice(0, 160)} is not a scheme m1kit reads (${QUANT_FORMATS.map((f) => f.id).join(', ')})`);
}

/** Bytes of one [out, in] matrix stored in format `f` with `group`: its stored tensors, scales included. */
export function storedBytes(f: QuantFormat, out: number, inp: number, group = f.defaultGroup): number {
  return f.outputs.reduce((s, o) => s + numel(o.shape(out, inp, group)) * dtypeBytes(o.dtype), 0);
}

/** The GGUF type named `ggml` (ggml spelling, e.g. `Q8_0`). */
export function ggufTypeOf(ggml: string): GgufType {
  const t = GGUF_TYPES.find((x) => x.ggml === ggml);
  if (!t) throw new InputError('E_GGUF_TYPE', `no GGUF type ${ggml} in m1kit's registry (${GGUF_TYPES.map((x) => x.ggml).join(', ')})`);
  return t;
}
