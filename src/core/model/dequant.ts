/**
 * The single entry point through which the runtime reads weights: `readWeightRows` returns rows of a
 * logical [rows, cols] Linear/embedding weight as fp32, whatever the storage format:
 * - plain BF16 / F16 / F32 (exact widening);
 * - block FP8 (DeepSeek style): `<m>.weight` F8_E4M3 + `<m>.weight_scale_inv` F32 [⌈rows/128⌉, ⌈cols/128⌉],
 *   w = fp32(decode(code) · scale_inv);
 * - compressed-tensors int8 / float8: `<m>.weight` I8 or F8_E4M3 + `<m>.weight_scale` (tensor, channel,
 *   group or block shape), w = fp32(q · scale);
 * - compressed-tensors pack-quantized int4: `<m>.weight_packed` I32 [rows, ⌈cols/8⌉] (nibble q+8, column
 *   8j+i in bits 4i…4i+3) + `<m>.weight_scale` [rows, groups] + `<m>.weight_shape` I32 [2],
 *   w = fp32((nibble − 8) · scale).
 * Asymmetric (zero-point) schemes are rejected with a clear error.
 */
import { InputError } from '../errors.js';
import type { DType } from '../dtype/dtypes.js';
import { f16BitsToNumber } from '../dtype/convert.js';
import { FP8_E4M3_TABLE } from '../quant/fp8.js';
import type { WeightSource } from './source.js';

const BYTES: Partial<Record<DType, number>> = { BF16: 2, F16: 2, F32: 4, F8_E4M3: 1, I8: 1, I32: 4 };

/** Logical storage of one weight, resolved once per name. */
export interface WeightLayout {
  name: string;
  kind: 'plain' | 'fp8-block' | 'scaled' | 'int4-packed';
  rows: number;
  cols: number;
  /** Tensor holding the codes/values (`.weight` or `.weight_packed`). */
  data: string;
  dtype: DType;
  scale?: string;
}

const stem = (name: string): string => (name.endsWith('.weight') ? name.slice(0, -'.weight'.length) : name);

/** Decode `count` little-endian values of `dtype` from raw bytes into fp32. */
export function decodeValues(bytes: Uint8Array, dtype: DType, count: number, out = new Float32Array(count)): Float32Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'BF16': {
      const o = new Uint32Array(out.buffer, out.byteOffset, count);
      for (let i = 0; i < count; i++) o[i] = dv.getUint16(2 * i, true) << 16;
      return out;
    }
    case 'F16':
      for (let i = 0; i < count; i++) out[i] = f16BitsToNumber(dv.getUint16(2 * i, true));
      return out;
    case 'F32':
      for (let i = 0; i < count; i++) out[i] = dv.getFloat32(4 * i, true);
      return out;
    case 'F8_E4M3':
      for (let i = 0; i < count; i++) out[i] = FP8_E4M3_TABLE[bytes[i]!]!;
      return out;
    case 'I8':
      for (let i = 0; i < count; i++) out[i] = dv.getInt8(i);
      return out;
    case 'I32':
      for (let i = 0; i < count; i++) out[i] = dv.getInt32(4 * i, true);
      return out;
    default:
      throw new InputError('E_DTYPE', `cannot decode tensor values of dtype ${dtype}`);
  }
}

/** Work out how weight `name` is stored (plain, fp8-block, scaled int8/fp8, packed int4). */
export async function resolveLayout(src: WeightSource, name: string): Promise<WeightLayout> {
  const s = stem(name);
  const has = (n: string) => src.has(n);
  for (const zp of [`${s}.weight_zero_point`]) {
    if (has(zp)) throw new InputError('E_QUANT_UNSUPPORTED', `${zp}: asymmetric (zero-point) quantization is not supported by the runtime`);
  }
  if (has(`${s}.weight_packed`)) {
    const data = `${s}.weight_packed`;
    const info = src.info(data);
    let rows = info.shape[0] ?? 0;
    let cols = (info.shape[1] ?? 0) * 8;
    if (has(`${s}.weight_shape`)) {
      const shp = decodeValues(await src.read(`${s}.weight_shape`), src.info(`${s}.weight_shape`).dtype, 2);
      rows = shp[0]!;
      cols = shp[1]!;
    }
    if (!has(`${s}.weight_scale`)) throw new InputError('E_QUANT_MISSING', `${s}.weight_scale: missing scale for packed weight ${data}`);
    if (info.dtype !== 'I32') throw new InputError('E_DTYPE', `${data}: expected I32 packed int4, found ${info.dtype}`);
    return { name, kind: 'int4-packed', rows, cols, data, dtype: 'I32', scale: `${s}.weight_scale` };
  }
  if (!has(name)) throw new InputError('E_TENSOR_MISSING', `checkpoint has no tensor ${name}`);
  const info = src.info(name);
  const rows = info.shape[0] ?? 1;
  const cols = info.shape.length > 1 ? info.shape.slice(1).reduce((a, b) => a * b, 1) : 1;
  const base = { name, rows, cols, data: name, dtype: info.dtype };
  if (info.dtype === 'F8_E4M3' && has(`${s}.weight_scale_inv`)) return { ...base, kind: 'fp8-block', scale: `${s}.weight_scale_inv` };
  if ((info.dtype === 'F8_E4M3' || info.dtype === 'I8') && has(`${s}.weight_scale`)) return { ...base, kind: 'scaled', scale: `${s}.weight_scale` };
  if (info.dtype === 'I8') throw new InputError('E_QUANT_MISSING', `${name}: I8 weight without ${s}.weight_scale`);
  if (BYTES[info.dtype] === undefined || info.dtype === 'I32') throw new InputError('E_DTYPE', `${name}: unsupported weight dtype ${info.dtype}`);
  return { ...base, kind: 'plain' };
}

