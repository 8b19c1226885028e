/**
 * A fixed-size worker pool: `concurrency` workers take items in order. The first failure stops new
 * work, aborts the running items through their signal, and is rethrown once all workers have stopped.
 */
import { InterruptedError } from '../errors.js';

/**
 * Run `fn(item, slot, signal)` for every item with at most `concurrency` running; `slot` is the worker index.
 * @example await runPool(files, 8, async (f, slot, signal) => download(f, signal), signal)
 */
export async function runPool<T>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, slot: number, signal: AbortSignal) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  const ac = new AbortController();
  const onAbort = () => ac.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  let next = 0;
  let firstError: unknown;
  const worker = async (slot: number) => {
    while (!ac.signal.aborted) {
      const i = next++;
      if (i >= items.length) return;
      try {
        await fn(items[i]!, slot, ac.signal);
      } catch (err) {
        if (firstError === undefined && !(err instanceof InterruptedError && !signal?.aborted && ac.signal.aborted)) firstError = err;
        ac.abort();
        return;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, (_, s) => worker(s)));
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  if (signal?.aborted) throw new InterruptedError();
  if (firstError !== undefined) throw firstError;
}
