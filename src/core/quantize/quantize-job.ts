/**
 * Quantize one canonical weight [out, in] in row bands with the quantizers of core/ops (native kernels
 * when the addon is built, else the TypeScript references of core/quant — bit-identical either way and
 * for any thread count, since every block/row is quantized independently), writing the codes band by
 * band and the (small) scales after them, and measuring the error of sampled row blocks against the
 * source in the same kernel call (one native round trip per band). READ_AHEAD bands are read ahead (the
 * caller may start a tensor's first read while the previous tensor is quantized) and code buffers are
 * reused rather than allocated per band.
 */
import { f32ToBf16 } from '../dtype/convert.js';
import { throwIfAborted } from '../errors.js';
import { quantizeFp8Blocks, quantizeInt4, quantizeInt8, type QuantInput } from '../ops/quant.js';
import type { KernelOptions } from '../ops/common.js';
import { CodePool } from './code-pool.js';
import { toF32 } from '../convert/cast.js';
import { dtypeBytes, type DType } from '../dtype/dtypes.js';
import type { Job } from '../convert/jobs.js';
import { view2d } from '../convert/names.js';
import { readRect, type RectData } from '../convert/read-rect.js';
import type { SourceTensor } from '../convert/source.js';
import type { TensorError } from '../convert/state.js';
import type { BandSink, BufferPool } from '../convert/write-file.js';
import { ErrorStats } from './error-stats.js';
import { sampledRows } from '../quant/error-sums.js';

/** Elements quantized per band (4 Mi fp32 = 16 MiB of working set, plus the codes). */
const BAND_ELEMENTS = 4 * 1024 * 1024;

