/**
 * A per-tensor transform the file writer calls for jobs that are not plain assembly (today the
 * quantizers of core/quantize): it reads its tensor through the pipeline's reader, in bands, and writes
 * its output tensors in file order through a BandWriter. The pipeline knows only this interface, so it
 * never imports what it calls.
 */
import type { BufferPool } from './buffer-pool.js';
import type { InputTensor, ReadRect } from './input.js';
import type { Job } from './jobs.js';

export type TransformJob = Extract<Job, { kind: 'quantize' }>;

/** The writes a transform may make into the file being written, in file order (see BandSink). */
export interface BandWriter {
  /** Queue `data` at `byteOffset` of tensor `name`, continuing exactly where the previous write ended; `release` gets it back once written and hashed. */
  put(name: string, data: Buffer, byteOffset: number, release?: (b: Buffer) => void): Promise<void>;
  /** Write a region of `length` bytes at `byteOffset` of `name` as positioned pieces in any order (`fill` must cover it exactly). */
  region(name: string, byteOffset: number, length: number, fill: (write: (data: Buffer, at: number) => Promise<void>) => Promise<void>): Promise<void>;
}

export interface TransformContext {
  signal?: AbortSignal | undefined;
  /** Reads any rectangle of an input tensor. */
  read: ReadRect;
  /** Reusable input band buffers. */
  pool?: BufferPool | undefined;
  /** Input elements per band (undefined: the transform's default); bounds memory, never changes bytes. */
  bandElements?: number | undefined;
  /** Any other input tensor by name (a transform may need statistics of related tensors). */
  tensor?: ((name: string) => InputTensor | undefined) | undefined;
}

/** Reads a transform started ahead of its tensor; `settle` waits for all of them (before the input closes). */
export interface Prefetch {
  settle(): Promise<void>;
}

export interface TensorTransform<R, P extends Prefetch = Prefetch> {
  /** Start reading the first band of `t` (the writer calls it while the previous tensor is transformed). */
  prefetch(job: TransformJob, t: InputTensor, c: TransformContext): P;
  /** Transform `t` as `job` says, writing `job.outs` in order through `sink`; resolves with its report. */
  run(job: TransformJob, t: InputTensor, sink: BandWriter, c: TransformContext & { prefetched?: P | undefined }): Promise<R>;
}
