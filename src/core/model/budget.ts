/** Memory budget for the runtime's weights, from a human size ("8G", "512MiB", "1.5GB", bytes). */
import { UsageError } from '../errors.js';
import { STREAM_CHUNK_BYTES } from './weights.js';

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1e3, kib: 1024, m: 1024 ** 2, mb: 1e6, mib: 1024 ** 2, g: 1024 ** 3, gb: 1e9, gib: 1024 ** 3, t: 1024 ** 4, tb: 1e12, tib: 1024 ** 4 };

/** "8G" → 8·2³⁰ (single letters and *iB are binary, kB/MB/GB/TB decimal). */
export function parseByteSize(s: string, what = '--max-memory'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(s);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new UsageError(`${what} expects a size such as 8G, 512MiB or 2000000000, got "${s}"`);
  return Math.floor(Number(m[1]) * unit);
}

/**
 * Split a weight-memory budget: half for the decoded-weight cache, and a streaming chunk of at most
 * 1/8 of the budget (capped at the default chunk), so cache + chunk + a decoded expert stay under it.
 */
export function weightBudget(maxMemory: number): { cacheBytes: number; chunkBytes: number } {
  return { cacheBytes: Math.floor(maxMemory / 2), chunkBytes: Math.max(1 << 20, Math.min(STREAM_CHUNK_BYTES, Math.floor(maxMemory / 8))) };
}
