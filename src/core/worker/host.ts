/**
 * The host side of the worker protocol (protocol.ts): one worker thread running a worker module that
 * `serve`s handlers of type `H`. `call` sends an operation and resolves with its result (rejects with
 * the worker's error, rebuilt with its class); events of the call go to `onEvent`; an AbortSignal
 * cancels it in the worker. When the thread fails or exits unexpectedly, every call pending or made
 * afterwards rejects with the error `crashError` builds from what happened.
 */
import { Worker, type TransferListItem } from 'node:worker_threads';
import { rebuildError, type HostMessage, type WorkerMessage } from './protocol.js';
import type { CallContext, Handler, Handlers } from './serve.js';
import type { WorkerEntry } from './entry.js';

export type ArgsOf<F extends Handler> = Parameters<F>[0];
export type ResultOf<F extends Handler> = Awaited<ReturnType<F>>;
export type EventOf<F extends Handler> = Parameters<F>[1] extends CallContext<infer E> ? E : never;

/** What stopped a worker thread: an uncaught error, or an exit while calls were possible. */
export type Crash = { kind: 'error'; error: Error } | { kind: 'exit'; code: number };

export interface HostOptions {
  workerData?: unknown;
  /** The error pending and later calls reject with once the thread has failed (default: a plain Error). */
  crashError?: (c: Crash) => Error;
  /** Called once when the thread fails (after pending calls are rejected). */
  onCrash?: (e: Error) => void;
}

export interface CallOptions<E> {
  transfer?: readonly TransferListItem[];
  signal?: AbortSignal;
  onEvent?: (e: E) => void;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  onEvent?: ((e: unknown) => void) | undefined;
}

const defaultCrash = (c: Crash): Error => (c.kind === 'error' ? c.error : new Error(`worker thread exited with code ${c.code}`));

/** A thread on `entry`; when Node refuses the parent's options for a thread, only the entry's own are passed. */
function startWorker(entry: WorkerEntry, workerData: unknown): Worker {
  const data = workerData === undefined ? {} : { workerData };
  try {
    return new Worker(entry.url, { execArgv: entry.execArgv, ...data });
  } catch (e) {
    if ((e as { code?: string }).code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw e;
    return new Worker(entry.url, { execArgv: entry.ownArgv, ...data });
  }
}

export class WorkerHost<H extends Handlers> {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private closing = false;
  /** Set once the thread has failed: every call rejects with it. */
  failure: Error | undefined;

  constructor(entry: WorkerEntry, private readonly o: HostOptions = {}) {
    this.worker = startWorker(entry, o.workerData);
    this.worker.on('message', (m: WorkerMessage) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      if (m.t === 'event') {
        p.onEvent?.(m.event);
        return;
      }
      this.pending.delete(m.id);
      if (m.t === 'result') p.resolve(m.value);
      else p.reject(rebuildError(m.error));
    });
    this.worker.on('error', (error) => this.crash({ kind: 'error', error }));
    this.worker.on('exit', (code) => {
      if (!this.closing) this.crash({ kind: 'exit', code });
    });
  }

  private crash(c: Crash): void {
    if (this.failure) return;
    const e = (this.o.crashError ?? defaultCrash)(c);
    this.failure = e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
    this.o.onCrash?.(e);
  }

  /** Calls sent and not answered yet. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Run operation `op` in the worker. */
  call<K extends keyof H & string>(op: K, args: ArgsOf<H[K]>, o: CallOptions<EventOf<H[K]>> = {}): Promise<ResultOf<H[K]>> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<ResultOf<H[K]>>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onEvent: o.onEvent as ((e: unknown) => void) | undefined });
      if (o.signal) {
        const sig = o.signal;
        const cancel = () => this.post({ t: 'cancel', id });
        sig.addEventListener('abort', cancel, { once: true });
        const off = () => sig.removeEventListener('abort', cancel);
        this.pending.get(id)!.resolve = (v) => (off(), resolve(v as ResultOf<H[K]>));
        this.pending.get(id)!.reject = (e) => (off(), reject(e));
      }
      this.post({ t: 'call', id, op, args }, o.transfer ?? []);
    });
  }

  private post(m: HostMessage, transfer: readonly TransferListItem[] = []): void {
    this.worker.postMessage(m, transfer);
  }

  /** Keep (true) or stop keeping (false) the process alive for this thread. */
  ref(keep: boolean): void {
    if (keep) this.worker.ref();
    else this.worker.unref();
  }

  /** Stop the thread; calls still pending reject. */
  async close(): Promise<void> {
    this.closing = true;
    const closed = new Error('worker thread closed');
    for (const p of this.pending.values()) p.reject(closed);
    this.pending.clear();
    await this.worker.terminate();
  }
}
