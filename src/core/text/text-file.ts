/**
 * Reading text to tokenize: a whole UTF-8 file of bounded size. Invalid UTF-8 is refused with the byte
 * offset and line of the first bad sequence; an empty file is refused; a leading byte-order mark is
 * dropped (it is not part of the text).
 */
import { InputError } from '../errors.js';
import { readRegular } from '../safetensors/regular-file.js';

/** Largest text file read into memory (a corpus of 256 MiB is ~60 M tokens, far beyond what a CPU pass covers). */
export const MAX_TEXT_FILE_BYTES = 256 * 1024 * 1024;

const BOM = [0xef, 0xbb, 0xbf];

/** Byte offset of the first invalid UTF-8 sequence in `b` (RFC 3629: no overlongs, no surrogates, ≤ U+10FFFF), or -1. */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    if (c < 0x80) { i++; continue; }
    let n: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) n = 1;
    else if (c >= 0xe0 && c <= 0xef) { n = 2; if (c === 0xe0) lo = 0xa0; if (c === 0xed) hi = 0x9f; }
    else if (c >= 0xf0 && c <= 0xf4) { n = 3; if (c === 0xf0) lo = 0x90; if (c === 0xf4) hi = 0x8f; }
    else return i;
    for (let k = 1; k <= n; k++) {
      const d = b[i + k];
      if (d === undefined || d < (k === 1 ? lo : 0x80) || d > (k === 1 ? hi : 0xbf)) return i;
    }
    i += n + 1;
  }
  return -1;
}

/** Decode `bytes` as UTF-8 text from `file`; `what` names it in messages ("--text-file"). */
export function decodeText(bytes: Uint8Array, file: string, what = 'text file'): string {
  if (bytes.length === 0) throw new InputError('E_EMPTY_TEXT', `${file}: ${what} is empty; expected UTF-8 text`);
  const body = bytes.length >= 3 && BOM.every((x, i) => bytes[i] === x) ? bytes.subarray(3) : bytes;
  const bad = firstInvalidUtf8(body);
  if (bad >= 0) {
    const at = bad + (body === bytes ? 0 : 3);
    let line = 1;
    for (let i = 0; i < at; i++) if (bytes[i] === 0x0a) line++;
    const shown = [...bytes.subarray(at, at + 4)].map((x) => x.toString(16).padStart(2, '0')).join(' ');
    throw new InputError('E_TEXT_ENCODING', `${file}: ${what} is not valid UTF-8 at byte ${at} (line ${line}: ${shown}); convert it first, e.g. iconv -f latin1 -t utf-8`);
  }
  const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body);
  if (text.length === 0) throw new InputError('E_EMPTY_TEXT', `${file}: ${what} holds only a byte-order mark; expected UTF-8 text`);
  return text;
}

/**
 * The text of a UTF-8 file (regular file, at most MAX_TEXT_FILE_BYTES).
 * @example const corpus = await readTextFile('wiki.test.raw');
 */
export async function readTextFile(path: string, what = 'text file', maxBytes = MAX_TEXT_FILE_BYTES): Promise<string> {
  const bytes = await readRegular(path, maxBytes, what, 'E_TEXT_TOO_LARGE');
  return decodeText(bytes, path, what);
}
