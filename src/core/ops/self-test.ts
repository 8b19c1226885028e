/**
 * Quick self-test of every kernel against its TypeScript reference (used by `m1kit doctor`): small
 * odd-sized inputs, the same budgets as the test suite, about a second in total on 2 cores.
 * Runs whichever backend the wrappers would use (native when loaded, else the reference itself,
 * which then only checks the reference against the float64 definition).
 */
import { throwIfAborted } from '../errors.js';
import { bf16ToF32, f32ToBf16, f32ToF16 } from '../dtype/convert.js';
import { quantizeFp8Band } from '../quant/fp8.js';
import { quantizeInt8Rows } from '../quant/int8.js';
import { quantizeInt4Rows } from '../quant/int4.js';
import { convertF32ToBf16, convertF32ToF16, convertBf16ToF32 } from './convert.js';
import { gemm } from './gemm.js';
import { gemmRef } from './gemm.ref.js';
import { lightningDecode, lightningPrefill } from './lightning.js';
import { lightningNaive } from './lightning.ref.js';
import { quantizeFp8Blocks, quantizeInt4, quantizeInt8 } from './quant.js';
import { softmaxAttention } from './softmax-attention.js';
import { softmaxAttentionRef } from './softmax-attention.ref.js';
import { compressLanes, sha256LanesAvailable, SHA256_IV } from './sha256.js';
import { compressRef } from './sha256.ref.js';
import { nativeAvailable } from '../../native/index.js';

/** Relative error budget for fp32 kernels vs float64 references at these sizes (see test/native). */
export const SELF_TEST_REL_BUDGET = 3e-5;

export interface SelfTestResult {
  kernel: string;
  ok: boolean;
  /** 'bit-exact' or the measured max relative error. */
  detail: string;
  ms: number;
}

function data(n: number, seed: number): Float32Array {
  let x = seed;
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    a[i] = x / 2 ** 31 - 1;
  }
  return a;
}

function rel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0, s = 0;
  for (let i = 0; i < b.length; i++) {
    const e = Math.abs(a[i]! - b[i]!);
    d = Number.isNaN(e) ? Infinity : Math.max(d, e);
    s = Math.max(s, Math.abs(b[i]!));
  }
  return d / Math.max(s, 1e-30);
}

function sameBits(a: ArrayBufferView, b: ArrayBufferView): boolean {
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength), y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** Run all checks; `onProgress(done, total)` after each. */
export async function selfTest(o: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {}): Promise<SelfTestResult[]> {
  const n = 300, h = 2, d = 48;
  const q = data(n * h * d, 1), k = data(n * h * d, 2), v = data(n * h * d, 3);
  const slopes = Float32Array.from([0.9, 0.01]);
  const naive = lightningNaive({ q, k, v, n, h, d, slopes });
  const w = data(130 * 257, 4);
  const checks: [string, () => Promise<[boolean, string]>][] = [
    ['lightning prefill', async () => {
      const r = await lightningPrefill({ q, k, v, n, h, d, slopes });
      const e = Math.max(rel(r.o, naive.o), rel(r.state, naive.state));
      return [e <= SELF_TEST_REL_BUDGET, `max rel err ${e.toExponential(2)}`];
    }],
    ['lightning decode', async () => {
      const r = await lightningDecode({ q, k, v, n, h, d, slopes });
      const e = Math.max(rel(r.o, naive.o), rel(r.state, naive.state));
      return [e <= SELF_TEST_REL_BUDGET, `max rel err ${e.toExponential(2)}`];
    }],
    ['softmax attention', async () => {
      const a = { q: q.subarray(0, 70 * 4 * d), k: k.subarray(0, 90 * 2 * d), v: v.subarray(0, 90 * 2 * d), n: 70, nk: 90, hq: 4, hkv: 2, d };
      const e = rel(await softmaxAttention(a), softmaxAttentionRef({ ...a, scale: 1 / Math.sqrt(d) }));
      return [e <= SELF_TEST_REL_BUDGET, `max rel err ${e.toExponential(2)}`];
    }],
    ['gemm (bf16 weights)', async () => {
      const x = data(5 * 257, 5), wb = f32ToBf16(w.subarray(0, 33 * 257));
      const e = rel(await gemm({ x, w: wb, m: 5, k: 257, nOut: 33 }), gemmRef({ x, w: wb, m: 5, k: 257, nOut: 33 }));
      return [e <= SELF_TEST_REL_BUDGET, `max rel err ${e.toExponential(2)}`];
    }],
    ['convert bf16/fp16', async () => {
      const big = data(70_000, 6);
      const ok = sameBits(await convertF32ToBf16(big), f32ToBf16(big)) && sameBits(await convertF32ToF16(big), f32ToF16(big)) &&
        sameBits(await convertBf16ToF32(f32ToBf16(big)), bf16ToF32(f32ToBf16(big)));
      return [ok, ok ? 'bit-exact' : 'bits differ from the reference'];
    }],
    ['fp8 block quantize', async () => {
      const a = await quantizeFp8Blocks(w.subarray(0, 128 * 257), 128, 257);
      const b = quantizeFp8Band(w.subarray(0, 128 * 257), 128, 257);
      const ok = sameBits(a.codes, b.codes) && sameBits(a.scaleInv, b.scaleInv);
      return [ok, ok ? 'bit-exact' : 'bits differ from the reference'];
    }],
    ['int8 / int4 quantize', async () => {
      const a8 = await quantizeInt8(w, 130, 257), b8 = quantizeInt8Rows(w, 130, 257);
      const a4 = await quantizeInt4(w, 130, 257), b4 = quantizeInt4Rows(w, 130, 257);
      const ok = sameBits(a8.q, b8.q) && sameBits(a8.scale, b8.scale) && sameBits(a4.packed, b4.packed) && sameBits(a4.scale, b4.scale);
      return [ok, ok ? 'bit-exact' : 'bits differ from the reference'];
    }],
    ['sha256 lanes', async () => {
      if (!sha256LanesAvailable()) return [true, `${nativeAvailable() ? 'no SHA extensions on this CPU' : 'no native addon'}: node's sha256 is used`];
      const lanes = [3, 0, 17].map((blocks, i) => new Uint8Array(data(blocks * 16, 7 + i).buffer));
      const got = lanes.map(() => Uint32Array.from(SHA256_IV));
      const want = got.map((s) => s.slice());
      compressLanes(got, lanes, { backend: 'native' });
      lanes.forEach((l, i) => compressRef(want[i]!, l));
      const ok = got.every((s, i) => sameBits(s, want[i]!));
      return [ok, ok ? 'bit-exact' : 'bits differ from the reference'];
    }],
  ];
  const out: SelfTestResult[] = [];
  for (const [kernel, fn] of checks) {
    throwIfAborted(o.signal);
    const t0 = performance.now();
    let ok = false, detail = '';
    try {
      [ok, detail] = await fn();
    } catch (e) {
      detail = `error: ${(e as Error).message}`;
    }
    out.push({ kernel, ok, detail, ms: Math.round((performance.now() - t0) * 10) / 10 });
    o.onProgress?.(out.length, checks.length);
  }
  return out;
}
