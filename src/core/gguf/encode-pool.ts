/**
 * A small pool of worker threads running encode jobs (decode → fold scale → quantize/convert), so
 * several chunks encode in parallel while the main thread reads and writes. With one thread, or when
 * the compiled worker file is not present (running from TypeScript sources), jobs run inline.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { InputError } from '../errors.js';
import { ownBuffer, runEncodeJob, type EncodeJob } from './encode-job.js';

/** Jobs smaller than this (norm weights, small routers) run inline: a worker round trip costs more. */
const INLINE_BELOW_BYTES = 1 << 20;

interface Pending {
  resolve: (b: Uint8Array) => void;
  reject: (e: Error) => void;
}

export class EncodePool {
  readonly threads: number;
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: { id: number; job: EncodeJob }[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private readonly live = new Set<Worker>();
  private failure: Error | undefined;
  private closing = false;

  private readonly workerUrl: URL | undefined;

  private constructor(workerUrl: URL | undefined, threads: number) {
    this.workerUrl = workerUrl;
    this.threads = workerUrl ? threads : 1;
  }

  /** Start the workers (on the first job, so verbatim copies never pay for them). */
  private start(): void {
    const workerUrl = this.workerUrl!;
    const threads = this.threads;
    // The parent's --input-type/--eval flags would make the worker refuse its module entry file.
    const execArgv = process.execArgv.filter((a) => !a.startsWith('--input-type') && a !== '-e' && a !== '--eval');
    for (let i = 0; i < threads; i++) {
      const w = new Worker(workerUrl, { execArgv });
      w.on('message', (m: { id: number; out?: Uint8Array; error?: string }) => {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (m.error !== undefined) p?.reject(new InputError('E_GGUF_ENCODE', `encoding a tensor chunk failed: ${m.error}`));
        else p?.resolve(m.out!);
        this.idle.push(w);
        this.pump();
      });
      const fail = (e: Error) => {
        this.failure ??= new InputError('E_GGUF_ENCODE', `an encode worker stopped: ${e.message}`, { cause: e });
        for (const p of this.pending.values()) p.reject(this.failure);
        this.pending.clear();
      };
      w.on('error', fail);
      w.on('exit', (code) => {
        this.live.delete(w);
        if (code !== 0 && !this.closing) fail(new Error(`exit code ${code}`));
      });
      this.live.add(w);
      this.workers.push(w);
      this.idle.push(w);
    }
  }

  /** A pool of `threads` workers (inline when threads ≤ 1 or the compiled worker is unavailable). */
  static create(threads: number): EncodePool {
    const url = new URL('./encode-worker.js', import.meta.url);
    const usable = threads > 1 && url.protocol === 'file:' && existsSync(fileURLToPath(url));
    return new EncodePool(usable ? url : undefined, Math.max(1, Math.floor(threads)));
  }

  /** Encode one chunk; the job's `raw` buffer is transferred to the worker (do not reuse it). */
  encode(job: EncodeJob): Promise<Uint8Array> {
    if (!this.workerUrl || job.raw.length < INLINE_BELOW_BYTES) {
      try {
        return Promise.resolve(runEncodeJob(job));
      } catch (e) {
        return Promise.reject(e as Error);
      }
    }
    if (this.failure) return Promise.reject(this.failure);
    if (this.workers.length === 0) this.start();
    const id = this.nextId++;
    const p = new Promise<Uint8Array>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.queue.push({ id, job: { ...job, raw: ownBuffer(job.raw) } });
    this.pump();
    return p;
  }

  private pump(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const w = this.idle.pop()!;
      const m = this.queue.shift()!;
      w.postMessage(m, [m.job.raw.buffer as ArrayBuffer]);
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all([...this.live].map((w) => w.terminate()));
  }
}
