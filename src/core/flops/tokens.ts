/**
 * Token counts on the command line: plain integers ("1000000") or binary suffixes as the spec counts
 * them ("8k" = 8,192; "100k" = 102,400; "1m" = 2²⁰ = 1,048,576).
 */
import { UsageError } from '../errors.js';
import { MAX_COUNT, parseCount } from '../units.js';

/** Largest context accepted (tokens). */
export const MAX_TOKENS = MAX_COUNT;

/**
 * Parse one token count (the shared count parser of core/units.ts).
 * @example parseTokens('8k') // 8192
 */
export const parseTokens = (text: string, what = 'token count'): number => parseCount(text, what);

/** Parse a comma-separated list such as "8k,32k,64k,100k,128k,1m". */
export function parseTokenList(text: string, what = '--sweep'): number[] {
  const parts = text.split(',').filter((s) => s.trim() !== '');
  if (parts.length === 0) throw new UsageError(`${what} needs at least one token count, got "${text}"`);
  return parts.map((p) => parseTokens(p, what));
}

/** 8192 → "8K", 1048576 → "1M", 1000000 → "1,000,000". */
export function formatTokens(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)}M`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024}K`;
  return n.toLocaleString('en-US');
}

/** The spec's sweep: 8K, 32K, 64K, 100K, 128K, 1M (K = 1024). */
export const DEFAULT_SWEEP = [8192, 32768, 65536, 102400, 131072, 1048576];
