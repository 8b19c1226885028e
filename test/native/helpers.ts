/** Shared helpers for the kernel tests: seeded data, NaN-poisoned buffers, error measures, the SIMD-path loop. */
import { beforeAll, describe, expect } from 'vitest';
import { nativeInfo, selectSimdPath } from '../../src/core/ops/info.js';

/** Deterministic xorshift32 uniform in [-1, 1). */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 31 - 1;
  };
}

export function randArray(n: number, seed: number, scale = 1): Float32Array {
  const r = rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = r() * scale;
  return a;
}

/** A buffer filled with NaN, so an element the kernel forgets to write fails the comparison. */
export const poisoned = (n: number): Float32Array => new Float32Array(n).fill(NaN);

/** max |a − b| and max |b| (NaN anywhere in a where b is finite → Infinity). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): { diff: number; scale: number } {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    diff = Number.isNaN(d) ? Infinity : Math.max(diff, d);
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return { diff, scale };
}

/** SIMD paths the addon can run here (empty without the addon). */
export function simdPaths(): string[] {
  return nativeInfo().simdAvailable;
}

/**
 * Runs the tests that `body` declares once per SIMD path the addon can run here, each in a
 * `simd=<path>` suite that first selects its path (a path that cannot be selected fails the suite).
 */
export function forEachSimdPath(body: () => void): void {
  for (const simd of simdPaths()) {
    describe(`simd=${simd}`, () => {
      beforeAll(() => {
        expect(selectSimdPath(simd)).toBe(simd);
      });
      body();
    });
  }
}

/** True when the native addon is loaded; tests that need it fail loudly otherwise (see README). */
export const nativeLoaded = (): boolean => nativeInfo().loaded;

/** Print why the native suites are skipped (addon missing) — a skipped suite is never a pass. */
export function announceSkip(file: string): void {
  const i = nativeInfo();
  if (!i.loaded) console.warn(`${file}: native kernel tests SKIPPED: ${i.reason} (${i.hints.join('; ')})`);
}

/** Index of the first byte where two views differ, -1 when they are equal, 0 when their lengths differ. */
export function firstBitDiff(a: ArrayBufferView, b: ArrayBufferView): number {
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength), y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  if (x.length !== y.length) return 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}
