/**
 * `quantize --check`: a short `verify --against` of a quantized output on its source — the same seeded
 * random token sequences through both checkpoints, logits compared with the verify metrics (mean KLD,
 * same top-1, PPL ratio) and judged against `maxKld`. Short on purpose: CHECK_SEQUENCES × CHECK_SEQ_LEN
 * tokens, enough to catch a broken or badly chosen quantization, not a quality benchmark (use
 * `m1kit verify --against … --text-file` for that).
 */
import { openCheckpoint } from '../checkpoint/validate.js';
import type { KernelChoice } from '../model/kernels.js';
import { randomSequences, verifyAgainst, type CompareResult } from './against.js';

/** Random sequences of the check, their length and seed (fixed, so a check is reproducible). */
export const CHECK_SEQUENCES = 2;
export const CHECK_SEQ_LEN = 64;
export const CHECK_SEED = 0;
/**
 * Default bound on the mean KLD (nats per token): loose, to catch a broken output rather than to grade a
 * good one (pass a tighter --max-kld for that). Measured on the tiny fixture with targets all: fp8-block
 * 9.3e-7, int8-channel 4.9e-8, w4a16 (group 32) 1.1e-5; its logits are nearly flat, so these say nothing
 * about the released model's.
 */
export const DEFAULT_CHECK_MAX_KLD = 0.1;

export interface QuantizeCheckOptions {
  maxKld?: number | undefined;
  sequences?: number | undefined;
  seqLen?: number | undefined;
  kernels?: KernelChoice | undefined;
  threads?: number | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: ((done: number, total: number) => void) | undefined;
}

/**
 * Compare the quantized checkpoint `output` with its source `input`.
 * @example const r = await checkQuantized('out-fp8', 'in', { maxKld: 0.01 }); r.pass
 */
export async function checkQuantized(output: string, input: string, o: QuantizeCheckOptions = {}): Promise<CompareResult> {
  const ref = await openCheckpoint(input, o.signal ? { signal: o.signal } : {});
  try {
    const test = await openCheckpoint(output, o.signal ? { signal: o.signal } : {});
    try {
      const sequences = randomSequences(CHECK_SEED, o.sequences ?? CHECK_SEQUENCES, o.seqLen ?? CHECK_SEQ_LEN, ref.config.vocabSize);
      return await verifyAgainst({
        checkpoint: test,
        reference: ref,
        sequences,
        thresholds: { maxKld: o.maxKld ?? DEFAULT_CHECK_MAX_KLD },
        ...(o.kernels ? { kernels: o.kernels } : {}),
        ...(o.threads !== undefined ? { threads: o.threads } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
        ...(o.onProgress ? { onProgress: o.onProgress } : {}),
      });
    } finally {
      await test.close();
    }
  } finally {
    await ref.close();
  }
}
