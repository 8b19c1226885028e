/**
 * Layer-major batches: several sequences through one pass of the layers read each layer's weights once
 * per batch (counted in bytes per tensor at the checkpoint), and give the same logits as one prefill per
 * sequence. `verify --against` runs this way on both checkpoints.
 */
import { describe, expect, it } from 'vitest';
import { Checkpoint } from '../../../src/core/checkpoint/checkpoint.js';
import { generateCheckpoint } from '../../../src/core/fixture/generate.js';
import { asWeightSource, createSession, type CheckpointLike } from '../../../src/core/model/session.js';
import { WeightStore } from '../../../src/core/model/weights.js';
import { batchesOf, compareOnSequences, runtimeLogits, verifyAgainst } from '../../../src/core/verify/against.js';
import { nativeAvailable } from '../../../src/native/index.js';
import { cfg, relErr, tokensFor } from './reference-util.js';
import { tmpDir } from '../../helpers/tmp.js';

/** Batched and per-sequence runs on the native kernels differ only where a GEMM's row count picks the
 * native or the TypeScript product (fp32 vs float64 accumulation): fp32 rounding, observed ≈ 1e-6. */
const NATIVE_BATCH_REL = 1e-4;

/** A checkpoint whose reads are counted per tensor. */
function counting(ck: Checkpoint): { src: CheckpointLike; bytes: Map<string, number> } {
  const bytes = new Map<string, number>();
  const src: CheckpointLike = {
    config: ck.config,
    has: (n) => ck.has(n),
    info: (n) => ck.info(n),
    read: async (n, off, len) => {
      const b = await ck.read(n, off, len);
      bytes.set(n, (bytes.get(n) ?? 0) + b.byteLength);
      return b;
    },
  };
  return { src, bytes };
}

/** Tensors of the layers whose reads are not whole-tensor multiples, with their read counts. */
function readsPerLayerTensor(ck: Checkpoint, bytes: Map<string, number>): Map<string, number> {
  const times = new Map<string, number>();
  for (const [name, loc] of ck.tensors) {
    if (!name.startsWith('model.layers.') && name !== 'lm_head.weight' && name !== 'model.norm.weight') continue;
    const size = loc.info.shape.reduce((a, b) => a * b, 1) * (loc.info.dtype === 'F32' ? 4 : 2);
    times.set(name, (bytes.get(name) ?? 0) / size);
  }
  return times;
}

const CONFIG = cfg({ attn_type_list: [0, 1, 0], num_attention_heads: 4, num_key_value_heads: 2, hidden_size: 64, intermediate_size: 48, vocab_size: 120 });
/** No decoded-weight cache at all: every use of a weight is a read, so repeated passes would show. */
const NO_CACHE = 1;

async function build(seed: number): Promise<Checkpoint> {
  const dir = await tmpDir('m1kit-batch-');
  await generateCheckpoint({ out: dir, config: CONFIG, seed, shards: 2, std: 0.1 });
  return Checkpoint.open(dir);
}

const SEQS = [tokensFor(120, 17, 1), tokensFor(120, 9, 2), tokensFor(120, 23, 3)];

