/**
 * Runs `fetchFile` jobs on a small pool of worker threads (transfer-thread.ts), or in this thread when
 * the worker module is not found or a fetch was injected. Errors come back as typed m1kit errors (or
 * errno errors, so ENOSPC still maps to E_DISK_FULL).
 */
import { ExitCode, InterruptedError, M1kitError } from '../errors.js';
import { workerEntry } from '../worker/entry.js';
import { WorkerHost, type Crash } from '../worker/host.js';
import { fetchFile, type FetchFileResult, type TransferEvent } from './fetch-file.js';
import type { TransferAuth, TransferJob, TransferThread } from './transfer-thread.js';
import type { Transport } from './transport.js';

export type { TransferJob } from './transfer-thread.js';

export interface TransferRunner {
  run(job: TransferJob, slot: number, signal: AbortSignal, onBytes: (d: number) => void, onEvent: (e: TransferEvent) => void): Promise<FetchFileResult>;
  close(): Promise<void>;
}

const entry = () => workerEntry('./transfer-thread.js', import.meta.url);

/** True when the transfer worker module can be started (compiled, or from the sources). */
export function threadsAvailable(): boolean {
  return entry() !== undefined;
}

/** Run jobs in this thread with the given transport. */
export function inlineRunner(transport: Transport): TransferRunner {
  return {
    run: (job, _slot, signal, onBytes, onEvent) => fetchFile({ ...job, transport, signal, onBytes, onEvent }),
    close: async () => {},
  };
}

/**
 * `threads` workers; slot i uses worker i mod threads (a worker runs several files concurrently).
 * @example const r = threadRunner(4, { endpoint, token }); await r.run(job, 0, signal, onBytes, onEvent); await r.close()
 */
export function threadRunner(threads: number, auth: TransferAuth): TransferRunner {
  const e = entry();
  if (!e) throw new M1kitError('E_INTERNAL', ExitCode.internal, 'the transfer worker module (transfer-thread.js) is missing; reinstall m1kit');
  // a worker that failed or exited takes its jobs down with a typed error instead of leaving them pending forever
  const crashError = (c: Crash) =>
    new M1kitError('E_INTERNAL', ExitCode.internal, `transfer thread ${c.kind === 'error' ? `failed: ${c.error.message}` : `exited (code ${c.code})`}`);
  const workers = Array.from({ length: Math.max(1, threads) }, () => new WorkerHost<TransferThread>(e, { workerData: auth, crashError }));
  return {
    run(job, slot, signal, onBytes, onEvent) {
      if (signal.aborted) return Promise.reject(new InterruptedError());
      return workers[slot % workers.length]!.call('fetch', job, { signal, onEvent: (p) => (p.kind === 'bytes' ? onBytes(p.delta) : onEvent(p.event)) });
    },
    async close() {
      await Promise.all(workers.map((w) => w.close()));
    },
  };
}
