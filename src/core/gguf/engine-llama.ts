/**
 * Run a GGUF in the real llama.cpp through node-llama-cpp (an optional package, installed on demand)
 * and return the raw logits of every prompt position: CPU only, F32 KV cache, a fixed thread count
 * (1 by default, which is deterministic), flash attention off, prompts split into batches of ≤ 512.
 */
import { stat } from 'node:fs/promises';
import { InputError, UnavailableError } from '../errors.js';

/** Version the engine was validated with (minimax-01 support; CPU prebuilt binaries). */
export const NODE_LLAMA_CPP_VERSION = '3.22.1';
export const NODE_LLAMA_CPP_INSTALL = `npm install --no-save node-llama-cpp@${NODE_LLAMA_CPP_VERSION}`;
/** Logit map entries alive at once (2^21: ten positions of MiniMax-M1's 200,064-token vocabulary). */
const MAX_MAP_ENTRIES = 2 ** 21;
/** Default tokens per batch (the decay matrix of a 512-token batch of MiniMax-M1 is 512²·64·4 B = 64 MiB). */
const DEFAULT_BATCH = 512;

export interface LlamaCppLogitsParams {
  /** Path of the .gguf file. */
  gguf: string;
  /** Prompt token ids (logits are returned for every position). */
  tokens: number[];
  /** CPU threads (default 1). */
  threads?: number;
  /**
   * Tokens per llama.cpp batch (default min(n, 512)). llama.cpp runs each batch as one lightning block,
   * with an [n, n, heads] F32 decay matrix, so long prompts are split; the state carries across batches.
   */
  batchSize?: number;
}

/* The package is optional, so its types are not a compile-time dependency; these are the parts used. */
interface NlcModule {
  getLlama(o: Record<string, unknown>): Promise<NlcLlama>;
}
interface NlcLlama {
  loadModel(o: Record<string, unknown>): Promise<NlcModel>;
}
interface NlcModel {
  createContext(o: Record<string, unknown>): Promise<NlcContext>;
  dispose(): Promise<void>;
}
interface NlcContext {
  getSequence(): { controlledEvaluate(items: unknown[]): Promise<({ next?: { logits?: Map<number, number> } } | undefined)[]> };
  dispose(): Promise<void>;
}

/** True if `e` (or an error in its cause chain) says that package `name` cannot be found. */
function isMissingModule(e: unknown, name: string): boolean {
  for (let cur: unknown = e, depth = 0; cur instanceof Error && depth < 5; cur = cur.cause, depth++) {
    const code = (cur as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || cur.message.includes(`Cannot find package '${name}'`)) return true;
  }
  return false;
}

/** Import node-llama-cpp, or throw E_LLAMA_MISSING with the install command. */
export async function loadNodeLlamaCpp(): Promise<NlcModule> {
  const spec = 'node-llama-cpp';
  try {
    return (await import(spec)) as NlcModule;
  } catch (e) {
    if (isMissingModule(e, spec)) {
      throw new UnavailableError('E_LLAMA_MISSING', `node-llama-cpp is not installed; it is an optional engine (about 700 MB with GPU variants) needed to run GGUF files in llama.cpp`, {
        hint: NODE_LLAMA_CPP_INSTALL,
        cause: e,
      });
    }
    throw new UnavailableError('E_LLAMA_LOAD', `node-llama-cpp failed to load: ${(e as Error).message}`, { hint: NODE_LLAMA_CPP_INSTALL, cause: e });
  }
}

/** Last llama.cpp log lines (errors only), quoted when a load fails. */
const log: string[] = [];
/** One llama.cpp runtime per thread count (each getLlama() call would start another). */
const runtimes = new Map<number, Promise<NlcLlama>>();

function llamaFor(threads: number): Promise<NlcLlama> {
  let r = runtimes.get(threads);
  if (!r) {
    r = loadNodeLlamaCpp().then((nlc) =>
      nlc
        .getLlama({
          gpu: false,
          build: 'never',
          maxThreads: threads,
          logLevel: 'error',
          logger: (level: string, message: string) => { log.push(`${level}: ${message.trim()}`); if (log.length > 20) log.shift(); },
        })
        .catch((e: unknown) => {
          throw new UnavailableError('E_LLAMA_BINARY', `node-llama-cpp found no usable prebuilt CPU build of llama.cpp (${(e as Error).name}: ${(e as Error).message})`, {
            hint: `reinstall it: ${NODE_LLAMA_CPP_INSTALL}`,
            cause: e,
          });
        }),
    );
    runtimes.set(threads, r);
    r.catch(() => runtimes.delete(threads));
  }
  return r;
}

