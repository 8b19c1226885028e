import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/core/checkpoint/config.js';
import { expectedTensors } from '../../../src/core/checkpoint/layout.js';
import { M1_CONFIG } from '../../../src/core/checkpoint/presets.js';
import { canonicalOf, jobTensors } from '../../../src/core/pipeline/jobs.js';
import { classify, unitOf } from '../../../src/core/pipeline/geometry.js';
import { parsePart } from '../../../src/core/convert/options.js';
import { buildPlan, partFiles } from '../../../src/core/pipeline/plan.js';
import { makeGrid, rankRect, type Grid } from '../../../src/core/pipeline/rank-split.js';

const M1 = parseConfig(M1_CONFIG);
const info = (n: string) => classify(n)!;

/** Rows × columns [r0, r1) × [c0, c1) of a tensor that a rank holds; null where it holds none of it. */
type Rect = { r0: number; r1: number; c0: number; c1: number } | null;
const L0 = 'model.layers.0.', L2 = 'model.layers.2.', L7 = 'model.layers.7.'; // layer 7 is softmax attention, 0 and 2 lightning

describe('rank split rules on the real MiniMax-M1 shapes (hand-derived from docs/architecture.md §2)', () => {
  const tp8 = makeGrid(M1, 8, 1), tp16 = makeGrid(M1, 16, 1), ep8 = makeGrid(M1, 8, 8), tp8ep4 = makeGrid(M1, 8, 4);
  // [rule, grid, rank, tensor, rows, columns, the part that rank holds]
  const CASES: [string, Grid, number, string, number, number, Rect][] = [
    ['qkv_proj rows go by whole heads: rank 3 of 8 holds heads 24..31 = rows [9216, 12288)', tp8, 3, `${L0}self_attn.qkv_proj.weight`, 24576, 6144, { r0: 9216, r1: 12288, c0: 0, c1: 6144 }],
    ['out_proj splits on columns (tp 8, rank 3)', tp8, 3, `${L0}self_attn.out_proj.weight`, 6144, 8192, { r0: 0, r1: 6144, c0: 3072, c1: 4096 }],
    ['o_proj splits on columns (tp 8, rank 7)', tp8, 7, `${L7}self_attn.o_proj.weight`, 6144, 8192, { r0: 0, r1: 6144, c0: 7168, c1: 8192 }],
    ['output_gate splits on rows (tp 8, rank 1)', tp8, 1, `${L0}self_attn.output_gate.weight`, 8192, 6144, { r0: 1024, r1: 2048, c0: 0, c1: 6144 }],
    ['q_proj splits on rows (tp 8, rank 1)', tp8, 1, `${L7}self_attn.q_proj.weight`, 8192, 6144, { r0: 1024, r1: 2048, c0: 0, c1: 6144 }],
    ['k_proj: one KV head per rank at tp 8 (rank 5 holds head 5)', tp8, 5, `${L7}self_attn.k_proj.weight`, 1024, 6144, { r0: 640, r1: 768, c0: 0, c1: 6144 }],
    ['v_proj: at tp 16 each KV head is replicated on a pair of ranks (rank 10 holds head 5)', tp16, 10, `${L7}self_attn.v_proj.weight`, 1024, 6144, { r0: 640, r1: 768, c0: 0, c1: 6144 }],
    ['v_proj: at tp 16 each KV head is replicated on a pair of ranks (rank 11 holds head 5 too)', tp16, 11, `${L7}self_attn.v_proj.weight`, 1024, 6144, { r0: 640, r1: 768, c0: 0, c1: 6144 }],
    ['the router is replicated (tp 8, rank 6)', tp8, 6, `${L2}block_sparse_moe.gate.weight`, 32, 6144, { r0: 0, r1: 32, c0: 0, c1: 6144 }],
    ['input_layernorm is replicated (tp 8, rank 6)', tp8, 6, `${L2}input_layernorm.weight`, 1, 6144, { r0: 0, r1: 1, c0: 0, c1: 6144 }],
    ['the lightning norm follows its heads (tp 8, rank 2)', tp8, 2, `${L2}self_attn.norm.weight`, 1, 8192, { r0: 0, r1: 1, c0: 2048, c1: 3072 }],
    ['lm_head splits the vocabulary on rows (tp 8, rank 2)', tp8, 2, 'lm_head.weight', 200064, 6144, { r0: 50016, r1: 75024, c0: 0, c1: 6144 }],
    ['tp 8 without ep: every expert is TP-sharded, w1 on rows of 1152 (rank 5, expert 31)', tp8, 5, `${L0}block_sparse_moe.experts.31.w1.weight`, 9216, 6144, { r0: 5760, r1: 6912, c0: 0, c1: 6144 }],
    ['tp 8 without ep: every expert is TP-sharded, w2 on columns of 1152 (rank 5, expert 0)', tp8, 5, `${L0}block_sparse_moe.experts.0.w2.weight`, 6144, 9216, { r0: 0, r1: 6144, c0: 5760, c1: 6912 }],
    ['ep 8: whole experts, 4 per rank, contiguous: rank 5 (experts 20..23) holds nothing of expert 19', ep8, 5, `${L0}block_sparse_moe.experts.19.w1.weight`, 9216, 6144, null],
    ['ep 8: whole experts, 4 per rank, contiguous: rank 5 holds expert 20 whole', ep8, 5, `${L0}block_sparse_moe.experts.20.w2.weight`, 6144, 9216, { r0: 0, r1: 6144, c0: 0, c1: 9216 }],
    ['ep 8: whole experts, 4 per rank, contiguous: rank 5 holds nothing of expert 24', ep8, 5, `${L0}block_sparse_moe.experts.24.w3.weight`, 9216, 6144, null],
    ['tp 8 ep 4: expert groups of 2 ranks, each expert split in halves: rank 3 holds the second half of expert 8', tp8ep4, 3, `${L0}block_sparse_moe.experts.8.w3.weight`, 9216, 6144, { r0: 4608, r1: 9216, c0: 0, c1: 6144 }],
    ['tp 8 ep 4: expert groups of 2 ranks (experts 8..15 on ranks 2, 3): rank 3 holds nothing of expert 16', tp8ep4, 3, `${L0}block_sparse_moe.experts.16.w3.weight`, 9216, 6144, null],
  ];
  it.each(CASES)('%s', (_rule, grid, rank, name, rows, cols, rect) => {
    expect(rankRect(M1, grid, rank, info(name), rows, cols)).toEqual(rect);
  });
  it('refuses impossible degrees before anything is written', () => {
    expect(() => makeGrid(M1, 3, 1)).toThrow(/num_attention_heads 64 is not divisible by --tp 3/);
    expect(() => makeGrid(M1, 1, 3)).toThrow(/num_local_experts 32/);
    expect(() => makeGrid(M1, 8, 3)).toThrow(/smaller must divide/);
    expect(() => makeGrid(M1, 128, 1)).toThrow(/num_attention_heads/);
  });
});

