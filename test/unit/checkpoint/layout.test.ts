import { describe, expect, it } from 'vitest';
import { parseConfig, softmaxLayers } from '../../../src/core/checkpoint/config.js';
import { checkCompleteness, expectedTensors } from '../../../src/core/checkpoint/layout.js';
import { countParams } from '../../../src/core/checkpoint/params.js';
import { M1_CONFIG } from '../../../src/core/checkpoint/presets.js';
import { realConfigRaw, realIndex } from '../../helpers/real-shaped.js';

describe('config-derived layout vs the real MiniMax-M1 release', () => {
  const c = parseConfig(realConfigRaw(), 'config.json');

  it('parses the real config', () => {
    expect(softmaxLayers(c)).toEqual([7, 15, 23, 31, 39, 47, 55, 63, 71, 79]);
    expect(c.headDim * c.numHeads).not.toBe(c.hiddenSize);
    expect(c.lightningNormEps).toBe(1e-6);
    expect(c.blockSize).toBe(256);
  });

  it('the preset equals the real config.json field for field', () => {
    const real = realConfigRaw();
    for (const [k, v] of Object.entries(M1_CONFIG)) expect(real[k], k).toEqual(v);
  });

  it('derives exactly the tensor names of the real index', () => {
    const names = expectedTensors(c).map((t) => t.name);
    expect(new Set(names)).toEqual(new Set(Object.keys(realIndex().weight_map)));
    expect(names.length).toBe(8243);
  });

  it('derived shapes and dtypes reproduce metadata.total_size byte for byte', () => {
    const bytes = expectedTensors(c).reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1) * (t.dtype === 'F32' ? 4 : 2), 0);
    expect(bytes).toBe(realIndex().metadata.total_size);
  });

  it('counts parameters as the spec derives them', () => {
    const p = countParams(c);
    // docs/architecture.md §2.2 table, recomputed here from the formulas
    const lin = 3 * 8192 * 6144 + 8192 * 6144 + 6144 * 8192 + 8192;
    const sm = 8192 * 6144 + 2 * 1024 * 6144 + 6144 * 8192;
    const expert = 3 * 6144 * 9216;
    const common = 32 * expert + 32 * 6144 + 2 * 6144;
    expect(p.total).toBe(70 * (lin + common) + 10 * (sm + common) + 2 * 200064 * 6144 + 6144);
    expect(p.total).toBe(456_089_655_296);
    expect(p.activated).toBe(70 * (lin - 8192) + 10 * sm + 80 * 2 * expert);
    expect(p.activated).toBe(45_927_628_800);
  });

  it('names every missing, unexpected, mis-shaped and mis-typed tensor', () => {
    const actual = new Map(expectedTensors(c).map((t) => [t.name, { dtype: t.dtype, shape: t.shape }]));
    expect(checkCompleteness(c, actual)).toEqual([]);
    actual.delete('lm_head.weight');
    actual.set('model.layers.0.self_attn.qkv_proj.weight', { dtype: 'BF16', shape: [8192, 6144] });
    actual.set('model.layers.3.block_sparse_moe.gate.weight', { dtype: 'I8', shape: [32, 6144] });
    actual.set('model.layers.0.self_attn.bias', { dtype: 'BF16', shape: [1] });
    const problems = checkCompleteness(c, actual);
    expect(problems.map((p) => [p.kind, p.tensor]).sort()).toEqual(
      [
        ['missing', 'lm_head.weight'],
        ['shape', 'model.layers.0.self_attn.qkv_proj.weight'],
        ['dtype', 'model.layers.3.block_sparse_moe.gate.weight'],
        ['unexpected', 'model.layers.0.self_attn.bias'],
      ].sort(),
    );
  });

  it('maps HF-native alias fields', () => {
    const raw = { ...realConfigRaw() } as Record<string, unknown>;
    delete raw.attn_type_list;
    raw.layer_types = c.attnTypes.map((t) => (t ? 'full_attention' : 'linear_attention'));
    raw.linear_attn_alpha_factor = 2;
    delete raw.layernorm_linear_attention_alpha;
    const c2 = parseConfig(raw);
    expect(c2.attnTypes).toEqual(c.attnTypes);
    expect(c2.linearAlpha).toBe(2);
  });

  it('rejects inconsistent configs with a message naming the field', () => {
    expect(() => parseConfig({ ...realConfigRaw(), attn_type_list: [0, 1] })).toThrow(/attn_type_list has 2 entries/);
    expect(() => parseConfig({ ...realConfigRaw(), num_key_value_heads: 7 })).toThrow(/multiple of num_key_value_heads/);
    expect(() => parseConfig({ ...realConfigRaw(), hidden_size: 'big' })).toThrow(/hidden_size/);
  });
});
