/**
 * An output file written whole or not at all: bytes go to `<path>.incomplete`, created with its header
 * and grown to its final size up front (blocks reserved where the file system can); `finish()` fsyncs,
 * closes and renames it into place once the caller's completeness check passed, and `abort()` removes
 * it. The safetensors and GGUF writers are built on it.
 */
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { writeError, writing } from './write-errors.js';

/** Write all of `data` at `position` (loops over short writes). */
export async function writeFully(fd: FileHandle, data: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await fd.write(data, done, data.length - done, position + done);
    done += bytesWritten;
  }
}

export interface AtomicFileOptions {
  /** Bytes written at offset 0 on creation. */
  header: Uint8Array;
  /** Final size of the file (the rest reads as zeros until written). */
  size: number;
  /** Grows the file from `from` to `size` bytes (ops/copy.ts extendFile reserves the blocks where it can). */
  grow: (fd: FileHandle, from: number, size: number) => Promise<void>;
  /** The error for a temporary file that cannot be created (default: the write error naming it). */
  openError?: (e: unknown, tmpPath: string) => unknown;
  /** Awaited before every fsync and before the file is closed (e.g. writebacks in flight on its descriptor). */
  settle?: () => Promise<void>;
}

export class AtomicFile {
  readonly tmpPath: string;
  private closed = false;

  private constructor(readonly path: string, readonly fd: FileHandle, private readonly settle: () => Promise<void>) {
    this.tmpPath = `${path}.incomplete`;
  }

  /**
   * Create `<path>.incomplete` with `o.header`, grown to `o.size` bytes.
   * @example const f = await AtomicFile.create('m.gguf', { header, size, grow: extendFile }); await f.write(bytes, at); await f.finish();
   */
  static async create(path: string, o: AtomicFileOptions): Promise<AtomicFile> {
    const tmp = `${path}.incomplete`;
    let fd: FileHandle;
    try {
      fd = await open(tmp, 'w');
    } catch (e) {
      throw (o.openError ?? writeError)(e, tmp);
    }
    const f = new AtomicFile(path, fd, o.settle ?? (async () => {}));
    try {
      await writeFully(fd, o.header, 0);
      await o.grow(fd, o.header.length, o.size);
    } catch (e) {
      await f.abort();
      throw writeError(e, tmp);
    }
    return f;
  }

  /** Write `data` at absolute offset `position` of the temporary file. */
  write(data: Uint8Array, position: number): Promise<void> {
    return writing(this.tmpPath, () => writeFully(this.fd, data, position));
  }

  /** fsync what is written so far; `finish()` still has to be called. */
  async sync(): Promise<void> {
    await this.settle();
    await writing(this.tmpPath, () => this.fd.sync());
  }

  /**
   * Put the file in place: when `incomplete` (the caller's check of what was written) is set, remove the
   * file and throw it; else fsync, close and rename `.incomplete` to the final path.
   */
  async finish(incomplete?: Error): Promise<void> {
    if (incomplete) {
      await this.abort();
      throw incomplete;
    }
    await this.sync();
    await this.fd.close();
    this.closed = true;
    await writing(this.path, () => rename(this.tmpPath, this.path));
  }

  /** Close and delete the partial file. Safe to call twice. */
  async abort(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      await this.settle().catch(() => undefined);
      await this.fd.close().catch(() => undefined);
    }
    await rm(this.tmpPath, { force: true });
  }
}
