/**
 * What the kernel benchmark needs from a kernel implementation. Layouts as in the kernels module:
 * q, k, v, o are Float32Array [n, h, d] row-major; lightning states Float32Array [h, d, d]; softmax K/V
 * [nk, hkv, d]. `slopes` are the per-head decay rates s (λ = exp(−s)).
 */

export interface LightningPrefillParams {
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  n: number;
  h: number;
  d: number;
  slopes: Float32Array;
  /** Incoming state (zeros when absent); the call must not modify it. */
  state?: Float32Array;
  blockSize: number;
  threads?: number;
}

export interface LightningDecodeParams {
  /** One token per head: [h, d] each. */
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  h: number;
  d: number;
  slopes: Float32Array;
  state: Float32Array;
  threads?: number;
}

export interface SoftmaxParams {
  /** [n, hq, d] queries at absolute positions nk − n … nk − 1. */
  q: Float32Array;
  /** [nk, hkv, d] keys and values (post-RoPE). */
  k: Float32Array;
  v: Float32Array;
  n: number;
  nk: number;
  hq: number;
  hkv: number;
  d: number;
  threads?: number;
}

export interface KernelBackend {
  /** e.g. "native cpu (avx512)", "cuda (NVIDIA H200)". */
  name: string;
  device: 'cpu' | 'cuda';
  lightningPrefill(p: LightningPrefillParams): Promise<{ o: Float32Array; state: Float32Array }>;
  /** The bf16 prefill (q, k, v rounded to bf16, fp32 sums and state), when the backend has one. */
  lightningPrefillBf16?(p: LightningPrefillParams): Promise<{ o: Float32Array; state: Float32Array }>;
  lightningDecode(p: LightningDecodeParams): Promise<{ o: Float32Array; state: Float32Array }>;
  softmaxAttention(p: SoftmaxParams): Promise<Float32Array>;
  /** Facts for the result's machine.native block. */
  info: Record<string, unknown>;
}
