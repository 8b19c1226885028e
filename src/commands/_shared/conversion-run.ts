/**
 * What convert, quantize and dequantize share on the command line: the plan and summary of a run, and
 * running it with the plan first, one bar while files are written and a closing line.
 */
import type { CommandContext } from './action.js';
import { formatBytes, table, type Progress } from './reporter.js';
import { count } from '../../core/plural.js';
import { InterruptedError } from '../../core/errors.js';
import { runConversion, type PlanInfo, type RunResult } from '../../core/convert/run.js';
import type { LockHolder } from '../../core/fs/output-lock.js';
import { reloadDone } from '../../core/convert/state.js';

/** The run options convert, quantize and dequantize all take (as commander parsed them). */
export interface ConversionRunOpts {
  maxShardSize?: string;
  part?: string;
  finalize?: boolean;
  force?: boolean;
  dryRun?: boolean;
  wait?: boolean;
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
