/**
 * Streaming safetensors reader: reads the header once, then tensors (or byte ranges of them) by
 * offset through one file handle. Never reads a whole shard; no single read exceeds MAX_READ_BYTES.
 */
import type { FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { InputError } from '../errors.js';
import { DEFAULT_CHUNK_BYTES, MAX_READ_BYTES } from '../limits.js';
import { parseHeader, parseHeaderLength, type SafetensorsHeader, type TensorInfo } from './header.js';
import { openRegular } from './regular-file.js';

/** Bytes of the data region read with the header, to tell a short header length from bad offsets. */
const DATA_HEAD_BYTES = 16;

/** Read exactly `length` bytes at `position` into `buf` (loops over short reads). */
export async function readExactly(fd: FileHandle, buf: Uint8Array, position: number, file: string): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await fd.read(buf, done, buf.length - done, position + done);
    if (bytesRead === 0) throw new InputError('E_SAFETENSORS_TRUNCATED', `${file}: unexpected end of file at byte ${position + done}`);
    done += bytesRead;
  }
}

export class SafetensorsReader {
  readonly path: string;
  readonly header: SafetensorsHeader;
  readonly fileSize: number;
  readonly fd: FileHandle;

  private constructor(path: string, fd: FileHandle, header: SafetensorsHeader, fileSize: number) {
    this.path = path;
    this.fd = fd;
    this.header = header;
    this.fileSize = fileSize;
  }

  /**
   * Open a file and parse its header (reads 8 + N bytes only).
   * @example const r = await SafetensorsReader.open('model-00000-of-00413.safetensors'); const buf = await r.read('model.embed_tokens.weight', 0, 1024);
   */
  static async open(path: string, opts: { onHeaderLength?: (bytes: number) => void } = {}): Promise<SafetensorsReader> {
    const { fd, size } = await openRegular(path, 'a safetensors file');
    try {
      const prefix = Buffer.alloc(8);
      if (size >= 8) await readExactly(fd, prefix, 0, path);
      const n = parseHeaderLength(prefix, size, path);
      opts.onHeaderLength?.(n); // may refuse before the JSON is read
      const json = Buffer.alloc(n);
      await readExactly(fd, json, 8, path);
      const head = Buffer.alloc(Math.min(DATA_HEAD_BYTES, size - 8 - n));
      await readExactly(fd, head, 8 + n, path);
      return new SafetensorsReader(path, fd, parseHeader(json, size, path, head), size);
    } catch (e) {
      await fd.close();
      throw e;
    }
  }

  get name(): string {
    return basename(this.path);
  }

  tensor(name: string): TensorInfo {
    const t = this.header.byName.get(name);
    if (!t) throw new InputError('E_TENSOR_MISSING', `${this.path}: no tensor named "${name}"`);
    return t;
  }

  /** Absolute file offset of the first byte of tensor `name`. */
  absoluteOffset(name: string): number {
    return this.header.dataStart + this.tensor(name).begin;
  }

  /** Read `byteLength` bytes starting `byteOffset` bytes into tensor `name` (default: the whole tensor, ≤ 256 MiB). */
  async read(name: string, byteOffset = 0, byteLength?: number): Promise<Buffer> {
    const t = this.tensor(name);
    const size = t.end - t.begin;
    const len = byteLength ?? size - byteOffset;
    if (byteOffset < 0 || len < 0 || byteOffset + len > size) {
      throw new InputError('E_RANGE', `${this.path}: range [${byteOffset}, ${byteOffset + len}) is outside tensor "${name}" (${size} bytes)`);
    }
    if (len > MAX_READ_BYTES) {
      throw new InputError('E_READ_TOO_LARGE', `${this.path}: reading ${len} bytes of "${name}" at once exceeds the ${MAX_READ_BYTES}-byte read cap; read it in chunks`);
    }
    const buf = Buffer.allocUnsafe(len);
    await readExactly(this.fd, buf, this.header.dataStart + t.begin + byteOffset, this.path);
    return buf;
  }

  /** Read `target.length` bytes starting `byteOffset` bytes into tensor `name` into a caller-owned buffer (reusable; ≤ 256 MiB). */
  async readInto(name: string, target: Uint8Array, byteOffset = 0): Promise<void> {
    const t = this.tensor(name);
    const size = t.end - t.begin;
    if (byteOffset < 0 || byteOffset + target.length > size) {
      throw new InputError('E_RANGE', `${this.path}: range [${byteOffset}, ${byteOffset + target.length}) is outside tensor "${name}" (${size} bytes)`);
    }
    if (target.length > MAX_READ_BYTES) throw new InputError('E_READ_TOO_LARGE', `${this.path}: reading ${target.length} bytes at once exceeds the ${MAX_READ_BYTES}-byte read cap`);
    await readExactly(this.fd, target, this.header.dataStart + t.begin + byteOffset, this.path);
  }

  /** Iterate a tensor's bytes in chunks of at most `chunkBytes` (aligned to its element size). */
  async *chunks(name: string, chunkBytes = DEFAULT_CHUNK_BYTES): AsyncGenerator<{ offset: number; data: Buffer }> {
    const t = this.tensor(name);
    const size = t.end - t.begin;
    const step = Math.max(16, Math.min(chunkBytes, MAX_READ_BYTES) - (Math.min(chunkBytes, MAX_READ_BYTES) % 16));
    for (let off = 0; off < size; off += step) {
      const len = Math.min(step, size - off);
      yield { offset: off, data: await this.read(name, off, len) };
    }
  }

  async close(): Promise<void> {
    await this.fd.close();
  }
}