const bytesOf = (a: ArrayBufferView): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** bf16 bit patterns of a band, when it is bf16 and 2-byte aligned (the quantizers then read it as is). */
function bf16Of(data: Buffer, dtype: DType): Uint16Array | undefined {
  return dtype === 'BF16' && data.byteOffset % 2 === 0 ? new Uint16Array(data.buffer, data.byteOffset, data.length / 2) : undefined;
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

/** Bands read ahead of the one being quantized (reads from the page cache overlap the kernels). */
const READ_AHEAD = 2;

/** Code buffers recycled across bands and tensors of a run (returned by the sink once hashed). */
const codePool = new CodePool();


/** Band reads of one tensor, started ahead of its quantization (e.g. while the previous tensor is written). */
export interface QuantizeReads {
  readonly t: SourceTensor;
  readonly bandRows: number;
  readonly reads: Promise<RectData>[];
  /** First row not requested yet. */
  next: number;
  read(r0: number): Promise<RectData>;
  /** Wait for every read started (after a failure, before the input is closed). */
  settle(): Promise<void>;
}

function bandRowsOf(job: Extract<Job, { kind: 'quantize' }>, t: SourceTensor, o: QuantizeJobOptions): number {
  const C = view2d(t.shape)[1];
  const unit = job.scheme === 'fp8-block' ? job.group : 128;
  return Math.max(unit, Math.floor((o.bandElements ?? BAND_ELEMENTS) / Math.max(1, C) / unit) * unit);
}

/** Start reading the first `bands` bands of `t` (into pooled buffers when `o.pool` is given). */
export function prefetchQuantize(job: Extract<Job, { kind: 'quantize' }>, t: SourceTensor, o: QuantizeJobOptions = {}, bands = 1): QuantizeReads {
  const [R, C] = view2d(t.shape);
  const bandRows = bandRowsOf(job, t, o);
  const pooled = !t.quant && t.pieces.length > 0;
  const r: QuantizeReads = {
    t,
    bandRows,
    reads: [],
    next: 0,
    read(r0: number) {
      const r1 = Math.min(R, r0 + bandRows);
      const into = pooled && o.pool ? o.pool.take((r1 - r0) * C * dtypeBytes(t.pieces[0]!.dtype)) : undefined;
      const p = readRect(t, { r0, r1, c0: 0, c1: C }, into);
      p.catch(() => undefined); // awaited in order by quantizeJob (or by settle); not unhandled meanwhile
      return p;
    },
    async settle() {
      await Promise.allSettled(r.reads);
    },
  };
  for (; r.next < R && r.reads.length < bands; r.next += bandRows) r.reads.push(r.read(r.next));
  return r;
}

/** Quantize `t` as `job` says, writing its outputs (in order) through `sink`. */
export async function quantizeJob(job: Extract<Job, { kind: 'quantize' }>, t: SourceTensor, sink: BandSink, o: QuantizeJobOptions & { prefetched?: QuantizeReads | undefined } = {}): Promise<TensorError> {
  const k = o.kernels ?? {};
  const errorStride = o.errorStride ?? DEFAULT_ERROR_STRIDE;
  const signal = o.signal;
  const [R, C] = view2d(t.shape);
  const g = job.group;
  const scheme = job.scheme;
  const [codesName, scaleName, shapeName] = job.outs.map((o) => o.name) as [string, string, string | undefined];
  const stats = new ErrorStats();
  const unit = scheme === 'fp8-block' ? g : 128;
  const nbc = Math.ceil(C / g);
  const words = Math.ceil(C / 8);
  const scaleF32 = scheme === 'fp8-block' ? new Float32Array(Math.ceil(R / g) * nbc) : undefined;
  const scaleBf16 = scheme === 'int8-channel' ? new Uint16Array(R) : scheme === 'w4a16' ? new Uint16Array(R * nbc) : undefined;
  const pooled = !t.quant && t.pieces.length > 0;
  const rd = o.prefetched?.t === t ? o.prefetched : prefetchQuantize(job, t, o, 0);
  const { bandRows, reads } = rd;
  const ahead = () => {
    for (; rd.next < R && reads.length <= READ_AHEAD; rd.next += bandRows) reads.push(rd.read(rd.next));
  };
  ahead();
  const codeBytes = (n: number) => (scheme === 'w4a16' ? n * words * 4 : n * C);
  let sampled = 0;
  let codeOffset = 0;
  try {
    for (let r0 = 0; r0 < R; r0 += bandRows) {
      throwIfAborted(signal);
      const n = Math.min(R, r0 + bandRows) - r0;
      const { dtype, data } = await reads.shift()!;
      ahead();
      // bands start on a block boundary; the quantizer adds the error of every errorStride-th block
      const errors = { unit, stride: errorStride, block0: r0 / unit, out: stats.sums };
      sampled += sampledRows(n, errors).reduce((acc, [a, b]) => acc + b - a, 0);
      // bf16 goes to the quantizers as is (widened in the kernel); other dtypes are decoded first
      const u16 = bf16Of(data, dtype);
      const w = u16 ? undefined : toF32(data, dtype);
      const input: QuantInput = u16 ? { bf16: u16 } : w!;
      const ab = codePool.take(codeBytes(n));
      let codes: Buffer;
      if (scheme === 'fp8-block') {
        const scale = scaleF32!.subarray((r0 / g) * nbc, (r0 / g + Math.ceil(n / g)) * nbc);
        codes = bytesOf((await quantizeFp8Blocks(input, n, C, g, { ...k, errors, out: { codes: new Uint8Array(ab), scale } })).codes);
      } else if (scheme === 'int8-channel') {
        const { q, scale } = await quantizeInt8(input, n, C, { ...k, errors, scaleDtype: 'BF16', out: { q: new Int8Array(ab) } });
        scaleBf16!.set(f32ToBf16(scale), r0);
        codes = bytesOf(q);
      } else {
        const { packed, scale } = await quantizeInt4(input, n, C, g, { ...k, errors, scaleDtype: 'BF16', out: { packed: new Int32Array(ab) } });
        scaleBf16!.set(f32ToBf16(scale), r0 * nbc);
        codes = bytesOf(packed);
      }
      if (pooled && o.pool) o.pool.give(data); // quantized and measured: the input buffer is free
      // the codes go to the hash worker after the write and come back to the pool once hashed
      await sink.put(codesName, codes, codeOffset, (b) => {
        if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength) codePool.give(b.buffer as ArrayBuffer);
      });
      codeOffset += codes.length;
    }
  } finally {
    await rd.settle();
  }
  await sink.put(scaleName, bytesOf((scaleF32 ?? scaleBf16)!), 0);
  if (shapeName) await sink.put(shapeName, bytesOf(new Int32Array([R, C])), 0);
  return { tensor: t.name, scheme, ...stats.result(), sampledRows: sampled, rows: R };
}
