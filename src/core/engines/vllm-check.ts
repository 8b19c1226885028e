/**
 * Check a MiniMax-M1 checkpoint's tensor names and `quantization_config` against vLLM's (≤ 0.23) rules
 * (vllm-rules.ts): the config parses, every layer gets the method its tensors were written for, and every
 * tensor lands on a parameter that method registers. Pure: names and the config in, problems out.
 */
import { engineLayers, type EngineLayer } from './layers.js';
import { ShardMismatch, VLLM_PARAMS, vllmMiniMaxExpertRename, vllmParseProblems, vllmQuantMethod, vllmQuantizes, type FusedMapping, type VllmMethod } from './vllm-rules.js';

export interface EngineProblem {
  /** The module, tensor or config key concerned. */
  where: string;
  message: string;
}

const SUFFIXES = ['weight_scale_inv', 'weight_packed', 'weight_scale', 'weight_shape', 'weight_g_idx', 'input_scale', 'weight'];

function moduleOf(tensor: string): string | undefined {
  for (const s of SUFFIXES) if (tensor.endsWith(`.${s}`)) return tensor.slice(0, -s.length - 1);
  return undefined;
}

/** What a Linear of `method` must hold (optional parameters, like `weight_g_idx`, left out). */
const REQUIRED: Record<Exclude<VllmMethod, 'other'>, string[]> = {
  unquantized: ['weight'],
  'fp8-block': ['weight', 'weight_scale_inv'],
  'ct-wna16': ['weight_packed', 'weight_scale', 'weight_shape'],
  'ct-w8a8-int8': ['weight', 'weight_scale'],
};

export function checkVllm(tensorNames: readonly string[], qc: Record<string, unknown> | undefined, numExperts: number, fused: FusedMapping = {}): EngineProblem[] {
  const out: EngineProblem[] = [];
  if (qc) for (const m of vllmParseProblems(qc)) out.push({ where: 'quantization_config', message: m });
  if (out.length) return out;
  const byModule = new Map<string, string[]>();
  for (const t of tensorNames) {
    const m = moduleOf(t);
    if (!m) continue;
    const list = byModule.get(m) ?? [];
    list.push(t);
    byModule.set(m, list);
  }
  const layers = engineLayers([...byModule.keys()].map((m) => `${m}.weight`));
  for (const layer of layers) {
    if (layer.kind === 'never_quantized') continue;
    let method: VllmMethod;
    try {
      method = qc && vllmQuantizes(layer, qc, fused) ? vllmQuantMethod(qc) : 'unquantized';
    } catch (e) {
      if (e instanceof ShardMismatch) {
        out.push({ where: layer.prefix, message: e.message });
        continue;
      }
      throw e;
    }
    if (method === 'other') {
      out.push({ where: layer.prefix, message: `no vLLM method m1kit knows for this quantization_config` });
      continue;
    }
    out.push(...(layer.kind === 'linear' ? linearProblems(layer, method, byModule) : moeProblems(layer, method, byModule, numExperts)));
  }
  return out;
}

function linearProblems(layer: EngineLayer, method: Exclude<VllmMethod, 'other'>, byModule: Map<string, string[]>): EngineProblem[] {
  const out: EngineProblem[] = [];
  for (const hf of layer.hf) {
    const have = (byModule.get(hf) ?? []).map((t) => t.slice(hf.length + 1));
    for (const s of have)
      if (!VLLM_PARAMS[method].linear.includes(s)) out.push({ where: `${hf}.${s}`, message: `vLLM builds ${layer.prefix} with the ${method} method, which has no parameter "${s}"` });
    for (const s of REQUIRED[method]) if (!have.includes(s)) out.push({ where: `${hf}.${s}`, message: `missing: the ${method} method of ${layer.prefix} needs "${s}"` });
  }
  return out;
}

function moeProblems(layer: EngineLayer, method: Exclude<VllmMethod, 'other'>, byModule: Map<string, string[]>, numExperts: number): EngineProblem[] {
  const out: EngineProblem[] = [];
  const loaded = new Set<string>();
  for (const hf of layer.hf)
    for (const t of byModule.get(hf) ?? []) {
      const renamed = vllmMiniMaxExpertRename(t, numExperts);
      const param = renamed.slice(renamed.lastIndexOf('experts.') + 'experts.'.length);
      loaded.add(param);
      if (!VLLM_PARAMS[method].moe.includes(param))
        out.push({ where: t, message: `vLLM's MiniMax load_weights renames it to "${param}", which the ${method} method of ${layer.prefix} does not register` });
    }
  for (const s of REQUIRED[method])
    for (const fused of ['w13', 'w2'])
      if (!loaded.has(`${fused}_${s}`)) out.push({ where: layer.prefix, message: `missing: the ${method} method of ${layer.prefix} needs "${fused}_${s}" and no expert tensor loads into it` });
  return out;
}
