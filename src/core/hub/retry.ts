/**
 * Retry policy for hub requests: exponential backoff on connection errors, stalls, 408/429/5xx,
 * honouring Retry-After (capped so a server cannot park the download for hours).
 */
import { InterruptedError, NetworkError } from '../errors.js';

export interface RetryPolicy {
  /** Attempts per request including the first (≥ 1). */
  maxAttempts: number;
  /** Delay before the second attempt; doubles each time. */
  baseDelayMs: number;
  /** Upper bound of any single delay, Retry-After included. */
  maxDelayMs: number;
}

/** 1 s, 2 s, 4 s, … 30 s: about a minute of patience for a flaky mirror before giving up on a file. */
export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 6, baseDelayMs: 1000, maxDelayMs: 30_000 };

/** A failure worth another attempt; `retryAfterMs` comes from the server when it sent Retry-After. */
export class RetryableError extends Error {
  readonly retryAfterMs: number | undefined;
  constructor(message: string, retryAfterMs?: number, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'RetryableError';
    this.retryAfterMs = retryAfterMs;
  }
}

/** Status codes that are retried: timeouts, rate limiting, server errors. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599);
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, nowMs = Date.now()): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - nowMs);
}

/** Delay before attempt `attempt + 1` (attempt counts from 1): base·2^(attempt−1), at least Retry-After, at most maxDelayMs. */
export function backoffDelay(attempt: number, policy: RetryPolicy, retryAfterMs?: number): number {
  const exp = policy.baseDelayMs * 2 ** Math.max(0, attempt - 1);
  return Math.min(policy.maxDelayMs, Math.max(exp, retryAfterMs ?? 0));
}

/** Errors from fetch itself (refused, reset, DNS, aborted by our stall timer) are retryable. */
export function isNetworkFailure(err: unknown): boolean {
  if (err instanceof RetryableError) return true;
  return err instanceof TypeError || (err as { name?: string })?.name === 'TimeoutError';
}

/** Sleep that rejects with InterruptedError when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new InterruptedError());
    const onAbort = () => {
      clearTimeout(timer);
      reject(new InterruptedError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Run `fn` until it succeeds, retrying RetryableError and network failures per `policy`.
 * Other errors propagate at once.
 */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
  opts: { signal?: AbortSignal; label?: string; onRetry?: (attempt: number, delayMs: number, err: Error) => void } = {},
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (opts.signal?.aborted) throw new InterruptedError();
      if (!isNetworkFailure(err)) throw err;
      if (attempt >= policy.maxAttempts) {
        const where = opts.label ? `${opts.label}: ` : '';
        throw new NetworkError('E_NETWORK', `${where}${describeNetworkFailure(err)} (gave up after ${attempt} attempts)`, {
          hint: 'check the connection or the HF_ENDPOINT mirror, then run the same command again; partial files are kept',
          cause: err,
        });
      }
      const delay = backoffDelay(attempt, policy, (err as RetryableError).retryAfterMs);
      opts.onRetry?.(attempt, delay, err as Error);
      await sleep(delay, opts.signal);
    }
  }
}

/** Short reason for a network failure: the system error code when fetch wraps one (ECONNREFUSED, …). */
export function describeNetworkFailure(err: unknown): string {
  const e = err as { message?: string; code?: unknown; cause?: { code?: unknown } };
  const code = typeof e?.code === 'string' ? e.code : typeof e?.cause?.code === 'string' ? e.cause.code : undefined;
  if (code !== undefined) return `connection error ${code}`;
  return e?.message ?? String(err);
}
