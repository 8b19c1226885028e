/**
 * Retry policy for hub requests: exponential backoff on connection errors, stalls, 408/429/5xx,
 * honouring Retry-After (capped so a server cannot park the download for hours).
 */
import { InterruptedError, NetworkError } from '../errors.js';
import { count as plural } from '../plural.js';

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

/**
 * Socket and TLS error codes of a connection that failed or broke but may work on the next attempt:
 * resets (also inside TLS), broken pipes, timeouts, refusals (a CDN node down after a redirect),
 * unreachable networks, transient DNS failures, and undici's names for the same events.
 */
export const TRANSIENT_NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNREFUSED', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EHOSTDOWN',
  'ENETRESET', 'EAI_AGAIN', 'EPROTO', 'ERR_STREAM_PREMATURE_CLOSE', 'ERR_SOCKET_CONNECTION_TIMEOUT', 'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC', 'ERR_SSL_SSLV3_ALERT_BAD_RECORD_MAC', 'ERR_SSL_BAD_RECORD_MAC', 'ERR_SSL_UNEXPECTED_EOF_WHILE_READING',
  'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED',
]);

/** TLS certificate failures: retrying cannot help, the user must fix the trust store. */
const CERT_CODES = /^(CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|ERR_TLS_CERT_ALTNAME_INVALID|HOSTNAME_MISMATCH)/;

/** The error code of `err` or of the errors it wraps (fetch wraps the socket error in `cause`). */
export function networkErrorCode(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string') return e.code;
  }
  return undefined;
}

/** A broken or refused connection worth another attempt (see TRANSIENT_NETWORK_CODES), "socket hang up" included. */
export function isTransientNetworkError(err: unknown): boolean {
  const code = networkErrorCode(err);
  if (code !== undefined && TRANSIENT_NETWORK_CODES.has(code)) return true;
  const msg = String((err as { message?: unknown })?.message ?? '');
  return /socket hang up|other side closed|terminated/i.test(msg) && (code === undefined || !CERT_CODES.test(code));
}

/**
 * Failures that end at once with a clear network error instead of being retried: TLS certificate
 * problems and a host name that does not resolve. Undefined for anything else.
 */
export function permanentNetworkError(err: unknown, where: string): NetworkError | undefined {
  const code = networkErrorCode(err);
  if (code === undefined) return undefined;
  if (CERT_CODES.test(code)) {
    return new NetworkError('E_TLS', `${where}: TLS certificate rejected (${code})`, {
      hint: 'a mirror with a private CA needs NODE_EXTRA_CA_CERTS=/path/ca.pem',
      cause: err,
    });
  }
  if (code === 'ENOTFOUND') return new NetworkError('E_DNS', `${where}: host not found (ENOTFOUND)`, { hint: 'check HF_ENDPOINT / --endpoint and the DNS settings', cause: err });
  return undefined;
}

/** Errors from fetch itself (refused, reset, DNS, aborted by our stall timer) are retryable. */
export function isNetworkFailure(err: unknown): boolean {
  if (err instanceof RetryableError) return true;
  if (permanentNetworkError(err, '') !== undefined) return false;
  return err instanceof TypeError || (err as { name?: string })?.name === 'TimeoutError' || isTransientNetworkError(err);
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
      const permanent = permanentNetworkError(err, opts.label ?? 'request');
      if (permanent) throw permanent;
      if (!isNetworkFailure(err)) throw err;
      if (attempt >= policy.maxAttempts) {
        const where = opts.label ? `${opts.label}: ` : '';
        throw new NetworkError('E_NETWORK', `${where}${describeNetworkFailure(err)} (gave up after ${plural(attempt, 'attempt')})`, {
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

/** "1 attempt", "6 attempts" (one counted-noun rule for all of m1kit: core/plural.ts). */
export { plural };

/** Short reason for a network failure: the system error code when fetch wraps one (ECONNREFUSED, …). */
export function describeNetworkFailure(err: unknown): string {
  const e = err as { message?: string };
  if (err instanceof RetryableError) return err.message;
  const code = networkErrorCode(err);
  if (code !== undefined) return `connection error ${code}`;
  return e?.message ?? String(err);
}
