/**
 * FLOPs the runtime executes for one layer over a batch of sequences (2 per multiply-add), for
 * benchmarks: the projections and experts as dense GEMMs, the lightning core with the kernels' bench
 * convention (4d² + 4Bd per head-token, B = block size), causal softmax attention 2·d·T(T+1) per head
 * for a sequence of T tokens, the router, and the LM head. Norms, gates and RoPE (O(n·H)) are left out.
 */
import type { M1Config } from '../checkpoint/config.js';

export interface LayerFlops {
  /** Projections, router and the routed experts (top-k per token). */
  gemm: number;
  /** Attention core (lightning or softmax). */
  attention: number;
  total: number;
}

/** FLOPs of layer `layer` for sequences of the given lengths (processed as one layer-major batch). */
export function layerFlops(c: M1Config, layer: number, seqLens: number[]): LayerFlops {
  const n = seqLens.reduce((a, b) => a + b, 0);
  const { hiddenSize: H, numHeads: h, numKvHeads: g, headDim: d, numExperts: E, expertsPerTok: k, intermediateSize: I } = c;
  const hd = h * d;
  const moe = 2 * n * H * E + 2 * n * k * 3 * H * I;
  let proj: number;
  let attention: number;
  if (c.attnTypes[layer] === 1) {
    proj = 2 * n * H * (hd + 2 * g * d) + 2 * n * hd * H;
    attention = seqLens.reduce((a, T) => a + 2 * d * T * (T + 1) * h, 0);
  } else {
    proj = 2 * n * H * 4 * hd + 2 * n * hd * H;
    attention = n * h * (4 * d * d + 4 * c.blockSize * d);
  }
  return { gemm: proj + moe, attention, total: proj + moe + attention };
}

/** FLOPs of the LM head on `rows` rows. */
export const headFlops = (c: M1Config, rows: number): number => 2 * rows * c.hiddenSize * c.vocabSize;
