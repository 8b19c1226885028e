import { Option, type Command } from 'commander';
import { action, countArg, intArg, percentArg } from './_shared/action.js';
import { table } from './_shared/reporter.js';
import { openTensorView } from '../core/view/open.js';
import { UsageError, VerificationError } from '../core/errors.js';
import { parseSize } from '../core/units.js';
import { loadTokens } from '../core/model/tokens.js';
import { randomSequences, verifyAgainst } from '../core/verify/against.js';
import { verifyLlamaCppAgainst } from '../core/verify/against-llama.js';
import { trainVsInfer } from '../core/verify/train-vs-infer.js';
import { DEFAULT_CISPO_EPS_HIGH, DEFAULT_CLIP_EPS, DEFAULT_LOW_PROB } from '../core/verify/importance.js';
import { EARLY_TRUNCATION_DEFAULTS } from '../core/generation/early-truncation.js';
import { trainVsInferPlotSpec } from '../core/verify/plot-spec.js';
import { againstJson, trainVsInferJson, type AgainstJson, type TrainVsInferJson } from '../core/verify/report.js';
import { plotFormatOf, renderVegaLite } from '../core/plot/render.js';
import type { Precision } from '../core/model/session.js';
import { KERNEL_CHOICES, resolveNative, type KernelChoice } from '../core/model/kernels.js';
import { collectInputs, guardOutput, type GuardedOutput } from '../core/fs/output-guard.js';
import { checkpointOptions, checkpointPath, type CheckpointArgOptions } from './_shared/checkpoint-arg.js';
import { count } from '../core/plural.js';
import { checkCorpusUsage, corpusOptions, isCorpusMode, runCorpus, type CorpusOpts } from './verify-corpus.js';

interface VerifyOpts {
  trainVsInfer?: boolean; against?: string; engine: 'm1kit' | 'llama.cpp'; tokens?: string; precision?: Precision; lmHead?: string;
  promptLen: number; genLen: number; sequences?: number; seqLen: number; seed: number; logitScale: number | 'auto';
  clipEps: number; cispoEpsHigh: number; lowProb: number; earlyStopP: number; earlyStopWindow: number;
  plot?: string; maxKld?: number; minTop1?: number; maxMemory?: string; kernels: KernelChoice;
}

const num = (name: string, min = 0) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new UsageError(`${name} expects a number ≥ ${min}, got "${v}"`);
  return n;
};
const scaleArg = (v: string): number | 'auto' => (v === 'auto' ? 'auto' : num('--logit-scale', 1e-9)(v));
const f = (x: number, d = 6) => (!Number.isFinite(x) ? String(x) : x !== 0 && Math.abs(x) < 10 ** -(d - 2) ? x.toExponential(3) : x.toFixed(d));

