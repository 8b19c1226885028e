/**
 * The HTTP GET used for file bodies. Two implementations with one contract:
 * - `rawTransport` (socket-transport.ts): HTTP/1.1 on a raw socket reading straight into the write
 *   batches (`readInto`), used for downloads; on the 2-core loopback benchmark it cost 0.6 CPU-s less
 *   per 2 GB than node:http with a keep-alive agent (itself half the CPU of WHATWG fetch);
 * - `fetchTransport`: any injected fetch (tests, proxies).
 * Both follow redirects with the hub rules of hub-fetch.ts: bounded hops, token only on the hub's origin.
 */
import { createHubFetch } from './hub-fetch.js';
import { socketTransport, type BodySink } from './socket-transport.js';

export interface TransportResponse {
  status: number;
  header(name: string): string | null;
  /** The body as chunks, or (socket transport) … */
  body?: AsyncIterable<Uint8Array>;
  /** … delivered straight into a sink, at most `max` bytes (see SocketResponse.readInto). */
  readInto?: (sink: BodySink, max: number, onData: () => void) => Promise<number>;
  /** Release the connection without reading the rest of the body. */
  discard(): void;
}

/** `socketTransport` in the Transport shape. */
export function rawTransport(opts: { endpoint: string; token?: string }): Transport {
  const get = socketTransport(opts);
  return async (url, init) => {
    const r = await get(url, init);
    return { status: r.status, header: (n) => r.header(n), readInto: (s, m, cb) => r.readInto(s, m, cb), discard: () => r.discard() };
  };
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
