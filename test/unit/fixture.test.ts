import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Checkpoint } from '../../src/core/checkpoint/checkpoint.js';
import { checkCompleteness } from '../../src/core/checkpoint/layout.js';
import { generateCheckpoint, splitIntoShards } from '../../src/core/fixture/generate.js';
import { FIXTURE_PRESETS } from '../../src/core/checkpoint/presets.js';
import { Rng } from '../../src/core/fixture/random.js';
import { tmpDir } from '../helpers/tmp.js';

describe('fixture generator', () => {
  it('is deterministic per seed and differs across seeds', async () => {
    const [a, b, c] = [await tmpDir(), await tmpDir(), await tmpDir()];
    await generateCheckpoint({ out: a, preset: 'tiny', seed: 3 });
    await generateCheckpoint({ out: b, preset: 'tiny', seed: 3 });
    await generateCheckpoint({ out: c, preset: 'tiny', seed: 4 });
    const read = (d: string) => readFile(join(d, 'model.safetensors'));
    expect((await read(a)).equals(await read(b))).toBe(true);
    expect((await read(a)).equals(await read(c))).toBe(false);
  });

  it('tensor values do not depend on how the checkpoint is sharded', async () => {
    const [one, many] = [await tmpDir(), await tmpDir()];
    await generateCheckpoint({ out: one, preset: 'tiny', seed: 9, shards: 1 });
    await generateCheckpoint({ out: many, preset: 'tiny', seed: 9, shards: 4 });
    const c1 = await Checkpoint.open(one);
    const c4 = await Checkpoint.open(many);
    expect(c4.files).toEqual(['model-00000-of-00004.safetensors', 'model-00001-of-00004.safetensors', 'model-00002-of-00004.safetensors', 'model-00003-of-00004.safetensors']);
    for (const name of c1.tensors.keys()) expect((await c4.read(name)).equals(await c1.read(name)), name).toBe(true);
    expect(checkCompleteness(c4.config, new Map([...c4.tensors].map(([n, l]) => [n, l.info])))).toEqual([]);
    await c1.close();
    await c4.close();
  });

  it('makes the tiny preset awkward on purpose', () => {
    const t = FIXTURE_PRESETS.tiny!;
    expect((t.num_attention_heads as number) * (t.head_dim as number)).not.toBe(t.hidden_size);
    expect(t.rotary_dim).toBe((t.head_dim as number) / 2);
    expect((t.attn_type_list as number[]).includes(1)).toBe(true);
    expect((t.attn_type_list as number[]).lastIndexOf(0)).toBeGreaterThan((t.attn_type_list as number[]).indexOf(1));
  });

  it('weights have the requested spread and norms sit near 1', async () => {
    const d = await tmpDir();
    await generateCheckpoint({ out: d, preset: 'tiny', seed: 1 });
    const c = await Checkpoint.open(d);
    const w = await c.readF32('model.layers.0.block_sparse_moe.experts.0.w1.weight');
    const mean = w.reduce((a, b) => a + b, 0) / w.length;
    const std = Math.sqrt(w.reduce((a, b) => a + (b - mean) ** 2, 0) / w.length);
    expect(std).toBeGreaterThan(0.018);
    expect(std).toBeLessThan(0.022);
    const n = await c.readF32('model.norm.weight');
    expect(Math.max(...n.map((x) => Math.abs(x - 1)))).toBeLessThan(0.3);
    expect(c.info('model.layers.0.block_sparse_moe.gate.weight').info.dtype).toBe('F32');
    await c.close();
  });

  it('splits tensors into contiguous, non-empty shards', () => {
    const specs = Array.from({ length: 10 }, (_, i) => ({ name: `t${i}`, dtype: 'BF16' as const, shape: [i + 1] }));
    const groups = splitIntoShards(specs, 4);
    expect(groups.length).toBe(4);
    expect(groups.flat().map((s) => s.name)).toEqual(specs.map((s) => s.name));
    expect(groups.every((g) => g.length > 0)).toBe(true);
    expect(() => splitIntoShards(specs, 11)).toThrow();
  });

  it('Rng streams are independent of each other and reproducible', () => {
    const a = new Rng(1, 'x');
    const b = new Rng(1, 'x');
    const c = new Rng(1, 'y');
    const sa = Array.from({ length: 5 }, () => a.nextU32());
    expect(Array.from({ length: 5 }, () => b.nextU32())).toEqual(sa);
    expect(Array.from({ length: 5 }, () => c.nextU32())).not.toEqual(sa);
  });
});
