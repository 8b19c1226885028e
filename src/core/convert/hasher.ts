/**
 * sha256 of output files computed on a worker thread, so hashing (≈1 GB/s) overlaps reading and writing
 * instead of sitting on the main thread. Chunks are sent in file order after their write has completed;
 * a buffer that owns its whole ArrayBuffer is transferred (and handed back through `onReturn`), anything
 * else is copied.
 */
import { Worker } from 'node:worker_threads';

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const hashes = new Map();
parentPort.on('message', (m) => {
  let h = hashes.get(m.id);
  if (!h) hashes.set(m.id, (h = createHash('sha256')));
  if (m.op === 'update') {
    h.update(new Uint8Array(m.buf, m.offset, m.length));
    if (m.transferred) parentPort.postMessage({ op: 'return', token: m.token, buf: m.buf }, [m.buf]);
    else parentPort.postMessage({ op: 'return', token: m.token });
  } else {
    hashes.delete(m.id);
    parentPort.postMessage({ op: 'digest', id: m.id, hex: h.digest('hex') });
  }
});
`;

type Msg = { op: 'return'; token: number; buf?: ArrayBuffer } | { op: 'digest'; id: number; hex: string };

export class Hasher {
  private worker: Worker | undefined;
  private nextId = 0;
  private nextToken = 0;
  private readonly digests = new Map<number, (hex: string) => void>();
  private readonly returns = new Map<number, (buf: ArrayBuffer) => void>();
  private waiters: (() => void)[] = [];
  private failed: Error | undefined;
  /** Updates sent and not yet hashed (the bound on buffers held by the queue). */
  outstanding = 0;

  private get w(): Worker {
    if (!this.worker) {
      // not unref'd: while a digest is awaited, the worker is what keeps the event loop alive
      this.worker = new Worker(WORKER_SOURCE, { eval: true });
      this.worker.on('error', (e) => {
        this.failed = e;
        for (const f of this.waiters) f();
        this.waiters = [];
        for (const [, r] of this.digests) r('');
        this.digests.clear();
      });
      this.worker.on('message', (m: Msg) => {
        if (m.op === 'digest') {
          this.digests.get(m.id)?.(m.hex);
          this.digests.delete(m.id);
        } else {
          this.outstanding--;
          if (m.buf) this.returns.get(m.token)?.(m.buf);
          this.returns.delete(m.token);
          const ws = this.waiters;
          this.waiters = [];
          for (const f of ws) f();
        }
      });
    }
    return this.worker;
  }

  /** Start a new digest; returns its id. */
  begin(): number {
    return this.nextId++;
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
      this.w.postMessage({ op: 'update', id, buf: data.buffer, offset: 0, length: data.byteLength, transferred: true, token }, [data.buffer as ArrayBuffer]);
      return;
    }
    const copy = new Uint8Array(data); // exact-length copy, moved to the worker
    this.w.postMessage({ op: 'update', id, buf: copy.buffer, offset: 0, length: copy.byteLength, transferred: false, token: -1 }, [copy.buffer]);
    if (onReturn && data.buffer instanceof ArrayBuffer) onReturn(data.buffer); // the caller's buffer is free again
  }

  /** Resolve once fewer than `n` updates are queued. */
  async below(n: number): Promise<void> {
    while (this.outstanding >= n && !this.failed) await new Promise<void>((r) => this.waiters.push(r));
    if (this.failed) throw this.failed;
  }

  /** Hex digest of everything added to `id` (after all earlier updates). */
  async digest(id: number): Promise<string> {
    if (this.failed) throw this.failed;
    const hex = await new Promise<string>((resolve) => {
      this.digests.set(id, resolve);
      this.w.postMessage({ op: 'digest', id });
    });
    if (this.failed) throw this.failed;
    return hex;
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }
}
