/**
 * `inspect --engine`: check a checkpoint against the loading rules m1kit knows for an engine: layer names
 * and quantization-config matching (vLLM, vllm-check.ts), block/group divisibility per TP rank, the
 * architecture name, and the dtypes of router, norms, embedding and head. Reads headers only.
 */
import { UsageError } from '../errors.js';
import { Checkpoint } from '../checkpoint/checkpoint.js';
import { classify } from '../pipeline/geometry.js';
import type { M1Config } from '../checkpoint/config.js';
import type { DType } from '../dtype/dtypes.js';
import { engineLayers } from './layers.js';
import { checkVllm, type EngineProblem } from './vllm-check.js';
import { vllmQuantizes } from './vllm-rules.js';

export type EngineSpec = { engine: 'vllm'; version: [number, number] | null } | { engine: 'sglang' } | { engine: 'llama.cpp' };

export const ENGINE_SPECS = 'vllm[@<version>] | sglang | llama.cpp';

/** @example parseEngine('vllm@0.23') // { engine: 'vllm', version: [0, 23] } */
export function parseEngine(s: string): EngineSpec {
  if (s === 'sglang' || s === 'llama.cpp') return { engine: s };
  const m = /^vllm(?:@(\d+)\.(\d+)(?:\.\d+)?)?$/.exec(s);
  if (!m) throw new UsageError(`--engine must be ${ENGINE_SPECS}; got "${s}"`);
  return { engine: 'vllm', version: m[1] === undefined ? null : [Number(m[1]), Number(m[2])] };
}

export interface EngineCheckInput {
  config: M1Config;
  configRaw: Record<string, unknown>;
  tensors: ReadonlyMap<string, { dtype: DType; shape: readonly number[] }>;
  tp: number;
}

const FLOAT: ReadonlySet<DType> = new Set(['F32', 'BF16', 'F16']);
const VLLM_ARCHS = ['MiniMaxText01ForCausalLM', 'MiniMaxM1ForCausalLM'];

/** Problems an engine would hit loading this checkpoint (empty: none that m1kit's rules find). */
export function engineProblems(spec: EngineSpec, x: EngineCheckInput): EngineProblem[] {
  if (spec.engine === 'llama.cpp') return [{ where: 'checkpoint', message: 'llama.cpp reads GGUF only; write one with `m1kit convert <in> <out.gguf> --to gguf`' }];
  const out: EngineProblem[] = [];
  if (spec.engine === 'vllm' && spec.version && (spec.version[0] > 0 || spec.version[1] > 23))
    out.push({ where: 'architectures', message: `vLLM ${spec.version.join('.')} has no MiniMax-M1 model class (MiniMaxText01ForCausalLM was removed after 0.23.0)` });
  const archs = Array.isArray(x.configRaw.architectures) ? (x.configRaw.architectures as unknown[]) : [];
  if (!archs.some((a) => VLLM_ARCHS.includes(String(a)))) out.push({ where: 'config.json architectures', message: `expected one of ${VLLM_ARCHS.join(', ')}; found ${JSON.stringify(archs)}` });
  if (x.config.numHeads % x.tp !== 0) out.push({ where: 'num_attention_heads', message: `${x.config.numHeads} heads do not split over TP ${x.tp}` });
  for (const [name, t] of x.tensors) {
    const info = classify(name);
    if (!info) continue;
    const kept = info.role === 'router' || info.role === 'embed' || info.role === 'lm_head' || info.role.endsWith('norm');
    if (kept && !FLOAT.has(t.dtype)) out.push({ where: name, message: `${info.role} must stay floating point (F32/BF16/F16); found ${t.dtype}` });
  }
  const qc = x.configRaw.quantization_config as Record<string, unknown> | undefined;
  // quantization-config matching and the MiniMax loader's names are vLLM's rules; SGLang names layers the
  // same way (its minimax_text_01.py) but its quantized loaders are not re-implemented here
  if (spec.engine === 'vllm') out.push(...checkVllm([...x.tensors.keys()], qc, x.config.numExperts));
  if (qc) out.push(...divisibility(x, qc));
  return out;
}

