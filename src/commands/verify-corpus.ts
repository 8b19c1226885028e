/**
 * `m1kit verify … --ctx N` / `--text-file corpus.txt`: perplexity and KL divergence over a corpus chunked
 * as llama-perplexity chunks it, optionally writing llama.cpp's --kl-divergence-base file. The options
 * and the run of the corpus mode of verify.
 */
import type { Command } from 'commander';
import { intArg } from './_shared/action.js';
import type { CommandContext } from './_shared/action.js';
import { textInputOptions } from './_shared/text-input-arg.js';
import { BOS_HELP, bosArg, corpusFileOf, corpusInput, type CorpusInputOptions } from './_shared/corpus-input.js';
import { formatBytes, table } from './_shared/reporter.js';
import { openTensorView } from '../core/view/open.js';
import { UsageError, VerificationError } from '../core/errors.js';
import { collectInputs, guardOutput } from '../core/fs/output-guard.js';
import type { Precision } from '../core/model/session.js';
import { chunkCorpus, DEFAULT_CTX } from '../core/verify/corpus.js';
import { KldBaseWriter } from '../core/verify/kld-base.js';
import { evaluateCorpus } from '../core/verify/perplexity.js';
import { corpusJson, type CorpusJson } from '../core/verify/report.js';
import type { ValueWithError } from '../core/verify/llama-stats.js';
import type { KernelChoice } from '../core/model/kernels.js';

export interface CorpusOpts extends CorpusInputOptions {
  ctx?: number;
  chunks?: number;
  klDivergenceBase?: string;
  batchChunks?: number;
}

/** Add the corpus options to `verify` (which has its own --tokens). */
export function corpusOptions(cmd: Command): Command {
  return textInputOptions(cmd, { tokens: false, sources: ['text', 'text-file'] })
    .option('--ctx <n>', `corpus mode: tokens per chunk, as llama-perplexity -c (default ${DEFAULT_CTX})`, intArg('--ctx', 3))
    .option('--chunks <n>', 'corpus mode: score only the first n chunks (llama-perplexity --chunks)', intArg('--chunks'))
    .option('--bos <id|none>', `corpus mode: ${BOS_HELP}`, bosArg)
    .option('--kl-divergence-base <file>', 'corpus mode: write llama.cpp\'s --kl-divergence-base file from the reference\'s logits (the checkpoint\'s without --against)')
    .option('--batch-chunks <n>', 'corpus mode: chunks per layer-major pass (default all: each checkpoint\'s weights are read once)', intArg('--batch-chunks'));
}

/** Whether the options ask for the corpus mode. */
export const isCorpusMode = (o: CorpusOpts): boolean =>
  o.text !== undefined || o.textFile !== undefined || o.ctx !== undefined || o.chunks !== undefined || o.klDivergenceBase !== undefined;

const ve = (x: ValueWithError | null, d = 6, scale = 1, unit = ''): string => (x ? `${(scale * x.value).toFixed(d)} ± ${(scale * x.error).toFixed(d)}${unit}` : '—');

function corpusText(r: CorpusJson): string {
  const head = `${r.checkpoint}${r.reference ? ` vs ${r.reference}` : ''}: ${r.chunks} chunks × ${r.ctx} tokens (${r.scored} scored, second half of each chunk; ${r.corpusTokens} tokens in the corpus${r.bos !== null ? `, BOS ${r.bos}` : ''}), ${r.batches} layer-major pass${r.batches === 1 ? '' : 'es'} (${formatBytes(r.bytesRead)} of weights read)`;
  const file = r.klDivergenceBase ? `\n--kl-divergence-base: ${r.klDivergenceBase.path} (${r.klDivergenceBase.bytes} bytes)` : '';
  if (!r.reference || !r.kld || !r.deltaP) return `${head}\nPPL = ${ve(r.ppl, 4)}${file}`;
  const k = r.kld;
  const d = r.deltaP;
  const p = (x: number) => `${(100 * x).toFixed(3)} %`;
  const rows: (string | number)[][] = [
    ['Mean PPL(Q)', ve(r.ppl)], ['Mean PPL(base)', ve(r.pplReference)], ['Cor(ln(PPL(Q)), ln(PPL(base)))', `${(100 * (r.lnPplCorrelation ?? NaN)).toFixed(2)} %`],
    ['Mean ln(PPL(Q)/PPL(base))', ve(r.lnPplRatio)], ['Mean PPL(Q)/PPL(base)', ve(r.pplRatio)], ['Mean PPL(Q)-PPL(base)', ve(r.pplDiff)],
    ['Mean KLD', `${k.mean.toFixed(6)} ± ${k.meanError.toFixed(6)}`], ['Maximum KLD', k.max.toFixed(6)], ['99.9% KLD', k.p999.toFixed(6)], ['99.0% KLD', k.p99.toFixed(6)],
    ['95.0% KLD', k.p95.toFixed(6)], ['90.0% KLD', k.p90.toFixed(6)], ['Median KLD', k.median.toFixed(6)], ['10.0% KLD', k.p10.toFixed(6)], ['5.0% KLD', k.p05.toFixed(6)],
    ['1.0% KLD', k.p01.toFixed(6)], ['0.1% KLD', k.p001.toFixed(6)], ['Minimum KLD', k.min.toFixed(6)],
    ['Mean Δp', `${(100 * d.mean).toFixed(3)} ± ${(100 * d.meanError).toFixed(3)} %`], ['Maximum Δp', p(d.max)], ['99.0% Δp', p(d.p99)], ['Median Δp', p(d.median)], ['1.0% Δp', p(d.p01)], ['Minimum Δp', p(d.min)],
    ['RMS Δp', ve(r.rmsDeltaP, 3, 100, ' %')], ['Same top p', ve(r.sameTop1, 3, 100, ' %')],
  ];
  return `${head}\n${table(['statistic', 'value'], rows)}${file}\n${r.pass ? 'PASS' : `FAIL: ${r.failures.join('; ')}`}`;
}

