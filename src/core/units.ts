/**
 * The one home of human-written quantities on the command line: token counts ("8k", "1m"), byte sizes
 * ("5GB", "2GiB", "8G") and percentages ("10%", "99"). Pure; each throws a UsageError naming the option
 * and the accepted forms.
 */
import { UsageError } from './errors.js';

const COUNT_SUFFIX: Record<string, number> = { '': 1, k: 1024, m: 1024 * 1024 };

/** Largest count accepted: far beyond any model here, small enough to stay exact in doubles. */
export const MAX_COUNT = 2 ** 40;

/**
 * A token count: a plain integer, or a binary k/m suffix as the model's context is counted
 * ("8k" = 8,192, "100k" = 102,400, "1m" = 2²⁰).
 * @example parseCount('8k', '--ctx') // 8192
 */
export function parseCount(text: string, what = 'token count'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*$/.exec(text);
  if (!m) throw new UsageError(`${what} must be an integer or use a k/m suffix (8k = 8192, 1m = 1048576), got "${text}"`);
  const n = Number(m[1]) * (COUNT_SUFFIX[(m[2] ?? '').toLowerCase()] ?? 1);
  if (!Number.isInteger(n) || n < 1 || n > MAX_COUNT) throw new UsageError(`${what} must be a whole number in [1, 2^40], got "${text}" (= ${n})`);
  return n;
}

/** Single letters and *iB are binary; kB/MB/GB/TB are decimal (as transformers' max_shard_size). */
const SIZE_UNIT: Record<string, number> = {
  '': 1, b: 1,
  k: 2 ** 10, kib: 2 ** 10, kb: 1e3,
  m: 2 ** 20, mib: 2 ** 20, mb: 1e6,
  g: 2 ** 30, gib: 2 ** 30, gb: 1e9,
  t: 2 ** 40, tib: 2 ** 40, tb: 1e12,
};

/**
 * A byte size of at least one byte.
 * @example parseSize('5GB') // 5e9; parseSize('2GiB') // 2^31; parseSize('8G') // 8·2^30
 */
export function parseSize(text: string, what = 'size'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m ? SIZE_UNIT[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new UsageError(`${what} expects a size such as 5GB, 500MB, 2GiB, 8G or a byte count, got "${text}"`);
  const n = Math.floor(Number(m[1]) * unit);
  if (n < 1) throw new UsageError(`${what} must be at least 1 byte, got "${text}"`);
  return n;
}

/**
 * A percentage in [0, 100] (or [0, 100) with `below100`), with or without the % sign.
 * @example parsePercent('10%') // 10
 */
export function parsePercent(text: string, what = 'percentage', opts: { below100?: boolean } = {}): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(text);
  const v = m ? Number(m[1]) : NaN;
  const ok = Number.isFinite(v) && v >= 0 && (opts.below100 ? v < 100 : v <= 100);
  if (!ok) throw new UsageError(`${what} expects a percentage in [0, 100${opts.below100 ? ')' : ']'}, e.g. 10%, got "${text}"`);
  return v;
}
