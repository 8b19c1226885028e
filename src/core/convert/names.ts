/**
 * Roles of MiniMax-M1 tensor names (pure). Every planning rule (TP/EP splits, locality groups,
 * quantization targets) is keyed on the role, never on substrings, so `self_attn.output_gate` can never
 * be mistaken for the router `block_sparse_moe.gate`.
 */

export type Role =
  | 'embed'
  | 'lm_head'
  | 'final_norm'
  | 'input_norm'
  | 'post_norm'
  | 'qkv'
  | 'output_gate'
  | 'attn_norm'
  | 'out_proj'
  | 'q'
  | 'k'
  | 'v'
  | 'o'
  | 'router'
  | 'w1'
  | 'w2'
  | 'w3';

export interface NameInfo {
  role: Role;
  /** Layer index for per-layer tensors. */
  layer?: number;
  /** Expert index for expert tensors. */
  expert?: number;
  /** Module path (the name without the trailing `.weight`). */
  module: string;
}

const LAYER_ROLES: Record<string, Role> = {
  'input_layernorm': 'input_norm',
  'post_attention_layernorm': 'post_norm',
  'self_attn.qkv_proj': 'qkv',
  'self_attn.output_gate': 'output_gate',
  'self_attn.norm': 'attn_norm',
  'self_attn.out_proj': 'out_proj',
  'self_attn.q_proj': 'q',
  'self_attn.k_proj': 'k',
  'self_attn.v_proj': 'v',
  'self_attn.o_proj': 'o',
  'block_sparse_moe.gate': 'router',
};

const LAYER_RE = /^model\.layers\.(\d+)\.(.+)$/;
const EXPERT_RE = /^block_sparse_moe\.experts\.(\d+)\.(w[123])$/;

/**
 * Role of a canonical (HF per-expert) weight name, or undefined for a name m1kit does not know.
 * @example classify('model.layers.3.block_sparse_moe.experts.7.w2.weight') // { role: 'w2', layer: 3, expert: 7, … }
 */
export function classify(name: string): NameInfo | undefined {
  if (!name.endsWith('.weight')) return undefined;
  const module = name.slice(0, -'.weight'.length);
  if (module === 'model.embed_tokens') return { role: 'embed', module };
  if (module === 'lm_head') return { role: 'lm_head', module };
  if (module === 'model.norm') return { role: 'final_norm', module };
  const m = LAYER_RE.exec(module);
  if (!m) return undefined;
  const layer = Number(m[1]);
  const rest = m[2]!;
  const role = LAYER_ROLES[rest];
  if (role) return { role, layer, module };
  const e = EXPERT_RE.exec(rest);
  if (e) return { role: e[2] as 'w1' | 'w2' | 'w3', layer, expert: Number(e[1]), module };
  return undefined;
}

export const ATTENTION_PROJ_ROLES: ReadonlySet<Role> = new Set(['qkv', 'output_gate', 'out_proj', 'q', 'k', 'v', 'o']);
export const EXPERT_ROLES: ReadonlySet<Role> = new Set(['w1', 'w2', 'w3']);

/** Report group of a role: how sizes and errors are summarised. */
export function groupOf(role: Role): 'experts' | 'attention' | 'embeddings' | 'norms+router' {
  if (EXPERT_ROLES.has(role)) return 'experts';
  if (ATTENTION_PROJ_ROLES.has(role)) return 'attention';
  if (role === 'embed' || role === 'lm_head') return 'embeddings';
  return 'norms+router';
}

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
