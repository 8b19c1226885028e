/**
 * `mxfp8`: OCP MXFP8 weights in compressed-tensors' storage (`format: "mxfp8-quantized"`, weight-only
 * `MXFP8A16`; docs/ecosystem.md §2.5). Per quantized Linear `<module>` [out, in]:
 * - `<module>.weight`        F8_E4M3 [out, in]; E4M3 codes (RNE, saturating at ±448)
 * - `<module>.weight_scale`  U8 [out, in/32]; E8M0 exponents e, w ≈ e4m3(q) · 2^(e − 127)
 * The record is built by mx-format.ts; reference math: core/quant/mx.ts.
 */
import { mxFormat } from './mx-format.js';

export const mxfp8 = mxFormat({
  id: 'mxfp8',
  detectRank: 50, // E4M3 codes with U8 scales: after fp8-block, whose scales are F32 `weight_scale_inv`
  elem: 'e4m3',
  ctFormat: 'mxfp8-quantized',
  codes: { suffix: 'weight', dtype: 'F8_E4M3' },
  summary: 'MXFP8: E4M3 elements, E8M0 scales per 32 (OCP MX; compressed-tensors "mxfp8-quantized", weight-only)',
  // measured with the reference on Gaussian weights: 2.5 % (3 mantissa bits, as fp8-block)
  expectedRelRmse: 0.025,
  expectedError: '≈2.5% rel. RMSE (E4M3, power-of-two scale per 32)',
});
