import { existsSync, readFileSync, readdirSync, writeFileSync, cpSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runConversion } from '../../../src/core/convert/run.js';
import { bf16Values, f32Values, hashTree, readDir, tensorIn, rmrf, sliceBytes, type NaiveTensor } from '../../helpers/naive-safetensors.js';
import { checkpointRoot } from '../../helpers/checkpoints.js';

// tiny preset: H 96, 4 heads × d 32 (h·d 128), 2 KV heads, I 64, 4 experts, 5 layers (softmax at 3), V 512
const H = 96;
const D = 32;
const I = 64;
const { root, input } = checkpointRoot('convert', { preset: 'tiny', seed: 7, shards: 3 });
let orig: Map<string, NaiveTensor>;
let inputHashes: Map<string, string>;

// after checkpointRoot's hook (vitest runs beforeAll hooks in the order they are declared)
beforeAll(() => {
  writeFileSync(join(input, 'tokenizer.json'), '{"version":"1.0"}\n');
  orig = readDir(input);
  inputHashes = hashTree(input);
});


describe('tensor/expert-parallel layouts', () => {
  it('--tp 2 holds whole heads of qkv_proj, column halves of out_proj, replicated norms and router', async () => {
    const out = join(root, 'tp2');
    const r = await runConversion({ kind: 'convert', input, output: out, tp: 2 });
    expect(r.finalized).toBe(true);
    expect(r.layout.ranks).toEqual(['rank-00000-of-00002', 'rank-00001-of-00002']);
    for (let rank = 0; rank < 2; rank++) {
      const m = readDir(join(out, r.layout.ranks[rank]!));
      const qkv = tensorIn(orig, 'model.layers.0.self_attn.qkv_proj.weight');
      // 2 heads per rank, 3·d = 96 rows per head (per-head q|k|v interleave)
      expect(tensorIn(m, 'model.layers.0.self_attn.qkv_proj.weight').bytes.equals(sliceBytes(qkv, rank * 2 * 96, (rank + 1) * 2 * 96, 0, H))).toBe(true);
      const op = tensorIn(orig, 'model.layers.0.self_attn.out_proj.weight');
      expect(tensorIn(m, 'model.layers.0.self_attn.out_proj.weight').bytes.equals(sliceBytes(op, 0, H, rank * 64, (rank + 1) * 64))).toBe(true);
      const k = tensorIn(orig, 'model.layers.3.self_attn.k_proj.weight'); // 2 KV heads: one each
      expect(tensorIn(m, 'model.layers.3.self_attn.k_proj.weight').bytes.equals(sliceBytes(k, rank * D, (rank + 1) * D, 0, H))).toBe(true);
      const w2 = tensorIn(orig, 'model.layers.4.block_sparse_moe.experts.3.w2.weight');
      expect(tensorIn(m, 'model.layers.4.block_sparse_moe.experts.3.w2.weight').bytes.equals(sliceBytes(w2, 0, H, rank * 32, (rank + 1) * 32))).toBe(true);
      for (const n of ['model.layers.1.block_sparse_moe.gate.weight', 'model.layers.1.input_layernorm.weight', 'model.norm.weight']) {
        expect(tensorIn(m, n).bytes.equals(tensorIn(orig, n).bytes)).toBe(true);
        expect(tensorIn(m, n).dtype).toBe(tensorIn(orig, n).dtype);
      }
    }
  });

  it('--ep 2 --experts fused-w13: contiguous expert halves, w1 rows then w3 rows per expert', async () => {
    const out = join(root, 'ep2');
    const r = await runConversion({ kind: 'convert', input, output: out, ep: 2, experts: 'fused-w13' });
    const m1 = readDir(join(out, r.layout.ranks[1]!));
    const w13 = tensorIn(m1, 'model.layers.2.block_sparse_moe.experts.w13.weight');
    expect(w13.shape).toEqual([2, 2 * I, H]);
    const expect13 = Buffer.concat([2, 3].flatMap((e) => ['w1', 'w3'].map((w) => tensorIn(orig, `model.layers.2.block_sparse_moe.experts.${e}.${w}.weight`).bytes)));
    expect(w13.bytes.equals(expect13)).toBe(true);
    const w2 = tensorIn(m1, 'model.layers.2.block_sparse_moe.experts.w2.weight');
    expect(w2.bytes.equals(Buffer.concat([2, 3].map((e) => tensorIn(orig, `model.layers.2.block_sparse_moe.experts.${e}.w2.weight`).bytes)))).toBe(true);
    expect([...m1.keys()].some((n) => n.includes('experts.0.'))).toBe(false);
  });

  it.each([
    ['tp2', { tp: 2 }],
    ['tp4-ep2-stacked', { tp: 4, ep: 2, experts: 'stacked' as const }],
    ['ep4', { ep: 4 }],
    ['stacked', { experts: 'stacked' as const }],
  ])('%s → --merge restores the original files byte for byte', async (name, opts) => {
    const out = join(root, `m-${name}`);
    await runConversion({ kind: 'convert', input, output: out, ...opts, force: true });
    const merged = join(root, `m-${name}-merged`);
    await runConversion({ kind: 'convert', input: out, output: merged });
    const a = hashTree(input);
    const b = hashTree(merged);
    for (const [f, h] of a) expect(b.get(f), f).toBe(h);
  });
});

