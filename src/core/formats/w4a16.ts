/**
 * `w4a16`: compressed-tensors W4A16 symmetric (`format: "pack-quantized"`, group g = 128 by default).
 * Per quantized Linear `<module>`:
 * - `<module>.weight_packed`  I32 [out, in/8]; int32 word j of row r holds columns 8j…8j+7, column 8j+i
 *                             in bits 4i…4i+3 as the unsigned nibble q + 8
 * - `<module>.weight_scale`   BF16 [out, in/g]; w ≈ q · weight_scale[r, ⌊c/g⌋]
 * - `<module>.weight_shape`   I32 [2] = [out, in]
 * Reference math: core/quant/int4.ts.
 */
import { bf16ToF32, f32ToBf16 } from '../dtype/convert.js';
import { InputError } from '../errors.js';
import { dequantizeWith, quantizeWith } from '../ops/quant.js';
import { dequantizeInt4Rows, int4Kernel, quantizeInt4Rows } from '../quant/int4.js';
import { aligned, bytesOf, cdiv, checkStored, ctConfig, ctWeights, declaredGroupSize, decodeValues, readRows, readScaleRows } from './common.js';
import { vllmAttentionOnly } from './engine-facts.js';
import type { QuantFormat, StoredLayout } from './format.js';

const outputs: QuantFormat['outputs'] = [
  { suffix: 'weight_packed', dtype: 'I32', shape: (o, i) => [o, cdiv(i, 8)] },
  { suffix: 'weight_scale', dtype: 'BF16', shape: (o, i, g) => [o, cdiv(i, g)] },
  { suffix: 'weight_shape', dtype: 'I32', shape: () => [2] },
];

const weights = (group: number) => ({ num_bits: 4, type: 'int', symmetric: true, strategy: 'group', group_size: group, block_structure: null, dynamic: false, actorder: null, observer: 'minmax', observer_kwargs: {} });

export const w4a16: QuantFormat<'w4a16'> = {
  id: 'w4a16',
  detectRank: 30,
  summary: 'INT4 symmetric, group 128, packed 8 per int32, BF16 scales (compressed-tensors W4A16, "pack-quantized")',
  defaultGroup: 128,
  groupOption: true,
  bitsPerWeight: (_o, i, g) => (32 * cdiv(i, 8)) / i + 16 / g,
  // step = amax/7.5 with amax ≈ 2.6σ over 128 Gaussian weights: rms = step/√12 ≈ 10 % of σ
  expectedRelRmse: 0.1,
  expectedError: '≈10% rel. RMSE (step amax/7.5 per 128)',
  loader: 'compressed-tensors pack-quantized (vLLM WNA16 for Linear layers)',
  outputs,
  rowUnit: () => 128,
  columnPieces: false,
  shapeProblem: (_r, C, g) =>
    C % g !== 0 ? `has ${C} input columns, not a multiple of the w4a16 group ${g} (partial groups are not defined for pack-quantized loaders); try --group-size ${[64, 32, 16, 8].find((x) => C % x === 0) ?? 8}` : undefined,

  quantizeRef(w, rows, cols, g) {
    const { packed, scale } = quantizeInt4Rows(w, rows, cols, g, { scaleDtype: 'BF16' });
    return [bytesOf(packed), bytesOf(f32ToBf16(scale)), bytesOf(new Int32Array([rows, cols]))];
  },

  dequantizeRef([p, s], rows, cols, g) {
    return dequantizeInt4Rows(new Int32Array(aligned(p!)), bf16ToF32(new Uint16Array(aligned(s!))), rows, cols, g);
  },

  kernel: int4Kernel,

  encoder(rows, cols, g) {
    const nbc = cdiv(cols, g);
    const scale = new Uint16Array(rows * nbc);
    return {
      codeBytes: (n, w) => n * cdiv(w, 8) * 4,
      async band(input, r0, n, _c0, w, into, o) {
        const r = await quantizeWith(int4Kernel, input, n, w, g, { ...o.kernels, errors: o.errors, params: { bf16Scale: true }, out: { codes: new Int32Array(into) } });
        scale.set(f32ToBf16(r.scale), r0 * nbc);
        return bytesOf(r.codes);
      },
      finish: () => [bytesOf(scale), bytesOf(new Int32Array([rows, cols]))],
    };
  },

  quantizationConfig: (ctx) => ctConfig('pack-quantized', weights(ctx.group), null, ctx),

  fromConfig(qc) {
    if (qc.quant_method !== 'compressed-tensors' || qc.format !== 'pack-quantized') return undefined;
    const w = ctWeights(qc);
    return w.num_bits === 4 && w.strategy === 'group' && Number.isInteger(w.group_size) ? { group: w.group_size as number } : undefined;
  },

  async detect(store, stem, { declared, qc }) {
    const data = `${stem}.weight_packed`;
    if (!store.has(data)) return undefined;
    const sc = `${stem}.weight_scale`;
    const shp = `${stem}.weight_shape`;
    if (!store.has(sc)) throw new InputError('E_QUANT_MISSING', `${sc}: missing scale for packed weight ${data}`);
    const info = store.info(data);
    if (info.dtype !== 'I32') throw new InputError('E_DTYPE', `${data}: expected I32 packed int4, found ${info.dtype}`);
    let rows = info.shape[0] ?? 0;
    let cols = (info.shape[1] ?? 0) * 8;
    if (store.has(shp)) {
      const v = decodeValues(await store.read(shp), store.info(shp).dtype, 2);
      rows = v[0]!;
      cols = v[1]!;
    }
    const lay: StoredLayout = { name: `${stem}.weight`, format: 'w4a16', rows, cols, group: declared ?? 0, tensors: [data, sc, shp], dtype: 'I32' };
    if (declared !== undefined) {
      checkStored(store, lay, outputs, stem); // declared by the config: exactly m1kit's layout
      return lay;
    }
    // a pack-quantized checkpoint of another writer: the group from the scale's width
    const s = store.info(sc).shape;
    const sCols = s.length < 2 ? 1 : s[1]!;
    const hint = declaredGroupSize(qc);
    const g = hint !== undefined && sCols === cdiv(cols, hint) ? hint : sCols === cdiv(cols, 128) ? 128 : cdiv(cols, Math.max(1, sCols));
    if (cdiv(cols, g) !== sCols || (s[0] ?? 1) !== rows) throw new InputError('E_QUANT_SHAPE', `${sc} [${s.join(', ')}]: scale entries do not tile the ${rows}×${cols} packed weight ${data}`);
    return { ...lay, group: g };
  },

  async decodeRows(store, lay, r0, n, kernels = {}) {
    const words = cdiv(lay.cols, 8);
    const ng = cdiv(lay.cols, lay.group);
    const packed = new Int32Array(aligned(await readRows(store, lay.tensors[0]!, r0, n, words * 4)));
    const scale = await readScaleRows(store, lay.tensors[1]!, r0, n, ng);
    return dequantizeWith(int4Kernel, packed, scale, n, lay.cols, lay.group, kernels);
  },

  engines: vllmAttentionOnly('compressed-tensors WNA16 for the attention Linears; experts ignored'),
};

