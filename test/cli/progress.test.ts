/**
 * Progress bars and closing lines (src/commands/_shared/progress.ts, reporter.ts) on a fake TTY with a fake clock, and
 * on a non-TTY stream: sensible ETAs, nothing stale left on screen, no escape codes off a terminal.
 */
import { describe, expect, it } from 'vitest';
import { BarState, barLine, formatDuration, formatEta } from '../../src/commands/_shared/progress.js';
import { Reporter } from '../../src/commands/_shared/reporter.js';
import { count, plural } from '../../src/core/plural.js';
import { screen } from '../helpers/screen.js';

function fakeStream(tty: boolean, columns = 100) {
  const s = { text: '', isTTY: tty, columns, write(c: string) { s.text += c; return true; } };
  return s;
}
function clock() {
  const c = { t: 0, now: () => c.t };
  return c;
}
const OPTS = { json: false, quiet: false, verbose: false };

describe('BarState: rate and ETA', () => {
  it('no ETA before ETA_MIN_ELAPSED_MS, then remaining / rate (hand-computed)', () => {
    const c = clock();
    const b = new BarState('x', 1000, 'bytes', c.now);
    c.t = 500;
    b.update(50);
    expect(b.etaSeconds()).toBeUndefined();
    expect(formatEta(b.etaSeconds())).toBe('ETA --');
    c.t = 2000;
    b.update(200); // 100 units/s over the window → 800 left = 8 s
    expect(b.rate()).toBeCloseTo(100, 9);
    expect(b.etaSeconds()).toBeCloseTo(8, 9);
    expect(formatEta(b.etaSeconds())).toBe('ETA 8.0 s');
  });

  it('a stalled or empty bar never prints NaN/Infinity garbage', () => {
    const c = clock();
    const b = new BarState('x', 1000, 'items', c.now);
    c.t = 5000;
    b.update(0);
    expect(formatEta(b.etaSeconds())).toBe('ETA --');
    const z = new BarState('z', 0, 'items', c.now);
    expect(formatEta(z.etaSeconds())).toBe('ETA --');
    expect(barLine(z, 80)).not.toMatch(/NaN|Infinity|NULL|INF|LL|NF/);
    expect(formatEta(Infinity)).toBe('ETA --');
    expect(formatEta(NaN)).toBe('ETA --');
  });

  it('the rate follows the last RATE_WINDOW_MS, not the whole run', () => {
    const c = clock();
    const b = new BarState('x', 1e9, 'bytes', c.now);
    for (let s = 1; s <= 60; s++) {
      c.t = s * 1000;
      b.update(s <= 30 ? s * 1e6 : 30e6 + (s - 30) * 10e6); // 1 MB/s, then 10 MB/s
    }
    expect(b.rate()! / 10e6).toBeCloseTo(1, 6);
  });

  it('durations read as humans write them', () => {
    expect(formatDuration(0.42)).toBe('0.4 s');
    expect(formatDuration(42)).toBe('42 s');
    expect(formatDuration(75)).toBe('1m15s');
    expect(formatDuration(7320)).toBe('2h02m');
  });

  it('a bar line fits the terminal width and shows MB/s for bytes', () => {
    const c = clock();
    const b = new BarState('convert', 4e9, 'bytes', c.now);
    c.t = 2000;
    b.update(1e9, 'model-00001-of-00413.safetensors and a very long note that would wrap the line');
    const l = barLine(b, 60);
    expect(l.length).toBeLessThanOrEqual(59);
    expect(barLine(b, 200)).toMatch(/500 MB\/s/);
    expect(barLine(b, 200)).toMatch(/ETA 6\.0 s/);
  });
});

describe('Reporter on a TTY', () => {
  it('draws in place, and finish() replaces the bar by one closing line with elapsed time and throughput', () => {
    const c = clock();
    const s = fakeStream(true);
    const r = new Reporter('convert', OPTS, s, c.now);
    r.info('plan: 2 files');
    const bar = r.progress('convert', 200e6, 'bytes');
    for (let i = 1; i <= 20; i++) {
      c.t = i * 100;
      bar.update(i * 10e6);
    }
    expect(screen(s.text).at(-1)).toMatch(/^convert +\[#{20}\] +100%/);
    bar.finish('wrote 2 files, 191 MiB');
    expect(screen(s.text)).toEqual(['plan: 2 files', 'convert: wrote 2 files, 191 MiB in 2.0 s (100 MB/s)']);
  });

  it('an error erases the bars first: no "headers 0%" left above it', () => {
    const s = fakeStream(true);
    const r = new Reporter('inspect', OPTS, s, clock().now);
    r.progress('headers', 10);
    r.progress('second', 10);
    expect(screen(s.text)).toHaveLength(2);
    r.error({ code: 'E_NOT_FOUND', message: 'x: no such checkpoint directory' });
    const lines = screen(s.text);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^m1kit inspect: .*x: no such checkpoint directory/);
  });

  it('a result erases bars nobody stopped (no frozen bar after bench or download)', () => {
    const s = fakeStream(true);
    const r = new Reporter('bench', { ...OPTS, json: false }, s, clock().now);
    const b = r.progress('bench', 100);
    b.update(40, 'softmax prefill (repeat 2/3)');
    r.stopProgress();
    expect(screen(s.text)).toEqual([]);
  });

  it('messages print above the live bars, which are redrawn under them', () => {
    const c = clock();
    const s = fakeStream(true);
    const r = new Reporter('download', OPTS, s, c.now);
    const b = r.progress('download', 100, 'bytes');
    b.update(10);
    r.warn('a.bin: connection reset; retry 1 in 0.5 s');
    expect(screen(s.text)).toEqual([expect.stringMatching(/^warning: a\.bin/), expect.stringMatching(/^download +\[/)]);
  });
});

describe('Reporter off a TTY', () => {
  it('no bars and no escape codes, but the closing line is printed', () => {
    const c = clock();
    const s = fakeStream(false);
    const r = new Reporter('convert', OPTS, s, c.now);
    const bar = r.progress('convert', 100e6, 'bytes');
    c.t = 4000;
    bar.update(100e6);
    bar.finish();
    expect(s.text).not.toMatch(/\x1b/);
    expect(s.text).toBe('convert: 95.4 MiB in 4.0 s (25.0 MB/s)\n');
  });

  it('--quiet and --json print no closing line', () => {
    for (const o of [{ ...OPTS, quiet: true }, { ...OPTS, json: true }]) {
      const s = fakeStream(true);
      const bar = new Reporter('convert', o, s, clock().now).progress('convert', 10, 'bytes');
      bar.update(10);
      bar.finish();
      expect(s.text).toBe('');
    }
  });
});

describe('plurals', () => {
  it('count() agrees with its number', () => {
    expect(count(1, 'file')).toBe('1 file');
    expect(count(0, 'file')).toBe('0 files');
    expect(count(8, 'output file')).toBe('8 output files');
    expect(count(1, 'attempt')).toBe('1 attempt');
    expect(count(2, 'entry')).toBe('2 entries');
    expect(count(3, 'patch')).toBe('3 patches');
    expect(count(2, 'key')).toBe('2 keys');
    expect(count(1234, 'tensor')).toBe('1,234 tensors');
    expect(plural('repeat')).toBe('repeats');
  });
});
