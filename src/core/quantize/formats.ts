/**
 * Quantization schemes written by `m1kit quantize`, as data (printed by `quantize --list`).
 *
 * Tensor naming — the contract with loaders (vLLM/compressed-tensors/DeepSeek) and with m1kit's own
 * runtime (`src/core/model/`). For a quantized Linear whose canonical weight is `<module>.weight`
 * with shape [out, in] (`<module>` e.g. `model.layers.3.block_sparse_moe.experts.7.w1`,
 * `model.layers.0.self_attn.qkv_proj`):
 *
 * - `fp8-block` (DeepSeek-V3 block FP8, `quant_method: "fp8"`):
 *   - `<module>.weight`            F8_E4M3 [out, in]  (E4M3FN codes, saturating at ±448)
 *   - `<module>.weight_scale_inv`  F32 [⌈out/128⌉, ⌈in/128⌉]; w ≈ decode(code) · weight_scale_inv[⌊r/128⌋, ⌊c/128⌋]
 * - `int8-channel` (compressed-tensors W8A8 int8 with dynamic per-token activations, `format: "int-quantized"`;
 *   the file holds int8 weights and per-channel scales only, an engine quantizes activations at run time):
 *   - `<module>.weight`            I8 [out, in]
 *   - `<module>.weight_scale`      BF16 [out, 1];  w ≈ q · weight_scale[r, 0]
 * - `w4a16` (compressed-tensors W4A16 symmetric, `format: "pack-quantized"`, group g = 128 by default):
 *   - `<module>.weight_packed`     I32 [out, in/8]; int32 word j of row r holds columns 8j…8j+7, column 8j+i
 *                                   in bits 4i…4i+3 as the unsigned nibble q + 8
 *   - `<module>.weight_scale`      BF16 [out, in/g]; w ≈ q · weight_scale[r, ⌊c/g⌋]
 *   - `<module>.weight_shape`      I32 [2] = [out, in]
 *
 * Tensors never quantized keep their names, shapes and dtypes: embeddings, `lm_head`, every norm and the
 * router `block_sparse_moe.gate` (F32). The files keep the input's shard assignment (each quantized
 * tensor's pieces sit in the file of its source weight) unless `--max-shard-size` is given.
 */
import type { DType } from '../dtype/dtypes.js';

export type SchemeName = 'fp8-block' | 'int8-channel' | 'w4a16';

export interface SchemeOutput {
  suffix: string;
  dtype: DType;
  shape: (out: number, inp: number, group: number) => number[];
}

export interface Scheme {
  name: SchemeName;
  summary: string;
  /** Block/group edge (fp8 block, int4 group); 0 for per-channel. */
  defaultGroup: number;
  /** Bits per weight for an [out, in] matrix, scales included. */
  bitsPerWeight: (out: number, inp: number, group: number) => number;
  /** Expected relative RMSE on Gaussian weights (rounding-step estimate, see `expectedError`). */
  expectedRelRmse: number;
  expectedError: string;
  /** Output tensors per quantized module, in file order (largest first). */
  outputs: SchemeOutput[];
  /** Loader family reading it. */
  loader: string;
}

const cdiv = (a: number, b: number) => Math.ceil(a / b);

export const SCHEMES: Record<SchemeName, Scheme> = {
  'fp8-block': {
    name: 'fp8-block',
    summary: 'FP8 E4M3 weights, 128×128 block scales (DeepSeek-V3 layout, quant_method "fp8")',
    defaultGroup: 128,
    bitsPerWeight: (o, i, g) => 8 + (32 * cdiv(o, g) * cdiv(i, g)) / (o * i),
    // E4M3 keeps 3 mantissa bits: relative step 2^-3 within a binade; rms of a uniform error over the
    // step, averaged over the binade, ≈ 2^-3 · 0.75 / √12 ≈ 2.7 %
    expectedRelRmse: 0.027,
    expectedError: '≈2.7% rel. RMSE (3 mantissa bits)',
    outputs: [
      { suffix: 'weight', dtype: 'F8_E4M3', shape: (o, i) => [o, i] },
      { suffix: 'weight_scale_inv', dtype: 'F32', shape: (o, i, g) => [cdiv(o, g), cdiv(i, g)] },
    ],
    loader: 'fp8 block config (vLLM Fp8Config for Linear layers; experts need a loader patch)',
  },
  'int8-channel': {
    name: 'int8-channel',
    summary: 'INT8 symmetric per output channel, BF16 scales (compressed-tensors "int-quantized", dynamic per-token int8 activations)',
    defaultGroup: 0,
    bitsPerWeight: (_o, i) => 8 + 16 / i,
    // step = amax/127.5 with amax ≈ 4σ for rows of thousands of Gaussian weights: rms = step/√12 ≈ 0.9 % of σ
    expectedRelRmse: 0.009,
    expectedError: '≈0.9% rel. RMSE (step amax/127.5)',
    outputs: [
      { suffix: 'weight', dtype: 'I8', shape: (o, i) => [o, i] },
      { suffix: 'weight_scale', dtype: 'BF16', shape: (o) => [o, 1] },
    ],
    loader: 'compressed-tensors int-quantized (vLLM W8A8 int8 for Linear layers; m1kit runtime computes W8A16)',
  },
  w4a16: {
    name: 'w4a16',
    summary: 'INT4 symmetric, group 128, packed 8 per int32, BF16 scales (compressed-tensors W4A16, "pack-quantized")',
    defaultGroup: 128,
    bitsPerWeight: (_o, i, g) => (32 * cdiv(i, 8)) / i + 16 / g,
    // step = amax/7.5 with amax ≈ 2.6σ over 128 Gaussian weights: rms = step/√12 ≈ 10 % of σ
    expectedRelRmse: 0.1,
    expectedError: '≈10% rel. RMSE (step amax/7.5 per 128)',
    outputs: [
      { suffix: 'weight_packed', dtype: 'I32', shape: (o, i) => [o, cdiv(i, 8)] },
      { suffix: 'weight_scale', dtype: 'BF16', shape: (o, i, g) => [o, cdiv(i, g)] },
      { suffix: 'weight_shape', dtype: 'I32', shape: () => [2] },
    ],
    loader: 'compressed-tensors pack-quantized (vLLM WNA16 for Linear layers)',
  },
};

export const SCHEME_NAMES = Object.keys(SCHEMES) as SchemeName[];

export const isSchemeName = (s: unknown): s is SchemeName => typeof s === 'string' && Object.prototype.hasOwnProperty.call(SCHEMES, s);
