/** Small helpers shared by the format modules: byte views, aligned copies, decoding stored values. */
import type { DType } from '../dtype/dtypes.js';
import { f16BitsToNumber } from '../dtype/convert.js';
import { InputError } from '../errors.js';
import { FP8_E4M3_TABLE } from '../quant/fp8.js';
import type { ConfigContext, StoredLayout, TensorStore } from './format.js';

export const cdiv = (a: number, b: number): number => Math.ceil(a / b);

/** The bytes of a typed array (no copy). */
export const bytesOf = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** A copy of `b` starting its own ArrayBuffer (typed views need element alignment). */
export function aligned(b: Uint8Array): ArrayBuffer {
  const u = new Uint8Array(b.length);
  u.set(b);
  return u.buffer;
}

/** Rows [r0, r0 + n) of a stored tensor whose rows are `rowBytes` bytes. */
export function readRows(store: TensorStore, name: string, r0: number, n: number, rowBytes: number): Promise<Uint8Array> {
  return store.read(name, r0 * rowBytes, n * rowBytes);
}

export const DTYPE_BYTES: Partial<Record<DType, number>> = { BF16: 2, F16: 2, F32: 4, F8_E4M3: 1, I8: 1, I32: 4 };

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

/** Rows [r0, r0 + n) of a float scale tensor with `sCols` entries per row, as fp32. */
export async function readScaleRows(store: TensorStore, name: string, r0: number, n: number, sCols: number): Promise<Float32Array> {
  const dtype = store.info(name).dtype;
  const eb = DTYPE_BYTES[dtype];
  if (eb === undefined || dtype === 'I8' || dtype === 'I32') throw new InputError('E_DTYPE', `${name}: scale of dtype ${dtype} (expected F32, BF16 or F16)`);
  return decodeValues(await readRows(store, name, r0, n, sCols * eb), dtype, n * sCols);
}

/** Logical [rows, cols] of a stored 2-D (or higher, flattened after the first dim) tensor. */
export function matrixOf(shape: readonly number[]): [number, number] {
  const rows = shape[0] ?? 1;
  const cols = shape.length > 1 ? shape.slice(1).reduce((a, b) => a * b, 1) : 1;
  return [rows, cols];
}

/** Throw the one-line layout error when `lay`'s stored tensors do not have the format's dtypes and shapes. */
export function checkStored(store: TensorStore, lay: StoredLayout, outputs: readonly { dtype: DType; shape: (r: number, c: number, g: number) => number[] }[], where: string): void {
  outputs.forEach((o, i) => {
    const name = lay.tensors[i]!;
    if (!store.has(name)) throw new InputError('E_QUANT_LAYOUT', `${where}: "${name}" is missing (needed to dequantize "${lay.name}")`);
    const info = store.info(name);
    const want = o.shape(lay.rows, lay.cols, lay.group);
    if (info.dtype !== o.dtype || JSON.stringify(info.shape) !== JSON.stringify(want)) {
      throw new InputError('E_QUANT_LAYOUT', `${where}: "${name}" is ${info.dtype} ${JSON.stringify(info.shape)}, expected ${o.dtype} ${JSON.stringify(want)}`);
    }
  });
}

export const rec = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/** The `weights` of the first compressed-tensors config group. */
export function ctWeights(qc: Record<string, unknown>): Record<string, unknown> {
  return rec(rec(Object.values(rec(qc.config_groups))[0]).weights);
}

/** Group size declared by a compressed-tensors `quantization_config` (first `config_groups.*.weights.group_size`). */
export function declaredGroupSize(qc: Record<string, unknown>): number | undefined {
  for (const g of Object.values(rec(qc.config_groups))) {
    const gs = rec(rec(g).weights).group_size;
    if (typeof gs === 'number' && Number.isInteger(gs) && gs > 0) return gs;
  }
  return undefined;
}

/** A compressed-tensors `quantization_config` of `format`: one group targeting Linear, the ignore list of `ctx`. */
export function ctConfig(format: string, weights: Record<string, unknown>, inputActivations: Record<string, unknown> | null, ctx: ConfigContext): Record<string, unknown> {
  return {
    quant_method: 'compressed-tensors',
    format,
    config_groups: { group_0: { targets: ['Linear'], weights, input_activations: inputActivations, output_activations: null } },
    ignore: ctx.ignorePatterns,
    kv_cache_scheme: null,
    quantization_status: 'compressed',
  };
}
