/**
 * Receive-side sink of a file transfer: bytes are gathered into one of two batch buffers; a full batch is
 * hashed and written at its file offset while the other one fills, so the socket keeps draining during
 * the write. Only one write is in flight, so the file grows strictly in order and `onWritten` always
 * describes a contiguous prefix (what a resume continues from). A batch goes to the hasher as its write
 * starts: hashed then, or queued (LaneSha256) with the batches of the thread's other files and hashed at
 * the latest when its buffer is about to be refilled. Either way the hash covers exactly the bytes written
 * or being written, in file order.
 *
 * Batch size: a batch stays in L2 between the copy, the hash and the write, and in an isolated pwrite test
 * (2-core VM, ext4) writes of 256–512 KiB cost the least kernel time per GB; larger writes were never
 * cheaper and at times several times dearer. What mattered most is the overlap: the previous design (one
 * buffer, each write awaited inside the receive loop) cost about 2.5 kernel CPU-s more per 2 GB on the
 * download benchmark than this one, also when both used 4 MiB batches; consuming the body with 'data'
 * events instead of for-await made no measurable difference.
 */
import type { FileHandle } from 'node:fs/promises';
import { WRITE_BATCH_BYTES, WRITEBACK_BYTES } from '../io-tuning.js';
import type { WritebackPump } from '../ops/copy.js';
import type { ContentHasher } from './hashing.js';

export { WRITE_BATCH_BYTES, WRITEBACK_BYTES };

export class BatchWriter {
  private cur: Buffer;
  private spare: Buffer;
  private used = 0;
  private at: number;
  private inflight: Promise<void> | undefined;
  private error: unknown;
  private failed = false;
  /** Start of the written bytes not yet handed to writeback. */
  private wbFrom: number | undefined;

  /**
   * @param pos file offset of the first byte pushed
   * @param capacity upper bound on the bytes that will be pushed (small files get small buffers)
   */
  constructor(
    private readonly fd: FileHandle,
    pos: number,
    capacity: number,
    private readonly hasher: ContentHasher,
    private readonly onWritten: (n: number) => void,
    private readonly writeback?: WritebackPump,
  ) {
    const size = Math.max(1, Math.min(WRITE_BATCH_BYTES, capacity));
    // own memory (not node's shared pool), so that a queued hash segment is only ever this batch's bytes
    this.cur = Buffer.allocUnsafeSlow(size);
    this.spare = Buffer.allocUnsafeSlow(size);
    this.at = pos;
  }

  /** Take `chunk`; returns a promise when the caller must wait (both batches busy) before pushing or reading more. */
  push(chunk: Uint8Array): Promise<void> | undefined {
    this.rethrow();
    for (let off = 0; off < chunk.length; ) {
      if (this.used === this.cur.length) {
        if (this.inflight) {
          const rest = chunk.subarray(off);
          return this.inflight.then(() => this.push(rest));
        }
        this.startWrite();
      }
      const n = Math.min(chunk.length - off, this.cur.length - this.used);
      this.cur.set(off === 0 && n === chunk.length ? chunk : chunk.subarray(off, off + n), this.used);
      this.used += n;
      off += n;
    }
    return this.full();
  }

  /** After filling: a full batch starts its write now, or once the write before it is done (a promise). */
  private full(): Promise<void> | undefined {
    if (this.used < this.cur.length) return undefined;
    if (!this.inflight) {
      this.startWrite();
      return undefined;
    }
    return this.inflight.then(() => {
      this.rethrow();
      if (this.used === this.cur.length && !this.inflight) this.startWrite();
    });
  }

  /**
   * The free part of the current batch, for a socket to read into directly (then `commit`). When the
   * batch is full and no write is in flight, its write starts first; never called while `commit` or
   * `push` has a promise pending.
   */
  space(): Buffer {
    this.rethrow();
    if (this.used === this.cur.length && !this.inflight) this.startWrite();
    return this.cur.subarray(this.used);
  }

  /** `n` bytes were read into the last `space()`; a promise while the full batch waits for the write before it. */
  commit(n: number): Promise<void> | undefined {
    this.rethrow();
    this.used += n;
    return this.full();
  }

  /** Wait for the writes in flight, then hash and write what is buffered. Rethrows a write error. */
  async finish(): Promise<void> {
    while (this.inflight) await this.inflight;
    this.rethrow();
    if (this.used > 0) {
      const n = this.used;
      this.used = 0;
      this.hash(this.cur.subarray(0, n));
      const at = this.at;
      this.at += n;
      await this.writeAll(this.cur, n, at);
    }
  }

  private rethrow(): void {
    if (this.failed) throw this.error;
  }

  /** Hash `bytes` now, or queue them when the hasher can (they stay untouched until released). */
  private hash(bytes: Buffer): void {
    if (this.hasher.enqueue) this.hasher.enqueue(bytes);
    else this.hasher.update(bytes);
  }

  private startWrite(): void {
    const buf = this.cur;
    const n = this.used;
    const at = this.at;
    this.hash(buf.subarray(0, n));
    this.at += n;
    this.cur = this.spare;
    this.spare = buf;
    this.used = 0;
    this.hasher.release?.(this.cur.buffer); // the batch about to be refilled must be hashed by now
    this.inflight = this.writeAll(buf, n, at).then(
      () => {
        this.inflight = undefined;
      },
      (err: unknown) => {
        this.error = err;
        this.failed = true;
        this.inflight = undefined;
      },
    );
  }

  private async writeAll(buf: Buffer, n: number, at: number): Promise<void> {
    for (let off = 0; off < n; ) {
      const { bytesWritten } = await this.fd.write(buf, off, n - off, at + off);
      off += bytesWritten;
      this.onWritten(bytesWritten);
    }
    if (this.writeback) {
      this.wbFrom ??= at;
      if (at + n - this.wbFrom >= WRITEBACK_BYTES) {
        this.writeback.add(this.wbFrom, at + n - this.wbFrom);
        this.wbFrom = at + n;
      }
    }
  }
}
