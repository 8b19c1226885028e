/**
 * Output jobs of one rank (pure): for every output tensor, which rectangles of which canonical (HF
 * per-expert) tensors it is made of, or which canonical tensor a quantizer turns into which outputs.
 *
 * Expert layouts (names of the output tensors for layer L, E_r = experts held by the rank):
 * - `per-expert`: HF names `model.layers.L.block_sparse_moe.experts.E.{w1,w3,w2}.weight` (global E).
 * - `stacked`:    `model.layers.L.block_sparse_moe.experts.{w1,w3}.weight` [E_r, I, H] and
 *                 `…experts.w2.weight` [E_r, H, I], experts in index order (llama.cpp `ffn_*_exps` order).
 * - `fused-w13`:  `model.layers.L.block_sparse_moe.experts.w13.weight` [E_r, 2I, H] (per expert: w1 rows then
 *                 w3 rows, vLLM's `w13_weight`) and `…experts.w2.weight` [E_r, H, I].
 * Under TP, I and the sliced dims are the rank-local sizes.
 */
import type { M1Config } from '../checkpoint/config.js';
import type { DType } from '../dtype/dtypes.js';
import type { TensorSpec } from '../safetensors/writer.js';
import { formatOf, type SchemeId } from '../formats/index.js';
import { classify, EXPERT_ROLES, unitOf, view2d, type NameInfo, type Rect } from './geometry.js';
import { rankRect, type Grid } from './rank-split.js';
import { EXPERTS_MODULE, expertWeight, layerPrefix } from '../arch/minimax-m1/tensors.js';

export type ExpertsLayout = 'per-expert' | 'stacked' | 'fused-w13';
export const EXPERTS_LAYOUTS: ExpertsLayout[] = ['per-expert', 'stacked', 'fused-w13'];

export interface CanonicalTensor {
  name: string;
  info: NameInfo;
  shape: number[];
  /** Dtype of the canonical tensor as stored in (or, for quantized input, restored from) the input. */
  dtype: DType;
}

/** Rectangle `rect` of canonical tensor `src` placed at (row, col) `dst` of the output tensor's 2-D view. */
export interface Item {
  src: string;
  rect: Rect;
  dst: [number, number];
}

export type Job =
  | { kind: 'assemble'; unit: string; out: TensorSpec; items: Item[] }
  | { kind: 'quantize'; unit: string; scheme: SchemeId; group: number; src: string; outs: TensorSpec[] };

export interface JobOptions {
  grid: Grid;
  experts: ExpertsLayout;
  /** Output dtype of float weights (undefined: keep the input's). */
  dtype?: DType | undefined;
  /** Cast the F32 router too (default: it stays F32). */
  castRouter?: boolean;
  /** Quantize the tensors `quantizes` picks (the run's targets) with `scheme`. */
  quant?: { scheme: SchemeId; group: number; quantizes: (t: CanonicalTensor) => boolean } | undefined;
}

export const stackedName = (l: number, w: string): string => `${layerPrefix(l)}${EXPERTS_MODULE}.${w}.weight`;

const specBytes = (s: TensorSpec, bytes: (d: DType) => number): number => s.shape.reduce((a, b) => a * b, 1) * bytes(s.dtype);
export const jobBytes = (j: Job, bytes: (d: DType) => number): number => (j.kind === 'assemble' ? specBytes(j.out, bytes) : j.outs.reduce((a, s) => a + specBytes(s, bytes), 0));
export const jobTensors = (j: Job): TensorSpec[] => (j.kind === 'assemble' ? [j.out] : j.outs);

function outDtype(t: CanonicalTensor, o: JobOptions): DType {
  if (!o.dtype) return t.dtype;
  if (t.info.role === 'router' && !o.castRouter) return t.dtype;
  return o.dtype;
}

/** Output shape of a rectangle of tensor `shape`: 1-D stays 1-D, otherwise [rows, cols]. */
function rectShape(shape: number[], r: Rect): number[] {
  return shape.length === 1 ? [r.c1 - r.c0] : [r.r1 - r.r0, r.c1 - r.c0];
}

