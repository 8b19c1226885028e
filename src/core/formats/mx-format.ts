/**
 * The OCP MX weight formats (mxfp4.ts, mxfp8.ts) as one record builder: blocks of 32 input columns with
 * an E8M0 scale each (`<module>.weight_scale` U8 [out, in/32]) and E2M1 (packed two per byte) or E4M3
 * elements, in compressed-tensors' storage (docs/ecosystem.md §2.5). Reference math: core/quant/mx.ts;
 * kernels: kernels/cpu/mx_impl.h (slots quant_/dequant_mxfp4, quant_/dequant_mxfp8).
 */
import { dequantizeWith, quantizeWith } from '../ops/quant.js';
import type { MxElement } from '../quant/e8m0.js';
import { dequantizeMxRows, MX_BLOCK, MX_KERNELS, mxRowBytes, quantizeMxRows } from '../quant/mx.js';
import { cdiv, checkStored, readRows } from './common.js';
import type { QuantFormat, StoredLayout } from './format.js';
import { floatConfig, floatFromConfig, floatWeights, vllmFloatFacts, wholeGroups } from './microscale-common.js';

/** What distinguishes MXFP4 from MXFP8. */
export interface MxSpec<Id extends 'mxfp4' | 'mxfp8'> {
  id: Id;
  detectRank: number;
  elem: MxElement;
  /** compressed-tensors `format`. */
  ctFormat: string;
  /** The codes tensor: `weight_packed` U8 (E2M1 pairs) or `weight` F8_E4M3. */
  codes: { suffix: string; dtype: 'U8' | 'F8_E4M3' };
  summary: string;
  expectedRelRmse: number;
  expectedError: string;
}

export function mxFormat<Id extends 'mxfp4' | 'mxfp8'>(spec: MxSpec<Id>): QuantFormat<Id> {
  const { id, elem } = spec;
  const numBits = elem === 'e2m1' ? 4 : 8;
  const outputs: QuantFormat['outputs'] = [
    { suffix: spec.codes.suffix, dtype: spec.codes.dtype, shape: (o, i) => [o, mxRowBytes(elem, i)] },
    { suffix: 'weight_scale', dtype: 'U8', shape: (o, i) => [o, cdiv(i, MX_BLOCK)] },
  ];
  return {
    id,
    detectRank: spec.detectRank,
    summary: spec.summary,
    defaultGroup: MX_BLOCK,
    groupOption: false,
    bitsPerWeight: (_o, i) => (8 * mxRowBytes(elem, i)) / i + 8 / MX_BLOCK,
    expectedRelRmse: spec.expectedRelRmse,
    expectedError: spec.expectedError,
    loader: `compressed-tensors ${spec.ctFormat} (weight-only ${id.toUpperCase()}A16)`,
    outputs,
    rowUnit: () => 128,
    columnPieces: false,
    shapeProblem: wholeGroups(id, MX_BLOCK),

    quantizeRef(w, rows, cols) {
      const { codes, scale } = quantizeMxRows(w, rows, cols, elem);
      return [codes, scale];
    },

    dequantizeRef([c, s], rows, cols) {
      return dequantizeMxRows(c!, s!, rows, cols, elem);
    },

    kernel: MX_KERNELS[elem],

    encoder(rows, cols) {
      const nb = cdiv(cols, MX_BLOCK);
      const scale = new Uint8Array(rows * nb);
      return {
        codeBytes: (n, w) => n * mxRowBytes(elem, w),
        async band(input, r0, n, _c0, w, into, o) {
          const codes = new Uint8Array(into, 0, n * mxRowBytes(elem, w));
          const r = await quantizeWith(MX_KERNELS[elem], input, n, w, MX_BLOCK, { ...o.kernels, errors: o.errors, out: { codes, scale: scale.subarray(r0 * nb, (r0 + n) * nb) } });
          return r.codes;
        },
        finish: () => [scale],
      };
    },

    quantizationConfig: (ctx) => floatConfig(spec.ctFormat, floatWeights(numBits, 'group', MX_BLOCK, 'torch.uint8'), ctx),

    fromConfig: (qc, where) => floatFromConfig(qc, where, spec.ctFormat, numBits, MX_BLOCK),

    async detect(store, stem) {
      const data = `${stem}.${spec.codes.suffix}`;
      const sc = `${stem}.weight_scale`;
      // a global scale makes packed E2M1 NVFP4 (nvfp4.ts), not MX
      if (!store.has(data) || store.info(data).dtype !== spec.codes.dtype || store.has(`${stem}.weight_global_scale`) || !store.has(sc) || store.info(sc).dtype !== 'U8') return undefined;
      const s = store.info(data).shape;
      const cols = elem === 'e2m1' ? (s[1] ?? 0) * 2 : (s[1] ?? 0);
      const lay: StoredLayout = { name: `${stem}.weight`, format: id, rows: s[0] ?? 0, cols, group: MX_BLOCK, tensors: [data, sc], dtype: spec.codes.dtype };
      checkStored(store, lay, outputs, stem);
      return lay;
    },

    async decodeRows(store, lay, r0, n, kernels = {}) {
      const codes = await readRows(store, lay.tensors[0]!, r0, n, mxRowBytes(elem, lay.cols));
      const scale = await readRows(store, lay.tensors[1]!, r0, n, cdiv(lay.cols, MX_BLOCK));
      return dequantizeWith(MX_KERNELS[elem], codes, scale, n, lay.cols, MX_BLOCK, kernels);
    },

    engines: vllmFloatFacts(id.toUpperCase()),
  };
}
