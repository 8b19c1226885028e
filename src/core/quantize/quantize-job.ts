/**
 * Quantize one canonical weight [out, in] in row bands with the quantizers of core/ops (native kernels
 * when the addon is built, else the TypeScript references of core/quant — bit-identical either way and
 * for any thread count, since every block/row is quantized independently), writing the codes band by
 * band and the (small) scales after them, and measuring the error of sampled row blocks against the
 * source in the same kernel call (one native round trip per band). QUANT_READ_AHEAD bands are read ahead
 * (the caller may start a tensor's first read while the previous tensor is quantized) and code buffers are
 * reused rather than allocated per band. `quantizeTransform` is this as the pipeline's per-tensor transform.
 */
import { throwIfAborted } from '../errors.js';
import { formatOf, type BandEncoder } from '../formats/index.js';
import type { QuantInput } from '../ops/quant.js';
import { matrixAmax } from '../ops/microscale.js';
import type { KernelOptions } from '../ops/common.js';
import { CodePool } from '../pipeline/code-pool.js';
import { toF32 } from '../pipeline/cast.js';
import { dtypeBytes, type DType } from '../dtype/dtypes.js';
import type { Job } from '../pipeline/jobs.js';
import { view2d } from '../pipeline/geometry.js';
import { QUANT_BAND_ELEMENTS as BAND_ELEMENTS, QUANT_READ_AHEAD as READ_AHEAD } from '../io-tuning.js';
import type { BufferPool } from '../pipeline/buffer-pool.js';
import type { InputTensor, ReadRect, RectData } from '../pipeline/input.js';
import type { BandWriter, TensorTransform } from '../pipeline/transform.js';
import { ErrorStats } from './error-stats.js';
import { fusedPartners } from './fused.js';
import { sampledRows, type ErrorSample } from '../quant/error-sums.js';

/** Quantization errors of one tensor, measured against its source (kept in the output's manifest). */
export interface TensorError {
  tensor: string;
  scheme: string;
  relRmse: number;
  maxAbs: number;
  snrDb: number;
  /** Rows the statistics were measured on (every 8th block of 128 rows unless exact errors were asked for). */
  sampledRows: number;
  rows: number;
}

const bytesOf = (a: ArrayBufferView): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** The encoder's small tensors (scales, shape), written after the codes in the job's output order. */
async function putTail(job: Extract<Job, { kind: 'quantize' }>, enc: BandEncoder, sink: BandWriter): Promise<void> {
  const tail = enc.finish();
  for (let i = 0; i < tail.length; i++) await sink.put(job.outs[i + 1]!.name, bytesOf(tail[i]!), 0);
}

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
  /** Reads any rectangle of the input tensor. */
  read: ReadRect;
  /** Reusable input band buffers. */
  pool?: BufferPool | undefined;
  /** Elements per band (default 4 Mi; rounded down to whole 128-row blocks, at least one). */
  bandElements?: number | undefined;
  /** Another input tensor by name (fused partners of a tensor-wide scale). */
  tensor?: ((name: string) => InputTensor | undefined) | undefined;
  /** Tensor-wide amax already measured in this run, by tensor name. */
  amaxCache?: Map<string, number> | undefined;
}

/** Code buffers recycled across bands and tensors of a run (returned by the sink once hashed). */
const codePool = new CodePool();


