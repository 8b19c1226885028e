/**
 * MiniMax-M1 (and any config with the same structure) as an ArchSpec, built from a parsed config.json.
 */
import type { M1Config } from './config.js';
import type { ArchSpec, FfnSpec } from '../spec.js';

/** The report's 1M-token context (2²⁰ tokens, as the spec counts "1M"). */
export const M1_CONTEXT_LIMIT = 1_048_576;

/**
 * Describe a MiniMax-M1-structured config: lightning layers (attn_type 0) and GQA softmax layers
 * (attn_type 1), every layer MoE. Figure-1 quirks (docs/architecture.md §5.4): one softmax layer in ten, lightning
 * counted as one (h·d)² state.
 * @example minimaxArch(parseConfig(raw, 'config.json')).layers[0].count // 70
 */
export function minimaxArch(c: M1Config, opts: { id?: string; name?: string; source?: string } = {}): ArchSpec {
  const softmax = c.attnTypes.filter((t) => t === 1).length;
  const lightning = c.numLayers - softmax;
  const ffn: FfnSpec = {
    kind: 'moe',
    experts: c.numExperts,
    topK: c.expertsPerTok,
    intermediate: c.intermediateSize,
    shared: c.sharedIntermediateSize > 0 ? 1 : 0,
    sharedIntermediate: c.sharedIntermediateSize,
  };
  const layers: ArchSpec['layers'] = [];
  if (lightning > 0) layers.push({ count: lightning, attention: { kind: 'lightning', heads: c.numHeads, headDim: c.headDim, blockSize: c.blockSize }, ffn });
  if (softmax > 0) layers.push({ count: softmax, attention: { kind: 'gqa', heads: c.numHeads, kvHeads: c.numKvHeads, headDim: c.headDim }, ffn });
  return {
    id: opts.id ?? 'minimax-m1',
    name: opts.name ?? 'MiniMax-M1',
    vocabSize: c.vocabSize,
    hiddenSize: c.hiddenSize,
    tieWordEmbeddings: c.tieWordEmbeddings,
    layers,
    contextLimit: M1_CONTEXT_LIMIT,
    source: opts.source ?? 'config.json',
    figure1: { softmaxLayers: Math.round(c.numLayers / 10), lightningFullWidthState: true },
  };
}
