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
import { sampledRows, type ErrorSample } from '../quant/error-sums.js';

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

/**
 * How a tensor is cut into bands of at most `bandElements` (default BAND_ELEMENTS) input elements:
 * whole 128-row blocks while a block of rows fits; for wider rows, fewer rows per band (int8 and w4a16
 * quantize rows independently; a power of two, so that bands tile the 128-row error blocks) or, for
 * fp8 (whose scales cover 128×128 blocks), one block of rows in column pieces of whole blocks. Bands
 * never change output bytes; memory is bounded in bytes whatever the width (one row at least for int8
 * and w4a16, one 128×128 block for fp8).
 */
export function bandingOf(scheme: string, group: number, R: number, C: number, bandElements = BAND_ELEMENTS): { rows: number; cols: number } {
  const unit = scheme === 'fp8-block' ? group : 128;
  const fit = Math.floor(bandElements / Math.max(1, C));
  if (fit >= unit || R <= fit) return { rows: Math.max(unit, Math.floor(fit / unit) * unit), cols: C };
  if (scheme === 'fp8-block') return { rows: unit, cols: Math.min(C, Math.max(group, Math.floor(bandElements / unit / group) * group)) };
  let rows = 1;
  while (rows * 2 <= fit && rows * 2 <= unit) rows *= 2;
  return { rows, cols: C };
}

function bandRowsOf(job: Extract<Job, { kind: 'quantize' }>, t: SourceTensor, o: QuantizeJobOptions): { rows: number; cols: number } {
  const [R, C] = view2d(t.shape);
  return bandingOf(job.scheme, job.group, R, C, o.bandElements);
}

/** Start reading the first `bands` bands of `t` (into pooled buffers when `o.pool` is given). */
export function prefetchQuantize(job: Extract<Job, { kind: 'quantize' }>, t: SourceTensor, o: QuantizeJobOptions = {}, bands = 1): QuantizeReads {
  const [R, C] = view2d(t.shape);
  const banding = bandRowsOf(job, t, o);
  const bandRows = banding.rows;
  if (banding.cols < C) bands = 0; // read in column pieces by quantizeJob, never as whole rows
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
  const banding = bandRowsOf(job, t, o);
  if (banding.cols < C) {
    const sampledWide = await quantizeFp8Pieces(job, t, sink, { ...o, kernels: k, rows: banding.rows, cols: banding.cols, errorStride, sums: stats.sums, scale: scaleF32! });
    await sink.put(scaleName, bytesOf(scaleF32!), 0);
    return { tensor: t.name, scheme, ...stats.result(), sampledRows: sampledWide, rows: R };
  }
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
      // bands start on a block boundary, or lie inside one block (fewer rows than a block: wide rows); the
      // quantizer adds the error of every errorStride-th block
      const errors = errorSample(r0, n, bandRows, unit, errorStride, stats.sums);
      sampled += errors ? sampledRows(n, errors).reduce((acc, [a, b]) => acc + b - a, 0) : 0;
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

/**
 * The error sample of a band of `n` rows at `r0`: bands of whole `unit`-row blocks measure every
 * stride-th block (index r0 / unit on); a band of fewer rows (wide rows) lies inside one block and
 * measures all its rows when that block is sampled (undefined when it is not).
 */
function errorSample(r0: number, n: number, bandRows: number, unit: number, stride: number, out: Float64Array): ErrorSample | undefined {
  if (bandRows >= unit) return { unit, stride, block0: r0 / unit, out };
  return Math.floor(r0 / unit) % stride === 0 ? { unit: n, stride: 1, block0: 0, out } : undefined;
}

/**
 * fp8-block rows too wide for a band of one 128-row block: each block of rows is quantized in column
 * pieces of whole 128×128 blocks (each block's scale and codes do not depend on its neighbours), its codes
 * written in place row by row and hashed from the file; the next piece is read while one is quantized.
 * Returns the rows the error statistics were measured on.
 */
async function quantizeFp8Pieces(
  job: Extract<Job, { kind: 'quantize' }>,
  t: SourceTensor,
  sink: BandSink,
  o: QuantizeJobOptions & { kernels: KernelOptions; rows: number; cols: number; errorStride: number; sums: Float64Array; scale: Float32Array },
): Promise<number> {
  const [R, C] = view2d(t.shape);
  const g = job.group;
  const nbc = Math.ceil(C / g);
  const codesName = job.outs[0]!.name;
  const pieces: { r0: number; c0: number }[] = [];
  for (let r0 = 0; r0 < R; r0 += o.rows) for (let c0 = 0; c0 < C; c0 += o.cols) pieces.push({ r0, c0 });
  const read = (i: number) => {
    const q = pieces[i]!;
    const p = readRect(t, { r0: q.r0, r1: Math.min(R, q.r0 + o.rows), c0: q.c0, c1: Math.min(C, q.c0 + o.cols) });
    p.catch(() => undefined); // awaited in order below
    return p;
  };
  let next: Promise<RectData> | undefined = pieces.length > 0 ? read(0) : undefined;
  let sampled = 0;
  let i = 0;
  try {
    for (let r0 = 0; r0 < R; r0 += o.rows) {
      const n = Math.min(R, r0 + o.rows) - r0;
      const errors: ErrorSample = { unit: g, stride: o.errorStride, block0: r0 / g, out: o.sums };
      sampled += sampledRows(n, errors).reduce((acc, [a, b]) => acc + b - a, 0);
      await sink.region(codesName, r0 * C, n * C, async (write) => {
        for (let c0 = 0; c0 < C; c0 += o.cols, i++) {
          throwIfAborted(o.signal);
          const w = Math.min(C, c0 + o.cols) - c0;
          const { dtype, data } = await next!;
          next = i + 1 < pieces.length ? read(i + 1) : undefined;
          const u16 = bf16Of(data, dtype);
          const input: QuantInput = u16 ? { bf16: u16 } : toF32(data, dtype);
          const ab = codePool.take(n * w);
          const scale = new Float32Array(Math.ceil(n / g) * Math.ceil(w / g));
          const { codes } = await quantizeFp8Blocks(input, n, w, g, { ...o.kernels, errors, out: { codes: new Uint8Array(ab), scale } });
          for (let b = 0; b < Math.ceil(n / g); b++) o.scale.set(scale.subarray(b * Math.ceil(w / g), (b + 1) * Math.ceil(w / g)), (r0 / g + b) * nbc + c0 / g);
          const bytes = bytesOf(codes);
          await Promise.all(Array.from({ length: n }, (_, r) => write(bytes.subarray(r * w, (r + 1) * w), r * C + c0)));
          codePool.give(ab);
        }
      });
    }
  } finally {
    await next?.catch(() => undefined);
  }
  return sampled;
}
