/**
 * sha256 of output files computed on worker threads (hash-thread.ts), so hashing (≈2 GB/s per core)
 * overlaps reading and writing instead of sitting on the main thread. Each digest is owned by one worker
 * (files alternate between workers, so consecutive files hash in parallel); its updates are applied in
 * the order sent. An update is either bytes in memory (a buffer that owns its whole ArrayBuffer is
 * transferred and handed back through `onReturn`, anything else is copied) or a byte range of a file that
 * does not change (an input being copied verbatim), which the worker reads itself in small chunks (from
 * the page cache: the bytes never cross threads). Where the CPU has the SHA extensions, a single worker
 * hashes all digests side by side on interleaved lanes; elsewhere up to NODE_HASH_THREADS workers use
 * node's sha256.
 */
import { availableParallelism } from 'node:os';
import { InputError } from '../errors.js';
import { NODE_HASH_THREADS } from '../io-tuning.js';
import { sha256LanesAvailable } from '../ops/sha256.js';
import { workerEntry, type WorkerEntry } from '../worker/entry.js';
import { WorkerHost } from '../worker/host.js';
import type { HashThread, HashThreadData } from './hash-thread.js';

/** The hash worker module, compiled or from the sources. */
const entry = (): WorkerEntry => {
  const e = workerEntry('./hash-thread.js', import.meta.url);
  if (!e) throw new InputError('E_INTERNAL', 'the hash worker module (hash-thread.js) is missing beside hasher.js; reinstall m1kit');
  return e;
};

/** True when the CPU has the SHA extensions the lane worker needs. */
export function laneWorkerAvailable(): boolean {
  return sha256LanesAvailable();
}

/** The default number of hash workers on this machine: one lane worker, else node's on up to two. */
export function defaultHashWorkers(): number {
  return laneWorkerAvailable() ? 1 : Math.max(1, Math.min(NODE_HASH_THREADS, availableParallelism()));
}

export class Hasher {
  private readonly workers: (WorkerHost<HashThread> | undefined)[];
  private nextId = 0;
  private readonly owner = new Map<number, number>();
  private waiters: (() => void)[] = [];
  private failed: Error | undefined;
  /** Updates sent and not yet hashed (the bound on buffers held by the queue). */
  outstanding = 0;
  /** Bytes of file ranges sent and not yet hashed (how far hashing lags behind writing). */
  fileBacklog = 0;

  private readonly lanes: boolean;

  /**
   * @param workers worker threads (default: defaultHashWorkers())
   * @param lanes hash on interleaved SHA-extension lanes (default: when the CPU has them)
   */
  constructor(workers = defaultHashWorkers(), lanes = laneWorkerAvailable()) {
    this.workers = new Array<WorkerHost<HashThread> | undefined>(Math.max(1, workers)).fill(undefined);
    this.lanes = lanes;
  }

  private wake(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const f of ws) f();
  }

  private w(i: number): WorkerHost<HashThread> {
    let worker = this.workers[i];
    if (!worker) {
      // not unref'd: while a digest is awaited, the worker is what keeps the event loop alive
      const data: HashThreadData = { lanes: this.lanes };
      worker = this.workers[i] = new WorkerHost<HashThread>(entry(), {
        workerData: data,
        onCrash: (e) => {
          this.failed = e;
          this.wake();
        },
      });
    }
    return worker;
  }

  private of(id: number): WorkerHost<HashThread> {
    return this.w(this.owner.get(id) ?? 0);
  }

  /** Start a new digest (on the next worker in turn); returns its id. */
  begin(): number {
    const id = this.nextId++;
    this.owner.set(id, id % this.workers.length);
    return id;
  }

  /** An update is answered: one fewer queued, its buffer back to the caller. */
  private returned(onReturn?: (buf: ArrayBuffer) => void) {
    return (buf: ArrayBuffer | undefined) => {
      this.outstanding--;
      if (buf) onReturn?.(buf);
      this.wake();
    };
  }

  /**
   * Add `data` to digest `id`. When `transfer` is true and `data` spans its whole ArrayBuffer, the buffer
   * is moved to the worker (the caller must not touch it) and `onReturn` receives it back afterwards.
   */
  update(id: number, data: Uint8Array, transfer = false, onReturn?: (buf: ArrayBuffer) => void): void {
    const whole = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer;
    this.outstanding++;
    if (transfer && whole) {
      const buf = data.buffer as ArrayBuffer;
      this.of(id).call('update', { id, buf, offset: 0, length: data.byteLength, transferred: true }, { transfer: [buf] }).then(this.returned(onReturn), () => undefined);
      return;
    }
    const copy = new Uint8Array(data); // exact-length copy, moved to the worker
    this.of(id).call('update', { id, buf: copy.buffer, offset: 0, length: copy.byteLength, transferred: false }, { transfer: [copy.buffer] }).then(this.returned(), () => undefined);
    if (onReturn && data.buffer instanceof ArrayBuffer) onReturn(data.buffer); // the caller's buffer is free again
  }

  /**
   * Add bytes [offset, offset + length) of the file at `path` to digest `id`; they must exist already
   * and stay unchanged (the worker opens the file once per digest and reads them).
   */
  updateFromFile(id: number, path: string, offset: number, length: number): void {
    if (length === 0) return;
    this.fileBacklog += length;
    this.of(id).call('file', { id, path, offset, length }).then((n) => {
      this.fileBacklog -= n;
      this.wake();
    }, () => undefined);
  }

  /** Resolve once fewer than `n` updates are queued. */
  async below(n: number): Promise<void> {
    while (this.outstanding >= n && !this.failed) await new Promise<void>((r) => this.waiters.push(r));
    if (this.failed) throw this.failed;
  }

  /** Resolve once fewer than `bytes` bytes of file ranges wait to be hashed. */
  async fileBacklogBelow(bytes: number): Promise<void> {
    while (this.fileBacklog >= bytes && !this.failed) await new Promise<void>((r) => this.waiters.push(r));
    if (this.failed) throw this.failed;
  }

  /** Hex digest of everything added to `id` (after all earlier updates). */
  async digest(id: number): Promise<string> {
    if (this.failed) throw this.failed;
    const w = this.of(id);
    this.owner.delete(id);
    return w.call('digest', { id }).catch((e: Error) => {
      throw e === w.failure ? e : new InputError('E_HASH', `sha256 of an output file failed: ${e.message}`);
    });
  }

  async close(): Promise<void> {
    const ws = this.workers.map((w) => w);
    this.workers.fill(undefined);
    await Promise.all(ws.map((w) => w?.close()));
  }
}
