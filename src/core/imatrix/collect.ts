/**
 * The importance matrix llama-imatrix collects (docs/llama-files.md §3), gathered on the m1kit runtime:
 * for every matrix product of a weight that m1kit's GGUF converter writes as `blk.*` (and `output.weight`
 * when asked), Σx and Σx² per input column over the rows that enter it, and the row count; an expert
 * tensor (`ffn_{gate,up,down}_exps`) keeps one vector and one count per expert. Sums are float64.
 *
 * Names and activations are those of the GGUF the converter writes (gguf/minimax01.ts): the residual
 * fold (gguf/fold.ts) scales the pre-norm weights by α/s, so the rows entering a sub-layer's input maps
 * there are m1kit's rows × α/s; output maps see the same rows as here.
 */
import type { M1Config } from '../checkpoint/config.js';
import { residualFold } from '../gguf/fold.js';
import { assertConvertible, tensorPlan } from '../gguf/minimax01.js';

interface Target {
  /** GGUF tensor name. */
  gguf: string;
  /** Slot of this checkpoint weight (its expert index in a stacked tensor, else 0). */
  slot: number;
  /** Slots of the GGUF tensor (experts, or 1). */
  nMat: number;
  cols: number;
  /** Factor from m1kit's activations to the ones llama.cpp multiplies (residual fold). */
  factor: number;
}

export interface ImatrixEntry {
  /** GGUF tensor name the entry is for. */
  name: string;
  cols: number;
  nMat: number;
  /** Σx per column, [nMat, cols]. */
  inSum: Float64Array;
  /** Σx² per column, [nMat, cols]. */
  inSum2: Float64Array;
  /** Rows per slot, [nMat]. */
  counts: Float64Array;
}

/** GGUF output maps: their input is the sub-layer's own output, which the fold leaves unscaled. */
const OUTPUT_MAP = /\.(attn_output|ffn_down_exps)\.weight$/;

/** Accumulates the inputs of the observed matrix products by GGUF tensor. */
export class ImatrixCollector {
  private readonly targets = new Map<string, Target>();
  private readonly stats = new Map<string, ImatrixEntry>();

  /**
   * @param hasLmHead whether the checkpoint stores `lm_head.weight` (else llama.cpp uses token_embd)
   * @param processOutput also collect `output.weight` (llama-imatrix --process-output)
   */
  constructor(config: M1Config, hasLmHead: boolean, processOutput = false) {
    assertConvertible(config);
    const fold = residualFold(config);
    for (const t of tensorPlan(config, fold, 'f32', hasLmHead)) {
      if (t.role === 'norm' || t.sourceShape.length !== 2) continue;
      if (!(t.name.startsWith('blk.') || (processOutput && t.name === 'output.weight'))) continue;
      const factor = OUTPUT_MAP.test(t.name) ? 1 : 1 / t.scale;
      t.sources.forEach((src, slot) => this.targets.set(src, { gguf: t.name, slot, nMat: t.sources.length, cols: t.sourceShape[1]!, factor }));
    }
  }

  /** Whether products of checkpoint weight `name` are collected. */
  collects(name: string): boolean {
    return this.targets.has(name);
  }

  /** Add the rows x [rows, cols] that enter a product with checkpoint weight `name` (others are ignored). */
  add(name: string, x: Float32Array, rows: number): void {
    const t = this.targets.get(name);
    if (!t) return;
    let e = this.stats.get(t.gguf);
    if (!e) {
      e = { name: t.gguf, cols: t.cols, nMat: t.nMat, inSum: new Float64Array(t.cols * t.nMat), inSum2: new Float64Array(t.cols * t.nMat), counts: new Float64Array(t.nMat) };
      this.stats.set(t.gguf, e);
    }
    const base = t.slot * t.cols;
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < t.cols; j++) {
        const v = x[r * t.cols + j]! * t.factor;
        e.inSum[base + j]! += v;
        e.inSum2[base + j]! += v * v;
      }
    }
    e.counts[t.slot]! += rows;
  }

  /** The entries, sorted by name (the order llama-imatrix stores them in). */
  entries(): ImatrixEntry[] {
    return [...this.stats.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}
