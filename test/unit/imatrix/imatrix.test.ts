/**
 * m1kit imatrix on the tiny fixture: the file is read back by a GGUF parser written here from the GGUF
 * spec and llama.cpp's tools/imatrix/imatrix.cpp (docs/llama-files.md §3.3), and its sums are checked
 * against a float64 recomputation with the independent reference forward pass (test/unit/model/reference.ts),
 * which sums Σx and Σx² of every product's input rows itself.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Checkpoint } from '../../../src/core/checkpoint/checkpoint.js';
import { parseConfig } from '../../../src/core/checkpoint/config.js';
import { ImatrixCollector } from '../../../src/core/imatrix/collect.js';
import { computeImatrix } from '../../../src/core/imatrix/run.js';
import { writeImatrix } from '../../../src/core/imatrix/write.js';
import { chunkCorpus } from '../../../src/core/verify/corpus.js';
import { readGguf } from '../../helpers/read-gguf.js';
import { m1kit } from '../../helpers/cli.js';
import { tmpDir } from '../../helpers/tmp.js';
import { randomTokens, smallRawConfig } from '../model/helpers.js';
import { referenceForward } from '../model/reference.js';

const TINY = 'fixtures/tiny';

type Kv = string | number | bigint | boolean | Kv[];

/** Minimal GGUF v3 reader: metadata, tensor infos and F32 tensor data. */
function parseGguf(buf: Buffer) {
  let o = 0;
  const u32 = () => { const v = buf.readUInt32LE(o); o += 4; return v; };
  const u64 = () => { const v = buf.readBigUInt64LE(o); o += 8; return v; };
  const str = () => { const n = Number(u64()); const s = buf.subarray(o, o + n).toString('utf8'); o += n; return s; };
  const value = (t: number): Kv => {
    switch (t) {
      case 4: return u32(); // UINT32
      case 5: { const v = buf.readInt32LE(o); o += 4; return v; }
      case 6: { const v = buf.readFloatLE(o); o += 4; return v; }
      case 7: return buf.readUInt8(o++) !== 0;
      case 8: return str();
      case 9: { const it = u32(); const n = Number(u64()); return Array.from({ length: n }, () => value(it)); }
      case 10: return u64();
      default: throw new Error(`value type ${t} not expected in an imatrix file`);
    }
  };
  if (buf.toString('latin1', 0, 4) !== 'GGUF') throw new Error('not GGUF');
  o = 4;
  const version = u32();
  const nTensors = Number(u64());
  const nKv = Number(u64());
  const kv = new Map<string, Kv>();
  for (let i = 0; i < nKv; i++) {
    const k = str();
    kv.set(k, value(u32()));
  }
  const infos: { name: string; ne: number[]; type: number; offset: number }[] = [];
  for (let i = 0; i < nTensors; i++) {
    const name = str();
    const nd = u32();
    const ne = Array.from({ length: nd }, () => Number(u64()));
    infos.push({ name, ne, type: u32(), offset: Number(u64()) });
  }
  const align = Number(kv.get('general.alignment') ?? 32);
  const data = Math.ceil(o / align) * align;
  const tensors = new Map(infos.map((t) => {
    const n = t.ne.reduce((a, b) => a * b, 1);
    const at = data + t.offset;
    return [t.name, { ...t, values: Array.from({ length: n }, (_, i) => buf.readFloatLE(at + 4 * i)) }];
  }));
  return { version, kv, order: infos.map((t) => t.name), tensors };
}

/** GGUF name of a checkpoint weight, by the converter's published mapping (docs/gguf.md), and the expert index. */
function ggufName(hf: string): { name: string; slot: number } | undefined {
  const m = /^model\.layers\.(\d+)\.(.+)\.weight$/.exec(hf);
  if (!m) return undefined;
  const [, l, rest] = m;
  const ex = /^block_sparse_moe\.experts\.(\d+)\.(w[123])$/.exec(rest!);
  if (ex) return { name: `blk.${l}.ffn_${{ w1: 'gate', w3: 'up', w2: 'down' }[ex[2] as 'w1']}_exps.weight`, slot: Number(ex[1]) };
  const plain: Record<string, string> = {
    'self_attn.qkv_proj': 'attn_qkv', 'self_attn.output_gate': 'attn_gate', 'self_attn.out_proj': 'attn_output',
    'self_attn.q_proj': 'attn_q', 'self_attn.k_proj': 'attn_k', 'self_attn.v_proj': 'attn_v', 'self_attn.o_proj': 'attn_output',
    'block_sparse_moe.gate': 'ffn_gate_inp',
  };
  return plain[rest!] ? { name: `blk.${l}.${plain[rest!]}.weight`, slot: 0 } : undefined;
}

