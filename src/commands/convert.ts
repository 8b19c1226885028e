import type { Command } from 'commander';
import { action, intArg, type CommandContext } from './_shared/action.js';
import { formatBytes, type Progress } from './_shared/reporter.js';
import { count } from '../core/plural.js';
import { InterruptedError, UsageError } from '../core/errors.js';
import { parseExperts, parseGgufDtype, parsePart, parseSafetensorsDtype } from '../core/convert/options.js';
import { parseSize } from '../core/units.js';
import type { runConversion } from '../core/convert/run.js';
import type { ConvertGgufParams } from '../core/gguf/convert.js';
import { checkpointOptions, checkpointPath, type CheckpointArgOptions } from './_shared/checkpoint-arg.js';
import { renderRun, runWithProgress, waitingLine, type ConversionRunOpts } from './_shared/conversion-run.js';
import { readChatTemplate } from '../core/text/tokenizer.js';

interface ConvertOpts extends ConversionRunOpts {
  to?: string;
  dtype?: string;
  tp?: number;
  ep?: number;
  experts?: string;
  merge?: boolean;
  castRouter?: boolean;
  chatTemplate?: string;
}

/** Output format: --to, else inferred from the output's extension; a contradiction is refused. */
export function outputFormat(to: string | undefined, output: string): 'safetensors' | 'gguf' {
  const gguf = /\.gguf$/i.test(output);
  if (to === undefined) return gguf ? 'gguf' : 'safetensors';
  if (to !== 'safetensors' && to !== 'gguf') throw new UsageError(`--to must be safetensors or gguf; got "${to}"`);
  if (to === 'safetensors' && gguf) throw new UsageError(`--to safetensors writes a directory, but ${output} ends in .gguf; drop --to (GGUF is inferred from the extension) or choose another output name`);
  return to;
}

async function toGguf(ctx: CommandContext, input: string, output: string, o: ConvertOpts): Promise<void> {
  const dtype = parseGgufDtype(o.dtype ?? 'bf16');
  for (const [flag, v] of [['--tp', o.tp], ['--ep', o.ep], ['--experts', o.experts], ['--part', o.part], ['--max-shard-size', o.maxShardSize], ['--merge', o.merge], ['--finalize', o.finalize]] as const) {
    if (v !== undefined && v !== false) throw new UsageError(`${flag} applies to safetensors output only, not GGUF (${o.to === undefined ? `${output} ends in .gguf` : "--to gguf"})`);
  }
  // loaded only for GGUF output (the exporter and its encode pool are not needed for safetensors)
  const { convertToGguf } = await import('../core/gguf/convert.js');
  let bar: Progress | undefined;
  // the exporter has checked its input and output once bytes flow: the plan line, then the bar
  const onProgress = (d: number, t: number) => {
    if (!bar) {
      ctx.reporter.info(`gguf: ${input} → ${output} (${dtype}): reading ${formatBytes(t)} of weights`);
      bar = ctx.reporter.progress('gguf', t, 'bytes');
    }
    bar.setTotal(t);
    bar.update(d);
  };
  try {
    const params: ConvertGgufParams = { input, output, dtype, wait: Boolean(o.wait), onWait: (h, f) => ctx.reporter.info(waitingLine(h, f)), signal: ctx.signal, onProgress };
    if (o.chatTemplate !== undefined) params.chatTemplate = await readChatTemplate(o.chatTemplate);
    if (ctx.globals.threads !== undefined) params.threads = ctx.globals.threads;
    const summary = await convertToGguf(params);
    bar?.finish(`read ${formatBytes(bar.value())}`);
    ctx.reporter.result(summary, () => `wrote ${output} (${dtype}): ${count(summary.tensors, 'tensor')}, ${formatBytes(summary.bytes)}`);
  } catch (err) {
    bar?.stop();
    if (ctx.signal.aborted) throw new InterruptedError(`interrupted: nothing kept (the partial ${output} was removed)`, { hint: 'run the same command again: a GGUF export starts over' });
    throw err;
  }
}

