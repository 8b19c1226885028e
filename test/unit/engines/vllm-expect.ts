/**
 * The check both the scheme × targets and the recipe tests apply to a written `quantization_config`:
 * under vLLM's own matching rules every layer of the real layout gets the quantized method exactly when
 * all its HF modules were quantized, and compressed-tensors' `ignore` matches exactly the kept modules.
 */
import { expect } from 'vitest';
import { classify } from '../../../src/core/arch/minimax-m1/tensors.js';
import type { EngineLayer } from '../../../src/core/engines/layers.js';
import { ctShouldIgnoreLayer, QKV_PACKED, vllmQuantizes } from '../../../src/core/engines/vllm-rules.js';

export function expectVllmSelection(qc: Record<string, unknown>, layers: EngineLayer[], names: string[], quantized: (hfModule: string) => boolean): void {
  let n = 0;
  for (const fused of [{}, QKV_PACKED])
    for (const l of layers) {
      const want = l.kind !== 'never_quantized' && l.hf.every(quantized);
      expect([l.prefix, vllmQuantizes(l, qc, fused)]).toEqual([l.prefix, want]);
      if (want) n++;
    }
  expect(n).toBeGreaterThan(0);
  if (!qc.ignore) return;
  // compressed-tensors itself matches `ignore` against the HF module names
  for (const name of names) {
    const info = classify(name);
    if (!info || info.role === 'embed' || !name.endsWith('.weight') || info.role.endsWith('norm')) continue;
    expect([info.module, ctShouldIgnoreLayer(info.module, qc.ignore as string[])]).toEqual([info.module, !quantized(info.module)]);
  }
}
