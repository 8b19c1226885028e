/**
 * The completeness check of a checkpoint against the tensor set its config implies (the family's,
 * arch/minimax-m1/tensors.ts).
 */
import type { DType } from '../dtype/dtypes.js';
import type { TensorSpec } from '../safetensors/writer.js';
import type { M1Config } from './config.js';
import { ROUTER_SUFFIX } from '../arch/minimax-m1/tensors.js';
import { familyOfConfig } from '../arch/registry.js';
import { QUANT_FORMATS } from '../formats/index.js';

/** Tensors a quantized checkpoint holds besides the weights: every registered format's stored tensors, and zero points (refused later, by name). */
const STORED_SUFFIXES = new Set([...QUANT_FORMATS.flatMap((f) => f.outputs.map((o) => o.suffix)), 'weight_zero_point'].filter((x) => x !== 'weight'));

/** Every tensor the config implies, in file order: the tensor list of the family its `architectures` names. */
export function expectedTensors(c: M1Config, weightDtype: DType = 'BF16'): TensorSpec[] {
  return familyOfConfig(c.raw).tensors.expected(c, weightDtype);
}

export type ProblemKind = 'missing' | 'unexpected' | 'shape' | 'dtype' | 'architecture' | 'quantization';
export interface Problem {
  kind: ProblemKind;
  tensor: string;
  expected?: string;
  found?: string;
  message: string;
}

/**
 * Compare what a checkpoint holds with what the config implies. `allowDtypes` lists dtypes accepted
 * for weights besides the expected one (e.g. a converted fp16 checkpoint); routers may be F32 or the weight dtype.
 * Tensors of quantized checkpoints (`*.weight_scale_inv`, `*.weight_scale`, …) are not flagged.
 */
export function checkCompleteness(
  c: M1Config,
  actual: Map<string, { dtype: DType; shape: number[] }>,
  opts: { allowDtypes?: DType[]; quantized?: boolean } = {},
): Problem[] {
  return compareTensors(expectedTensors(c), actual, opts);
}

/** Compare what a checkpoint holds with an expected tensor list (see checkCompleteness). */
export function compareTensors(
  expected: TensorSpec[],
  actual: Map<string, { dtype: DType; shape: number[] }>,
  opts: { allowDtypes?: DType[]; quantized?: boolean } = {},
): Problem[] {
  const problems: Problem[] = [];
  const names = new Set(expected.map((t) => t.name));
  const allowed = new Set<DType>(['BF16', ...(opts.allowDtypes ?? [])]);
  for (const t of expected) {
    const a = actual.get(t.name) ?? (opts.quantized ? actual.get(t.name.replace(/\.weight$/, '.weight_packed')) : undefined);
    if (!a) {
      problems.push({ kind: 'missing', tensor: t.name, expected: `${t.dtype} ${JSON.stringify(t.shape)}`, message: `missing tensor "${t.name}" (expected ${t.dtype} ${JSON.stringify(t.shape)})` });
      continue;
    }
    const quantizedTensor = opts.quantized && a.dtype !== t.dtype && !allowed.has(a.dtype);
    if (!quantizedTensor && JSON.stringify(a.shape) !== JSON.stringify(t.shape)) {
      problems.push({ kind: 'shape', tensor: t.name, expected: JSON.stringify(t.shape), found: JSON.stringify(a.shape), message: `tensor "${t.name}" has shape ${JSON.stringify(a.shape)}, expected ${JSON.stringify(t.shape)}` });
    }
    const okDtype = t.name.endsWith(ROUTER_SUFFIX) ? a.dtype === 'F32' || allowed.has(a.dtype) : allowed.has(a.dtype) || Boolean(quantizedTensor);
    if (!okDtype) {
      problems.push({ kind: 'dtype', tensor: t.name, expected: t.dtype, found: a.dtype, message: `tensor "${t.name}" has dtype ${a.dtype}, expected ${t.dtype}` });
    }
  }
  for (const name of actual.keys()) {
    if (names.has(name)) continue;
    if (opts.quantized && STORED_SUFFIXES.has(name.slice(name.lastIndexOf('.') + 1))) continue;
    problems.push({ kind: 'unexpected', tensor: name, message: `unexpected tensor "${name}" (not implied by config.json)` });
  }
  return problems;
}
