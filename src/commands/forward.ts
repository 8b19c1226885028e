import { Option, type Command } from 'commander';
import { action, intArg } from './_shared/action.js';
import { formatBytes, table } from './_shared/reporter.js';
import { openTensorView } from '../core/view/open.js';
import { UsageError } from '../core/errors.js';
import { forward } from '../core/model/forward.js';
import { parseSize } from '../core/units.js';
import { writeLogits } from '../core/model/write-logits.js';
import { KERNEL_CHOICES, resolveNative, type KernelChoice } from '../core/model/kernels.js';
import { collectInputs, guardOutput } from '../core/fs/output-guard.js';
import { checkpointOptions, checkpointPath, type CheckpointArgOptions } from './_shared/checkpoint-arg.js';
import { TEXT_INPUT_HELP, textInput, textInputOptions, type TextInputArgOptions } from './_shared/text-input-arg.js';
import { topK } from '../core/generation/next-token.js';
import { loadTokenizer, type TextTokenizer } from '../core/text/tokenizer.js';
import { count } from '../core/plural.js';

interface ForwardOpts extends TextInputArgOptions {
  out?: string;
  topK?: number;
  mode: 'prefill' | 'decode';
  precision: 'fp32' | 'bf16';
  lmHead: 'fp32' | 'bf16';
  logitScale: number;
  maxMemory?: string;
  kernels: KernelChoice;
}

/** Rows of the next-token table when neither --out nor --top-k is given. */
const DEFAULT_TOP_K = 10;

const positive = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${name} expects a positive number, got "${v}"`);
  return n;
};

interface NextRow { rank: number; id: number; token: string | null; text: string | null; logit: number; p: number }

function nextTable(rows: NextRow[], position: number): string {
  const shown = (s: string | null) => (s === null ? '—' : JSON.stringify(s));
  return `next token after position ${position}:\n` + table(['rank', 'id', 'token', 'text', 'logit', 'p'], rows.map((r) => [r.rank, r.id, shown(r.token), shown(r.text), r.logit.toFixed(4), r.p.toFixed(6)]));
}

export function register(program: Command): void {
  const cmd = checkpointOptions(program.command('forward'))
    .description('run the reference forward pass: the next-token table (top-k tokens, logits, probabilities) and/or the logits of every token (tensor "logits", F32 [n, vocab])')
    .argument('<checkpoint>', 'checkpoint directory (config.json + safetensors; bf16, fp32 or quantized), or a repo id in the Hugging Face cache');
  textInputOptions(cmd)
    .option('--out <file.safetensors>', 'write the logits of every token to this file')
    .option('--top-k <k>', `print the k most likely next tokens (default ${DEFAULT_TOP_K} when there is no --out)`, intArg('--top-k'))
    .addOption(new Option('--mode <mode>', 'prefill: block-form pass over all tokens; decode: token by token through the recurrent path').choices(['prefill', 'decode']).default('prefill'))
    .addOption(new Option('--precision <p>', 'fp32: exact fp32 math; bf16: emulate the official bf16 rounding points').choices(['fp32', 'bf16']).default('fp32'))
    .addOption(new Option('--lm-head <p>', 'LM head precision (independent of --precision)').choices(['fp32', 'bf16']).default('fp32'))
    .option('--logit-scale <x>', 'multiply the final-norm weight by x', positive('--logit-scale'), 1)
    .option('--max-memory <size>', 'bound on memory held for weights, e.g. 8G (larger tensors are streamed)')
    .addOption(new Option('--kernels <k>', 'layer ops on the native kernels, or the TypeScript reference loops (auto: native when the addon is loaded)').choices([...KERNEL_CHOICES]).default('auto'))
    .addHelpText(
      'after',
      `
The input is one of --tokens, --text, --text-file or --prompt. Without --out, forward prints the
next-token table after the last token: id, vocabulary entry, its text, logit and probability
(softmax over the whole vocabulary). With --out, row i of "logits" holds the logits after token i.
In decode mode every token (the first included) goes through the recurrent path from an empty state,
so prefill and decode outputs can be compared directly. --kernels native runs GEMM (on the stored bf16
weights), lightning and softmax attention on the native kernels; --kernels ts runs the TypeScript
reference (float64 accumulation, bit-reproducible, slow).

${TEXT_INPUT_HELP}