/**
 * Logits of every position of `tokens` computed by llama.cpp: row i is the distribution of the token
 * after tokens[0..i]. Returns a Float32Array of shape [n, vocab].
 * @example const logits = await llamaCppLogits({ gguf: 'tiny-f32.gguf', tokens: [1, 2, 3] });
 */
export async function llamaCppLogits(p: LlamaCppLogitsParams): Promise<Float32Array> {
  const n = p.tokens.length;
  if (n === 0) throw new InputError('E_TOKENS', 'llama.cpp logits: the token list is empty');
  const bad = p.tokens.findIndex((t) => !Number.isInteger(t) || t < 0);
  if (bad >= 0) throw new InputError('E_TOKENS', `llama.cpp logits: token ${bad} is ${p.tokens[bad]}, expected a non-negative integer id`);
  if (!(await stat(p.gguf).catch(() => undefined))?.isFile()) throw new InputError('E_NOT_FOUND', `${p.gguf}: no such GGUF file`);
  const threads = p.threads ?? 1;
  const llama = await llamaFor(threads);
  let model: NlcModel;
  try {
    model = await llama.loadModel({ modelPath: p.gguf, gpuLayers: 0 });
  } catch (e) {
    throw new InputError('E_LLAMA_LOAD', `${p.gguf}: llama.cpp could not load the model (${(e as Error).message}); llama.cpp said: ${log.slice(-5).join(' | ') || 'nothing'}`, { cause: e });
  }
  try {
    const ctx = await model.createContext({
      contextSize: Math.max(n, 32),
      batchSize: Math.max(1, Math.min(n, p.batchSize ?? DEFAULT_BATCH)),
      sequences: 1,
      threads,
      flashAttention: false,
      experimentalKvCacheKeyType: 'F32',
      experimentalKvCacheValueType: 'F32',
    });
    try {
      // node-llama-cpp returns each position's logits as a Map over the whole vocabulary; evaluate in
      // segments (the state carries over) so at most MAX_MAP_ENTRIES map entries are alive at once.
      const seq = ctx.getSequence();
      let vocab = 0;
      let out = new Float32Array(0);
      for (let i = 0; i < n; ) {
        const len = i === 0 ? 1 : Math.max(1, Math.min(n - i, Math.floor(MAX_MAP_ENTRIES / vocab)));
        const res = await seq.controlledEvaluate(p.tokens.slice(i, i + len).map((t) => [t, { generateNext: { logits: true } }])).catch((e: unknown) => {
          const top = i === 0 ? '' : ` (vocabulary: ${vocab} tokens)`;
          throw new InputError('E_LLAMA_EVAL', `${p.gguf}: llama.cpp failed to evaluate tokens ${i}..${i + len - 1}${top}: ${(e as Error).message}; token ids must be below the vocabulary size`, { cause: e });
        });
        for (let k = 0; k < len; k++, i++) {
          const m = res[k]?.next?.logits;
          if (!m) throw new InputError('E_LLAMA_OUTPUT', `${p.gguf}: llama.cpp returned no logits for position ${i}`);
          if (i === 0) {
            vocab = m.size;
            out = new Float32Array(n * vocab);
          }
          if (m.size !== vocab) throw new InputError('E_LLAMA_OUTPUT', `${p.gguf}: llama.cpp returned ${m.size} logits at position ${i}, expected ${vocab}`);
          for (const [tok, v] of m) {
            if (tok < 0 || tok >= vocab) throw new InputError('E_LLAMA_OUTPUT', `${p.gguf}: logit for token ${tok} outside the vocabulary of ${vocab}`);
            out[i * vocab + tok] = v;
          }
        }
      }
      return out;
    } finally {
      await ctx.dispose();
    }
  } finally {
    await model.dispose();
  }
}
