/** The one parser of counts, sizes and percentages that every option uses (core/units.ts). */
import { describe, expect, it } from 'vitest';
import { parseCount, parsePercent, parseSize } from '../../src/core/units.js';

describe('shared quantity parsers', () => {
  it('counts: plain integers are literal, k and m are binary', () => {
    expect(parseCount('1000000')).toBe(1_000_000);
    expect(parseCount('8k')).toBe(8192);
    expect(parseCount('100K')).toBe(102_400);
    expect(parseCount('1m')).toBe(2 ** 20);
    expect(parseCount('1.5k')).toBe(1536);
    for (const bad of ['0', '-1', '1.5', 'lots', '1g', '', '0.1k']) expect(() => parseCount(bad, '--ctx'), bad).toThrow(/--ctx/);
  });

  it('sizes: kB/MB/GB decimal, single letters and *iB binary, at least one byte', () => {
    expect(parseSize('5GB')).toBe(5e9);
    expect(parseSize('500MB')).toBe(5e8);
    expect(parseSize('2GiB')).toBe(2 ** 31);
    expect(parseSize('8G')).toBe(8 * 2 ** 30);
    expect(parseSize('1.5gb')).toBe(1.5e9);
    expect(parseSize('1.5GB')).toBe(1.5e9);
    expect(parseSize('512MiB')).toBe(512 * 2 ** 20);
    expect(parseSize('8g')).toBe(8 * 2 ** 30);
    expect(parseSize('1048576')).toBe(1048576);
    for (const bad of ['0', '5XB', 'GB', '-1GB', '0.1']) expect(() => parseSize(bad, '--max-memory'), bad).toThrow(/--max-memory/);
  });

  it('percentages: with or without %, in [0, 100] or [0, 100) when asked', () => {
    expect(parsePercent('99%')).toBe(99);
    expect(parsePercent('99')).toBe(99);
    expect(parsePercent(' 12.5 % ')).toBe(12.5);
    expect(parsePercent('100%')).toBe(100);
    expect(() => parsePercent('100%', '--max-regression', { below100: true })).toThrow(/--max-regression.*\[0, 100\)/);
    for (const bad of ['101', '-1%', 'abc', '%', '0.5x']) expect(() => parsePercent(bad, '--min-top1'), bad).toThrow(/--min-top1/);
  });
});
