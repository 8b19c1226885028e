/**
 * CUDA kernels (kernels/cuda): lightning prefill/decode (bf16 inputs, fp32 state) and block FP8
 * quantization. Available only when the CUDA library was compiled and a device exists; otherwise
 * each call throws UnavailableError (exit code 5). Inputs are fp32 and rounded to bf16 on upload.
 */
import { cudaStatus, withNative } from '../../native/index.js';
import { UnavailableError } from '../errors.js';
import type { LightningInput, LightningOutput } from './lightning.js';

function requireCuda(op: string): void {
  const c = cudaStatus();
  if (!c.loaded) throw new UnavailableError('E_CUDA_UNAVAILABLE', `${op}: CUDA unavailable: ${c.reason ?? 'unknown reason'}`);
}

async function lightning(op: 'prefill' | 'decode', a: LightningInput): Promise<LightningOutput> {
  const name = op === 'prefill' ? 'cudaLightningPrefill' : 'cudaLightningDecode';
  requireCuda(name);
  const o = a.out ?? new Float32Array(a.n * a.h * a.d);
  const state = a.state ? a.state.slice() : new Float32Array(a.h * a.d * a.d);
  await withNative(name, (x) =>
    x.cudaLightning({ op, q: a.q, k: a.k, v: a.v, o, state, slopes: a.slopes, n: a.n, h: a.h, d: a.d, block: a.blockSize ?? 256 }));
  return { o, state };
}

export const cudaLightningPrefill = (a: LightningInput) => lightning('prefill', a);
export const cudaLightningDecode = (a: LightningInput) => lightning('decode', a);

export async function cudaQuantizeFp8Blocks(w: Float32Array, rows: number, cols: number, block = 128): Promise<{ codes: Uint8Array; scaleInv: Float32Array }> {
  requireCuda('cudaQuantizeFp8Blocks');
  const codes = new Uint8Array(rows * cols);
  const scaleInv = new Float32Array(Math.ceil(rows / block) * Math.ceil(cols / block));
  await withNative('cudaQuantizeFp8Blocks', (x) => x.cudaQuantFp8({ w, codes, scale: scaleInv, rows, cols, group: block }));
  return { codes, scaleInv };
}
