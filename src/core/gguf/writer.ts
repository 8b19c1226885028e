/**
 * Streaming GGUF writer: the header (metadata + tensor infos with precomputed aligned offsets) is
 * written first, then tensor bytes arrive in any order and any chunking through positioned writes,
 * so a stacked expert tensor of several GB is filled expert by expert without ever being in memory.
 * Writes `<path>.incomplete`; `finish()` checks every byte was written, fsyncs and renames.
 */
import type { FileHandle } from 'node:fs/promises';
import { InputError } from '../errors.js';
import { AtomicFile } from '../fs/atomic-file.js';
import { copyRange, extendFile } from '../ops/copy.js';
import { GGUF_DEFAULT_ALIGNMENT, type GgufKv } from './format.js';
import { encodeGgufHeader, type GgufTensorLayout, type GgufTensorSpec } from './header.js';
import { writeError, writing } from '../fs/write-errors.js';

export class GgufWriter {
  readonly path: string;
  readonly tmpPath: string;
  readonly fd: FileHandle;
  readonly dataStart: number;
  readonly fileSize: number;
  readonly headerBytes: number;
  private readonly layout: Map<string, GgufTensorLayout>;
  private readonly written = new Map<string, number>();

  private constructor(private readonly file: AtomicFile, layout: GgufTensorLayout[], dataStart: number, fileSize: number, headerBytes: number) {
    this.path = file.path;
    this.tmpPath = file.tmpPath;
    this.fd = file.fd;
    this.layout = new Map(layout.map((t) => [t.name, t]));
    this.dataStart = dataStart;
    this.fileSize = fileSize;
    this.headerBytes = headerBytes;
  }

  /**
   * Create `<path>.incomplete` and write the header. The padding after each tensor is zero: the file is
   * grown to its full size, so the tail padding exists even if the last tensor ends before an alignment
   * boundary.
   * @example const w = await GgufWriter.create('m.gguf', kvs, [{name: 'token_embd.weight', ne: [64, 512], type: 'F16'}]);
   *          await w.write('token_embd.weight', bytes); await w.finish();
   */
  static async create(path: string, kvs: readonly GgufKv[], specs: readonly GgufTensorSpec[], alignment = GGUF_DEFAULT_ALIGNMENT): Promise<GgufWriter> {
    const header = encodeGgufHeader(kvs, specs, alignment);
    const openError = (e: unknown, tmp: string) => {
      const typed = writeError(e, tmp);
      return typed !== e ? typed : new InputError('E_OUTPUT', `${path}: cannot create the output file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { cause: e });
    };
    const file = await AtomicFile.create(path, { header: header.bytes, size: header.fileSize, grow: extendFile, openError });
    return new GgufWriter(file, header.tensors, header.dataStart, header.fileSize, header.bytes.length);
  }

  tensor(name: string): GgufTensorLayout {
    const t = this.layout.get(name);
    if (!t) throw new InputError('E_GGUF_TENSOR', `${this.path}: no tensor "${name}" was declared in the header`);
    return t;
  }

  /** Absolute file offset of the first byte of tensor `name`. */
  absoluteOffset(name: string): number {
    return this.dataStart + this.tensor(name).offset;
  }

  /** Write `data` at `byteOffsetInTensor` inside tensor `name` (any order; ranges must not overlap). */
  async write(name: string, data: Uint8Array, byteOffsetInTensor = 0): Promise<void> {
    const t = this.tensor(name);
    if (byteOffsetInTensor < 0 || byteOffsetInTensor + data.length > t.bytes) {
      throw new InputError('E_GGUF_RANGE', `${this.path}: write [${byteOffsetInTensor}, ${byteOffsetInTensor + data.length}) is outside tensor "${name}" (${t.bytes} bytes)`);
    }
    await this.file.write(data, this.dataStart + t.offset + byteOffsetInTensor);
    this.written.set(name, (this.written.get(name) ?? 0) + data.length);
  }

  /**
   * Copy `length` bytes at `offIn` of open file `fdIn` verbatim to `byteOffsetInTensor` inside tensor
   * `name` (in the kernel when the native addon is loaded; the bytes never pass through JavaScript).
   */
  async copyFrom(name: string, fdIn: FileHandle, offIn: number, length: number, byteOffsetInTensor: number, label?: string): Promise<void> {
    const t = this.tensor(name);
    if (byteOffsetInTensor < 0 || byteOffsetInTensor + length > t.bytes) {
      throw new InputError('E_GGUF_RANGE', `${this.path}: copy [${byteOffsetInTensor}, ${byteOffsetInTensor + length}) is outside tensor "${name}" (${t.bytes} bytes)`);
    }
    await writing(this.tmpPath, () => copyRange(fdIn, offIn, this.fd, this.dataStart + t.offset + byteOffsetInTensor, length, { writeback: true, ...(label === undefined ? {} : { label }) }));
    this.written.set(name, (this.written.get(name) ?? 0) + length);
  }

  /** Check that every tensor received exactly its byte count, fsync, close and rename into place. */
  async finish(): Promise<void> {
    let missing: Error | undefined;
    for (const t of this.layout.values()) {
      const n = this.written.get(t.name) ?? 0;
      if (n !== t.bytes) {
        missing = new InputError('E_GGUF_INCOMPLETE', `${this.path}: tensor "${t.name}" received ${n} of ${t.bytes} bytes`);
        break;
      }
    }
    await this.file.finish(missing);
  }

  /** Close and delete the partial file. Safe to call twice. */
  abort(): Promise<void> {
    return this.file.abort();
  }
}
