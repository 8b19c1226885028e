/**
 * Hash worker for output files (hasher.ts starts it). Each digest's updates are applied in the order
 * sent; in each round the next chunk of every digest that has work is read (copied ranges come from the
 * input files, in the page cache) and hashed. Where the CPU has the SHA extensions (workerData.lanes),
 * one thread hashes every file of a run side by side on interleaved lanes (core/ops/lane-sha256.ts),
 * about 3.7 GB/s for four files on one core where one file alone runs at 2.1; one thread rather than two
 * leaves the other core to the copies and to the disk, which on a 2-vCPU VM slows down several times
 * when both are busy. Elsewhere each thread hashes its digests with node's sha256.
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { workerData } from 'node:worker_threads';
import { LaneSha256 } from '../ops/lane-sha256.js';
import { HASH_PAUSE_MS, HASH_READ_BYTES, HASH_SLICE_MS } from '../io-tuning.js';
import { serve, type CallContext } from '../worker/serve.js';

export interface HashThreadData {
  /** Hash on interleaved SHA-extension lanes (else node's sha256, one digest at a time). */
  lanes: boolean;
}

interface UpdateArgs {
  id: number;
  buf: ArrayBuffer;
  offset: number;
  length: number;
  /** The buffer was moved here: move it back with the result. */
  transferred: boolean;
}

interface FileArgs {
  id: number;
  path: string;
  offset: number;
  length: number;
}

/** A digest's running hash: lanes hash lazily (until `release` of a buffer), node's at once. */
interface Sha {
  enqueue(data: Uint8Array): unknown;
  release(buffer: ArrayBufferLike): void;
  digest(enc: 'hex'): string;
}

class NodeSha implements Sha {
  private readonly h: Hash = createHash('sha256');
  enqueue(data: Uint8Array): void {
    this.h.update(data);
  }
  release(): void {}
  digest(enc: 'hex'): string {
    return this.h.digest(enc);
  }
}

type Queued =
  | { op: 'update'; m: UpdateArgs; ctx: CallContext; done: (buf: ArrayBuffer | undefined) => void }
  | { op: 'file'; m: FileArgs; done: (length: number) => void }
  | { op: 'digest'; done: (hex: string) => void; fail: (e: Error) => void };

const lanes = Boolean((workerData as HashThreadData | undefined)?.lanes);
const pause = new Int32Array(new SharedArrayBuffer(4));

interface Digest {
  h: Sha;
  queue: Queued[];
  fds: Map<string, number>;
  buf?: Buffer;
  /** Bytes of the current file message read so far. */
  done: number;
  error?: string;
}

const digests = new Map<number, Digest>();
let scheduled = false;

function digestOf(id: number): Digest {
  let d = digests.get(id);
  if (!d) digests.set(id, (d = { h: lanes ? new LaneSha256() : new NodeSha(), queue: [], fds: new Map(), done: 0 }));
  return d;
}

/** The head message of `d` after handling a digest request; undefined when `d` has nothing to hash now. */
function front(id: number, d: Digest): Exclude<Queued, { op: 'digest' }> | undefined {
  const q = d.queue[0];
  if (!q || q.op !== 'digest') return q;
  d.queue.shift();
  digests.delete(id);
  for (const fd of d.fds.values()) closeSync(fd);
  if (d.error !== undefined) q.fail(new Error(d.error));
  else q.done(d.h.digest('hex'));
  return undefined;
}

/** Read the next chunk of file range `m` of `d` and queue it on the digest. */
function readChunk(d: Digest, m: FileArgs): void {
  let fd = d.fds.get(m.path);
  if (fd === undefined) d.fds.set(m.path, (fd = openSync(m.path, 'r')));
  d.buf ??= Buffer.allocUnsafeSlow(HASH_READ_BYTES);
  const want = Math.min(HASH_READ_BYTES, m.length - d.done);
  const n = readSync(fd, d.buf, 0, want, m.offset + d.done);
  if (n === 0) throw new Error(`${m.path}: ends at byte ${m.offset + d.done} while hashing ${m.length} bytes from ${m.offset}`);
  d.h.enqueue(d.buf.subarray(0, n));
  d.done += n;
}

/** One digest's part of a round: the buffer its queued bytes are in, and what to do once they are hashed. */
interface Part {
  d: Digest;
  buffer: ArrayBufferLike;
  after: () => void;
}

/** Queue the next piece of `d`'s head message `q` (bytes in memory, or a chunk of a file range). */
function take(d: Digest, q: Exclude<Queued, { op: 'digest' }>): Part | undefined {
  if (q.op === 'update') {
    const m = q.m;
    if (!d.error) d.h.enqueue(new Uint8Array(m.buf, m.offset, m.length));
    return {
      d,
      buffer: m.buf,
      after: () => {
        d.queue.shift();
        if (m.transferred) q.ctx.transfer(m.buf);
        q.done(m.transferred ? m.buf : undefined);
      },
    };
  }
  const m = q.m;
  if (!d.error) {
    try {
      readChunk(d, m);
    } catch (e) {
      d.error = e instanceof Error ? e.message : String(e);
    }
  }
  if (d.error) d.done = m.length;
  return {
    d,
    buffer: d.buf?.buffer ?? new ArrayBuffer(0),
    after: () => {
      if (d.done < m.length) return;
      d.queue.shift();
      d.done = 0;
      q.done(m.length);
    },
  };
}

function pump(): void {
  scheduled = false;
  const start = performance.now();
  for (;;) {
    const round: Part[] = [];
    for (const [id, d] of [...digests]) {
      const q = front(id, d);
      const part = q && take(d, q);
      if (part) round.push(part);
    }
    if (round.length === 0) return;
    // the first release hashes every digest's piece of this round together; then the buffers are free
    for (const p of round) {
      p.d.h.release(p.buffer);
      p.after();
    }
    if (lanes) Atomics.wait(pause, 0, 0, HASH_PAUSE_MS);
    if (performance.now() - start > HASH_SLICE_MS) {
      schedule();
      return;
    }
  }
}

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  setImmediate(pump);
}

function queue<T>(id: number, make: (done: (v: T) => void, fail: (e: Error) => void) => Queued): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    digestOf(id).queue.push(make(resolve, reject));
    schedule();
  });
}

export const hashThread = {
  /** Add bytes in memory to digest `m.id`; resolves with the buffer when it was moved here. */
  update: (m: UpdateArgs, ctx: CallContext) => queue<ArrayBuffer | undefined>(m.id, (done) => ({ op: 'update', m, ctx, done })),
  /** Add a byte range of an unchanging file to digest `m.id`; resolves with its length once hashed. */
  file: (m: FileArgs) => queue<number>(m.id, (done) => ({ op: 'file', m, done })),
  /** The hex digest of everything added to `id` before; the digest is then forgotten. */
  digest: ({ id }: { id: number }) => queue<string>(id, (done, fail) => ({ op: 'digest', done, fail })),
};

export type HashThread = typeof hashThread;

serve(hashThread);
