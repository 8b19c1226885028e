/**
 * Shared option handling for the kernel wrappers: backend choice and thread count.
 * `backend`: 'auto' (native when the addon is loaded, else the TypeScript reference), 'native'
 * (UnavailableError without the addon), 'ref' (always the TypeScript reference of `<op>.ref.ts`) or,
 * for the ops that have a GPU kernel (lightning prefill and decode), 'cuda' (UnavailableError without a
 * CUDA device). 'auto' never picks CUDA: its bf16 inputs would make results depend on the machine.
 */
import os from 'node:os';
import { InputError, UnavailableError } from '../errors.js';
import { assertNative, cudaStatus, nativeAvailable } from '../../native/index.js';

/** The CPU implementations every op has. */
export type CpuBackend = 'auto' | 'native' | 'ref';
export type Backend = CpuBackend | 'cuda';

export interface KernelOptions<B extends Backend = CpuBackend> {
  /** Worker threads for the native kernel (default: all available cores). */
  threads?: number;
  /** Which implementation to run (default 'auto'). */
  backend?: B;
}

/** os.availableParallelism(), asked once (kernels are called per band, often thousands of times a run). */
let cores: number | undefined;

/** Default thread count: M1KIT_THREADS if set, else os.availableParallelism(). */
export function defaultThreads(): number {
  const env = Number(process.env.M1KIT_THREADS);
  if (Number.isInteger(env) && env > 0) return env;
  return (cores ??= Math.max(1, os.availableParallelism?.() ?? os.cpus().length));
}

export function threadsOf(o: KernelOptions<Backend>): number {
  const t = o.threads ?? defaultThreads();
  if (!Number.isInteger(t) || t < 1 || t > 256) throw new InputError('E_THREADS', `threads must be an integer in [1, 256], got ${t}`);
  return t;
}

/** Decide whether to call the addon's CPU kernel for `op` (false for 'ref'; 'cuda' is the caller's to handle first). */
export function useNative(o: KernelOptions<Backend>, op: string): boolean {
  const b = o.backend ?? 'auto';
  if (b === 'ref') return false;
  if (b !== 'auto' && b !== 'native') {
    const what = b === 'cuda' ? "backend 'cuda': no CUDA kernel for this op (lightning prefill and decode have one)" : `unknown backend ${JSON.stringify(b)}`;
    throw new InputError('E_KERNEL_BACKEND', `${op}: ${what}; expected 'auto', 'native' or 'ref'`);
  }
  if (b === 'native') {
    assertNative(op);
    return true;
  }
  return nativeAvailable();
}

/** UnavailableError (E_CUDA_UNAVAILABLE, exit 5) unless the CUDA library loaded. */
export function requireCuda(op: string): void {
  const c = cudaStatus();
  if (!c.loaded) throw new UnavailableError('E_CUDA_UNAVAILABLE', `${op}: CUDA unavailable: ${c.reason ?? 'unknown reason'}`);
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
