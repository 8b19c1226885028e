/**
 * What the NVFP4, MXFP4 and MXFP8 format modules share (docs/ecosystem.md §2.5): their compressed-tensors
 * `weights` arguments and config, the engine facts, and the shape rule (whole groups per row).
 */
import { InputError } from '../errors.js';
import { EXPERT_SCALES } from './engine-facts.js';
import { ctConfig, ctWeights } from './common.js';
import type { ConfigContext, EngineFact } from './format.js';

/** compressed-tensors' serialisation of a float weight scheme (torch dtypes as `torch.<name>`). */
export function floatWeights(numBits: 4 | 8, strategy: 'tensor_group' | 'group', group: number, scaleDtype: string): Record<string, unknown> {
  return {
    num_bits: numBits, type: 'float', symmetric: true, strategy, group_size: group, block_structure: null, dynamic: false,
    actorder: null, scale_dtype: scaleDtype, zp_dtype: null, observer: 'minmax', observer_kwargs: {},
  };
}

/** The weight-only compressed-tensors config of `format` (one group targeting Linear, no activations). */
export function floatConfig(format: string, weights: Record<string, unknown>, ctx: ConfigContext): Record<string, unknown> {
  return ctConfig(format, weights, null, ctx);
}

/** The group of a config declaring `format` with `numBits` float weights in groups of `group`, else undefined. */
export function floatFromConfig(qc: Record<string, unknown>, where: string, format: string, numBits: number, group: number): { group: number } | undefined {
  if (qc.quant_method !== 'compressed-tensors' || qc.format !== format) return undefined;
  const w = ctWeights(qc);
  if (w.num_bits !== numBits || w.type !== 'float' || w.group_size !== group) {
    throw new InputError('E_QUANT_CONFIG', `${where}: format "${format}" needs ${numBits}-bit float weights in groups of ${group}, found num_bits ${JSON.stringify(w.num_bits)}, type ${JSON.stringify(w.type)}, group_size ${JSON.stringify(w.group_size)}`);
  }
  return { group };
}

/** Why a [rows, cols] weight cannot be stored in groups of `group` (compressed-tensors needs whole groups). */
export const wholeGroups = (id: string, group: number) => (_r: number, cols: number): string | undefined =>
  cols % group !== 0 ? `has ${cols} input columns, not a multiple of the ${id} group of ${group} (compressed-tensors stores whole groups)` : undefined;

/**
 * vLLM ≤ 0.23 rows of a compressed-tensors float format named `what`: m1kit has not re-implemented vLLM's
 * methods for these formats, so no row is "loads" or "rejected"; files with quantized experts also meet
 * the MiniMax loader's renaming of expert `weight_scale` (docs/ecosystem.md §2.1).
 */
export function vllmFloatFacts(what: string): EngineFact[] {
  const unknown = `m1kit does not re-implement vLLM's compressed-tensors ${what} method`;
  const experts = `${unknown}; expected to fail: ${EXPERT_SCALES}`;
  return [
    { engine: 'vllm', versions: '<= 0.23', targets: 'attention', status: 'not known', why: unknown },
    { engine: 'vllm', versions: '<= 0.23', targets: 'experts', status: 'not known', why: experts },
    { engine: 'vllm', versions: '<= 0.23', targets: 'all', status: 'not known', why: experts },
  ];
}
