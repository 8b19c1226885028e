import { Option, type Command } from 'commander';
import { action, intArg } from './_shared/action.js';
import { formatBytes } from './_shared/reporter.js';
import { checkpointOptions, checkpointPath, type CheckpointArgOptions } from './_shared/checkpoint-arg.js';
import { openTensorView } from '../core/view/open.js';
import { collectInputs, guardOutput } from '../core/fs/output-guard.js';
import { computeImatrix } from '../core/imatrix/run.js';
import { writeImatrix } from '../core/imatrix/write.js';
import { parseSize } from '../core/units.js';
import { KERNEL_CHOICES, resolveNative, type KernelChoice } from '../core/model/kernels.js';
import type { Precision } from '../core/model/session.js';
import { count } from '../core/plural.js';
import { chunkCorpus, DEFAULT_CTX } from '../core/verify/corpus.js';
import { textInputOptions } from './_shared/text-input-arg.js';
import { BOS_HELP, bosArg, corpusFileOf, corpusInput, type CorpusInputOptions } from './_shared/corpus-input.js';

interface ImatrixOpts extends CorpusInputOptions {
  out: string;
  ctx: number;
  chunks?: number;
  processOutput?: boolean;
  precision: Precision;
  batchChunks?: number;
  maxMemory?: string;
  kernels: KernelChoice;
}

export function register(program: Command): void {
  textInputOptions(checkpointOptions(program.command('imatrix')), { tokens: 'the calibration corpus as one token sequence (JSON file or comma list)', sources: ['text', 'text-file'] })
    .description('importance matrix over a calibration corpus, in llama.cpp\'s GGUF imatrix format (for llama-quantize --imatrix)')
    .argument('<checkpoint>', 'the unquantized checkpoint directory, or a repo id in the Hugging Face cache')
    .option('--out <imatrix.gguf>', 'output file', 'imatrix.gguf')
    .option('--ctx <n>', 'tokens per chunk, as llama-imatrix -c', intArg('--ctx', 16), DEFAULT_CTX)
    .option('--chunks <n>', 'use only the first n chunks', intArg('--chunks'))
    .option('--bos <id|none>', BOS_HELP, bosArg)
    .option('--process-output', 'also collect the LM head (output.weight), as llama-imatrix --process-output')
    .addOption(new Option('--precision <p>', 'body precision').choices(['fp32', 'bf16']).default('fp32'))
    .option('--batch-chunks <n>', 'chunks per layer-major pass (default all: the weights are read once)', intArg('--batch-chunks'))
    .option('--max-memory <size>', 'bound on memory held for weights, e.g. 8G')
    .addOption(new Option('--kernels <k>', 'native kernels or the TypeScript reference (auto: native when the addon is loaded)').choices([...KERNEL_CHOICES]).default('auto'))
    .addHelpText('after', `
The corpus (--text-file, tokenized whole with the checkpoint's tokenizer.json, or --tokens) is cut into chunks of --ctx tokens as llama-imatrix cuts it; every position goes through the
model and the inputs of each matrix product are summed per column (Σx², Σx) with a row count, one
vector per expert for the stacked expert tensors. Tensor names are the GGUF names m1kit convert writes.

Examples:
  m1kit imatrix fixtures/tiny --text-file calib.txt --ctx 64 --out tiny.imatrix.gguf
  m1kit imatrix fixtures/tiny --tokens calib-ids.json --ctx 64 --out tiny.imatrix.gguf
  m1kit convert fixtures/tiny tiny-f16.gguf --dtype f16
  llama-quantize --imatrix tiny.imatrix.gguf tiny-f16.gguf tiny-q4_k.gguf Q4_K_M
  m1kit imatrix /models/MiniMax-M1-40k --text-file calib.txt --chunks 100 --max-memory 64G --json`)
    .action(action('imatrix', async (ctx, dir: string, o: ImatrixOpts & CheckpointArgOptions) => {
      dir = await checkpointPath(ctx, dir, o);
      const corpusFile = corpusFileOf(o);
      const inputs = await collectInputs([{ path: dir, label: 'checkpoint' }, corpusFile !== undefined ? { path: corpusFile, label: 'corpus' } : undefined]);
      const out = await guardOutput({ path: o.out, kind: 'file', label: '--out', extra: [`${o.out}.incomplete`] }, inputs);
      const ckpt = await openTensorView(dir, { signal: ctx.signal });
      try {
        const input = await corpusInput(ctx, [dir], o, ckpt.config.vocabSize);
        const corpus = chunkCorpus(input.tokens, { ctx: o.ctx, ...(o.chunks !== undefined ? { chunks: o.chunks } : {}), ...(input.bos !== undefined ? { bos: input.bos } : {}), label: input.label });
        const bar = ctx.reporter.progress('imatrix', 1, 'items');
        const m = await computeImatrix({
          checkpoint: ckpt, corpus, processOutput: Boolean(o.processOutput), precision: o.precision, kernels: resolveNative(o.kernels) ? 'native' : 'ts',
          ...(o.batchChunks !== undefined ? { batchChunks: o.batchChunks } : {}),
          ...(o.maxMemory !== undefined ? { maxMemory: parseSize(o.maxMemory, '--max-memory') } : {}),
          ...(ctx.globals.threads !== undefined ? { threads: ctx.globals.threads } : {}),
          signal: ctx.signal,
          onProgress: (d, t) => { bar.setTotal(t); bar.update(d); },
        });
        bar.stop();
        const datasets = [input.dataset];
        const bytes = await writeImatrix(out.real, m, datasets);
        const partial = m.entries.filter((e) => e.counts.some((c) => c === 0)).map((e) => e.name);
        const res = { out: o.out, bytes, entries: m.entries.length, chunks: m.chunks, chunkSize: m.chunkSize, tokens: m.tokens, batches: m.batches, bytesRead: m.bytesRead, datasets, partial };
        for (const name of partial) ctx.reporter.warn(`${name}: some experts received no token of the corpus (their counts are 0; a longer corpus covers them)`);
        ctx.reporter.result(res, () => `wrote ${res.entries} importance entries over ${count(m.chunks, 'chunk')} × ${m.chunkSize} tokens (${formatBytes(bytes)}) to ${o.out}`);
      } finally {
        await ckpt.close();
      }
    }));
}
