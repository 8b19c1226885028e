/**
 * Content hashes used by the hub: sha256 for LFS files (= lfs.oid = blob name in the cache) and the
 * git blob sha1 (`sha1("blob <size>\0" + content)`) for small files stored in git.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { DEFAULT_CHUNK_BYTES } from '../limits.js';
import { throwIfAborted } from '../errors.js';
import { sha256LanesAvailable } from '../ops/sha256.js';
import { LaneSha256 } from '../ops/lane-sha256.js';

export type HashKind = 'sha256' | 'git-sha1';

/**
 * A streaming content hash: node's Hash, or LaneSha256 (core/ops/lane-sha256.ts), which can also take bytes lazily
 * (`enqueue`, then `release` of their buffer) so that the files of a thread are hashed side by side.
 */
export interface ContentHasher {
  update(data: Uint8Array): unknown;
  digest(encoding: 'hex'): string;
  enqueue?(data: Uint8Array): unknown;
  release?(buffer: ArrayBufferLike): void;
  discard?(): void;
}

/** Expected content hash of a remote file. */
export interface ContentHash {
  kind: HashKind;
  hex: string;
}

/**
 * A fresh streaming hasher for `size` bytes of content: sha256 on interleaved SHA-extension lanes where
 * the CPU has them (or when `lanes` asks), else node's.
 */
export function createContentHasher(kind: HashKind, size: number, lanes = sha256LanesAvailable()): ContentHasher {
  if (kind === 'sha256') return lanes ? new LaneSha256() : createHash('sha256');
  const h = createHash('sha1');
  h.update(`blob ${size}\0`);
  return h;
}

/** The kind of hash a hex digest is, from its length (64 → sha256, 40 → git sha1). */
export function hashKindOf(hex: string): HashKind | undefined {
  if (/^[0-9a-f]{64}$/.test(hex)) return 'sha256';
  if (/^[0-9a-f]{40}$/.test(hex)) return 'git-sha1';
  return undefined;
}

/**
 * Feed bytes [0, length) of `file` into `hasher`, reading DEFAULT_CHUNK_BYTES at a time.
 * `onBytes` gets each chunk's length.
 */
export async function hashFilePrefix(
  file: string,
  length: number,
  hasher: ContentHasher,
  opts: { signal?: AbortSignal; onBytes?: (n: number) => void } = {},
): Promise<void> {
  const fd = await open(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(Math.min(DEFAULT_CHUNK_BYTES, Math.max(1, length)));
    let pos = 0;
    while (pos < length) {
      throwIfAborted(opts.signal);
      const { bytesRead } = await fd.read(buf, 0, Math.min(buf.length, length - pos), pos);
      if (bytesRead === 0) throw new Error(`${file}: ended at ${pos} bytes, expected ${length}`);
      hasher.update(buf.subarray(0, bytesRead));
      pos += bytesRead;
      opts.onBytes?.(bytesRead);
    }
  } finally {
    await fd.close();
  }
}

/**
 * Hex digest of a whole file of `size` bytes.
 * @example await hashFile('blobs/abc', 'sha256', 1234)
 */
export async function hashFile(
  file: string,
  kind: HashKind,
  size: number,
  opts: { signal?: AbortSignal; onBytes?: (n: number) => void } = {},
): Promise<string> {
  const h = createContentHasher(kind, size);
  await hashFilePrefix(file, size, h, opts);
  return h.digest('hex');
}
