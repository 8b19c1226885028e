/**
 * This machine's reference ceilings, measured in the same run as the kernels:
 * - fp32 multiply-add throughput on all threads (the portable SIMD-128 probe of wasm-fma.ts, or the
 *   native addon's SGEMM when the kernel facade offers one — see kernels.ts);
 * - memory bandwidth: every thread copies its own 64 MiB buffer with TypedArray.set (a memmove), counted
 *   as read + write bytes, like STREAM "copy".
 * Each probe runs on `threads` worker threads at once; the figure is total work / wall time.
 */
import { Worker } from 'node:worker_threads';
import { throwIfAborted } from '../errors.js';
import { measureNativePeak, nativePeakAvailable } from './native-peak.js';
import type { PeakResult } from './peak-result.js';
import { ACCUMULATORS, FLOPS_PER_ITER, fmaModuleBytes } from './wasm-fma.js';

/** Per-thread copy buffer: far larger than any last-level cache, small enough for 2-core CI machines. */
export const COPY_BUFFER_BYTES = 64 * 1024 * 1024;

const WORKER_SRC = `
const { parentPort, workerData } = require('node:worker_threads');
const { kind, seconds, wasm, bytes } = workerData;
let work = 0, t0, t1;
if (kind === 'fma') {
  const { exports } = new WebAssembly.Instance(new WebAssembly.Module(wasm));
  let iters = 1e5;
  exports.run(iters);
  for (;;) { const s = performance.now(); exports.run(iters); if (performance.now() - s > 20) break; iters *= 2; }
  parentPort.postMessage('ready');
  parentPort.once('message', () => {
    t0 = performance.now();
    while (performance.now() - t0 < seconds * 1000) { exports.run(iters); work += iters; }
    t1 = performance.now();
    parentPort.postMessage({ work, t0, t1 });
  });
} else {
  const n = bytes / 8, a = new Float64Array(n).fill(1), b = new Float64Array(n);
  b.set(a); a.set(b);
  parentPort.postMessage('ready');
  parentPort.once('message', () => {
    t0 = performance.now();
    let flip = false;
    while (performance.now() - t0 < seconds * 1000) { (flip ? a : b).set(flip ? b : a); flip = !flip; work += 2 * bytes; }
    t1 = performance.now();
    parentPort.postMessage({ work, t0, t1 });
  });
}`;

interface ProbeResult {
  /** Total work units (FMA iterations or bytes) per second over all threads. */
  rate: number;
  threads: number;
  seconds: number;
}

async function probe(kind: 'fma' | 'copy', threads: number, seconds: number, signal?: AbortSignal): Promise<ProbeResult> {
  throwIfAborted(signal);
  const wasm = kind === 'fma' ? fmaModuleBytes() : undefined;
  const workers = Array.from({ length: threads }, () => new Worker(WORKER_SRC, { eval: true, workerData: { kind, seconds, wasm, bytes: COPY_BUFFER_BYTES } }));
  const onAbort = () => workers.forEach((w) => void w.terminate());
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const next = (w: Worker) =>
      new Promise<unknown>((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
        w.once('exit', (code) => reject(new Error(`benchmark worker exited with code ${code}`)));
      });
    await Promise.all(workers.map(next));
    const done = workers.map(next);
    workers.forEach((w) => w.postMessage('go'));
    const res = (await Promise.all(done)) as { work: number; t0: number; t1: number }[];
    // Each worker's clock has its own origin, so each rate uses that worker's own span; the workers ran
    // concurrently for the same duration, so the sum of their rates is the machine's concurrent total.
    const rate = res.reduce((s, r) => s + r.work / ((r.t1 - r.t0) / 1000), 0);
    return { rate, threads, seconds };
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await Promise.all(workers.map((w) => w.terminate()));
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
