/**
 * The addon behind a guard: `addonFor(op)` hands it only to the typed entry points of this folder (it is
 * not exported from the facade), and `nativeError` turns what the addon throws ({code, message} from C++,
 * TypeError/RangeError from the argument checks) into typed m1kit errors with the caller's stack.
 */
import { ExitCode, InputError, M1kitError, UnavailableError } from '../core/errors.js';
import { loadAddon } from './binding.js';
import type { RawAddon } from './raw.js';

/** True when the addon is loaded and usable (a failed M1KIT_SIMD request counts as unusable). */
export function nativeAvailable(): boolean {
  const s = loadAddon();
  return s.addon !== undefined && s.simdError === undefined;
}

/** The loaded addon, or an UnavailableError explaining why not (with possible fixes as the hint). */
export function addonFor(op: string): RawAddon {
  const s = loadAddon();
  if (s.simdError) throw new UnavailableError(s.simdError.code === 'E_SIMD_UNKNOWN' ? 'E_SIMD_UNKNOWN' : 'E_SIMD_UNSUPPORTED', `${op}: ${s.simdError.message}`);
  if (!s.addon) throw new UnavailableError('E_NATIVE_UNAVAILABLE', `${op}: native kernels unavailable: ${s.reason}`, { hint: s.hints.join('; ') });
  return s.addon;
}

/** Throw the UnavailableError of `addonFor` when the addon cannot run `op`. */
export function assertNative(op: string): void {
  addonFor(op);
}

/** Translate an error thrown or rejected by the addon into a typed m1kit error. */
export function nativeError(op: string, e: unknown): M1kitError {
  if (e instanceof M1kitError) return e;
  const err = e as { code?: string; message?: string; name?: string };
  const msg = `${op}: ${err?.message ?? String(e)}`;
  if (err?.name === 'TypeError' || err?.name === 'RangeError') return new InputError('E_NATIVE_ARGS', msg, { cause: e });
  if (err?.code === 'E_CUDA_UNAVAILABLE' || err?.code === 'E_CUDA') return new UnavailableError(err.code, msg, { cause: e });
  if (err?.code?.startsWith('E_SIMD')) return new UnavailableError(err.code, msg, { cause: e });
  return new M1kitError(err?.code ?? 'E_NATIVE_INTERNAL', ExitCode.internal, msg, { cause: e });
}

/** Run one asynchronous entry point of the addon as `op`; errors come back as typed m1kit errors. */
export async function callAsync<T>(op: string, fn: (addon: RawAddon) => Promise<T>): Promise<T> {
  const addon = addonFor(op);
  try {
    return await fn(addon);
  } catch (e) {
    throw nativeError(op, e);
  }
}

/** Run one synchronous entry point of the addon as `op`. */
export function callSync<T>(op: string, fn: (addon: RawAddon) => T): T {
  const addon = addonFor(op);
  try {
    return fn(addon);
  } catch (e) {
    throw nativeError(op, e);
  }
}
