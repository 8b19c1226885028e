/**
 * Runs `fetchFile` jobs on a small pool of worker threads (transfer-thread.ts), or in this thread when
 * the compiled worker is not available (sources run by a test runner) or a fetch was injected.
 * Errors come back as typed m1kit errors (or errno errors, so ENOSPC still maps to E_DISK_FULL).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  ExitCode, InputError, InterruptedError, M1kitError, NetworkError, UnavailableError, VerificationError, type ExitCodeValue, type M1kitErrorOptions,
} from '../errors.js';
import { fetchFile, type FetchFileParams, type FetchFileResult, type TransferEvent } from './fetch-file.js';
import type { Transport } from './transport.js';

/** What a worker needs to fetch one file (structured-clone safe). */
export type TransferJob = Omit<FetchFileParams, 'transport' | 'signal' | 'onBytes' | 'onEvent'>;

export interface TransferRunner {
  run(job: TransferJob, slot: number, signal: AbortSignal, onBytes: (d: number) => void, onEvent: (e: TransferEvent) => void): Promise<FetchFileResult>;
  close(): Promise<void>;
}

const WORKER_URL = new URL('./transfer-thread.js', import.meta.url);

/** True when the compiled worker entry exists next to this module (false when run from .ts sources). */
export function threadsAvailable(): boolean {
  return WORKER_URL.protocol === 'file:' && existsSync(fileURLToPath(WORKER_URL));
}

/** Run jobs in this thread with the given transport. */
export function inlineRunner(transport: Transport): TransferRunner {
  return {
    run: (job, _slot, signal, onBytes, onEvent) => fetchFile({ ...job, transport, signal, onBytes, onEvent }),
    close: async () => {},
  };
}

const CLASS_OF_EXIT: Partial<Record<number, new (code: string, message: string, opts?: M1kitErrorOptions) => M1kitError>> = {
  [ExitCode.badInput]: InputError,
  [ExitCode.verification]: VerificationError,
  [ExitCode.unavailable]: UnavailableError,
  [ExitCode.network]: NetworkError,
};

/** The error a worker posted, rebuilt with its class (NetworkError, InputError, …), code, hint and file. */
export function rebuildError(e: Record<string, unknown>): Error {
  const message = String(e.message);
  if (e.code === 'E_INTERRUPTED') return new InterruptedError(message);
  if (typeof e.code === 'string' && typeof e.exitCode === 'number') {
    const opts: M1kitErrorOptions = {};
    if (typeof e.hint === 'string') opts.hint = e.hint;
    if (typeof e.file === 'string') opts.file = e.file;
    const Cls = CLASS_OF_EXIT[e.exitCode];
    return Cls ? new Cls(e.code, message, opts) : new M1kitError(e.code, e.exitCode as ExitCodeValue, message, opts);
  }
  // errno errors keep code/syscall/path, so ENOSPC still maps to E_DISK_FULL
  return Object.assign(new Error(message), e);
}

/**
 * `threads` workers; slot i uses worker i mod threads (a worker runs several files concurrently).
 * @example const r = threadRunner(4, { endpoint, token }); await r.run(job, 0, signal, onBytes, onEvent); await r.close()
 */
export function threadRunner(threads: number, auth: { endpoint: string; token?: string }): TransferRunner {
  const workers = Array.from({ length: Math.max(1, threads) }, () => new Worker(WORKER_URL, { workerData: auth }));
  type Pending = { worker: Worker; resolve: (r: FetchFileResult) => void; reject: (e: Error) => void; onBytes: (d: number) => void; onEvent: (e: TransferEvent) => void };
  const pending = new Map<number, Pending>();
  let nextId = 0;
  let closing = false;
  /** A worker that failed or exited takes its jobs down with a typed error instead of leaving them pending forever. */
  const failJobsOf = (w: Worker, why: string) => {
    for (const [id, p] of pending) {
      if (p.worker !== w) continue;
      pending.delete(id);
      p.reject(new M1kitError('E_INTERNAL', ExitCode.internal, `transfer thread ${why}`));
    }
  };
  for (const w of workers) {
    w.on('message', (m: { type: string; id: number; delta?: number; event?: TransferEvent; result?: FetchFileResult; error?: Record<string, unknown> }) => {
      const p = pending.get(m.id);
      if (!p) return;
      if (m.type === 'bytes') p.onBytes(m.delta!);
      else if (m.type === 'event') p.onEvent(m.event!);
      else {
        pending.delete(m.id);
        if (m.type === 'done') p.resolve(m.result!);
        else p.reject(rebuildError(m.error!));
      }
    });
    w.on('error', (err) => failJobsOf(w, `failed: ${err.message}`));
    w.on('exit', (code) => {
      if (!closing) failJobsOf(w, `exited (code ${code})`);
    });
  }
  return {
    run(job, slot, signal, onBytes, onEvent) {
      const id = nextId++;
      const w = workers[slot % workers.length]!;
      return new Promise<FetchFileResult>((resolve, reject) => {
        if (signal.aborted) return reject(new InterruptedError());
        pending.set(id, { worker: w, resolve, reject, onBytes, onEvent });
        signal.addEventListener('abort', () => w.postMessage({ type: 'abort', id }), { once: true });
        w.postMessage({ type: 'run', id, job });
      });
    },
    async close() {
      closing = true;
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