const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(2)} %` : '—');

function tviText(r: TrainVsInferJson): string {
  const rows = r.runs.map((x) => [x.lmHead, x.tokens, f(x.pearson), f(x.meanAbsDelta), f(x.maxAbsDelta), f(x.fracAbsDeltaOver01, 4), f(x.meanRowMaxAbsLogit, 2)]);
  const i0 = r.runs[0]?.importance;
  const ratioRows = r.runs.map((x) => {
    const im = x.importance;
    return [x.lmHead, f(im.ratio.p01, 4), f(im.ratio.median, 4), f(im.ratio.p99, 4), pct(im.all.clipped), pct(im.lowProbTokens.clipped), pct(im.all.cispoCapped), pct(im.lowProbTokens.cispoCapped), f(im.all.cispoMeanAbsWeightChange, 4)];
  });
  const stopped = r.runs.filter((x) => x.stoppedEarly > 0).map((x) => `${x.lmHead} head ${x.stoppedEarly}/${r.sequences}`);
  const scale = `logit scale ${r.logitScale}${r.logitScaleAuto ? ' (auto)' : ''}`;
  return `train vs inference, ${r.sequences} × (${r.promptLen} prompt + ${r.genLen} generated), ${r.precision} body, ${scale}\n`
    + table(['LM head', 'tokens', 'Pearson r', 'mean |Δp|', 'max |Δp|', '|Δp|>0.1', 'mean max|z|'], rows)
    + `\npaper (Fig. 3): bf16 head r = ${r.paper.bf16Head}, fp32 head r = ${r.paper.fp32Head}`
    + (i0 ? `\n\nimportance ratio p_train/p_infer: PPO/GRPO clip ε = ${i0.clipEps}, CISPO IS weight capped at 1 + ${i0.cispoEpsHigh}, low-p = p_infer < ${i0.lowProb} (${r.runs.map((x) => `${x.importance.lowProbTokens.tokens} ${x.lmHead}`).join(', ')} tokens)\n`
      + table(['LM head', 'r p01', 'r median', 'r p99', 'ε-clipped', 'low-p ε-clipped', 'CISPO capped', 'low-p capped', 'mean |Δw|'], ratioRows) : '')
    + `\nearly truncation (${r.earlyTruncation.window} tokens with p > ${r.earlyTruncation.minProb}): `
    + (r.earlyTruncation.window === 0 ? 'off' : stopped.length ? `stopped ${stopped.join(', ')} sequences` : r.genLen <= r.earlyTruncation.window ? 'cannot fire, generations are not longer than the window' : 'no sequence stopped')
    + (r.plot ? `\nplot: ${r.plot.path}` : '');
}

function againstText(r: AgainstJson): string {
  const k = r.kld;
  const rows: (string | number)[][] = [['mean KLD', f(k.mean)], ['median KLD', f(k.median)], ['p99 KLD', f(k.p99)], ['max KLD', f(k.max)],
    ['same top-1', `${r.sameTop1Percent.toFixed(3)} %`], ['RMS Δp', f(r.rmsDeltaP)], ['PPL(test)/PPL(ref)', f(r.pplRatio)], ['max |Δ logit|', f(r.maxAbsLogitDiff)]];
  return `${r.checkpoint} vs ${r.reference} (${r.engine}; ${count(r.sequences, 'sequence')}, ${count(r.tokens, 'token')})\n` + table(['metric', 'value'], rows)
    + `\n${r.pass ? 'PASS' : `FAIL: ${r.failures.join('; ')}`}`;
}

export function register(program: Command): void {
  corpusOptions(checkpointOptions(program.command('verify')))
    .description('numerical verification: train-vs-inference probability agreement, or checkpoint/engine vs reference checkpoint')
    .argument('<checkpoint>', 'checkpoint directory (or a .gguf file with --engine llama.cpp)')
    .option('--train-vs-infer', 'reproduce Figure 3: inference-path vs training-path probabilities of sampled tokens')
    .option('--against <reference>', 'compare logits with a reference checkpoint on the same tokens (a directory, or org/name[@rev] in the cache)')
    .addOption(new Option('--engine <name>', 'engine running <checkpoint> for --against').choices(['m1kit', 'llama.cpp']).default('m1kit'))
    .option('--tokens <ids>', 'token ids (JSON file or comma list): the sequences for --against, the prompt for --train-vs-infer')
    .addOption(new Option('--precision <p>', 'body precision (default: bf16 for --train-vs-infer, fp32 for --against)').choices(['fp32', 'bf16']))
    .addOption(new Option('--lm-head <p>', 'LM head precision (--train-vs-infer default: both)').choices(['fp32', 'bf16', 'both']))
    .option('--prompt-len <n>', 'prompt tokens (random, seeded)', countArg('--prompt-len'), 256)
    .option('--gen-len <n>', 'tokens generated per sequence', countArg('--gen-len'), 512)
    .option('--sequences <n>', 'number of sequences (default 4)', intArg('--sequences'))
    .option('--seq-len <n>', 'tokens per random sequence for --against (300, 4k …)', countArg('--seq-len'), 300)
    .option('--seed <n>', 'random seed', intArg('--seed', 0), 0)
    .option('--logit-scale <x|auto>', 'multiply the final-norm weight by x to reach trained-model logit magnitudes; auto: scale the first prompt to mean max |z| = 30', scaleArg, 'auto')
    .option('--clip-eps <x>', 'PPO/GRPO clip range ε for the ratio shares', num('--clip-eps', 1e-9), DEFAULT_CLIP_EPS)
    .option('--cispo-eps-high <x>', 'CISPO ε_high: IS weight capped at 1 + x (no lower bound, as the report)', num('--cispo-eps-high', 1e-9), DEFAULT_CISPO_EPS_HIGH)
    .option('--low-prob <p>', 'shares also reported for tokens with p_infer below p', num('--low-prob', 1e-12), DEFAULT_LOW_PROB)
    .option('--early-stop-p <p>', 'early truncation: a token counts when its probability exceeds p', num('--early-stop-p'), EARLY_TRUNCATION_DEFAULTS.minProb)
    .option('--early-stop-window <n>', 'early truncation: stop a sequence after n consecutive counted tokens (0: never)', intArg('--early-stop-window', 0), EARLY_TRUNCATION_DEFAULTS.window)
    .option('--plot <out.svg|out.png>', 'draw the train-vs-infer scatter')
    .option('--max-kld <x>', 'fail (exit 4) when the mean KLD exceeds x', num('--max-kld'))
    .option('--min-top1 <pct>', 'fail (exit 4) when same-top-1 is below pct (99% or 99)', percentArg('--min-top1'))
    .option('--max-memory <size>', 'bound on memory held for weights, e.g. 8G')
    .addOption(new Option('--kernels <k>', 'm1kit runtime for --against: native kernels or the TypeScript reference (auto: native when the addon is loaded)').choices([...KERNEL_CHOICES]).default('auto'))
    .addHelpText('after', `
