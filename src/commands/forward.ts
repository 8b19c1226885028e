import { Option, type Command } from 'commander';
import { action } from '../cli/action.js';
import { formatBytes } from '../cli/reporter.js';
import { openCheckpoint } from '../core/checkpoint/validate.js';
import { UsageError } from '../core/errors.js';
import { forward } from '../core/model/forward.js';
import { loadTokens } from '../core/model/tokens.js';
import { parseByteSize } from '../core/model/budget.js';
import { writeLogits } from '../core/model/write-logits.js';
import { KERNEL_CHOICES, resolveNative, type KernelChoice } from '../core/model/kernels.js';
import { collectInputs, guardOutput } from '../core/fs/output-guard.js';
import { checkpointOptions, checkpointPath, type CheckpointArgOptions } from '../cli/checkpoint-arg.js';
import { count } from '../core/plural.js';

interface ForwardOpts {
  tokens: string;
  out: string;
  mode: 'prefill' | 'decode';
  precision: 'fp32' | 'bf16';
  lmHead: 'fp32' | 'bf16';
  logitScale: number;
  maxMemory?: string;
  kernels: KernelChoice;
}

const positive = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${name} expects a positive number, got "${v}"`);
  return n;
};

export function register(program: Command): void {
  checkpointOptions(program.command('forward'))
    .description('run the reference forward pass and write the logits of every token (tensor "logits", F32 [n, vocab])')
    .argument('<checkpoint>', 'checkpoint directory (config.json + safetensors; bf16, fp32 or quantized), or a repo id in the Hugging Face cache')
    .requiredOption('--tokens <ids>', 'token ids: a JSON file ([...] or {"input_ids": [...]}) or a comma list "1,2,3"')
    .requiredOption('--out <file.safetensors>', 'output file')
    .addOption(new Option('--mode <mode>', 'prefill: block-form pass over all tokens; decode: token by token through the recurrent path').choices(['prefill', 'decode']).default('prefill'))
    .addOption(new Option('--precision <p>', 'fp32: exact fp32 math; bf16: emulate the official bf16 rounding points').choices(['fp32', 'bf16']).default('fp32'))
    .addOption(new Option('--lm-head <p>', 'LM head precision (independent of --precision)').choices(['fp32', 'bf16']).default('fp32'))
    .option('--logit-scale <x>', 'multiply the final-norm weight by x', positive('--logit-scale'), 1)
    .option('--max-memory <size>', 'bound on memory held for weights, e.g. 8G (larger tensors are streamed)')
    .addOption(new Option('--kernels <k>', 'layer ops on the native kernels, or the TypeScript reference loops (auto: native when the addon is loaded)').choices([...KERNEL_CHOICES]).default('auto'))
    .addHelpText(
      'after',
      `
Row i of "logits" holds the logits after token i. In decode mode every token (the first included) goes
through the recurrent path from an empty state, so prefill and decode outputs can be compared directly.
--kernels native runs GEMM (on the stored bf16 weights), lightning and softmax attention on the native
kernels; --kernels ts runs the TypeScript reference (float64 accumulation, bit-reproducible, slow).

Examples:
  m1kit forward fixtures/tiny --tokens 1,2,3,4 --out /tmp/logits.safetensors
  m1kit forward fixtures/tiny --tokens prompt.json --mode decode --precision bf16 --lm-head bf16 --out /tmp/dec.safetensors
  m1kit forward fixtures/tiny --tokens 1,2,3 --kernels ts --out /tmp/ref.safetensors
  m1kit forward /models/MiniMax-M1-40k --tokens ids.json --max-memory 32G --out logits.safetensors --json`,
    )
    .action(
      action('forward', async (ctx, dir: string, o: ForwardOpts & CheckpointArgOptions) => {
        dir = await checkpointPath(ctx, dir, o);
        const seqs = await loadTokens(o.tokens);
        if (seqs.length !== 1) throw new UsageError(`--tokens holds ${count(seqs.length, 'sequence')}; forward takes exactly one`);
        const tokens = seqs[0]!;
        const maxMemory = o.maxMemory !== undefined ? parseByteSize(o.maxMemory) : undefined;
        const kernels = resolveNative(o.kernels) ? 'native' : 'ts';
        // checked before the pass: never an input, a directory that exists and is writable
        const inputs = await collectInputs([{ path: dir, label: 'checkpoint' }, { path: o.tokens, label: '--tokens file' }]);
        const out = await guardOutput({ path: o.out, kind: 'file', label: '--out', extra: [`${o.out}.incomplete`] }, inputs);
        const ckpt = await openCheckpoint(dir, { signal: ctx.signal });
        try {
          const V = ckpt.config.vocabSize;
          const bar = ctx.reporter.progress('forward', 1, 'items');
          const t0 = performance.now();
          const logits = await forward({
            checkpoint: ckpt,
            tokens,
            mode: o.mode,
            precision: o.precision,
            lmHead: o.lmHead,
            logitScale: o.logitScale,
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
          const bytes = await writeLogits(out.real, logits, tokens.length, V, { mode: o.mode, precision: o.precision, lm_head: o.lmHead, logit_scale: String(o.logitScale) });
          const res = { out: o.out, tokens: tokens.length, vocab: V, mode: o.mode, precision: o.precision, lmHead: o.lmHead, logitScale: o.logitScale, kernels, seconds, tokensPerSecond: tokens.length / seconds, bytes };
          ctx.reporter.result(res, () => `wrote logits [${tokens.length}, ${V}] (${formatBytes(bytes)}) to ${o.out} — ${o.mode}, ${o.precision} body, ${o.lmHead} LM head, ${kernels} kernels, ${res.tokensPerSecond.toFixed(1)} tokens/s`);
        } finally {
          await ckpt.close();
        }
      }),
    );
}
