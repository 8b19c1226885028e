/**
 * Progress bars on a terminal: one line per active bar, redrawn in place (at most every
 * REDRAW_INTERVAL_MS), erased when the bar ends or a message is printed, so nothing stale stays on
 * screen. Rate and ETA come from a sliding window of recent samples. Only used when stderr is a TTY;
 * elsewhere the Reporter keeps the same bookkeeping (for the closing line) and draws nothing.
 */

/** The part of a stream the renderer needs (process.stderr, or a fake one in tests). */
export interface BarStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export type BarUnit = 'bytes' | 'items';

/** Shortest time between two redraws: fast enough to look live, cheap enough for busy loops. */
export const REDRAW_INTERVAL_MS = 100;
/** Rate window: long enough to smooth bursts (a file's fsync), short enough to follow a real change. */
export const RATE_WINDOW_MS = 10_000;
/** No ETA before this much time and progress: the first samples are dominated by start-up costs. */
export const ETA_MIN_ELAPSED_MS = 1_000;
/** Width used when the stream does not say (a terminal of unknown size). */
const DEFAULT_COLUMNS = 80;
const BAR_CELLS = 20;

const ESC = '\x1b[';
const ERASE_LINE = `\r${ESC}2K`;

/** Bookkeeping of one bar: values, a window of (time, value) samples, start time. */
export class BarState {
  value = 0;
  info = '';
  readonly startedAt: number;
  private samples: [number, number][] = [];

  constructor(
    public label: string,
    public total: number,
    public readonly unit: BarUnit,
    private readonly now: () => number,
  ) {
    this.startedAt = now();
    this.samples.push([this.startedAt, 0]);
  }

  update(value: number, info?: string): void {
    this.value = value;
    if (info !== undefined) this.info = info;
    const t = this.now();
    const last = this.samples[this.samples.length - 1]!;
    if (t === last[0]) last[1] = value;
    else this.samples.push([t, value]);
    // keep the window, and always two samples to measure a rate across
    while (this.samples.length > 2 && t - this.samples[1]![0] > RATE_WINDOW_MS) this.samples.shift();
  }

  elapsedMs(): number {
    return this.now() - this.startedAt;
  }

  /** Units per second over the window, or undefined while not measurable. */
  rate(): number | undefined {
    const first = this.samples[0]!;
    const last = this.samples[this.samples.length - 1]!;
    const dt = (last[0] - first[0]) / 1000;
    if (dt <= 0) return undefined;
    const r = (last[1] - first[1]) / dt;
    return Number.isFinite(r) && r > 0 ? r : undefined;
  }

  /** Seconds to go, or undefined when there is nothing sensible to say yet. */
  etaSeconds(): number | undefined {
    if (this.total <= 0 || this.value >= this.total) return this.value >= this.total && this.total > 0 ? 0 : undefined;
    if (this.elapsedMs() < ETA_MIN_ELAPSED_MS || this.value <= 0) return undefined;
    const r = this.rate();
    return r === undefined ? undefined : (this.total - this.value) / r;
  }

  /** Units per second since the start (for the closing line). */
  averageRate(): number | undefined {
    const s = this.elapsedMs() / 1000;
    return s > 0 && this.value > 0 ? this.value / s : undefined;
  }
}

/** 1536 → "1.5 KiB". */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${units[i]}`;
}

/** Bytes per second in decimal megabytes: 98_300_000 → "98.3 MB/s". */
export function formatByteRate(bytesPerSecond: number): string {
  const mb = bytesPerSecond / 1e6;
  if (mb >= 1000) return `${(mb / 1000).toFixed(2)} GB/s`;
  return `${mb.toFixed(mb >= 100 ? 0 : mb >= 10 ? 1 : 2)} MB/s`;
}

/** A duration for humans: 0.42 → "0.4 s", 75 → "1m15s", 7300 → "2h02m". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const s = Math.round(seconds);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  if (s < 100 * 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86400)}d${String(Math.floor((s % 86400) / 3600)).padStart(2, '0')}h`;
}