Examples:
  m1kit forward fixtures/tiny --prompt "Hello world" --top-k 10
  m1kit forward fixtures/tiny --text "the cat sat on the" --json
  m1kit forward fixtures/tiny --tokens 1,2,3,4 --out /tmp/logits.safetensors
  m1kit forward fixtures/tiny --tokens prompt.json --mode decode --precision bf16 --lm-head bf16 --out /tmp/dec.safetensors
  m1kit forward fixtures/tiny --tokens 1,2,3 --kernels ts --out /tmp/ref.safetensors
  m1kit forward /models/MiniMax-M1-40k --text-file prompt.txt --max-memory 32G --top-k 20 --json`,
    )
    .action(
      action('forward', async (ctx, dir: string, o: ForwardOpts & CheckpointArgOptions) => {
        dir = await checkpointPath(ctx, dir, o);
        const maxMemory = o.maxMemory !== undefined ? parseSize(o.maxMemory, '--max-memory') : undefined;
        const kernels = resolveNative(o.kernels) ? 'native' : 'ts';
        const k = o.topK ?? (o.out === undefined ? DEFAULT_TOP_K : undefined);
        // checked before the pass: never an input, a directory that exists and is writable
        const inputs = await collectInputs([{ path: dir, label: 'checkpoint' }, o.tokens !== undefined ? { path: o.tokens, label: '--tokens file' } : undefined, o.textFile !== undefined ? { path: o.textFile, label: '--text-file' } : undefined]);
        const out = o.out === undefined ? undefined : await guardOutput({ path: o.out, kind: 'file', label: '--out', extra: [`${o.out}.incomplete`] }, inputs);
        const ckpt = await openTensorView(dir, { signal: ctx.signal });
        try {
          const V = ckpt.config.vocabSize;
          const input = await textInput(ctx, dir, o, { vocabSize: V, maxTokens: ckpt.config.maxPositionEmbeddings });
          if (!input) throw new UsageError('give the input with --tokens, --text, --text-file or --prompt');
          if (input.sequences.length !== 1) throw new UsageError(`--tokens holds ${count(input.sequences.length, 'sequence')}; forward takes exactly one`);
          const tokens = input.sequences[0]!;
          // token strings for the table: the input's tokenizer, or the checkpoint's when it has one
          let tok: TextTokenizer | undefined = input.tokenizer;
          if (k !== undefined && !tok) tok = await loadTokenizer(dir).catch(() => undefined);
          const bar = ctx.reporter.progress('forward', 1, 'items');
          const t0 = performance.now();
          const logits = await forward({
            checkpoint: ckpt,
            tokens,
            mode: o.mode,
            precision: o.precision,
            lmHead: o.lmHead,
            logitScale: o.logitScale,
            ...(out === undefined ? { lastOnly: true } : {}),
            ...(maxMemory !== undefined ? { maxMemory } : {}),
            kernels,
            ...(ctx.globals.threads !== undefined ? { threads: ctx.globals.threads } : {}),
            signal: ctx.signal,
            onProgress: (d, t) => {
              bar.setTotal(t);
              bar.update(d);
            },
          });
          const seconds = (performance.now() - t0) / 1000;
          bar.stop();
          const bytes = out === undefined ? undefined : await writeLogits(out.real, logits, tokens.length, V, { mode: o.mode, precision: o.precision, lm_head: o.lmHead, logit_scale: String(o.logitScale) });
          const last = logits.subarray(logits.length - V);
          const next = k === undefined ? undefined : topK(last, k).map((r, i): NextRow => ({ rank: i + 1, id: r.id, token: tok?.token(r.id) ?? null, text: tok?.has(r.id) ? tok.decode([r.id]) : null, logit: r.logit, p: r.p }));
          const res = {
            ...(o.out !== undefined ? { out: o.out } : {}),
            tokens: tokens.length, vocab: V, mode: o.mode, precision: o.precision, lmHead: o.lmHead, logitScale: o.logitScale, kernels, seconds, tokensPerSecond: tokens.length / seconds,
            ...(bytes !== undefined ? { bytes } : {}),
            ...(input.source !== 'tokens' ? { input: { source: input.source, ids: tokens, text: input.text } } : {}),
            ...(next ? { next } : {}),
          };
          ctx.reporter.result(res, () => [
            ...(o.out !== undefined ? [`wrote logits [${tokens.length}, ${V}] (${formatBytes(bytes!)}) to ${o.out} — ${o.mode}, ${o.precision} body, ${o.lmHead} LM head, ${kernels} kernels, ${res.tokensPerSecond.toFixed(1)} tokens/s`] : []),
            ...(next ? [nextTable(next, tokens.length - 1)] : []),
          ].join('\n'));
        } finally {
          await ckpt.close();
        }
      }),
    );
}
