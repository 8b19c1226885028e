/**
 * MiniMax-M1 → llama.cpp `minimax-01` tensor names as data (docs/gguf.md): the GGUF name of each role,
 * the role that decides its ggml type, and which residual-fold factor scales it. Pure: no I/O.
 */
import type { Role } from './tensors.js';

export const GGUF_ARCH = 'minimax-01';

/** Role of a GGUF tensor, which decides its type for a requested dtype. */
export type TensorRole = 'norm' | 'router' | 'matrix' | 'output';

/** Fold factor of a tensor: the sub-layer (`attn`, `mlp`) and which of its factors. */
export interface FoldRef {
  block: 'attn' | 'mlp';
  part: 'norm' | 'input' | 'output';
}

export interface GgufName {
  /** GGUF name without the `blk.{l}.` prefix and the `.weight` suffix. */
  gguf: string;
  /** The model's role it is made of (expert roles: the experts of the layer, stacked). */
  role: Role;
  type: TensorRole;
  fold?: FoldRef;
}

/** GGUF tensors of each layer in file order; lightning and softmax layers differ in their attention. */
const NORM_IN: GgufName = { gguf: 'attn_norm', role: 'input_norm', type: 'norm', fold: { block: 'attn', part: 'norm' } };
const FFN: GgufName[] = [
  { gguf: 'ffn_norm', role: 'post_norm', type: 'norm', fold: { block: 'mlp', part: 'norm' } },
  { gguf: 'ffn_gate_inp', role: 'router', type: 'router', fold: { block: 'mlp', part: 'input' } },
  { gguf: 'ffn_gate_exps', role: 'w1', type: 'matrix', fold: { block: 'mlp', part: 'input' } },
  { gguf: 'ffn_up_exps', role: 'w3', type: 'matrix', fold: { block: 'mlp', part: 'input' } },
  { gguf: 'ffn_down_exps', role: 'w2', type: 'matrix', fold: { block: 'mlp', part: 'output' } },
];
const ATTN_IN = { block: 'attn', part: 'input' } as const;
const ATTN_OUT = { block: 'attn', part: 'output' } as const;

/** By attention kind (0 lightning, 1 softmax). */
export const GGUF_LAYER_NAMES: Readonly<Record<0 | 1, readonly GgufName[]>> = {
  0: [
    NORM_IN,
    { gguf: 'attn_qkv', role: 'qkv', type: 'matrix', fold: ATTN_IN },
    { gguf: 'attn_gate', role: 'output_gate', type: 'matrix', fold: ATTN_IN },
    { gguf: 'attn_norm_2', role: 'attn_norm', type: 'norm' },
    { gguf: 'attn_output', role: 'out_proj', type: 'matrix', fold: ATTN_OUT },
    ...FFN,
  ],
  1: [
    NORM_IN,
    { gguf: 'attn_q', role: 'q', type: 'matrix', fold: ATTN_IN },
    { gguf: 'attn_k', role: 'k', type: 'matrix', fold: ATTN_IN },
    { gguf: 'attn_v', role: 'v', type: 'matrix', fold: ATTN_IN },
    { gguf: 'attn_output', role: 'o', type: 'matrix', fold: ATTN_OUT },
    ...FFN,
  ],
};

/** GGUF tensors outside the layers, in file order: [before the layers, after them]. */
export const GGUF_HEAD_NAMES: readonly GgufName[] = [{ gguf: 'token_embd', role: 'embed', type: 'matrix' }];
export const GGUF_TAIL_NAMES: readonly GgufName[] = [
  { gguf: 'output_norm', role: 'final_norm', type: 'norm' },
  { gguf: 'output', role: 'lm_head', type: 'output' },
];
export const ggufLayerPrefix = (l: number): string => `blk.${l}.`;
