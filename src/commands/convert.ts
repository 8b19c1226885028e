import type { Command } from 'commander';
import { action, intArg, type CommandContext } from './_shared/action.js';
import { formatBytes, table, type Progress } from './_shared/reporter.js';
import { count } from '../core/plural.js';
import { InterruptedError, UsageError } from '../core/errors.js';
import { parseExperts, parseGgufDtype, parsePart, parseSafetensorsDtype, parseSize } from '../core/convert/options.js';
import { runConversion, type PlanInfo, type RunResult } from '../core/convert/run.js';
import type { LockHolder } from '../core/fs/output-lock.js';
import { checkpointOptions, checkpointPath, type CheckpointArgOptions } from './_shared/checkpoint-arg.js';
import { reloadDone } from '../core/convert/state.js';

interface ConvertOpts {
  to?: string;
  dtype?: string;
  maxShardSize?: string;
  tp?: number;
  ep?: number;
  experts?: string;
  merge?: boolean;
  castRouter?: boolean;
  part?: string;
  finalize?: boolean;
  force?: boolean;
  dryRun?: boolean;
  wait?: boolean;
}

/** Output format: --to, else inferred from the output's extension; a contradiction is refused. */
export function outputFormat(to: string | undefined, output: string): 'safetensors' | 'gguf' {
  const gguf = /\.gguf$/i.test(output);
  if (to === undefined) return gguf ? 'gguf' : 'safetensors';
  if (to !== 'safetensors' && to !== 'gguf') throw new UsageError(`--to must be safetensors or gguf; got "${to}"`);
  if (to === 'safetensors' && gguf) throw new UsageError(`--to safetensors writes a directory, but ${output} ends in .gguf; drop --to (GGUF is inferred from the extension) or choose another output name`);
  return to;
}

/** Message shown while a run waits for the holder of its output's lock. */
export function waitingLine(h: LockHolder, file: string): string {
  return `waiting for another m1kit run writing this output (pid ${h.pid} on ${h.host}, "${h.command}", since ${h.since}; lock ${file})`;
}

/** The plan of a run: layout, bytes per group, totals (the whole result of a --dry-run). */
export function renderPlan(r: RunResult): string {
  const l = r.layout;
  const dirs = l.world > 1 ? `${l.world} rank directories` : 'one directory';
  return [
    `${r.dryRun ? 'plan' : r.kind}: ${r.input} → ${r.output}`,
    `layout: tp ${l.tp} · ep ${l.ep} · ${dirs} · experts ${l.experts} · dtype ${l.dtype}`,
    table(['group', 'tensors', 'input', 'output'], r.groups.map((g) => [g.group, g.tensors, formatBytes(g.inputBytes), formatBytes(g.outputBytes)])),
    `total: ${formatBytes(r.inputBytes)} → ${formatBytes(r.totalBytes)} in ${count(r.files, 'file')}`,
  ].join('\n');
}

/** The closing summary of a run: what was written, what was already there, whether it is complete. */
export function renderSummary(r: RunResult): string {
  const part = r.part ? ` of part ${r.part.index}/${r.part.count} (${count(r.part.files, 'file')})` : ` of ${count(r.files, 'file')}`;
  const state = r.finalized ? 'complete (index, config and m1kit-manifest.json written)' : 'not finalized yet: run the remaining parts, then --finalize';
  return `${r.kind} ${r.output}: written ${r.written.length}, already done ${r.skipped}${part}; ${state}`;
}

/** Human rendering shared by convert, quantize and dequantize: the plan on a dry run, else the summary. */
export function renderRun(r: RunResult): string {
  const lines = [r.dryRun ? renderPlan(r) : renderSummary(r)];
  if (r.errorSummary && r.errorSummary.length > 0) {
    lines.push(table(['group', 'tensors', 'mean rel RMSE', 'worst rel RMSE', 'max |err|', 'min SNR dB'], r.errorSummary.map((e) => [e.group, e.tensors, e.meanRelRmse.toExponential(3), e.worstRelRmse.toExponential(3), e.maxAbs.toExponential(3), e.minSnrDb.toFixed(1)])));
  }
  return lines.join('\n');
}

/**
 * Run with the plan printed first (stderr), one bar while files are written, and a closing line with
 * elapsed time and throughput. On Ctrl-C: says which files were kept and that rerunning resumes.
 */
