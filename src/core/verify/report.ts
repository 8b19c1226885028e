/**
 * The documented --json shapes of `m1kit verify` (schemaVersion 1), built from the core results.
 * Probabilities and fractions are in [0, 1]; `sameTop1Percent` repeats sameTop1 × 100 for reading.
 */
import type { CompareResult } from './against.js';
import type { ImportanceStats } from './importance.js';
import type { LogitComparison } from './metrics.js';
import type { TrainVsInferResult } from './train-vs-infer.js';
import type { CorpusEvalResult } from './perplexity.js';
import type { DeltaPDistribution, KldDistribution, ValueWithError } from './llama-stats.js';

/** Pearson r of Figure 3 in the MiniMax-M1 report, before and after the FP32 LM head. */
export const PAPER_PEARSON = { bf16Head: 0.987319, fp32Head: 0.997135 } as const;

export interface TrainVsInferJson {
  mode: 'train-vs-infer';
  checkpoint: string;
  promptLen: number;
  genLen: number;
  sequences: number;
  seed: number;
  precision: string;
  logitScale: number;
  logitScaleAuto: boolean;
  earlyTruncation: { minProb: number; window: number };
  runs: {
    lmHead: string;
    tokens: number;
    pearson: number;
    meanAbsDelta: number;
    maxAbsDelta: number;
    fracAbsDeltaOver01: number;
    maxAbsLogit: number;
    meanRowMaxAbsLogit: number;
    /** Sequences the early-truncation guard stopped before genLen tokens. */
    stoppedEarly: number;
    importance: ImportanceStats;
  }[];
  paper: typeof PAPER_PEARSON;
  warnings: string[];
  plot?: { path: string; format: string; bytes: number };
}

export function trainVsInferJson(checkpoint: string, r: TrainVsInferResult): TrainVsInferJson {
  return {
    mode: 'train-vs-infer',
    checkpoint,
    promptLen: r.promptLen,
    genLen: r.genLen,
    sequences: r.sequences,
    seed: r.seed,
    precision: r.precision,
    logitScale: r.logitScale,
    logitScaleAuto: r.logitScaleAuto,
    earlyTruncation: r.earlyTruncation,
    runs: r.runs.map((x) => ({
      lmHead: x.lmHead, ...x.agreement, maxAbsLogit: x.maxAbsLogit, meanRowMaxAbsLogit: x.meanRowMaxAbsLogit,
      stoppedEarly: x.stoppedEarly, importance: x.importance,
    })),
    paper: PAPER_PEARSON,
    warnings: r.warnings,
  };
}

/** The comparison figures an against report carries as they are. */
type ComparisonFigures = Pick<LogitComparison, 'kld' | 'sameTop1' | 'deltaP' | 'rmsDeltaP' | 'pplRef' | 'pplTest' | 'pplRatio' | 'meanLnPplRatio' | 'maxAbsLogitDiff'>;

export interface AgainstJson extends ComparisonFigures {
  mode: 'against';
  engine: 'm1kit' | 'llama.cpp';
  checkpoint: string;
  reference: string;
  precision: string;
  lmHead: string;
  sequences: number;
  tokens: number;
  vocab: number;
  sameTop1Percent: number;
  thresholds: { maxKld: number | null; minTop1: number | null };
  pass: boolean;
  failures: string[];
}

export function againstJson(p: { engine: 'm1kit' | 'llama.cpp'; checkpoint: string; reference: string; precision: string; lmHead: string }, r: CompareResult): AgainstJson {
  const m = r.metrics;
  return {
    mode: 'against',
    ...p,
    sequences: r.sequences,
    tokens: r.tokens,
    vocab: r.vocab,
    kld: m.kld,
    sameTop1: m.sameTop1,
    sameTop1Percent: 100 * m.sameTop1,
    deltaP: m.deltaP,
    rmsDeltaP: m.rmsDeltaP,
    pplRef: m.pplRef,
    pplTest: m.pplTest,
    pplRatio: m.pplRatio,
    meanLnPplRatio: m.meanLnPplRatio,
    maxAbsLogitDiff: m.maxAbsLogitDiff,
    thresholds: { maxKld: r.thresholds.maxKld ?? null, minTop1: r.thresholds.minTop1 ?? null },
    pass: r.pass,
    failures: r.failures,
  };
}

export interface CorpusJson {
  mode: 'corpus';
  checkpoint: string;
  /** null when the checkpoint was scored alone. */
  reference: string | null;
  precision: string;
  lmHead: string;
  ctx: number;
  chunks: number;
  corpusTokens: number;
  scoredPerChunk: number;
  scored: number;
  bos: number | null;
  /** Layer-major batches: each layer of each checkpoint was read this many times. */
  batches: number;
  /** Bytes read from the checkpoints in the run. */
  bytesRead: number;
  /** Perplexity of the checkpoint (Q), with its standard error. */
  ppl: ValueWithError;
  pplReference: ValueWithError | null;
  pplRatio: ValueWithError | null;
  lnPplRatio: ValueWithError | null;
  lnPplCorrelation: number | null;
  pplDiff: ValueWithError | null;
  kld: KldDistribution | null;
  deltaP: DeltaPDistribution | null;
  rmsDeltaP: ValueWithError | null;
  sameTop1: ValueWithError | null;
  klDivergenceBase: { path: string; bytes: number } | null;
  thresholds: { maxKld: number | null; minTop1: number | null };
  pass: boolean;
  failures: string[];
}

export function corpusJson(p: { checkpoint: string; reference: string | null; precision: string; lmHead: string; klDivergenceBase: { path: string; bytes: number } | null }, r: CorpusEvalResult): CorpusJson {
  const s = r.stats;
  return {
    mode: 'corpus',
    checkpoint: p.checkpoint,
    reference: p.reference,
    precision: p.precision,
    lmHead: p.lmHead,
    ctx: r.ctx,
    chunks: r.chunks,
    corpusTokens: r.corpusTokens,
    scoredPerChunk: r.scoredPerChunk,
    scored: r.scored,
    bos: r.bos ?? null,
    batches: r.batches,
    bytesRead: r.bytesRead,
    ppl: s ? s.ppl : r.ppl!,
    pplReference: s?.pplBase ?? null,
    pplRatio: s?.pplRatio ?? null,
    lnPplRatio: s?.lnPplRatio ?? null,
    lnPplCorrelation: s?.lnPplCorrelation ?? null,
    pplDiff: s?.pplDiff ?? null,
    kld: s?.kld ?? null,
    deltaP: s?.deltaP ?? null,
    rmsDeltaP: s?.rmsDeltaP ?? null,
    sameTop1: s?.sameTop1 ?? null,
    klDivergenceBase: p.klDivergenceBase,
    thresholds: { maxKld: r.thresholds.maxKld ?? null, minTop1: r.thresholds.minTop1 ?? null },
    pass: r.pass,
    failures: r.failures,
  };
}
