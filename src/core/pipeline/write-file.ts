/**
 * Write one planned output file: header first, then every job's tensors in file order. Bytes that need
 * no change are copied file to file (copy_file_range when the native addon is loaded), in ranges of
 * COPY_BYTES; everything else goes in row bands of bounded size (BAND_BYTES), each band's write
 * overlapping the next band's read. The sha256 is computed on a hash worker, in file order: bands from
 * memory once written, copied ranges from the input they are copied from (page cache), without waiting
 * for the copy, so hashing a file runs beside its copies instead of behind them. The digest finishes
 * while the next file is written. Output goes to `<file>.incomplete` and is renamed into place
 * only when complete.
 */
import { mkdir, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { dtypeBytes } from '../dtype/dtypes.js';
import { InputError, throwIfAborted } from '../errors.js';
import { writing } from '../fs/write-errors.js';
import { DEFAULT_CHUNK_BYTES } from '../limits.js';
import { SafetensorsWriter } from '../safetensors/writer.js';
import { encodeHeader } from '../safetensors/header.js';
import { prefetchQuantize, quantizeJob, type QuantizeReads } from '../quantize/quantize-job.js';
import type { KernelOptions } from '../ops/common.js';
import { castBytes } from './cast.js';
import type { Hasher } from './hasher.js';
import { jobTensors, type Item, type Job } from './jobs.js';
import { view2d } from './geometry.js';
import type { FilePlan } from './plan.js';
import { filePath } from './plan.js';
import { readRect } from '../convert/read-rect.js';
import { contiguousSegments, type Segment } from './segments.js';
import type { Source, SourceTensor } from '../convert/source.js';
import type { DoneRecord, TensorError } from '../convert/state.js';

/** Bytes per band (of the widest representation handled: fp32 when casting). */
export const BAND_BYTES = DEFAULT_CHUNK_BYTES;

export interface WriteContext {
  src: Source;
  signal?: AbortSignal | undefined;
  /** Hash worker shared by all files of a run. */
  hasher: Hasher;
  /** Band buffers reused across bands and files. */
  pool?: BufferPool | undefined;
  /** Kernel options (threads, backend) for quantization. */
  kernels?: KernelOptions | undefined;
  /** Band size in bytes (default BAND_BYTES; small values exercise band boundaries in tests). */
  bandBytes?: number | undefined;
  /** Measure quantization errors on every n-th block of rows (1: all rows). */
  errorStride?: number | undefined;
  /** Called with the number of output bytes just written. */
  onBytes?: ((n: number) => void) | undefined;
}

/** Reusable band buffers (fewer large allocations → less GC work on multi-GB copies). */
export class BufferPool {
  private readonly free: ArrayBuffer[] = [];
  constructor(readonly size: number = BAND_BYTES, private readonly keep = 6) {}
  /** A buffer of n bytes (pooled when n ≤ size). */
  take(n: number): Buffer {
    if (n > this.size) return Buffer.allocUnsafe(n);
    const ab = this.free.pop() ?? new ArrayBuffer(this.size);
    return Buffer.from(ab, 0, n);
  }
  give(b: Buffer): void {
    if (b.buffer.byteLength === this.size && b.byteOffset === 0 && this.free.length < this.keep && !this.free.includes(b.buffer as ArrayBuffer)) this.free.push(b.buffer as ArrayBuffer);
  }
}

/** Writes kept in flight at once (each up to one band): lets the disk work while the next band is read. */
const WRITES_IN_FLIGHT = 3;

/** Chunks queued for hashing at most (each ≤ one band): bounds the memory the hash queue can hold. */
const HASH_QUEUE = 4;

/**
 * Copies kept in flight at once. One: concurrent copies into one file serialise on its lock in the kernel
 * and spin there (measured: 2 in flight cost more CPU than 1 and saved no time once copies are merged).
 */
const COPIES_IN_FLIGHT = 1;

/**
 * Bytes per verbatim copy call at most: bounds the time between progress reports and abort checks.
 * Consecutive copies that continue each other in the input are merged up to this size, so a run of whole
 * tensors goes to the kernel in one call instead of one call (and one round trip) per tensor.
 */
export const COPY_BYTES = 64 * 1024 * 1024;

/** A verbatim copy not issued yet: consecutive pieces of the output taken from one contiguous input range. */
interface CopyRun {
  fdIn: FileHandle;
  inPath: string;
  offIn: number;
  length: number;
  pieces: { name: string; byteOffset: number; length: number }[];
}

/**
 * Copied bytes not yet hashed at most: hashing reads them from the input's page cache, so it must not
 * fall so far behind the copies that they have been evicted (it would then read them from disk again).
 */
const HASH_LAG_BYTES = 1024 * 1024 * 1024;

/**
 * Sequential writer: positioned writes in file order, ≤ WRITES_IN_FLIGHT pending; every chunk goes to the
 * hash worker (in file order) once its write has completed.
 */
export class BandSink {
  private cursor: number;
  private readonly pending: Promise<void>[] = [];
  private hashChain: Promise<void> = Promise.resolve();
  private run: CopyRun | undefined;
  private readonly id: number;
  constructor(readonly writer: SafetensorsWriter, header: Buffer, private readonly hasher: Hasher, private readonly onBytes?: (n: number) => void) {
    this.id = hasher.begin();
    hasher.update(this.id, header);
    this.cursor = header.length;
  }
  /**
   * Queue `data` at `byteOffset` of tensor `name`; must continue exactly where the previous write ended.
   * `data` must not be modified afterwards; `release` gets it back (possibly as a new view) when done.
   */
  async put(name: string, data: Buffer, byteOffset: number, release?: (b: Buffer) => void): Promise<void> {
    const abs = this.writer.absoluteOffset(name) + byteOffset;
    if (abs !== this.cursor) throw new InputError('E_INTERNAL_ORDER', `${this.writer.path}: write at ${abs} but expected ${this.cursor}`);
    await this.flushCopy();
    while (this.pending.length >= WRITES_IN_FLIGHT) await this.pending.shift();
    await this.hasher.below(HASH_QUEUE);
    this.cursor += data.length;
    const w = this.writer.write(name, data, byteOffset).then(() => this.onBytes?.(data.length));
    w.catch(() => undefined); // surfaced by the await in put/drain; avoids an unhandled rejection meanwhile
    this.pending.push(w);
    this.hashChain = this.hashChain.then(async () => {
      await w;
      if (release) this.hasher.update(this.id, data, true, (ab) => release(Buffer.from(ab)));
      else this.hasher.update(this.id, data);
    });
    this.hashChain.catch(() => undefined);
  }
  /**
   * Copy `length` bytes at `offIn` of `fdIn` (the file at `inPath`) verbatim to `byteOffset` of tensor
   * `name`; must continue exactly where the previous write ended. Merged with the copy before it when
   * that one ends where this one starts in the same input; issued once the run is full or something
   * else is written. The bytes are hashed from the input (they are the same bytes), in file order but
   * without waiting for the copy.
   */
  async copy(name: string, fdIn: FileHandle, inPath: string, offIn: number, length: number, byteOffset: number): Promise<void> {
    const abs = this.writer.absoluteOffset(name) + byteOffset;
    if (abs !== this.cursor) throw new InputError('E_INTERNAL_ORDER', `${this.writer.path}: copy to ${abs} but expected ${this.cursor}`);
    this.cursor += length;
    const r = this.run;
    if (r && r.fdIn === fdIn && r.offIn + r.length === offIn && r.length + length <= COPY_BYTES) {
      r.length += length;
      r.pieces.push({ name, byteOffset, length });
      return;
    }
    await this.flushCopy();
    this.run = { fdIn, inPath, offIn, length, pieces: [{ name, byteOffset, length }] };
  }
  /** Issue the pending copy run, if any. */
  private async flushCopy(): Promise<void> {
    const r = this.run;
    if (!r) return;
    this.run = undefined;
    while (this.pending.length >= COPIES_IN_FLIGHT) await this.pending.shift();
    await this.hasher.fileBacklogBelow(HASH_LAG_BYTES);
    const w = this.writer.copyRunFrom(r.pieces, r.fdIn, r.offIn, r.inPath).then(() => this.onBytes?.(r.length));
    w.catch(() => undefined); // surfaced by the await in put/flushCopy/drain
    this.pending.push(w);
    this.hashChain = this.hashChain.then(() => this.hasher.updateFromFile(this.id, r.inPath, r.offIn, r.length));
    this.hashChain.catch(() => undefined);
  }
  /**
   * Write the `length` bytes at `byteOffset` of tensor `name` (continuing exactly where the previous write
   * ended) as positioned pieces in any order: `fill` gets a writer taking offsets within the region, and
   * must cover it exactly. The region is then hashed from the output file (its page cache), in file
   * order. For outputs whose rows are produced in column pieces (very wide tensors): memory stays one
   * piece, never one whole band of rows.
   */
  async region(name: string, byteOffset: number, length: number, fill: (write: (data: Buffer, at: number) => Promise<void>) => Promise<void>): Promise<void> {
    const abs = this.writer.absoluteOffset(name) + byteOffset;
    if (abs !== this.cursor) throw new InputError('E_INTERNAL_ORDER', `${this.writer.path}: region at ${abs} but expected ${this.cursor}`);
    await this.flushCopy();
    while (this.pending.length > 0) await this.pending.shift();
    let got = 0;
    await fill(async (data, at) => {
      if (at < 0 || at + data.length > length) throw new InputError('E_INTERNAL_ORDER', `${this.writer.path}: piece [${at}, ${at + data.length}) outside a region of ${length} bytes`);
      await this.writer.write(name, data, byteOffset + at);
      got += data.length;
      this.onBytes?.(data.length);
    });
    if (got !== length) throw new InputError('E_INTERNAL_ORDER', `${this.writer.path}: region of ${length} bytes got ${got}`);
    this.cursor += length;
    await this.hasher.fileBacklogBelow(HASH_LAG_BYTES);
    this.hashChain = this.hashChain.then(() => this.hasher.updateFromFile(this.id, this.writer.tmpPath, abs, length));
    this.hashChain.catch(() => undefined);
  }
  /** Issue any pending copy, then wait for every write and for every hash update to be queued. */
  async drain(): Promise<void> {
    await this.flushCopy();
    while (this.pending.length > 0) await this.pending.shift();
    await this.hashChain;
  }
  /** The sha256 of the whole file (call after drain; also releases the worker's hold on the file). */
  digest(): Promise<string> {
    return this.hasher.digest(this.id);
  }
}

/** Copy `segments` into tensor `name` in file order, COPY_BYTES (or the band size, when set) at a time. */
async function copySegments(name: string, segments: Segment[], sink: BandSink, ctx: WriteContext): Promise<void> {
  const step = ctx.bandBytes ?? COPY_BYTES;
  for (const s of segments) {
    const reader = await s.piece.ckpt.reader(s.piece.file);
    const base = reader.absoluteOffset(s.piece.tensor) + s.srcOffset;
    for (let b = 0; b < s.length; b += step) {
      throwIfAborted(ctx.signal);
      await sink.copy(name, reader.fd, reader.path, base + b, Math.min(step, s.length - b), s.dst + b);
    }
  }
}

/** Unchanged bytes that are not contiguous in the input: positioned reads into pooled buffers, written as read. */
async function copyBands(job: Extract<Job, { kind: 'assemble' }>, only: Item, onlySrc: SourceTensor, sink: BandSink, ctx: WriteContext): Promise<void> {
  const [R, C] = view2d(job.out.shape);
  const outEb = dtypeBytes(job.out.dtype);
  const pool = ctx.pool ?? new BufferPool();
  const copyRows = Math.max(1, Math.floor((ctx.bandBytes ?? pool.size) / (C * outEb))); // no fp32 stage: full-size bands
  const read = (R0: number) => {
    const R1 = Math.min(R, R0 + copyRows);
    const buf = pool.take((R1 - R0) * C * outEb);
    return readRect(onlySrc, { r0: only.rect.r0 + R0, r1: only.rect.r0 + R1, c0: only.rect.c0, c1: only.rect.c1 }, buf).then(() => buf);
  };
  let next = R > 0 ? read(0) : undefined;
  for (let R0 = 0; R0 < R; R0 += copyRows) {
    throwIfAborted(ctx.signal);
    const buf = await next!;
    next = R0 + copyRows < R ? read(R0 + copyRows) : undefined; // next band is read while this one is written
    next?.catch(() => undefined);
    await sink.put(job.out.name, buf, R0 * C * outEb, (b) => pool.give(b));
  }
}

async function assemble(job: Extract<Job, { kind: 'assemble' }>, sink: BandSink, ctx: WriteContext): Promise<void> {
  const [R, C] = view2d(job.out.shape);
  const outEb = dtypeBytes(job.out.dtype);
  const maxSrcCols = Math.max(C, ...job.items.map((it) => ctx.src.byName.get(it.src)!.shape.at(-1) ?? 1));
  const bandRows = Math.max(1, Math.floor((ctx.bandBytes ?? BAND_BYTES) / (maxSrcCols * 4)));
  const only = job.items.length === 1 ? job.items[0]! : undefined;
  const onlySrc = only ? ctx.src.byName.get(only.src)! : undefined;
  const segments = contiguousSegments(job, ctx.src);
  if (segments) {
    // unchanged bytes, whole input rows: copied file to file
    await copySegments(job.out.name, segments, sink, ctx);
    return;
  }
  if (only && onlySrc && !onlySrc.quant && only.rect.c1 - only.rect.c0 === C && onlySrc.pieces.every((p) => p.dtype === job.out.dtype)) {
    // unchanged bytes, parts of input rows: read into pooled buffers and written as read
    await copyBands(job, only, onlySrc, sink, ctx);
    return;
  }
  for (let R0 = 0; R0 < R; R0 += bandRows) {
    throwIfAborted(ctx.signal);
    const R1 = Math.min(R, R0 + bandRows);
    let band: Buffer | undefined;
    let bandDtype: string | undefined;
    for (const it of job.items) {
      const ir = it.rect.r1 - it.rect.r0;
      const ic = it.rect.c1 - it.rect.c0;
      const a = Math.max(R0, it.dst[0]);
      const b = Math.min(R1, it.dst[0] + ir);
      if (a >= b) continue;
      const t = ctx.src.byName.get(it.src)!;
      const rect = { r0: it.rect.r0 + (a - it.dst[0]), r1: it.rect.r0 + (b - it.dst[0]), c0: it.rect.c0, c1: it.rect.c1 };
      const { dtype, data } = await readRect(t, rect);
      if (bandDtype !== undefined && bandDtype !== dtype) throw new InputError('E_DTYPE', `${job.out.name}: pieces have mixed dtypes ${bandDtype} and ${dtype}`);
      bandDtype = dtype;
      const eb = dtypeBytes(dtype);
      if (ic === C && a === R0 && b === R1) {
        band = data;
        continue;
      }
      band ??= Buffer.alloc((R1 - R0) * C * eb);
      for (let r = 0; r < b - a; r++) data.copy(band, ((a - R0 + r) * C + it.dst[1]) * eb, r * ic * eb, (r + 1) * ic * eb);
    }
    if (!band || !bandDtype) throw new InputError('E_INTERNAL_PLAN', `${job.out.name}: rows [${R0}, ${R1}) are not covered by any input`);
    await sink.put(job.out.name, castBytes(band, bandDtype as never, job.out.dtype), R0 * C * outEb);
  }
}

/**
 * Write planned file `f` under `outRoot`. Resolves once every byte is written; `durable` then completes
 * the sha256, fsyncs and renames the file into place (so the next file can start meanwhile) and resolves
 * with the record kept for resumption (size, sha256, quantization errors).
 */
export async function writePlannedFile(outRoot: string, f: FilePlan, ctx: WriteContext): Promise<{ durable: Promise<DoneRecord> }> {
  const path = join(outRoot, f.dir, f.name);
  await writing(dirname(path), () => mkdir(dirname(path), { recursive: true }));
  const specs = f.jobs.flatMap(jobTensors);
  const w = await SafetensorsWriter.create(path, specs, f.metadata);
  const errors: TensorError[] = [];
  let sink: BandSink | undefined;
  let prefetched: QuantizeReads | undefined;
  try {
    // the writer serialises the header with encodeHeader; the same call gives the same bytes to hash
    const header = encodeHeader(specs, f.metadata).bytes;
    if (header.length !== w.dataStart) throw new InputError('E_INTERNAL_HEADER', `${w.tmpPath}: header is ${w.dataStart} bytes, expected ${header.length}`);
    sink = new BandSink(w, header, ctx.hasher, ctx.onBytes);
    const qo = { signal: ctx.signal, pool: ctx.pool, kernels: ctx.kernels, errorStride: ctx.errorStride, bandElements: ctx.bandBytes === undefined ? undefined : ctx.bandBytes / 4 };
    for (let i = 0; i < f.jobs.length; i++) {
      const job = f.jobs[i]!;
      if (job.kind === 'assemble') await assemble(job, sink, ctx);
      else {
        const t = ctx.src.byName.get(job.src)!;
        const mine = prefetched;
        // the next tensor's first band is read while this one is quantized (most tensors are one band)
        const nj = f.jobs[i + 1];
        prefetched = nj?.kind === 'quantize' ? prefetchQuantize(nj, ctx.src.byName.get(nj.src)!, qo) : undefined;
        errors.push(await quantizeJob(job, t, sink, { ...qo, prefetched: mine }));
      }
    }
    await sink.drain();
  } catch (e) {
    await prefetched?.settle(); // no read may still use the input once this fails
    await sink?.drain().catch(() => undefined); // no copy or hash read may still use the file
    await sink?.digest().catch(() => undefined);
    await w.abort();
    throw e;
  }
  const durable = (async () => {
    // the digest (finishing on a hash worker) and the fsync overlap the next file's writes
    const [sha256] = await Promise.all([sink.digest(), w.sync()]);
    await w.finish();
    const record: DoneRecord = { file: filePath(f), size: w.totalBytes, sha256 };
    if (errors.length > 0) record.errors = errors;
    return record;
  })().catch(async (e: unknown) => {
    await w.abort();
    throw e;
  });
  return { durable };
}
