/**
 * Token counts on the command line: plain integers ("1000000") or binary suffixes as the spec counts
 * them ("8k" = 8,192; "100k" = 102,400; "1m" = 2²⁰ = 1,048,576).
 */
import { UsageError } from '../errors.js';

const SUFFIX: Record<string, number> = { '': 1, k: 1024, m: 1024 * 1024 };

/** Largest context accepted (tokens): far beyond any model here, small enough to stay exact in doubles. */
export const MAX_TOKENS = 2 ** 40;

/**
 * Parse one token count.
 * @example parseTokens('8k') // 8192
 */
export function parseTokens(text: string, what = 'token count'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*$/.exec(text);
  if (!m) throw new UsageError(`${what} must be an integer or use a k/m suffix (8k = 8192, 1m = 1048576), got "${text}"`);
  const n = Number(m[1]) * (SUFFIX[(m[2] ?? '').toLowerCase()] ?? 1);
  if (!Number.isInteger(n) || n < 1 || n > MAX_TOKENS) throw new UsageError(`${what} must be a whole number of tokens in [1, 2^40], got "${text}" (= ${n})`);
  return n;
}

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
