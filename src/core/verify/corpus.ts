/**
 * A token corpus cut into evaluation chunks the way llama.cpp's `llama-perplexity` and `llama-imatrix`
 * cut theirs (docs/llama-files.md §1): the token stream is split into ⌊n / ctx⌋ consecutive,
 * non-overlapping chunks of `ctx` tokens (optionally only the first `chunks`), the tail is dropped, each
 * chunk is evaluated from an empty state with its first token replaced by BOS when the vocabulary adds
 * one, and only positions first = ⌊ctx/2⌋ … ctx − 2 are scored (each predicting the next token of the
 * original stream), so every scored token has at least ctx/2 tokens of context.
 */
import { InputError } from '../errors.js';

export interface CorpusOptions {
  /** Tokens per chunk (llama-perplexity's -c; default 512). */
  ctx?: number;
  /** Evaluate only the first `chunks` chunks (llama-perplexity's --chunks). */
  chunks?: number;
  /** Token id written over each chunk's first token for evaluation (the vocabulary's BOS when it adds one). */
  bos?: number;
  /** How the corpus is named in errors (a file path, "--tokens"). */
  label?: string;
}

export interface CorpusChunks {
  ctx: number;
  /** Tokens in the whole corpus (before the tail is dropped). */
  corpusTokens: number;
  /** The chunks as cut from the corpus (what a --kl-divergence-base file stores). */
  chunks: number[][];
  /** The chunks as evaluated (first token replaced by `bos` when given). */
  evaluated: number[][];
  /** First scored position of each chunk (⌊ctx/2⌋). */
  first: number;
  /** Scored positions per chunk: ctx − 1 − first. */
  scoredPerChunk: number;
  bos: number | undefined;
}

/** Default chunk length: llama-perplexity's default context (-c 512). */
export const DEFAULT_CTX = 512;
/** Smallest chunk with a scored position (ctx − 1 − ⌊ctx/2⌋ ≥ 1). */
export const MIN_CTX = 3;

/**
 * Cut `tokens` into chunks as llama-perplexity does.
 * @example chunkCorpus(ids, { ctx: 512, chunks: 20 }).evaluated.length // ≤ 20
 */
export function chunkCorpus(tokens: readonly number[], o: CorpusOptions = {}): CorpusChunks {
  const ctx = o.ctx ?? DEFAULT_CTX;
  const label = o.label ?? 'corpus';
  if (!Number.isInteger(ctx) || ctx < MIN_CTX) throw new InputError('E_CORPUS', `--ctx must be an integer ≥ ${MIN_CTX} (a chunk needs a scored second half), got ${ctx}`);
  if (o.chunks !== undefined && (!Number.isInteger(o.chunks) || o.chunks < 1)) throw new InputError('E_CORPUS', `--chunks must be a positive integer, got ${o.chunks}`);
  if (tokens.length === 0) throw new InputError('E_CORPUS', `${label}: the corpus is empty (no tokens)`);
  if (tokens.length < ctx) {
    throw new InputError('E_CORPUS', `${label}: ${tokens.length} tokens is less than one chunk of --ctx ${ctx}; give a longer corpus or a smaller --ctx`);
  }
  const n = Math.min(Math.floor(tokens.length / ctx), o.chunks ?? Infinity);
  const chunks = Array.from({ length: n }, (_, i) => tokens.slice(i * ctx, (i + 1) * ctx));
  const evaluated = chunks.map((c) => (o.bos === undefined ? c : [o.bos, ...c.slice(1)]));
  const first = Math.floor(ctx / 2);
  return { ctx, corpusTokens: tokens.length, chunks, evaluated, first, scoredPerChunk: ctx - 1 - first, bos: o.bos };
}

/** Refuse chunks longer than the model's context (max_position_embeddings). */
export function assertChunksFit(c: CorpusChunks, maxPositions: number): void {
  if (c.ctx > maxPositions) throw new InputError('E_CORPUS', `--ctx ${c.ctx} is longer than the model's context of ${maxPositions} tokens (max_position_embeddings in config.json)`);
}
