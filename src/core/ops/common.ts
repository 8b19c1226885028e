/**
 * Shared option handling for the kernel wrappers: backend choice and thread count.
 * `backend`: 'auto' (native when the addon is loaded, else the TypeScript reference), 'native'
 * (UnavailableError without the addon) or 'ref' (always the TypeScript reference).
 */
import os from 'node:os';
import { InputError } from '../errors.js';
import { nativeAvailable, requireNative } from '../../native/index.js';

export type Backend = 'auto' | 'native' | 'ref';

export interface KernelOptions {
  /** Worker threads for the native kernel (default: all available cores). */
  threads?: number;
  /** Which implementation to run (default 'auto'). */
  backend?: Backend;
}

/** os.availableParallelism(), asked once (kernels are called per band, often thousands of times a run). */
let cores: number | undefined;

/** Default thread count: M1KIT_THREADS if set, else os.availableParallelism(). */
export function defaultThreads(): number {
  const env = Number(process.env.M1KIT_THREADS);
  if (Number.isInteger(env) && env > 0) return env;
  return (cores ??= Math.max(1, os.availableParallelism?.() ?? os.cpus().length));
}

export function threadsOf(o: KernelOptions): number {
  const t = o.threads ?? defaultThreads();
  if (!Number.isInteger(t) || t < 1 || t > 256) throw new InputError('E_THREADS', `threads must be an integer in [1, 256], got ${t}`);
  return t;
}

/** Decide whether to call the addon for `op`. */
export function useNative(o: KernelOptions, op: string): boolean {
  const b = o.backend ?? 'auto';
  if (b === 'ref') return false;
  if (b === 'native') {
    requireNative(op);
    return true;
  }
  return nativeAvailable();
}

export function checkDims(op: string, dims: Record<string, number>): void {
  for (const [k, v] of Object.entries(dims)) {
    if (!Number.isInteger(v) || v < 0) throw new InputError('E_KERNEL_SHAPE', `${op}: ${k} must be a non-negative integer, got ${v}`);
  }
}

export function checkLength(op: string, name: string, a: ArrayLike<number> | undefined, expected: number): void {
  if (!a || a.length !== expected) {
    throw new InputError('E_KERNEL_SHAPE', `${op}: ${name} must have ${expected} elements, found ${a ? a.length : 'none'}`);
  }
}
