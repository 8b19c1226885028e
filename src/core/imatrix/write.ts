/**
 * Write an importance matrix in llama.cpp's GGUF imatrix format (docs/llama-files.md §3.3), which
 * `llama-quantize --imatrix` and `llama-imatrix --in-file` read: metadata general.type = "imatrix",
 * imatrix.datasets, imatrix.chunk_count, imatrix.chunk_size; per weight, in name order, `<name>.in_sum2`
 * F32 [cols, n_mat], `<name>.counts` F32 [1, n_mat] and `<name>.in_sum` F32 [cols, n_mat].
 */
import type { GgufKv } from '../gguf/format.js';
import type { GgufTensorSpec } from '../gguf/header.js';
import { GgufWriter } from '../gguf/writer.js';
import type { ImatrixResult } from './run.js';

const f32Bytes = (v: Float64Array): Uint8Array => {
  const a = Float32Array.from(v);
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
};

/** Write `m` to `path` (through `<path>.incomplete`); returns the file's size in bytes. */
export async function writeImatrix(path: string, m: ImatrixResult, datasets: readonly string[]): Promise<number> {
  const kvs: GgufKv[] = [
    { key: 'general.type', type: 'STRING', value: 'imatrix' },
    { key: 'imatrix.datasets', type: 'ARRAY', itemType: 'STRING', values: [...datasets] },
    { key: 'imatrix.chunk_count', type: 'UINT32', value: m.chunks },
    { key: 'imatrix.chunk_size', type: 'UINT32', value: m.chunkSize },
  ];
  const specs: GgufTensorSpec[] = [];
  const data = new Map<string, Uint8Array>();
  for (const e of m.entries) {
    for (const [suffix, ne, values] of [['in_sum2', [e.cols, e.nMat], e.inSum2], ['counts', [1, e.nMat], e.counts], ['in_sum', [e.cols, e.nMat], e.inSum]] as const) {
      const name = `${e.name}.${suffix}`;
      specs.push({ name, ne: [...ne], type: 'F32' });
      data.set(name, f32Bytes(values));
    }
  }
  const w = await GgufWriter.create(path, kvs, specs);
  try {
    for (const [name, bytes] of data) await w.write(name, bytes);
  } catch (e) {
    await w.abort();
    throw e;
  }
  await w.finish();
  return w.fileSize;
}
