/**
 * MiniMax-M1's tensors as data (docs/architecture.md §2.1): the name of every module, its role, its shape
 * from the config and its released dtype (BF16 everywhere except the F32 routers), and the role of any
 * name. Every planning rule (TP/EP splits, locality groups, quantization targets) is keyed on the role,
 * never on substrings, so `self_attn.output_gate` can never be mistaken for the router
 * `block_sparse_moe.gate`. Pure: no I/O.
 */
import type { DType } from '../../dtype/dtypes.js';
import type { TensorSpec } from '../../safetensors/writer.js';
import type { M1Config } from './config.js';

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

/** The one spelling of the per-layer prefix. */
const LAYERS = 'model.layers.';
export const layerPrefix = (l: number): string => `${LAYERS}${l}.`;
/** Modules outside the layers. */
export const MODULES = { embed: 'model.embed_tokens', final_norm: 'model.norm', lm_head: 'lm_head' } as const;
/** Module of each expert weight, relative to the layer prefix. */
export const EXPERTS_MODULE = 'block_sparse_moe.experts';
export const expertPrefix = (l: number, e: number): string => `${layerPrefix(l)}${EXPERTS_MODULE}.${e}.`;
export const weightName = (module: string): string => `${module}.weight`;
export const EMBED_WEIGHT = weightName(MODULES.embed);
export const FINAL_NORM_WEIGHT = weightName(MODULES.final_norm);
export const LM_HEAD_WEIGHT = weightName(MODULES.lm_head);

type LayerRole = Exclude<Role, 'embed' | 'lm_head' | 'final_norm' | 'w1' | 'w2' | 'w3'>;
type ExpertRole = 'w1' | 'w2' | 'w3';

/** One per-layer tensor: module relative to the layer prefix, role, which layers hold it, shape. */
interface LayerTensor {
  module: string;
  role: LayerRole;
  /** 0 lightning, 1 softmax, undefined both. */
  kind?: 0 | 1;
  shape: (c: M1Config) => number[];
  dtype?: DType;
}

const hd = (c: M1Config): number => c.numHeads * c.headDim;
const kvd = (c: M1Config): number => c.numKvHeads * c.headDim;

/** Per-layer tensors in file order (norms, attention of the layer's kind, router); experts follow. */
const LAYER_TENSORS: readonly LayerTensor[] = [
  { module: 'input_layernorm', role: 'input_norm', shape: (c) => [c.hiddenSize] },
  { module: 'self_attn.qkv_proj', role: 'qkv', kind: 0, shape: (c) => [3 * hd(c), c.hiddenSize] },
  { module: 'self_attn.output_gate', role: 'output_gate', kind: 0, shape: (c) => [hd(c), c.hiddenSize] },
  { module: 'self_attn.norm', role: 'attn_norm', kind: 0, shape: (c) => [hd(c)] },
  { module: 'self_attn.out_proj', role: 'out_proj', kind: 0, shape: (c) => [c.hiddenSize, hd(c)] },
  { module: 'self_attn.q_proj', role: 'q', kind: 1, shape: (c) => [hd(c), c.hiddenSize] },
  { module: 'self_attn.k_proj', role: 'k', kind: 1, shape: (c) => [kvd(c), c.hiddenSize] },
  { module: 'self_attn.v_proj', role: 'v', kind: 1, shape: (c) => [kvd(c), c.hiddenSize] },
  { module: 'self_attn.o_proj', role: 'o', kind: 1, shape: (c) => [c.hiddenSize, hd(c)] },
  { module: 'post_attention_layernorm', role: 'post_norm', shape: (c) => [c.hiddenSize] },
  { module: 'block_sparse_moe.gate', role: 'router', shape: (c) => [c.numExperts, c.hiddenSize], dtype: 'F32' },
];

/** Expert weights in file order (w1, w3, w2) with their shapes. */
const EXPERT_TENSORS: readonly { w: ExpertRole; shape: (c: M1Config) => number[] }[] = [
  { w: 'w1', shape: (c) => [c.intermediateSize, c.hiddenSize] },
  { w: 'w3', shape: (c) => [c.intermediateSize, c.hiddenSize] },
  { w: 'w2', shape: (c) => [c.hiddenSize, c.intermediateSize] },
];

const MODULE_OF = new Map(LAYER_TENSORS.map((t) => [t.role, t.module]));
const ROLE_OF = new Map(LAYER_TENSORS.map((t) => [t.module, t.role]));

