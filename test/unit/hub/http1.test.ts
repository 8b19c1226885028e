/** HTTP/1.1 head parsing and the chunked-body decoder, fed whole and split at every possible point. */
import { describe, expect, it } from 'vitest';
import { ChunkedDecoder, parseHead } from '../../../src/core/hub/http1.js';

const enc = (s: string) => Buffer.from(s, 'latin1');

describe('parseHead', () => {
  it('reads the status and headers, lower-cases names and joins repeated ones', () => {
    const h = parseHead('HTTP/1.1 206 Partial Content\r\nContent-Length: 5\r\nX-A: 1\r\nx-a: 2\r\nno colon here', 'h/f');
    expect(h.status).toBe(206);
    expect(h.headers.get('content-length')).toBe('5');
    expect(h.headers.get('x-a')).toBe('1, 2');
    expect(h.headers.size).toBe(2);
  });
  it('refuses a malformed status line with a one-line E_HTTP error naming the place', () => {
    expect(() => parseHead('HTTP/2 200\r\n', 'h/f')).toThrow(expect.objectContaining({ code: 'E_HTTP', message: expect.stringContaining('h/f') }));
  });
});

describe('ChunkedDecoder', () => {
  const data = Buffer.from(Array.from({ length: 700 }, (_, i) => (i * 7) & 0xff));
  const wire = Buffer.concat([
    enc('12c;name=value\r\n'), data.subarray(0, 300), enc('\r\n'),
    enc('190\r\n'), data.subarray(300), enc('\r\n'),
    enc('0\r\nTrailer: x\r\n\r\n'),
  ]);
  const decode = (pieces: Buffer[]) => {
    const d = new ChunkedDecoder('h/f');
    const out: Buffer[] = [];
    for (const p of pieces) for (const part of d.feed(p)) out.push(Buffer.from(part));
    return { body: Buffer.concat(out), done: d.done };
  };

  it('decodes the body whole, split at every offset, and byte by byte', () => {
    expect(decode([wire])).toEqual({ body: data, done: true });
    for (let cut = 1; cut < wire.length; cut += 7) expect(decode([wire.subarray(0, cut), wire.subarray(cut)])).toEqual({ body: data, done: true });
    expect(decode([...wire].map((b) => Buffer.of(b)))).toEqual({ body: data, done: true });
  });
  it('is not done before the trailer ends, and refuses a malformed chunk size', () => {
    expect(decode([wire.subarray(0, wire.length - 2)]).done).toBe(false);
    expect(() => decode([enc('zz\r\n')])).toThrow(expect.objectContaining({ code: 'E_HTTP' }));
  });
});
