/**
 * `quantize --recipe` and `quantize --check` from the built CLI on the tiny fixture: a recipe equal to
 * `--scheme/--targets` writes the same bytes, bad recipes fail in one line naming the file with nothing
 * written, and --check prints and --json-reports the verify figures, exiting 4 past --max-kld.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonDoc, m1kit } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';

const TINY = 'fixtures/tiny';

async function hashes(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of (await readdir(dir)).sort()) if (f.endsWith('.safetensors') || f.endsWith('.json')) out[f] = createHash('sha256').update(await readFile(join(dir, f))).digest('hex');
  return out;
}

describe('quantize --recipe', () => {
  it('a recipe equal to --scheme w4a16 --targets experts --group-size 32 writes the same bytes', async () => {
    const d = await tmpDir();
    const recipe = join(d, 'experts.yaml');
    await writeFile(recipe, 'group_size: 32\nrules:\n  - match: "model.layers.*.block_sparse_moe.experts.*.*"\n    scheme: w4a16\n');
    const a = await m1kit(['quantize', TINY, join(d, 'a'), '--scheme', 'w4a16', '--targets', 'experts', '--group-size', '32', '-q']);
    const b = await m1kit(['quantize', TINY, join(d, 'b'), '--recipe', recipe, '--json']);
    expect([a.code, b.code], a.stderr + b.stderr).toEqual([0, 0]);
    const ha = await hashes(join(d, 'a'));
    expect(Object.keys(ha).length).toBeGreaterThan(2);
    expect(await hashes(join(d, 'b'))).toEqual(ha);
    const r = jsonDoc(b.stdout).result;
    expect(r.recipe).toMatchObject({ source: recipe, scheme: 'w4a16', group: 32, ignored: [], forced: [] });
    expect(r.recipe.modules).toBe(r.errors.length);
  });

  it('bad recipes fail in one line naming the file (exit 3), writing nothing; --recipe with --scheme is a usage error', async () => {
    const d = await tmpDir();
    const cases: [string, string, RegExp][] = [
      ['bad.yaml', 'rules: [\n', /E_RECIPE: .*bad\.yaml: not valid YAML/],
      ['two.yaml', 'rules:\n  "**.w1": w4a16\n  "**.q_proj": fp8-block\n', /two\.yaml: rules name w4a16 and fp8-block/],
      ['none.json', '{"rules": {"**.w9": "w4a16"}}', /none\.json: rules\[0\] "\*\*\.w9" matches no module/],
    ];
    for (const [file, text, msg] of cases) {
      await writeFile(join(d, file), text);
      const r = await m1kit(['quantize', TINY, join(d, `out-${file}`), '--recipe', join(d, file)]);
      expect([r.code, r.stderr.trim().split('\n').length], r.stderr).toEqual([3, 1]);
      expect(r.stderr).toMatch(msg);
      expect(existsSync(join(d, `out-${file}`))).toBe(false);
    }
    const missing = await m1kit(['quantize', TINY, join(d, 'o'), '--recipe', join(d, 'absent.yaml')]);
    expect([missing.code, missing.stderr]).toEqual([3, expect.stringContaining('absent.yaml')]);
    const both = await m1kit(['quantize', TINY, join(d, 'o'), '--recipe', join(d, 'bad.yaml'), '--scheme', 'w4a16']);
    expect([both.code, both.stderr]).toEqual([2, expect.stringContaining('--recipe replaces --scheme')]);
  });

  it('default-ignored modules a rule matches stay unquantized and are listed; --force quantizes the embeddings and lm_head', async () => {
    const d = await tmpDir();
    const recipe = join(d, 'r.yaml');
    await writeFile(recipe, 'rules:\n  "**": int8-channel\n');
    const r = await m1kit(['quantize', TINY, join(d, 'a'), '--recipe', recipe, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const rec = jsonDoc(r.stdout).result.recipe;
    expect(rec.ignored).toEqual(expect.arrayContaining(['model.embed_tokens', 'lm_head', 'model.layers.0.block_sparse_moe.gate']));
    expect(rec.forced).toEqual([]);
    const cfg = JSON.parse(await readFile(join(d, 'a', 'config.json'), 'utf8'));
    expect(cfg.quantization_config.ignore).toContain('lm_head');
    const heads = join(d, 'h.yaml');
    await writeFile(heads, 'rules:\n  "lm_head": int8-channel\n');
    expect((await m1kit(['quantize', TINY, join(d, 'b'), '--recipe', heads])).code).toBe(3);
    const f = await m1kit(['quantize', TINY, join(d, 'c'), '--recipe', heads, '--force', '--json']);
    expect(f.code, f.stderr).toBe(0);
    expect(jsonDoc(f.stdout).result.recipe.forced).toEqual(['lm_head']);
  });
});

describe('quantize --check', () => {
  it('prints and reports the verify figures; exit 4 past --max-kld, the output kept', async () => {
    const d = await tmpDir();
    const ok = await m1kit(['quantize', TINY, join(d, 'a'), '--scheme', 'fp8-block', '--check', '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    const c = jsonDoc(ok.stdout).result.check;
    expect(c).toMatchObject({ mode: 'against', reference: expect.stringContaining('tiny'), sequences: 2, tokens: 128, pass: true, thresholds: { maxKld: 0.1, minTop1: null } });
    expect(c.kld.mean).toBeGreaterThan(0);
    const bad = await m1kit(['quantize', TINY, join(d, 'b'), '--scheme', 'w4a16', '--group-size', '32', '--max-kld', '1e-12']);
    expect(bad.code).toBe(4);
    expect(bad.stdout).toMatch(/check vs .*tiny \(2 sequences, 128 tokens\): mean KLD \S+ \(max 1e-12\), same top-1 \S+%, PPL ratio \S+: FAIL/);
    expect(bad.stderr).toMatch(/E_CHECK_FAILED: .* mean KLD .* > 1e-12/);
    expect(existsSync(join(d, 'b', 'config.json'))).toBe(true);
    const usage = await m1kit(['quantize', TINY, join(d, 'c'), '--scheme', 'fp8-block', '--check', '--dry-run']);
    expect(usage.code).toBe(2);
  });

  it('--help shows recipe and check examples', async () => {
    const h = await m1kit(['quantize', '--help']);
    expect(h.stdout).toContain('--recipe recipe.yaml --check --max-kld 0.05');
    expect(h.stdout).toContain('scheme: w4a16');
  });
});
