/**
 * The one message protocol between a WorkerHost (host.ts) and the worker module it runs (serve.ts):
 * the host calls an operation by name with an id, may cancel it, and gets exactly one result or error
 * for that id, with any number of events before it. Errors cross the thread boundary as plain objects
 * and are rebuilt with their m1kit class, code, hint and file (errno errors keep code, syscall and path,
 * so ENOSPC still maps to E_DISK_FULL).
 */
import {
  ExitCode, InputError, InterruptedError, M1kitError, NetworkError, UnavailableError, VerificationError, type CodedErrorClass, type ExitCodeValue, type M1kitErrorOptions,
} from '../errors.js';

export type HostMessage = { t: 'call'; id: number; op: string; args: unknown } | { t: 'cancel'; id: number };

export type WorkerMessage =
  | { t: 'result'; id: number; value: unknown }
  | { t: 'error'; id: number; error: PlainError }
  | { t: 'event'; id: number; event: unknown };

/** An error as a structured-clone safe object. */
export type PlainError = Record<string, unknown>;

/** `err` with its name, message and the fields m1kit and errno errors carry. */
export function plainError(err: unknown): PlainError {
  const e = err as Record<string, unknown> & Error;
  const out: PlainError = { name: e?.name, message: e?.message ?? String(err) };
  for (const k of ['code', 'exitCode', 'hint', 'file', 'syscall', 'errno', 'path']) if (e && e[k] !== undefined) out[k] = e[k];
  return out;
}

const CLASS_OF_EXIT: Partial<Record<number, CodedErrorClass>> = {
  [ExitCode.badInput]: InputError,
  [ExitCode.verification]: VerificationError,
  [ExitCode.unavailable]: UnavailableError,
  [ExitCode.network]: NetworkError,
};

/** The error a worker posted, rebuilt with its class (NetworkError, InputError, …), code, hint and file. */
export function rebuildError(e: PlainError): Error {
  const message = String(e.message);
  if (e.code === 'E_INTERRUPTED') return new InterruptedError(message);
  if (typeof e.code === 'string' && typeof e.exitCode === 'number') {
    const opts: M1kitErrorOptions = {};
    if (typeof e.hint === 'string') opts.hint = e.hint;
    if (typeof e.file === 'string') opts.file = e.file;
    const Cls = CLASS_OF_EXIT[e.exitCode];
    return Cls ? new Cls(e.code, message, opts) : new M1kitError(e.code, e.exitCode as ExitCodeValue, message, opts);
  }
  // errno errors keep code/syscall/path, so ENOSPC still maps to E_DISK_FULL
  return Object.assign(new Error(message), e);
}
