/** Checkpoints several tests generate (written by m1kit's fixture generator). */
import { FIXTURE_PRESETS } from '../../src/core/checkpoint/presets.js';
import { generateCheckpoint } from '../../src/core/fixture/generate.js';

/** ≈ 60 MB of bf16 in 4 shards: enough work for a Ctrl-C or a kill to land mid-run. */
export async function generateMedium(out: string): Promise<void> {
  const config = { ...FIXTURE_PRESETS.tiny!, hidden_size: 512, intermediate_size: 1024, num_local_experts: 8, num_hidden_layers: 4, attn_type_list: [0, 0, 1, 0], vocab_size: 4096, num_attention_heads: 8, head_dim: 64 };
  await generateCheckpoint({ out, config, seed: 5, shards: 4 });
}
