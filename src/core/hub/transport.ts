/**
 * The HTTP GET used for file bodies. Two implementations with one contract:
 * - `nodeTransport`: node:http/https with a keep-alive agent (about half the CPU per byte of WHATWG
 *   fetch on loopback, which matters when hashing shares the core);
 * - `fetchTransport`: any injected fetch (tests, proxies).
 * Both follow redirects with the hub rules of hub-fetch.ts: bounded hops, token only on the hub's origin.
 */
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { NetworkError } from '../errors.js';
import { MAX_REDIRECTS, createHubFetch } from './hub-fetch.js';

export interface TransportResponse {
  status: number;
  header(name: string): string | null;
  body: AsyncIterable<Uint8Array>;
  /** Release the connection without reading the rest of the body. */
  discard(): void;
}

export type Transport = (url: string, init: { headers: Record<string, string>; signal: AbortSignal }) => Promise<TransportResponse>;

/** A transport over an injected (or the global) fetch, wrapped with the hub's token/redirect rules. */
export function fetchTransport(opts: { endpoint: string; token?: string; fetch?: typeof fetch }): Transport {
  const f = createHubFetch(opts);
  return async (url, init) => {
    const res = await f(url, { headers: init.headers, signal: init.signal });
    const body = res.body as unknown as (AsyncIterable<Uint8Array> & { cancel(): Promise<void> }) | null;
    return {
      status: res.status,
      header: (n) => res.headers.get(n),
      body: body ?? (async function* () {})(),
      discard: () => void body?.cancel().catch(() => {}),
    };
  };
}

const REDIRECT = new Set([301, 302, 303, 307, 308]);

function getOnce(url: URL, headers: Record<string, string>, signal: AbortSignal, agents: { http: http.Agent; https: https.Agent }): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const secure = url.protocol === 'https:';
    const req = (secure ? https : http).request(url, { method: 'GET', headers, signal, agent: secure ? agents.https : agents.http }, resolve);
    req.on('error', reject);
    req.end();
  });
}

/**
 * node:http(s) transport; the token goes to the endpoint's origin only and is dropped for good once a
 * redirect leaves it.
 * @example const get = nodeTransport({ endpoint, token }); const res = await get(url, { headers, signal })
 */
export function nodeTransport(opts: { endpoint: string; token?: string }): Transport {
  const hubOrigin = new URL(opts.endpoint).origin;
  const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
  return async (start, init) => {
    let url = new URL(start);
    let authorized = opts.token !== undefined && url.origin === hubOrigin;
    for (let hop = 0; ; hop++) {
      const headers = { ...init.headers };
      delete headers.authorization;
      if (authorized) headers.authorization = `Bearer ${opts.token}`;
      const res = await getOnce(url, headers, init.signal, agents);
      const location = res.headers.location;
      if (REDIRECT.has(res.statusCode ?? 0) && location) {
        res.resume();
        if (hop >= MAX_REDIRECTS) throw new NetworkError('E_REDIRECTS', `more than ${MAX_REDIRECTS} redirects starting at ${start}`);
        const next = new URL(location, url);
        if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new NetworkError('E_REDIRECTS', `redirect to unsupported URL scheme ${next.protocol}`);
        if (next.origin !== url.origin) authorized = false;
        url = next;
        continue;
      }
      return {
        status: res.statusCode ?? 0,
        header: (n) => {
          const v = res.headers[n.toLowerCase()];
          return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
        },
        body: res,
        discard: () => res.destroy(),
      };
    }
  };
}