/** Band reads of one tensor, started ahead of its quantization (e.g. while the previous tensor is written). */
export interface QuantizeReads {
  readonly t: InputTensor;
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
 * whole units of rows (the format's `rowUnit`) while a unit fits; for wider rows, fewer rows per band
 * (formats quantizing rows independently, e.g. int8 and w4a16; a power of two, so that bands tile the
 * 128-row error blocks) or, for formats with `columnPieces` (fp8, whose scales cover 128×128 blocks),
 * one unit of rows in column pieces of whole blocks. Bands never change output bytes; memory is bounded
 * in bytes whatever the width (one row at least, or one block).
 */
export function bandingOf(scheme: string, group: number, R: number, C: number, bandElements = BAND_ELEMENTS): { rows: number; cols: number } {
  const fmt = formatOf(scheme);
  const unit = fmt.rowUnit(group);
  const fit = Math.floor(bandElements / Math.max(1, C));
  if (fit >= unit || R <= fit) return { rows: Math.max(unit, Math.floor(fit / unit) * unit), cols: C };
  if (fmt.columnPieces) return { rows: unit, cols: Math.min(C, Math.max(group, Math.floor(bandElements / unit / group) * group)) };
  let rows = 1;
  while (rows * 2 <= fit && rows * 2 <= unit) rows *= 2;
  return { rows, cols: C };
}

function bandRowsOf(job: Extract<Job, { kind: 'quantize' }>, t: InputTensor, o: QuantizeJobOptions): { rows: number; cols: number } {
  const [R, C] = view2d(t.shape);
  return bandingOf(job.scheme, job.group, R, C, o.bandElements);
}

/** Start reading the first `bands` bands of `t` (into pooled buffers when `o.pool` is given). */
export function prefetchQuantize(job: Extract<Job, { kind: 'quantize' }>, t: InputTensor, o: QuantizeJobOptions, bands = 1): QuantizeReads {
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
      const p = o.read(t, { r0, r1, c0: 0, c1: C }, into);
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
export async function quantizeJob(job: Extract<Job, { kind: 'quantize' }>, t: InputTensor, sink: BandWriter, o: QuantizeJobOptions & { prefetched?: QuantizeReads | undefined }): Promise<TensorError> {
  const k = o.kernels ?? {};
  const errorStride = o.errorStride ?? DEFAULT_ERROR_STRIDE;
  const signal = o.signal;
  const [R, C] = view2d(t.shape);
  const g = job.group;
  const scheme = job.scheme;
  const codesName = job.outs[0]!.name;
  const stats = new ErrorStats();
  const fmt = formatOf(scheme);
  const banding = bandRowsOf(job, t, o);
  const amax = fmt.tensorAmax ? await sharedAmax(job, t, fmt.tensorAmax.fused ? fusedPartners(t.name) : [], { ...o, kernels: k }) : undefined;
  const enc = fmt.encoder(R, C, g, amax === undefined ? undefined : { amax });
  const unit = fmt.rowUnit(g);
  const pooled = !t.quant && t.pieces.length > 0;
  if (banding.cols < C) {
    const sampledWide = await quantizePieces(job, t, sink, enc, { ...o, kernels: k, unit, rows: banding.rows, cols: banding.cols, errorStride, sums: stats.sums });
    await putTail(job, enc, sink);
    return { tensor: t.name, scheme, ...stats.result(), sampledRows: sampledWide, rows: R };
  }
  const rd = o.prefetched?.t === t ? o.prefetched : prefetchQuantize(job, t, o, 0);
  const { bandRows, reads } = rd;
  const ahead = () => {
    for (; rd.next < R && reads.length <= READ_AHEAD; rd.next += bandRows) reads.push(rd.read(rd.next));
  };
  ahead();
  const codeBytes = (n: number) => enc.codeBytes(n, C);
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
      const codes = bytesOf(await enc.band(input, r0, n, 0, C, ab, { kernels: k, errors }));
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
  await putTail(job, enc, sink);
  return { tensor: t.name, scheme, ...stats.result(), sampledRows: sampled, rows: R };
}

/**
 * Largest finite |w| over `t` and the `partners` an engine fuses it with (those present in the input),
 * for formats with a tensor-wide scale. Each tensor is measured once per run (`o.amaxCache`): read in the
 * job's bands (or column pieces), one read ahead, into pooled buffers for whole-row bands, so a tensor is
 * read twice in all (the second time usually from the page cache) and memory stays two bands.
 */
async function sharedAmax(job: Extract<Job, { kind: 'quantize' }>, t: InputTensor, partners: string[], o: QuantizeJobOptions & { kernels: KernelOptions }): Promise<number> {
  let m = 0;
  for (const u of [t, ...partners.map((n) => o.tensor?.(n)).filter((x): x is InputTensor => x !== undefined)]) {
    let a = o.amaxCache?.get(u.name);
    if (a === undefined) {
      const banding = bandRowsOf(job, u, o);
      a = await tensorAmaxOf(u, banding.rows, banding.cols, o);
      o.amaxCache?.set(u.name, a);
    }
    m = Math.max(m, a);
  }
  return m;
}

async function tensorAmaxOf(t: InputTensor, rows: number, cols: number, o: QuantizeJobOptions & { kernels: KernelOptions }): Promise<number> {
  const [R, C] = view2d(t.shape);
  const pooled = !t.quant && t.pieces.length > 0 && cols === C && o.pool !== undefined;
  const tiles: { r0: number; c0: number }[] = [];
  for (let r0 = 0; r0 < R; r0 += rows) for (let c0 = 0; c0 < C; c0 += cols) tiles.push({ r0, c0 });
  const read = (i: number) => {
    const { r0, c0 } = tiles[i]!;
    const r1 = Math.min(R, r0 + rows);
    const p = o.read(t, { r0, r1, c0, c1: Math.min(C, c0 + cols) }, pooled ? o.pool!.take((r1 - r0) * C * dtypeBytes(t.pieces[0]!.dtype)) : undefined);
    p.catch(() => undefined); // awaited in order below
    return p;
  };
  let next: Promise<RectData> | undefined = tiles.length > 0 ? read(0) : undefined;
  let amax = 0;
  try {
    for (let i = 0; i < tiles.length; i++) {
      throwIfAborted(o.signal);
      const { dtype, data } = await next!;
      next = i + 1 < tiles.length ? read(i + 1) : undefined;
      const { r0, c0 } = tiles[i]!;
      const u16 = bf16Of(data, dtype);
      amax = Math.max(amax, await matrixAmax(u16 ? { bf16: u16 } : toF32(data, dtype), Math.min(R, r0 + rows) - r0, Math.min(C, c0 + cols) - c0, o.kernels));
      if (pooled) o.pool!.give(data);
    }
  } finally {
    await next?.catch(() => undefined);
  }
  return amax;
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
 * Rows too wide for a band of one unit of rows (formats with `columnPieces`, e.g. fp8-block): each unit
 * of rows is quantized in column pieces of whole blocks (each block's scale and codes do not depend on its
 * neighbours), its codes written in place row by row and hashed from the file; the next piece is read
 * while one is quantized. Returns the rows the error statistics were measured on.
 */
async function quantizePieces(
  job: Extract<Job, { kind: 'quantize' }>,
  t: InputTensor,
  sink: BandWriter,
  enc: BandEncoder,
  o: QuantizeJobOptions & { kernels: KernelOptions; unit: number; rows: number; cols: number; errorStride: number; sums: Float64Array },
): Promise<number> {
  const [R, C] = view2d(t.shape);
  const g = o.unit;
  const rowBytes = (w: number) => enc.codeBytes(1, w);
  const codesName = job.outs[0]!.name;
  const pieces: { r0: number; c0: number }[] = [];
  for (let r0 = 0; r0 < R; r0 += o.rows) for (let c0 = 0; c0 < C; c0 += o.cols) pieces.push({ r0, c0 });
  const read = (i: number) => {
    const q = pieces[i]!;
    const p = o.read(t, { r0: q.r0, r1: Math.min(R, q.r0 + o.rows), c0: q.c0, c1: Math.min(C, q.c0 + o.cols) });
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
      await sink.region(codesName, r0 * rowBytes(C), n * rowBytes(C), async (write) => {
        for (let c0 = 0; c0 < C; c0 += o.cols, i++) {
          throwIfAborted(o.signal);
          const w = Math.min(C, c0 + o.cols) - c0;
          const { dtype, data } = await next!;
          next = i + 1 < pieces.length ? read(i + 1) : undefined;
          const u16 = bf16Of(data, dtype);
          const input: QuantInput = u16 ? { bf16: u16 } : toF32(data, dtype);
          const ab = codePool.take(enc.codeBytes(n, w));
          const bytes = bytesOf(await enc.band(input, r0, n, c0, w, ab, { kernels: o.kernels, errors }));
          const rb = rowBytes(w);
          await Promise.all(Array.from({ length: n }, (_, r) => write(bytes.subarray(r * rb, (r + 1) * rb), r * rowBytes(C) + rowBytes(c0))));
          codePool.give(ab);
        }
      });
    }
  } finally {
    await next?.catch(() => undefined);
  }
  return sampled;
}

/**
 * Quantization as the pipeline's per-tensor transform, with these kernel options and error sampling.
 * @example writePlannedFile(out, file, { ...ctx, transform: quantizeTransform({ threads: 2 }) })
 */
export function quantizeTransform(o: { kernels?: KernelOptions | undefined; errorStride?: number | undefined } = {}): TensorTransform<TensorError, QuantizeReads> {
  const amaxCache = new Map<string, number>(); // per run: each fused partner is measured once
  return {
    prefetch: (job, t, c) => prefetchQuantize(job, t, { ...c, ...o }),
    run: (job, t, sink, c) => quantizeJob(job, t, sink, { ...c, ...o, amaxCache }),
  };
}