/** "ETA 1m15s", or "ETA --" while unknown. */
export function formatEta(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return 'ETA --';
  return `ETA ${formatDuration(seconds)}`;
}

function amount(b: BarState, v: number): string {
  return b.unit === 'bytes' ? formatBytes(v) : String(Math.round(v));
}

function rateText(b: BarState, r: number | undefined): string {
  if (r === undefined) return b.unit === 'bytes' ? '-- MB/s' : '';
  return b.unit === 'bytes' ? formatByteRate(r) : `${r >= 10 ? Math.round(r) : r.toPrecision(2)}/s`;
}

/** One bar as a line of at most `columns` characters (plain text; never wraps). */
export function barLine(b: BarState, columns: number): string {
  const frac = b.total > 0 ? Math.min(1, Math.max(0, b.value / b.total)) : 0;
  const filled = Math.round(frac * BAR_CELLS);
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(BAR_CELLS - filled)}]`;
  const pct = `${Math.floor(frac * 100)}%`.padStart(4);
  const counts = b.total > 0 ? `${amount(b, b.value)}/${amount(b, b.total)}` : amount(b, b.value);
  const parts = [b.label, bar, pct, counts, rateText(b, b.rate()), formatEta(b.etaSeconds())].filter((s) => s !== '');
  let line = parts.join('  ');
  if (b.info) line += `  ${b.info}`;
  const max = Math.max(10, columns - 1);
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** The closing line of a finished bar: "convert: 2.80 GiB in 12.3 s (241 MB/s)". */
export function closingLine(b: BarState, what?: string): string {
  const secs = b.elapsedMs() / 1000;
  const r = b.averageRate();
  // a rate of generic items (phases, percent) says nothing: throughput only for bytes
  const rate = r === undefined || b.unit !== 'bytes' ? '' : ` (${formatByteRate(r)})`;
  return `${b.label}: ${what ?? amount(b, b.value)} in ${formatDuration(secs)}${rate}`;
}

/** Draws the active bars of one stream in place. */
export class BarRenderer {
  private readonly bars: BarState[] = [];
  private drawn = 0;
  private lastDraw = -Infinity;

  constructor(
    private readonly stream: BarStream,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get active(): number {
    return this.bars.length;
  }

  add(b: BarState): void {
    this.bars.push(b);
    this.draw(true);
  }

  remove(b: BarState): void {
    const i = this.bars.indexOf(b);
    if (i >= 0) this.bars.splice(i, 1);
    this.draw(true);
  }

  /** Redraw (throttled unless `force`). */
  draw(force = false): void {
    const t = this.now();
    if (!force && t - this.lastDraw < REDRAW_INTERVAL_MS) return;
    this.lastDraw = t;
    const cols = this.stream.columns && this.stream.columns > 0 ? this.stream.columns : DEFAULT_COLUMNS;
    const lines = this.bars.map((b) => barLine(b, cols));
    this.stream.write(this.erase() + lines.join('\n'));
    this.drawn = lines.length;
  }

  /** Print a whole line above the bars (the bars are redrawn under it). */
  log(text: string): void {
    const line = text.endsWith('\n') ? text : `${text}\n`;
    const cols = this.stream.columns && this.stream.columns > 0 ? this.stream.columns : DEFAULT_COLUMNS;
    const bars = this.bars.map((b) => barLine(b, cols));
    this.stream.write(this.erase() + line + bars.join('\n'));
    this.drawn = bars.length;
  }

  /** Erase every bar and forget them (on exit, error or result). */
  clear(): void {
    this.bars.length = 0;
    if (this.drawn > 0) this.stream.write(this.erase());
    this.drawn = 0;
  }

  /** Escape codes that erase the lines drawn last time and leave the cursor at the start of the first. */
  private erase(): string {
    if (this.drawn === 0) return '';
    return ERASE_LINE + `${ESC}1A${ESC}2K`.repeat(this.drawn - 1);
  }
}