/**
 * Group size declared by a compressed-tensors `quantization_config` (first `config_groups.*.weights.group_size`),
 * needed when a group does not divide the row length.
 */
export function declaredGroupSize(raw: Record<string, unknown>): number | undefined {
  const qc = raw.quantization_config as { config_groups?: Record<string, { weights?: { group_size?: unknown } }> } | undefined;
  for (const g of Object.values(qc?.config_groups ?? {})) {
    const gs = g?.weights?.group_size;
    if (typeof gs === 'number' && Number.isInteger(gs) && gs > 0) return gs;
  }
  return undefined;
}

/** Edge of the square blocks of a block-FP8 `quantization_config` (`weight_block_size`, default 128). */
export function declaredBlockSize(raw: Record<string, unknown>): number {
  const b = (raw.quantization_config as { weight_block_size?: unknown } | undefined)?.weight_block_size;
  return Array.isArray(b) && Number.isInteger(b[0]) && b[0] > 0 && b[0] === b[1] ? (b[0] as number) : 128;
}

/** Size of the block of `n` elements covered by one of `s` scale entries (tensor, channel, declared group, 128-block or group). */
function scaleSpan(n: number, s: number, what: string, hint?: number): number {
  if (s === n) return 1;
  if (s === 1) return n;
  if (hint !== undefined && s === Math.ceil(n / hint)) return hint;
  if (s === Math.ceil(n / 128)) return 128;
  const g = Math.ceil(n / s);
  if (Math.ceil(n / g) !== s) throw new InputError('E_QUANT_SHAPE', `${what}: ${s} scale entries do not tile ${n} elements`);
  return g;
}

/** Decoded scale tensor with its tiling. */
export interface ScaleTable {
  values: Float32Array;
  sRows: number;
  sCols: number;
  spanR: number;
  spanC: number;
}

export async function readScale(src: WeightSource, lay: WeightLayout): Promise<ScaleTable> {
  const name = lay.scale!;
  const info = src.info(name);
  const count = info.shape.reduce((a, b) => a * b, 1);
  const values = decodeValues(await src.read(name), info.dtype, count);
  const sRows = info.shape.length === 0 ? 1 : info.shape[0]!;
  const sCols = info.shape.length < 2 ? 1 : info.shape[1]!;
  if (sRows * sCols !== count) throw new InputError('E_QUANT_SHAPE', `${name}: expected a rank ≤ 2 scale, found shape [${info.shape.join(', ')}]`);
  const what = `${name} [${info.shape.join(', ')}] for ${lay.rows}×${lay.cols}`;
  if (lay.kind === 'fp8-block') {
    // block FP8 tiles are declared (weight_block_size), never guessed from the scale's shape
    const b = declaredBlockSize(src.config.raw);
    if (sRows !== Math.ceil(lay.rows / b) || sCols !== Math.ceil(lay.cols / b)) throw new InputError('E_QUANT_SHAPE', `${what}: expected [${Math.ceil(lay.rows / b)}, ${Math.ceil(lay.cols / b)}] (${b}×${b} blocks)`);
    return { values, sRows, sCols, spanR: b, spanC: b };
  }
  return { values, sRows, sCols, spanR: scaleSpan(lay.rows, sRows, what), spanC: scaleSpan(lay.cols, sCols, what, declaredGroupSize(src.config.raw)) };
}

/**
 * Rows [row0, row0 + nRows) of weight `lay` as fp32 [nRows, cols]. `scale` must be given for
 * quantized layouts (see readScale).
 */
export async function readWeightRows(src: WeightSource, lay: WeightLayout, row0: number, nRows: number, scale?: ScaleTable): Promise<Float32Array> {
  const { cols } = lay;
  const out = new Float32Array(nRows * cols);
  if (lay.kind === 'int4-packed') {
    const words = Math.ceil(cols / 8);
    const raw = await src.read(lay.data, row0 * words * 4, nRows * words * 4);
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const sc = scale!;
    for (let r = 0; r < nRows; r++) {
      const sr = Math.floor((row0 + r) / sc.spanR) * sc.sCols;
      for (let c = 0; c < cols; c++) {
        const nib = (dv.getUint32(4 * (r * words + (c >>> 3)), true) >>> ((c & 7) * 4)) & 15;
        out[r * cols + c] = (nib - 8) * sc.values[sr + Math.floor(c / sc.spanC)]!;
      }
    }
    return out;
  }
  const eb = BYTES[lay.dtype]!;
  const raw = await src.read(lay.data, row0 * cols * eb, nRows * cols * eb);
  decodeValues(raw, lay.dtype, nRows * cols, out);
  if (lay.kind === 'plain') return out;
  const sc = scale!;
  for (let r = 0; r < nRows; r++) {
    const sr = Math.floor((row0 + r) / sc.spanR) * sc.sCols;
    for (let c = 0; c < cols; c++) out[r * cols + c] = out[r * cols + c]! * sc.values[sr + Math.floor(c / sc.spanC)]!;
  }
  return out;
}
