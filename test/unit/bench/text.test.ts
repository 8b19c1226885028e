/**
 * The human output of `m1kit bench`: verdict first, 100 columns by default (--wide for everything), one
 * row for --ctx, footnotes for percentages above 100%, the whole option list in `bench --help`, and a
 * --plot x axis that follows --sweep.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/core/checkpoint/config.js';
import { M1_CONFIG } from '../../../src/core/checkpoint/presets.js';
import { runBench } from '../../../src/core/bench/run.js';
import type { BenchResult, Figure } from '../../../src/core/bench/schema.js';
import { DEFAULT_WIDTH, kernelTables, modelTables, verdict } from '../../../src/core/bench/text.js';
import { minimaxArch } from '../../../src/core/arch/minimax-m1/flops.js';
import { PEERS } from '../../../src/core/flops/peers.js';
import { DEFAULT_SWEEP } from '../../../src/core/flops/tokens.js';
import { m1kit } from '../../helpers/cli.js';
import { tmpDir } from '../../helpers/tmp.js';

const widest = (text: string) => Math.max(...text.split('\n').map((l) => [...l].length));

async function modelOnly(): Promise<BenchResult> {
  return runBench({ subject: minimaxArch(parseConfig(M1_CONFIG)), configLabel: 'preset:minimax-m1', peers: [...PEERS], ctx: 1_000_000, sweep: DEFAULT_SWEEP, convention: 'physical' });
}

/** A model result plus hand-written kernel figures (one with 154% of copy bandwidth, one CPU share of 0.1). */
async function withKernels(): Promise<BenchResult> {
  const r = await modelOnly();
  const m = (value: number, unit: string, kind: Figure['kind'] = 'derived'): Figure => ({ value, unit, kind });
  Object.assign(r.metrics, {
    'machine.fma_gflops': m(425, 'GFLOP/s', 'measured'),
    'machine.bandwidth_gbs': m(32.2, 'GB/s', 'measured'),
    'kernel.lightning_prefill.head_tokens_per_s': { ...m(9.2e5, 'head·tokens/s', 'measured'), better: 'higher', samples: [9e5, 9.2e5, 9.4e5], spread: { min: 9e5, max: 9.4e5, rel: 0.0435 } },
    'kernel.lightning_prefill.gflops': m(180.9, 'GFLOP/s'),
    'kernel.lightning_prefill.pct_fma_peak': m(42.6, '%'),
    'kernel.lightning_prefill.gbs': m(1.9, 'GB/s'),
    'kernel.lightning_prefill.pct_bandwidth': m(5.9, '%'),
    'kernel.lightning_prefill.layer_seconds@1000000': m(69.6, 's'),
    'kernel.lightning_prefill.cpu_share': m(0.1, 'ratio', 'measured'),
    'kernel.lightning_decode.layer_tokens_per_s': { ...m(5815, 'tokens/s', 'measured'), better: 'higher' },
    'kernel.lightning_decode.gflops': m(24.4, 'GFLOP/s'),
    'kernel.lightning_decode.gbs': m(49.5, 'GB/s'),
    'kernel.lightning_decode.pct_bandwidth': m(153.9, '%'),
    'kernel.minimax-m1.attention_prefill_seconds@1000000': m(1.33e6, 's', 'extrapolated'),
    'kernel.minimax-m1.attention_decode_seconds_per_token@1000000': m(3.06, 's/token', 'extrapolated'),
    'kernel.minimax-m1.softmax_over_lightning_layer_prefill@1000000': m(1904, 'ratio', 'extrapolated'),
    'kernel.minimax-m1.lightning_share_of_prefill@1000000': m(0.0037, 'ratio', 'extrapolated'),
  });
  r.params.kernels = { device: 'cpu', threads: 2, repeat: 3, heads: 2, tokens: 1_000_000 };
  return r;
}

describe('bench text', () => {
  it('verdict: generation FLOPs ratio and KV cache at --ctx, from the figures', async () => {
    const r = await modelOnly();
    const v = verdict(r);
    const ratio = r.metrics['ratio.minimax-m1/deepseek-r1.generation@1000000']!.value;
    expect(v[0]).toContain(`MiniMax-M1 needs ${ratio.toFixed(2)}× DeepSeek-R1's`);
    expect(v[0]).toMatch(/^At 1M tokens \(modelled\)/);
    const kv = r.metrics['model.minimax-m1.kv_cache_bytes@1000000']!.value / 2 ** 30;
    expect(v[0]).toContain(`KV cache ${kv.toFixed(1)} GiB vs`);
  });

  it('one generation row for --ctx by default (the 1M sweep entry is 5% away); both with --wide', async () => {
    const r = await modelOnly();
    const gen = (wide: boolean) => modelTables(r, { wide })[1]!.rows.map((row) => row[0]);
    expect(gen(false)).toEqual(['8K', '32K', '64K', '100K', '128K', '1,000,000']);
    expect(gen(true)).toEqual(['8K', '32K', '64K', '100K', '128K', '1,000,000', '1M']);
  });

  it('percentages above 100% carry a footnote mark and the footnote says why', async () => {
    const k = kernelTables(await withKernels());
    const decode = k.tables[0]!.rows.find((row) => row[0] === 'lightning decode')!;
    expect(decode.join(' ')).toMatch(/154%\[1\]/);
    expect(k.footnotes.find((f) => f.startsWith('[1] above 100%'))).toMatch(/stays in cache/);
    const prefill = k.tables[0]!.rows.find((row) => row[0] === 'lightning prefill')!;
    expect(prefill.join(' ')).not.toMatch(/\[\d\]/);
    expect(k.footnotes.join(' ')).toMatch(/got only 10% of 2 threads' CPU time/);
  });
});

describe('bench through the CLI', () => {
  it('bench flops: verdict first, at most 100 columns by default, wider with --wide', async () => {
    const r = await m1kit(['bench', 'flops']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^At 1M tokens \(modelled\): MiniMax-M1 needs 0\.10× DeepSeek-R1's/);
    expect(widest(r.stdout)).toBeLessThanOrEqual(DEFAULT_WIDTH);
    const w = await m1kit(['bench', 'flops', '--wide']);
    expect(widest(w.stdout)).toBeGreaterThan(DEFAULT_WIDTH);
    expect(w.stdout).toMatch(/absorbed MLA/);
  });

  it('bench --help lists the default run options and the global --json', async () => {
    const r = await m1kit(['bench', '--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--ctx', '--no-kernels', '--json', '--repeat', '--wide', '--time-budget']) expect(r.stdout).toContain(flag);
  });

  it('--plot follows --sweep: the paper range ends at 128K, not at --ctx', async () => {
    const dir = await tmpDir();
    const svg = join(dir, 'fig1.svg');
    const r = await m1kit(['bench', 'flops', '--convention', 'paper', '--sweep', '8k,32k,64k,100k,128k', '--plot', svg]);
    expect(r.code, r.stderr).toBe(0);
    const text = await readFile(svg, 'utf8');
    expect(text).toContain('>128<');
    expect(text).not.toContain('>1,024<');
    expect(text).toContain('1× DeepSeek @ 8.6K');
  });
});
