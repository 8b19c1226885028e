/**
 * `fp8-block`: DeepSeek-V3 block FP8 (`quant_method: "fp8"`). Per quantized Linear `<module>`:
 * - `<module>.weight`            F8_E4M3 [out, in] (E4M3FN codes, saturating at ±448)
 * - `<module>.weight_scale_inv`  F32 [⌈out/128⌉, ⌈in/128⌉]; w ≈ decode(code) · weight_scale_inv[⌊r/128⌋, ⌊c/128⌋]
 * Reference math: core/quant/fp8.ts (DeepSeek `weight_dequant`: fp32(decode(code) · scale_inv)).
 */
import { InputError } from '../errors.js';
import { dequantizeWith, quantizeWith } from '../ops/quant.js';
import { dequantizeFp8Matrix, fp8Kernel, quantizeFp8Matrix } from '../quant/fp8.js';
import { aligned, bytesOf, cdiv, checkStored, readRows, readScaleRows } from './common.js';
import { vllmAttentionOnly } from './engine-facts.js';
import type { QuantFormat, StoredLayout } from './format.js';

const outputs: QuantFormat['outputs'] = [
  { suffix: 'weight', dtype: 'F8_E4M3', shape: (o, i) => [o, i] },
  { suffix: 'weight_scale_inv', dtype: 'F32', shape: (o, i, g) => [cdiv(o, g), cdiv(i, g)] },
];

export const fp8Block: QuantFormat<'fp8-block'> = {
  id: 'fp8-block',
  detectRank: 40,
  summary: 'FP8 E4M3 weights, 128×128 block scales (DeepSeek-V3 layout, quant_method "fp8")',
  defaultGroup: 128,
  groupOption: false,
  bitsPerWeight: (o, i, g) => 8 + (32 * cdiv(o, g) * cdiv(i, g)) / (o * i),
  // E4M3 keeps 3 mantissa bits: relative step 2^-3 within a binade; rms of a uniform error over the
  // step, averaged over the binade, ≈ 2^-3 · 0.75 / √12 ≈ 2.7 %
  expectedRelRmse: 0.027,
  expectedError: '≈2.7% rel. RMSE (3 mantissa bits)',
  loader: 'fp8 block config (vLLM Fp8Config for Linear layers; experts need a loader patch)',
  outputs,
  rowUnit: (g) => g,
  columnPieces: true,

  quantizeRef(w, rows, cols, g) {
    const { codes, scaleInv } = quantizeFp8Matrix(w, rows, cols, g);
    return [codes, bytesOf(scaleInv)];
  },

  dequantizeRef: ([codes, scaleBytes], rows, cols, g) => dequantizeFp8Matrix(codes!, new Float32Array(aligned(scaleBytes!)), rows, cols, g),

  kernel: fp8Kernel,

  encoder(rows, cols, g) {
    const nbc = cdiv(cols, g);
    const scale = new Float32Array(cdiv(rows, g) * nbc);
    return {
      codeBytes: (n, w) => n * w,
      async band(input, r0, n, c0, w, into, o) {
        const codes = new Uint8Array(into);
        if (w === cols) {
          const view = scale.subarray((r0 / g) * nbc, (r0 / g + cdiv(n, g)) * nbc);
          await quantizeWith(fp8Kernel, input, n, cols, g, { ...o.kernels, errors: o.errors, out: { codes, scale: view } });
          return codes;
        }
        // a column piece of whole blocks: its scales go to their columns of the tensor's scale
        const pw = cdiv(w, g);
        const piece = new Float32Array(cdiv(n, g) * pw);
        await quantizeWith(fp8Kernel, input, n, w, g, { ...o.kernels, errors: o.errors, out: { codes, scale: piece } });
        for (let b = 0; b < cdiv(n, g); b++) scale.set(piece.subarray(b * pw, (b + 1) * pw), (r0 / g + b) * nbc + c0 / g);
        return codes;
      },
      finish: () => [bytesOf(scale)],
    };
  },

  quantizationConfig: (ctx) => ({ quant_method: 'fp8', fmt: 'e4m3', activation_scheme: 'dynamic', weight_block_size: [ctx.group, ctx.group], modules_to_not_convert: ctx.skipModules }),

  fromConfig(qc, where) {
    if (qc.quant_method !== 'fp8') return undefined;
    const b = qc.weight_block_size;
    if (!Array.isArray(b) || b.length !== 2 || b[0] !== b[1] || !Number.isInteger(b[0]) || (b[0] as number) < 1) {
      throw new InputError('E_QUANT_CONFIG', `${where}: quantization_config.weight_block_size must be [n, n], got ${JSON.stringify(b)}`);
    }
    return { group: b[0] as number };
  },

  async detect(store, stem, { declared: group }) {
    const data = `${stem}.weight`;
    if (!store.has(data) || !store.has(`${stem}.weight_scale_inv`) || (group === undefined && store.info(data).dtype !== 'F8_E4M3')) return undefined;
    const info = store.info(data);
    const [rows, cols] = [info.shape[0] ?? 0, info.shape[1] ?? 0];
    const g = group ?? 128;
    const lay: StoredLayout = { name: data, format: 'fp8-block', rows, cols, group: g, tensors: [data, `${stem}.weight_scale_inv`], dtype: 'F8_E4M3' };
    // block FP8 tiles are declared (weight_block_size, 128 when absent), never guessed from the scale's shape
    const s = store.info(lay.tensors[1]!).shape;
    if (s.length !== 2 || s[0] !== cdiv(rows, g) || s[1] !== cdiv(cols, g)) throw new InputError('E_QUANT_SHAPE', `${lay.tensors[1]} [${s.join(', ')}] for ${rows}×${cols}: expected [${cdiv(rows, g)}, ${cdiv(cols, g)}] (${g}×${g} blocks)`);
    if (group !== undefined) checkStored(store, lay, outputs, stem); // declared by the config: exactly m1kit's layout
    return lay;
  },

  async decodeRows(store, lay, r0, r1n, kernels = {}) {
    const { cols: C, group: g } = lay;
    const r1 = r0 + r1n;
    const out = new Float32Array(r1n * C);
    const nb = cdiv(C, g);
    for (let r = r0; r < r1; ) {
      const br = Math.floor(r / g);
      const end = Math.min(r1, (br + 1) * g);
      const codes = new Uint8Array(aligned(await readRows(store, lay.tensors[0]!, r, end - r, C)));
      const scale = await readScaleRows(store, lay.tensors[1]!, br, 1, nb);
      out.set(await dequantizeWith(fp8Kernel, codes, scale, end - r, C, g, kernels), (r - r0) * C);
      r = end;
    }
    return out;
  },

  engines: [
    ...vllmAttentionOnly('Fp8Config block FP8 for the attention Linears; experts skipped (modules_to_not_convert holds model.layers.N.experts)'),
    { engine: 'sglang', versions: 'any', targets: 'all', status: 'not known', why: "SGLang's fp8 loader rules are not re-implemented in m1kit" },
    { engine: 'llama.cpp', versions: 'any', targets: 'all', status: 'rejected', why: 'llama.cpp reads GGUF only; quantize to GGUF with convert --to gguf' },
  ],
};
