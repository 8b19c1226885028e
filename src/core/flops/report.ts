/**
 * The analytic part of `m1kit bench`: every modelled figure for a subject model and its peers at the
 * requested context lengths, as named metrics with units (schema in core/bench/schema.ts).
 */
import type { Figure } from '../figure.js';
import { countParams, type ArchSpec } from '../arch/spec.js';
import { costConstants, crossover, decodeBytes, decodeFlops, evalCurve, generationCurve, kvCacheBytes, prefillFlops, type QuadraticCurve } from './model.js';
import { figure1Curve } from './paper.js';
import { layerSizing } from './sizing.js';
import { formatTokens } from './tokens.js';

export type Convention = 'physical' | 'paper';

export interface FlopsReportParams {
  /** Subject first (MiniMax-M1), then peers. */
  models: ArchSpec[];
  /** Context lengths (tokens) to tabulate. */
  contexts: number[];
  /** Convention of the generation curve and its ratios; decode/prefill are always physical (docs/architecture.md §5.1). */
  convention: Convention;
}

/** Ratios of the subject to each peer whose crossover points are reported. */
export const CROSSOVER_RATIOS = [1, 0.5, 0.25];

const modelled = (value: number, unit: string, note?: string): Figure => (note ? { value, unit, kind: 'modelled', note } : { value, unit, kind: 'modelled' });

/** The generation curve of a model under a convention. */
export function generationCurveOf(arch: ArchSpec, convention: Convention): QuadraticCurve {
  return convention === 'paper' ? figure1Curve(arch) : generationCurve(costConstants(arch));
}

/**
 * Build the modelled metrics.
 * @example flopsMetrics({ models: [m1, DEEPSEEK_R1, QWEN3_235B], contexts: [1_000_000], convention: 'physical' })
 */
export function flopsMetrics(p: FlopsReportParams): Record<string, Figure> {
  const out: Record<string, Figure> = {};
  const [subject, ...peers] = p.models;
  if (!subject) return out;
  const curves = new Map(p.models.map((m) => [m.id, generationCurveOf(m, p.convention)]));
  for (const m of p.models) {
    const k = costConstants(m);
    const absorbed = m.layers.some((g) => g.attention.kind === 'mla') ? costConstants(m, 'absorbed') : undefined;
    const params = countParams(m);
    const id = `model.${m.id}`;
    out[`${id}.params_total`] = modelled(params.total, 'params');
    out[`${id}.params_active`] = modelled(params.activeBody, 'params', 'non-embedding activated matmul parameters (N_body)');
    out[`${id}.lm_head_params`] = modelled(params.lmHead, 'params');
    out[`${id}.decode_linear_flops`] = modelled(k.linearPerToken + k.lightningDecode, 'FLOP/token', 'context-independent part of decode: 2·(N_body + V·H) + lightning');
    out[`${id}.attention_flops_per_key`] = modelled(k.attnPair, 'FLOP/key', absorbed ? 'MLA counted naive (expanded heads)' : undefined);
    out[`${id}.state_bytes`] = modelled(k.stateBytes, 'B', 'constant lightning state, fp32');
    out[`${id}.weight_bytes_per_token`] = modelled(k.weightBytesPerToken, 'B/token', 'bf16 activated weights + LM head');
    const curve = curves.get(m.id)!;
    out[`${id}.generation_linear`] = modelled(curve.linear, 'FLOP/token', `${p.convention} convention: F(n) = linear·n + quadratic·n²`);
    out[`${id}.generation_quadratic`] = modelled(curve.quadratic, 'FLOP/token²');
    for (const n of p.contexts) {
      const beyond = n > m.contextLimit ? `beyond ${m.name}'s ${formatTokens(m.contextLimit)} context: formula extrapolated` : undefined;
      out[`${id}.decode_flops@${n}`] = modelled(decodeFlops(k, n), 'FLOP/token', beyond);
      out[`${id}.prefill_flops@${n}`] = modelled(prefillFlops(k, n), 'FLOP', beyond);
      out[`${id}.generation_flops@${n}`] = modelled(evalCurve(curve, n), 'FLOP', beyond);
      if (absorbed && p.convention === 'physical') out[`${id}.generation_flops_absorbed@${n}`] = modelled(evalCurve(generationCurve(absorbed), n), 'FLOP', 'weight-absorbed MLA');
      out[`${id}.kv_cache_bytes@${n}`] = modelled(kvCacheBytes(k, n), 'B', 'bf16 K/V (MLA: latent + rope key)');
      out[`${id}.decode_bytes@${n}`] = modelled(decodeBytes(k, n), 'B/token', 'weights + KV cache + 2× state');
    }
  }
  const ks = costConstants(subject);
  const cs = curves.get(subject.id)!;
  for (const peer of peers) {
    const kp = costConstants(peer);
    const cp = curves.get(peer.id)!;
    const rid = `ratio.${subject.id}/${peer.id}`;
    for (const n of p.contexts) {
      out[`${rid}.decode@${n}`] = modelled(decodeFlops(ks, n) / decodeFlops(kp, n), 'ratio');
      out[`${rid}.prefill@${n}`] = modelled(prefillFlops(ks, n) / prefillFlops(kp, n), 'ratio');
      out[`${rid}.generation@${n}`] = modelled(evalCurve(cs, n) / evalCurve(cp, n), 'ratio');
    }
    for (const r of CROSSOVER_RATIOS) {
      const x = crossover(cs, cp, r);
      if (x !== null) out[`crossover.${subject.id}/${peer.id}.generation@${r}`] = modelled(x, 'tokens', `${subject.name} generation < ${r}× ${peer.name} above this length`);
    }
  }
  const lin = subject.layers.find((g) => g.attention.kind === 'lightning')?.attention;
  if (lin?.kind === 'lightning') {
    for (const n of p.contexts) {
      const s = layerSizing(lin, n);
      const sid = `sizing.lightning_layer`;
      out[`${sid}.prefill_flops@${n}`] = modelled(s.prefillFlops, 'FLOP', 'one layer, dense diagonal blocks');
      out[`${sid}.prefill_flops_causal_skip@${n}`] = modelled(s.prefillFlopsCausalSkip, 'FLOP');
      out[`${sid}.io_bytes_bf16@${n}`] = modelled(s.ioBytesBf16, 'B', 'q, k, v read + o written, bf16');
      out[`${sid}.intensity_bf16@${n}`] = modelled(s.intensityBf16, 'FLOP/B');
      out[`${sid}.softmax_prefill_flops@${n}`] = modelled(s.softmaxPrefillFlops, 'FLOP', 'same-shape causal softmax layer');
    }
  }
  return out;
}
