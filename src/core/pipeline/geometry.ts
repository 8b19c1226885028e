/**
 * Geometry of a conversion (pure): 2-D views and rectangles of tensors, and the locality unit each
 * tensor is packed with. Tensor roles are the model family's (arch/minimax-m1/tensors.ts).
 */
import { EXPERT_ROLES, type NameInfo } from '../arch/minimax-m1/tensors.js';

export { ATTENTION_PROJ_ROLES, classify, EXPERT_ROLES, groupOf, type NameInfo, type Role } from '../arch/minimax-m1/tensors.js';

/**
 * Locality unit of a tensor: tensors of one unit are written to the same file when they fit.
 * `head` (embedding), `L{l}.attn` (norms, attention, router of layer l), `L{l}.e{e}` (w1/w3/w2 of one
 * expert), `L{l}.experts` (stacked experts of layer l), `tail` (final norm, LM head).
 */
export function unitOf(info: NameInfo, stacked = false): string {
  if (info.role === 'embed') return 'head';
  if (info.role === 'final_norm' || info.role === 'lm_head') return 'tail';
  if (EXPERT_ROLES.has(info.role)) return stacked ? `L${info.layer}.experts` : `L${info.layer}.e${info.expert}`;
  return `L${info.layer}.attn`;
}

/** A rectangle of a tensor's 2-D view [rows = product of leading dims, cols = last dim]: rows [r0, r1) × cols [c0, c1). */
export interface Rect {
  r0: number;
  r1: number;
  c0: number;
  c1: number;
}

/** 2-D view of a shape: [product of all dims but the last, last dim]; a 1-D tensor is one row. */
export function view2d(shape: readonly number[]): [number, number] {
  if (shape.length === 0) return [1, 1];
  const cols = shape[shape.length - 1]!;
  let rows = 1;
  for (let i = 0; i < shape.length - 1; i++) rows *= shape[i]!;
  return [rows, cols];
}

export const fullRect = (shape: readonly number[]): Rect => {
  const [r, c] = view2d(shape);
  return { r0: 0, r1: r, c0: 0, c1: c };
};