describe('streaming bands', () => {
  it.each([
    ['tp2 fused-w13 fp32', { kind: 'convert' as const, tp: 2, experts: 'fused-w13' as const, dtype: 'F32' as const }],
    ['fp8-block', { kind: 'quantize' as const, quant: { scheme: 'fp8-block' as const, targets: 'all' as const } }],
    ['w4a16', { kind: 'quantize' as const, quant: { scheme: 'w4a16' as const, targets: 'all' as const, group: 32 } }],
  ])('%s: tiny bands (rows split mid-tensor, items crossing bands) give the same bytes as one band', async (name, opts) => {
    const big = join(root, `band-big-${name}`);
    const small = join(root, `band-small-${name}`);
    await runConversion({ input, output: big, ...opts });
    // 1000 bytes: 2 rows of a 96-column fp32 band; 128-row blocks for the quantizers
    await runConversion({ input, output: small, ...opts, bandBytes: 1000 });
    expect(hashTree(small)).toEqual(hashTree(big));
    const back = join(root, `band-back-${name}`);
    if (opts.kind === 'convert') {
      await runConversion({ kind: 'convert', input: small, output: back, dtype: 'BF16', bandBytes: 700 });
      for (const [n, t] of readDir(back)) expect(t.bytes.equals(tensorIn(orig, n).bytes), n).toBe(true);
    }
  });
});

describe('re-chunking, dtype and carried files', () => {
  it('--max-shard-size keeps units together, writes a valid index, carries the tokenizer', async () => {
    const out = join(root, 'small-shards');
    const r = await runConversion({ kind: 'convert', input, output: out, maxShardBytes: 200_000 });
    expect(r.files).toBeGreaterThan(3);
    const index = JSON.parse(readFileSync(join(out, 'model.safetensors.index.json'), 'utf8'));
    const m = readDir(out);
    let total = 0;
    for (const [n, t] of m) {
      total += t.bytes.length;
      expect(t.bytes.equals(tensorIn(orig, n).bytes)).toBe(true);
    }
    expect(index.metadata.total_size).toBe(total);
    expect(Object.keys(index.weight_map).length).toBe(orig.size);
    const w = index.weight_map as Record<string, string>;
    expect(w['model.layers.2.block_sparse_moe.experts.1.w1.weight']).toBe(w['model.layers.2.block_sparse_moe.experts.1.w2.weight']);
    expect(w['model.layers.2.self_attn.qkv_proj.weight']).toBe(w['model.layers.2.self_attn.out_proj.weight']);
    for (const f of new Set(Object.values(w))) expect(statSync(join(out, f)).size).toBeLessThan(200_000 + 4096);
    expect(readFileSync(join(out, 'tokenizer.json'), 'utf8')).toBe('{"version":"1.0"}\n');
    // the manifest's sha256 (hashed on a worker while streaming) matches the files on disk
    const manifest = JSON.parse(readFileSync(join(out, 'm1kit-manifest.json'), 'utf8')) as { files: { file: string; size: number; sha256: string }[] };
    const hashes = hashTree(out);
    expect(manifest.files.length).toBe(r.files);
    for (const f of manifest.files) {
      expect(f.sha256, f.file).toBe(hashes.get(f.file));
      expect(f.size).toBe(statSync(join(out, f.file)).size);
    }
  });

  it('--dtype fp32 widens bf16 exactly and keeps the router F32; fp16 → bf16 gets the values back', async () => {
    const out = join(root, 'f32');
    await runConversion({ kind: 'convert', input, output: out, dtype: 'F32' });
    const m = readDir(out);
    const n = 'model.layers.1.self_attn.output_gate.weight';
    expect(tensorIn(m, n).dtype).toBe('F32');
    expect(f32Values(tensorIn(m, n).bytes)).toEqual(bf16Values(tensorIn(orig, n).bytes));
    expect(tensorIn(m, 'model.layers.1.block_sparse_moe.gate.weight').bytes.equals(tensorIn(orig, 'model.layers.1.block_sparse_moe.gate.weight').bytes)).toBe(true);
    const back = join(root, 'f32-bf16');
    await runConversion({ kind: 'convert', input: out, output: back, dtype: 'BF16' });
    expect(tensorIn(readDir(back), n).bytes.equals(tensorIn(orig, n).bytes)).toBe(true);
  });
});

