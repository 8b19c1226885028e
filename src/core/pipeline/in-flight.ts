/**
 * Bounded concurrency for streaming writers: a set of in-flight tasks of at most `limit`; `add` waits
 * for the oldest once the set is full, and the first failure is rethrown by the next `add` or `drain`
 * (later tasks still run to completion, so nothing is left writing into a file being removed).
 */
import { throwIfAborted } from '../errors.js';

export class InFlight {
  private inflight: Promise<void>[] = [];
  private error: unknown;
  constructor(private readonly limit: number) {}

  async add(task: Promise<void>): Promise<void> {
    this.inflight.push(
      task.catch((e: unknown) => {
        this.error ??= e;
      }),
    );
    if (this.inflight.length >= this.limit) await this.inflight.shift();
    if (this.error !== undefined) throw this.error;
  }

  /** Wait for every task; rethrow the first failure. */
  async drain(): Promise<void> {
    await Promise.all(this.inflight.splice(0));
    if (this.error !== undefined) throw this.error;
  }
}

/**
 * Call `f(offset, length)` for consecutive chunks of `step` bytes covering [0, total), in order, each
 * after an abort check: how verbatim copies are cut (COPY_BYTES bounds the time between progress
 * reports and abort checks).
 */
export async function forEachChunk(total: number, step: number, signal: AbortSignal | undefined, f: (offset: number, length: number) => Promise<void>): Promise<void> {
  for (let b = 0; b < total; b += step) {
    throwIfAborted(signal);
    await f(b, Math.min(step, total - b));
  }
}
