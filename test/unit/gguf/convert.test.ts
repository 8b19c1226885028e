import { cp, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Checkpoint } from '../../../src/core/checkpoint/checkpoint.js';
import { convertToGguf } from '../../../src/core/gguf/convert.js';
import { tmpDir } from '../../helpers/tmp.js';
import { asF32, readGguf } from '../../helpers/read-gguf.js';
import { refQ4_0, refQ8_0 } from './ref-quant.js';

const fixture = (p: string) => fileURLToPath(new URL(`../../../fixtures/${p}`, import.meta.url));
const TINY = fixture('tiny');
const FOLD = fixture('gguf/fold');
const TOK = fixture('gguf/tokenizer');
const GGML = { F32: 0, F16: 1, Q4_0: 2, Q8_0: 8, BF16: 30 };

describe('convertToGguf: layout and bytes', () => {
  it('bf16 copies every matrix byte for byte and stacks experts in order', async () => {
    const out = join(await tmpDir(), 'tiny-bf16.gguf');
    const summary = await convertToGguf({ input: TINY, output: out, dtype: 'bf16' });
    expect(summary).toMatchObject({ architecture: 'minimax-01', dtype: 'bf16', residualFolded: false, softmaxLayers: [3] });
    const g = await readGguf(out);
    const ck = await Checkpoint.open(TINY);
    try {
      expect(g.order).toHaveLength(summary.tensors as number);
      expect(g.metadata['minimax-01.attention.recurrent_layers']).toEqual([true, true, true, false, true]);
      const embd = g.tensors.get('token_embd.weight')!;
      expect([embd.shape, embd.dtype]).toEqual([[96, 512], GGML.BF16]);
      expect(embd.bytes.equals(await ck.read('model.embed_tokens.weight'))).toBe(true);
      expect(g.tensors.get('blk.3.attn_q.weight')!.bytes.equals(await ck.read('model.layers.3.self_attn.q_proj.weight'))).toBe(true);
      expect(g.tensors.get('blk.0.attn_qkv.weight')!.bytes.equals(await ck.read('model.layers.0.self_attn.qkv_proj.weight'))).toBe(true);
      const down = g.tensors.get('blk.2.ffn_down_exps.weight')!;
      expect([down.shape, down.dtype]).toEqual([[64, 96, 4], GGML.BF16]);
      const per = down.bytes.length / 4;
      for (let e = 0; e < 4; e++) expect(down.bytes.subarray(e * per, (e + 1) * per).equals(await ck.read(`model.layers.2.block_sparse_moe.experts.${e}.w2.weight`))).toBe(true);
      // norms and router are F32 holding the exact widened values
      const norm = g.tensors.get('blk.1.attn_norm_2.weight')!;
      expect(norm.dtype).toBe(GGML.F32);
      expect(asF32(norm.bytes)).toEqual(await ck.readF32('model.layers.1.self_attn.norm.weight'));
      const router = g.tensors.get('blk.1.ffn_gate_inp.weight')!;
      expect([router.shape, router.dtype]).toEqual([[96, 4], GGML.F32]);
      expect(asF32(router.bytes)).toEqual(await ck.readF32('model.layers.1.block_sparse_moe.gate.weight'));
    } finally {
      await ck.close();
    }
  });

  it('q8_0 and q4_0 tensors equal the reference quantizers applied row-major to the source', async () => {
    const dir = await tmpDir();
    const ck = await Checkpoint.open(TINY);
    try {
      for (const [dtype, ref, id] of [['q8_0', refQ8_0, GGML.Q8_0], ['q4_0', refQ4_0, GGML.Q4_0]] as const) {
        const out = join(dir, `${dtype}.gguf`);
        await convertToGguf({ input: TINY, output: out, dtype });
        const g = await readGguf(out);
        const up = g.tensors.get('blk.4.ffn_up_exps.weight')!;
        expect(up.dtype).toBe(id);
        const experts = [];
        for (let e = 0; e < 4; e++) experts.push(...(await ck.readF32(`model.layers.4.block_sparse_moe.experts.${e}.w3.weight`)));
        expect(up.bytes.equals(Buffer.from(ref(new Float32Array(experts))))).toBe(true);
        expect(g.tensors.get('token_embd.weight')!.bytes.equals(Buffer.from(ref(await ck.readF32('model.embed_tokens.weight'))))).toBe(true);
        // the LM head stays Q8_0 under q4_0; norms and the router stay F32
        expect(g.tensors.get('output.weight')!.dtype).toBe(GGML.Q8_0);
        expect(g.tensors.get('output_norm.weight')!.dtype).toBe(GGML.F32);
        expect(g.tensors.get('blk.0.ffn_gate_inp.weight')!.dtype).toBe(GGML.F32);
      }
    } finally {
      await ck.close();
    }
  });

  it('folds differing alphas and betas into the weights (f32: exact float32 products)', async () => {
    const out = join(await tmpDir(), 'fold.gguf');
    const s = await convertToGguf({ input: FOLD, output: out, dtype: 'f32' });
    expect(s.residualFolded).toBe(true);
    const g = await readGguf(out);
    expect(g.metadata['minimax-01.residual_scale']).toBe(Math.fround(1.9));
    expect(g.metadata['minimax-01.attention.recurrent_layers']).toEqual([false, true, true, false, false, true]);
    const ck = await Checkpoint.open(FOLD);
    try {
      // layer 0 is softmax: alpha 2.6, beta 1.25; MoE: alpha 1.3, beta 0.7; s = 1.9 (hand-derived factors)
      const checks: [string, string, number][] = [
        ['blk.0.attn_norm.weight', 'model.layers.0.input_layernorm.weight', 2.6 / 1.9],
        ['blk.0.attn_k.weight', 'model.layers.0.self_attn.k_proj.weight', 1.9 / 2.6],
        ['blk.0.attn_output.weight', 'model.layers.0.self_attn.o_proj.weight', 1.25],
        ['blk.1.attn_qkv.weight', 'model.layers.1.self_attn.qkv_proj.weight', 1],
        ['blk.1.attn_output.weight', 'model.layers.1.self_attn.out_proj.weight', 0.8],
        ['blk.1.attn_norm_2.weight', 'model.layers.1.self_attn.norm.weight', 1],
        ['blk.1.ffn_norm.weight', 'model.layers.1.post_attention_layernorm.weight', 1.3 / 1.9],
        ['blk.1.ffn_gate_inp.weight', 'model.layers.1.block_sparse_moe.gate.weight', 1.9 / 1.3],
      ];
      for (const [gname, hf, k] of checks) {
        const src = await ck.readF32(hf);
        const want = src.map((v) => v * Math.fround(k));
        expect(asF32(g.tensors.get(gname)!.bytes), gname).toEqual(want);
      }
      const down = asF32(g.tensors.get('blk.5.ffn_down_exps.weight')!.bytes);
      const e3 = await ck.readF32('model.layers.5.block_sparse_moe.experts.3.w2.weight');
      expect(down.subarray(3 * e3.length, 4 * e3.length)).toEqual(e3.map((v) => v * Math.fround(0.7)));
    } finally {
      await ck.close();
    }
  });

  it('omits output.weight for tied embeddings and carries the tokenizer', async () => {
    const out = join(await tmpDir(), 'tok.gguf');
    const s = await convertToGguf({ input: TOK, output: out, dtype: 'f16' });
    expect(s.tokenizer).toMatchObject({ source: 'tokenizer.json', pre: 'gpt-2', eosId: 300 });
    const g = await readGguf(out);
    expect(g.tensors.has('output.weight')).toBe(false);
    expect(g.tensors.get('blk.0.attn_qkv.weight')!.dtype).toBe(GGML.F16);
    expect((g.metadata['tokenizer.ggml.tokens'] as string[])[300]).toBe('<end_of_sentence>');
    expect(g.metadata['tokenizer.ggml.eos_token_id']).toBe(300);
  });
});

