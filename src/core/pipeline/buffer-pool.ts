/** Reusable band buffers (fewer large allocations → less GC work on multi-GB copies). */
import { BAND_BYTES, POOLED_BANDS } from '../io-tuning.js';

export class BufferPool {
  private readonly free: ArrayBuffer[] = [];
  constructor(readonly size: number = BAND_BYTES, private readonly keep = POOLED_BANDS) {}
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

