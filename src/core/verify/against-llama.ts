/**
 * GGUF-in-llama.cpp vs HF checkpoint: llama.cpp's logits (through node-llama-cpp, an optional package
 * loaded on demand) are compared with the reference runtime's on the same sequences, using the same
 * metrics as checkpoint-vs-checkpoint.
 */
import { createSession, type CheckpointLike, type Precision } from '../model/session.js';
import { compareOnSequences, type CompareResult, type Thresholds } from './against.js';

export interface VerifyLlamaOptions {
  gguf: string;
  reference: CheckpointLike;
  sequences: number[][];
  /** Threads for llama.cpp and the native kernels. */
  threads?: number;
  precision?: Precision;
  lmHead?: Precision;
  thresholds?: Thresholds;
  maxMemory?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/** Throws UnavailableError (exit 5) when node-llama-cpp is not installed. */
export async function verifyLlamaCppAgainst(o: VerifyLlamaOptions): Promise<CompareResult> {
  const { llamaCppLogits } = await import('../gguf/engine-llama.js');
  const session = createSession({
    checkpoint: o.reference,
    precision: o.precision ?? 'fp32',
    lmHead: o.lmHead ?? 'fp32',
    ...(o.maxMemory !== undefined ? { maxMemory: o.maxMemory } : {}),
    ...(o.threads !== undefined ? { threads: o.threads } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  });
  return compareOnSequences({
    sequences: o.sequences,
    vocab: o.reference.config.vocabSize,
    reference: async (tokens) => {
      session.reset();
      return session.prefill(tokens);
    },
    test: (tokens) => llamaCppLogits({ gguf: o.gguf, tokens, ...(o.threads !== undefined ? { threads: o.threads } : {}) }),
    ...(o.thresholds ? { thresholds: o.thresholds } : {}),
    signal: o.signal,
    onProgress: o.onProgress,
  });
}