export function register(program: Command): void {
  checkpointOptions(program.command('convert'))
    .description('re-shard a MiniMax-M1 checkpoint: size-based shards, tensor/expert-parallel rank layouts, stacked or fused experts, dtype casts, or GGUF')
    .argument('<in>', 'input checkpoint directory (HF layout, an m1kit rank/stacked layout), or a repo id in the Hugging Face cache')
    .argument('<out>', 'output directory, or a .gguf file (GGUF output is inferred from the extension)')
    .option('--to <format>', 'safetensors | gguf (default: gguf when <out> ends in .gguf, else safetensors)')
    .option('--dtype <dtype>', 'safetensors: bf16 | fp16 | fp32 (router stays F32 unless --cast-router); gguf: f32 | f16 | bf16 | q8_0 | q4_0')
    .option('--max-shard-size <size>', 'largest output file, e.g. 5GB, 2GiB (default: keep the input files when the layout is HF, else 5GB)')
    .option('--tp <n>', 'tensor-parallel ranks: one rank-XXXXX-of-YYYYY/ directory per rank', intArg('--tp'))
    .option('--ep <m>', 'expert-parallel ranks: experts split contiguously over ranks', intArg('--ep'))
    .option('--experts <layout>', 'per-expert | stacked | fused-w13', undefined)
    .option('--merge', 'write the standard HF layout (from a rank or stacked layout); restores the original files')
    .option('--cast-router', 'apply --dtype to the F32 router too')
    .option('--part <i/N>', 'write only the i-th of N disjoint slices of the output files (Kubernetes Indexed Job, Slurm array)')
    .option('--finalize', 'write index, config and manifest once every part is done')
    .option('--force', 'replace an output directory that holds a different conversion')
    .option('--dry-run', 'print the plan (files, sizes per group) without writing')
    .option('--wait', 'wait for another run writing <out> to finish instead of failing at once')
    .option('--chat-template <file.jinja>', 'GGUF: write this chat template instead of the checkpoint\'s (e.g. llama.cpp\'s models/templates/MiniMax-M1.jinja)')
    .addHelpText(
      'after',
      `
Examples:
  $ m1kit convert MiniMax-M1-80k out --max-shard-size 10GB
  $ m1kit convert MiniMax-M1-80k out-tp8 --tp 8            # rank-00000-of-00008/ … rank-00007-of-00008/
  $ m1kit convert MiniMax-M1-80k out-ep8 --tp 8 --ep 8     # attention TP8, whole experts 4 per rank
  $ m1kit convert out-tp8 merged --merge                   # back to the original HF files, bit-identical
  $ m1kit convert MiniMax-M1-80k stacked --experts fused-w13
  $ m1kit convert MiniMax-M1-80k out --tp 8 --part 3/16    # one of 16 machines; then: --finalize
  $ m1kit convert MiniMax-M1-80k m1.gguf --dtype q8_0     # GGUF (from the extension)
  $ m1kit convert MiniMax-M1-80k m1.gguf --chat-template MiniMax-M1.jinja

GGUF export carries the tokenizer (pre-type detected from its split pattern), lists embedding rows that
are all zero as tokenizer.ggml.suppress_tokens, and folds unequal residual alphas/betas into the
weights (docs/gguf.md).

Interrupted runs resume when started again with the same arguments; only unfinished files are redone.`,
    )
    .action(
      action('convert', async (ctx: CommandContext, input: string, output: string, o: ConvertOpts & CheckpointArgOptions) => {
        input = await checkpointPath(ctx, input, o);
        if (outputFormat(o.to, output) === 'gguf') return toGguf(ctx, input, output, o);
        if (o.chatTemplate !== undefined) throw new UsageError('--chat-template applies to GGUF output only; a safetensors checkpoint keeps its tokenizer files');
        if (o.merge && ((o.tp ?? 1) > 1 || (o.ep ?? 1) > 1 || (o.experts !== undefined && o.experts !== 'per-expert'))) {
          throw new UsageError('--merge writes the HF per-expert layout; it cannot be combined with --tp, --ep or --experts');
        }
        const params: Parameters<typeof runConversion>[0] = { kind: 'convert', input, output, force: Boolean(o.force), dryRun: Boolean(o.dryRun), finalizeOnly: Boolean(o.finalize), castRouter: Boolean(o.castRouter), wait: Boolean(o.wait) };
        if (o.dtype !== undefined) params.dtype = parseSafetensorsDtype(o.dtype);
        if (o.maxShardSize !== undefined) params.maxShardBytes = parseSize(o.maxShardSize, '--max-shard-size');
        if (o.tp !== undefined) params.tp = o.tp;
        if (o.ep !== undefined) params.ep = o.ep;
        if (o.experts !== undefined) params.experts = parseExperts(o.experts);
        if (o.part !== undefined) params.part = parsePart(o.part);
        const r = await runWithProgress(ctx, 'convert', params);
        ctx.reporter.result(r, () => renderRun(r));
      }),
    );
}
