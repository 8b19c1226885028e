/** Memory budget for the runtime's weights, from a human size ("8G", "512MiB", "1.5GB", bytes). */
import { parseSize } from '../units.js';
import { STREAM_CHUNK_BYTES } from './weights.js';

/** "8G" → 8·2³⁰ (single letters and *iB are binary, kB/MB/GB/TB decimal; the shared parser of core/units.ts). */
export const parseByteSize = (s: string, what = '--max-memory'): number => parseSize(s, what);

/**
 * Split a weight-memory budget: half for the decoded-weight cache, and a streaming chunk of at most
 * 1/8 of the budget (capped at the default chunk), so cache + chunk + a decoded expert stay under it.
 */
export function weightBudget(maxMemory: number): { cacheBytes: number; chunkBytes: number } {
  return { cacheBytes: Math.floor(maxMemory / 2), chunkBytes: Math.max(1 << 20, Math.min(STREAM_CHUNK_BYTES, Math.floor(maxMemory / 8))) };
}
