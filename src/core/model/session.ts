/**
 * A forward-pass session over one checkpoint: holds the weight cache and the per-sequence state
 * (lightning states, KV caches) so that `prefill(n)` followed by `decodeStep` continues the same
 * sequence. Layers run one after another; each layer's weights are read lazily through the store.
 *
 * @example
 * const s = createSession({ checkpoint, precision: 'fp32' });
 * const logits = await s.prefill([1, 2, 3]);         // [3, vocab]
 * const next = await s.decodeStep(4);                 // [vocab], position 3
 */
import { InputError, throwIfAborted } from '../errors.js';
import type { M1Config } from '../checkpoint/config.js';
import { bf16, rmsNorm, roundBf16InPlace } from './math.js';
import { linear, type LayerContext, type Precision } from './context.js';
import { lightningLayer, newLightningState, type LightningState } from './lightning.js';
import { newKvCache, softmaxLayer, type KvCache } from './softmax-attn.js';
import { moeLayer } from './moe.js';
import { WeightStore } from './weights.js';
import { weightBudget } from './budget.js';
import type { TensorMeta, WeightSource } from './source.js';

export type { Precision } from './context.js';

/** Anything with a config and named tensors: a `Checkpoint` or a `WeightSource`. */
export interface CheckpointLike {
  readonly config: M1Config;
  has(name: string): boolean;
  info(name: string): TensorMeta | { info: TensorMeta };
  read(name: string, byteOffset?: number, byteLength?: number): Promise<Uint8Array>;
}

export function asWeightSource(c: CheckpointLike): WeightSource {
  return {
    config: c.config,
    has: (n) => c.has(n),
    info: (n) => {
      const i = c.info(n);
      return 'info' in i ? i.info : i;
    },
    read: (n, o, l) => c.read(n, o, l),
  };
}

export interface SessionOptions {
  checkpoint: CheckpointLike;
  /** 'fp32': exact fp32 math on the bf16 weights; 'bf16': emulate the official bf16 rounding points. Default 'fp32'. */
  precision?: Precision;
  /** LM head precision, independent of `precision`. Default 'fp32'. */
  lmHead?: Precision;
  /** Multiplies the final-norm weight (docs/architecture.md §4 knob to reach trained-model logit magnitudes). Default 1. */
  logitScale?: number;
  /** Lightning q/k/v SiLU in fp32 (vLLM) rather than on bf16 ([HF]); only matters in bf16 emulation. */
  siluFp32?: boolean;
  /** Approximate bound (bytes) on memory held for weights: decoded-weight cache + one streamed chunk (see budget.ts). */
  maxMemory?: number;
  /** 'auto' (default): native gemm when the addon is loaded; 'ts': TypeScript loops only (bit-reproducible). */
  kernels?: 'auto' | 'ts';
  /** Threads for native kernels. */
  threads?: number;
  signal?: AbortSignal;
  /** Called after each layer: (layersDone, layersTotal). */
  onProgress?: (done: number, total: number) => void;
}

export interface PrefillOptions {
  lastOnly?: boolean;
  logits?: boolean;
  logitsFrom?: number;
}

export interface Session {
  readonly config: M1Config;
  /** Tokens consumed so far (the next position). */
  readonly position: number;
  /**
   * Run `tokens` through the block-form path; returns logits [n, vocab], or only rows from `logitsFrom`
   * (`lastOnly`: the last row; `logits: false`: none).
   */
  prefill(tokens: number[], opts?: PrefillOptions): Promise<Float32Array>;
  /** Feed one token through the recurrent path; returns its logits [vocab]. */
  decodeStep(token: number): Promise<Float32Array>;
  /** Forget the sequence (keeps the weight cache). Call it after a failed or aborted call: state may be partly updated. */
  reset(): void;
  /** Decoded-weight bytes read so far. */
  readonly bytesDecoded: number;
  /** LM head precision used by the next call (may be switched between calls; the body is unaffected). */
  lmHead: Precision;
}

class ModelSession implements Session {
  readonly config: M1Config;
  private readonly ctx: LayerContext;
  lmHead: Precision;
  private readonly logitScale: number;
  private readonly signal: AbortSignal | undefined;
  private readonly onProgress: ((done: number, total: number) => void) | undefined;
  private lin: (LightningState | undefined)[] = [];
  private kv: (KvCache | undefined)[] = [];
  private pos = 0;

  constructor(o: SessionOptions) {
    const src = asWeightSource(o.checkpoint);
    this.config = src.config;
    if (this.config.sharedIntermediateSize > 0) throw new InputError('E_CONFIG', `shared_intermediate_size = ${this.config.sharedIntermediateSize}: shared experts are not supported (MiniMax-M1 has none)`);
    this.signal = o.signal;
    this.onProgress = o.onProgress;
    this.lmHead = o.lmHead ?? 'fp32';
    this.logitScale = o.logitScale ?? 1;
    const store = new WeightStore(src, { ...(o.maxMemory !== undefined ? weightBudget(o.maxMemory) : {}), kernels: o.kernels, threads: o.threads, signal: o.signal });
    this.ctx = { config: this.config, store, bf16: o.precision === 'bf16', siluFp32: Boolean(o.siluFp32) };
    this.reset();
  }