export async function runWithProgress(ctx: CommandContext, label: string, params: Parameters<typeof runConversion>[0]): Promise<RunResult> {
  let bar: Progress | undefined;
  let planned: PlanInfo | undefined;
  if (ctx.globals.threads !== undefined) params = { ...params, threads: ctx.globals.threads };
  const onPlan = (p: PlanInfo) => {
    planned = p;
    ctx.reporter.info(renderPlan(p.result));
    if (p.todoFiles === 0) return;
    ctx.reporter.info(`writing ${count(p.todoFiles, 'file')} (${formatBytes(p.todoBytes)})${p.alreadyDone > 0 ? `; ${count(p.alreadyDone, 'file')} already done by an earlier run` : ''}`);
    bar = ctx.reporter.progress(label, p.todoBytes, 'bytes');
  };
  try {
    const r = await runConversion({ ...params, signal: ctx.signal, onPlan, onWait: (h, f) => ctx.reporter.info(waitingLine(h, f)), onProgress: (d, t) => (bar?.setTotal(t), bar?.update(d)) });
    bar?.finish(`wrote ${count(r.written.length, 'file')}, ${formatBytes(planned?.todoBytes ?? 0)}`);
    return r;
  } catch (err) {
    bar?.stop();
    if (!ctx.signal.aborted || !planned) throw err;
    const kept = (await reloadDone(planned.result.output).catch(() => new Map())).size;
    const files = planned.result.part?.files ?? planned.result.files;
    throw new InterruptedError(`interrupted: ${kept} of ${count(files, 'output file')} finished and kept in ${planned.result.output} (unfinished ones removed)`, {
      hint: 'run the same command again to resume: only the unfinished files are written',
    });
  }
}

async function toGguf(ctx: CommandContext, input: string, output: string, o: ConvertOpts): Promise<void> {
  const dtype = parseGgufDtype(o.dtype ?? 'bf16');
  for (const [flag, v] of [['--tp', o.tp], ['--ep', o.ep], ['--experts', o.experts], ['--part', o.part], ['--max-shard-size', o.maxShardSize], ['--merge', o.merge], ['--finalize', o.finalize]] as const) {
    if (v !== undefined && v !== false) throw new UsageError(`${flag} applies to safetensors output only, not GGUF (${o.to === undefined ? `${output} ends in .gguf` : "--to gguf"})`);
  }
  const mod = (await import('../core/gguf/convert.js')) as unknown as { convertToGguf: (p: Record<string, unknown>) => Promise<{ tensors: number; bytes: number }> };
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
    const params: Record<string, unknown> = { input, output, dtype, wait: Boolean(o.wait), onWait: (h: LockHolder, f: string) => ctx.reporter.info(waitingLine(h, f)), signal: ctx.signal, onProgress };
    if (ctx.globals.threads !== undefined) params.threads = ctx.globals.threads;
    const summary = await mod.convertToGguf(params);
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

Interrupted runs resume when started again with the same arguments; only unfinished files are redone.`,
    )
    .action(
      action('convert', async (ctx: CommandContext, input: string, output: string, o: ConvertOpts & CheckpointArgOptions) => {
        input = await checkpointPath(ctx, input, o);
        if (outputFormat(o.to, output) === 'gguf') return toGguf(ctx, input, output, o);
        if (o.merge && ((o.tp ?? 1) > 1 || (o.ep ?? 1) > 1 || (o.experts !== undefined && o.experts !== 'per-expert'))) {
          throw new UsageError('--merge writes the HF per-expert layout; it cannot be combined with --tp, --ep or --experts');
        }
        const params: Parameters<typeof runConversion>[0] = { kind: 'convert', input, output, force: Boolean(o.force), dryRun: Boolean(o.dryRun), finalizeOnly: Boolean(o.finalize), castRouter: Boolean(o.castRouter), wait: Boolean(o.wait) };
        if (o.dtype !== undefined) params.dtype = parseSafetensorsDtype(o.dtype);
        if (o.maxShardSize !== undefined) params.maxShardBytes = parseSize(o.maxShardSize);
        if (o.tp !== undefined) params.tp = o.tp;
        if (o.ep !== undefined) params.ep = o.ep;
        if (o.experts !== undefined) params.experts = parseExperts(o.experts);
        if (o.part !== undefined) params.part = parsePart(o.part);
        const r = await runWithProgress(ctx, 'convert', params);
        ctx.reporter.result(r, () => renderRun(r));
      }),
    );
}
