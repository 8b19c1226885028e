/**
 * HTTP/1.1 response parsing for the socket transport: the status line and headers of a response head,
 * and an incremental decoder of chunked bodies that accepts any split of its input.
 */
import { NetworkError } from '../errors.js';

export interface Head {
  status: number;
  headers: Map<string, string>;
}

/** Status and headers (names lower-cased, repeated headers joined with ", ") of a head without its final blank line. */
export function parseHead(text: string, where: string): Head {
  const lines = text.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
  if (!m) throw new NetworkError('E_HTTP', `${where}: malformed HTTP status line "${(lines[0] ?? '').slice(0, 80)}"`);
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const k = line.slice(0, i).trim().toLowerCase();
    const v = line.slice(i + 1).trim();
    headers.set(k, headers.has(k) ? `${headers.get(k)}, ${v}` : v);
  }
  return { status: Number(m[1]), headers };
}

/** Incremental decoder of a chunked body: feeds data bytes to `out`, reports when the last chunk ends. */
export class ChunkedDecoder {
  private state: 'size' | 'data' | 'crlf' | 'trailer' | 'done' = 'size';
  private line = '';
  private left = 0;
  constructor(private readonly where: string) {}
  get done(): boolean {
    return this.state === 'done';
  }
  /** Decode `b`; returns the data slices it holds (views of `b`). */
  feed(b: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let i = 0;
    while (i < b.length && this.state !== 'done') {
      if (this.state === 'data') {
        const n = Math.min(this.left, b.length - i);
        out.push(b.subarray(i, i + n));
        i += n;
        this.left -= n;
        if (this.left === 0) this.state = 'crlf';
        continue;
      }
      const c = b[i++]!;
      if (c !== 0x0a) {
        if (c !== 0x0d) this.line += String.fromCharCode(c);
        if (this.line.length > 1024) throw new NetworkError('E_HTTP', `${this.where}: malformed chunked body`);
        continue;
      }
      const line = this.line;
      this.line = '';
      if (this.state === 'size') {
        const size = parseInt(line.split(';')[0]!.trim(), 16);
        if (!Number.isSafeInteger(size) || size < 0) throw new NetworkError('E_HTTP', `${this.where}: malformed chunk size "${line.slice(0, 40)}"`);
        if (size === 0) this.state = 'trailer';
        else {
          this.left = size;
          this.state = 'data';
        }
      } else if (this.state === 'crlf') {
        this.state = 'size';
      } else if (line === '') {
        this.state = 'done'; // end of the trailer section
      }
    }
    return out;
  }
}
