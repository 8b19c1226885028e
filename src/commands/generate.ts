import { Option, type Command } from 'commander';
import { action, intArg } from './_shared/action.js';
import { openTensorView } from '../core/view/open.js';
import { UsageError } from '../core/errors.js';
import { parseSize } from '../core/units.js';
import { KERNEL_CHOICES, resolveNative, type KernelChoice } from '../core/model/kernels.js';
import { collectInputs } from '../core/fs/output-guard.js';
import { checkpointOptions, checkpointPath, type CheckpointArgOptions } from './_shared/checkpoint-arg.js';
import { TEXT_INPUT_HELP, textInput, textInputOptions, type TextInputArgOptions } from './_shared/text-input-arg.js';
import { EARLY_TRUNCATION_DEFAULTS } from '../core/generation/early-truncation.js';
import { generate, type StopReason } from '../core/generation/generate.js';
import { loadTokenizer, type TextTokenizer } from '../core/text/tokenizer.js';
import { count } from '../core/plural.js';

interface GenerateOpts extends TextInputArgOptions {
  maxTokens: number;
  temperature: number;
  topP: number;
  seed: number;
  earlyStopP: number;
  earlyStopWindow: number;
  stopAtEos: boolean;
  precision: 'fp32' | 'bf16';
  lmHead: 'fp32' | 'bf16';
  maxMemory?: string;
  kernels: KernelChoice;
}

/** MiniMax-M1's recommended sampling settings (model card): temperature 1.0, top-p 0.95. */
const DEFAULTS = { maxTokens: 128, temperature: 1, topP: 0.95 } as const;

const num = (name: string, lo: number, hi: number, loOpen = false) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || (loOpen ? n <= lo : n < lo) || n > hi) throw new UsageError(`${name} expects a number in ${loOpen ? '(' : '['}${lo}, ${hi}], got "${v}"`);
  return n;
};

/** Tokens held back at most while they decode to an unfinished character (invalid bytes then flush). */
const MAX_PENDING_TOKENS = 8;

/**
 * Streams byte-level tokens as text: a token may end inside a UTF-8 character, so pending tokens are
 * written once they decode to whole characters; when invalid bytes keep the tail unfinished, all but
 * the last 3 pending tokens are written after MAX_PENDING_TOKENS.
 */
class TextStream {
  private pending: number[] = [];
  constructor(private readonly tok: TextTokenizer, private readonly write: (s: string) => void) {}
  push(id: number): void {
    this.pending.push(id);
    const text = this.tok.decode(this.pending);
    if (!text.endsWith('\uFFFD')) {
      this.write(text);
      this.pending = [];
    } else if (this.pending.length >= MAX_PENDING_TOKENS) {
      this.write(this.tok.decode(this.pending.slice(0, -3)));
      this.pending = this.pending.slice(-3);
    }
  }
  flush(): void {
    if (this.pending.length) this.write(this.tok.decode(this.pending));
    this.pending = [];
  }
}

function stopText(stop: StopReason, n: number, o: { maxTokens: number; context: number; window: number; minProb: number; stopToken?: string }): string {
  switch (stop) {
    case 'stop-token': return `stopped: drew the stop token ${o.stopToken ?? ''} after ${count(n, 'token')}`.replace('  ', ' ');
    case 'max-tokens': return `stopped: reached --max-tokens ${o.maxTokens}`;
    case 'context': return `stopped: reached the model's context of ${o.context} tokens (prompt + generated)`;
    case 'early-truncation': return `stopped: early truncation, ${o.window} consecutive tokens each with p > ${o.minProb} (after ${count(n, 'token')})`;
  }
}

