/**
 * sha256 of several files at once on one thread, interleaved: a transfer thread receives a handful of
 * files side by side, and the SHA extensions hash two to four independent streams per core 1.45–1.75×
 * faster than one (core/ops/sha256.ts). So batches are not hashed when they are written but queued; when
 * a writer needs a batch's buffer back, one round hashes the oldest queued segment of every stream of
 * the thread together, which keeps about one segment per stream in the queue and as many lanes per round
 * as files in flight. `update` keeps node's Hash contract (the bytes are hashed before it returns);
 * `enqueue` is the lazy form (the bytes must stay unchanged until `release` of their buffer or `digest`).
 */
import { compressLanes, SHA256_IV } from './sha256.js';

/** Streams of this thread with queued segments. */
const pending = new Set<LaneSha256>();

/** Hash the oldest queued segment of every stream with one, all in one call. */
function round(): void {
  const live = [...pending];
  if (live.length === 0) return;
  compressLanes(
    live.map((s) => s.state),
    live.map((s) => s.queue[0]!),
  );
  for (const s of live) {
    s.queue.shift();
    if (s.queue.length === 0) pending.delete(s);
  }
}

export class LaneSha256 {
  /** Running state (8 words). */
  readonly state = Uint32Array.from(SHA256_IV);
  /** Whole-block segments waiting to be hashed, oldest first. */
  readonly queue: Uint8Array[] = [];
  private readonly tail = new Uint8Array(64);
  private tailLen = 0;
  private bytes = 0;
  private done = false;

  /** Queue `data` (hashed later: it must not change until `release` of its buffer, or `digest`). */
  enqueue(data: Uint8Array): this {
    if (this.done) throw new Error('LaneSha256: digest already computed');
    this.bytes += data.length;
    let off = 0;
    if (this.tailLen > 0) {
      off = Math.min(64 - this.tailLen, data.length);
      this.tail.set(data.subarray(0, off), this.tailLen);
      this.tailLen += off;
      if (this.tailLen < 64) return this;
      this.queue.push(this.tail.slice());
      this.tailLen = 0;
    }
    const whole = Math.floor((data.length - off) / 64) * 64;
    if (whole > 0) this.queue.push(data.subarray(off, off + whole));
    const rest = data.length - off - whole;
    if (rest > 0) {
      this.tail.set(data.subarray(off + whole), 0); // copied: only whole blocks stay views of the caller's bytes
      this.tailLen = rest;
    }
    if (this.queue.length > 0) pending.add(this);
    return this;
  }

  /** Hash `data` now (node's Hash contract: the caller may reuse its buffer afterwards). */
  update(data: Uint8Array): this {
    this.enqueue(data);
    this.flush();
    return this;
  }

  /** Make sure no queued segment still refers to `buffer` (hashing other streams alongside). */
  release(buffer: ArrayBufferLike): void {
    while (this.queue.some((seg) => seg.buffer === buffer)) round();
  }

  /** Hash everything queued for this stream. */
  flush(): void {
    while (this.queue.length > 0) round();
  }

  /** Stop hashing what is queued (the stream is abandoned). */
  discard(): void {
    this.queue.length = 0;
    pending.delete(this);
    this.done = true;
  }

  /** The hex digest of everything added (FIPS 180-4 padding). */
  digest(encoding: 'hex' = 'hex'): string {
    void encoding;
    this.flush();
    this.done = true;
    const last = new Uint8Array(this.tailLen < 56 ? 64 : 128);
    last.set(this.tail.subarray(0, this.tailLen));
    last[this.tailLen] = 0x80;
    const view = new DataView(last.buffer);
    view.setUint32(last.length - 8, Math.floor((this.bytes * 8) / 2 ** 32));
    view.setUint32(last.length - 4, (this.bytes * 8) >>> 0);
    compressLanes([this.state], [last]);
    return Array.from(this.state, (w) => w.toString(16).padStart(8, '0')).join('');
  }
}
