/**
 * sha256 of output files computed on worker threads, so hashing (≈2 GB/s per core) overlaps reading and
 * writing instead of sitting on the main thread. Each digest is owned by one worker (files alternate
 * between workers, so consecutive files hash in parallel); its updates are applied in the order sent.
 * An update is either bytes in memory (a buffer that owns its whole ArrayBuffer is transferred and handed
 * back through `onReturn`, anything else is copied) or a byte range of a file that does not change (an
 * input being copied verbatim), which the worker reads itself in small chunks (from the page cache: the
 * bytes never cross threads). Where the CPU has the SHA extensions, a single worker (hash-thread.ts) hashes
 * all digests side by side on interleaved lanes; elsewhere (and when run from the TypeScript sources) the
 * workers below use node's sha256.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { InputError } from '../errors.js';
import { sha256LanesAvailable } from '../ops/sha256.js';

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { openSync, readSync, closeSync } = require('node:fs');
const READ_BYTES = ${1 << 20}; // read-back chunk: small enough to stay in cache between read and hash
let buf;
const states = new Map();
const state = (id) => {
  let s = states.get(id);
  if (!s) states.set(id, (s = { h: createHash('sha256'), fds: new Map(), error: undefined }));
  return s;
};
function hashFile(s, path, offset, length) {
  let fd = s.fds.get(path);
  if (fd === undefined) s.fds.set(path, (fd = openSync(path, 'r')));
  buf ??= Buffer.allocUnsafeSlow(READ_BYTES);
  for (let done = 0; done < length; ) {
    const n = readSync(fd, buf, 0, Math.min(READ_BYTES, length - done), offset + done);
    if (n === 0) throw new Error(path + ': ends at byte ' + (offset + done) + ' while hashing ' + length + ' bytes from ' + offset);
    s.h.update(n === READ_BYTES ? buf : buf.subarray(0, n));
    done += n;
  }
}
parentPort.on('message', (m) => {
  const s = state(m.id);
  if (m.op === 'update') {
    if (!s.error) s.h.update(new Uint8Array(m.buf, m.offset, m.length));
    if (m.transferred) parentPort.postMessage({ op: 'return', token: m.token, buf: m.buf }, [m.buf]);
    else parentPort.postMessage({ op: 'return', token: m.token });
  } else if (m.op === 'file') {
    try {
      if (!s.error) hashFile(s, m.path, m.offset, m.length);
    } catch (e) {
      s.error = e && e.message ? e.message : String(e);
    }
    parentPort.postMessage({ op: 'fileDone', length: m.length });
  } else {
    states.delete(m.id);
    for (const fd of s.fds.values()) closeSync(fd);
    parentPort.postMessage({ op: 'digest', id: m.id, hex: s.error ? '' : s.h.digest('hex'), error: s.error });
  }
});
`;

type Msg =
  | { op: 'return'; token: number; buf?: ArrayBuffer }
  | { op: 'fileDone'; length: number }
  | { op: 'digest'; id: number; hex: string; error?: string };

/**
 * Worker threads (and so files hashed at once) with node's sha256: up to two, as sha256 of one file is
 * sequential. On a 2-core VM two workers finished re-shards sooner than one once copies went into
 * preallocated files (the copies then leave a core free early), and later than one before that.
 */
const MAX_WORKERS = 2;

/** The lane worker (hash-thread.ts): one thread hashes all files side by side on the SHA extensions. */
const LANE_WORKER_URL = new URL('./hash-thread.js', import.meta.url);

/** True when the compiled lane worker exists (not when run from .ts sources) and the CPU has the lanes. */
export function laneWorkerAvailable(): boolean {
  return LANE_WORKER_URL.protocol === 'file:' && existsSync(fileURLToPath(LANE_WORKER_URL)) && sha256LanesAvailable();
}

/** The default number of hash workers on this machine: one lane worker, else node's on up to two. */
export function defaultHashWorkers(): number {
  return laneWorkerAvailable() ? 1 : Math.max(1, Math.min(MAX_WORKERS, availableParallelism()));
}

