/** Engine facts shared by several formats (cited in each format's `engines` rows). */
import type { EngineFact } from './format.js';

/** MiniMaxText01ForCausalLM.load_weights maps them to w13_scale*, which only the deprecated experts_int8 method registers. */
export const EXPERT_SCALES = 'load_weights renames expert weight_scale* to w13_scale*/w2_scale*: no such FusedMoE parameter';

/** vLLM ≤ 0.23 rows of a format whose attention-only output loads (`why`) and whose expert scales do not. */
export function vllmAttentionOnly(why: string): EngineFact[] {
  return [
    { engine: 'vllm', versions: '<= 0.23', targets: 'attention', status: 'loads', why },
    { engine: 'vllm', versions: '<= 0.23', targets: 'experts', status: 'rejected', why: EXPERT_SCALES },
    { engine: 'vllm', versions: '<= 0.23', targets: 'all', status: 'rejected', why: EXPERT_SCALES },
  ];
}