  get position(): number {
    return this.pos;
  }

  get bytesDecoded(): number {
    return this.ctx.store.bytesDecoded;
  }

  reset(): void {
    const c = this.config;
    this.lin = c.attnTypes.map((t, l) => (t === 0 ? newLightningState(this.ctx, l) : undefined));
    this.kv = c.attnTypes.map((t) => (t === 1 ? newKvCache(this.ctx) : undefined));
    this.pos = 0;
  }

  async prefill(tokens: number[], opts: PrefillOptions = {}): Promise<Float32Array> {
    if (tokens.length === 0) return new Float32Array(0);
    const from = opts.logits === false ? tokens.length : opts.lastOnly ? tokens.length - 1 : Math.min(tokens.length, Math.max(0, opts.logitsFrom ?? 0));
    return this.run(tokens, false, from);
  }

  async decodeStep(token: number): Promise<Float32Array> {
    return this.run([token], true, 0);
  }

  private async embed(tokens: number[]): Promise<Float32Array> {
    const { hiddenSize: H, vocabSize: V } = this.config;
    const x = new Float32Array(tokens.length * H);
    for (let t = 0; t < tokens.length; t++) {
      const id = tokens[t]!;
      if (!Number.isInteger(id) || id < 0 || id >= V) throw new InputError('E_TOKEN', `token ${t} = ${id} is outside the vocabulary [0, ${V})`);
      x.set(await this.ctx.store.rows('model.embed_tokens.weight', id, 1), t * H);
    }
    return x;
  }

  /** Layer loop over `tokens`; logits for rows [from, n). */
  private async run(tokens: number[], recurrent: boolean, from: number): Promise<Float32Array> {
    const c = this.config;
    const ctx = this.ctx;
    const n = tokens.length;
    const H = c.hiddenSize;
    let x = await this.embed(tokens);
    for (let l = 0; l < c.numLayers; l++) {
      throwIfAborted(this.signal);
      const p = `model.layers.${l}.`;
      const softmax = c.attnTypes[l] === 1;
      const u = rmsNorm(x, await ctx.store.vector(`${p}input_layernorm.weight`, H), n, H, c.rmsNormEps, ctx.bf16);
      const a = softmax ? await softmaxLayer(ctx, l, u, n, this.kv[l]!) : await lightningLayer(ctx, l, u, n, this.lin[l]!, recurrent);
      const x1 = this.residual(c.postnorm ? u : x, a, softmax ? c.fullAlpha : c.linearAlpha, softmax ? c.fullBeta : c.linearBeta);
      const v = rmsNorm(x1, await ctx.store.vector(`${p}post_attention_layernorm.weight`, H), n, H, c.rmsNormEps, ctx.bf16);
      const m = await moeLayer(ctx, l, v, n);
      x = this.residual(c.postnorm ? v : x1, m, c.mlpAlpha, c.mlpBeta);
      this.onProgress?.(l + 1, c.numLayers);
    }
    this.pos += n;
    if (from >= n) return new Float32Array(0);
    return this.head(x.subarray(from * H), n - from);
  }

  /** x′ = α·skip + β·branch; in bf16 emulation each product and the sum are rounded to bf16. */
  private residual(skip: Float32Array, branch: Float32Array, alpha: number, beta: number): Float32Array {
    const y = new Float32Array(skip.length);
    const a = Math.fround(alpha);
    const b = Math.fround(beta);
    if (this.ctx.bf16) {
      for (let i = 0; i < y.length; i++) y[i] = bf16(bf16(skip[i]! * a) + bf16(branch[i]! * b));
    } else {
      for (let i = 0; i < y.length; i++) y[i] = Math.fround(skip[i]! * a) + Math.fround(branch[i]! * b);
    }
    return y;
  }

  /** Final norm (weight × logitScale) and LM head. */
  private async head(x: Float32Array, n: number): Promise<Float32Array> {
    const c = this.config;
    const ctx = this.ctx;
    const gamma = Float32Array.from(await ctx.store.vector('model.norm.weight', c.hiddenSize), (g) => g * this.logitScale);
    if (ctx.bf16) roundBf16InPlace(gamma);
    const y = rmsNorm(x, gamma, n, c.hiddenSize, c.rmsNormEps, ctx.bf16);
    // tied models use the embedding as the head, even if a stray lm_head.weight was saved (as vLLM's loaders do)
    const headName = c.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight';
    if (this.lmHead !== 'bf16') return ctx.store.linear(headName, y, n);
    return linear({ ...ctx, bf16: true }, headName, roundBf16InPlace(Float32Array.from(y)), n);
  }
}

/** Create a session (no I/O until the first call). */
export function createSession(opts: SessionOptions): Session {
  return new ModelSession(opts);
}
