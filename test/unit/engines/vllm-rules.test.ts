import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/core/checkpoint/config.js';
import { classify } from '../../../src/core/pipeline/geometry.js';
import { engineLayers } from '../../../src/core/engines/layers.js';
import { checkVllm } from '../../../src/core/engines/vllm-check.js';
import { ctShouldIgnoreLayer, fp8IsLayerSkipped, QKV_PACKED, vllmMiniMaxExpertRename, vllmParseProblems } from '../../../src/core/engines/vllm-rules.js';
import { QUANT_FORMATS } from '../../../src/core/formats/index.js';
import { expectVllmSelection } from './vllm-expect.js';
import { quantizationConfig } from '../../../src/core/quantize/qconfig.js';
import { isTarget, TARGETS } from '../../../src/core/quantize/targets.js';

/** The released MiniMax-M1 layout: its real config.json and the weight names of its real index. */
const REF = new URL('../../../fixtures/reference/minimax-m1/', import.meta.url);
const config = parseConfig(JSON.parse(readFileSync(new URL('config.json', REF), 'utf8')), 'config.json');
const names = Object.keys((JSON.parse(readFileSync(new URL('model.safetensors.index.json', REF), 'utf8')) as { weight_map: Record<string, string> }).weight_map);
const layers = engineLayers(names);

describe("vLLM's matching rules, re-implemented (quant_utils.is_layer_skipped, compressed_tensors should_ignore_layer)", () => {
  it('fp8: experts are skipped only by an entry that contains the FusedMoE prefix', () => {
    expect(fp8IsLayerSkipped('model.layers.1.experts', ['model.layers.1.block_sparse_moe.experts.0.w1'])).toBe(false);
    expect(fp8IsLayerSkipped('model.layers.1.experts', ['model.layers.1.experts'])).toBe(true);
    expect(fp8IsLayerSkipped('model.layers.1.experts', ['model.layers.10.experts', 'model.layers.11.experts'])).toBe(false);
    expect(fp8IsLayerSkipped('model.layers.1.qkv_proj', ['model.layers.1.self_attn.qkv_proj'])).toBe(false);
    expect(fp8IsLayerSkipped('model.layers.7.qkv_proj', ['model.layers.7.q_proj', 'model.layers.7.k_proj', 'model.layers.7.v_proj'], QKV_PACKED)).toBe(true);
    expect(() => fp8IsLayerSkipped('model.layers.7.qkv_proj', ['model.layers.7.q_proj'], QKV_PACKED)).toThrow(/shards/);
  });
  it('compressed-tensors: equal or re: + start-anchored match', () => {
    expect(ctShouldIgnoreLayer('model.layers.0.qkv_proj', ['model.layers.0.self_attn.qkv_proj'])).toBe(false);
    expect(ctShouldIgnoreLayer('model.layers.0.qkv_proj', ['re:.*qkv_proj$'])).toBe(true);
    expect(ctShouldIgnoreLayer('model.layers.0.output_gate', ['re:gate$'])).toBe(false);
    expect(ctShouldIgnoreLayer('model.layers.0.output_gate', ['re:.*gate$'])).toBe(true);
  });
  it('int-quantized with no input activations is refused at parse time; with dynamic per-token int8 it parses', () => {
    const old = { quant_method: 'compressed-tensors', format: 'int-quantized', config_groups: { group_0: { targets: ['Linear'], weights: { num_bits: 8, type: 'int', strategy: 'channel' }, input_activations: null } } };
    expect(vllmParseProblems(old)).toHaveLength(1);
    expect(vllmParseProblems(quantizationConfig(config, 'int8-channel', 'all', 0))).toEqual([]);
  });
  it('MiniMax load_weights renames expert scales to w13_scale/w2_scale (first matching entry, own expert only)', () => {
    expect(vllmMiniMaxExpertRename('model.layers.3.block_sparse_moe.experts.11.w1.weight', 32)).toBe('model.layers.3.block_sparse_moe.experts.w13_weight');
    expect(vllmMiniMaxExpertRename('model.layers.3.block_sparse_moe.experts.1.w2.weight_scale_inv', 32)).toBe('model.layers.3.block_sparse_moe.experts.w2_scale_inv');
    expect(vllmMiniMaxExpertRename('model.layers.3.block_sparse_moe.experts.1.w3.weight_packed', 32)).toBe('model.layers.3.block_sparse_moe.experts.w13_weight_packed');
  });
});

describe('every module of the real M1 layout gets the method m1kit meant, for every scheme × targets', () => {
  it('the real layout has 80 × (3 or 4 attention Linears, 1 FusedMoE, 1 router) + lm_head + embedding', () => {
    expect(layers.filter((l) => l.kind === 'fused_moe')).toHaveLength(80);
    expect(layers.filter((l) => l.kind === 'fused_moe').every((l) => l.hf.length === 96)).toBe(true);
    expect(layers.filter((l) => l.kind === 'linear')).toHaveLength(70 * 3 + 10 * 2);
  });
  for (const { id: scheme, defaultGroup } of QUANT_FORMATS)
    for (const targets of TARGETS)
      it(`${scheme} --targets ${targets}`, () => {
        const qc = quantizationConfig(config, scheme, targets, defaultGroup);
        expect(vllmParseProblems(qc)).toEqual([]);
        expectVllmSelection(qc, layers, names, (m) => isTarget(classify(`${m}.weight`)!.role, targets));
      });
  it('the config m1kit wrote before (HF names only) is caught: vLLM would build FP8 experts from BF16 tensors', () => {
    const attn = names.filter((n) => /self_attn\.(qkv_proj|output_gate|out_proj|[qkvo]_proj)\.weight$/.test(n));
    const old = { quant_method: 'fp8', weight_block_size: [128, 128], modules_to_not_convert: names.filter((n) => n.includes('experts.')).map((n) => n.slice(0, -'.weight'.length)) };
    const problems = checkVllm([...names, ...attn.map((n) => `${n}_scale_inv`)], old, config.numExperts);
    expect(problems.length).toBe(80 * 2);
    expect(problems[0]!.message).toMatch(/w13_weight_scale_inv/);
    const fixed = quantizationConfig(config, 'fp8-block', 'attention', 128);
    expect(checkVllm([...names, ...attn.map((n) => `${n}_scale_inv`)], fixed, config.numExperts)).toEqual([]);
  });
  it('the bf16 release itself passes the vLLM name check', () => {
    expect(checkVllm(names, undefined, config.numExperts)).toEqual([]);
  });
});
