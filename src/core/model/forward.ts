/**
 * One-call forward pass: logits for every token of a sequence, through either the prefill (block
 * form, full causal softmax) or the decode (token-by-token recurrence, KV cache) path.
 */
import { InputError } from '../errors.js';
import { createSession, type CheckpointLike, type Precision } from './session.js';
import type { KernelChoice } from './kernels.js';

export interface ForwardOptions {
  checkpoint: CheckpointLike;
  tokens: number[];
  /** 'prefill' (default): one block-form pass; 'decode': every token fed through the recurrent path from an empty state. */
  mode?: 'prefill' | 'decode';
  precision?: Precision;
  lmHead?: Precision;
  logitScale?: number;
  /** Approximate bound (bytes) on memory held for weights (see budget.ts). */
  maxMemory?: number;
  /** 'auto' (default): native kernels when the addon is loaded; 'native': required; 'ts': TypeScript loops only (bit-reproducible). */
  kernels?: KernelChoice;
  threads?: number;
  signal?: AbortSignal;
  /** Return only the logits after the last token ([1, vocab]; the LM head runs on that row alone). */
  lastOnly?: boolean;
  /** (done, total) in layer passes: prefill counts layers, decode counts tokens × layers. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Logits [n, vocab] (row i = logits after token i), or [1, vocab] with `lastOnly`.
 * @example const logits = await forward({ checkpoint: await Checkpoint.open('fixtures/tiny'), tokens: [1, 2, 3] });
 */
export async function forward(o: ForwardOptions): Promise<Float32Array> {
  const n = o.tokens.length;
  if (n === 0) throw new InputError('E_TOKENS', 'forward needs at least one token');
  const L = o.checkpoint.config.numLayers;
  let base = 0;
  const session = createSession({
    checkpoint: o.checkpoint,
    precision: o.precision ?? 'fp32',
    lmHead: o.lmHead ?? 'fp32',
    logitScale: o.logitScale ?? 1,
    ...(o.maxMemory !== undefined ? { maxMemory: o.maxMemory } : {}),
    ...(o.kernels ? { kernels: o.kernels } : {}),
    ...(o.threads !== undefined ? { threads: o.threads } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
    onProgress: (done) => o.onProgress?.(base + done, o.mode === 'decode' ? n * L : L),
  });
  if (o.mode !== 'decode') return session.prefill(o.tokens, o.lastOnly ? { lastOnly: true } : {});
  const V = o.checkpoint.config.vocabSize;
  const out = new Float32Array((o.lastOnly ? 1 : n) * V);
  for (let t = 0; t < n; t++) {
    base = t * L;
    const row = await session.decodeStep(o.tokens[t]!);
    if (!o.lastOnly) out.set(row, t * V);
    else if (t === n - 1) out.set(row);
  }
  return out;
}
