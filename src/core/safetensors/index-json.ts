/**
 * Sharded checkpoint index (`model.safetensors.index.json`): read, validate, write. Shard names are
 * 0-based like the real MiniMax-M1 release (`model-00000-of-00413.safetensors`); the count is never
 * hard-coded. Shard names are checked to be plain file names before any file is opened.
 */
import { rename, writeFile } from 'node:fs/promises';
import { InputError } from '../errors.js';
import { MAX_JSON_FILE_BYTES, MAX_SHARDS, MAX_TENSORS_PER_CHECKPOINT, MAX_TENSOR_NAME_LENGTH } from '../limits.js';
import { decodeUtf8Strict, parseJsonText } from './json-guard.js';
import { readRegular } from './regular-file.js';

export const INDEX_FILE = 'model.safetensors.index.json';

export interface ShardIndex {
  metadata: Record<string, unknown>;
  weightMap: Map<string, string>;
}

/** `shardName(0, 413)` → `model-00000-of-00413.safetensors` (0-based index, width ≥ 5). */
export function shardName(i: number, n: number, prefix = 'model'): string {
  const w = Math.max(5, String(n).length);
  return `${prefix}-${String(i).padStart(w, '0')}-of-${String(n).padStart(w, '0')}.safetensors`;
}

/** Refuse names that are not plain file names inside the checkpoint directory. */
export function assertSafeShardName(name: string, file: string): void {
  const bad =
    name.length === 0 ||
    name.length > 255 ||
    name === '.' ||
    name === '..' ||
    name.includes('/') ||
    name.includes('\\') ||
    name.includes('\0') ||
    /^[A-Za-z]:/.test(name);
  if (bad) throw new InputError('E_UNSAFE_SHARD_NAME', `${file}: shard name ${JSON.stringify(name)} is not a plain file name (path components are refused)`);
  if (!name.endsWith('.safetensors')) throw new InputError('E_UNSAFE_SHARD_NAME', `${file}: shard name ${JSON.stringify(name)} does not end in .safetensors`);
}

/**
 * Read an untrusted JSON file: a regular file only (never a FIFO or device), at most MAX_JSON_FILE_BYTES,
 * strict UTF-8, nesting and duplicate keys checked before parsing; errors name the file.
 */
export async function readJsonFile(path: string, what = 'JSON', maxBytes = MAX_JSON_FILE_BYTES): Promise<unknown> {
  const bytes = await readRegular(path, maxBytes, what, 'E_JSON_TOO_LARGE');
  return parseJsonText(decodeUtf8Strict(bytes, path, 'E_JSON', what), path, { what });
}

/** Validate a parsed index object. */
export function parseIndex(raw: unknown, file: string): ShardIndex {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new InputError('E_INDEX', `${file}: expected a JSON object`);
  const r = raw as Record<string, unknown>;
  const wm = r.weight_map;
  if (typeof wm !== 'object' || wm === null || Array.isArray(wm)) throw new InputError('E_INDEX', `${file}: missing "weight_map" object`);
  const names = Object.keys(wm);
  if (names.length === 0) throw new InputError('E_INDEX', `${file}: "weight_map" is empty; expected one entry per tensor`);
  if (names.length > MAX_TENSORS_PER_CHECKPOINT) throw new InputError('E_INDEX', `${file}: weight_map lists ${names.length} tensors, more than the cap of ${MAX_TENSORS_PER_CHECKPOINT}`);
  const weightMap = new Map<string, string>();
  const shards = new Set<string>();
  for (const [name, shard] of Object.entries(wm)) {
    if (name.length > MAX_TENSOR_NAME_LENGTH) throw new InputError('E_INDEX', `${file}: weight_map key ${JSON.stringify(name.slice(0, 60))}… is ${name.length} characters long, more than the cap of ${MAX_TENSOR_NAME_LENGTH}`);
    if (typeof shard !== 'string') throw new InputError('E_INDEX', `${file}: weight_map["${name}"] must be a file name string`);
    assertSafeShardName(shard, file);
    shards.add(shard);
    if (shards.size > MAX_SHARDS) throw new InputError('E_INDEX', `${file}: more than ${MAX_SHARDS} shard files`);
    weightMap.set(name, shard);
  }
  const md = r.metadata;
  if (md !== undefined && md !== null && (typeof md !== 'object' || Array.isArray(md))) throw new InputError('E_INDEX', `${file}: "metadata" must be an object, got ${JSON.stringify(md).slice(0, 60)}`);
  const metadata = (md ?? {}) as Record<string, unknown>;
  if (metadata.total_size !== undefined && !(typeof metadata.total_size === 'number' && Number.isSafeInteger(metadata.total_size) && metadata.total_size >= 0)) {
    throw new InputError('E_INDEX', `${file}: metadata.total_size must be a non-negative integer`);
  }
  return { metadata, weightMap };
}

export async function readIndex(path: string): Promise<ShardIndex> {
  return parseIndex(await readJsonFile(path, 'a checkpoint index'), path);
}

/** Shard files of an index, in first-appearance order sorted by name. */
export const shardFiles = (index: ShardIndex): string[] => [...new Set(index.weightMap.values())].sort();

/** Write an index atomically (`.incomplete` + rename). Keys are written in the given order. */
export async function writeIndex(path: string, weightMap: Map<string, string> | Record<string, string>, totalSize: number, extraMetadata: Record<string, unknown> = {}): Promise<void> {
  const entries = weightMap instanceof Map ? [...weightMap.entries()] : Object.entries(weightMap);
  for (const [, shard] of entries) assertSafeShardName(shard, path);
  const doc = { metadata: { ...extraMetadata, total_size: totalSize }, weight_map: Object.fromEntries(entries) };
  await writeFile(`${path}.incomplete`, JSON.stringify(doc, null, 2) + '\n');
  await rename(`${path}.incomplete`, path);
}
