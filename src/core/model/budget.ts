/** Memory budget for the runtime's weights (a byte count; the command line parses it with core/units.ts parseSize). */
import { STREAM_CHUNK_BYTES } from './weights.js';

/**
 * Split a weight-memory budget: half for the decoded-weight cache, and a streaming chunk of at most
 * 1/8 of the budget (capped at the default chunk), so cache + chunk + a decoded expert stay under it.
 */
export function weightBudget(maxMemory: number): { cacheBytes: number; chunkBytes: number } {
  return { cacheBytes: Math.floor(maxMemory / 2), chunkBytes: Math.max(1 << 20, Math.min(STREAM_CHUNK_BYTES, Math.floor(maxMemory / 8))) };
}