/** Module of a per-layer role in layer `l`, e.g. `layerModule(3, 'router')` = `model.layers.3.block_sparse_moe.gate`. */
export const layerModule = (l: number, role: LayerRole): string => layerPrefix(l) + MODULE_OF.get(role)!;
/** Weight name of a per-layer role in layer `l`. */
export const layerWeight = (l: number, role: LayerRole): string => weightName(layerModule(l, role));
/** Weight name of expert `e`'s `w` in layer `l`. */
export const expertWeight = (l: number, e: number, w: ExpertRole): string => `${expertPrefix(l, e)}${w}.weight`;
export const ROUTER_SUFFIX = weightName(MODULE_OF.get('router')!);

const TOP_SHAPES: Record<'embed' | 'lm_head' | 'final_norm', (c: M1Config) => number[]> = {
  embed: (c) => [c.vocabSize, c.hiddenSize],
  lm_head: (c) => [c.vocabSize, c.hiddenSize],
  final_norm: (c) => [c.hiddenSize],
};

/** Shape of the (one expert's) weight of `role`. */
export function roleShape(c: M1Config, role: Role): number[] {
  if (role === 'embed' || role === 'lm_head' || role === 'final_norm') return TOP_SHAPES[role](c);
  const x = EXPERT_TENSORS.find((t) => t.w === role);
  if (x) return x.shape(c);
  return LAYER_TENSORS.find((t) => t.role === role)!.shape(c);
}

/** Weight name of `role` (in layer `l`, of expert `e` for expert roles). */
export function roleWeight(role: Role, l = 0, e = 0): string {
  if (role === 'embed' || role === 'lm_head' || role === 'final_norm') return weightName(MODULES[role]);
  if (role === 'w1' || role === 'w2' || role === 'w3') return expertWeight(l, e, role);
  return layerWeight(l, role);
}

/** Tensors of one decoder layer, grouped: norms, attention, router, experts in index order (w1, w3, w2). */
export function layerTensors(c: M1Config, l: number, weightDtype: DType = 'BF16'): TensorSpec[] {
  const out: TensorSpec[] = [];
  for (const t of LAYER_TENSORS) {
    if (t.kind === undefined || t.kind === c.attnTypes[l]) out.push({ name: layerWeight(l, t.role), dtype: t.dtype ?? weightDtype, shape: t.shape(c) });
  }
  for (let e = 0; e < c.numExperts; e++) for (const t of EXPERT_TENSORS) out.push({ name: expertWeight(l, e, t.w), dtype: weightDtype, shape: t.shape(c) });
  return out;
}

/** Every tensor the config implies, in a locality-friendly order (embedding, layers 0..L-1, final norm, LM head). */
export function expectedTensors(c: M1Config, weightDtype: DType = 'BF16'): TensorSpec[] {
  const out: TensorSpec[] = [{ name: EMBED_WEIGHT, dtype: weightDtype, shape: [c.vocabSize, c.hiddenSize] }];
  for (let l = 0; l < c.numLayers; l++) out.push(...layerTensors(c, l, weightDtype));
  out.push({ name: FINAL_NORM_WEIGHT, dtype: weightDtype, shape: [c.hiddenSize] });
  if (!c.tieWordEmbeddings) out.push({ name: LM_HEAD_WEIGHT, dtype: weightDtype, shape: [c.vocabSize, c.hiddenSize] });
  return out;
}

const LAYER_RE = new RegExp(`^${LAYERS.replace(/\./g, '\\.')}(\\d+)\\.(.+)$`);
const EXPERT_RE = new RegExp(`^${EXPERTS_MODULE.replace(/\./g, '\\.')}\\.(\\d+)\\.(w[123])$`);

/**
 * Role of a canonical (HF per-expert) weight name, or undefined for a name m1kit does not know.
 * @example classify('model.layers.3.block_sparse_moe.experts.7.w2.weight') // { role: 'w2', layer: 3, expert: 7, … }
 */
export function classify(name: string): NameInfo | undefined {
  if (!name.endsWith('.weight')) return undefined;
  const module = name.slice(0, -'.weight'.length);
  if (module === MODULES.embed) return { role: 'embed', module };
  if (module === MODULES.lm_head) return { role: 'lm_head', module };
  if (module === MODULES.final_norm) return { role: 'final_norm', module };
  const m = LAYER_RE.exec(module);
  if (!m) return undefined;
  const layer = Number(m[1]);
  const rest = m[2]!;
  const role = ROLE_OF.get(rest);
  if (role) return { role, layer, module };
  const e = EXPERT_RE.exec(rest);
  if (e) return { role: e[2] as ExpertRole, layer, expert: Number(e[1]), module };
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