describe('--part and refusal rules', () => {
  it('parts written separately equal one uninterrupted run, byte for byte', async () => {
    const full = join(root, 'full');
    await runConversion({ kind: 'convert', input, output: full, tp: 2, maxShardBytes: 150_000 });
    const parted = join(root, 'parted');
    const files: string[] = [];
    for (let i = 1; i <= 3; i++) {
      const r = await runConversion({ kind: 'convert', input, output: parted, tp: 2, maxShardBytes: 150_000, part: { index: i, count: 3 } });
      files.push(...r.written);
      expect(r.finalized).toBe(i === 3);
    }
    expect(new Set(files).size).toBe(files.length);
    expect(hashTree(parted)).toEqual(hashTree(full));
  });

  it('bad input is refused before the output directory is created', async () => {
    const bad = join(root, 'bad');
    cpSync(input, bad, { recursive: true });
    const cfg = JSON.parse(readFileSync(join(bad, 'config.json'), 'utf8'));
    writeFileSync(join(bad, 'config.json'), JSON.stringify({ ...cfg, num_local_experts: 5 }));
    const out = join(root, 'never');
    await expect(runConversion({ kind: 'convert', input: bad, output: out })).rejects.toThrow(/has shape \[4,96\], expected \[5,96\]/);
    writeFileSync(join(bad, 'config.json'), JSON.stringify({ ...cfg, architectures: ['LlamaForCausalLM'] }));
    await expect(runConversion({ kind: 'convert', input: bad, output: out })).rejects.toThrow(/not a MiniMax-M1 model/);
    await expect(runConversion({ kind: 'convert', input, output: out, tp: 3 })).rejects.toThrow(/--tp 3/);
    writeFileSync(join(bad, 'config.json'), JSON.stringify(cfg));
    rmrf(join(bad, 'model-00001-of-00003.safetensors'));
    await expect(runConversion({ kind: 'convert', input: bad, output: out })).rejects.toThrow(/model-00001-of-00003.safetensors/);
    expect(existsSync(out)).toBe(false);
  });

  it('an output holding a different conversion is refused unless --force; the same one is already complete', async () => {
    const out = join(root, 'tp2');
    await expect(runConversion({ kind: 'convert', input, output: out, ep: 2 })).rejects.toThrow(/different conversion/);
    const again = await runConversion({ kind: 'convert', input, output: out, tp: 2 });
    expect(again.written).toEqual([]);
    expect(again.finalized).toBe(true);
    rmrf(join(out, 'rank-00001-of-00002', 'model-00000-of-00001.safetensors'));
    const repaired = await runConversion({ kind: 'convert', input, output: out, tp: 2 });
    expect(repaired.written).toEqual(['rank-00001-of-00002/model-00000-of-00001.safetensors']);
    const forced = await runConversion({ kind: 'convert', input, output: out, ep: 2, force: true });
    expect(forced.written.length).toBeGreaterThan(0);
    expect(readdirSync(out).filter((d) => d.startsWith('rank-')).sort()).toEqual(['rank-00000-of-00002', 'rank-00001-of-00002']);
  });
});

describe('the input', () => {
  it('is never modified by any of the conversions above', () => {
    expect(hashTree(input)).toEqual(inputHashes);
  });
});
