/**
 * HTTP/1.1 GET over a plain or TLS socket, for file bodies. The socket reads straight into the caller's
 * buffers (`onread` with a buffer chosen per read): no per-chunk Buffer allocation, no copy from a
 * chunk into the write batch, no stream machinery between the kernel and the hash. On the 2-core
 * loopback benchmark node:http's per-chunk path (64 KiB Buffers through a Readable, copied into the
 * batch) cost a large share of the client's CPU next to sha256 itself.
 *
 * One request per connection (`Connection: close`); redirects follow the hub rules of hub-fetch.ts
 * (bounded hops, token only on the endpoint's origin, dropped for good once a redirect leaves it).
 * Bodies framed by Content-Length, by the end of the connection, or chunked (decoded through a small
 * scratch buffer: the slow path, hubs and CDNs send Content-Length for files).
 */
import net from 'node:net';
import tls from 'node:tls';
import { NetworkError } from '../errors.js';
import { MAX_REDIRECTS } from './hub-fetch.js';
import { ChunkedDecoder, parseHead, type Head } from './http1.js';

/** Where a body is delivered: a writable region, and how many bytes of it were filled. */
export interface BodySink {
  /** The region the next read fills (non-empty). */
  space(): Buffer;
  /** `n` bytes of the last `space()` were filled; a promise means: wait before reading more. */
  commit(n: number): Promise<void> | undefined;
  /** Take bytes held elsewhere (the start of the body read with the head, chunked data). */
  push(chunk: Uint8Array): Promise<void> | undefined;
}

/** The body had more bytes than the caller allows. */
export class BodyTooLong extends Error {}

export interface SocketResponse {
  status: number;
  header(name: string): string | null;
  /**
   * Deliver the body into `sink`, at most `max` bytes (rejects with BodyTooLong beyond that); resolves
   * with the bytes delivered when the body ends, also when the connection ends early.
   * `onData` is called for every read (stall detection).
   */
  readInto(sink: BodySink, max: number, onData: () => void): Promise<number>;
  /** Close the connection without reading (the rest of) the body. */
  discard(): void;
}

export type SocketTransport = (url: string, init: { headers: Record<string, string>; signal: AbortSignal }) => Promise<SocketResponse>;

/** Response heads larger than this are refused. */
const MAX_HEAD_BYTES = 64 * 1024;
/** Scratch buffer for the head and for chunked bodies. */
const SCRATCH_BYTES = 256 * 1024;
const REDIRECT = new Set([301, 302, 303, 307, 308]);

