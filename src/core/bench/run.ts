/**
 * `m1kit bench` end to end: the analytic model for the subject and its peers, then (optionally) the
 * machine's ceilings and the timed kernels, into one BenchResult. Pure orchestration: no printing;
 * progress through `onProgress`, cancellation through `signal`.
 */
import type { ArchSpec } from '../arch/spec.js';
import { flopsMetrics, type Convention } from '../flops/report.js';
import { formatTokens } from '../flops/tokens.js';
import type { KernelBackend } from './backend.js';
import { kernelFigures, peakFigures } from './derived.js';
import { SOFTMAX_GROUP, SOFTMAX_PREFILL_SAMPLE_KEYS, SOFTMAX_SAMPLE_KEYS, timeKernels, type KernelBudgets, type KernelProgress, type KernelTimings } from './kernels.js';
import { gitRevision, machineInfo, toolVersion } from './machine.js';
import { measurePeak } from './peak.js';
import { meterBackend, type CpuMeter } from './cpu-meter.js';
import { cpuShareFigures } from './cpu-share.js';
import { layerDecays } from '../arch/minimax-m1/slopes.js';
import { BENCH_SCHEMA, type BenchResult, type Figure } from './schema.js';
import { selfCheck } from './selfcheck.js';
import { count } from '../plural.js';

/**
 * Default repeats of the timed kernels: three give a median that ignores one disturbed repeat and a spread
 * that `bench compare` uses as its noise estimate.
 */
export const DEFAULT_REPEAT = 3;
/** Default seconds per repeat (3 × 25 s): the default `bench` finishes well within 2 minutes on 2 cores. */
export const DEFAULT_KERNEL_SECONDS = 25;
/** Share of the kernel time budget per kernel. */
export const BUDGET_SHARES: KernelBudgets = { prefillSeconds: 0.55, decodeSeconds: 0.1, softmaxPrefillSeconds: 0.25, softmaxDecodeSeconds: 0.1 };
/** Seconds per ceiling probe (FMA, bandwidth). */
const PEAK_SECONDS = 1.5;

export interface BenchProgress {
  phase: 'peak' | 'self_check' | KernelProgress['phase'];
  done: number;
  total: number;
  repeat: number;
}

export interface KernelRunOptions {
  backend: KernelBackend;
  threads: number;
  repeat: number;
  /** Heads in the streamed prefill (default: a full layer on CUDA, else max(2, threads); at most the layer's heads). */
  heads?: number;
  /** Seconds per repeat for all kernels together. */
  seconds?: number;
  /** Seconds per ceiling probe (default PEAK_SECONDS). */
  peakSeconds?: number;
}

export interface BenchRunParams {
  subject: ArchSpec;
  /** "preset:minimax-m1" or the config path. */
  configLabel: string;
  peers: ArchSpec[];
  ctx: number;
  sweep: number[];
  convention: Convention;
  kernels?: KernelRunOptions;
  onProgress?: (p: BenchProgress) => void;
  signal?: AbortSignal;
}

/**
 * Run the bench.
 * @example await runBench({ subject, configLabel: 'preset:minimax-m1', peers: PEERS, ctx: 1_000_000, sweep: DEFAULT_SWEEP, convention: 'physical' })
 */
