/**
 * Checkpoint-vs-checkpoint verification (e.g. quantized vs original, or a GGUF run in llama.cpp vs the
 * HF checkpoint): the same token sequences go through both, and the logits are compared with the
 * llama.cpp-style metrics of metrics.ts. Pass/fail uses the mean KLD and the same-top-1 fraction.
 *
 * m1kit against m1kit runs the sequences layer-major in batches of up to `batchTokens` tokens: each
 * layer of each checkpoint is read once per batch, not once per sequence. The LM heads then run on row
 * chunks of the batch (bounded by LOGIT_CHUNK_BYTES per checkpoint), compared chunk by chunk.
 */
import { InputError, throwIfAborted } from '../errors.js';
import { createSession, logitChunkRows, type CheckpointLike, type Precision, type Session } from '../model/session.js';
import type { KernelChoice } from '../model/kernels.js';
import { LogitComparer, type LogitComparison } from './metrics.js';
import { mulberry32, randomTokens } from '../generation/sampling.js';

/** Produces logits [n, vocab] for a token sequence. */
export type LogitsFn = (tokens: number[]) => Promise<Float32Array>;

export interface Thresholds {
  /** Fail when the mean KLD exceeds this. */
  maxKld?: number | undefined;
  /** Fail when the same-top-1 fraction (0–1) is below this. */
  minTop1?: number | undefined;
}

export interface CompareResult {
  sequences: number;
  tokens: number;
  vocab: number;
  metrics: LogitComparison;
  thresholds: Thresholds;
  pass: boolean;
  /** Human-readable reasons for a failure (empty when passing). */
  failures: string[];
}

export interface CompareParams {
  sequences: number[][];
  vocab: number;
  reference: LogitsFn;
  test: LogitsFn;
  thresholds?: Thresholds;
  signal?: AbortSignal | undefined;
  onProgress?: ((done: number, total: number) => void) | undefined;
}

/** Run both logit producers over every sequence and compare them position by position. */
export async function compareOnSequences(p: CompareParams): Promise<CompareResult> {
  const c = new LogitComparer();
  const V = p.vocab;
  let tokens = 0;
  for (const [i, seq] of p.sequences.entries()) {
    throwIfAborted(p.signal);
    const ref = await p.reference(seq);
    const test = await p.test(seq);
    if (ref.length !== seq.length * V || test.length !== seq.length * V) {
      throw new InputError('E_LOGITS_SHAPE', `sequence ${i}: expected ${seq.length}×${V} logits, got ${ref.length / V} (reference) and ${test.length / V} (test) rows`);
    }
    for (let t = 0; t < seq.length; t++) c.add(ref, test, V, seq[t + 1], t * V, t * V);
    tokens += seq.length;
    p.onProgress?.(i + 1, p.sequences.length);
  }
  return judge(c.result(), p.thresholds ?? {}, p.sequences.length, tokens, V);
}

/** The thresholds a comparison misses, one message each (NaN figures miss every threshold). */
export function thresholdFailures(th: Thresholds, meanKld: number, sameTop1: number): string[] {
  const failures: string[] = [];
  if (th.maxKld !== undefined && !(meanKld <= th.maxKld)) failures.push(`mean KLD ${meanKld.toExponential(3)} > ${th.maxKld}`);
  if (th.minTop1 !== undefined && !(sameTop1 >= th.minTop1)) failures.push(`same top-1 ${(100 * sameTop1).toFixed(2)}% < ${(100 * th.minTop1).toFixed(2)}%`);
  return failures;
}

function judge(metrics: LogitComparison, th: Thresholds, sequences: number, tokens: number, vocab: number): CompareResult {
  const failures = thresholdFailures(th, metrics.kld.mean, metrics.sameTop1);
  return { sequences, tokens, vocab, metrics, thresholds: th, pass: failures.length === 0, failures };
}

/** Default tokens per layer-major batch (4 × 2048: activations ≈ 3 GiB at the released model's sizes). */
export const BATCH_TOKENS = 8192;