/**
 * Jobs of rank `rank` in canonical order (embedding, then per layer: attention unit, experts in index
 * order, then final norm and LM head).
 */
export function rankJobs(c: M1Config, canon: CanonicalTensor[], byName: Map<string, CanonicalTensor>, o: JobOptions, rank: number): Job[] {
  const jobs: Job[] = [];
  const stackedDone = new Set<number>();
  for (const t of canon) {
    const [R, C] = view2d(t.shape);
    const isExpert = EXPERT_ROLES.has(t.info.role);
    if (isExpert && o.experts !== 'per-expert') {
      const l = t.info.layer!;
      if (!stackedDone.has(l)) {
        stackedDone.add(l);
        jobs.push(...stackedJobs(c, byName, o, rank, l));
      }
      continue;
    }
    const rect = rankRect(c, o.grid, rank, t.info, R, C);
    if (!rect) continue;
    const unit = unitOf(t.info);
    if (o.quant && o.quant.quantizes(t)) {
      const s = formatOf(o.quant.scheme);
      const module = t.info.module;
      const outs = s.outputs.map((x) => ({ name: `${module}.${x.suffix}`, dtype: x.dtype, shape: x.shape(R, C, o.quant!.group) }));
      jobs.push({ kind: 'quantize', unit, scheme: s.id, group: o.quant.group, src: t.name, outs });
      continue;
    }
    jobs.push({ kind: 'assemble', unit, out: { name: t.name, dtype: outDtype(t, o), shape: rectShape(t.shape, rect) }, items: [{ src: t.name, rect, dst: [0, 0] }] });
  }
  return jobs;
}

function stackedJobs(c: M1Config, byName: Map<string, CanonicalTensor>, o: JobOptions, rank: number, l: number): Job[] {
  const unit = `L${l}.experts`;
  const experts: number[] = [];
  for (let e = 0; e < c.numExperts; e++) {
    const w1 = byName.get(expertWeight(l, e, 'w1'));
    if (w1 && rankRect(c, o.grid, rank, w1.info, ...view2d(w1.shape))) experts.push(e);
  }
  if (experts.length === 0) return [];
  const part = (e: number, w: 'w1' | 'w2' | 'w3') => {
    const t = byName.get(expertWeight(l, e, w))!;
    const rect = rankRect(c, o.grid, rank, t.info, ...view2d(t.shape))!;
    return { t, rect, rows: rect.r1 - rect.r0, cols: rect.c1 - rect.c0 };
  };
  const n = experts.length;
  const one = (w: 'w1' | 'w2' | 'w3'): Job => {
    const p0 = part(experts[0]!, w);
    const items = experts.map((e, k) => ({ src: part(e, w).t.name, rect: part(e, w).rect, dst: [k * p0.rows, 0] as [number, number] }));
    return { kind: 'assemble', unit, out: { name: stackedName(l, w), dtype: outDtype(p0.t, o), shape: [n, p0.rows, p0.cols] }, items };
  };
  if (o.experts === 'stacked') return [one('w1'), one('w3'), one('w2')];
  const a = part(experts[0]!, 'w1');
  const items: Item[] = [];
  experts.forEach((e, k) => {
    const p1 = part(e, 'w1');
    const p3 = part(e, 'w3');
    items.push({ src: p1.t.name, rect: p1.rect, dst: [k * 2 * a.rows, 0] }, { src: p3.t.name, rect: p3.rect, dst: [k * 2 * a.rows + a.rows, 0] });
  });
  const w13: Job = { kind: 'assemble', unit, out: { name: stackedName(l, 'w13'), dtype: outDtype(a.t, o), shape: [n, 2 * a.rows, a.cols] }, items };
  return [w13, one('w2')];
}

/** Canonical tensor list from (name, shape, dtype) triples; names m1kit does not know are refused by the caller. */
export function canonicalOf(specs: { name: string; shape: number[]; dtype: DType }[]): CanonicalTensor[] {
  return specs.map((s) => ({ ...s, info: classify(s.name)! }));
}
