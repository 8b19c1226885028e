import { describe, expect, it } from 'vitest';
import { M1kitError } from '../../../src/core/errors.js';
import { formatTokens, parseTokenList, parseTokens } from '../../../src/core/flops/tokens.js';
import { median, spread } from '../../../src/core/bench/stats.js';

describe('token counts', () => {
  it('k and m are binary (K = 1024) as in the spec tables; plain integers are literal', () => {
    expect(parseTokens('8k')).toBe(8192);
    expect(parseTokens('100K')).toBe(102_400);
    expect(parseTokens('1m')).toBe(1_048_576);
    expect(parseTokens('1000000')).toBe(1_000_000);
    expect(parseTokens('1.5k')).toBe(1536);
    expect(parseTokenList('8k,32k,64k,100k,128k,1m')).toEqual([8192, 32768, 65536, 102400, 131072, 1048576]);
  });

  it('rejects junk with a usage error (exit 2)', () => {
    for (const bad of ['', 'abc', '0', '-5', '1.3', '1g', '2e6']) {
      const e = (() => {
        try {
          parseTokens(bad);
        } catch (err) {
          return err as M1kitError;
        }
      })();
      expect(e?.exitCode, bad).toBe(2);
    }
  });

  it('formats', () => {
    expect(formatTokens(8192)).toBe('8K');
    expect(formatTokens(1_048_576)).toBe('1M');
    expect(formatTokens(1_000_000)).toBe('1,000,000');
  });
});

describe('stats', () => {
  it('median and relative spread', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(spread([90, 100, 110])).toEqual({ min: 90, max: 110, rel: 0.2 });
  });
});
