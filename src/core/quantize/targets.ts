/**
 * Which modules a scheme quantizes (pure). Decided on the tensor's role (see arch/minimax-m1/tensors.ts), so the
 * match is on whole dot-separated components: `self_attn.output_gate` is an attention projection and
 * `block_sparse_moe.gate` is the router, which is never quantized; neither are embeddings, `lm_head`
 * or any norm.
 */
import { UsageError } from '../errors.js';
import { ATTENTION_PROJ_ROLES, EXPERT_ROLES, type Role } from '../pipeline/geometry.js';

export type Targets = 'experts' | 'attention' | 'all';
export const TARGETS: Targets[] = ['experts', 'attention', 'all'];

export function parseTargets(v: string): Targets {
  if ((TARGETS as string[]).includes(v)) return v as Targets;
  throw new UsageError(`--targets must be one of ${TARGETS.join(', ')}; got "${v}"`);
}

/** True when a tensor of `role` is quantized under `targets`. */
export function isTarget(role: Role, targets: Targets): boolean {
  if (EXPERT_ROLES.has(role)) return targets !== 'attention';
  if (ATTENTION_PROJ_ROLES.has(role)) return targets !== 'experts';
  return false;
}
