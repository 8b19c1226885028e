/**
 * The raw-socket HTTP/1.1 transport: bodies arrive byte-exact whatever the framing (Content-Length,
 * chunked, end of connection), the read sizes and the sink's back-pressure; over-long bodies are refused;
 * early ends are reported as short; the token follows the hub-origin rule; TLS works with the system's
 * certificate store (a test CA passed through NODE_EXTRA_CA_CERTS to a child process).
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { BodyTooLong, socketTransport, type BodySink } from '../../../src/core/hub/socket-transport.js';

const body = Buffer.from(Array.from({ length: 300_001 }, (_, i) => (i * 131 + (i >> 8)) & 0xff));
const servers: net.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise<void>((r) => s.close(() => r()));
});

async function listen<T extends net.Server>(s: T): Promise<{ server: T; url: string }> {
  servers.push(s);
  s.on('connection', (c: net.Socket) => c.on('error', () => {})); // clients may hang up first (refused bodies)
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as net.AddressInfo).port;
  return { server: s, url: `http://127.0.0.1:${port}` };
}

/**
 * A sink with small free windows (many reads), taking pushes, and answering every third commit with a
 * promise (back-pressure): what it received must equal what was sent.
 */
class SmallSink implements BodySink {
  readonly data = Buffer.alloc(1 << 20);
  used = 0;
  private n = 0;
  space(): Buffer {
    return this.data.subarray(this.used, Math.min(this.data.length, this.used + 777));
  }
  commits = 0;
  commit(k: number): Promise<void> | undefined {
    this.commits++;
    this.used += k;
    return ++this.n % 3 === 0 ? new Promise((r) => setTimeout(r, 1)) : undefined;
  }
  push(chunk: Uint8Array): Promise<void> | undefined {
    this.data.set(chunk, this.used);
    this.used += chunk.length;
    return ++this.n % 3 === 0 ? new Promise((r) => setTimeout(r, 1)) : undefined;
  }
  bytes(): Buffer {
    return this.data.subarray(0, this.used);
  }
}

const get = (url: string, headers: Record<string, string> = {}, endpoint = url, token?: string) =>
  socketTransport(token === undefined ? { endpoint } : { endpoint, token })(url, { headers, signal: new AbortController().signal });

