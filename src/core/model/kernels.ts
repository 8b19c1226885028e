/**
 * Which implementation runs the layer ops of the forward pass:
 * - 'native': the addon's kernels through core/ops (GEMM on the stored bf16 weights, lightning prefill
 *   and decode, softmax attention); an UnavailableError when the addon is not loaded;
 * - 'ts': the TypeScript reference loops of src/core/model (float64 accumulation, bit-reproducible);
 * - 'auto' (default): native when the addon is loaded, else 'ts'.
 * Norms, residuals, gates, RoPE and routing stay TypeScript loops in both (≤ a few % of a layer's
 * time at real sizes; see bench/runtime.mjs).
 */
import { useNative } from '../ops/common.js';

export type KernelChoice = 'auto' | 'native' | 'ts';
export const KERNEL_CHOICES: readonly KernelChoice[] = ['auto', 'native', 'ts'];

/** True when `choice` selects the native kernels (throws UnavailableError for 'native' without the addon). */
export function resolveNative(choice: KernelChoice = 'auto'): boolean {
  if (choice === 'ts') return false;
  return useNative({ backend: choice === 'native' ? 'native' : 'auto' }, 'forward');
}
