/**
 * Peer models compared against MiniMax-M1, as data (docs/architecture.md §5.2, sources [DSV3], [QW3]).
 * DeepSeek-R1 has the DeepSeek-V3 architecture; Qwen3-235B-A22B from its HF config.
 */
import type { ArchSpec } from '../arch/spec.js';

const R1_MLA = { kind: 'mla', heads: 128, qLoraRank: 1536, kvLoraRank: 512, qkNopeDim: 128, qkRopeDim: 64, vHeadDim: 128 } as const;

/** DeepSeek-R1: 61 layers (3 dense FFN, 58 MoE with 8 of 256 routed + 1 shared expert), MLA attention. */
export const DEEPSEEK_R1: ArchSpec = {
  id: 'deepseek-r1',
  name: 'DeepSeek-R1',
  vocabSize: 129280,
  hiddenSize: 7168,
  tieWordEmbeddings: false,
  layers: [
    { count: 3, attention: R1_MLA, ffn: { kind: 'dense', intermediate: 18432 } },
    { count: 58, attention: R1_MLA, ffn: { kind: 'moe', experts: 256, topK: 8, intermediate: 2048, shared: 1, routerBias: true } },
  ],
  contextLimit: 131072,
  source: 'deepseek-ai/DeepSeek-V3 inference/configs/config_671B.json (R1 = V3 architecture)',
  figure1: { extraDenseFfnLayers: { count: 3, intermediate: 18432 } },
};

/** Qwen3-235B-A22B: 94 layers, GQA 64 q / 4 kv heads × 128, 8 of 128 experts (I = 1536), untied head. */
export const QWEN3_235B: ArchSpec = {
  id: 'qwen3-235b-a22b',
  name: 'Qwen3-235B-A22B',
  vocabSize: 151936,
  hiddenSize: 4096,
  tieWordEmbeddings: false,
  layers: [
    {
      count: 94,
      attention: { kind: 'gqa', heads: 64, kvHeads: 4, headDim: 128, qkNorm: true },
      ffn: { kind: 'moe', experts: 128, topK: 8, intermediate: 1536, shared: 0 },
    },
  ],
  contextLimit: 131072,
  source: 'Qwen/Qwen3-235B-A22B config.json (as mirrored in AI-Hypercomputer/maxtext qwen3-235b-a22b.yml)',
  figure1: {},
};

/** Peers by id, in display order. */
export const PEERS: readonly ArchSpec[] = [DEEPSEEK_R1, QWEN3_235B];