describe('socketTransport', () => {
  it('delivers a Content-Length body exactly, read in place through small windows, with back-pressure', async () => {
    const { url } = await listen(http.createServer(async (_, res) => {
      res.writeHead(200, { 'content-length': body.length });
      res.write(body.subarray(0, 1000)); // arrives with the head
      await new Promise((r) => setTimeout(r, 30)); // the rest once the client reads into its sink
      for (let i = 1000; i < body.length; i += 50_000) {
        res.write(body.subarray(i, i + 50_000));
        await new Promise((r) => setTimeout(r, 2));
      }
      res.end();
    }));
    const res = await get(`${url}/f`);
    expect(res.status).toBe(200);
    expect(res.header('Content-Length')).toBe(String(body.length));
    const sink = new SmallSink();
    let reads = 0;
    expect(await res.readInto(sink, body.length, () => reads++)).toBe(body.length);
    expect(sink.bytes().equals(body)).toBe(true);
    expect(sink.commits).toBeGreaterThan(10); // most of the body was read straight into the sink's windows
    expect(reads).toBeGreaterThanOrEqual(sink.commits);
  });

  it('decodes a chunked body (chunk extensions, trailers) and a body ended by closing the connection', async () => {
    const { url } = await listen(net.createServer((c) => {
      c.once('data', (req) => {
        if (req.toString().startsWith('GET /chunked')) {
          c.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
          for (let i = 0; i < body.length; i += 70_000) {
            const part = body.subarray(i, i + 70_000);
            c.write(`${part.length.toString(16)};ext=1\r\n`);
            c.write(part);
            c.write('\r\n');
          }
          c.end('0\r\nX-Trailer: yes\r\n\r\n');
        } else {
          c.write('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n');
          c.end(body);
        }
      });
    }));
    for (const path of ['/chunked', '/close']) {
      const sink = new SmallSink();
      expect(await (await get(`${url}${path}`)).readInto(sink, body.length, () => {})).toBe(body.length);
      expect(sink.bytes().equals(body)).toBe(true);
    }
  });

  it('parses a response head that arrives in pieces, with the body starting in the same packet', async () => {
    const { url } = await listen(net.createServer((c) => {
      c.once('data', async () => {
        const head = `HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 5-9/10\r\nContent-Length: 5\r\n\r\n`;
        for (const piece of [head.slice(0, 7), head.slice(7, 40), head.slice(40) + 'ab']) {
          c.write(piece);
          await new Promise((r) => setTimeout(r, 5));
        }
        c.end('cde');
      });
    }));
    const res = await get(`${url}/x`);
    expect([res.status, res.header('content-range')]).toEqual([206, 'bytes 5-9/10']);
    const sink = new SmallSink();
    expect(await res.readInto(sink, 5, () => {})).toBe(5);
    expect(sink.bytes().toString()).toBe('abcde');
  });

  it('refuses a body longer than allowed (declared or sent) and reports an early end as short', async () => {
    const { url } = await listen(net.createServer((c) => {
      c.once('data', (req) => {
        const path = req.toString().split(' ')[1];
        if (path === '/declared') c.end(`HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n${'x'.repeat(100)}`);
        else if (path === '/sent') c.end(`HTTP/1.1 200 OK\r\n\r\n${'x'.repeat(100)}`);
        else c.end(`HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n${'x'.repeat(40)}`);
      });
    }));
    await expect((await get(`${url}/declared`)).readInto(new SmallSink(), 99, () => {})).rejects.toBeInstanceOf(BodyTooLong);
    await expect((await get(`${url}/sent`)).readInto(new SmallSink(), 99, () => {})).rejects.toBeInstanceOf(BodyTooLong);
    expect(await (await get(`${url}/short`)).readInto(new SmallSink(), 100, () => {})).toBe(40);
  });

  it('a sink that fails (disk full) rejects the read with its error instead of throwing into the socket', async () => {
    const { url } = await listen(http.createServer(async (_, res) => {
      res.writeHead(200, { 'content-length': body.length });
      res.flushHeaders();
      await new Promise((r) => setTimeout(r, 20)); // the body arrives after readInto: reads go to the sink
      res.end(body);
    }));
    const full = Object.assign(new Error('no space left'), { code: 'ENOSPC' });
    const sink = new SmallSink();
    sink.commit = () => {
      throw full;
    };
    sink.push = () => {
      throw full;
    };
    await expect((await get(`${url}/f`)).readInto(sink, body.length, () => {})).rejects.toBe(full);
  });

  it('follows redirects; the token goes to the endpoint origin only, never to another origin', async () => {
    const seen: { host: string; auth: string | undefined }[] = [];
    const cdn = await listen(http.createServer((req, res) => {
      seen.push({ host: 'cdn', auth: req.headers.authorization });
      res.writeHead(200, { 'content-length': 2 }).end('ok');
    }));
    const hub = await listen(http.createServer((req, res) => {
      seen.push({ host: 'hub', auth: req.headers.authorization });
      if (req.url === '/a') res.writeHead(302, { location: '/b' }).end();
      else if (req.url === '/b') res.writeHead(307, { location: `${cdn.url}/c` }).end();
    }));
    const res = await get(`${hub.url}/a`, {}, hub.url, 'secret-token');
    const sink = new SmallSink();
    await res.readInto(sink, 2, () => {});
    expect(sink.bytes().toString()).toBe('ok');
    expect(seen).toEqual([
      { host: 'hub', auth: 'Bearer secret-token' },
      { host: 'hub', auth: 'Bearer secret-token' },
      { host: 'cdn', auth: undefined },
    ]);
  });

  it('speaks TLS, verifying the certificate against the trusted store', async () => {
    const dir = fileURLToPath(new URL('../../helpers/hub/', import.meta.url));
    const tlsServer = https.createServer({ key: readFileSync(`${dir}tls-key.pem`), cert: readFileSync(`${dir}tls-cert.pem`) }, (_, res) =>
      res.writeHead(200, { 'content-length': body.length }).end(body));
    const { url } = await listen(tlsServer);
    const httpsUrl = url.replace('http:', 'https:').replace('127.0.0.1', 'localhost');
    // the transport compiled to dist, in a child process that trusts the test CA
    const mod = fileURLToPath(new URL('../../../dist/core/hub/socket-transport.js', import.meta.url));
    const script = `
      const { socketTransport } = await import(${JSON.stringify(mod)});
      const { createHash } = await import('node:crypto');
      const res = await socketTransport({ endpoint: process.argv[1] })(process.argv[1] + '/f', { headers: {}, signal: new AbortController().signal });
      const buf = Buffer.alloc(${body.length}); let used = 0;
      const n = await res.readInto({ space: () => buf.subarray(used), commit: (k) => { used += k; }, push: (c) => { buf.set(c, used); used += c.length; } }, buf.length, () => {});
      console.log(res.status, n, createHash('sha256').update(buf.subarray(0, used)).digest('hex'));`;
    const trusted = await execa('node', ['--input-type=module', '-e', script, httpsUrl], { env: { NODE_EXTRA_CA_CERTS: `${dir}tls-cert.pem` } });
    expect(trusted.stdout.trim()).toBe(`200 ${body.length} ${createHash('sha256').update(body).digest('hex')}`);
    // without the CA the certificate is refused
    const untrusted = await execa('node', ['--input-type=module', '-e', script, httpsUrl], { reject: false, env: { NODE_EXTRA_CA_CERTS: '' } });
    expect(untrusted.exitCode).not.toBe(0);
    expect(untrusted.stderr).toMatch(/self[- ]signed|unable to verify|certificate/i);
  });
});
