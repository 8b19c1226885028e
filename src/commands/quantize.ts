import type { Command } from 'commander';
import { action, intArg, type CommandContext } from './_shared/action.js';
import { formatBytes, table } from './_shared/reporter.js';
import { UsageError } from '../core/errors.js';
import { parsePart } from '../core/convert/options.js';
import { parseSize } from '../core/units.js';
import type { RunParams } from '../core/convert/run.js';
import { findFormat, QUANT_FORMATS, SCHEME_IDS } from '../core/formats/index.js';
import { listSchemes } from '../core/quantize/list.js';
import { COMPAT } from '../core/engines/compat.js';
import { parseTargets } from '../core/quantize/targets.js';
import { renderRun, runWithProgress, type ConversionRunOpts } from './_shared/conversion-run.js';
import { checkpointOptions, checkpointPath, type CheckpointArgOptions } from './_shared/checkpoint-arg.js';

interface QuantizeOpts extends ConversionRunOpts {
  scheme?: string;
  targets: string;
  groupSize?: number;
  list?: boolean;
  errors?: boolean;
  exactErrors?: boolean;
}

export function register(program: Command): void {
  checkpointOptions(program.command('quantize'))
    .description('quantize a MiniMax-M1 checkpoint: block FP8 (DeepSeek-V3 layout), INT8 per channel or INT4 group-128 (compressed-tensors)')
    .argument('[in]', 'input checkpoint directory (BF16), or a repo id in the Hugging Face cache')
    .argument('[out]', 'output directory')
    .option('--scheme <scheme>', SCHEME_IDS.join(' | '))
    .option('--targets <targets>', 'experts | attention | all (experts + attention projections); router, embeddings, lm_head and norms are never quantized', 'all')
    .option('--group-size <n>', 'w4a16 group size (default 128; must divide every quantized input dimension)', intArg('--group-size'))
    .option('--max-shard-size <size>', 'largest output file (default: keep the input files)')
    .option('--part <i/N>', 'write only the i-th of N slices of the output files')
    .option('--finalize', 'write index, config and manifest once every part is done')
    .option('--force', 'replace an output directory that holds a different conversion')
    .option('--wait', 'wait for another run writing <out> to finish instead of failing at once')
    .option('--dry-run', 'print per-group and total output sizes without writing')
    .option('--errors', 'print the per-tensor error table (always included with --json)')
    .option('--exact-errors', 'measure errors on every row (default: every 8th block of 128 rows, a fixed sample)')
    .option('--list', 'print the scheme table (bits per weight, size of the real M1, expected error)')
    .addHelpText(
      'after',
      `
Examples:
  $ m1kit quantize --list
  $ m1kit quantize MiniMax-M1-80k m1-fp8 --scheme fp8-block
  $ m1kit quantize MiniMax-M1-80k m1-int8 --scheme int8-channel --targets experts --dry-run
  $ m1kit quantize MiniMax-M1-80k m1-nvfp4 --scheme nvfp4          # also mxfp4, mxfp8 (compressed-tensors)
  $ m1kit quantize fixtures/tiny /tmp/tiny-w4 --scheme w4a16 --group-size 32 --json`,
    )
    .action(
      action('quantize', async (ctx: CommandContext, input: string | undefined, output: string | undefined, o: QuantizeOpts & CheckpointArgOptions) => {
        if (o.list) {
          const rows = listSchemes();
          ctx.reporter.result({ schemes: rows, engines: COMPAT }, () =>
            table(['scheme', 'bits/weight', 'MiniMax-M1 size', 'expected error', 'loader'], rows.map((r) => [r.scheme, r.bitsPerWeight.toFixed(3), `${(r.m1Bytes / 1e9).toFixed(1)} GB (${formatBytes(r.m1Bytes)})`, r.expectedError, r.loader])) +
              '\nBF16 original: 912.2 GB. Sizes: experts + attention projections quantized; embeddings, lm_head, norms, routers kept.\n\n' +
              'Engines (from their loader sources; "loads" rows are checked against m1kit\'s output by applying the engine\'s rules):\n' +
              table(['engine', 'versions', 'scheme', 'targets', 'status', 'why'], COMPAT.map((r) => [r.engine, r.versions, r.scheme, r.targets, r.status, r.why])),
          );
          return;
        }
        if (!input || !output) throw new UsageError('quantize needs <in> and <out> (or --list)');
        input = await checkpointPath(ctx, input, o);
        const fmt = o.scheme === undefined ? undefined : findFormat(o.scheme);
        if (!fmt) throw new UsageError(`--scheme must be one of ${SCHEME_IDS.join(', ')}${o.scheme ? `; got "${o.scheme}"` : ''}`);
        if (o.groupSize !== undefined && !fmt.groupOption) throw new UsageError(`--group-size applies to ${QUANT_FORMATS.filter((f) => f.groupOption).map((f) => f.id).join(', ')} only (${fmt.id}: ${fmt.summary})`);
        const quant: NonNullable<RunParams['quant']> = { scheme: fmt.id, targets: parseTargets(o.targets) };
        if (o.groupSize !== undefined) quant.group = o.groupSize;
        const params: RunParams = { kind: 'quantize', input, output, quant, force: Boolean(o.force), dryRun: Boolean(o.dryRun), finalizeOnly: Boolean(o.finalize), wait: Boolean(o.wait) };
        if (o.maxShardSize !== undefined) params.maxShardBytes = parseSize(o.maxShardSize, '--max-shard-size');
        if (o.part !== undefined) params.part = parsePart(o.part);
        if (o.exactErrors) params.exactErrors = true;
        const r = await runWithProgress(ctx, 'quantize', params);
        ctx.reporter.result(r, () => {
          const text = renderRun(r);
          if (!o.errors || !r.errors) return text;
          const rows = r.errors.map((e) => [e.tensor, e.relRmse.toExponential(3), e.maxAbs.toExponential(3), e.snrDb === null ? 'inf' : e.snrDb.toFixed(1)]);
          return `${text}\n${table(['tensor', 'rel RMSE', 'max |err|', 'SNR dB'], rows)}`;
        });
      }),
    );
}
