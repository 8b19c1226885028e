/**
 * Streaming safetensors writer. The header (all names, dtypes, shapes) is fixed at creation; tensor
 * bytes are then written by position in any order and in any number of pieces, so tensors larger than
 * any Buffer (stacked experts > 4 GiB) stream straight to disk. Output goes to `<path>.incomplete`,
 * and `finish()` checks every byte was written, fsyncs and renames it into place.
 */
import type { FileHandle } from 'node:fs/promises';
import { InputError } from '../errors.js';
import type { DType } from '../dtype/dtypes.js';
import { AtomicFile } from '../fs/atomic-file.js';
import { copyRange, extendFile, WritebackPump } from '../ops/copy.js';
import { encodeHeader } from './header.js';
import { writing } from '../fs/write-errors.js';

export interface TensorSpec {
  name: string;
  dtype: DType;
  shape: number[];
}

export class SafetensorsWriter {
  readonly path: string;
  readonly tmpPath: string;
  readonly fd: FileHandle;
  readonly dataStart: number;
  readonly totalBytes: number;
  private readonly offsets: Map<string, [number, number]>;
  private readonly written = new Map<string, number>();
  /** Writeback of copied ranges, started beside the next copies; settled before any fsync or close of `fd`. */
  private readonly writeback: WritebackPump;

  private constructor(private readonly file: AtomicFile, writeback: WritebackPump, dataStart: number, offsets: Map<string, [number, number]>, totalBytes: number) {
    this.path = file.path;
    this.tmpPath = file.tmpPath;
    this.fd = file.fd;
    this.dataStart = dataStart;
    this.offsets = offsets;
    this.totalBytes = totalBytes;
    this.writeback = writeback;
  }

  /**
   * Create `<path>.incomplete` with the header for `specs` (in this order) and `metadata`.
   * @example const w = await SafetensorsWriter.create('out/model-00000-of-00002.safetensors', [{ name: 'a', dtype: 'BF16', shape: [2, 3] }]);
   *          await w.write('a', bytes); await w.finish();
   */
  static async create(path: string, specs: TensorSpec[], metadata?: Record<string, string>): Promise<SafetensorsWriter> {
    const { bytes, offsets } = encodeHeader(specs, metadata);
    const dataBytes = [...offsets.values()].reduce((a, [, e]) => Math.max(a, e), 0);
    let pump: WritebackPump | undefined;
    const file = await AtomicFile.create(path, { header: bytes, size: bytes.length + dataBytes, grow: extendFile, settle: () => pump?.settle() ?? Promise.resolve() });
    pump = new WritebackPump(file.fd);
    return new SafetensorsWriter(file, pump, bytes.length, offsets, bytes.length + dataBytes);
  }

  /** Absolute file offset of tensor `name`'s first byte. */
  absoluteOffset(name: string): number {
    return this.dataStart + this.range(name)[0];
  }

  private range(name: string): [number, number] {
    const r = this.offsets.get(name);
    if (!r) throw new InputError('E_TENSOR_MISSING', `${this.path}: no tensor named "${name}" in this file's header`);
    return r;
  }

  /** Write `data` at `byteOffset` within tensor `name`. */
  async write(name: string, data: Uint8Array, byteOffset = 0): Promise<void> {
    const [b, e] = this.range(name);
    if (byteOffset < 0 || byteOffset + data.length > e - b) {
      throw new InputError('E_RANGE', `${this.path}: write of ${data.length} bytes at ${byteOffset} overflows tensor "${name}" (${e - b} bytes)`);
    }
    await this.file.write(data, this.dataStart + b + byteOffset);
    this.written.set(name, (this.written.get(name) ?? 0) + data.length);
  }

  /**
   * Copy one contiguous input range of `fdIn` at `offIn` into consecutive tensor ranges `pieces` (each
   * starting where the previous one ends in this file) with a single copy: fewer, larger kernel copies.
   */
  async copyRunFrom(pieces: { name: string; byteOffset: number; length: number }[], fdIn: FileHandle, offIn: number, label?: string): Promise<void> {
    let at = -1;
    let total = 0;
    for (const p of pieces) {
      const [b, e] = this.range(p.name);
      if (p.byteOffset < 0 || p.byteOffset + p.length > e - b) {
        throw new InputError('E_RANGE', `${this.path}: copy of ${p.length} bytes at ${p.byteOffset} overflows tensor "${p.name}" (${e - b} bytes)`);
      }
      const abs = this.dataStart + b + p.byteOffset;
      if (at >= 0 && abs !== at) throw new InputError('E_RANGE', `${this.path}: copy run is not contiguous at tensor "${p.name}" (${abs}, expected ${at})`);
      at = abs + p.length;
      total += p.length;
    }
    if (pieces.length === 0) return;
    const first = pieces[0]!;
    const offOut = this.absoluteOffset(first.name) + first.byteOffset;
    await writing(this.tmpPath, () => copyRange(fdIn, offIn, this.fd, offOut, total, { paced: true, ...(label === undefined ? {} : { label }) }));
    // the copied bytes start going to disk now, beside the next copies, so the final fsync has less to do
    this.writeback.add(offOut, total);
    for (const p of pieces) this.written.set(p.name, (this.written.get(p.name) ?? 0) + p.length);
  }

  /** fsync what is written so far (after the writebacks in flight); `finish()` still has to be called. */
  sync(): Promise<void> {
    return this.file.sync();
  }

  /** Check all tensor bytes were written, fsync, close and rename `.incomplete` into place. */
  async finish(): Promise<void> {
    let missing: Error | undefined;
    for (const [name, [b, e]] of this.offsets) {
      const got = this.written.get(name) ?? 0;
      if (got < e - b) {
        missing = new InputError('E_WRITE_INCOMPLETE', `${this.path}: tensor "${name}" got ${got} of ${e - b} bytes`);
        break;
      }
    }
    await this.file.finish(missing);
  }

  /** Close and delete the partial file. */
  abort(): Promise<void> {
    return this.file.abort();
  }
}

/** Write a whole small file in one go (tests, fixtures). */
export async function writeSafetensors(path: string, tensors: { spec: TensorSpec; data: Uint8Array }[], metadata?: Record<string, string>): Promise<void> {
  const w = await SafetensorsWriter.create(path, tensors.map((t) => t.spec), metadata);
  try {
    for (const t of tensors) await w.write(t.spec.name, t.data);
  } catch (e) {
    await w.abort();
    throw e;
  }
  await w.finish();
}
