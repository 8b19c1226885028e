/**
 * Quantize one canonical weight [out, in] in row bands with the quantizers of core/ops (native kernels
 * when the addon is built, else the TypeScript references of core/quant — bit-identical either way and
 * for any thread count, since every block/row is quantized independently), writing the codes band by
 * band and the (small) scales after them, and measuring the error of every band against its fp32 source.
 */
import { f32ToBf16 } from '../dtype/convert.js';
import { throwIfAborted } from '../errors.js';
import { dequantizeFp8Blocks, dequantizeInt4, dequantizeInt8, quantizeFp8Blocks, quantizeInt4, quantizeInt8 } from '../ops/quant.js';
import { convertBf16ToF32 } from '../ops/convert.js';
import type { KernelOptions } from '../ops/common.js';
import { toF32 } from '../convert/cast.js';
import { dtypeBytes, type DType } from '../dtype/dtypes.js';
import type { Job } from '../convert/jobs.js';
import { view2d } from '../convert/names.js';
import { readRect } from '../convert/read-rect.js';
import type { SourceTensor } from '../convert/source.js';
import type { TensorError } from '../convert/state.js';
import type { BandSink, BufferPool } from '../convert/write-file.js';
import { ErrorStats } from './error-stats.js';

/** Elements quantized per band (4 Mi fp32 = 16 MiB of working set, plus the codes). */
const BAND_ELEMENTS = 4 * 1024 * 1024;

const bytesOf = (a: ArrayBufferView): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** Quantize `t` as `job` says, writing its outputs (in order) through `sink`. */
/** Decode a band to fp32 (native bf16 widening for the common case). */
async function decode(data: Buffer, dtype: DType, k: KernelOptions, out: Float32Array): Promise<Float32Array> {
  if (dtype !== 'BF16' || data.byteOffset % 2 !== 0) return toF32(data, dtype);
  return convertBf16ToF32(new Uint16Array(data.buffer, data.byteOffset, data.length / 2), { ...k, out: out.subarray(0, data.length / 2) });
}

/**
 * Error statistics are measured on every `stride`-th block of `unit` rows (128 by default; 1 = every row),
 * so the report costs a fraction of the quantization; the sampled rows are fixed (block index % stride = 0).
 */
export const DEFAULT_ERROR_STRIDE = 8;

export interface QuantizeJobOptions {
  signal?: AbortSignal | undefined;
  kernels?: KernelOptions | undefined;
  /** Measure errors on every n-th block of rows (default DEFAULT_ERROR_STRIDE; 1 = all rows). */
  errorStride?: number | undefined;
  /** Reusable input band buffers. */
  pool?: BufferPool | undefined;
  /** Elements per band (default 4 Mi; rounded down to whole 128-row blocks, at least one). */
  bandElements?: number | undefined;
}

export async function quantizeJob(job: Extract<Job, { kind: 'quantize' }>, t: SourceTensor, sink: BandSink, o: QuantizeJobOptions = {}): Promise<TensorError> {
  const k = o.kernels ?? {};
  const errorStride = o.errorStride ?? DEFAULT_ERROR_STRIDE;
  const signal = o.signal;
  const [R, C] = view2d(t.shape);
  const g = job.group;
  const [codesName, scaleName, shapeName] = job.outs.map((o) => o.name) as [string, string, string | undefined];
  const stats = new ErrorStats();
  const unit = job.scheme === 'fp8-block' ? g : 128;
  const bandRows = Math.max(unit, Math.floor((o.bandElements ?? BAND_ELEMENTS) / Math.max(1, C) / unit) * unit);
  const nbc = Math.ceil(C / g);
  const words = Math.ceil(C / 8);
  const scaleF32 = job.scheme === 'fp8-block' ? new Float32Array(Math.ceil(R / g) * nbc) : undefined;
  const scaleBf16 = job.scheme === 'int8-channel' ? new Uint16Array(R) : job.scheme === 'w4a16' ? new Uint16Array(R * nbc) : undefined;
  const pooled = !t.quant && t.pieces.length > 0;
  const read = (r0: number) => {
    const r1 = Math.min(R, r0 + bandRows);
    const into = pooled && o.pool ? o.pool.take((r1 - r0) * C * dtypeBytes(t.pieces[0]!.dtype)) : undefined;
    return readRect(t, { r0, r1, c0: 0, c1: C }, into);
  };
  const wBuf = new Float32Array(Math.min(R, bandRows) * C); // decode target reused by every band (less GC)
  let sampled = 0;
  let codeOffset = 0;
  let next = R > 0 ? read(0) : undefined;
  for (let r0 = 0; r0 < R; r0 += bandRows) {
    throwIfAborted(signal);
    const n = Math.min(R, r0 + bandRows) - r0;
    const { dtype, data } = await next!;
    next = r0 + bandRows < R ? read(r0 + bandRows) : undefined; // prefetch while this band is quantized
    const w = await decode(data, dtype, k, wBuf);
    if (pooled && o.pool && w.buffer !== data.buffer) o.pool.give(data); // decoded into wBuf: the input buffer is free
    // sampled row blocks of this band, as local [a, b) row ranges (bands start on a block boundary)
    const blocks: [number, number][] = [];
    for (let a = 0; a < n; a += unit) if (((r0 + a) / unit) % errorStride === 0) blocks.push([a, Math.min(n, a + unit)]);
    const ref = (a: number, b: number) => w.subarray(a * C, b * C);
    let codes: Buffer;
    if (job.scheme === 'fp8-block') {
      const { codes: q, scaleInv } = await quantizeFp8Blocks(w, n, C, g, k);
      scaleF32!.set(scaleInv, (r0 / g) * nbc);
      for (const [a, b] of blocks) stats.add(ref(a, b), await dequantizeFp8Blocks(q.subarray(a * C, b * C), scaleInv.subarray((a / g) * nbc, Math.ceil(b / g) * nbc), b - a, C, g, k));
      codes = bytesOf(q);
    } else if (job.scheme === 'int8-channel') {
      const { q, scale } = await quantizeInt8(w, n, C, { ...k, scaleDtype: 'BF16' });
      scaleBf16!.set(f32ToBf16(scale), r0);
      for (const [a, b] of blocks) stats.add(ref(a, b), await dequantizeInt8(q.subarray(a * C, b * C), scale.subarray(a, b), b - a, C, k));
      codes = bytesOf(q);
    } else {
      const { packed, scale } = await quantizeInt4(w, n, C, g, { ...k, scaleDtype: 'BF16' });
      scaleBf16!.set(f32ToBf16(scale), r0 * nbc);
      for (const [a, b] of blocks) stats.add(ref(a, b), await dequantizeInt4(packed.subarray(a * words, b * words), scale.subarray(a * nbc, b * nbc), b - a, C, g, k));
      codes = bytesOf(packed);
    }
    for (const [a, b] of blocks) sampled += b - a;
    await sink.put(codesName, codes, codeOffset, () => undefined); // moved to the hash worker after the write
    codeOffset += codes.length;
  }
  await sink.put(scaleName, bytesOf((scaleF32 ?? scaleBf16)!), 0);
  if (shapeName) await sink.put(shapeName, bytesOf(new Int32Array([R, C])), 0);
  return { tensor: t.name, scheme: job.scheme, ...stats.result(), sampledRows: sampled, rows: R };
}
