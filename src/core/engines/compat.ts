/**
 * Which engine loads which m1kit output, as data (printed by `quantize --list` and in the README). Every
 * row marked "loads" or "rejected" for vLLM is checked by test/unit/engines/compat.test.ts, which applies vLLM's
 * rules (vllm-check.ts) to m1kit's real output on a fixture; "not known" rows are rules m1kit has not
 * re-implemented.
 */
import type { SchemeName } from '../quantize/formats.js';
import type { Targets } from '../quantize/targets.js';

export type EngineName = 'vllm' | 'sglang' | 'llama.cpp';
export type CompatStatus = 'loads' | 'rejected' | 'not known';

export interface CompatRow {
  engine: EngineName;
  versions: string;
  /** `bf16` for an unquantized HF-layout checkpoint, `gguf` for `convert --to gguf`. */
  scheme: SchemeName | 'bf16' | 'gguf';
  targets: Targets | '-';
  status: CompatStatus;
  why: string;
}

/** MiniMaxText01ForCausalLM.load_weights maps them to w13_scale*, which only the deprecated experts_int8 method registers. */
const EXPERT_SCALES = 'load_weights renames expert weight_scale* to w13_scale*/w2_scale*: no such FusedMoE parameter';

const vllm = (scheme: SchemeName, targets: Targets, status: CompatStatus, why: string): CompatRow => ({ engine: 'vllm', versions: '<= 0.23', scheme, targets, status, why });

export const COMPAT: readonly CompatRow[] = [
  { engine: 'vllm', versions: '<= 0.23', scheme: 'bf16', targets: '-', status: 'loads', why: 'MiniMaxText01ForCausalLM; names match its load_weights' },
  vllm('fp8-block', 'attention', 'loads', 'Fp8Config block FP8 for the attention Linears; experts skipped (modules_to_not_convert holds model.layers.N.experts)'),
  vllm('fp8-block', 'experts', 'rejected', EXPERT_SCALES),
  vllm('fp8-block', 'all', 'rejected', EXPERT_SCALES),
  vllm('int8-channel', 'attention', 'loads', 'compressed-tensors W8A8 int8 (dynamic per-token activations) for the attention Linears; experts ignored'),
  vllm('int8-channel', 'experts', 'rejected', EXPERT_SCALES),
  vllm('int8-channel', 'all', 'rejected', EXPERT_SCALES),
  vllm('w4a16', 'attention', 'loads', 'compressed-tensors WNA16 for the attention Linears; experts ignored'),
  vllm('w4a16', 'experts', 'rejected', EXPERT_SCALES),
  vllm('w4a16', 'all', 'rejected', EXPERT_SCALES),
  { engine: 'vllm', versions: '> 0.23', scheme: 'bf16', targets: '-', status: 'rejected', why: 'MiniMaxText01ForCausalLM/MiniMaxM1ForCausalLM were removed after 0.23.0' },
  { engine: 'sglang', versions: 'any', scheme: 'bf16', targets: '-', status: 'not known', why: "serves M1 (minimax_text_01.py, same layer names as vLLM); m1kit does not re-implement SGLang's loader" },
  { engine: 'sglang', versions: 'any', scheme: 'fp8-block', targets: 'all', status: 'not known', why: "SGLang's fp8 loader rules are not re-implemented in m1kit" },
  { engine: 'llama.cpp', versions: 'mainline', scheme: 'gguf', targets: '-', status: 'not known', why: "loads MiniMax-01/M1 as minimax-01; m1kit does not re-implement llama.cpp's loader checks" },
  { engine: 'llama.cpp', versions: 'any', scheme: 'fp8-block', targets: 'all', status: 'rejected', why: 'llama.cpp reads GGUF only; quantize to GGUF with convert --to gguf' },
];
