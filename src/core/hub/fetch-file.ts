/**
 * Download one file into its partial path with HTTP Range resume and a streaming hash:
 * - an existing partial file is re-hashed once, then continued with `Range: bytes=<size>-`;
 * - a 200 answer to a Range request (server ignores Range) restarts the file cleanly from byte 0;
 * - stalls, dropped connections, 408/429/5xx are retried with backoff (Retry-After honoured);
 *   the attempt budget is refilled whenever an attempt made real progress, so a long file on a flaky
 *   link finishes while a server that never delivers still fails after `maxAttempts`;
 * - the size and hash are checked before returning; a mismatch empties the partial file and retries,
 *   and finally fails naming the file. 401/403/404 fail at once.
 */
import { constants } from 'node:fs';
import { mkdir, open, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { InterruptedError, M1kitError, NetworkError, VerificationError } from '../errors.js';
import { BatchWriter } from './batch-writer.js';
import { BodyTooLong } from './socket-transport.js';
import { preallocate, WritebackPump } from '../ops/copy.js';
import { createContentHasher, hashFilePrefix, type ContentHasher } from './hashing.js';
import type { RemoteFile } from './repo-files.js';
import type { Transport, TransportResponse } from './transport.js';
import {
  RetryableError, backoffDelay, describeNetworkFailure, isRetryableStatus, isTransientNetworkError, parseRetryAfter, permanentNetworkError, plural, sleep, type RetryPolicy,
} from './retry.js';

/** Written bytes are reported through `onBytes` at most this often per file (ms), plus at the end of each attempt. */
export const PROGRESS_INTERVAL_MS = 50;
/** An attempt that advanced the file by at least this much refills the attempt budget. */
export const PROGRESS_RESET_BYTES = 1024 * 1024;

export type TransferEvent =
  | { type: 'resume'; path: string; from: number }
  | { type: 'restart'; path: string; reason: string }
  | { type: 'retry'; path: string; attempt: number; delayMs: number; reason: string };

export interface FetchFileParams {
  /** `{endpoint}/{repo}/resolve/{commit}/{path}`. */
  url: string;
  file: RemoteFile;
  /** Partial file to continue (created when absent). */
  partial: string;
  /** HTTP GET with the hub's redirect and token rules. */
  transport: Transport;
  retry: RetryPolicy;
  /** Abort an attempt when no byte arrives for this long (ms). */
  stallTimeoutMs: number;
  signal?: AbortSignal;
  /** Bytes newly written to the partial file (negative when it is emptied for a restart). */
  onBytes?: (delta: number) => void;
  onEvent?: (e: TransferEvent) => void;
  /** fsync before returning so a renamed file is never a hole after a crash (default true). */
  durable?: boolean;
}

export interface FetchFileResult {
  resumedFrom: number;
  attempts: number;
}

class HashMismatch extends Error {}

const CONTENT_RANGE = /^bytes (\d+)-(\d+)\/(\d+|\*)$/;

/**
 * Fetch `p.file` into `p.partial` until it is complete and its hash matches.
 * @example await fetchFile({ url, file, partial: blob + '.incomplete', transport: rawTransport({ endpoint }), retry: DEFAULT_RETRY, stallTimeoutMs: 60_000 })
 */
export async function fetchFile(p: FetchFileParams): Promise<FetchFileResult> {
  const { file, signal } = p;
  await mkdir(dirname(p.partial), { recursive: true });
  const fd = await open(p.partial, constants.O_RDWR | constants.O_CREAT, 0o644);
  const writeback = p.durable !== false ? new WritebackPump(fd) : undefined;
  let hasher: ContentHasher = createContentHasher(file.hash.kind, file.size);
  let finished = false;
  try {
    let pos = (await fd.stat()).size;
    // progress is time-batched: one message per 256 KiB write would be ~4000 worker → main messages per GB
    let unreported = 0;
    let lastReport = 0;
    const report = (force: boolean) => {
      if (unreported === 0) return;
      const now = Date.now();
      if (!force && now - lastReport < PROGRESS_INTERVAL_MS) return;
      lastReport = now;
      const n = unreported;
      unreported = 0;
      p.onBytes?.(n);
    };
    const written = (n: number) => {
      pos += n;
      unreported += n;
      report(false);
    };
    const reset = async (reason: string) => {
      report(true);
      await fd.truncate(0);
      if (pos > 0) p.onBytes?.(-pos);
      pos = 0;
      hasher.discard?.();
      hasher = createContentHasher(file.hash.kind, file.size);
      p.onEvent?.({ type: 'restart', path: file.path, reason });
    };
    if (pos > file.size) await reset(`partial file is larger (${pos} bytes) than the file (${file.size} bytes)`);
    // reserve the rest's blocks (writes into them cost less); the size, which is the progress, stays
    if (pos < file.size) await preallocate(fd, pos, file.size - pos, { keepSize: true });
    const resumedFrom = pos;
    if (pos > 0) {
      await hashFilePrefix(p.partial, pos, hasher, signal ? { signal } : {});
      p.onEvent?.({ type: 'resume', path: file.path, from: pos });
    }

    const once = async (): Promise<void> => {
      const headers: Record<string, string> = { 'accept-encoding': 'identity' };
      if (pos > 0) headers.range = `bytes=${pos}-`;
      const ac = new AbortController();
      let stalled = false;
      let timer: NodeJS.Timeout | undefined;
      let lastData = performance.now();
      // one timer per attempt, re-armed lazily: cheaper than resetting a timer for every 64 KiB chunk
      const check = () => {
        const idle = performance.now() - lastData;
        if (idle < p.stallTimeoutMs) timer = setTimeout(check, p.stallTimeoutMs - idle);
        else {
          stalled = true;
          ac.abort();
        }
      };
      const arm = () => {
        lastData = performance.now();
        timer ??= setTimeout(check, p.stallTimeoutMs);
      };
      const onAbort = () => ac.abort();
      signal?.addEventListener('abort', onAbort, { once: true });
      let writer: BatchWriter | undefined;
      try {
        arm();
        const res = await p.transport(p.url, { headers, signal: ac.signal });
        await checkStatus(res, file, pos, reset);
        if (res.status === 200 && pos > 0) await reset('the server ignored the Range request');
        const w = (writer = new BatchWriter(fd, pos, file.size - pos, hasher, written, writeback));
        try {
          if (res.readInto) {
            // the socket reads straight into the write batches
            try {
              await res.readInto(w, file.size - pos, arm);
            } catch (e) {
              if (e instanceof BodyTooLong) throw new HashMismatch(`the server sent more than ${file.size} bytes`);
              throw e;
            }
          } else {
            let accepted = pos;
            for await (const value of res.body ?? []) {
              arm();
              const room = file.size - accepted;
              if (value.length > room) {
                await w.push(value.subarray(0, room));
                throw new HashMismatch(`the server sent more than ${file.size} bytes`);
              }
              accepted += value.length;
              const wait = w.push(value); // a promise only while both batches are busy
              if (wait) await wait;
            }
          }
        } finally {
          res.discard();
        }
        await w.finish();
        if (pos < file.size) throw new RetryableError(`connection closed at byte ${pos} of ${file.size}`);
      } catch (err) {
        if (signal?.aborted) throw new InterruptedError();
        if (err instanceof M1kitError || err instanceof RetryableError || err instanceof HashMismatch) throw err;
        if (stalled) throw new RetryableError(`no data for ${p.stallTimeoutMs} ms`);
        const permanent = permanentNetworkError(err, file.path);
        if (permanent) throw permanent;
        // a reset, refusal, hang-up or TLS failure of the connection is retried; local I/O (ENOSPC…) is not
        if (isTransientNetworkError(err)) throw new RetryableError(describeNetworkFailure(err), undefined, err);
        if (typeof (err as NodeJS.ErrnoException)?.syscall === 'string') throw err;
        throw new RetryableError(describeNetworkFailure(err), undefined, err);
      } finally {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        await writer?.finish(); // bytes received before a failure are valid: hash and keep them
        report(true);
      }
    };

    let lastError: Error | undefined;
    for (let attempt = 1, startPos = pos; ; attempt++, startPos = pos) {
      if (signal?.aborted) throw new InterruptedError();
      try {
        if (pos < file.size) await once();
        const digest = hasher.digest('hex');
        if (digest === file.hash.hex) {
          if (p.durable !== false) {
            await writeback?.settle();
            await fd.datasync();
          }
          finished = true;
          return { resumedFrom, attempts: attempt };
        }
        await reset(`${file.hash.kind} mismatch`);
        throw new HashMismatch(`${file.hash.kind} mismatch: expected ${file.hash.hex}, got ${digest}`);
      } catch (err) {
        if (signal?.aborted) throw new InterruptedError();
        if (!(err instanceof RetryableError || err instanceof HashMismatch)) throw err;
        lastError = err;
        if (err instanceof HashMismatch && pos > 0) await reset(err.message);
      }
      if (!(lastError instanceof HashMismatch) && pos - startPos >= PROGRESS_RESET_BYTES) attempt = 0;
      if (attempt >= p.retry.maxAttempts) break;
      const delayMs = backoffDelay(Math.max(1, attempt), p.retry, (lastError as RetryableError).retryAfterMs);
      p.onEvent?.({ type: 'retry', path: file.path, attempt: Math.max(1, attempt), delayMs, reason: lastError.message });
      await sleep(delayMs, signal);
    }
    if (lastError instanceof HashMismatch) {
      await writeback?.settle();
      await fd.close().catch(() => {});
      await unlink(p.partial).catch(() => {});
      throw new VerificationError('E_HASH_MISMATCH', `${file.path}: ${lastError.message} (after ${plural(p.retry.maxAttempts, 'attempt')})`, {
        hint: 'the server keeps sending different bytes than its listing announces; try again later or another endpoint',
      });
    }
    throw new NetworkError('E_NETWORK', `${file.path}: ${lastError?.message} (gave up after ${plural(p.retry.maxAttempts, 'attempt')})`, {
      hint: 'run the same command again to resume; partial files are kept',
    });
  } finally {
    if (!finished) hasher.discard?.(); // queued bytes of an abandoned transfer are not hashed
    await writeback?.settle();
    await fd.close().catch(() => {});
  }
}

async function checkStatus(res: TransportResponse, file: RemoteFile, pos: number, reset: (why: string) => Promise<void>): Promise<void> {
  const s = res.status;
  if (s === 200 || s === 206) {
    if (s === 206) {
      const m = CONTENT_RANGE.exec(res.header('content-range') ?? '');
      if (!m || Number(m[1]) !== pos || (m[3] !== '*' && Number(m[3]) !== file.size)) {
        res.discard();
        await reset(`unexpected Content-Range "${res.header('content-range')}" for a request from byte ${pos}`);
        throw new RetryableError('unexpected Content-Range');
      }
    }
    return;
  }
  res.discard();
  if (s === 416) {
    await reset('the server refused the Range request (416)');
    throw new RetryableError('HTTP 416');
  }
  if (s === 401 || s === 403) {
    throw new NetworkError('E_AUTH', `${file.path}: access denied (HTTP ${s})`, {
      hint: 'the repository may be gated or private: accept its terms on the hub and set HF_TOKEN',
    });
  }
  if (s === 404) {
    const code = res.header('x-error-code');
    throw new NetworkError('E_REMOTE_NOT_FOUND', `${file.path}: not found on the server (HTTP 404${code ? ` ${code}` : ''})`);
  }
  if (isRetryableStatus(s)) throw new RetryableError(`HTTP ${s}`, parseRetryAfter(res.header('retry-after')));
  throw new NetworkError('E_HTTP', `${file.path}: unexpected HTTP ${s}`);
}
