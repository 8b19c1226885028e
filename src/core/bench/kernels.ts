/**
 * Timed kernel runs at a given context (docs/architecture.md §6): lightning prefill streamed over `ctx` tokens in chunks
 * with a carried state (bounded memory: one chunk of q/k/v/o is allocated and reused), lightning decode
 * steps for a full layer of heads, and softmax prefill/decode on a documented sample of keys. Only
 * throughputs and times come out of here (measured); derived.ts turns them into GFLOP/s and layer/model times.
 */
import { throwIfAborted } from '../errors.js';
import type { KernelBackend } from './backend.js';
import { randomFill } from './selfcheck.js';

/** Bytes per chunk tensor (q, k, v or o) in the streamed prefill: 4 × 32 MiB resident. */
export const PREFILL_CHUNK_BYTES = 32 * 1024 * 1024;
/** Most keys held for the softmax decode sample: K + V = 2 × 2¹⁸ × hkv × d × 4 B = 256 MiB at hkv = 1, d = 128. */
export const SOFTMAX_SAMPLE_KEYS = 262144;
/** Keys of the softmax prefill sample (a compute-bound pair rate does not depend on how many keys precede). */
export const SOFTMAX_PREFILL_SAMPLE_KEYS = 65536;
/** Query heads sharing one KV head in the softmax sample (M1: 64 q / 8 kv heads). */
export const SOFTMAX_GROUP = 8;
/** Decode steps: at least one, at most this many per repeat. */
const DECODE_MAX_STEPS = 4096;
/** Queries in one softmax-prefill sample call: from 16 up to one 256-token block, as the budget allows. */
const SOFTMAX_QUERIES = { min: 16, max: 256 } as const;

export interface KernelBudgets {
  /** Seconds per repeat for each kernel; a prefill that cannot finish `ctx` in time is extrapolated. */
  prefillSeconds: number;
  decodeSeconds: number;
  softmaxPrefillSeconds: number;
  softmaxDecodeSeconds: number;
}

export interface KernelProgress {
  phase: 'lightning_prefill' | 'lightning_prefill_bf16' | 'lightning_decode' | 'softmax_prefill' | 'softmax_decode';
  done: number;
  total: number;
}

export interface KernelRunParams {
  backend: KernelBackend;
  ctx: number;
  /** Heads in the prefill run (decode always runs `layerHeads`). */
  heads: number;
  layerHeads: number;
  d: number;
  blockSize: number;
  slopes: Float32Array;
  threads: number;
  budgets: KernelBudgets;
  onProgress?: (p: KernelProgress) => void;
  signal?: AbortSignal;
}

export interface KernelTimings {
  /** Lightning prefill: tokens processed (≤ ctx), seconds, heads. */
  prefill: { tokens: number; seconds: number; heads: number };
  /** The same streamed prefill in the bf16 numerics, when the backend has it. */
  prefillBf16?: { tokens: number; seconds: number; heads: number };
  /** Lightning decode: steps of `heads` heads, seconds. */
  decode: { steps: number; seconds: number; heads: number };
  /** Softmax prefill sample: (query head, key) pairs computed, seconds, queries, keys. */
  softmaxPrefill: { headPairs: number; seconds: number; queries: number; keys: number; hq: number };
  /** Softmax decode sample: one query per head over `keys` keys, repeated `calls` times. */
  softmaxDecode: { headKeys: number; seconds: number; keys: number; calls: number; hq: number };
}

const now = () => performance.now() / 1000;

/** Share of the prefill budget given to the bf16 prefill when the backend has one. */
const BF16_PREFILL_SHARE = 0.4;

async function timePrefill(p: KernelRunParams, bf16 = false) {
  const run = bf16 ? p.backend.lightningPrefillBf16!.bind(p.backend) : p.backend.lightningPrefill.bind(p.backend);
  const budget = p.budgets.prefillSeconds * (p.backend.lightningPrefillBf16 ? (bf16 ? BF16_PREFILL_SHARE : 1 - BF16_PREFILL_SHARE) : 1);
  const phase = bf16 ? 'lightning_prefill_bf16' : 'lightning_prefill';
  const { heads: h, d } = p;
  const row = h * d;
  const chunk = Math.max(p.blockSize, Math.floor(PREFILL_CHUNK_BYTES / (row * 4) / p.blockSize) * p.blockSize);
  const cap = Math.min(chunk, p.ctx);
  const q = randomFill(new Float32Array(cap * row), 11, 0.05);
  const k = randomFill(new Float32Array(cap * row), 12, 0.05);
  const v = randomFill(new Float32Array(cap * row), 13, 0.05);
  const slopes = p.slopes.subarray(0, h);
  const w = Math.min(cap, p.blockSize); // warm-up: one block (thread pool start, page faults), not timed
  await run({ q: q.subarray(0, w * row), k: k.subarray(0, w * row), v: v.subarray(0, w * row), n: w, h, d, slopes, blockSize: p.blockSize, threads: p.threads });
  let state: Float32Array | undefined;
  let tokens = 0;
  const t0 = now();
  while (tokens < p.ctx) {
    throwIfAborted(p.signal);
    const m = Math.min(cap, p.ctx - tokens);
    const r = await run({ q: q.subarray(0, m * row), k: k.subarray(0, m * row), v: v.subarray(0, m * row), n: m, h, d, slopes, state, blockSize: p.blockSize, threads: p.threads });
    state = r.state;
    tokens += m;
    p.onProgress?.({ phase, done: tokens, total: p.ctx });
    if (now() - t0 > budget) break;
  }
  return { tokens, seconds: now() - t0, heads: h };
}