describe('convertToGguf: refusals and interruption leave nothing behind', () => {
  async function patched(patch: Record<string, unknown>): Promise<string> {
    const dir = join(await tmpDir(), 'ckpt');
    await cp(TINY, dir, { recursive: true });
    const cfg = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    await writeFile(join(dir, 'config.json'), JSON.stringify({ ...cfg, ...patch }));
    return dir;
  }
  it('refuses shared experts and postnorm = false with exit-code-3 errors', async () => {
    for (const patch of [{ shared_intermediate_size: 64 }, { postnorm: false }]) {
      const dir = await patched(patch);
      const out = join(dir, '..', 'x.gguf');
      await expect(convertToGguf({ input: dir, output: out, dtype: 'f16' })).rejects.toMatchObject({ code: 'E_GGUF_UNSUPPORTED', exitCode: 3 });
      expect((await readdir(join(dir, '..'))).filter((f) => f.startsWith('x.gguf'))).toEqual([]);
    }
  });
  it('points m1kit layouts and quantized checkpoints to the HF bf16 layout', async () => {
    const layout = await patched({});
    await writeFile(join(layout, 'm1kit-layout.json'), '{}');
    await expect(convertToGguf({ input: layout, output: join(layout, '..', 'x.gguf'), dtype: 'f16' })).rejects.toMatchObject({ code: 'E_GGUF_LAYOUT', hint: expect.stringContaining('--merge') });
    const quantized = await patched({ quantization_config: { quant_method: 'int8' } });
    await expect(convertToGguf({ input: quantized, output: join(quantized, '..', 'x.gguf'), dtype: 'f16' })).rejects.toMatchObject({ code: 'E_GGUF_QUANTIZED' });
  });
  it('refuses a checkpoint whose tensor shapes disagree with config.json', async () => {
    const dir = await patched({ intermediate_size: 32 });
    await expect(convertToGguf({ input: dir, output: join(dir, '..', 'x.gguf'), dtype: 'f16' })).rejects.toThrow(/has shape \[64, ?96\], expected \[32, ?96\]/);
  });
  it('stops on abort and removes the partial file', async () => {
    const dir = await tmpDir();
    const ac = new AbortController();
    const p = convertToGguf({ input: TINY, output: join(dir, 'x.gguf'), dtype: 'q8_0', signal: ac.signal, onProgress: (d, t) => { if (d > t / 3) ac.abort(); } });
    await expect(p).rejects.toMatchObject({ code: 'E_INTERRUPTED' });
    expect(await readdir(dir)).toEqual([]);
  });
  it('rejects an unknown dtype as a usage error', async () => {
    await expect(convertToGguf({ input: TINY, output: '/tmp/never.gguf', dtype: 'q5_k' as never })).rejects.toMatchObject({ exitCode: 2 });
  });
});
