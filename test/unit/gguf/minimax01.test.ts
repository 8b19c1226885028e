import { describe, expect, it } from 'vitest';
import { parseConfig, type M1Config } from '../../../src/core/checkpoint/config.js';
import { residualFold } from '../../../src/core/gguf/fold.js';
import { tensorBytes } from '../../../src/core/gguf/format.js';
import { realConfigRaw, realIndex } from '../../helpers/real-shaped.js';
import { assertConvertible, modelMetadata, tensorPlan, type GgufDtype } from '../../../src/core/gguf/minimax01.js';

const rawM1 = realConfigRaw();
const index = realIndex();
const m1 = parseConfig(rawM1);
const kvMap = (c: M1Config, dtype: GgufDtype = 'bf16') => new Map(modelMetadata(c, residualFold(c), dtype, 'x').map((kv) => [kv.key, kv.type === 'ARRAY' ? kv.values : kv.value]));

describe('minimax-01 metadata for the released MiniMax-M1', () => {
  const md = kvMap(m1);
  it('has the values of the GGUF contract table', () => {
    expect(md.get('general.architecture')).toBe('minimax-01');
    expect(md.get('minimax-01.context_length')).toBe(10240000);
    expect(md.get('minimax-01.embedding_length')).toBe(6144);
    expect(md.get('minimax-01.block_count')).toBe(80);
    expect(md.get('minimax-01.feed_forward_length')).toBe(9216);
    expect(md.get('minimax-01.attention.head_count')).toBe(64);
    expect(md.get('minimax-01.attention.head_count_kv')).toBe(8);
    expect(md.get('minimax-01.attention.key_length')).toBe(128);
    expect(md.get('minimax-01.attention.value_length')).toBe(128);
    expect(md.get('minimax-01.rope.dimension_count')).toBe(64);
    expect(md.get('minimax-01.rope.freq_base')).toBe(1e7);
    expect(md.get('minimax-01.attention.layer_norm_rms_epsilon')).toBe(1e-5);
    expect(md.get('minimax-01.expert_count')).toBe(32);
    expect(md.get('minimax-01.expert_used_count')).toBe(2);
    expect(md.get('minimax-01.residual_scale')).toBeCloseTo(3.5565588, 7);
  });
  it('marks exactly layers 7, 15, …, 79 as softmax (false) in recurrent_layers', () => {
    const rec = md.get('minimax-01.attention.recurrent_layers') as boolean[];
    expect(rec).toHaveLength(80);
    expect(rec.flatMap((r, i) => (r ? [] : [i]))).toEqual([7, 15, 23, 31, 39, 47, 55, 63, 71, 79]);
  });
  it('needs no weight change (equal alphas, betas 1)', () => {
    expect(residualFold(m1).identity).toBe(true);
  });
});

describe('tensor plan for the released MiniMax-M1', () => {
  const plan = tensorPlan(m1, residualFold(m1), 'bf16', true);
  it('uses every tensor of the real index exactly once and nothing else', () => {
    const used = plan.flatMap((t) => t.sources);
    expect(used.length).toBe(8243);
    expect(new Set(used)).toEqual(new Set(Object.keys(index.weight_map)));
  });
  it('has 803 GGUF tensors with the contract names and dims', () => {
    expect(plan).toHaveLength(3 + 80 * 10);
    const by = new Map(plan.map((t) => [t.name, t]));
    expect(by.get('token_embd.weight')!.ne).toEqual([6144, 200064]);
    expect(by.get('output.weight')!.ne).toEqual([6144, 200064]);
    expect(by.get('blk.0.attn_qkv.weight')!.ne).toEqual([6144, 24576]);
    expect(by.get('blk.0.attn_gate.weight')!.ne).toEqual([6144, 8192]);
    expect(by.get('blk.0.attn_norm_2.weight')!.ne).toEqual([8192]);
    expect(by.get('blk.0.attn_output.weight')!.ne).toEqual([8192, 6144]);
    expect(by.get('blk.7.attn_q.weight')!.ne).toEqual([6144, 8192]);
    expect(by.get('blk.7.attn_k.weight')!.ne).toEqual([6144, 1024]);
    expect(by.get('blk.7.attn_v.weight')!.ne).toEqual([6144, 1024]);
    expect(by.get('blk.7.attn_qkv.weight')).toBeUndefined();
    expect(by.get('blk.79.ffn_gate_inp.weight')!.ne).toEqual([6144, 32]);
    expect(by.get('blk.3.ffn_gate_exps.weight')!.ne).toEqual([6144, 9216, 32]);
    expect(by.get('blk.3.ffn_up_exps.weight')!.ne).toEqual([6144, 9216, 32]);
    expect(by.get('blk.3.ffn_down_exps.weight')!.ne).toEqual([9216, 6144, 32]);
    expect(by.get('blk.3.ffn_gate_exps.weight')!.sources[31]).toBe('model.layers.3.block_sparse_moe.experts.31.w1.weight');
    expect(by.get('blk.3.ffn_up_exps.weight')!.sources[0]).toBe('model.layers.3.block_sparse_moe.experts.0.w3.weight');
    expect(by.get('blk.3.ffn_down_exps.weight')!.sources[5]).toBe('model.layers.3.block_sparse_moe.experts.5.w2.weight');
  });
  it('gives the file sizes derived by hand from the parameter counts', () => {
    // 456,089,655,296 params; F32 in every mode: norms 1,562,624 + routers 15,728,640 = 17,291,264 params.
    const size = (d: GgufDtype) => tensorPlan(m1, residualFold(m1), d, true).reduce((a, t) => a + tensorBytes(t.type, t.ne), 0);
    const f32Part = 17_291_264 * 4;
    const matrices = 456_089_655_296 - 17_291_264;
    expect(size('f32')).toBe(456_089_655_296 * 4);
    expect(size('bf16')).toBe(matrices * 2 + f32Part);
    expect(size('f16')).toBe(matrices * 2 + f32Part);
    expect(size('q8_0')).toBe((matrices / 32) * 34 + f32Part);
    // q4_0 keeps the LM head (200064 × 6144) in Q8_0
    const head = 200064 * 6144;
    expect(size('q4_0')).toBe(((matrices - head) / 32) * 18 + (head / 32) * 34 + f32Part);
  });
  it('keeps norms and routers F32 and quantizes the matrices', () => {
    const q4 = new Map(tensorPlan(m1, residualFold(m1), 'q4_0', true).map((t) => [t.name, t.type]));
    expect(q4.get('blk.0.attn_norm.weight')).toBe('F32');
    expect(q4.get('blk.0.attn_norm_2.weight')).toBe('F32');
    expect(q4.get('blk.0.ffn_gate_inp.weight')).toBe('F32');
    expect(q4.get('blk.0.ffn_down_exps.weight')).toBe('Q4_0');
    expect(q4.get('token_embd.weight')).toBe('Q4_0');
    expect(q4.get('output.weight')).toBe('Q8_0');
  });
});

