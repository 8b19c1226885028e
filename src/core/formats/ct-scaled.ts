/**
 * Read-only: compressed-tensors int8 / float8 weights of other writers, `<m>.weight` I8 or F8_E4M3 plus
 * `<m>.weight_scale` in any tiling (per tensor, per channel, per group of columns, or per block),
 * w = fp32(q · scale). The tiling comes from the scale's shape, with the group size the config declares
 * (`config_groups.*.weights.group_size`) preferred when it fits. m1kit's own int8 layout is
 * `int8-channel`, recognised before this one.
 */
import { InputError } from '../errors.js';
import { cdiv, declaredGroupSize, DTYPE_BYTES, decodeValues, matrixOf, readRows, readScaleRows } from './common.js';
import type { StoredFormat } from './format.js';

/** Size of the block of `n` elements covered by one of `s` scale entries (tensor, channel, declared group, 128-block or group). */
function scaleSpan(n: number, s: number, what: string, hint?: number): number {
  if (s === n) return 1;
  if (s === 1) return n;
  if (hint !== undefined && s === cdiv(n, hint)) return hint;
  if (s === cdiv(n, 128)) return 128;
  const g = cdiv(n, s);
  if (cdiv(n, g) !== s) throw new InputError('E_QUANT_SHAPE', `${what}: ${s} scale entries do not tile ${n} elements`);
  return g;
}

export const ctScaled: StoredFormat = {
  id: 'ct-scaled',
  detectRank: 90, // the catch-all of I8/F8 weights with a scale in any tiling: last
  fromConfig: () => undefined,
  detect: (store, stem, { qc }) => detectScaled(store, stem, declaredGroupSize(qc)),
  decodeRows,
};

async function detectScaled(store: Parameters<StoredFormat['detect']>[0], stem: string, hint: number | undefined) {
  const data = `${stem}.weight`;
  const sc = `${stem}.weight_scale`;
  if (!store.has(data)) return undefined;
  const dtype = store.info(data).dtype;
  if (dtype !== 'I8' && dtype !== 'F8_E4M3') return undefined;
  if (!store.has(sc)) {
    if (dtype === 'I8') throw new InputError('E_QUANT_MISSING', `${data}: I8 weight without ${sc}`);
    return undefined;
  }
  const [rows, cols] = matrixOf(store.info(data).shape);
  const s = store.info(sc).shape;
  const sRows = s.length === 0 ? 1 : s[0]!;
  const sCols = s.length < 2 ? 1 : s[1]!;
  if (sRows * sCols !== s.reduce((a, b) => a * b, 1)) throw new InputError('E_QUANT_SHAPE', `${sc}: expected a rank ≤ 2 scale, found shape [${s.join(', ')}]`);
  const what = `${sc} [${s.join(', ')}] for ${rows}×${cols}`;
  const scaleSpanRC: [number, number] = [scaleSpan(rows, sRows, what), scaleSpan(cols, sCols, what, hint)];
  return { name: data, format: 'ct-scaled', rows, cols, group: scaleSpanRC[1], tensors: [data, sc], dtype, scaleSpan: scaleSpanRC };
}

async function decodeRows(store: Parameters<StoredFormat['detect']>[0], lay: Parameters<StoredFormat['decodeRows']>[1], r0: number, n: number): Promise<Float32Array> {
  const { cols } = lay;
  const [spanR, spanC] = lay.scaleSpan!;
  const eb = DTYPE_BYTES[lay.dtype]!;
  const out = decodeValues(await readRows(store, lay.tensors[0]!, r0, n, cols * eb), lay.dtype, n * cols);
  const sCols = cdiv(cols, spanC);
  const s0 = Math.floor(r0 / spanR);
  const s1 = n > 0 ? Math.floor((r0 + n - 1) / spanR) + 1 : s0;
  const scale = await readScaleRows(store, lay.tensors[1]!, s0, s1 - s0, sCols);
  for (let r = 0; r < n; r++) {
    const sr = (Math.floor((r0 + r) / spanR) - s0) * sCols;
    for (let c = 0; c < cols; c++) out[r * cols + c] = out[r * cols + c]! * scale[sr + Math.floor(c / spanC)]!;
  }
  return out;
}
