import type { Command } from 'commander';
import { action, intArg, type CommandContext } from './_shared/action.js';
import { formatBytes, table } from './_shared/reporter.js';
import { UsageError, VerificationError } from '../core/errors.js';
import { parsePart } from '../core/convert/options.js';
import { parseSize } from '../core/units.js';
import type { RunParams, RunResult } from '../core/convert/run.js';
import { findFormat, QUANT_FORMATS, SCHEME_IDS } from '../core/formats/index.js';
import { listSchemes } from '../core/quantize/list.js';
import { COMPAT } from '../core/engines/compat.js';
import { parseTargets } from '../core/quantize/targets.js';
import { loadRecipe } from '../core/quantize/recipe.js';
import { checkQuantized, CHECK_SEQ_LEN, CHECK_SEQUENCES, DEFAULT_CHECK_MAX_KLD } from '../core/verify/quantize-check.js';
import { againstJson, type AgainstJson } from '../core/verify/report.js';
import { renderRun, runWithProgress, type ConversionRunOpts } from './_shared/conversion-run.js';
import { checkpointOptions, checkpointPath, type CheckpointArgOptions } from './_shared/checkpoint-arg.js';

interface QuantizeOpts extends ConversionRunOpts {
  scheme?: string;
  targets?: string;
  recipe?: string;
  check?: boolean;
  maxKld?: number;
  groupSize?: number;
  list?: boolean;
  errors?: boolean;
  exactErrors?: boolean;
}

