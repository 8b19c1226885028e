/**
 * Text generation on the reference runtime: prefill the prompt, then draw one token at a time
 * (sampler.ts) and feed it through the recurrent decode path, until a stop token, the token budget, the
 * model's context, or the M1 report's early-truncation guard (early-truncation.ts) ends it. Each token
 * is handed to `onToken` as soon as it is drawn, so a caller can stream it.
 */
import { throwIfAborted } from '../errors.js';
import { createSession, type SessionOptions } from '../model/session.js';
import { mulberry32 } from './sampling.js';
import { EarlyTruncationGuard, type EarlyTruncationOptions } from './early-truncation.js';
import { sample } from './sampler.js';

export type StopReason = 'stop-token' | 'max-tokens' | 'context' | 'early-truncation';

/** The runtime options (checkpoint, precision, LM head, logit scale, memory bound, kernels, threads, signal) are the session's. */
export interface GenerateOptions extends Omit<SessionOptions, 'onProgress'> {
  /** Prompt token ids (at least one). */
  prompt: number[];
  /** Most tokens to generate. */
  maxTokens: number;
  /** 0: greedy (default 1). */
  temperature?: number;
  /** Nucleus mass (default 1). */
  topP?: number;
  /** PRNG seed (default 0). */
  seed?: number;
  /** Ids that end generation when drawn (kept as the last generated token), e.g. the EOS. */
  stopIds?: readonly number[];
  /** Ids that may be drawn (default all); e.g. only ids the tokenizer holds. */
  allowed?: (id: number) => boolean;
  /** The early-truncation guard (default the report's: 3,000 tokens with p > 0.99; window 0 disables it). */
  earlyTruncation?: EarlyTruncationOptions;
  /** Longest sequence (prompt + generated) the model takes (default config max_position_embeddings). */
  maxContext?: number;
  /** Each generated token, in order, with its probability (see sampler.ts). */
  onToken?: (t: { id: number; p: number; index: number }) => void | Promise<void>;
}

export interface GenerateResult {
  tokens: number[];
  /** Probability of each generated token under the sampling softmax. */
  probs: number[];
  stop: StopReason;
  /** Length of the run of tokens above the guard's threshold when generation ended. */
  earlyTruncationRun: number;
  promptSeconds: number;
  generateSeconds: number;
}

/**
 * Generate up to `maxTokens` tokens after `prompt`.
 * @example const r = await generate({ checkpoint: ckpt, prompt: [262, 267], maxTokens: 16, temperature: 0 });
 */
export async function generate(o: GenerateOptions): Promise<GenerateResult> {
  if (o.prompt.length === 0) throw new RangeError('generate needs a prompt of at least one token');
  if (!Number.isInteger(o.maxTokens) || o.maxTokens < 1) throw new RangeError(`maxTokens must be a whole number ≥ 1, got ${o.maxTokens}`);
  const guard = new EarlyTruncationGuard(o.earlyTruncation);
  const rand = mulberry32(o.seed ?? 0);
  const stops = new Set(o.stopIds ?? []);
  const maxContext = o.maxContext ?? o.checkpoint.config.maxPositionEmbeddings;
  const session = createSession(o);
  const t0 = performance.now();
  let logits = await session.prefill(o.prompt, { lastOnly: true });
  const t1 = performance.now();
  const tokens: number[] = [];
  const probs: number[] = [];
  let stop: StopReason = 'max-tokens';
  for (;;) {
    throwIfAborted(o.signal);
    const s = sample(logits, rand, { ...(o.temperature !== undefined ? { temperature: o.temperature } : {}), ...(o.topP !== undefined ? { topP: o.topP } : {}), ...(o.allowed ? { allowed: o.allowed } : {}) });
    tokens.push(s.id);
    probs.push(s.p);
    await o.onToken?.({ id: s.id, p: s.p, index: tokens.length - 1 });
    const tripped = guard.push(s.p);
    if (stops.has(s.id)) { stop = 'stop-token'; break; }
    if (tripped) { stop = 'early-truncation'; break; }
    if (tokens.length >= o.maxTokens) { stop = 'max-tokens'; break; }
    if (o.prompt.length + tokens.length >= maxContext) { stop = 'context'; break; }
    logits = await session.decodeStep(s.id);
  }
  return { tokens, probs, stop, earlyTruncationRun: guard.currentRun, promptSeconds: (t1 - t0) / 1000, generateSeconds: (performance.now() - t1) / 1000 };
}
