/**
 * Which engine loads which m1kit output, as data (printed by `quantize --list` and in the README). Every
 * row marked "loads" or "rejected" for vLLM is checked by test/unit/engines/compat.test.ts, which applies vLLM's
 * rules (vllm-check.ts) to m1kit's real output on a fixture; "not known" rows are rules m1kit has not
 * re-implemented.
 */
import { QUANT_FORMATS, type EngineFact, type SchemeId } from '../formats/index.js';

export type EngineName = 'vllm' | 'sglang' | 'llama.cpp';
export type CompatStatus = 'loads' | 'rejected' | 'not known';

export interface CompatRow {
  engine: EngineName;
  versions: string;
  /** A format's registry id; `bf16` for an unquantized HF-layout checkpoint, `gguf` for `convert --to gguf`. */
  scheme: SchemeId | 'bf16' | 'gguf';
  /** Which modules are quantized (as `quantize --targets`); '-' for an unquantized output. */
  targets: EngineFact['targets'] | '-';
  status: CompatStatus;
  why: string;
}

/** The rows each format contributes (formats/<id>.ts `engines`) for `engine`, in registry order. */
const formatRows = (engine: EngineName): CompatRow[] => QUANT_FORMATS.flatMap((f) => f.engines.filter((e: EngineFact) => e.engine === engine).map((e) => ({ ...e, scheme: f.id })));

/** Rows for unquantized outputs; each engine's format rows follow its first one. */
const BASE: readonly CompatRow[] = [
  { engine: 'vllm', versions: '<= 0.23', scheme: 'bf16', targets: '-', status: 'loads', why: 'MiniMaxText01ForCausalLM; names match its load_weights' },
  { engine: 'vllm', versions: '> 0.23', scheme: 'bf16', targets: '-', status: 'rejected', why: 'MiniMaxText01ForCausalLM/MiniMaxM1ForCausalLM were removed after 0.23.0' },
  { engine: 'sglang', versions: 'any', scheme: 'bf16', targets: '-', status: 'not known', why: "serves M1 (minimax_text_01.py, same layer names as vLLM); m1kit does not re-implement SGLang's loader" },
  { engine: 'llama.cpp', versions: 'as node-llama-cpp 3.22.1 builds it', scheme: 'gguf', targets: '-', status: 'loads', why: 'loads as minimax-01 and runs: every --dtype of m1kit\'s GGUF gives logits matching m1kit\'s reference (test/e2e/llama-e2e.test.ts)' },
  { engine: 'llama.cpp', versions: 'other builds', scheme: 'gguf', targets: '-', status: 'not known', why: "mainline loads MiniMax-01/M1 as minimax-01; m1kit does not re-implement llama.cpp's loader checks" },
];

export const COMPAT: readonly CompatRow[] = BASE.flatMap((r, i) => (BASE.findIndex((b) => b.engine === r.engine) === i ? [r, ...formatRows(r.engine)] : [r]));