describe('residual fold (quirk 1)', () => {
  const c = parseConfig({ ...rawM1, layernorm_linear_attention_alpha: 2, layernorm_full_attention_alpha: 3, layernorm_mlp_alpha: 0.5, layernorm_linear_attention_beta: 0.25, layernorm_full_attention_beta: 1.5, layernorm_mlp_beta: 4 });
  const fold = residualFold(c);
  it('uses the linear-attention alpha as residual_scale and derives the factors by hand', () => {
    expect(fold.residualScale).toBe(2);
    expect(fold.identity).toBe(false);
    expect(fold.layers[0]).toEqual({ attn: { norm: 1, input: 1, output: 0.25 }, mlp: { norm: 0.25, input: 4, output: 4 } });
    expect(fold.layers[7]).toEqual({ attn: { norm: 1.5, input: 2 / 3, output: 1.5 }, mlp: { norm: 0.25, input: 4, output: 4 } });
  });
  it('attaches the factors to the right tensors', () => {
    const by = new Map(tensorPlan(c, fold, 'f32', true).map((t) => [t.name, t.scale]));
    expect([by.get('blk.7.attn_norm.weight'), by.get('blk.7.attn_q.weight'), by.get('blk.7.attn_k.weight'), by.get('blk.7.attn_v.weight'), by.get('blk.7.attn_output.weight')]).toEqual([1.5, 2 / 3, 2 / 3, 2 / 3, 1.5]);
    expect([by.get('blk.0.attn_qkv.weight'), by.get('blk.0.attn_gate.weight'), by.get('blk.0.attn_output.weight'), by.get('blk.0.attn_norm_2.weight')]).toEqual([1, 1, 0.25, 1]);
    expect([by.get('blk.0.ffn_norm.weight'), by.get('blk.0.ffn_gate_inp.weight'), by.get('blk.0.ffn_gate_exps.weight'), by.get('blk.0.ffn_up_exps.weight'), by.get('blk.0.ffn_down_exps.weight')]).toEqual([0.25, 4, 4, 4, 4]);
    expect([by.get('token_embd.weight'), by.get('output_norm.weight'), by.get('output.weight')]).toEqual([1, 1, 1]);
  });
  it('refuses an alpha of 0', () => {
    expect(() => residualFold(parseConfig({ ...rawM1, layernorm_mlp_alpha: 0 }))).toThrow(/layernorm_mlp_alpha = 0/);
  });
});

describe('configurations llama.cpp cannot run are refused', () => {
  const refuse = (patch: Record<string, unknown>) => () => assertConvertible(parseConfig({ ...rawM1, ...patch }));
  it('shared experts', () => expect(refuse({ shared_intermediate_size: 1024 })).toThrow(/shared expert/));
  it('postnorm false', () => expect(refuse({ postnorm: false })).toThrow(/postnorm = false/));
  it('a head count that is not a power of two', () => expect(refuse({ num_attention_heads: 48, num_key_value_heads: 8 })).toThrow(/not a power of two/));
  it('no softmax layer, or no lightning layer (llama.cpp aborts on an empty KV cache or recurrent state)', () => {
    expect(refuse({ attn_type_list: new Array(80).fill(0) })).toThrow(/no softmax-attention layer/);
    expect(refuse({ attn_type_list: new Array(80).fill(1) })).toThrow(/no lightning-attention layer/);
  });
  it('the released model passes', () => expect(() => assertConvertible(m1)).not.toThrow());
});