describe('layer-major batches', () => {
  for (const kernels of nativeAvailable() ? (['ts', 'native'] as const) : (['ts'] as const)) {
    it(`--kernels ${kernels}: 3 sequences read every layer tensor once, and give the per-sequence logits`, async () => {
      const ck = await build(1);
      try {
        const V = 120;
        const one = counting(ck);
        const s = createSession({ checkpoint: one.src, maxMemory: NO_CACHE, kernels });
        const got: Float32Array[] = SEQS.map((q) => new Float32Array(q.length * V));
        await s.prefillBatch(SEQS, (r) => got[r.seq]!.set(r.logits, r.row0 * V));
        for (const [name, times] of readsPerLayerTensor(ck, one.bytes)) expect({ name, times }).toEqual({ name, times: 1 });

        // the same sequences one prefill each: 3 passes over the checkpoint
        const each = counting(ck);
        const t = createSession({ checkpoint: each.src, maxMemory: NO_CACHE, kernels });
        for (const [i, q] of SEQS.entries()) {
          t.reset();
          const want = await t.prefill(q);
          if (kernels === 'ts') expect(Array.from(got[i]!)).toEqual(Array.from(want)); // float64 rows: bit-identical
          else expect(relErr(got[i]!, want)).toBeLessThan(NATIVE_BATCH_REL);
        }
        for (const [name, times] of readsPerLayerTensor(ck, each.bytes)) expect({ name, times }).toEqual({ name, times: 3 });
        // the batch left the session's own sequence alone
        expect(s.position).toBe(0);
      } finally {
        await ck.close();
      }
    });
  }

  it('with a decoded-weight cache the experts are read one ahead (prefetch), still once each', async () => {
    const ck = await build(5);
    try {
      const c = counting(ck);
      const s = createSession({ checkpoint: c.src, kernels: 'ts' });
      await s.prefillBatch(SEQS, () => undefined);
      for (const [name, times] of readsPerLayerTensor(ck, c.bytes)) expect({ name, times }).toEqual({ name, times: 1 });
      // a prefetched weight is read before linear() asks for it, and linear() does not read it again
      const w = counting(ck);
      const store = new WeightStore(asWeightSource(w.src), { kernels: 'ts' });
      const name = 'model.layers.0.block_sparse_moe.experts.1.w2.weight';
      store.prefetch(name);
      for (let i = 0; i < 20 && !w.bytes.has(name); i++) await new Promise((r) => setTimeout(r, 5));
      const early = w.bytes.get(name);
      expect(early).toBe(64 * 48 * 2);
      const [rows, cols] = await store.shape(name);
      await store.linear(name, new Float32Array(2 * cols), 2);
      expect({ rows, read: w.bytes.get(name) }).toEqual({ rows: 64, read: early });
    } finally {
      await ck.close();
    }
  });

  it('logit chunks cover every row of every sequence once, in order, within the chunk bound', async () => {
    const ck = await build(2);
    try {
      const s = createSession({ checkpoint: ck, kernels: 'ts' });
      const seen: string[] = [];
      await s.prefillBatch(SEQS, (r) => {
        expect(r.logits.length).toBe(r.rows * 120);
        seen.push(`${r.seq}:${r.row0}+${r.rows}`);
      }, { logitChunkBytes: 8 * 4 * 120 });
      expect(seen).toEqual(['0:0+8', '0:8+8', '0:16+1', '1:0+7', '1:7+2', '2:0+6', '2:6+8', '2:14+8', '2:22+1']);
    } finally {
      await ck.close();
    }
  });
});

describe('verify --against reads each checkpoint once per batch', () => {
  it('3 sequences: every layer tensor of both checkpoints read once; metrics equal the per-sequence comparison', async () => {
    const a = await build(3);
    const b = await build(4);
    try {
      const ca = counting(a);
      const cb = counting(b);
      const progress: number[] = [];
      const r = await verifyAgainst({ checkpoint: cb.src, reference: ca.src, sequences: SEQS, maxMemory: NO_CACHE, kernels: 'ts', onProgress: (d, t) => progress.push(d / t) });
      for (const [ck, c] of [[a, ca], [b, cb]] as const) {
        for (const [name, times] of readsPerLayerTensor(ck, c.bytes)) expect({ name, times }).toEqual({ name, times: 1 });
      }
      expect(progress.at(-1)).toBe(1);
      const each = await compareOnSequences({ sequences: SEQS, vocab: 120, reference: runtimeLogits(a, { kernels: 'ts' }), test: runtimeLogits(b, { kernels: 'ts' }) });
      expect(r.tokens).toBe(49);
      expect(r.metrics.kld.mean).toBeGreaterThan(0);
      expect(r.metrics.kld.mean).toBe(each.metrics.kld.mean);
      expect(r.metrics.sameTop1).toBe(each.metrics.sameTop1);

      // a batch bound of 30 tokens splits the 3 sequences into 2 batches: 2 passes
      const cc = counting(a);
      await verifyAgainst({ checkpoint: cc.src, reference: cc.src, sequences: SEQS, maxMemory: NO_CACHE, kernels: 'ts', batchTokens: 30 });
      for (const [name, times] of readsPerLayerTensor(a, cc.bytes)) expect({ name, times }).toEqual({ name, times: 4 });
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('batches hold at most batchTokens tokens (a longer sequence alone), in order', () => {
    expect(batchesOf([[1, 2], [3], [4, 5, 6], [7]], 3)).toEqual([[[1, 2], [3]], [[4, 5, 6]], [[7]]]);
    expect(batchesOf([[1, 2, 3, 4]], 2)).toEqual([[[1, 2, 3, 4]]]);
  });
});
