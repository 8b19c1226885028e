/**
 * Checkpoint-vs-checkpoint verification (e.g. quantized vs original, or a GGUF run in llama.cpp vs the
 * HF checkpoint): the same token sequences go through both, and the logits are compared with the
 * llama.cpp-style metrics of metrics.ts. Pass/fail uses the mean KLD and the same-top-1 fraction.
 */
import { InputError, throwIfAborted } from '../errors.js';
import { createSession, type CheckpointLike, type Precision } from '../model/session.js';
import { LogitComparer, type LogitComparison } from './metrics.js';
import { mulberry32, randomTokens } from './sampling.js';

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
  const metrics = c.result();
  const th = p.thresholds ?? {};
  const failures: string[] = [];
  if (th.maxKld !== undefined && !(metrics.kld.mean <= th.maxKld)) failures.push(`mean KLD ${metrics.kld.mean.toExponential(3)} > ${th.maxKld}`);
  if (th.minTop1 !== undefined && !(metrics.sameTop1 >= th.minTop1)) failures.push(`same top-1 ${(100 * metrics.sameTop1).toFixed(2)}% < ${(100 * th.minTop1).toFixed(2)}%`);
  return { sequences: p.sequences.length, tokens, vocab: V, metrics, thresholds: th, pass: failures.length === 0, failures };
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
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/** Runtime logits of a checkpoint, one prefill per sequence. */
export function runtimeLogits(checkpoint: CheckpointLike, o: { precision?: Precision; lmHead?: Precision; maxMemory?: number; threads?: number; signal?: AbortSignal }): LogitsFn {
  const session = createSession({
    checkpoint,
    precision: o.precision ?? 'fp32',
    lmHead: o.lmHead ?? 'fp32',
    ...(o.maxMemory !== undefined ? { maxMemory: o.maxMemory } : {}),
    ...(o.threads !== undefined ? { threads: o.threads } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  });
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
  const opts = { ...(o.precision ? { precision: o.precision } : {}), ...(o.lmHead ? { lmHead: o.lmHead } : {}), ...(o.maxMemory !== undefined ? { maxMemory: o.maxMemory } : {}), ...(o.threads !== undefined ? { threads: o.threads } : {}), ...(o.signal ? { signal: o.signal } : {}) };
  return compareOnSequences({
    sequences: o.sequences,
    vocab: V,
    reference: runtimeLogits(o.reference, opts),
    test: runtimeLogits(o.checkpoint, opts),
    ...(o.thresholds ? { thresholds: o.thresholds } : {}),
    signal: o.signal,
    onProgress: o.onProgress,
  });
}

/** `count` seeded random sequences of `len` tokens (deterministic per seed). */
export function randomSequences(seed: number, count: number, len: number, vocab: number): number[][] {
  const rand = mulberry32(seed >>> 0);
  return Array.from({ length: count }, () => randomTokens(rand, len, vocab));
}
