/**
 * The MiniMax-M1 family description against the released checkpoint's own files
 * (fixtures/reference/minimax-m1: config.json and the index's 8,243 names), the transformers-native
 * `-hf` schema of the same config, and the rule that the per-layer prefix is spelled in one place.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FAMILIES, familyOf, familyOfConfig } from '../../../src/core/arch/registry.js';
import { classify, expectedTensors, roleShape, roleWeight } from '../../../src/core/arch/minimax-m1/tensors.js';
import { parseConfig } from '../../../src/core/checkpoint/config.js';
import { architectureProblem } from '../../../src/core/checkpoint/validate.js';

const REF = new URL('../../../fixtures/reference/minimax-m1/', import.meta.url);
const rawConfig = (): Record<string, unknown> => JSON.parse(readFileSync(new URL('config.json', REF), 'utf8'));
const indexNames = (): string[] => Object.keys(JSON.parse(readFileSync(new URL('model.safetensors.index.json', REF), 'utf8')).weight_map);

/** The released config rewritten in the transformers-native schema (docs/architecture.md §1.1). */
function hfSchema(raw: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...raw, architectures: ['MiniMaxForCausalLM'], model_type: 'minimax' };
  out.layer_types = (raw.attn_type_list as number[]).map((t) => (t === 0 ? 'linear_attention' : 'full_attention'));
  delete out.attn_type_list;
  const renames: [string, string][] = [
    ['layernorm_linear_attention_alpha', 'linear_attn_alpha_factor'],
    ['layernorm_linear_attention_beta', 'linear_attn_beta_factor'],
    ['layernorm_full_attention_alpha', 'full_attn_alpha_factor'],
    ['layernorm_full_attention_beta', 'full_attn_beta_factor'],
    ['layernorm_mlp_alpha', 'mlp_alpha_factor'],
    ['layernorm_mlp_beta', 'mlp_beta_factor'],
  ];
  for (const [a, b] of renames) {
    out[b] = raw[a];
    delete out[a];
  }
  return out;
}

describe('model-family registry', () => {
  it('selects MiniMax-M1 by any of its architectures, and nothing for another model', () => {
    for (const a of ['MiniMaxM1ForCausalLM', 'MiniMaxText01ForCausalLM', 'MiniMaxForCausalLM']) expect(familyOf([a])?.id).toBe('minimax-m1');
    expect(familyOf(['LlamaForCausalLM'])).toBeUndefined();
    expect(familyOfConfig({ architectures: ['LlamaForCausalLM'] }).id).toBe('minimax-m1'); // parsed, then reported
    expect(architectureProblem(parseConfig({ ...rawConfig(), architectures: ['LlamaForCausalLM'] }))?.kind).toBe('architecture');
    expect(new Set(FAMILIES.map((f) => f.id)).size).toBe(FAMILIES.length);
  });

  it('reads the -hf schema (layer_types strings, *_factor keys) as the same model', () => {
    const orig = parseConfig(rawConfig());
    const hf = parseConfig(hfSchema(rawConfig()));
    expect(architectureProblem(hf)).toBeUndefined();
    const { raw: _a, architectures: _b, ...o } = orig;
    const { raw: _c, architectures: _d, ...h } = hf;
    expect(h).toEqual(o);
    expect(hf.attnTypes.filter((t) => t === 1).length).toBe(10);
    expect(hf.linearAlpha).toBe(3.5565588200778455);
    expect(() => parseConfig({ ...hfSchema(rawConfig()), layer_types: [...Array(79).fill('linear_attention'), 'sliding_attention'] }, 'c.json')).toThrow(/c\.json: layer_types\[79\] must be "linear_attention" or "full_attention"/);
  });
});

describe('MiniMax-M1 tensors as data', () => {
  it('implies exactly the released index, in names', () => {
    const c = parseConfig(rawConfig());
    const names = expectedTensors(c).map((t) => t.name);
    expect(names.length).toBe(8243);
    expect([...names].sort()).toEqual(indexNames().sort());
  });

  it('every released name has a role, and the role gives the name and shape back', () => {
    const c = parseConfig(rawConfig());
    const shapes = new Map(expectedTensors(c).map((t) => [t.name, t.shape]));
    for (const name of indexNames()) {
      const info = classify(name);
      expect(info, name).toBeDefined();
      expect(roleWeight(info!.role, info!.layer, info!.expert)).toBe(name);
      expect(roleShape(c, info!.role)).toEqual(shapes.get(name));
    }
    expect(classify('model.layers.3.self_attn.output_gate.weight')?.role).toBe('output_gate');
    expect(classify('model.layers.3.block_sparse_moe.gate.weight')?.role).toBe('router');
    expect(classify('model.layers.3.mlp.gate_proj.weight')).toBeUndefined();
  });

  it('spells the per-layer prefix in one file (names built or matched from it, not prose mentioning it)', () => {
    const SRC = new URL('../../../src/', import.meta.url).pathname;
    const files = (d: string): string[] => readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? files(join(d, f)) : f.endsWith('.ts') ? [join(d, f)] : []));
    const strip = (t: string) => t.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');
    const spelled = files(SRC).filter((f) => /model\\?\.layers\\?\.(?:\$\{|\(|['"`])/.test(strip(readFileSync(f, 'utf8')))).map((f) => relative(SRC, f));
    expect(spelled).toEqual(['core/arch/minimax-m1/tensors.ts']);
  });
});