export function register(program: Command): void {
  const cmd = checkpointOptions(program.command('generate'))
    .description('generate text on the reference runtime (temperature, top-p, seed), streaming tokens to stdout, with the M1 report\'s early-truncation guard')
    .argument('<checkpoint>', 'checkpoint directory (bf16, fp32 or quantized), or a repo id in the Hugging Face cache');
  textInputOptions(cmd, { tokens: 'prompt token ids: a comma list "1,2,3" or a JSON file' })
    .option('--max-tokens <n>', 'most tokens to generate', intArg('--max-tokens'), DEFAULTS.maxTokens)
    .option('--temperature <t>', 'softmax temperature; 0 = greedy', num('--temperature', 0, 100), DEFAULTS.temperature)
    .option('--top-p <p>', 'nucleus sampling: draw from the most likely tokens whose probabilities sum to ≥ p', num('--top-p', 0, 1, true), DEFAULTS.topP)
    .option('--seed <n>', 'random seed (the same seed and settings give the same tokens)', intArg('--seed', 0), 0)
    .option('--early-stop-p <p>', 'early truncation: a token counts when its probability exceeds p', num('--early-stop-p', 0, 1), EARLY_TRUNCATION_DEFAULTS.minProb)
    .option('--early-stop-window <n>', 'early truncation: stop after n consecutive counted tokens (0: never)', intArg('--early-stop-window', 0), EARLY_TRUNCATION_DEFAULTS.window)
    .option('--no-stop-at-eos', 'keep generating after the tokenizer\'s EOS token')
    .addOption(new Option('--precision <p>', 'fp32: exact fp32 math; bf16: emulate the official bf16 rounding points').choices(['fp32', 'bf16']).default('fp32'))
    .addOption(new Option('--lm-head <p>', 'LM head precision').choices(['fp32', 'bf16']).default('fp32'))
    .option('--max-memory <size>', 'bound on memory held for weights, e.g. 32G (larger tensors are streamed)')
    .addOption(new Option('--kernels <k>', 'native kernels or the TypeScript reference (auto: native when the addon is loaded)').choices([...KERNEL_CHOICES]).default('auto'))
    .addHelpText('after', `
The prompt is prefilled in one block-form pass; each new token then goes through the recurrent decode
path. Tokens are drawn from softmax(logits / T) cut to the top-p nucleus (T = 0: greedy); ids the
tokenizer does not hold (embedding rows past its vocabulary, as in the released model) are never
drawn. Generation stops at the EOS token (tokenizer_config.json eos_token), after --max-tokens, at the
model's context, or by the MiniMax-M1 report's early-truncation rule: --early-stop-window consecutive
tokens (default 3,000) each drawn with probability > --early-stop-p (default 0.99).

The text goes to stdout as it is generated; why generation stopped goes to stderr. --json prints one
document with the ids, the text, each token's probability and the stop reason instead.

${TEXT_INPUT_HELP}

Examples:
  m1kit generate fixtures/tiny --prompt "Hello" --max-tokens 32
  m1kit generate fixtures/tiny --text "the cat sat on the" --temperature 0 --max-tokens 8 --json
  m1kit generate fixtures/tiny --tokens 262,267 --seed 7 --top-p 0.9
  m1kit generate /models/MiniMax-M1-80k --prompt "Prove that √2 is irrational." --max-memory 64G --max-tokens 4096`)
    .action(action('generate', async (ctx, dir: string, o: GenerateOpts & CheckpointArgOptions) => {
      dir = await checkpointPath(ctx, dir, o);
      const maxMemory = o.maxMemory !== undefined ? parseSize(o.maxMemory, '--max-memory') : undefined;
      const kernels = resolveNative(o.kernels) ? 'native' : 'ts';
      await collectInputs([{ path: dir, label: 'checkpoint' }]);
      const ckpt = await openTensorView(dir, { signal: ctx.signal });
      try {
        const context = ckpt.config.maxPositionEmbeddings;
        const input = await textInput(ctx, dir, o, { vocabSize: ckpt.config.vocabSize, maxTokens: context - 1, tooLongHint: 'generation needs room for at least one new token' });
        if (!input) throw new UsageError('give the prompt with --prompt, --text, --text-file or --tokens');
        if (input.sequences.length !== 1) throw new UsageError(`--tokens holds ${count(input.sequences.length, 'sequence')}; generate takes one prompt`);
        const prompt = input.sequences[0]!;
        const tok = input.tokenizer ?? (await loadTokenizer(dir).catch(() => undefined));
        if (!tok) ctx.reporter.warn(`${dir}: no tokenizer.json; printing token ids instead of text`);
        const stream = tok ? new TextStream(tok, (s) => ctx.reporter.write(s)) : undefined;
        const stopIds = o.stopAtEos && tok ? tok.eosIds : [];
        const r = await generate({
          checkpoint: ckpt, prompt, maxTokens: o.maxTokens, temperature: o.temperature, topP: o.topP, seed: o.seed, stopIds,
          ...(tok ? { allowed: (id: number) => tok.has(id) } : {}),
          earlyTruncation: { minProb: o.earlyStopP, window: o.earlyStopWindow },
          precision: o.precision, lmHead: o.lmHead, kernels, ...(maxMemory !== undefined ? { maxMemory } : {}),
          ...(ctx.globals.threads !== undefined ? { threads: ctx.globals.threads } : {}), signal: ctx.signal,
          onToken: ({ id, index }) => {
            if (stream) { if (!stopIds.includes(id)) stream.push(id); } else ctx.reporter.write(`${index ? ',' : ''}${id}`);
          },
        });
        stream?.flush();
        ctx.reporter.write('\n');
        const stopToken = r.stop === 'stop-token' ? tok?.token(r.tokens[r.tokens.length - 1]!) : undefined;
        const why = stopText(r.stop, r.tokens.length, { maxTokens: o.maxTokens, context, window: o.earlyStopWindow, minProb: o.earlyStopP, ...(stopToken ? { stopToken } : {}) });
        const tps = r.tokens.length / Math.max(r.generateSeconds, 1e-9);
        ctx.reporter.info(`${why} — ${count(prompt.length, 'prompt token')} in ${r.promptSeconds.toFixed(2)} s, ${count(r.tokens.length, 'token')} at ${tps.toFixed(1)} tokens/s (${kernels} kernels)`);
        ctx.reporter.result({
          prompt: { source: input.source, tokens: prompt.length, ...(input.text !== undefined ? { text: input.text } : {}) },
          generated: { ids: r.tokens, ...(tok ? { text: tok.decode(r.stop === 'stop-token' ? r.tokens.slice(0, -1) : r.tokens) } : {}), probs: r.probs },
          stop: { reason: r.stop, message: why },
          sampling: { temperature: o.temperature, topP: o.topP, seed: o.seed },
          earlyTruncation: { minProb: o.earlyStopP, window: o.earlyStopWindow, run: r.earlyTruncationRun },
          precision: o.precision, lmHead: o.lmHead, kernels, promptSeconds: r.promptSeconds, generateSeconds: r.generateSeconds, tokensPerSecond: tps,
        });
      } finally {
        await ckpt.close();
      }
    }));
}