export function register(program: Command): void {
  checkpointOptions(program.command('quantize'))
    .description(`quantize a MiniMax-M1 checkpoint into a layout engines load: ${SCHEME_IDS.join(', ')} (quantize --list describes each)`)
    .argument('[in]', 'input checkpoint directory (BF16), or a repo id in the Hugging Face cache')
    .argument('[out]', 'output directory')
    .option('--scheme <scheme>', SCHEME_IDS.join(' | '))
    .option('--targets <targets>', 'experts | attention | all (experts + attention projections; default all); router, embeddings, lm_head and norms are never quantized')
    .option('--recipe <file>', 'YAML or JSON recipe mapping module patterns (globs or re: regexes over HF names) to a scheme, instead of --scheme/--targets')
    .option('--group-size <n>', `${QUANT_FORMATS.filter((f) => f.groupOption).map((f) => `${f.id} group size (default ${f.defaultGroup})`).join(', ')}; must divide every quantized input dimension`, intArg('--group-size'))
    .option('--max-shard-size <size>', 'largest output file (default: keep the input files)')
    .option('--part <i/N>', 'write only the i-th of N slices of the output files')
    .option('--finalize', 'write index, config and manifest once every part is done')
    .option('--force', 'replace an output directory that holds a different conversion; with --recipe, also quantize the default-ignored embeddings and lm_head its rules match')
    .option('--check', `after writing, compare the output with <in> (a short verify --against: ${CHECK_SEQUENCES} random sequences × ${CHECK_SEQ_LEN} tokens); exit 4 when the mean KLD exceeds --max-kld`)
    .option('--max-kld <x>', `bound on the mean KLD for --check (default ${DEFAULT_CHECK_MAX_KLD}; implies --check)`, kldArg)
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
  $ m1kit quantize fixtures/tiny /tmp/tiny-w4 --scheme w4a16 --group-size 32 --json
  $ m1kit quantize fixtures/tiny /tmp/tiny-r --recipe recipe.yaml --check --max-kld 0.05

A recipe (YAML or JSON; the first rule matching a module decides, "none" keeps it):
  group_size: 32
  rules:
    - match: "model.layers.*.block_sparse_moe.experts.*.*"   # * within a name part, ** across parts
      scheme: w4a16
    - match: "re:model\\.layers\\.[0-9]+\\.self_attn\\.(q|k|v|o)_proj"  # re: anchored at the start
      scheme: w4a16
  ignore: ["model.layers.0.**"]                              # kept unquantized, besides the defaults
Router gates, norms, embeddings, lm_head and the lightning attention norm are ignored by default; a rule
matching them leaves them unquantized (listed in the result) unless --force. --scheme S --targets T is the
recipe with S on the experts and/or attention projections. One scheme per recipe.
--check reads both checkpoints once per layer (the whole model twice on the real M1) and prints the mean
KLD, same top-1 and PPL ratio (--json: "check", the verify --against report); exit 4 when KLD > --max-kld.`,
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
        const check = Boolean(o.check) || o.maxKld !== undefined;
        if (check && (o.dryRun || o.part !== undefined)) throw new UsageError('--check compares a complete output: drop --dry-run/--part (check after --finalize with m1kit verify --against)');
        let quant: NonNullable<RunParams['quant']>;
        if (o.recipe !== undefined) {
          const extra = [o.scheme !== undefined && '--scheme', o.targets !== undefined && '--targets', o.groupSize !== undefined && '--group-size'].filter(Boolean);
          if (extra.length) throw new UsageError(`--recipe replaces ${extra.join(', ')}: put the scheme and group_size in the recipe`);
          quant = { recipe: await loadRecipe(o.recipe), forceIgnored: Boolean(o.force) };
        } else {
          const fmt = o.scheme === undefined ? undefined : findFormat(o.scheme);
          if (!fmt) throw new UsageError(`--scheme must be one of ${SCHEME_IDS.join(', ')}${o.scheme ? `; got "${o.scheme}"` : ' (or give --recipe)'}`);
          if (o.groupSize !== undefined && !fmt.groupOption) throw new UsageError(`--group-size applies to ${QUANT_FORMATS.filter((f) => f.groupOption).map((f) => f.id).join(', ')} only (${fmt.id}: ${fmt.summary})`);
          quant = { scheme: fmt.id, targets: parseTargets(o.targets ?? 'all') };
          if (o.groupSize !== undefined) quant.group = o.groupSize;
        }
        const params: RunParams = { kind: 'quantize', input, output, quant, force: Boolean(o.force), dryRun: Boolean(o.dryRun), finalizeOnly: Boolean(o.finalize), wait: Boolean(o.wait) };
        if (o.maxShardSize !== undefined) params.maxShardBytes = parseSize(o.maxShardSize, '--max-shard-size');
        if (o.part !== undefined) params.part = parsePart(o.part);
        if (o.exactErrors) params.exactErrors = true;
        const r = await runWithProgress(ctx, 'quantize', params);
        let checked: AgainstJson | undefined;
        if (check) {
          const bar = ctx.reporter.progress('check', 1);
          const res = await checkQuantized(output, input, {
            maxKld: o.maxKld, signal: ctx.signal, ...(ctx.globals.threads !== undefined ? { threads: ctx.globals.threads } : {}),
            onProgress: (d, t) => { bar.setTotal(t); bar.update(d); },
          });
          bar.stop();
          checked = againstJson({ engine: 'm1kit', checkpoint: output, reference: input, precision: 'fp32', lmHead: 'fp32' }, res);
        }
        ctx.reporter.result(checked ? { ...r, check: checked } : r, () => {
          let text = renderRun(r);
          if (r.recipe) text += `\n${recipeText(r.recipe)}`;
          if (o.errors && r.errors) {
            const rows = r.errors.map((e) => [e.tensor, e.relRmse.toExponential(3), e.maxAbs.toExponential(3), e.snrDb === null ? 'inf' : e.snrDb.toFixed(1)]);
            text += `\n${table(['tensor', 'rel RMSE', 'max |err|', 'SNR dB'], rows)}`;
          }
          return checked ? `${text}\n${checkText(checked)}` : text;
        });
        // the figures are printed above; the failure is an error line (alone under --quiet), exit 4
        if (checked && !checked.pass) throw new VerificationError('E_CHECK_FAILED', `${output} vs ${input}: ${checked.failures.join('; ')}`);
      }),
    );
}

function kldArg(v: string): number {
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x) || x < 0) throw new UsageError(`--max-kld must be a non-negative number; got "${v}"`);
  return x;
}

function recipeText(r: NonNullable<RunResult['recipe']>): string {
  const list = (xs: string[]) => (xs.length <= 4 ? xs.join(', ') : `${xs.slice(0, 4).join(', ')} … (${xs.length}; all in --json)`);
  let t = `recipe ${r.source}: ${r.scheme}${r.group ? ` (group ${r.group})` : ''} on ${r.modules} modules`;
  if (r.ignored.length) t += `\n  kept by the ignore list: ${list(r.ignored)} (--force quantizes the default-ignored ones)`;
  if (r.forced.length) t += `\n  quantized with --force: ${list(r.forced)}`;
  return t;
}

function checkText(c: AgainstJson): string {
  return `check vs ${c.reference} (${c.sequences} sequences, ${c.tokens} tokens): mean KLD ${c.kld.mean.toExponential(3)} (max ${c.thresholds.maxKld}), `
    + `same top-1 ${c.sameTop1Percent.toFixed(2)}%, PPL ratio ${c.pplRatio.toFixed(4)}: ${c.pass ? 'PASS' : `FAIL: ${c.failures.join('; ')}`}`;
}
