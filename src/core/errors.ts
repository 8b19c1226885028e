/**
 * Typed errors with stable codes. Core throws these; only cli/ (run.ts, main.ts) turns them into exit codes.
 *
 * Exit codes (documented in README): 0 ok · 1 internal bug · 2 usage · 3 bad input/format ·
 * 4 verification mismatch / regression · 5 native or device unavailable · 6 network · 130 interrupted.
 */
export const ExitCode = {
  ok: 0,
  internal: 1,
  usage: 2,
  badInput: 3,
  verification: 4,
  unavailable: 5,
  network: 6,
  interrupted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export interface M1kitErrorOptions {
  hint?: string;
  cause?: unknown;
  /** Path of the file the error is about, if any. */
  file?: string;
}

export class M1kitError extends Error {
  readonly code: string;
  readonly exitCode: ExitCodeValue;
  readonly hint?: string;
  readonly file?: string;

  constructor(code: string, exitCode: ExitCodeValue, message: string, opts: M1kitErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'M1kitError';
    this.code = code;
    this.exitCode = exitCode;
    if (opts.hint !== undefined) this.hint = opts.hint;
    if (opts.file !== undefined) this.file = opts.file;
  }
}

/** Invalid command-line usage detected after parsing (bad flag combination, bad value). */
export class UsageError extends M1kitError {
  constructor(message: string, opts?: M1kitErrorOptions) {
    super('E_USAGE', ExitCode.usage, message, opts);
  }
}

/** A class of m1kit error whose exit code is fixed by the class: `new Cls(code, message, opts)`. */
export type CodedErrorClass = new (code: string, message: string, opts?: M1kitErrorOptions) => M1kitError;

/** The base of each class below: its constructor takes a code and a message and sets the class's exit code. */
function withExitCode(exitCode: ExitCodeValue): CodedErrorClass {
  return class extends M1kitError {
    constructor(code: string, message: string, opts?: M1kitErrorOptions) {
      super(code, exitCode, message, opts);
    }
  };
}

/** Malformed or unexpected input data (file format, shapes, config). */
export class InputError extends withExitCode(ExitCode.badInput) {}

/** A verification or regression check failed (results differ beyond the threshold). */
export class VerificationError extends withExitCode(ExitCode.verification) {}

/** A native addon, CUDA device or optional engine is not available. */
export class UnavailableError extends withExitCode(ExitCode.unavailable) {}

/** Network or remote-server failure. */
export class NetworkError extends withExitCode(ExitCode.network) {}

/** The operation was aborted (SIGINT or AbortSignal). */
export class InterruptedError extends M1kitError {
  constructor(message = 'interrupted', opts?: M1kitErrorOptions) {
    super('E_INTERRUPTED', ExitCode.interrupted, message, opts);
  }
}

/** Throw InterruptedError if the signal is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new InterruptedError();
}
