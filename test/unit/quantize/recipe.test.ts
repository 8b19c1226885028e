/**
 * Recipes: parsing (one-line errors naming the file), glob and `re:` matching over HF names, the
 * default ignore list and `force`, the built-in recipe of `--scheme/--targets` (the same modules as the
 * role rule on the real M1 layout), and the `quantization_config` of recipe selections under vLLM's own
 * matching rules (re-implemented in engines/vllm-rules.ts) on every module of the released layout.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/core/checkpoint/config.js';
import { classify } from '../../../src/core/arch/minimax-m1/tensors.js';
import { engineLayers } from '../../../src/core/engines/layers.js';
import { vllmParseProblems } from '../../../src/core/engines/vllm-rules.js';
import { expectVllmSelection } from '../engines/vllm-expect.js';
import { quantizationConfigOf } from '../../../src/core/quantize/qconfig.js';
import { builtinRecipe, compilePattern, parseRecipe, resolveQuant, selectModules } from '../../../src/core/quantize/recipe.js';
import { isTarget, TARGETS } from '../../../src/core/quantize/targets.js';

const REF = new URL('../../../fixtures/reference/minimax-m1/', import.meta.url);
const config = parseConfig(JSON.parse(readFileSync(new URL('config.json', REF), 'utf8')), 'config.json');
const names = Object.keys((JSON.parse(readFileSync(new URL('model.safetensors.index.json', REF), 'utf8')) as { weight_map: Record<string, string> }).weight_map);
const modulesOf = (pred: (m: string, role: string) => boolean) =>
  new Set(names.flatMap((n) => { const i = classify(n); return i && n.endsWith('.weight') && pred(i.module, i.role) ? [i.module] : []; }));

describe('recipe files', () => {
  it('parses YAML lists, YAML/JSON mappings and "none"', () => {
    const y = parseRecipe('group_size: 64\nrules:\n  - match: "**.w1"\n    scheme: w4a16\n  - match: "re:model\\\\.layers\\\\.0\\\\."\n    scheme: none\nignore: ["lm_head"]\n', 'r.yaml');
    expect(y).toEqual({ source: 'r.yaml', rules: [{ match: '**.w1', scheme: 'w4a16' }, { match: 're:model\\.layers\\.0\\.', scheme: null }], ignore: ['lm_head'], groupSize: 64 });
    expect(parseRecipe('{"rules": {"**.w2": "fp8-block"}}', 'r.json').rules).toEqual([{ match: '**.w2', scheme: 'fp8-block' }]);
  });
  it.each([
    ['r.yaml', 'rules: [\n', /^r\.yaml: not valid YAML/],
    ['r.json', '{"rules": ', /^r\.json: not valid JSON/],
    ['r.yaml', 'rules:\n  "**.w1": fp4\n', /^r\.yaml: rules\["\*\*\.w1"\]: scheme "fp4" is not one of fp8-block, int8-channel, w4a16/],
    ['r.yaml', 'rule:\n  "**.w1": w4a16\n', /^r\.yaml: unknown key "rule"/],
    ['r.yaml', 'rules: []\n', /^r\.yaml: "rules" is empty/],
    ['r.yaml', 'rules:\n  - match: "**.w1"\n', /^r\.yaml: rules\[0\]: "scheme" is missing/],
    ['r.yaml', 'rules:\n  "re:(": w4a16\n', /^r\.yaml: rules\[0\]: "re:\(" is not a valid regular expression/],
    ['r.yaml', 'rules:\n  "**.w1": w4a16\ngroup_size: 0\n', /^r\.yaml: "group_size" must be a positive integer/],
    ['r.yaml', 'rules:\n  "**.w1": w4a16\n  "**.w1": fp8-block\n', /^r\.yaml: not valid YAML/],
  ])('%s %j is refused in one line naming the file', (file, text, msg) => {
    let err: Error | undefined;
    try {
      parseRecipe(text, file);
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).toMatch(msg);
    expect(err?.message).not.toContain('\n');
    expect((err as { code?: string }).code).toBe('E_RECIPE');
  });
  it('globs: * stays within a name part, ** crosses parts, ? is one character; re: is anchored at the start only', () => {
    const g = compilePattern('model.layers.*.self_attn.?_proj', 'x');
    expect(g('model.layers.12.self_attn.q_proj')).toBe(true);
    expect(g('model.layers.1.2.self_attn.q_proj')).toBe(false);
    expect(g('model.layers.12.self_attn.qkv_proj')).toBe(false);
    expect(compilePattern('**.w1', 'x')('model.layers.3.block_sparse_moe.experts.7.w1')).toBe(true);
    expect(compilePattern('**.w1', 'x')('model.layers.3.block_sparse_moe.experts.7.w11')).toBe(false);
    expect(compilePattern('re:model\\.layers\\.3\\.', 'x')('model.layers.3.self_attn.o_proj')).toBe(true);
    expect(compilePattern('re:layers', 'x')('model.layers.3.self_attn.o_proj')).toBe(false);
  });
});

describe('selection on the released M1 layout', () => {
  for (const targets of TARGETS)
    it(`the built-in recipe of --targets ${targets} selects exactly the role rule's modules`, () => {
      const sel = selectModules(builtinRecipe('w4a16', targets), config);
      expect([...sel.modules].sort()).toEqual([...modulesOf((_m, role) => isTarget(role as never, targets))].sort());
      expect(sel.ignored).toEqual([]);
    });
  it('the default ignore list keeps router gates, embeddings and lm_head unless forced; routers stay even forced; norms never', () => {
    const all = parseRecipe('rules:\n  "**": int8-channel\n', 'all.yaml');
    const sel = selectModules(all, config);
    const routers = modulesOf((_m, r) => r === 'router');
    expect(routers.size).toBe(80);
    expect(new Set(sel.ignored)).toEqual(new Set([...routers, 'model.embed_tokens', 'lm_head']));
    for (const m of sel.modules) expect(m).not.toMatch(/norm|layernorm|\.gate$|embed|lm_head/);
    expect(() => selectModules(all, config, { force: true })).toThrow(/all\.yaml: rules\[0\] "\*\*" matches the router gate model\.layers\.0\.block_sparse_moe\.gate, which stays F32/);
    const heads = parseRecipe('rules:\n  "lm_head": int8-channel\n  "model.embed_tokens": int8-channel\n', 'h.yaml');
    expect(() => selectModules(heads, config)).toThrow(/h\.yaml: quantizes no module: .*--force quantizes embeddings and lm_head/);
    expect(selectModules(heads, config, { force: true }).forced).toEqual(['model.embed_tokens', 'lm_head']);
  });
  it('the recipe ignore list, first-match order and "none"', () => {
    const r = parseRecipe('rules:\n  - match: "re:model\\\\.layers\\\\.(0|1)\\\\."\n    scheme: none\n  - match: "**.experts.*.*"\n    scheme: fp8-block\nignore: ["model.layers.79.**"]\n', 'r.yaml');
    const sel = selectModules(r, config);
    const want = modulesOf((m, role) => ['w1', 'w2', 'w3'].includes(role) && !/^model\.layers\.(0|1|79)\./.test(m));
    expect([...sel.modules].sort()).toEqual([...want].sort());
    expect(sel.ignored).toHaveLength(32 * 3);
  });
  it('refuses two schemes, a rule matching nothing and a group size for a fixed-group scheme', () => {
    expect(() => selectModules(parseRecipe('rules:\n  "**.w1": w4a16\n  "**.q_proj": fp8-block\n', 'm.yaml'), config)).toThrow(/m\.yaml: rules name w4a16 and fp8-block; m1kit writes one scheme per checkpoint/);
    expect(() => selectModules(parseRecipe('rules:\n  "**.w9": w4a16\n', 'u.yaml'), config)).toThrow(/u\.yaml: rules\[0\] "\*\*\.w9" matches no module/);
    expect(() => resolveQuant({ recipe: parseRecipe('group_size: 64\nrules:\n  "**.w1": fp8-block\n', 'g.yaml') }, config)).toThrow(/g\.yaml: a group size applies to w4a16 only/);
  });
});

describe("recipe configs under vLLM's matching rules, every module of the real layout", () => {
  const layers = engineLayers(names);
  const recipes: [string, string][] = [
    ['experts of the first 40 layers', 'rules:\n  "re:model\\\\.layers\\\\.([0-9]|[1-3][0-9])\\\\.block_sparse_moe\\\\.experts\\\\.": SCHEME\n'],
    ['softmax-attention projections only', 'rules:\n  "model.layers.*.self_attn.?_proj": SCHEME\n'],
    ['everything but layer 0 attention', 'rules:\n  "re:model\\\\.layers\\\\.0\\\\.self_attn\\\\.": none\n  "**": SCHEME\n'],
  ];
  for (const scheme of ['fp8-block', 'int8-channel', 'w4a16'])
    for (const [what, text] of recipes)
      it(`${scheme}: ${what}`, () => {
        const sel = selectModules(parseRecipe(text.replace('SCHEME', scheme), 'r.yaml'), config);
        const qc = quantizationConfigOf(config, scheme, sel.modules, scheme === 'int8-channel' ? 0 : 128);
        expect(vllmParseProblems(qc)).toEqual([]);
        expectVllmSelection(qc, layers, names, (m) => sel.modules.has(m));
      });
});