/** Split sequences, in order, into batches of at most `maxTokens` tokens (a longer sequence is a batch of its own). */
export function batchesOf(sequences: number[][], maxTokens: number): number[][][] {
  const out: number[][][] = [];
  let cur: number[][] = [];
  let tokens = 0;
  for (const s of sequences) {
    if (cur.length > 0 && tokens + s.length > maxTokens) {
      out.push(cur);
      cur = [];
      tokens = 0;
    }
    cur.push(s);
    tokens += s.length;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

export interface VerifyAgainstOptions {
  checkpoint: CheckpointLike;
  reference: CheckpointLike;
  sequences: number[][];
  precision?: Precision;
  lmHead?: Precision;
  thresholds?: Thresholds;
  maxMemory?: number;
  /** Threads for native kernels. */
  threads?: number;
  /** Kernels of both runtimes (default 'auto'). */
  kernels?: KernelChoice;
  /** Tokens per layer-major batch (default BATCH_TOKENS). */
  batchTokens?: number;
  signal?: AbortSignal;
  /** (done, total) in layer passes: batches × 2 checkpoints × layers. */
  onProgress?: (done: number, total: number) => void;
}

export type RuntimeOptions = Pick<VerifyAgainstOptions, 'precision' | 'lmHead' | 'maxMemory' | 'threads' | 'kernels' | 'signal'>;

/** A runtime session over `checkpoint` with the verify options (fp32 body and head by default). */
export function runtimeSession(checkpoint: CheckpointLike, o: RuntimeOptions, onLayer?: () => void): Session {
  return createSession({
    checkpoint,
    precision: o.precision ?? 'fp32',
    lmHead: o.lmHead ?? 'fp32',
    ...(o.maxMemory !== undefined ? { maxMemory: o.maxMemory } : {}),
    ...(o.threads !== undefined ? { threads: o.threads } : {}),
    ...(o.kernels ? { kernels: o.kernels } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
    ...(onLayer ? { onProgress: onLayer } : {}),
  });
}

/** Runtime logits of a checkpoint, one prefill per sequence (for engines compared one sequence at a time). */
export function runtimeLogits(checkpoint: CheckpointLike, o: RuntimeOptions): LogitsFn {
  const session = runtimeSession(checkpoint, o);
  return async (tokens) => {
    session.reset();
    return session.prefill(tokens);
  };
}

/**
 * Compare a checkpoint against a reference checkpoint on the same sequences.
 * @example await verifyAgainst({ checkpoint: q, reference: orig, sequences: [[1, 2, 3]], thresholds: { maxKld: 0.01 } })
 */
export async function verifyAgainst(o: VerifyAgainstOptions): Promise<CompareResult> {
  const V = o.reference.config.vocabSize;
  if (o.checkpoint.config.vocabSize !== V) {
    throw new InputError('E_VOCAB_MISMATCH', `vocab sizes differ: checkpoint ${o.checkpoint.config.vocabSize}, reference ${V}`);
  }
  const batches = batchesOf(o.sequences, o.batchTokens ?? BATCH_TOKENS);
  const total = batches.length * 2 * o.reference.config.numLayers;
  let done = 0;
  const onLayer = () => o.onProgress?.(++done, total);
  const ref = runtimeSession(o.reference, o, onLayer);
  const test = runtimeSession(o.checkpoint, o, onLayer);
  const H = { ref: o.reference.config.hiddenSize, test: o.checkpoint.config.hiddenSize };
  const chunk = logitChunkRows(V);
  const c = new LogitComparer();
  let tokens = 0;
  for (const batch of batches) {
    throwIfAborted(o.signal);
    const rh = await ref.hiddenBatch(batch);
    const th = await test.hiddenBatch(batch);
    const N = rh.offsets[batch.length]!;
    let i = 0;
    // head chunks run across sequences, so each head is read once per chunk
    for (let r0 = 0; r0 < N; r0 += chunk) {
      throwIfAborted(o.signal);
      const rows = Math.min(chunk, N - r0);
      const rl = await ref.logits(rh.hidden.subarray(r0 * H.ref, (r0 + rows) * H.ref), rows);
      const tl = await test.logits(th.hidden.subarray(r0 * H.test, (r0 + rows) * H.test), rows);
      for (let r = r0; r < r0 + rows; r++) {
        while (rh.offsets[i + 1]! <= r) i++;
        c.add(rl, tl, V, batch[i]![r - rh.offsets[i]! + 1], (r - r0) * V, (r - r0) * V);
      }
    }
    tokens += N;
  }
  return judge(c.result(), o.thresholds ?? {}, o.sequences.length, tokens, V);
}

/** `count` seeded random sequences of `len` tokens (deterministic per seed). */
export function randomSequences(seed: number, count: number, len: number, vocab: number): number[][] {
  const rand = mulberry32(seed >>> 0);
  return Array.from({ length: count }, () => randomTokens(rand, len, vocab));
}