/**
 * Relative agreement of a float64 sum with the runtime's (fp32 activations, float64 sums stored as F32):
 * fp32 rounding through 5 layers of the tiny model leaves ~1e-5 relative error on each activation.
 */
const SUM_REL_TOL = 1e-3;
/** Absolute floor for Σx of mixed-sign rows, whose sum may cancel to near 0. */
const SUM_ABS_TOL = 1e-4;

describe('m1kit imatrix', () => {
  it('writes llama.cpp\'s GGUF imatrix whose sums and counts match a float64 recomputation', async () => {
    const ck = await Checkpoint.open(TINY);
    const ctx = 32;
    const corpus = chunkCorpus(randomTokens(2 * ctx + 5, ck.config.vocabSize, 21), { ctx, bos: 1 });
    const m = await computeImatrix({ checkpoint: ck, corpus, kernels: 'ts' });
    const path = join(await tmpDir(), 'tiny.imatrix.gguf');
    await writeImatrix(path, m, ['calib.txt']);
    const f = parseGguf(await readFile(path));
    expect(f.version).toBe(3);
    expect(f.kv.get('general.type')).toBe('imatrix');
    expect(f.kv.get('imatrix.datasets')).toEqual(['calib.txt']);
    expect(f.kv.get('imatrix.chunk_count')).toBe(2);
    expect(f.kv.get('imatrix.chunk_size')).toBe(ctx);

    // float64 recomputation: the reference pass over each evaluated chunk, summing its own inputs
    const want = new Map<string, { s: number[][]; s2: number[][]; n: number[] }>();
    const E = ck.config.numExperts;
    for (const chunk of corpus.evaluated) {
      await referenceForward(ck, chunk, 'none', (w, x) => {
        const g = ggufName(w);
        if (!g) return;
        const slots = g.name.includes('_exps') ? E : 1;
        const e = want.get(g.name) ?? { s: Array.from({ length: slots }, () => new Array<number>(x.length).fill(0)), s2: Array.from({ length: slots }, () => new Array<number>(x.length).fill(0)), n: new Array<number>(slots).fill(0) };
        want.set(g.name, e);
        x.forEach((v, j) => { e.s[g.slot]![j]! += v; e.s2[g.slot]![j]! += v * v; });
        e.n[g.slot]! += 1;
      });
    }
    const names = [...want.keys()].sort();
    expect(f.order).toEqual(names.flatMap((n) => [`${n}.in_sum2`, `${n}.counts`, `${n}.in_sum`]));
    for (const n of names) {
      const w = want.get(n)!;
      const cols = w.s[0]!.length;
      const slots = w.n.length;
      const s2 = f.tensors.get(`${n}.in_sum2`)!;
      const s = f.tensors.get(`${n}.in_sum`)!;
      const counts = f.tensors.get(`${n}.counts`)!;
      expect([s2.ne, s.ne, counts.ne, s2.type, counts.type]).toEqual([[cols, slots], [cols, slots], [1, slots], 0, 0]);
      expect(counts.values).toEqual(w.n);
      for (let e = 0; e < slots; e++) {
        for (let j = 0; j < cols; j++) {
          const a2 = w.s2[e]![j]!;
          expect(Math.abs(s2.values[e * cols + j]! - a2)).toBeLessThanOrEqual(SUM_REL_TOL * a2 + 1e-12);
          expect(Math.abs(s.values[e * cols + j]! - w.s[e]![j]!)).toBeLessThanOrEqual(SUM_REL_TOL * Math.sqrt(a2 * w.n[e]!) + SUM_ABS_TOL);
        }
      }
    }
    // every dense count is the corpus' evaluated tokens; each token reaches k experts
    expect(f.tensors.get('blk.0.attn_qkv.weight.counts')!.values).toEqual([2 * ctx]);
    expect(f.tensors.get('blk.0.ffn_up_exps.weight.counts')!.values.reduce((a, b) => a + b, 0)).toBe(2 * ctx * ck.config.expertsPerTok);
    await ck.close();
  });

  it('names only tensors that m1kit convert writes to GGUF, with matching column counts and expert slots', async () => {
    const d = await tmpDir();
    const ids = join(d, 'ids.json');
    await (await import('node:fs/promises')).writeFile(ids, JSON.stringify(randomTokens(64, 512, 5)));
    const out = join(d, 'tiny.imatrix.gguf');
    let r = await m1kit(['-q', 'imatrix', TINY, '--tokens', ids, '--ctx', '32', '--out', out, '--process-output']);
    expect(r.code).toBe(0);
    r = await m1kit(['-q', 'convert', TINY, join(d, 'tiny.gguf'), '--dtype', 'f32']);
    expect(r.code).toBe(0);
    const model = await readGguf(join(d, 'tiny.gguf'));
    const f = parseGguf(await readFile(out));
    const bases = [...new Set(f.order.map((n) => n.replace(/\.(in_sum2|in_sum|counts)$/, '')))];
    expect(bases).toContain('output.weight');
    for (const b of bases) {
      const t = model.tensors.get(b);
      expect(t, b).toBeDefined();
      // GGUF dims run fastest first: ne[0] = input columns; an expert tensor's slowest dim = experts
      const shape = [...t!.shape];
      const ne = f.tensors.get(`${b}.in_sum2`)!.ne;
      expect(ne[0]).toBe(shape[0]);
      expect(ne[1]).toBe(b.includes('_exps') ? shape[2] : 1);
    }
  });

  it('scales a sub-layer\'s input rows by α/s as the folded GGUF sees them; output maps see them unscaled', () => {
    // linear α = 2 (= llama.cpp's residual_scale s), MLP α = 3: the GGUF's ffn_norm is γ·3/2, so its router
    // and expert inputs are m1kit's × 1.5; the down projection's input is not a normed row and stays
    const cfg = parseConfig(smallRawConfig({ layernorm_linear_attention_alpha: 2, layernorm_full_attention_alpha: 2, layernorm_mlp_alpha: 3 }), 'config.json');
    const c = new ImatrixCollector(cfg, true);
    const H = cfg.hiddenSize;
    const I = cfg.intermediateSize;
    const x = Float32Array.from({ length: 2 * H }, (_, i) => (i % 5) - 2);
    c.add('model.layers.0.block_sparse_moe.gate.weight', x, 2);
    c.add('model.layers.0.block_sparse_moe.experts.3.w2.weight', x.subarray(0, 2 * I), 2);
    c.add('model.layers.0.self_attn.qkv_proj.weight', x, 2);
    c.add('lm_head.weight', x, 2); // not collected without processOutput
    const by = new Map(c.entries().map((e) => [e.name, e]));
    expect([...by.keys()]).toEqual(['blk.0.attn_qkv.weight', 'blk.0.ffn_down_exps.weight', 'blk.0.ffn_gate_inp.weight']);
    const sq = (j: number, n: number) => x[j]! ** 2 + x[n + j]! ** 2;
    expect(by.get('blk.0.ffn_gate_inp.weight')!.inSum2[1]).toBeCloseTo(2.25 * sq(1, H), 9);
    expect(by.get('blk.0.attn_qkv.weight')!.inSum2[1]).toBeCloseTo(sq(1, H), 9);
    const down = by.get('blk.0.ffn_down_exps.weight')!;
    expect([down.nMat, down.cols, [...down.counts]]).toEqual([cfg.numExperts, I, [0, 0, 0, 2]]);
    expect(down.inSum2[3 * I + 1]).toBeCloseTo(x[1]! ** 2 + x[I + 1]! ** 2, 9);
    expect(down.inSum2[1]).toBe(0);
  });

  it('refuses chunks shorter than llama-imatrix uses, with one line and no output', async () => {
    const d = await tmpDir();
    const r = await m1kit(['imatrix', TINY, '--tokens', '1,2,3,4,5,6,7,8,9,10', '--ctx', '8', '--out', join(d, 'x.gguf')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--ctx expects an integer ≥ 16/);
    const r2 = await m1kit(['imatrix', TINY, '--tokens', '1,2,3,4,5,6,7,8,9,10', '--ctx', '16', '--out', join(d, 'x.gguf')]);
    expect(r2.code).toBe(3);
    expect(r2.stderr.trim().split('\n')[0]).toMatch(/E_CORPUS: --tokens 1,2,.*: 10 tokens is less than one chunk of --ctx 16/);
    await expect(readFile(join(d, 'x.gguf'))).rejects.toThrow(/ENOENT/);
  });
});
