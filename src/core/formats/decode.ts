/**
 * The one decoder of stored weights, used by convert (quantized sources), the runtime and verify:
 * `resolveStored` works out how a weight is stored (the format the config declares, else the first of
 * the registry's STORED_FORMATS whose tensors match, else plain BF16/F16/F32/F8/I8 values) and
 * `decodeStoredRows` returns any row band of it as fp32. Asymmetric (zero-point) schemes are refused.
 */
import { InputError } from '../errors.js';
import type { KernelOptions } from '../ops/common.js';
import { DTYPE_BYTES, decodeValues, matrixOf, rec, readRows } from './common.js';
import type { StoredFormat, StoredLayout, TensorStore } from './format.js';
import { declaredFormat, STORED_FORMATS } from './index.js';

export { decodeValues } from './common.js';

/** `<m>` of `<m>.weight` (names without the suffix are returned as they are). */
export const stemOf = (name: string): string => (name.endsWith('.weight') ? name.slice(0, -'.weight'.length) : name);

/** Plain (unquantized) values: every element decoded by its dtype. */
const plain: StoredFormat = {
  id: 'plain',
  detectRank: Infinity, // what is left when no format recognises the tensors
  fromConfig: () => undefined,
  detect: async (store, stem) => plainLayout(store, `${stem}.weight`),
  async decodeRows(store, lay, r0, n) {
    const eb = DTYPE_BYTES[lay.dtype]!;
    return decodeValues(await readRows(store, lay.tensors[0]!, r0, n, lay.cols * eb), lay.dtype, n * lay.cols);
  },
};

function plainLayout(store: TensorStore, name: string): StoredLayout {
  if (!store.has(name)) throw new InputError('E_TENSOR_MISSING', `checkpoint has no tensor ${name}`);
  const info = store.info(name);
  if (DTYPE_BYTES[info.dtype] === undefined || info.dtype === 'I32') throw new InputError('E_DTYPE', `${name}: unsupported weight dtype ${info.dtype}`);
  const [rows, cols] = matrixOf(info.shape);
  return { name, format: 'plain', rows, cols, group: 0, tensors: [name], dtype: info.dtype };
}

const BY_ID = new Map<string, StoredFormat>([...STORED_FORMATS, plain].map((f) => [f.id, f]));

/**
 * How weight `name` (`<m>.weight`, or any tensor name for plain values) is stored. `qc` is the
 * checkpoint's `quantization_config` (undefined when it has none); `where` names the config in errors.
 */
export async function resolveStored(store: TensorStore, name: string, qc: unknown, where = 'config.json'): Promise<StoredLayout> {
  const stem = stemOf(name);
  if (store.has(`${stem}.weight_zero_point`)) throw new InputError('E_QUANT_UNSUPPORTED', `${stem}.weight_zero_point: asymmetric (zero-point) quantization is not supported by the runtime`);
  const cfg = rec(qc);
  const declared = qc === undefined ? undefined : declaredFormat(cfg, where);
  for (const f of STORED_FORMATS) {
    const lay = await f.detect(store, stem, { declared: declared?.format.id === f.id ? declared.group : undefined, qc: cfg });
    if (lay) return lay;
  }
  return plainLayout(store, name);
}

/** fp32 rows [r0, r0 + n) × cols of a weight `resolveStored` described. */
export async function decodeStoredRows(store: TensorStore, lay: StoredLayout, r0: number, n: number, kernels: KernelOptions = {}): Promise<Float32Array> {
  if (r0 < 0 || n < 0 || r0 + n > lay.rows) throw new InputError('E_RANGE', `rows [${r0}, ${r0 + n}) outside "${lay.tensors[0]}" with ${lay.rows} rows`);
  const f = BY_ID.get(lay.format);
  if (!f) throw new InputError('E_QUANT_UNSUPPORTED', `${lay.name}: no decoder for format ${lay.format}`);
  return f.decodeRows(store, lay, r0, n, kernels);
}

