/**
 * `nvfp4`: NVFP4 weights as compressed-tensors writes them (`format: "nvfp4-pack-quantized"`, weight-only
 * `NVFP4A16`; docs/ecosystem.md §2.5). Per quantized Linear `<module>` [out, in]:
 * - `<module>.weight_packed`        U8 [out, in/2]; E2M1 codes, column 2j in the low nibble of byte j
 * - `<module>.weight_scale`         F8_E4M3 [out, in/16]
 * - `<module>.weight_global_scale`  F32 [1]; w ≈ e2m1(q) · weight_scale[r, ⌊c/16⌋] / weight_global_scale
 * The global scale comes from the amax of the tensor and of the weights an engine fuses it with,
 * measured by the quantize job before the first band (`tensorAmax`, quantize/fused.ts).
 * Reference math: core/quant/nvfp4.ts (kernel: kernels/cpu/mx_impl.h, slots quant_nvfp4/dequant_nvfp4).
 */
import { InputError } from '../errors.js';
import { dequantizeWith, quantizeWith } from '../ops/quant.js';
import { dequantizeNvfp4Rows, NVFP4_GROUP, nvfp4GlobalScale, nvfp4Kernel, quantizeNvfp4Rows, tensorAmax } from '../quant/nvfp4.js';
import { aligned, bytesOf, cdiv, checkStored, decodeValues, readRows } from './common.js';
import type { QuantFormat, StoredLayout, TensorStore } from './format.js';
import { floatConfig, floatFromConfig, floatWeights, vllmFloatFacts, wholeGroups } from './microscale-common.js';

const FORMAT = 'nvfp4-pack-quantized';

const outputs: QuantFormat['outputs'] = [
  { suffix: 'weight_packed', dtype: 'U8', shape: (o, i) => [o, cdiv(i, 2)] },
  { suffix: 'weight_scale', dtype: 'F8_E4M3', shape: (o, i) => [o, cdiv(i, NVFP4_GROUP)] },
  { suffix: 'weight_global_scale', dtype: 'F32', shape: () => [1] },
];

async function globalScaleOf(store: TensorStore, name: string): Promise<number> {
  const info = store.info(name);
  if (info.shape.reduce((a, b) => a * b, 1) !== 1) throw new InputError('E_QUANT_SHAPE', `${name}: expected one global scale, found shape [${info.shape.join(', ')}]`);
  const g = decodeValues(await store.read(name), info.dtype, 1)[0]!;
  if (!(g > 0) || !Number.isFinite(g)) throw new InputError('E_QUANT_SCALE', `${name}: global scale must be a positive finite number, found ${g}`);
  return g;
}

export const nvfp4: QuantFormat<'nvfp4'> = {
  id: 'nvfp4',
  detectRank: 10, // packed E2M1 with a global scale: before MXFP4, whose tensors it also has
  summary: 'NVFP4: E2M1 packed 2 per byte, E4M3 scales per 16, fp32 global scale (compressed-tensors "nvfp4-pack-quantized", weight-only)',
  defaultGroup: NVFP4_GROUP,
  groupOption: false,
  bitsPerWeight: (o, i) => (8 * cdiv(i, 2)) / i + 8 / NVFP4_GROUP + 32 / (o * i),
  // measured with the reference on Gaussian weights: 9.4 % (E2M1 steps of ≈ amax_g/6 over 16 values)
  expectedRelRmse: 0.094,
  expectedError: '≈9% rel. RMSE (E2M1, FP8 scale per 16)',
  loader: 'compressed-tensors nvfp4-pack-quantized (weight-only NVFP4A16)',
  outputs,
  rowUnit: () => 128,
  columnPieces: false,
  shapeProblem: wholeGroups('nvfp4', NVFP4_GROUP),

  quantizeRef(w, rows, cols) {
    const g = nvfp4GlobalScale(tensorAmax(w));
    const { packed, scale } = quantizeNvfp4Rows(w, rows, cols, g);
    return [packed, scale, bytesOf(new Float32Array([g]))];
  },

  dequantizeRef([p, s, g], rows, cols) {
    return dequantizeNvfp4Rows(p!, s!, new Float32Array(aligned(g!))[0]!, rows, cols);
  },

  kernel: nvfp4Kernel,

  encoder(rows, cols, _g, tensor) {
    if (tensor === undefined) throw new InputError('E_QUANT_SCALE', 'nvfp4 encoder: the tensor amax (global scale input) is required');
    const ng = cdiv(cols, NVFP4_GROUP);
    const scale = new Uint8Array(rows * ng);
    const g = nvfp4GlobalScale(tensor.amax);
    return {
      codeBytes: (n, w) => n * cdiv(w, 2),
      async band(input, r0, n, _c0, w, into, o) {
        const r = await quantizeWith(nvfp4Kernel, input, n, w, NVFP4_GROUP, { ...o.kernels, errors: o.errors, params: { globalScale: g }, out: { codes: new Uint8Array(into, 0, n * cdiv(w, 2)), scale: scale.subarray(r0 * ng, (r0 + n) * ng) } });
        return r.codes;
      },
      finish: () => [scale, bytesOf(new Float32Array([g]))],
    };
  },

  tensorAmax: { fused: true },

  quantizationConfig: (ctx) => floatConfig(FORMAT, floatWeights(4, 'tensor_group', NVFP4_GROUP, 'torch.float8_e4m3fn'), ctx),

  fromConfig: (qc, where) => floatFromConfig(qc, where, FORMAT, 4, NVFP4_GROUP),

  async detect(store, stem, { declared }) {
    const data = `${stem}.weight_packed`;
    const gs = `${stem}.weight_global_scale`;
    if (!store.has(data) || store.info(data).dtype !== 'U8' || !store.has(gs)) return undefined;
    const s = store.info(data).shape;
    const lay: StoredLayout = { name: `${stem}.weight`, format: 'nvfp4', rows: s[0] ?? 0, cols: (s[1] ?? 0) * 2, group: NVFP4_GROUP, tensors: [data, `${stem}.weight_scale`, gs], dtype: 'U8' };
    if (declared !== undefined) {
      checkStored(store, lay, outputs, stem);
      return lay;
    }
    checkStored(store, lay, outputs.slice(0, 2), stem); // the global scale may be [] or [1], in F32 or BF16
    return lay;
  },

  async decodeRows(store, lay, r0, n, kernels = {}) {
    const g = await globalScaleOf(store, lay.tensors[2]!);
    const packed = await readRows(store, lay.tensors[0]!, r0, n, cdiv(lay.cols, 2));
    const scale = await readRows(store, lay.tensors[1]!, r0, n, cdiv(lay.cols, NVFP4_GROUP));
    return dequantizeWith(nvfp4Kernel, packed, scale, n, lay.cols, NVFP4_GROUP, { ...kernels, params: { globalScale: g } });
  },

  engines: vllmFloatFacts('NVFP4'),
};
