/**
 * Size and error summaries of a plan (pure): per group (experts, attention, embeddings, norms+router)
 * input and output bytes, and the per-scheme aggregate of the per-tensor quantization errors.
 */
import { dtypeBytes } from '../dtype/dtypes.js';
import { numel } from '../dtype/dtypes.js';
import { groupOf } from '../pipeline/geometry.js';
import { jobBytes, type CanonicalTensor } from '../pipeline/jobs.js';
import type { Plan } from '../pipeline/plan.js';
import type { TensorError } from './state.js';

export interface GroupSize {
  group: string;
  tensors: number;
  inputBytes: number;
  outputBytes: number;
}

/** Input/output bytes per group. Replicated tensors count once per rank that holds them. */
export function groupSizes(plan: Plan, canon: Map<string, CanonicalTensor>): GroupSize[] {
  const groups = new Map<string, GroupSize>();
  const get = (g: string) => {
    let s = groups.get(g);
    if (!s) groups.set(g, (s = { group: g, tensors: 0, inputBytes: 0, outputBytes: 0 }));
    return s;
  };
  for (const t of canon.values()) {
    const s = get(groupOf(t.info.role));
    s.tensors++;
    s.inputBytes += numel(t.shape) * dtypeBytes(t.dtype);
  }
  for (const f of plan.files) {
    for (const j of f.jobs) {
      const src = j.kind === 'assemble' ? j.items[0]!.src : j.src;
      get(groupOf(canon.get(src)!.info.role)).outputBytes += jobBytes(j, dtypeBytes);
    }
  }
  const order = ['experts', 'attention', 'embeddings', 'norms+router'];
  return [...groups.values()].sort((a, b) => order.indexOf(a.group) - order.indexOf(b.group));
}

export interface ErrorSummary {
  group: string;
  tensors: number;
  meanRelRmse: number;
  worstRelRmse: number;
  worstTensor: string;
  maxAbs: number;
  minSnrDb: number;
}

/** Aggregate per-tensor errors by group. */
export function errorSummary(errors: TensorError[], canon: Map<string, CanonicalTensor>): ErrorSummary[] {
  const by = new Map<string, TensorError[]>();
  for (const e of errors) {
    const g = groupOf(canon.get(e.tensor)?.info.role ?? 'w1');
    by.set(g, [...(by.get(g) ?? []), e]);
  }
  return [...by.entries()].map(([group, es]) => {
    const worst = es.reduce((a, b) => (b.relRmse > a.relRmse ? b : a));
    return {
      group,
      tensors: es.length,
      meanRelRmse: es.reduce((a, b) => a + b.relRmse, 0) / es.length,
      worstRelRmse: worst.relRmse,
      worstTensor: worst.tensor,
      maxAbs: Math.max(...es.map((e) => e.maxAbs)),
      minSnrDb: Math.min(...es.map((e) => e.snrDb)),
    };
  });
}
