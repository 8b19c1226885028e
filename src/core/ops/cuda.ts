/**
 * CUDA kernels (kernels/cuda) beyond lightning attention (whose tensor-core prefill and batched decode
 * are `lightningPrefill` / `lightningDecode` with `backend: 'cuda'`, core/ops/lightning.ts): block FP8
 * quantization and the same-run measurements of `bench kernels --device cuda`. Available only when the
 * CUDA library was compiled and a device exists; otherwise each call throws UnavailableError (exit code
 * 5). Inputs are fp32 and rounded to bf16 on upload.
 *
 * `cudaLightningPrefillEmulated` needs no device: it runs the GPU prefill's tile decomposition
 * (kernels/cuda/lightning_tc_plan.h: chunks of 64 rows, segments, the state scan, the bf16 rounding
 * points) on the host, so the decomposition is tested on every machine.
 */
import * as native from '../../native/index.js';
import { InputError } from '../errors.js';
import { requireCuda } from './common.js';
import type { LightningInput, LightningOutput } from './lightning.js';

/** Rows of one chunk of the tensor-core prefill (kernels/cuda/lightning_tc_plan.h kChunk). */
export const CUDA_LIGHTNING_CHUNK = 64;

function buffers(a: LightningInput): { o: Float32Array; state: Float32Array } {
  return { o: a.out ?? new Float32Array(a.n * a.h * a.d), state: a.state ? a.state.slice() : new Float32Array(a.h * a.d * a.d) };
}

/**
 * The tensor-core prefill computed on the host with the GPU's decomposition. `segmentTokens` (a
 * multiple of CUDA_LIGHTNING_CHUNK; default: what the GPU path picks) sets where the state is carried
 * from one device-resident segment to the next.
 */
export async function cudaLightningPrefillEmulated(a: LightningInput & { segmentTokens?: number }): Promise<LightningOutput> {
  const seg = a.segmentTokens ?? 0;
  if (!Number.isInteger(seg) || seg < 0 || seg % CUDA_LIGHTNING_CHUNK !== 0)
    throw new InputError('E_KERNEL_SHAPE', `cudaLightningPrefillEmulated: segmentTokens must be a multiple of ${CUDA_LIGHTNING_CHUNK}, got ${seg}`);
  const { o, state } = buffers(a);
  await native.cudaEmulateLightning({ q: a.q, k: a.k, v: a.v, o, state, slopes: a.slopes, n: a.n, h: a.h, d: a.d, segment: seg }, 'cudaLightningPrefillEmulated');
  return { o, state };
}

export async function cudaQuantizeFp8Blocks(w: Float32Array, rows: number, cols: number, block = 128): Promise<{ codes: Uint8Array; scaleInv: Float32Array }> {
  requireCuda('cudaQuantizeFp8Blocks');
  const codes = new Uint8Array(rows * cols);
  const scaleInv = new Float32Array(Math.ceil(rows / block) * Math.ceil(cols / block));
  await native.cudaQuantFp8({ w, codes, scale: scaleInv, rows, cols, group: block }, 'cudaQuantizeFp8Blocks');
  return { codes, scaleInv };
}

export interface CudaBenchInput {
  /** Prefill context (tokens) and shape. */
  n: number; h: number; d: number;
  /** Heads of the decode step (sequences stacked as heads); the state is decodeHeads·d²·4 bytes. */
  decodeHeads: number;
}

export interface CudaBenchResult {
  /** bf16 mma.m16n8k16 peak of the device, FLOP/s, measured in this run. */
  mmaPeakFlopsPerSecond: number;
  /** Lightning prefill of n tokens on device-resident segments. */
  prefillSeconds: number;
  /** FLOPs of that prefill by the chunked form actually run (chunk 64): (4d² + 4·64·d) per head-token. */
  prefillFlops: number;
  prefillFlopsPerSecond: number;
  /** One decode step over decodeHeads heads; bytes = the state read and written once. */
  decodeSeconds: number;
  decodeBytes: number;
  /** Device-to-device copy of the state's bytes (read + write), the decode's bandwidth bound. */
  copySeconds: number;
}

/** Same-run CUDA figures: the tensor-core peak, the prefill against it, decode against a device copy. */
export async function cudaBench(a: CudaBenchInput): Promise<CudaBenchResult> {
  requireCuda('cudaBench');
  const out = new Float64Array(5);
  await native.cudaBench({ n: a.n, h: a.h, d: a.d, decodeHeads: a.decodeHeads, out });
  const [peak, copy, pre, dec, stateBytes] = out as unknown as [number, number, number, number, number];
  const prefillFlops = a.n * a.h * (4 * a.d * a.d + 4 * CUDA_LIGHTNING_CHUNK * a.d);
  return {
    mmaPeakFlopsPerSecond: peak,
    prefillSeconds: pre,
    prefillFlops,
    prefillFlopsPerSecond: prefillFlops / pre,
    decodeSeconds: dec,
    decodeBytes: 2 * stateBytes,
    copySeconds: copy,
  };
}
