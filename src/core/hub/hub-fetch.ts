/**
 * The fetch used for every hub request (listing through @huggingface/hub and file transfers):
 * adds the bearer token only for the hub's own origin, follows redirects itself (bounded), and drops
 * Authorization as soon as a redirect leaves that origin (CDNs must never see the token).
 */
import { NetworkError } from '../errors.js';

/** Redirect hops followed per request (the hub uses one: resolve → CDN; renamed repos add one). */
export const MAX_REDIRECTS = 10;

export interface HubFetchOptions {
  /** Hub endpoint; its origin is the only one that receives the token. */
  endpoint: string;
  /** Bearer token, any format. */
  token?: string;
  /** Underlying fetch (tests inject one); defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Abort a request whose response headers take longer than this (ms). */
  headersTimeoutMs?: number;
  /** Called for each request sent (method, URL, whether it carried the token); never given the token. */
  onRequest?: (info: { method: string; url: string; authorized: boolean; status: number }) => void;
}

const REDIRECT = new Set([301, 302, 303, 307, 308]);

function urlOf(input: string | URL | Request): URL {
  if (typeof input === 'string') return new URL(input);
  if (input instanceof URL) return input;
  return new URL(input.url);
}

/**
 * Build the hub fetch.
 * @example const f = createHubFetch({ endpoint: 'https://hf-mirror.com', token }); await f(url)
 */
export function createHubFetch(opts: HubFetchOptions): typeof fetch {
  const base = opts.fetch ?? globalThis.fetch;
  const hubOrigin = new URL(opts.endpoint).origin;
  const hubFetch = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    let url = urlOf(input);
    const headers = new Headers(init.headers);
    headers.delete('authorization');
    let authorized = opts.token !== undefined && url.origin === hubOrigin;
    let method = (init.method ?? 'GET').toUpperCase();
    let body = init.body;
    for (let hop = 0; ; hop++) {
      if (authorized) headers.set('authorization', `Bearer ${opts.token}`);
      else headers.delete('authorization');
      const timeout = opts.headersTimeoutMs !== undefined ? new AbortController() : undefined;
      const timer = timeout ? setTimeout(() => timeout.abort(new DOMException('no response headers in time', 'TimeoutError')), opts.headersTimeoutMs) : undefined;
      const signals = [init.signal, timeout?.signal].filter((s): s is AbortSignal => s !== undefined && s !== null);
      let res: Response;
      try {
        const reqInit: RequestInit = { ...init, method, headers, redirect: 'manual' };
        if (body === undefined) delete reqInit.body;
        else reqInit.body = body;
        if (signals.length > 0) reqInit.signal = signals.length === 1 ? signals[0]! : AbortSignal.any(signals);
        res = await base(url, reqInit);
      } finally {
        if (timer) clearTimeout(timer);
      }
      opts.onRequest?.({ method, url: url.href, authorized, status: res.status });
      const location = res.headers.get('location');
      if (!REDIRECT.has(res.status) || location === null) return res;
      await res.body?.cancel().catch(() => {});
      if (hop >= MAX_REDIRECTS) {
        throw new NetworkError('E_REDIRECTS', `more than ${MAX_REDIRECTS} redirects starting at ${urlOf(input).href}`);
      }
      const next = new URL(location, url);
      if (next.protocol !== 'http:' && next.protocol !== 'https:') {
        throw new NetworkError('E_REDIRECTS', `redirect to unsupported URL scheme ${next.protocol}`);
      }
      // Once the chain has left the hub's origin the token is gone for good, even if it comes back.
      if (next.origin !== url.origin) authorized = false;
      if (res.status === 303) {
        method = method === 'HEAD' ? 'HEAD' : 'GET';
        body = undefined;
        headers.delete('content-type');
      }
      url = next;
    }
  };
  return hubFetch as typeof fetch;
}
