/**
 * CPU share of the timed kernel calls: process CPU time (every thread) ÷ (wall time × threads) while a
 * kernel runs. Near 1 when the kernel had the cores to itself; lower when other processes took CPU time
 * on a shared machine. `bench compare` divides a rate by its share to compare work per available CPU
 * second, which removes most of the run-to-run noise of a busy machine (README: bench compare).
 */
import type { KernelBackend, SoftmaxParams } from './backend.js';

export type MeteredKernel = 'lightning_prefill' | 'lightning_prefill_bf16' | 'lightning_decode' | 'softmax_prefill' | 'softmax_decode';

interface Tally {
  cpuMicros: number;
  wallMs: number;
}

export interface CpuMeter {
  /** The backend whose calls are metered (same results as the wrapped one). */
  backend: KernelBackend;
  /** Per-kernel share since the last take(), and start over. */
  take(): Partial<Record<MeteredKernel, number>>;
}

/**
 * Wrap `backend` so that every kernel call is metered.
 * @example const m = meterBackend(backend, 2); await timeKernels({ backend: m.backend, … }); m.take().lightning_prefill
 */
export function meterBackend(backend: KernelBackend, threads: number): CpuMeter {
  let tallies = new Map<MeteredKernel, Tally>();
  const metered = <P, R>(kernel: (p: P) => MeteredKernel, call: (p: P) => Promise<R>) => async (p: P): Promise<R> => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    try {
      return await call(p);
    } finally {
      const c = process.cpuUsage(c0);
      const t = tallies.get(kernel(p)) ?? { cpuMicros: 0, wallMs: 0 };
      t.cpuMicros += c.user + c.system;
      t.wallMs += performance.now() - t0;
      tallies.set(kernel(p), t);
    }
  };
  const wrapped: KernelBackend = {
    ...backend,
    lightningPrefill: metered(() => 'lightning_prefill', (p) => backend.lightningPrefill(p)),
    ...(backend.lightningPrefillBf16 ? { lightningPrefillBf16: metered(() => 'lightning_prefill_bf16', (p) => backend.lightningPrefillBf16!(p)) } : {}),
    lightningDecode: metered(() => 'lightning_decode', (p) => backend.lightningDecode(p)),
    // decode is one query over the cache, prefill a block of queries
    softmaxAttention: metered((p: SoftmaxParams) => (p.n === 1 ? 'softmax_decode' : 'softmax_prefill'), (p) => backend.softmaxAttention(p)),
  };
  return {
    backend: wrapped,
    take: () => {
      const out: Partial<Record<MeteredKernel, number>> = {};
      for (const [k, t] of tallies) if (t.wallMs > 0) out[k] = t.cpuMicros / 1000 / (t.wallMs * threads);
      tallies = new Map();
      return out;
    },
  };
}
