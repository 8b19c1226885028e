/**
 * Output policy for every command: results go to stdout (human text, or exactly one JSON document with
 * --json); logs, warnings and progress bars go to stderr. --quiet prints nothing but errors (and the
 * --json document when asked for). Errors are one line naming their code: `m1kit <cmd>: error E_X: …`. Progress bars only when stderr is a TTY and
 * neither --json nor --quiet is given.
 */
import chalk from 'chalk';
import { BarRenderer, BarState, closingLine, type BarStream, type BarUnit } from './progress.js';

export { formatBytes } from './progress.js';

export interface GlobalOptions {
  json: boolean;
  quiet: boolean;
  verbose: boolean;
}

export interface Progress {
  /** Set absolute progress (units as given to `progress()`). */
  update(value: number, info?: string): void;
  /** Grow the total (e.g. when more work is discovered). */
  setTotal(total: number): void;
  /** The amount done so far. */
  value(): number;
  /** Rename the bar (e.g. the phase of a multi-phase run). */
  setLabel(label: string): void;
  /** Remove the bar from the screen; prints nothing. Safe to call more than once. */
  stop(): void;
  /**
   * Remove the bar and print its closing line in its place (stderr, hidden by --quiet and --json):
   * "label: <what> in <elapsed> (<throughput>)"; `what` defaults to the amount done.
   */
  finish(what?: string): void;
}

const SCHEMA_VERSION = 1;

export class Reporter {
  readonly opts: GlobalOptions;
  private readonly command: string;
  private readonly stream: BarStream;
  private readonly now: () => number;
  private bars: BarRenderer | undefined;
  /** stdout carries exactly one JSON document: set once it has been written. */
  private emitted = false;

  constructor(command: string, opts: GlobalOptions, stderr: BarStream = process.stderr, now: () => number = () => performance.now()) {
    this.command = command;
    this.opts = opts;
    this.stream = stderr;
    this.now = now;
    if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') chalk.level = 0;
  }

  /** Bars are drawn only on a terminal, and never with --json or --quiet. */
  get showProgress(): boolean {
    return Boolean(this.stream.isTTY) && !this.opts.json && !this.opts.quiet;
  }

  /** Informational message (stderr), hidden by --quiet and --json. */
  info(msg: string): void {
    if (!this.opts.quiet && !this.opts.json) this.writeErr(msg);
  }

  /** Detail shown only with --verbose (stderr). */
  debug(msg: string): void {
    if (this.opts.verbose) this.writeErr(chalk.dim(msg));
  }

  /** A warning (stderr); --quiet hides it, only errors remain. */
  warn(msg: string): void {
    if (!this.opts.quiet) this.writeErr(chalk.yellow(`warning: ${msg}`));
  }

  /**
   * A progress bar on stderr (drawn only when showProgress). The bookkeeping runs either way, so
   * finish() prints the same closing line on a terminal, in a log file or in CI.
   */
  progress(label: string, total: number, unit: BarUnit = 'items'): Progress {
    const state = new BarState(label, total, unit, this.now);
    const draw = this.showProgress ? (this.bars ??= new BarRenderer(this.stream, this.now)) : undefined;
    draw?.add(state);
    let live = true;
    const end = () => {
      if (!live) return false;
      live = false;
      draw?.remove(state);
      return true;
    };
    return {
      update: (value, info) => {
        state.update(value, info);
        if (live) draw?.draw();
      },
      setTotal: (t) => {
        state.total = t;
      },
      value: () => state.value,
      setLabel: (l) => {
        state.label = l;
      },
      stop: () => void end(),
      finish: (what) => {
        if (end()) this.info(closingLine(state, what));
      },
    };
  }

  /** Erase every bar (before a result or an error, so nothing stale stays on screen). */
  stopProgress(): void {
    this.bars?.clear();
  }

  /** Text written to stdout as it is produced (e.g. generated tokens); nothing with --json or --quiet. */
  write(text: string): void {
    if (this.opts.json || this.opts.quiet || text.length === 0) return;
    this.stopProgress();
    process.stdout.write(text);
  }

  /** Emit the command's result: one JSON document with --json, else the human rendering on stdout. */
  result(result: unknown, human?: () => string): void {
    this.stopProgress();
    if (this.opts.json) {
      if (this.emitted) throw new Error(`${this.command}: result emitted twice`);
      this.emitted = true;
      process.stdout.write(JSON.stringify({ schemaVersion: SCHEMA_VERSION, command: this.command, result }, null, 2) + '\n');
    } else if (human && !this.opts.quiet) {
      const text = human();
      if (text.length > 0) process.stdout.write(text.endsWith('\n') ? text : text + '\n');
    }
  }

  /** Emit an error document (JSON mode) or a one-line message (human mode). */
  error(err: { code: string; message: string; hint?: string | undefined }, stack?: string): void {
    this.stopProgress();
    if (this.opts.json && !this.emitted) {
      this.emitted = true;
      const e: Record<string, string> = { code: err.code, message: err.message };
      if (err.hint) e.hint = err.hint;
      process.stdout.write(JSON.stringify({ schemaVersion: SCHEMA_VERSION, command: this.command, error: e }, null, 2) + '\n');
    }
    const who = this.command === 'm1kit' ? 'm1kit' : `m1kit ${this.command}`;
    this.writeErr(chalk.red(`${who}: error ${err.code}: ${err.message}`) + (err.hint ? `\n  hint: ${err.hint}` : ''));
    if (stack && this.opts.verbose) this.writeErr(chalk.dim(stack));
  }

  private writeErr(msg: string): void {
    // while bars are drawn, print above them so the message does not garble a redraw
    if (this.bars && this.bars.active > 0) this.bars.log(msg);
    else this.stream.write(msg.endsWith('\n') ? msg : msg + '\n');
  }
}

/** Render rows as an aligned plain-text table. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) => r.map((s, c) => (c === 0 ? s.padEnd(widths[c]!) : s.padStart(widths[c]!))).join('  ');
  return [chalk.bold(line(headers)), ...cells.slice(1).map(line)].join('\n');
}
