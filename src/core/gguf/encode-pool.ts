/**
 * A small pool of worker threads running encode jobs (decode → fold scale → quantize/convert), so
 * several chunks encode in parallel while the main thread reads and writes. With one thread, or when
 * the worker module cannot be found, jobs run inline.
 */
import { InputError } from '../errors.js';
import { ENCODE_INLINE_BELOW_BYTES as INLINE_BELOW_BYTES } from '../io-tuning.js';
import { workerEntry, type WorkerEntry } from '../worker/entry.js';
import { WorkerHost } from '../worker/host.js';
import { ownBuffer, runEncodeJob, type EncodeJob } from './encode-job.js';
import type { EncodeWorker } from './encode-worker.js';


export class EncodePool {
  readonly threads: number;
  private readonly workers: WorkerHost<EncodeWorker>[] = [];
  private readonly idle: WorkerHost<EncodeWorker>[] = [];
  private readonly queue: { job: EncodeJob; resolve: (b: Uint8Array) => void; reject: (e: Error) => void }[] = [];
  private failure: Error | undefined;

  private constructor(private readonly entry: WorkerEntry | undefined, threads: number) {
    this.threads = entry ? threads : 1;
  }

  /** Start the workers (on the first job, so verbatim copies never pay for them). */
  private start(): void {
    for (let i = 0; i < this.threads; i++) {
      const w = new WorkerHost<EncodeWorker>(this.entry!, {
        crashError: (c) => new InputError('E_GGUF_ENCODE', `an encode worker stopped: ${c.kind === 'error' ? c.error.message : `exit code ${c.code}`}`, c.kind === 'error' ? { cause: c.error } : {}),
        onCrash: (e) => {
          this.failure ??= e;
          for (const q of this.queue.splice(0)) q.reject(this.failure);
        },
      });
      this.workers.push(w);
      this.idle.push(w);
    }
  }

  /** A pool of `threads` workers (inline when threads ≤ 1 or the worker module is unavailable). */
  static create(threads: number): EncodePool {
    const entry = threads > 1 ? workerEntry('./encode-worker.js', import.meta.url) : undefined;
    return new EncodePool(entry, Math.max(1, Math.floor(threads)));
  }

  /** Encode one chunk; the job's `raw` buffer is transferred to the worker (do not reuse it). */
  encode(job: EncodeJob): Promise<Uint8Array> {
    if (!this.entry || job.raw.length < INLINE_BELOW_BYTES) {
      try {
        return Promise.resolve(runEncodeJob(job));
      } catch (e) {
        return Promise.reject(e as Error);
      }
    }
    if (this.failure) return Promise.reject(this.failure);
    if (this.workers.length === 0) this.start();
    const p = new Promise<Uint8Array>((resolve, reject) => this.queue.push({ job: { ...job, raw: ownBuffer(job.raw) }, resolve, reject }));
    this.pump();
    return p;
  }

  private pump(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const w = this.idle.pop()!;
      const q = this.queue.shift()!;
      w.call('encode', q.job, { transfer: [q.job.raw.buffer as ArrayBuffer] }).then(
        (out) => {
          q.resolve(out);
          this.idle.push(w);
          this.pump();
        },
        (e: Error) => {
          q.reject(e === w.failure ? e : new InputError('E_GGUF_ENCODE', `encoding a tensor chunk failed: ${e.message}`));
          if (!w.failure) this.idle.push(w);
          this.pump();
        },
      );
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
  }
}