export class Hasher {
  private readonly workers: (Worker | undefined)[];
  private nextId = 0;
  private nextToken = 0;
  private readonly owner = new Map<number, number>();
  private readonly digests = new Map<number, { resolve: (hex: string) => void; reject: (e: Error) => void }>();
  private readonly returns = new Map<number, (buf: ArrayBuffer) => void>();
  private waiters: (() => void)[] = [];
  private failed: Error | undefined;
  /** Updates sent and not yet hashed (the bound on buffers held by the queue). */
  outstanding = 0;
  /** Bytes of file ranges sent and not yet hashed (how far hashing lags behind writing). */
  fileBacklog = 0;

  private readonly lanes: boolean;

  /**
   * @param workers worker threads (default: defaultHashWorkers())
   * @param lanes hash on the lane worker (default: when available)
   */
  constructor(workers = defaultHashWorkers(), lanes = laneWorkerAvailable()) {
    this.workers = new Array<Worker | undefined>(Math.max(1, workers)).fill(undefined);
    this.lanes = lanes;
  }

  private wake(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const f of ws) f();
  }

  private w(i: number): Worker {
    let worker = this.workers[i];
    if (!worker) {
      // not unref'd: while a digest is awaited, the worker is what keeps the event loop alive
      worker = this.workers[i] = this.lanes ? new Worker(LANE_WORKER_URL) : new Worker(WORKER_SOURCE, { eval: true });
      worker.on('error', (e) => {
        this.failed = e;
        this.wake();
        for (const [, d] of this.digests) d.reject(e);
        this.digests.clear();
      });
      worker.on('message', (m: Msg) => {
        if (m.op === 'digest') {
          const d = this.digests.get(m.id);
          this.digests.delete(m.id);
          if (m.error !== undefined) d?.reject(new InputError('E_HASH', `sha256 of an output file failed: ${m.error}`));
          else d?.resolve(m.hex);
        } else if (m.op === 'fileDone') {
          this.fileBacklog -= m.length;
          this.wake();
        } else {
          this.outstanding--;
          if (m.buf) this.returns.get(m.token)?.(m.buf);
          this.returns.delete(m.token);
          this.wake();
        }
      });
    }
    return worker;
  }

  private of(id: number): Worker {
    return this.w(this.owner.get(id) ?? 0);
  }

  /** Start a new digest (on the next worker in turn); returns its id. */
  begin(): number {
    const id = this.nextId++;
    this.owner.set(id, id % this.workers.length);
    return id;
  }

  /**
   * Add `data` to digest `id`. When `transfer` is true and `data` spans its whole ArrayBuffer, the buffer
   * is moved to the worker (the caller must not touch it) and `onReturn` receives it back afterwards.
   */
  update(id: number, data: Uint8Array, transfer = false, onReturn?: (buf: ArrayBuffer) => void): void {
    const whole = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer;
    this.outstanding++;
    if (transfer && whole) {
      const token = this.nextToken++;
      if (onReturn) this.returns.set(token, onReturn);
      this.of(id).postMessage({ op: 'update', id, buf: data.buffer, offset: 0, length: data.byteLength, transferred: true, token }, [data.buffer as ArrayBuffer]);
      return;
    }
    const copy = new Uint8Array(data); // exact-length copy, moved to the worker
    this.of(id).postMessage({ op: 'update', id, buf: copy.buffer, offset: 0, length: copy.byteLength, transferred: false, token: -1 }, [copy.buffer]);
    if (onReturn && data.buffer instanceof ArrayBuffer) onReturn(data.buffer); // the caller's buffer is free again
  }

  /**
   * Add bytes [offset, offset + length) of the file at `path` to digest `id`; they must exist already
   * and stay unchanged (the worker opens the file once per digest and reads them).
   */
  updateFromFile(id: number, path: string, offset: number, length: number): void {
    if (length === 0) return;
    this.fileBacklog += length;
    this.of(id).postMessage({ op: 'file', id, path, offset, length });
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
    return new Promise<string>((resolve, reject) => {
      this.digests.set(id, { resolve, reject });
      w.postMessage({ op: 'digest', id });
    });
  }

  async close(): Promise<void> {
    const ws = this.workers.map((w) => w);
    this.workers.fill(undefined);
    await Promise.all(ws.map((w) => w?.terminate()));
  }
}
