import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/core/checkpoint/config.js';
import { expectedTensors } from '../../../src/core/checkpoint/layout.js';
import { engineProblems, parseEngine } from '../../../src/core/engines/inspect-engine.js';
import { quantizationConfig } from '../../../src/core/quantize/qconfig.js';
import { runConversion } from '../../../src/core/convert/run.js';
import { generateCheckpoint } from '../../../src/core/fixture/generate.js';
import type { DType } from '../../../src/core/dtype/dtypes.js';
import { rmrf, tmp } from '../../helpers/naive-safetensors.js';
import { jsonDoc, m1kit } from '../../helpers/cli.js';

const REF = new URL('../../../fixtures/reference/minimax-m1/', import.meta.url);
const raw = JSON.parse(readFileSync(new URL('config.json', REF), 'utf8')) as Record<string, unknown>;
const config = parseConfig(raw, 'config.json');
const bf16 = new Map<string, { dtype: DType; shape: number[] }>(expectedTensors(config).map((t) => [t.name, { dtype: t.dtype, shape: t.shape }]));

describe('engine rules on the real M1 dimensions', () => {
  const perRank = (qc: Record<string, unknown>, tp: number) =>
    engineProblems(parseEngine('sglang'), { config, configRaw: { ...raw, quantization_config: qc }, tensors: bf16, tp }).filter((p) => /per TP rank/.test(p.message));
  it('block FP8 fits every per-rank split at TP 8; at TP 16 the experts (9216/16 = 576) do not', () => {
    const qc = quantizationConfig(config, 'fp8-block', 'all', 128);
    expect(perRank(qc, 8)).toEqual([]);
    const at16 = perRank(qc, 16);
    expect(at16).toHaveLength(80 * 2);
    expect(at16[0]!.message).toMatch(/576 at TP 16, not a multiple of the quantization block 128/);
    expect(perRank(quantizationConfig(config, 'fp8-block', 'attention', 128), 16)).toEqual([]);
  });
  it('router, norms, embedding and head must stay floating point', () => {
    const t = new Map(bf16);
    t.set('model.layers.5.block_sparse_moe.gate.weight', { dtype: 'I8', shape: [32, 6144] });
    const p = engineProblems(parseEngine('vllm@0.23'), { config, configRaw: raw, tensors: t, tp: 8 });
    expect(p).toEqual([{ where: 'model.layers.5.block_sparse_moe.gate.weight', message: 'router must stay floating point (F32/BF16/F16); found I8' }]);
  });
  it('the released layout passes for vllm@0.23 and fails for a vLLM without the model class', () => {
    expect(engineProblems(parseEngine('vllm@0.23'), { config, configRaw: raw, tensors: bf16, tp: 8 })).toEqual([]);
    expect(engineProblems(parseEngine('vllm@0.24.1'), { config, configRaw: raw, tensors: bf16, tp: 8 })[0]!.message).toMatch(/removed after 0\.23\.0/);
  });
});

describe('m1kit inspect --engine', () => {
  let root: string;
  beforeAll(async () => {
    root = tmp('inspect-engine');
    await generateCheckpoint({ out: join(root, 'in'), preset: 'tiny', seed: 3, shards: 1 });
    await runConversion({ kind: 'quantize', input: join(root, 'in'), output: join(root, 'fp8'), quant: { scheme: 'fp8-block', targets: 'experts' } });
  });
  afterAll(() => rmrf(root));
  it('exits 0 on the bf16 fixture', async () => {
    const r = await m1kit(['inspect', join(root, 'in'), '--engine', 'vllm@0.23', '--tp', '1']);
    expect([r.code, r.stdout]).toEqual([0, expect.stringMatching(/no problem found for vllm@0\.23 at TP 1/)]);
  });
  it('exits 3 naming each problem (text and --json)', async () => {
    const r = await m1kit(['inspect', join(root, 'fp8'), '--engine', 'vllm', '--tp', '1']);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/experts\.0\.w1\.weight_scale_inv: vLLM's MiniMax load_weights renames it to "w13_scale_inv"/);
    expect(r.stderr).toMatch(/E_ENGINE/);
    const j = await m1kit(['inspect', join(root, 'fp8'), '--engine', 'vllm', '--tp', '1', '--json']);
    expect(j.code).toBe(3);
    const doc = jsonDoc(j.stdout);
    expect(doc.result.ok).toBe(false);
    expect(doc.result.problems.length).toBeGreaterThan(0);
  });
  it('llama.cpp: safetensors are refused; a bad engine name is a usage error', async () => {
    expect((await m1kit(['inspect', join(root, 'in'), '--engine', 'llama.cpp'])).code).toBe(3);
    const bad = await m1kit(['inspect', join(root, 'in'), '--engine', 'tgi']);
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringMatching(/--engine must be/)]);
  });
});
