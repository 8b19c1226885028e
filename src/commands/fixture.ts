import type { Command } from 'commander';
import { action, intArg } from './_shared/action.js';
import { formatBytes } from './_shared/reporter.js';
import { generateCheckpoint } from '../core/fixture/generate.js';
import { FIXTURE_PRESETS } from '../core/checkpoint/presets.js';
import { parseConfig } from '../core/checkpoint/config.js';
import { expectedTensors } from '../core/checkpoint/layout.js';
import { dtypeBytes } from '../core/dtype/dtypes.js';
import { UsageError } from '../core/errors.js';
import { readJsonFile } from '../core/safetensors/index-json.js';
import { collectInputs, guardOutput } from '../core/fs/output-guard.js';
import { count } from '../core/plural.js';

/** Weight bytes a preset writes (what `fixture --help` quotes, so the figure follows the preset data). */
export function presetBytes(name: string): number {
  return expectedTensors(parseConfig(FIXTURE_PRESETS[name]!, `preset ${name}`)).reduce((a, t) => a + t.shape.reduce((n, d) => n * d, 1) * dtypeBytes(t.dtype), 0);
}

/** "1.5 MB", "287 MB", "1.8 GB" (decimal, as file managers show them). */
const approx = (b: number) => (b >= 1e9 ? `${(b / 1e9).toFixed(1)} GB` : b >= 1e7 ? `${Math.round(b / 1e6)} MB` : `${(b / 1e6).toFixed(1)} MB`);

export function register(program: Command): void {
  program
    .command('fixture')
    .description('generate a deterministic MiniMax-M1-shaped checkpoint with random weights (for tests and benchmarks)')
    .argument('<out>', 'output directory')
    .option('--preset <name>', `size preset: ${Object.keys(FIXTURE_PRESETS).join(', ')}`, 'tiny')
    .option('--config <config.json>', 'use this config.json instead of a preset')
    .option('--seed <n>', 'random seed', intArg('--seed', 0), 0)
    .option('--shards <k>', 'number of weight files (1 = single model.safetensors)', intArg('--shards'), 1)
    .option('--force', 'replace the checkpoint in a non-empty <out> (its weights, index and config are removed first)', false)
    .addHelpText(
      'after',
      `
Examples:
  m1kit fixture /tmp/m1-tiny                       # ≈ ${approx(presetBytes('tiny'))}, single file
  m1kit fixture /tmp/m1-small --preset small --shards 4 --seed 7   # ≈ ${approx(presetBytes('small'))}
  m1kit fixture /tmp/m1-large --preset large --shards 8   # ≈ ${approx(presetBytes('large'))}, for benchmarks
  m1kit fixture /data/m1-slice --preset real-slice --shards 12   # ≈ ${approx(presetBytes('real-slice'))}: 2 layers at the released sizes

real-slice holds one lightning and one softmax layer at MiniMax-M1's sizes (hidden 6144, 64 × 128 heads,
8 kv heads, 32 experts × 9216, vocab 200,064): 11.4 + 11.1 GB of layers, 2.5 GB each for embeddings and
LM head. Its matrices are filled from a table of normal draws (≈ 300 MB/s), so the disk sets the pace.

Every preset also gets tokenizer.json and tokenizer_config.json: a small byte-level BPE (256 byte
tokens, 36 merges, M1's chat-format special tokens and chat template) with MiniMax-M1's pre-tokenizer
pattern, so --prompt, --text and --text-file work on it.`,
    )
    .action(
      action('fixture', async (ctx, out: string, o: { preset: string; config?: string; seed: number; shards: number; force: boolean }) => {
        if (!o.config && !FIXTURE_PRESETS[o.preset]) throw new UsageError(`unknown preset "${o.preset}"; expected one of ${Object.keys(FIXTURE_PRESETS).join(', ')}`);
        const guarded = await guardOutput({ path: out, kind: 'dir', label: 'output directory' }, await collectInputs([o.config ? { path: o.config, label: '--config' } : undefined]));
        const config = o.config ? ((await readJsonFile(o.config, 'config.json')) as Record<string, unknown>) : undefined;
        const bar = ctx.reporter.progress('fixture', 1, 'bytes');
        const res = await generateCheckpoint({
          out: guarded.real,
          preset: o.preset,
          ...(config ? { config } : {}),
          seed: o.seed,
          shards: o.shards,
          force: o.force,
          signal: ctx.signal,
          onProgress: (d, t) => {
            bar.setTotal(t);
            bar.update(d);
          },
        });
        bar.stop();
        ctx.reporter.result(res, () => `wrote ${count(res.tensors, 'tensor')} (${formatBytes(res.bytes)}) in ${count(res.files.length, 'file')} to ${out} (seed ${res.seed})${res.tokenizer ? ', with tokenizer.json' : ''}`);
      }),
    );
}
