/**
 * Parameter counts from the config (docs/architecture.md §2.2–§2.3). Activated parameters follow the tech report's
 * convention: attention projection matrices of every layer + top-k experts, excluding embedding, LM head,
 * routers and norms (45,927,628,800 for the released model).
 */
import type { M1Config } from './config.js';

export interface ParamCounts {
  total: number;
  /** Per-token activated matmul parameters, report convention (excl. embedding, head, routers, norms). */
  activated: number;
  embedding: number;
  lmHead: number;
  lightningAttentionPerLayer: number;
  softmaxAttentionPerLayer: number;
  expert: number;
  routerPerLayer: number;
  normsPerLayer: number;
  lightningLayers: number;
  softmaxLayers: number;
}

export function countParams(c: M1Config): ParamCounts {
  const H = c.hiddenSize;
  const hd = c.numHeads * c.headDim;
  const kvd = c.numKvHeads * c.headDim;
  const linMat = 3 * hd * H + hd * H + H * hd;
  const lightningAttentionPerLayer = linMat + hd; // + inner norm
  const softmaxAttentionPerLayer = hd * H + 2 * kvd * H + H * hd;
  const expert = 3 * H * c.intermediateSize;
  const routerPerLayer = c.numExperts * H;
  const normsPerLayer = 2 * H;
  const nLin = c.attnTypes.filter((t) => t === 0).length;
  const nSm = c.numLayers - nLin;
  const embedding = c.vocabSize * H;
  const lmHead = c.tieWordEmbeddings ? 0 : c.vocabSize * H;
  const perLayerCommon = c.numExperts * expert + routerPerLayer + normsPerLayer;
  const total = nLin * (lightningAttentionPerLayer + perLayerCommon) + nSm * (softmaxAttentionPerLayer + perLayerCommon) + embedding + lmHead + H;
  const activated = nLin * linMat + nSm * softmaxAttentionPerLayer + c.numLayers * c.expertsPerTok * expert;
  return { total, activated, embedding, lmHead, lightningAttentionPerLayer, softmaxAttentionPerLayer, expert, routerPerLayer, normsPerLayer, lightningLayers: nLin, softmaxLayers: nSm };
}
