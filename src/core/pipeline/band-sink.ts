/**
 * The ordered sink of one output file: positioned writes and verbatim copies in file order, a bounded
 * number in flight, every byte hashed on the hash worker in file order (bands from memory once written,
 * copied ranges from the input they are copied from, regions from the file). Writes go to an OutputFile
 * (the safetensors writer; any file with named tensor ranges).
 */
import type { FileHandle } from 'node:fs/promises';
import { InputError } from '../errors.js';
import { COPIES_IN_FLIGHT, COPY_BYTES, HASH_LAG_BYTES, HASH_QUEUE, WRITES_IN_FLIGHT } from '../io-tuning.js';
import type { Hasher } from './hasher.js';
import type { BandWriter } from './transform.js';

/** A file being written whose tensors are named byte ranges (SafetensorsWriter). */
export interface OutputFile {
  readonly path: string;
  /** The temporary file written until the output is complete. */
  readonly tmpPath: string;
  /** Absolute file offset of the first byte of tensor `name`. */
  absoluteOffset(name: string): number;
  write(name: string, data: Uint8Array, byteOffset?: number): Promise<void>;
  /** Copy one contiguous input range into consecutive tensor ranges `pieces` with a single copy. */
  copyRunFrom(pieces: { name: string; byteOffset: number; length: number }[], fdIn: FileHandle, offIn: number, label?: string): Promise<void>;
}

/** A verbatim copy not issued yet: consecutive pieces of the output taken from one contiguous input range. */
interface CopyRun {
  fdIn: FileHandle;
  inPath: string;
  offIn: number;
  length: number;
  pieces: { name: string; byteOffset: number; length: number }[];
}

/**
 * Sequential writer: positioned writes in file order, ≤ WRITES_IN_FLIGHT pending; every chunk goes to the
 * hash worker (in file order) once its write has completed.
 */
export class BandSink implements BandWriter {
  private cursor: number;
  private readonly pending: Promise<void>[] = [];
  private hashChain: Promise<void> = Promise.resolve();
  private run: CopyRun | undefined;
  private readonly id: number;
  constructor(readonly writer: OutputFile, header: Buffer, private readonly hasher: Hasher, private readonly onBytes?: (n: number) => void) {
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

