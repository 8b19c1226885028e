/**
 * `int8-channel`: compressed-tensors W8A8 int8 with dynamic per-token activations (`format:
 * "int-quantized"`); the file holds int8 weights and per-channel scales only, an engine quantizes
 * activations at run time. Per quantized Linear `<module>`:
 * - `<module>.weight`        I8 [out, in]
 * - `<module>.weight_scale`  BF16 [out, 1]; w ≈ q · weight_scale[r, 0]
 * Reference math: core/quant/int8.ts. Written as W8A8 because vLLM's compressed-tensors parser rejects
 * int weights with no activation scheme; the weights and scales are the same bytes as W8A16.
 */
import { f32ToBf16, bf16ToF32 } from '../dtype/convert.js';
import { dequantizeWith, quantizeWith } from '../ops/quant.js';
import { dequantizeInt8Rows, int8Kernel, quantizeInt8Rows } from '../quant/int8.js';
import { aligned, bytesOf, checkStored, ctConfig, ctWeights, readRows, readScaleRows } from './common.js';
import { vllmAttentionOnly } from './engine-facts.js';
import type { QuantFormat, StoredLayout } from './format.js';

const outputs: QuantFormat['outputs'] = [
  { suffix: 'weight', dtype: 'I8', shape: (o, i) => [o, i] },
  { suffix: 'weight_scale', dtype: 'BF16', shape: (o) => [o, 1] },
];

/** Dynamic symmetric per-token int8 activations (what vLLM's W8A8 int8 schemes require). */
const INT8_TOKEN_ACTIVATIONS = { num_bits: 8, type: 'int', symmetric: true, strategy: 'token', group_size: null, block_structure: null, dynamic: true, actorder: null, observer: null, observer_kwargs: {} };
const WEIGHTS = { num_bits: 8, type: 'int', symmetric: true, strategy: 'channel', group_size: null, block_structure: null, dynamic: false, actorder: null, observer: 'minmax', observer_kwargs: {} };

export const int8Channel: QuantFormat<'int8-channel'> = {
  id: 'int8-channel',
  detectRank: 60, // m1kit's own int8 layout: before ct-scaled, which reads any tiling
  summary: 'INT8 symmetric per output channel, BF16 scales (compressed-tensors "int-quantized", dynamic per-token int8 activations)',
  defaultGroup: 0,
  groupOption: false,
  bitsPerWeight: (_o, i) => 8 + 16 / i,
  // step = amax/127.5 with amax ≈ 4σ for rows of thousands of Gaussian weights: rms = step/√12 ≈ 0.9 % of σ
  expectedRelRmse: 0.009,
  expectedError: '≈0.9% rel. RMSE (step amax/127.5)',
  loader: 'compressed-tensors int-quantized (vLLM W8A8 int8 for Linear layers; m1kit runtime computes W8A16)',
  outputs,
  rowUnit: () => 128,
  columnPieces: false,

  quantizeRef(w, rows, cols) {
    const { q, scale } = quantizeInt8Rows(w, rows, cols, { scaleDtype: 'BF16' });
    return [bytesOf(q), bytesOf(f32ToBf16(scale))];
  },

  dequantizeRef([q, s], rows, cols) {
    return dequantizeInt8Rows(new Int8Array(aligned(q!)), bf16ToF32(new Uint16Array(aligned(s!))), rows, cols);
  },

  kernel: int8Kernel,

  encoder(rows) {
    const scale = new Uint16Array(rows);
    return {
      codeBytes: (n, w) => n * w,
      async band(input, r0, n, _c0, w, into, o) {
        const r = await quantizeWith(int8Kernel, input, n, w, 1, { ...o.kernels, errors: o.errors, params: { bf16Scale: true }, out: { codes: new Int8Array(into) } });
        scale.set(f32ToBf16(r.scale), r0);
        return bytesOf(r.codes);
      },
      finish: () => [bytesOf(scale)],
    };
  },

  quantizationConfig: (ctx) => ctConfig('int-quantized', WEIGHTS, INT8_TOKEN_ACTIVATIONS, ctx),

  fromConfig(qc) {
    if (qc.quant_method !== 'compressed-tensors' || qc.format !== 'int-quantized') return undefined;
    const w = ctWeights(qc);
    return w.num_bits === 8 && w.strategy === 'channel' ? { group: 0 } : undefined;
  },

  async detect(store, stem, { declared: group }) {
    const data = `${stem}.weight`;
    const sc = `${stem}.weight_scale`;
    if (!store.has(data) || !store.has(sc) || (group === undefined && store.info(data).dtype !== 'I8')) return undefined;
    const info = store.info(data);
    const s = store.info(sc).shape;
    const rows = info.shape[0] ?? 0;
    const cols = info.shape.length > 1 ? info.shape.slice(1).reduce((a, b) => a * b, 1) : 1;
    const lay: StoredLayout = { name: data, format: 'int8-channel', rows, cols, group: 0, tensors: [data, sc], dtype: 'I8' };
    if (group !== undefined) {
      checkStored(store, lay, outputs, stem); // declared by the config: exactly m1kit's layout
      return lay;
    }
    // an int8 checkpoint of another writer: one scale per row, in any float dtype
    return s[0] === rows && (s.length === 1 || (s.length === 2 && s[1] === 1)) ? lay : undefined;
  },

  async decodeRows(store, lay, r0, n, kernels = {}) {
    const codes = new Int8Array(aligned(await readRows(store, lay.tensors[0]!, r0, n, lay.cols)));
    const scale = await readScaleRows(store, lay.tensors[1]!, r0, n, 1);
    return dequantizeWith(int8Kernel, codes, scale, n, lay.cols, 1, kernels);
  },

  engines: vllmAttentionOnly('compressed-tensors W8A8 int8 (dynamic per-token activations) for the attention Linears; experts ignored'),
};
