/**
 * `m1kit bench` through the built CLI (`npx tsc -p .` first): --json documents, labels and exit codes.
 * Expected numbers are derived here from the spec's formulas (docs/architecture.md §5.3, §5.4).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURE_PRESETS } from '../../src/core/checkpoint/presets.js';
import { cudaStatus } from '../../src/native/index.js';
import { jsonDoc, m1kit } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';

/** Short kernel runs for tests: the gate logic is tested elsewhere; here only wiring and labels. */
const QUICK = ['--ctx', '4096', '--time-budget', '1'];

describe('m1kit bench flops', () => {
  it('--json: versioned schema, modelled figures with units, physical decode at 1,000,000 tokens', async () => {
    const r = await m1kit(['bench', 'flops', '--json']);
    expect(r.code).toBe(0);
    const doc = jsonDoc(r.stdout);
    expect(doc.command).toBe('bench flops');
    const res = doc.result;
    expect(res.schema).toBe('m1kit.bench/1');
    expect(res.params).toMatchObject({ ctx: 1_000_000, convention: 'physical', models: ['minimax-m1', 'deepseek-r1', 'qwen3-235b-a22b'], config: 'preset:minimax-m1' });
    expect(res.params.kernels).toBeUndefined();
    const n = 1_000_000;
    expect(res.metrics[`model.minimax-m1.decode_flops@${n}`]).toEqual({ value: 2 * (45_927_628_800 + 1_229_193_216) + 70 * 4 * 64 * 128 * 128 + 10 * 4 * 64 * 128 * n, unit: 'FLOP/token', kind: 'modelled' });
    expect(res.metrics['model.deepseek-r1.decode_flops@1000000'].note).toMatch(/beyond DeepSeek-R1's 128K context/);
    for (const f of Object.values<any>(res.metrics)) {
      expect(f.kind).toBe('modelled');
      expect(typeof f.unit).toBe('string');
      expect(f.better).toBeUndefined();
    }
  });

  it('--convention paper reproduces the Figure-1 curve and its 64K ratio; --plot writes a PNG', async () => {
    const dir = await tmpDir();
    const png = join(dir, 'fig1.png');
    const r = await m1kit(['bench', 'flops', '--convention', 'paper', '--sweep', '64k,128k', '--ctx', '64k', '--plot', png, '--json']);
    expect(r.code).toBe(0);
    const m = jsonDoc(r.stdout).result.metrics;
    const n = 65536;
    const m1 = 104_530_968_576 * n + 196_608 * n * n;
    const r1 = 75_414_503_424 * n + 3_497_984 * n * n;
    expect(Math.abs(m['model.minimax-m1.generation_flops@65536'].value - m1) / m1).toBeLessThan(1e-12);
    expect(m['ratio.minimax-m1/deepseek-r1.generation@65536'].value.toFixed(3)).toBe('0.385');
    expect((await readFile(png)).subarray(1, 4).toString()).toBe('PNG');
  });

  it('human output: tables and notes say modelled; --config reads a config file', async () => {
    const dir = await tmpDir();
    const cfg = join(dir, 'config.json');
    await writeFile(cfg, JSON.stringify(FIXTURE_PRESETS.tiny));
    const r = await m1kit(['bench', 'flops', '--config', dir, '--sweep', '8k']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/modelled/);
    expect(r.stdout).toMatch(/Crossovers/);
    const j = jsonDoc((await m1kit(['bench', 'flops', '--config', cfg, '--json'])).stdout);
    expect(j.result.params.config).toBe(cfg);
  });

  it('usage and input errors: exit 2 and 3', async () => {
    expect((await m1kit(['bench', 'flops', '--ctx', 'lots'])).code).toBe(2);
    expect((await m1kit(['bench', 'flops', '--convention', 'marketing'])).code).toBe(2);
    expect((await m1kit(['bench', 'flops', '--plot', 'x.gif'])).code).toBe(2);
    const missing = await m1kit(['bench', 'flops', '--config', '/nonexistent/config.json', '--json']);
    expect(missing.code).toBe(3);
    expect(jsonDoc(missing.stdout).error.code).toBe('E_NOT_FOUND');
  });
});

describe('m1kit bench (model + kernels)', () => {
  it('default form: modelled and measured figures, gated throughputs labelled measured', async () => {
    const r = await m1kit(['bench', ...QUICK, '--sweep', '8k', '--json']);
    expect(r.code).toBe(0);
    const res = jsonDoc(r.stdout).result;
    expect(res.params.kernels).toMatchObject({ repeat: 3, tokens: 4096 });
    // each repeat's CPU share, which bench compare divides by
    expect(res.metrics['kernel.lightning_prefill.cpu_share']).toMatchObject({ kind: 'measured', unit: 'ratio' });
    expect(res.metrics['kernel.lightning_prefill.cpu_share'].samples).toHaveLength(3);
    expect(res.metrics['model.minimax-m1.params_total'].value).toBe(456_089_655_296);
    const kinds = new Set(Object.values<any>(res.metrics).map((f) => f.kind));
    expect([...kinds].sort()).toEqual(['derived', 'extrapolated', 'measured', 'modelled']);
    expect(res.metrics['kernel.lightning_prefill.head_tokens_per_s']).toMatchObject({ kind: 'measured', better: 'higher' });
    expect(res.metrics['kernel.lightning_prefill.self_check_rel_error'].value).toBeLessThan(1e-4);
    expect(res.tool.name).toBe('m1kit');
    expect(res.machine.cores).toBeGreaterThan(0);
  });

  it('bench kernels: human table, then the result gates against itself', async () => {
    const dir = await tmpDir();
    const r = await m1kit(['bench', 'kernels', ...QUICK, '--repeat', '2']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/lightning prefill/);
    expect(r.stdout).toMatch(/measured/);
    expect(r.stdout).toMatch(/extrapolated/);
    const j = await m1kit(['bench', 'kernels', ...QUICK, '--json']);
    const file = join(dir, 'run.json');
    await writeFile(file, j.stdout);
    const c = await m1kit(['bench', 'compare', file, file, '--json']);
    expect(c.code, c.stderr + c.stdout.slice(0, 2000)).toBe(0);
    // the four gated kernel rates, plus the bf16 lightning prefill when the native kernels run
    const gated = Object.values(jsonDoc(j.stdout).result.metrics as Record<string, { better?: string }>).filter((f) => f.better).length;
    expect(gated === 4 || gated === 5).toBe(true);
    expect(jsonDoc(c.stdout).result.counts.ok).toBe(gated);
  });

  it('--device cuda: exit 5 without a CUDA device, a run with one', async () => {
    const hasDevice = cudaStatus().deviceCount > 0 && cudaStatus().loaded;
    const r = await m1kit(['bench', 'kernels', ...QUICK, '--device', 'cuda', '--json']);
    if (hasDevice) {
      expect(r.code).toBe(0);
      expect(jsonDoc(r.stdout).result.params.kernels.device).toBe('cuda');
    } else {
      expect(r.code).toBe(5);
      expect(jsonDoc(r.stdout).error.code).toBe('E_CUDA_UNAVAILABLE');
    }
  });
});
