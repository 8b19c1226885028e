/**
 * The reference model as llama.cpp's `minimax-01` defines it. llama.cpp normalises the lightning-
 * attention output with `rms_norm_eps`, while the official code uses 1e-6 (GGUF quirk 2); comparing
 * llama.cpp against a reference with the same eps isolates conversion error from that known
 * difference. Everything else (weights, config) is the checkpoint's own.
 */
import type { CheckpointLike } from '../model/session.js';

/**
 * A view of `ckpt` whose config uses llama.cpp's lightning-norm eps.
 * @example forward({ checkpoint: llamaCppReferenceView(ckpt), tokens })
 */
export function llamaCppReferenceView(ckpt: CheckpointLike): CheckpointLike {
  return {
    config: { ...ckpt.config, lightningNormEps: ckpt.config.rmsNormEps },
    has: (n) => ckpt.has(n),
    info: (n) => ckpt.info(n),
    read: (n, o, l) => ckpt.read(n, o, l),
  };
}
