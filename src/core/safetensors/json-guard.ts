/**
 * Untrusted JSON text: strict UTF-8 decoding, and a cheap linear scan that bounds nesting depth and the
 * number of top-level keys and refuses duplicate keys, all before JSON.parse (whose recursion overflows
 * the stack on deep input, and which silently keeps the last of two equal keys).
 */
import { InputError } from '../errors.js';
import { MAX_JSON_DEPTH } from '../limits.js';

export interface JsonScanOptions {
  /** Error code for malformed text (default E_JSON). */
  code?: string;
  /** Error code for a duplicate top-level key (default: `code`). */
  duplicateCode?: string;
  maxDepth?: number;
  /** Most keys of the top-level object. */
  maxTopLevelKeys?: number;
  /** What the text is, for messages (default "JSON"). */
  what?: string;
}

const BOM = [0xef, 0xbb, 0xbf];

/** Decode bytes as UTF-8, refusing invalid sequences and a byte-order mark (JSON text must not start with one). */
export function decodeUtf8Strict(bytes: Uint8Array, file: string, code = 'E_JSON', what = 'JSON'): string {
  if (bytes.length >= 3 && BOM.every((b, i) => bytes[i] === b)) {
    throw new InputError(code, `${file}: ${what} starts with a UTF-8 byte-order mark; expected plain UTF-8 JSON text`);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new InputError(code, `${file}: ${what} is not valid UTF-8`);
  }
}

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/**
 * Scan JSON text in one pass: depth ≤ maxDepth, top-level keys ≤ maxTopLevelKeys, no object with two
 * equal keys. Returns the number of top-level keys. Malformed text is left to JSON.parse.
 */
export function scanJson(text: string, file: string, o: JsonScanOptions = {}): number {
  const code = o.code ?? 'E_JSON';
  const what = o.what ?? 'JSON';
  const maxDepth = o.maxDepth ?? MAX_JSON_DEPTH;
  const maxKeys = o.maxTopLevelKeys ?? Infinity;
  const keySets: (Set<string> | null)[] = []; // one per open container: a Set for objects, null for arrays
  let topKeys = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      // the closing quote: the next '"' not preceded by an odd run of backslashes
      let j = text.indexOf('"', i + 1);
      for (;;) {
        if (j < 0) return topKeys; // unterminated: JSON.parse reports it
        let b = j - 1;
        while (b > i && text.charCodeAt(b) === 0x5c /* \ */) b--;
        if ((j - 1 - b) % 2 === 0) break;
        j = text.indexOf('"', j + 1);
      }
      const set = keySets[keySets.length - 1];
      if (set) {
        let k = j + 1;
        while (k < n && isSpace(text.charCodeAt(k))) k++;
        if (text.charCodeAt(k) === 0x3a /* : */) {
          let key = text.slice(i + 1, j);
          if (key.includes('\\')) {
            try {
              key = JSON.parse(text.slice(i, j + 1)) as string;
            } catch {
              return topKeys; // malformed: JSON.parse reports it
            }
          }
          if (set.has(key)) {
            const top = keySets.length === 1;
            throw new InputError(top ? (o.duplicateCode ?? code) : code, `${file}: key ${JSON.stringify(key).slice(0, 120)} appears more than once in ${top ? 'the top-level object' : `an object at depth ${keySets.length}`} (${what}); expected unique keys`);
          }
          set.add(key);
          if (keySets.length === 1 && ++topKeys > maxKeys) {
            throw new InputError(code, `${file}: ${what} has more than ${maxKeys} top-level entries (the cap)`);
          }
        }
      }
      i = j;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      keySets.push(c === 0x7b ? new Set() : null);
      if (keySets.length > maxDepth) throw new InputError(code, `${file}: ${what} nests deeper than ${maxDepth} levels (the cap); expected a shallow document`);
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      keySets.pop();
    }
  }
  return topKeys;
}

/** scanJson, then JSON.parse with a one-line error naming the file. */
export function parseJsonText(text: string, file: string, o: JsonScanOptions = {}): unknown {
  scanJson(text, file, o);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InputError(o.code ?? 'E_JSON', `${file}: ${o.what ?? 'JSON'} is not valid JSON (${(e as Error).message})`);
  }
}
