/**
 * Output policy for every command: results go to stdout (human text, or exactly one JSON document with
 * --json); logs, warnings and progress bars go to stderr. --quiet prints nothing but errors (and the
 * --json document when asked for). Errors are one line naming their code: `m1kit <cmd>: error E_X: …`. Progress bars only when stderr is a TTY and
 * neither --json nor --quiet is given.
 */
import chalk from 'chalk';
import cliProgress from 'cli-progress';

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
  stop(): void;
}

const SCHEMA_VERSION = 1;

export class Reporter {
  readonly opts: GlobalOptions;
  private readonly command: string;
  private readonly tty: boolean;
  private multibar: cliProgress.MultiBar | undefined;
  /** stdout carries exactly one JSON document: set once it has been written. */
  private emitted = false;

  constructor(command: string, opts: GlobalOptions, stderrIsTTY = Boolean(process.stderr.isTTY)) {
    this.command = command;
    this.opts = opts;
    this.tty = stderrIsTTY;
    if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') chalk.level = 0;
  }

  get showProgress(): boolean {
    return this.tty && !this.opts.json && !this.opts.quiet;
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

  /** A progress bar on stderr; a no-op object when progress is disabled. */
  progress(label: string, total: number, unit: 'bytes' | 'items' = 'items'): Progress {
    if (!this.showProgress) return { update() {}, setTotal() {}, stop() {} };
    if (!this.multibar) {
      this.multibar = new cliProgress.MultiBar(
        {
          stream: process.stderr,
          clearOnComplete: false,
          hideCursor: true,
          format: `{label} [{bar}] {percentage}% {value_fmt}/{total_fmt} ETA {eta_formatted} {info}`,
          formatValue: (v, _o, type) => (type === 'value' || type === 'total' ? String(v) : String(v)),
        },
        cliProgress.Presets.shades_classic,
      );
    }
    const fmt = (v: number) => (unit === 'bytes' ? formatBytes(v) : String(v));
    const bar = this.multibar.create(total, 0, { label, info: '', value_fmt: fmt(0), total_fmt: fmt(total) });
    let t = total;
    return {
      update: (value, info = '') => bar.update(value, { info, value_fmt: fmt(value), total_fmt: fmt(t) }),
      setTotal: (nt) => {
        t = nt;
        bar.setTotal(nt);
      },
      stop: () => {
        bar.stop();
      },
    };
  }

  stopProgress(): void {
    this.multibar?.stop();
    this.multibar = undefined;
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
    const line = msg.endsWith('\n') ? msg : msg + '\n';
    // while bars are drawn, print through them so the message does not garble a redraw
    if (this.multibar) this.multibar.log(line);
    else process.stderr.write(line);
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

/** Render rows as an aligned plain-text table. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) => r.map((s, c) => (c === 0 ? s.padEnd(widths[c]!) : s.padStart(widths[c]!))).join('  ');
  return [chalk.bold(line(headers)), ...cells.slice(1).map(line)].join('\n');
}