export async function runBench(p: BenchRunParams): Promise<BenchResult> {
  const contexts = [...new Set([...p.sweep, p.ctx])].sort((a, b) => a - b);
  const models = [p.subject, ...p.peers];
  const metrics: Record<string, Figure> = flopsMetrics({ models, contexts, convention: p.convention });
  const notes: string[] = [
    p.convention === 'paper'
      ? "modelled: the tech report's Figure-1 convention for generation (8 softmax / 72 lightning layers, lightning as one (h·d)² state, R1's 3 dense FFNs counted twice); decode and prefill are physical; K = 1024 tokens"
      : 'modelled: physical convention (1 MAC = 2 FLOPs; projections, experts, LM head, attention over keys, lightning state products); K = 1024 tokens',
  ];
  if (p.configLabel !== 'preset:minimax-m1') notes.push(`subject ${p.subject.id} built from ${p.configLabel}`);
  // one note per distinct (limit, lengths beyond it): "DeepSeek-R1 and Qwen3 beyond their 128K context at …"
  const beyond = new Map<string, string[]>();
  for (const m of models) {
    const over = contexts.filter((n) => n > m.contextLimit);
    if (over.length > 0) {
      const key = `${formatTokens(m.contextLimit)} context at ${over.map(formatTokens).join(', ')}`;
      beyond.set(key, [...(beyond.get(key) ?? []), m.name]);
    }
  }
  for (const [key, names] of beyond) notes.push(`${names.join(' and ')} beyond ${names.length === 1 ? 'its' : 'their'} ${key}: formula extrapolated`);
  const result: BenchResult = {
    schema: BENCH_SCHEMA,
    createdAt: new Date().toISOString(),
    tool: { name: 'm1kit', version: await toolVersion(), git: await gitRevision() },
    machine: machineInfo(p.kernels?.backend.info ?? {}),
    params: { ctx: p.ctx, sweep: p.sweep, convention: p.convention, models: models.map((m) => m.id), config: p.configLabel },
    metrics,
    notes,
  };
  if (!p.kernels) return result;

  const k = p.kernels;
  const lin = p.subject.layers.find((g) => g.attention.kind === 'lightning')?.attention;
  const sm = p.subject.layers.find((g) => g.attention.kind === 'gqa')?.attention;
  if (lin?.kind !== 'lightning') {
    notes.push(`${p.subject.name} has no lightning-attention layers: kernels not run`);
    return result;
  }
  const layerHeads = lin.heads;
  const heads = Math.min(layerHeads, k.heads ?? (k.backend.device === 'cuda' ? layerHeads : Math.max(2, k.threads)));
  const seconds = k.seconds ?? DEFAULT_KERNEL_SECONDS;
  const budgets: KernelBudgets = {
    prefillSeconds: BUDGET_SHARES.prefillSeconds * seconds,
    decodeSeconds: BUDGET_SHARES.decodeSeconds * seconds,
    softmaxPrefillSeconds: BUDGET_SHARES.softmaxPrefillSeconds * seconds,
    softmaxDecodeSeconds: BUDGET_SHARES.softmaxDecodeSeconds * seconds,
  };
  const numLayers = p.subject.layers.reduce((s, g) => s + g.count, 0);
  const slopes = layerDecays(0, numLayers, layerHeads);
  result.params.kernels = { device: k.backend.device, threads: k.threads, repeat: k.repeat, heads, tokens: p.ctx };

  p.onProgress?.({ phase: 'self_check', done: 0, total: 1, repeat: 0 });
  const checks = await selfCheck(k.backend, lin.headDim, lin.blockSize, slopes, k.threads);
  for (const c of checks) metrics[`kernel.${c.kernel}.self_check_rel_error`] = { value: c.relError, unit: 'ratio', kind: 'measured', note: 'max |kernel − float64 reference| / max |reference|' };
  p.onProgress?.({ phase: 'self_check', done: 1, total: 1, repeat: 0 });

  p.onProgress?.({ phase: 'peak', done: 0, total: 2, repeat: 0 });
  // the decode roof: an in-place stream of exactly the bytes one decode step updates (a layer's fp32 state)
  const streamBytes = layerHeads * lin.headDim * lin.headDim * 4;
  const peak = await measurePeak({ threads: k.threads, seconds: k.peakSeconds ?? PEAK_SECONDS, signal: p.signal, streamBytes });
  p.onProgress?.({ phase: 'peak', done: 2, total: 2, repeat: 0 });
  Object.assign(metrics, peakFigures(peak));

  const runs: KernelTimings[] = [];
  const meter = meterBackend(k.backend, k.threads);
  const shares: ReturnType<CpuMeter['take']>[] = [];
  for (let r = 0; r < k.repeat; r++) {
    runs.push(
      await timeKernels({
        backend: meter.backend,
        ctx: p.ctx,
        heads,
        layerHeads,
        d: lin.headDim,
        blockSize: lin.blockSize,
        slopes,
        threads: k.threads,
        budgets,
        signal: p.signal,
        onProgress: (e) => p.onProgress?.({ ...e, repeat: r }),
      }),
    );
    shares.push(meter.take());
  }
  Object.assign(metrics, cpuShareFigures(shares));
  const smLayers = p.subject.layers.reduce((s, g) => s + (g.attention.kind === 'gqa' ? g.count : 0), 0);
  Object.assign(
    metrics,
    kernelFigures(runs, peak, {
      ctx: p.ctx,
      d: lin.headDim,
      blockSize: lin.blockSize,
      layerHeads: sm?.kind === 'gqa' ? sm.heads : layerHeads,
      lightningLayers: numLayers - smLayers,
      softmaxLayers: smLayers,
      modelId: p.subject.id,
      device: `${k.backend.name}, ${count(k.threads, 'thread')}`,
    }),
  );
  notes.push(
    `measured on ${k.backend.name} with ${count(k.threads, 'thread')}, ${count(k.repeat, 'repeat')} (value = median); derived = measured rate × modelled count; extrapolated = sampled and scaled (see each figure's note)`,
    `softmax figures use one GQA group (${SOFTMAX_GROUP} q heads, 1 KV head): prefill = up to 256 causal queries over at most ${SOFTMAX_PREFILL_SAMPLE_KEYS} keys, decode = 1 query over at most ${SOFTMAX_SAMPLE_KEYS} keys; both scaled to ${formatTokens(p.ctx)} context`,
  );
  return result;
}