/**
 * vLLM shards Column-parallel Linears (qkv_proj, output_gate) by output rows, Row-parallel ones (out_proj,
 * o_proj) by input columns and the experts' intermediate dimension; block FP8 needs every per-rank
 * output/input size divisible by the block (`Fp8LinearMethod.create_weights` → `validate_fp8_block_shape`),
 * and WNA16 a per-rank input size divisible by the group.
 */
function divisibility(x: EngineCheckInput, qc: Record<string, unknown>): EngineProblem[] {
  const out: EngineProblem[] = [];
  const c = x.config;
  const tp = x.tp;
  const block = Array.isArray(qc.weight_block_size) ? (qc.weight_block_size as number[]) : null;
  const groups = Object.values((qc.config_groups ?? {}) as Record<string, { weights?: { group_size?: number | null } }>);
  const group = groups[0]?.weights?.group_size ?? null;
  const kvPerRank = c.numKvHeads >= tp ? (c.numKvHeads * c.headDim) / tp : c.headDim;
  for (const l of engineLayers([...x.tensors.keys()].map((n) => n.replace(/\.(weight_packed|weight_scale_inv|weight_scale|weight_shape)$/, '.weight')))) {
    if (l.kind === 'never_quantized' || !vllmQuantizes(l, qc)) continue;
    const proj = l.prefix.split('.').at(-1)!;
    // vLLM checks a split size only when TP > 1, except the shards of a merged GEMM (QKVParallelLinear)
    const sizes: { what: string; n: number; by: 'out' | 'in'; merged?: true }[] = [];
    if (l.kind === 'fused_moe') sizes.push({ what: 'expert intermediate', n: c.intermediateSize / tp, by: 'out' }, { what: 'expert w2 input', n: c.intermediateSize / tp, by: 'in' });
    else if (proj === 'out_proj' || proj === 'o_proj') sizes.push({ what: `${proj} input`, n: (c.numHeads * c.headDim) / tp, by: 'in' });
    else if (proj === 'output_gate') sizes.push({ what: 'output_gate output', n: (c.numHeads * c.headDim) / tp, by: 'out' });
    else if (c.attnTypes[Number(l.prefix.split('.')[2])] === 1) sizes.push({ what: 'q output', n: (c.numHeads * c.headDim) / tp, by: 'out', merged: true }, { what: 'k/v output', n: kvPerRank, by: 'out', merged: true });
    else sizes.push({ what: 'qkv output', n: (3 * c.numHeads * c.headDim) / tp, by: 'out' });
    for (const s of sizes) {
      if (tp === 1 && !s.merged) continue;
      const edge = block ? (s.by === 'out' ? block[0]! : block[1]!) : s.by === 'in' ? group : null;
      if (edge && (!Number.isInteger(s.n) || s.n % edge !== 0)) out.push({ where: l.prefix, message: `${s.what} per TP rank is ${s.n} at TP ${tp}, not a multiple of the quantization ${block ? 'block' : 'group'} ${edge}` });
    }
  }
  return out;
}

export interface EngineReport {
  engine: string;
  tp: number;
  ok: boolean;
  problems: EngineProblem[];
}

/** Open `dir` (headers only) and check it against `engine`'s rules for TP `tp`. */
export async function checkCheckpointForEngine(dir: string, engine: string, tp: number, signal?: AbortSignal): Promise<EngineReport> {
  const spec = parseEngine(engine);
  const ckpt = await Checkpoint.open(dir, { allowMissingShards: true, ...(signal ? { signal } : {}) });
  try {
    const tensors = new Map<string, { dtype: DType; shape: readonly number[] }>();
    for (const [name, { info }] of ckpt.tensors) tensors.set(name, { dtype: info.dtype, shape: info.shape });
    const problems = engineProblems(spec, { config: ckpt.config, configRaw: ckpt.configRaw, tensors, tp });
    return { engine, tp, ok: problems.length === 0, problems };
  } finally {
    await ckpt.close();
  }
}
