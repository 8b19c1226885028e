/**
 * Machine ceilings measured through the native addon (same ISA and threads as the kernels):
 * - FMA peak: the addon's FMA probe runs `iters` × 12 independent vector FMA chains per thread
 *   (2 FLOPs per lane per FMA; 16 lanes AVX-512, 8 AVX2, 1 scalar);
 * - SGEMM: y[m, n] = x[m, k] · W[n, k]ᵀ in fp32, 2·m·n·k FLOPs per call;
 * - copy bandwidth: threaded memcpy, read + write bytes.
 */
import * as native from '../../native/index.js';
import { throwIfAborted } from '../errors.js';
import type { PeakResult } from './peak-result.js';
import { randomFill } from './selfcheck.js';

/** Accumulator chains in the addon's FMA probe. */
const FMA_CHAINS = 12;
/** SGEMM shape: a 256-row activation block against a 2048×2048 fp32 weight (16 MiB, beyond L2). */
const GEMM = { m: 256, k: 2048, n: 2048 };
/** Copy buffer per thread (64 MiB), far beyond the last-level cache; at most 256 MiB per buffer in all. */
const COPY_FLOATS_PER_THREAD = 16 * 1024 * 1024;
const COPY_FLOATS_MAX = 64 * 1024 * 1024;

const now = () => performance.now() / 1000;

/** Repeat `fn` (one unit of `work` each) for `seconds` after one warm-up call; returns work per second. */
async function rate(seconds: number, work: number, fn: () => Promise<unknown>, signal?: AbortSignal): Promise<number> {
  await fn();
  let done = 0;
  const t0 = now();
  while (done === 0 || now() - t0 < seconds) {
    throwIfAborted(signal);
    await fn();
    done += work;
  }
  return done / (now() - t0);
}

export const nativePeakAvailable = (): boolean => native.nativeAvailable();

export async function measureNativePeak(p: { threads: number; seconds: number; signal?: AbortSignal; streamBytes?: number }): Promise<PeakResult & { sgemmGflops: number; sgemmMethod: string }> {
  const st = native.nativeStatus();
  const simd = st.slots.fma_peak ?? st.simd; // the level whose FMA probe runs
  const lanes = native.simdLevelInfo()?.lanes[simd] ?? 1;
  const threads = p.threads;
  let iters = 1 << 16;
  for (;;) {
    const t = now();
    await native.fmaPeak({ iters, threads });
    if (now() - t > 0.05 || iters > 2 ** 36) break;
    iters *= 4;
  }
  const fmaCalls = await rate(p.seconds, 1, () => native.fmaPeak({ iters, threads }), p.signal);
  const fmaGflops = (fmaCalls * iters * FMA_CHAINS * lanes * 2 * threads) / 1e9;

  const x = randomFill(new Float32Array(GEMM.m * GEMM.k), 41, 0.1);
  const w = randomFill(new Float32Array(GEMM.n * GEMM.k), 42, 0.1);
  const y = new Float32Array(GEMM.m * GEMM.n);
  const gemmCalls = await rate(p.seconds, 1, () => native.gemm({ x, w, y, m: GEMM.m, k: GEMM.k, nOut: GEMM.n, threads }), p.signal);
  const sgemmGflops = (gemmCalls * 2 * GEMM.m * GEMM.n * GEMM.k) / 1e9;

  const n = Math.min(COPY_FLOATS_MAX, COPY_FLOATS_PER_THREAD * threads);
  const src = new Float32Array(n).fill(1);
  const dst = new Float32Array(n);
  const copies = await rate(p.seconds, 1, () => native.copy({ src, dst, n, threads }), p.signal);
  const extra: Partial<PeakResult> = {};
  const bf16Level = st.slots.bf16_peak;
  if (bf16Level) {
    let bi = 1 << 16;
    for (;;) {
      const t = now();
      await native.bf16Peak({ iters: bi, threads });
      if (now() - t > 0.05 || bi > 2 ** 36) break;
      bi *= 4;
    }
    let flops = 0;
    const t0 = now();
    while (flops === 0 || now() - t0 < p.seconds) flops += await native.bf16Peak({ iters: bi, threads });
    extra.bf16Gflops = flops / (now() - t0) / 1e9;
    extra.bf16Method = `native ${bf16Level} bf16 dot-product probe (${bf16Level === 'amx' ? 'tdpbf16ps, 4 tiles' : 'vdpbf16ps, 12 chains × 16 lanes × 2 pairs'} per thread), ${threads} threads`;
  }
  if (p.streamBytes) {
    const sn = Math.max(16, Math.floor(p.streamBytes / 4));
    const buf = new Float32Array(sn).fill(1);
    const streams = await rate(p.seconds, 1, () => native.stream({ buf, n: sn, threads }), p.signal);
    extra.streamGBs = (streams * 2 * sn * 4) / 1e9;
    extra.streamMethod = `native in-place stream (x ← x·1, read + write) of ${(sn * 4 / 2 ** 20).toFixed(1)} MiB, the decode state's size, ${threads} threads`;
  }
  return {
    ...extra,
    fmaGflops,
    fmaMethod: `native ${simd} FMA probe, ${FMA_CHAINS} chains × ${lanes} lanes per thread, ${threads} threads`,
    sgemmGflops,
    sgemmMethod: `native ${simd} SGEMM ${GEMM.m}×${GEMM.k} · (${GEMM.n}×${GEMM.k})ᵀ fp32, ${threads} threads`,
    bandwidthGBs: (copies * 2 * n * 4) / 1e9,
    bandwidthMethod: `native threaded memcpy of ${(n * 4) / 2 ** 20} MiB, read + write bytes, ${threads} threads`,
  };
}