--against runs the sequences of both checkpoints layer-major, up to 8192 tokens per batch: each layer of
each checkpoint is read from disk once per batch, not once per sequence.

Examples:
  m1kit verify fixtures/tiny --train-vs-infer --plot fig3.png          # defaults: 4 × (256 + 512) tokens, seconds
  m1kit fixture small --preset small      # Figure 3 as in the README (minutes):
  m1kit verify small --train-vs-infer --prompt-len 300 --gen-len 300 --sequences 8 --logit-scale 40 --plot fig3.png
  m1kit verify /tmp/tiny-fp8 --against fixtures/tiny --max-kld 0.01 --min-top1 95 --json
  m1kit verify tiny-f32.gguf --engine llama.cpp --against fixtures/tiny --tokens ids.json

Corpus mode (--text-file, --text, --ctx, --chunks or --kl-divergence-base; the corpus is the text,
tokenized whole with the checkpoint's tokenizer.json, or the one sequence of --tokens): the corpus is
cut into chunks of --ctx tokens as llama-perplexity cuts it and the second half of each chunk is scored. With --against: PPL of both, their ratio, the KLD distribution, same top-1 and RMS Δp
as llama-perplexity --kl-divergence prints them. All chunks run layer-major in one pass by default.
  m1kit verify /tmp/tiny-q8 --against fixtures/tiny --text-file corpus.txt --ctx 64 --json
  m1kit verify /tmp/tiny-q8 --against fixtures/tiny --tokens corpus-ids.json --ctx 64 --chunks 8
  m1kit verify fixtures/tiny --text-file corpus.txt --ctx 64 --kl-divergence-base tiny.kld
  llama-perplexity -m tiny-q4_0.gguf --kl-divergence-base tiny.kld --kl-divergence   # scores any GGUF against it`)
    .action(action('verify', async (ctx, target: string, o: VerifyOpts & CheckpointArgOptions & CorpusOpts) => {
      target = await checkpointPath(ctx, target, o);
      if (o.against !== undefined) o.against = await checkpointPath(ctx, o.against, o, false);
      if (isCorpusMode(o)) {
        checkCorpusUsage(o);
        if (o.lmHead === 'both') throw new UsageError('--lm-head both is only for --train-vs-infer');
        await runCorpus(ctx, o, {
          target, against: o.against,
          precision: o.precision ?? 'fp32', lmHead: (o.lmHead ?? 'fp32') as Precision, kernels: resolveNative(o.kernels) ? 'native' : 'ts',
          maxMemory: { ...(o.maxMemory !== undefined ? { maxMemory: parseSize(o.maxMemory, '--max-memory') } : {}), ...(ctx.globals.threads !== undefined ? { threads: ctx.globals.threads } : {}) },
          thresholds: { maxKld: o.maxKld, minTop1: o.minTop1 === undefined ? undefined : o.minTop1 / 100 },
        });
        return;
      }
      if (Boolean(o.trainVsInfer) === Boolean(o.against)) throw new UsageError('choose exactly one of --train-vs-infer or --against <reference>');
      if (o.engine === 'llama.cpp' && !o.against) throw new UsageError('--engine llama.cpp needs --against <hf-checkpoint>');
      if (o.plot && !o.trainVsInfer) throw new UsageError('--plot is only for --train-vs-infer');
      let plot: GuardedOutput | undefined;
      if (o.plot) {
        plotFormatOf(o.plot);
        // checked before the (long) computation: not an input, in an existing writable directory
        const inputs = await collectInputs([{ path: target, label: 'checkpoint' }, o.tokens !== undefined ? { path: o.tokens, label: '--tokens file' } : undefined]);
        plot = await guardOutput({ path: o.plot, kind: 'file', label: '--plot', extra: [`${o.plot}.incomplete`] }, inputs);
      }
      const maxMemory = { ...(o.maxMemory !== undefined ? { maxMemory: parseSize(o.maxMemory, '--max-memory') } : {}), ...(ctx.globals.threads !== undefined ? { threads: ctx.globals.threads } : {}) };
      const tokens = o.tokens !== undefined ? await loadTokens(o.tokens) : undefined;
      const bar = ctx.reporter.progress('verify', 1);
      const onProgress = (d: number, t: number) => { bar.setTotal(t); bar.update(d); };
      if (o.trainVsInfer) {
        if (tokens && tokens.length !== 1) throw new UsageError('--tokens for --train-vs-infer must hold one prompt');
        const ckpt = await openTensorView(target, { signal: ctx.signal });
        try {
          const r = await trainVsInfer({
            checkpoint: ckpt, promptLen: o.promptLen, genLen: o.genLen, sequences: o.sequences ?? 4, seed: o.seed, logitScale: o.logitScale,
            importance: { clipEps: o.clipEps, cispoEpsHigh: o.cispoEpsHigh, lowProb: o.lowProb },
            earlyTruncation: { minProb: o.earlyStopP, window: o.earlyStopWindow },
            precision: o.precision ?? 'bf16', lmHeads: !o.lmHead || o.lmHead === 'both' ? ['bf16', 'fp32'] : [o.lmHead as Precision],
            ...(tokens ? { prompt: tokens[0]! } : {}), ...maxMemory, signal: ctx.signal, onProgress,
          });
          bar.stop();
          for (const w of r.warnings) ctx.reporter.warn(w);
          const json = trainVsInferJson(target, r);
          if (plot) {
            try {
              const p = await renderVegaLite(trainVsInferPlotSpec(r), plot.real);
              json.plot = { path: plot.path, format: p.format, bytes: p.bytes };
            } catch (e) {
              ctx.reporter.result(json, () => tviText(json)); // the results first, then the plot's error
              throw e;
            }
          }
          ctx.reporter.result(json, () => tviText(json));
        } finally {
          await ckpt.close();
        }
        return;
      }
      if (o.lmHead === 'both') throw new UsageError('--lm-head both is only for --train-vs-infer');
      const ref = await openTensorView(o.against!, { signal: ctx.signal });
      const closers: (() => Promise<void>)[] = [() => ref.close()];
      try {
        const sequences = tokens ?? randomSequences(o.seed, o.sequences ?? 4, o.seqLen, ref.config.vocabSize);
        const precision = o.precision ?? 'fp32';
        const lmHead = (o.lmHead ?? 'fp32') as Precision;
        const thresholds = { maxKld: o.maxKld, minTop1: o.minTop1 === undefined ? undefined : o.minTop1 / 100 };
        const common = { sequences, precision, lmHead, thresholds, ...maxMemory, signal: ctx.signal, onProgress };
        let r;
        if (o.engine === 'llama.cpp') {
          r = await verifyLlamaCppAgainst({ gguf: target, reference: ref, ...(ctx.globals.threads ? { threads: ctx.globals.threads } : {}), ...common });
        } else {
          const ckpt = await openTensorView(target, { signal: ctx.signal });
          closers.push(() => ckpt.close());
          r = await verifyAgainst({ checkpoint: ckpt, reference: ref, kernels: resolveNative(o.kernels) ? 'native' : 'ts', ...common });
        }
        bar.stop();
        const json = againstJson({ engine: o.engine, checkpoint: target, reference: o.against!, precision, lmHead }, r);
        ctx.reporter.result(json, () => againstText(json));
        // the metrics are printed above; the failure is an error line (alone under --quiet), exit 4
        if (!json.pass) throw new VerificationError('E_VERIFY_FAILED', `${target} vs ${o.against!}: ${json.failures.join('; ')}`);
      } finally {
        for (const c of closers) await c();
      }
    }));
}