async function timeDecode(p: KernelRunParams) {
  const { layerHeads: h, d } = p;
  const q = randomFill(new Float32Array(h * d), 21, 0.05);
  const k = randomFill(new Float32Array(h * d), 22, 0.05);
  const v = randomFill(new Float32Array(h * d), 23, 0.05);
  const slopes = p.slopes.subarray(0, h);
  let state: Float32Array = new Float32Array(h * d * d);
  state = (await p.backend.lightningDecode({ q, k, v, h, d, slopes, state, threads: p.threads })).state; // warm-up
  let steps = 0;
  const t0 = now();
  while (steps < DECODE_MAX_STEPS && (steps === 0 || now() - t0 < p.budgets.decodeSeconds)) {
    throwIfAborted(p.signal);
    state = (await p.backend.lightningDecode({ q, k, v, h, d, slopes, state, threads: p.threads })).state;
    steps++;
    if (steps % 64 === 0) p.onProgress?.({ phase: 'lightning_decode', done: Math.min(1, (now() - t0) / p.budgets.decodeSeconds) * 100, total: 100 });
  }
  return { steps, seconds: now() - t0, heads: h };
}

/** Causal (query, key) pairs of `m` queries at the end of `nk` keys. */
export const tailPairs = (m: number, nk: number): number => m * nk - (m * (m - 1)) / 2;

async function timeSoftmax(p: KernelRunParams) {
  const d = p.d;
  const hq = SOFTMAX_GROUP;
  const nk = Math.min(p.ctx, SOFTMAX_SAMPLE_KEYS);
  const k = randomFill(new Float32Array(nk * d), 31, 0.5);
  const v = randomFill(new Float32Array(nk * d), 32, 0.5);
  const qAll = randomFill(new Float32Array(Math.min(SOFTMAX_QUERIES.max, nk) * hq * d), 33, 0.5);
  const call = (m: number, keys: number) =>
    p.backend.softmaxAttention({ q: qAll.subarray(0, m * hq * d), k: k.subarray(0, keys * d), v: v.subarray(0, keys * d), n: m, nk: keys, hq, hkv: 1, d, threads: p.threads });

  // Prefill sample: the last m queries of a window of pk keys; m grows ×4 while 4 calls of the next size fit the timed half of the budget.
  const pk = Math.min(nk, SOFTMAX_PREFILL_SAMPLE_KEYS);
  let m = Math.min(SOFTMAX_QUERIES.min, pk);
  let t = now();
  await call(m, pk);
  let one = now() - t;
  while (m < Math.min(SOFTMAX_QUERIES.max, pk) && 16 * one < p.budgets.softmaxPrefillSeconds / 2) {
    m = Math.min(SOFTMAX_QUERIES.max, pk, m * 4);
    t = now();
    await call(m, pk);
    one = now() - t;
  }
  let calls = 0;
  const t0 = now();
  while (calls === 0 || now() - t0 < p.budgets.softmaxPrefillSeconds / 2) {
    throwIfAborted(p.signal);
    await call(m, pk);
    calls++;
    p.onProgress?.({ phase: 'softmax_prefill', done: Math.min(100, ((now() - t0) / (p.budgets.softmaxPrefillSeconds / 2)) * 100), total: 100 });
  }
  const prefill = { headPairs: calls * hq * tailPairs(m, pk), seconds: now() - t0, queries: m, keys: pk, hq };

  // Decode sample: one new query per head over all nk keys.
  let dcalls = 0;
  const t1 = now();
  while (dcalls === 0 || now() - t1 < p.budgets.softmaxDecodeSeconds) {
    throwIfAborted(p.signal);
    await call(1, nk);
    dcalls++;
    p.onProgress?.({ phase: 'softmax_decode', done: Math.min(100, ((now() - t1) / p.budgets.softmaxDecodeSeconds) * 100), total: 100 });
  }
  const decode = { headKeys: dcalls * hq * nk, seconds: now() - t1, keys: nk, calls: dcalls, hq };
  return { prefill, decode };
}

/** One repeat of every timed kernel. */
export async function timeKernels(p: KernelRunParams): Promise<KernelTimings> {
  const prefill = await timePrefill(p);
  const prefillBf16 = p.backend.lightningPrefillBf16 ? await timePrefill(p, true) : undefined;
  const decode = await timeDecode(p);
  const sm = await timeSoftmax(p);
  return { prefill, ...(prefillBf16 ? { prefillBf16 } : {}), decode, softmaxPrefill: sm.prefill, softmaxDecode: sm.decode };
}
