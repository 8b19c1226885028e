/**
 * This machine's reference ceilings, measured in the same run as the kernels:
 * - fp32 multiply-add throughput on all threads (the portable SIMD-128 probe of wasm-fma.ts, or the
 *   native addon's SGEMM when the kernel facade offers one — see kernels.ts);
 * - memory bandwidth: every thread copies its own 64 MiB buffer with TypedArray.set (a memmove), counted
 *   as read + write bytes, like STREAM "copy".
 * Each probe runs on `threads` worker threads at once; the figure is total work / wall time.
 */
import { throwIfAborted } from '../errors.js';
import { workerEntry } from '../worker/entry.js';
import { WorkerHost, type Crash } from '../worker/host.js';
import { measureNativePeak, nativePeakAvailable } from './native-peak.js';
import type { PeakResult } from './peak-result.js';
import type { PeakProbe } from './peak-probe.js';
import { ACCUMULATORS, FLOPS_PER_ITER, fmaModuleBytes } from './wasm-fma.js';

/** Per-thread copy buffer: far larger than any last-level cache, small enough for 2-core CI machines. */
export const COPY_BUFFER_BYTES = 64 * 1024 * 1024;

interface ProbeResult {
  /** Total work units (FMA iterations or bytes) per second over all threads. */
  rate: number;
  threads: number;
  seconds: number;
}

async function probe(kind: 'fma' | 'copy', threads: number, seconds: number, signal?: AbortSignal): Promise<ProbeResult> {
  throwIfAborted(signal);
  const entry = workerEntry('./peak-probe.js', import.meta.url);
  if (!entry) throw new Error('the peak probe worker module (peak-probe.js) is missing; reinstall m1kit');
  const wasm = kind === 'fma' ? fmaModuleBytes() : undefined;
  const crashError = (c: Crash) => (c.kind === 'error' ? c.error : new Error(`benchmark worker exited with code ${c.code}`));
  const workers = Array.from({ length: threads }, () => new WorkerHost<PeakProbe>(entry, { crashError }));
  const onAbort = () => workers.forEach((w) => void w.close());
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await Promise.all(workers.map((w) => w.call('prepare', { kind, wasm, bytes: COPY_BUFFER_BYTES })));
    // every thread starts as soon as all are prepared
    const res = await Promise.all(workers.map((w) => w.call('run', seconds)));
    // Each worker's clock has its own origin, so each rate uses that worker's own span; the workers ran
    // concurrently for the same duration, so the sum of their rates is the machine's concurrent total.
    const rate = res.reduce((s, r) => s + r.work / ((r.t1 - r.t0) / 1000), 0);
    return { rate, threads, seconds };
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await Promise.all(workers.map((w) => w.close()));
    throwIfAborted(signal);
  }
}

/**
 * Measure the FMA and bandwidth ceilings on `threads` threads, `seconds` each: through the native addon
 * when it is loaded (the kernels' own ISA), else with the portable probes of this file.
 * @example await measurePeak({ threads: 2, seconds: 1 })
 */
export async function measurePeak(p: { threads: number; seconds: number; signal?: AbortSignal; native?: boolean; streamBytes?: number }): Promise<PeakResult> {
  if (p.native ?? nativePeakAvailable()) return measureNativePeak(p);
  return measurePortablePeak(p);
}

/** The portable probes (wasm SIMD-128 multiply-add, TypedArray.set copy) on worker threads. */
export async function measurePortablePeak(p: { threads: number; seconds: number; signal?: AbortSignal }): Promise<PeakResult> {
  const fma = await probe('fma', p.threads, p.seconds, p.signal);
  const copy = await probe('copy', p.threads, p.seconds, p.signal);
  return {
    fmaGflops: (fma.rate * FLOPS_PER_ITER) / 1e9,
    fmaMethod: `wasm SIMD-128 mul+add, ${ACCUMULATORS} independent f32x4 chains, ${p.threads} threads (lower bound of the FMA peak: no 256/512-bit vectors, no fused FMA)`,
    bandwidthGBs: copy.rate / 1e9,
    bandwidthMethod: `TypedArray.set copy of ${COPY_BUFFER_BYTES / 2 ** 20} MiB per thread, read + write bytes, ${p.threads} threads`,
  };
}
