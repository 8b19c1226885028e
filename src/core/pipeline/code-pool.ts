/**
 * Output code buffers recycled across bands and tensors. A band's codes go to the write queue and come
 * back (through the sink's release callback) once written and hashed; the next band of the same byte
 * size reuses them instead of faulting in fresh pages. Buffers span their whole ArrayBuffer, so the hash
 * worker can take them by transfer rather than by copy.
 */
export class CodePool {
  private readonly free = new Map<number, ArrayBuffer[]>();
  /** At most `keep` idle buffers per size and `sizes` distinct sizes (older sizes are dropped). */
  constructor(private readonly keep = 8, private readonly sizes = 2) {}

  take(bytes: number): ArrayBuffer {
    return this.free.get(bytes)?.pop() ?? new ArrayBuffer(bytes);
  }

  give(ab: ArrayBuffer): void {
    const n = ab.byteLength;
    if (n === 0) return;
    let list = this.free.get(n);
    if (!list) {
      if (this.free.size >= this.sizes) this.free.delete(this.free.keys().next().value!);
      this.free.set(n, (list = []));
    }
    if (list.length < this.keep && !list.includes(ab)) list.push(ab);
  }
}
