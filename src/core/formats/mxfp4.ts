/**
 * `mxfp4`: OCP MXFP4 weights in compressed-tensors' storage (`format: "mxfp4-pack-quantized"`, weight-only
 * `MXFP4A16`; docs/ecosystem.md §2.5). Per quantized Linear `<module>` [out, in]:
 * - `<module>.weight_packed`  U8 [out, in/2]; E2M1 codes, column 2j in the low nibble of byte j
 * - `<module>.weight_scale`   U8 [out, in/32]; E8M0 exponents e, w ≈ e2m1(q) · 2^(e − 127)
 * The record is built by mx-format.ts; reference math: core/quant/mx.ts.
 */
import { mxFormat } from './mx-format.js';

export const mxfp4 = mxFormat({
  id: 'mxfp4',
  detectRank: 20,
  elem: 'e2m1',
  ctFormat: 'mxfp4-pack-quantized',
  codes: { suffix: 'weight_packed', dtype: 'U8' },
  summary: 'MXFP4: E2M1 packed 2 per byte, E8M0 scales per 32 (OCP MX; compressed-tensors "mxfp4-pack-quantized", weight-only)',
  // measured with the reference on Gaussian weights: 11 % (power-of-two scales waste up to one binade)
  expectedRelRmse: 0.11,
  expectedError: '≈11% rel. RMSE (E2M1, power-of-two scale per 32)',
});