/** One request on a fresh connection; resolves once the response head has arrived. */
function request(url: URL, headers: Record<string, string>, signal: AbortSignal): Promise<SocketResponse> {
  const where = `${url.host}${url.pathname}`;
  return new Promise<SocketResponse>((resolve, reject) => {
    const secure = url.protocol === 'https:';
    const port = Number(url.port || (secure ? 443 : 80));
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const scratch = Buffer.allocUnsafe(SCRATCH_BYTES);
    let headLen = 0;
    let head: Head | undefined;
    // body state, once readInto is called
    let sink: BodySink | undefined;
    let max = 0;
    let expected = -1; // Content-Length, or -1: until the connection ends (or chunked)
    let chunked: ChunkedDecoder | undefined;
    let delivered = 0;
    let pending: Uint8Array | undefined; // body bytes that arrived with the head
    let settle: { ok: (n: number) => void; fail: (e: unknown) => void } | undefined;
    let onData: () => void = () => {};
    let finished = false;
    let useSink = false; // reads go straight into sink.space()
    // The sink's pending work (a batch waiting for the write before it, bytes still to be taken): while it
    // is pending the socket is paused, so the buffers it refers to are not read into again, and the body
    // is reported complete only after it.
    let chain: Promise<void> | undefined;

    const fail = (e: unknown) => {
      if (finished) return;
      finished = true;
      socket.destroy();
      if (settle) settle.fail(e);
      else reject(e);
    };
    const finish = () => {
      if (finished) return;
      finished = true;
      socket.destroy();
      const ok = () => settle?.ok(delivered);
      if (chain) chain.then(ok, (e: unknown) => settle?.fail(e));
      else ok();
    };
    const after = (p: Promise<void> | undefined) => {
      if (p) chain = chain ? chain.then(() => p) : p;
    };
    /** Pause reading while the sink has pending work; resume once all of it is done. */
    const hold = () => {
      const c = chain;
      if (!c || finished) return;
      socket.pause();
      c.then(() => {
        if (chain !== c) return;
        chain = undefined;
        if (!finished) socket.resume();
      }, fail);
    };
    /** Body bytes not read into the sink directly (head leftovers, chunked data). */
    const take = (b: Uint8Array) => {
      if (b.length === 0) return;
      if (delivered + b.length > max) return fail(new BodyTooLong(`${where}: the body has more than ${max} bytes`));
      delivered += b.length;
      // b stays valid until the chain settles: the socket is paused meanwhile
      if (chain) chain = chain.then(() => sink!.push(b));
      else after(sink!.push(b));
    };
    const bodyComplete = () => (chunked ? chunked.done : expected >= 0 && delivered >= expected);
    const onBody = (b: Uint8Array) => {
      if (chunked) for (const part of chunked.feed(b)) take(part);
      else take(expected >= 0 ? b.subarray(0, Math.max(0, expected - delivered)) : b);
      if (bodyComplete()) finish();
    };

    // Node asks for the next read's buffer right after each callback, so a buffer handed out must stay
    // valid until the next read whatever happens meanwhile: a view of the sink's free space when it has
    // some (the read then lands in place), else the scratch buffer (the read is then copied in).
    let lastView: Uint8Array | undefined;
    const onread = {
      buffer: (): Uint8Array => {
        lastView = undefined;
        if (!head) return scratch.subarray(headLen);
        if (!useSink || finished) return scratch;
        const s = sink!.space();
        if (s.length === 0) return scratch;
        const room = (expected >= 0 ? Math.min(expected, max + 1) : max + 1) - delivered;
        lastView = room > 0 && room < s.length ? s.subarray(0, room) : s;
        return lastView;
      },
      callback: (n: number, buf: Uint8Array): boolean => {
        if (finished) return false;
        if (head) {
          try {
            onData();
            if (buf === lastView) {
              if (delivered + n > max) throw new BodyTooLong(`${where}: the body has more than ${max} bytes`);
              delivered += n;
              after(sink!.commit(n));
            } else {
              onBody(buf.subarray(0, n)); // through the scratch buffer (chunked, or no free space)
            }
          } catch (e) {
            fail(e); // e.g. the sink's write failed (disk full): never thrown into the socket's callback
            return false;
          }
          if (finished) return false;
          if (bodyComplete()) finish();
          else hold();
          return true;
        }
        headLen += n;
        const end = scratch.subarray(0, headLen).indexOf('\r\n\r\n');
        if (end < 0) {
          if (headLen >= MAX_HEAD_BYTES) fail(new NetworkError('E_HTTP', `${where}: response head larger than ${MAX_HEAD_BYTES} bytes`));
          return true;
        }
        let parsed: Head;
        try {
          parsed = parseHead(scratch.toString('latin1', 0, end), where);
        } catch (e) {
          fail(e);
          return false;
        }
        head = parsed;
        pending = Buffer.from(scratch.subarray(end + 4, headLen)); // copy: the scratch buffer is reused
        socket.pause(); // until readInto (or discard)
        const h = parsed;
        resolve({
          status: h.status,
          header: (name) => h.headers.get(name.toLowerCase()) ?? null,
          discard: () => {
            finished = true;
            socket.destroy();
          },
          readInto: (s, limit, cb) =>
            new Promise<number>((ok, ko) => {
              sink = s;
              max = limit;
              onData = cb;
              settle = { ok, fail: ko };
              const te = h.headers.get('transfer-encoding');
              const cl = h.headers.get('content-length') ?? null;
              if (te && te.toLowerCase() !== 'identity') {
                if (!te.toLowerCase().split(',').map((x) => x.trim()).includes('chunked')) return fail(new NetworkError('E_HTTP', `${where}: unsupported transfer-encoding "${te}"`));
                chunked = new ChunkedDecoder(where);
              } else if (cl !== null) {
                expected = Number(cl);
                if (!Number.isSafeInteger(expected) || expected < 0) return fail(new NetworkError('E_HTTP', `${where}: malformed content-length "${cl}"`));
                if (expected > max) return fail(new BodyTooLong(`${where}: the body has ${expected} bytes, more than ${max}`));
              }
              const first = pending!;
              pending = undefined;
              try {
                if (first.length > 0) onBody(first);
              } catch (e) {
                return fail(e);
              }
              if (finished) return;
              if (bodyComplete()) return finish();
              useSink = !chunked;
              if (chain) hold();
              else socket.resume();
            }),
        });
        return true;
      },
    };

    const socket: net.Socket = secure
      ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host, ALPNProtocols: ['http/1.1'], onread } as tls.ConnectionOptions)
      : net.connect({ host, port, onread });
    const onAbort = () => fail(signal.reason ?? new Error('aborted'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    socket.on('error', fail);
    socket.on('close', () => {
      signal.removeEventListener('abort', onAbort);
      if (finished) return;
      if (!head) return fail(new Error(`${where}: connection closed before a response`));
      if (chunked && !chunked.done) return fail(new Error(`${where}: connection closed inside a chunked body`));
      finish(); // the caller compares the bytes delivered with what it expected
    });
    const path = `${url.pathname}${url.search}`;
    const lines = [`GET ${path} HTTP/1.1`, `Host: ${url.host}`, 'Connection: close', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  });
}

/**
 * The socket transport; the token goes to the endpoint's origin only.
 * @example const get = socketTransport({ endpoint, token }); const res = await get(url, { headers, signal })
 */
export function socketTransport(opts: { endpoint: string; token?: string }): SocketTransport {
  const hubOrigin = new URL(opts.endpoint).origin;
  return async (start, init) => {
    let url = new URL(start);
    let authorized = opts.token !== undefined && url.origin === hubOrigin;
    for (let hop = 0; ; hop++) {
      const headers: Record<string, string> = { 'user-agent': 'm1kit', ...init.headers };
      delete headers.authorization;
      if (authorized) headers.authorization = `Bearer ${opts.token}`;
      const res = await request(url, headers, init.signal);
      const location = res.header('location');
      if (!REDIRECT.has(res.status) || location === null) return res;
      res.discard();
      if (hop >= MAX_REDIRECTS) throw new NetworkError('E_REDIRECTS', `more than ${MAX_REDIRECTS} redirects starting at ${start}`);
      const next = new URL(location, url);
      if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new NetworkError('E_REDIRECTS', `redirect to unsupported URL scheme ${next.protocol}`);
      if (next.origin !== url.origin) authorized = false;
      url = next;
    }
  };
}
