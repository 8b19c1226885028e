import type { Command } from 'commander';
import { action, type CommandContext } from './_shared/action.js';
import { parsePart, parseSafetensorsDtype } from '../core/convert/options.js';
import { parseSize } from '../core/units.js';
import type { RunParams } from '../core/convert/run.js';
import { SCHEME_IDS } from '../core/formats/index.js';
import { renderRun, runWithProgress, type ConversionRunOpts } from './_shared/conversion-run.js';
import { checkpointOptions, checkpointPath, type CheckpointArgOptions } from './_shared/checkpoint-arg.js';

interface DequantizeOpts extends ConversionRunOpts {
  dtype?: string;
}

export function register(program: Command): void {
  checkpointOptions(program.command('dequantize'))
    .description(`restore a BF16 checkpoint from one quantized by m1kit (${SCHEME_IDS.join(', ')})`)
    .argument('<in>', 'quantized checkpoint directory (quantization_config in config.json)')
    .argument('<out>', 'output directory')
    .option('--dtype <dtype>', 'bf16 | fp16 | fp32', 'bf16')
    .option('--max-shard-size <size>', 'largest output file (default: keep the input files)')
    .option('--part <i/N>', 'write only the i-th of N slices of the output files')
    .option('--finalize', 'write index, config and manifest once every part is done')
    .option('--force', 'replace an output directory that holds a different conversion')
    .option('--wait', 'wait for another run writing <out> to finish instead of failing at once')
    .option('--dry-run', 'print the plan without writing')
    .addHelpText(
      'after',
      `
Examples:
  $ m1kit dequantize m1-fp8 m1-bf16          # fp8: w = e4m3(code) · weight_scale_inv per 128×128 block
  $ m1kit dequantize m1-w4a16 m1-bf16 --json`,
    )
    .action(
      action('dequantize', async (ctx: CommandContext, input: string, output: string, o: DequantizeOpts & CheckpointArgOptions) => {
        input = await checkpointPath(ctx, input, o);
        const params: RunParams = { kind: 'dequantize', input, output, dtype: parseSafetensorsDtype(o.dtype ?? 'bf16'), force: Boolean(o.force), dryRun: Boolean(o.dryRun), finalizeOnly: Boolean(o.finalize), wait: Boolean(o.wait) };
        if (o.maxShardSize !== undefined) params.maxShardBytes = parseSize(o.maxShardSize, '--max-shard-size');
        if (o.part !== undefined) params.part = parsePart(o.part);
        const r = await runWithProgress(ctx, 'dequantize', params);
        ctx.reporter.result(r, () => renderRun(r));
      }),
    );
}
