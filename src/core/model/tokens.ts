/**
 * Token input for forward/verify: a JSON file holding an array of ids, `{"input_ids": [...]}`, or an
 * array of such sequences (`[[...], [...]]` / `{"input_ids": [[...], ...]}`); or an inline comma list
 * ("1,2,3").
 */
import { decodeUtf8Strict, parseJsonText } from '../safetensors/json-guard.js';
import { readFile, stat } from 'node:fs/promises';
import { InputError } from '../errors.js';
import { MAX_JSON_FILE_BYTES } from '../limits.js';

function asSequence(v: unknown, where: string): number[] {
  if (!Array.isArray(v) || v.length === 0) throw new InputError('E_TOKENS', `${where}: expected a non-empty array of token ids`);
  return v.map((t, i) => {
    if (typeof t !== 'number' || !Number.isInteger(t) || t < 0) throw new InputError('E_TOKENS', `${where}: token ${i} must be a non-negative integer, got ${JSON.stringify(t)}`);
    return t;
  });
}

/** Parse token JSON (already decoded) into one or more sequences. */
export function parseTokenJson(raw: unknown, where: string): number[][] {
  const ids = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>).input_ids : raw;
  if (ids === undefined) throw new InputError('E_TOKENS', `${where}: expected an array of token ids or an object with "input_ids"`);
  if (Array.isArray(ids) && ids.length > 0 && Array.isArray(ids[0])) return ids.map((s, i) => asSequence(s, `${where} sequence ${i}`));
  return [asSequence(ids, where)];
}

/** Whether a `--tokens` value is an inline comma-separated id list (else it names a JSON file). */
export const isTokenList = (spec: string): boolean => /^\d+(\s*,\s*\d+)*$/.test(spec.trim());

/**
 * Load token sequences from a path to a JSON file, or parse an inline comma-separated list.
 * @example await loadTokens('1,2,3') // [[1, 2, 3]]
 */
export async function loadTokens(spec: string): Promise<number[][]> {
  const s = spec.trim();
  if (isTokenList(s)) return [s.split(',').map((t) => Number(t.trim()))];
  let size: number;
  try {
    const st = await stat(spec);
    // a pipe is fine (`--tokens <(…)`); a device such as /dev/zero would never end
    if (!st.isFile() && !st.isFIFO()) throw new InputError('E_TOKENS', `${spec}: token file is not a regular file or a pipe`);
    size = st.size;
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError('E_TOKENS', `--tokens: "${spec}" is neither a comma-separated list of ids nor a readable JSON file`);
  }
  if (size > MAX_JSON_FILE_BYTES) throw new InputError('E_TOKENS', `${spec}: token file is ${size} bytes, more than the ${MAX_JSON_FILE_BYTES}-byte limit`);
  let raw: unknown;
  const bytes = await readFile(spec);
  if (bytes.length > MAX_JSON_FILE_BYTES) throw new InputError('E_TOKENS', `${spec}: token file is more than the ${MAX_JSON_FILE_BYTES}-byte limit`);
  raw = parseJsonText(decodeUtf8Strict(bytes, spec, 'E_TOKENS', 'token file'), spec, { code: 'E_TOKENS', what: 'token file' });
  return parseTokenJson(raw, spec);
}