describe('file plan of the real MiniMax-M1 (8,243 tensors)', () => {
  const canon = canonicalOf(expectedTensors(M1));
  it('5 GB shards keep every attention unit and every expert whole, each tensor exactly once', () => {
    const plan = buildPlan({ config: M1, canon, grid: makeGrid(M1, 1, 1), experts: 'per-expert', maxShardBytes: 5e9 });
    const fileOf = new Map<string, string>();
    for (const f of plan.files) {
      expect(f.bytes).toBeLessThanOrEqual(5e9);
      for (const t of f.jobs.flatMap(jobTensors)) {
        expect(fileOf.has(t.name)).toBe(false);
        fileOf.set(t.name, f.name);
      }
    }
    expect(fileOf.size).toBe(8243);
    const unitFile = new Map<string, string>();
    for (const t of canon) {
      const u = unitOf(t.info);
      if (unitFile.has(u)) expect(fileOf.get(t.name), t.name).toBe(unitFile.get(u));
      unitFile.set(u, fileOf.get(t.name)!);
    }
    // 912,210,767,872 bytes (docs/architecture.md §2.2) in files of ≤ 5e9 bytes
    expect(plan.totalBytes).toBe(912_210_767_872);
    expect(plan.files.length).toBeGreaterThanOrEqual(183);
    expect(plan.files[0]!.name).toBe(`model-00000-of-00${plan.files.length}.safetensors`);
  });
  it('fused-w13 stacks a layer into [32, 18432, 6144] = 7.25 GB (> 4 GiB, streamed) and tp 8 rank files hold 1/8 of the experts', () => {
    const plan = buildPlan({ config: M1, canon, grid: makeGrid(M1, 1, 1), experts: 'fused-w13' });
    const w13 = plan.files.flatMap((f) => f.jobs).find((j) => j.kind === 'assemble' && j.out.name === 'model.layers.0.block_sparse_moe.experts.w13.weight')!;
    expect(w13.kind === 'assemble' && w13.out.shape).toEqual([32, 18432, 6144]);
    const tp = buildPlan({ config: M1, canon, grid: makeGrid(M1, 8, 1), experts: 'stacked' });
    expect(tp.dirs.map((d) => d.dir)[7]).toBe('rank-00007-of-00008');
    const w2 = tp.dirs[0]!.files.flatMap((f) => f.jobs).find((j) => j.kind === 'assemble' && j.out.name === 'model.layers.5.block_sparse_moe.experts.w2.weight')!;
    expect(w2.kind === 'assemble' && w2.out.shape).toEqual([32, 6144, 1152]);
  });
  it('--part slices are disjoint and their union is the whole plan', () => {
    const plan = buildPlan({ config: M1, canon, grid: makeGrid(M1, 8, 8), experts: 'per-expert' });
    const seen = new Set<string>();
    for (let i = 1; i <= 7; i++) {
      for (const f of partFiles(plan, i, 7)) {
        const k = `${f.dir}/${f.name}`;
        expect(seen.has(k)).toBe(false);
        seen.add(k);
      }
    }
    expect(seen.size).toBe(plan.files.length);
  });
});

describe('option parsers', () => {
  it('parts are 1-based i/N', () => {
    expect(parsePart('3/8')).toEqual({ index: 3, count: 8 });
    expect(() => parsePart('0/8')).toThrow();
    expect(() => parsePart('9/8')).toThrow();
  });
  it('role matching is on whole names: output_gate is attention, gate is the router', () => {
    expect(classify('model.layers.1.self_attn.output_gate.weight')!.role).toBe('output_gate');
    expect(classify('model.layers.1.block_sparse_moe.gate.weight')!.role).toBe('router');
    expect(classify('model.layers.1.block_sparse_moe.gate.weight_scale')).toBeUndefined();
  });
});
