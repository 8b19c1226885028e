/**
 * Hash worker for output files when the CPU has the SHA extensions: one thread hashes every file of a run
 * side by side. Each digest's updates are applied in the order sent; in each round the next chunk of every
 * digest that has work is read (copied ranges come from the input files, in the page cache) and all of
 * them are compressed together on interleaved lanes (core/ops/lane-sha256.ts), about 3.7 GB/s for four
 * files on one core where one file alone runs at 2.1. One thread rather than two leaves the other core to
 * the copies and to the disk, which on a 2-vCPU VM slows down several times when both are busy.
 * Messages as in hasher.ts: in {update|file|digest, id, …}; out {return|fileDone|digest}.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { LaneSha256 } from '../ops/lane-sha256.js';

type In =
  | { op: 'update'; id: number; buf: ArrayBuffer; offset: number; length: number; transferred: boolean; token: number }
  | { op: 'file'; id: number; path: string; offset: number; length: number }
  | { op: 'digest'; id: number };

/** Bytes read per digest per round: whole SHA blocks, small enough to stay in cache until hashed. */
const CHUNK = 1 << 20;
/** Time spent hashing before new messages are looked at (ms). */
const SLICE_MS = 10;
/**
 * A pause of this long (ms) after each round. On the 2-vCPU VM measured, a thread that hashes without
 * ever leaving its vCPU starves the disk (writes ran ~5× slower while both vCPUs were busy); pausing
 * 20 µs per round (~1.5 ms of hashing) cut a 1.8 GB re-shard from 1.45 to 1.29 s, where a lower
 * scheduling priority did nothing. About 1% of the hashing rate on a machine without that effect.
 */
const PAUSE_MS = 0.02;
const pause = new Int32Array(new SharedArrayBuffer(4));

interface Digest {
  h: LaneSha256;
  queue: In[];
  fds: Map<string, number>;
  buf?: Buffer;
  /** Bytes of the current file message read so far. */
  done: number;
  error?: string;
}

const port = parentPort!;
const digests = new Map<number, Digest>();
let scheduled = false;

function digestOf(id: number): Digest {
  let d = digests.get(id);
  if (!d) digests.set(id, (d = { h: new LaneSha256(), queue: [], fds: new Map(), done: 0 }));
  return d;
}

/** The head message of `d` after handling a digest request; undefined when `d` has nothing to hash now. */
function front(id: number, d: Digest): Exclude<In, { op: 'digest' }> | undefined {
  const m = d.queue[0];
  if (!m || m.op !== 'digest') return m;
  d.queue.shift();
  digests.delete(id);
  for (const fd of d.fds.values()) closeSync(fd);
  port.postMessage({ op: 'digest', id, hex: d.error ? '' : d.h.digest('hex'), error: d.error });
  return undefined;
}

/** Read the next chunk of file message `m` of `d` and queue it on the digest's lane. */
function readChunk(d: Digest, m: Extract<In, { op: 'file' }>): void {
  let fd = d.fds.get(m.path);
  if (fd === undefined) d.fds.set(m.path, (fd = openSync(m.path, 'r')));
  d.buf ??= Buffer.allocUnsafeSlow(CHUNK);
  const want = Math.min(CHUNK, m.length - d.done);
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

/** Queue the next piece of `d`'s head message `m` (bytes in memory, or a chunk of a file range). */
function take(d: Digest, m: Exclude<In, { op: 'digest' }>): Part | undefined {
  if (m.op === 'update') {
    if (!d.error) d.h.enqueue(new Uint8Array(m.buf, m.offset, m.length));
    return {
      d,
      buffer: m.buf,
      after: () => {
        d.queue.shift();
        if (m.transferred) port.postMessage({ op: 'return', token: m.token, buf: m.buf }, [m.buf]);
        else port.postMessage({ op: 'return', token: m.token });
      },
    };
  }
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
      port.postMessage({ op: 'fileDone', length: m.length });
    },
  };
}

function pump(): void {
  scheduled = false;
  const start = performance.now();
  for (;;) {
    const round: Part[] = [];
    for (const [id, d] of [...digests]) {
      const m = front(id, d);
      const part = m && take(d, m);
      if (part) round.push(part);
    }
    if (round.length === 0) return;
    // the first release hashes every digest's piece of this round together; then the buffers are free
    for (const p of round) {
      p.d.h.release(p.buffer);
      p.after();
    }
    Atomics.wait(pause, 0, 0, PAUSE_MS);
    if (performance.now() - start > SLICE_MS) {
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

port.on('message', (m: In) => {
  digestOf(m.id).queue.push(m);
  schedule();
});
