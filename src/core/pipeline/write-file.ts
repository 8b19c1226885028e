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
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { dtypeBytes } from '../dtype/dtypes.js';
import { InputError, throwIfAborted } from '../errors.js';
import { writing } from '../fs/write-errors.js';
import { BAND_BYTES, COPY_BYTES } from '../io-tuning.js';
import { SafetensorsWriter } from '../safetensors/writer.js';
import { encodeHeader } from '../safetensors/header.js';
import { BandSink } from './band-sink.js';
import { BufferPool } from './buffer-pool.js';
import { castBytes } from './cast.js';
import type { Hasher } from './hasher.js';
import type { InputTensor, PipelineInput, ReadRect } from './input.js';
import { jobTensors, type Item, type Job } from './jobs.js';
import { view2d } from './geometry.js';
import type { FilePlan } from './plan.js';
import { filePath } from './plan.js';
import { forEachChunk } from './in-flight.js';
import { contiguousSegments, type Segment } from './segments.js';
import type { Prefetch, TensorTransform, TransformContext } from './transform.js';

export interface WriteContext<R = unknown, P extends Prefetch = Prefetch> {
  src: PipelineInput;
  /** Reads any rectangle of an input tensor. */
  read: ReadRect;
  /** What the file writer calls for 'quantize' jobs. */
  transform?: TensorTransform<R, P> | undefined;
  signal?: AbortSignal | undefined;
  /** Hash worker shared by all files of a run. */
  hasher: Hasher;
  /** Band buffers reused across bands and files. */
  pool?: BufferPool | undefined;
  /** Band size in bytes (default BAND_BYTES; small values exercise band boundaries in tests). */
  bandBytes?: number | undefined;
  /** Called with the number of output bytes just written. */
  onBytes?: ((n: number) => void) | undefined;
}

/** What is kept of a written file for resumption: size, sha256 and the reports of its transforms. */
export interface FileRecord<R = unknown> {
  file: string;
  size: number;
  sha256: string;
  errors?: R[];
}

/** Copy `segments` into tensor `name` in file order, COPY_BYTES (or the band size, when set) at a time. */
async function copySegments(name: string, segments: Segment[], sink: BandSink, ctx: WriteContext<unknown, Prefetch>): Promise<void> {
  const step = ctx.bandBytes ?? COPY_BYTES;
  for (const s of segments) {
    const reader = await s.piece.ckpt.reader(s.piece.file);
    const base = reader.absoluteOffset(s.piece.tensor) + s.srcOffset;
    await forEachChunk(s.length, step, ctx.signal, (b, n) => sink.copy(name, reader.fd, reader.path, base + b, n, s.dst + b));
  }
}

/** Unchanged bytes that are not contiguous in the input: positioned reads into pooled buffers, written as read. */
async function copyBands(job: Extract<Job, { kind: 'assemble' }>, only: Item, onlySrc: InputTensor, sink: BandSink, ctx: WriteContext<unknown, Prefetch>): Promise<void> {
  const [R, C] = view2d(job.out.shape);
  const outEb = dtypeBytes(job.out.dtype);
  const pool = ctx.pool ?? new BufferPool();
  const copyRows = Math.max(1, Math.floor((ctx.bandBytes ?? pool.size) / (C * outEb))); // no fp32 stage: full-size bands
  const read = (R0: number) => {
    const R1 = Math.min(R, R0 + copyRows);
    const buf = pool.take((R1 - R0) * C * outEb);
    return ctx.read(onlySrc, { r0: only.rect.r0 + R0, r1: only.rect.r0 + R1, c0: only.rect.c0, c1: only.rect.c1 }, buf).then(() => buf);
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

async function assemble(job: Extract<Job, { kind: 'assemble' }>, sink: BandSink, ctx: WriteContext<unknown, Prefetch>): Promise<void> {
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
      const { dtype, data } = await ctx.read(t, rect);
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
export async function writePlannedFile<R, P extends Prefetch>(outRoot: string, f: FilePlan, ctx: WriteContext<R, P>): Promise<{ durable: Promise<FileRecord<R>> }> {
  const path = join(outRoot, f.dir, f.name);
  await writing(dirname(path), () => mkdir(dirname(path), { recursive: true }));
  const specs = f.jobs.flatMap(jobTensors);
  const w = await SafetensorsWriter.create(path, specs, f.metadata);
  const errors: R[] = [];
  let sink: BandSink | undefined;
  let prefetched: P | undefined;
  try {
    // the writer serialises the header with encodeHeader; the same call gives the same bytes to hash
    const header = encodeHeader(specs, f.metadata).bytes;
    if (header.length !== w.dataStart) throw new InputError('E_INTERNAL_HEADER', `${w.tmpPath}: header is ${w.dataStart} bytes, expected ${header.length}`);
    sink = new BandSink(w, header, ctx.hasher, ctx.onBytes);
    const tc: TransformContext = { signal: ctx.signal, read: ctx.read, pool: ctx.pool, bandElements: ctx.bandBytes === undefined ? undefined : ctx.bandBytes / 4, tensor: (n) => ctx.src.byName.get(n) };
    for (let i = 0; i < f.jobs.length; i++) {
      const job = f.jobs[i]!;
      if (job.kind === 'assemble') await assemble(job, sink, ctx);
      else {
        const tr = ctx.transform;
        if (!tr) throw new InputError('E_INTERNAL_PLAN', `${job.src}: a ${job.scheme} job but no transform was given`);
        const t = ctx.src.byName.get(job.src)!;
        const mine = prefetched;
        // the next tensor's first band is read while this one is transformed (most tensors are one band)
        const nj = f.jobs[i + 1];
        prefetched = nj?.kind === 'quantize' ? tr.prefetch(nj, ctx.src.byName.get(nj.src)!, tc) : undefined;
        errors.push(await tr.run(job, t, sink, { ...tc, prefetched: mine }));
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
    const record: FileRecord<R> = { file: filePath(f), size: w.totalBytes, sha256 };
    if (errors.length > 0) record.errors = errors;
    return record;
  })().catch(async (e: unknown) => {
    await w.abort();
    throw e;
  });
  return { durable };
}