export interface CorpusRun {
  target: string;
  against: string | undefined;
  precision: Precision;
  lmHead: Precision;
  kernels: KernelChoice;
  maxMemory: { maxMemory?: number; threads?: number };
  thresholds: { maxKld: number | undefined; minTop1: number | undefined };
}

/** Run the corpus mode and report it. */
export async function runCorpus(ctx: CommandContext, o: CorpusOpts, run: CorpusRun): Promise<void> {
  let out: { path: string; real: string } | undefined;
  if (o.klDivergenceBase !== undefined) {
    const corpusFile = corpusFileOf(o);
    const inputs = await collectInputs([{ path: run.target, label: 'checkpoint' }, run.against !== undefined ? { path: run.against, label: '--against' } : undefined, corpusFile !== undefined ? { path: corpusFile, label: 'corpus' } : undefined]);
    out = await guardOutput({ path: o.klDivergenceBase, kind: 'file', label: '--kl-divergence-base', extra: [`${o.klDivergenceBase}.incomplete`] }, inputs);
  }
  const ckpt = await openTensorView(run.target, { signal: ctx.signal });
  const closers: (() => Promise<void>)[] = [() => ckpt.close()];
  let writer: KldBaseWriter | undefined;
  try {
    const ref = run.against !== undefined ? await openTensorView(run.against, { signal: ctx.signal }) : undefined;
    if (ref) closers.push(() => ref.close());
    const input = await corpusInput(ctx, run.against !== undefined ? [run.target, run.against] : [run.target], o, ckpt.config.vocabSize);
    const corpus = chunkCorpus(input.tokens, { ctx: o.ctx ?? DEFAULT_CTX, ...(o.chunks !== undefined ? { chunks: o.chunks } : {}), ...(input.bos !== undefined ? { bos: input.bos } : {}), label: input.label });
    if (out) writer = await KldBaseWriter.create(out.real, corpus.ctx, ckpt.config.vocabSize, corpus.chunks);
    const bar = ctx.reporter.progress('verify', 1, 'items');
    const r = await evaluateCorpus({
      checkpoint: ckpt, reference: ref, corpus, precision: run.precision, lmHead: run.lmHead, kernels: run.kernels, ...run.maxMemory,
      ...(o.batchChunks !== undefined ? { batchChunks: o.batchChunks } : {}), kldBase: writer, thresholds: run.thresholds, signal: ctx.signal,
      onProgress: (d, t) => { bar.setTotal(t); bar.update(d); },
    });
    bar.stop();
    let file: { path: string; bytes: number } | null = null;
    if (writer && out) {
      file = { path: out.path, bytes: writer.bytes };
      await writer.finish();
      writer = undefined;
    }
    const json = corpusJson({ checkpoint: run.target, reference: run.against ?? null, precision: run.precision, lmHead: run.lmHead, klDivergenceBase: file }, r);
    ctx.reporter.result(json, () => corpusText(json));
    if (!json.pass) throw new VerificationError('E_VERIFY_FAILED', `${run.target} vs ${run.against!}: ${json.failures.join('; ')}`);
  } finally {
    await writer?.abort();
    for (const c of closers) await c();
  }
}

/** The corpus mode refuses options of the other modes. */
export function checkCorpusUsage(o: { trainVsInfer?: boolean; engine: string; plot?: string; sequences?: number }): void {
  if (o.trainVsInfer) throw new UsageError('--ctx/--chunks/--kl-divergence-base (corpus mode) and --train-vs-infer exclude each other');
  if (o.engine !== 'm1kit') throw new UsageError('corpus mode runs the m1kit runtime; score a GGUF with llama-perplexity --kl-divergence and the --kl-divergence-base file');
  if (o.plot) throw new UsageError('--plot is only for --train-vs-infer');
  if (o.sequences !== undefined) throw new UsageError('--sequences is for random sequences; corpus mode chunks the corpus instead');
}
