/**
 * Corpus perplexity / KLD: llama-perplexity's chunking, the statistics it prints, and the
 * --kl-divergence-base file, read back by a parser written here from the format's description in
 * llama.cpp's tools/perplexity/perplexity.cpp (docs/llama-files.md §2), not from m1kit's writer.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chunkCorpus } from '../../../src/core/verify/corpus.js';
import { evaluateCorpus } from '../../../src/core/verify/perplexity.js';
import { encodeLogProbRow, KldBaseWriter } from '../../../src/core/verify/kld-base.js';
import { meanAndError, perplexityStats } from '../../../src/core/verify/llama-stats.js';
import { createSession } from '../../../src/core/model/session.js';
import { memorySource, randomTokens, smallRawConfig } from '../model/helpers.js';
import { tmpDir } from '../../helpers/tmp.js';

/** Independent reader of a --kl-divergence-base file. */
function parseKldBase(buf: Buffer) {
  if (buf.subarray(0, 8).toString('latin1') !== '_logits_') throw new Error('bad magic');
  const nCtx = buf.readUInt32LE(8);
  const nVocab = buf.readInt32LE(12);
  const nChunk = buf.readInt32LE(16);
  let o = 20;
  const tokens: number[] = [];
  for (let i = 0; i < nCtx * nChunk; i++, o += 4) tokens.push(buf.readInt32LE(o));
  const nv = 2 * Math.floor((nVocab + 1) / 2) + 4;
  const perChunk = nCtx - 1 - Math.floor(nCtx / 2);
  const rows: { scale: number; minLogProb: number; q: number[]; pad: number[] }[] = [];
  for (let r = 0; r < nChunk * perChunk; r++) {
    const scale = buf.readFloatLE(o);
    const minLogProb = buf.readFloatLE(o + 4);
    const q: number[] = [];
    for (let v = 0; v < nVocab; v++) q.push(buf.readUInt16LE(o + 8 + 2 * v));
    const pad: number[] = [];
    for (let v = nVocab; v < nv - 4; v++) pad.push(buf.readUInt16LE(o + 8 + 2 * v));
    rows.push({ scale, minLogProb, q, pad });
    o += 2 * nv;
  }
  return { nCtx, nVocab, nChunk, tokens, rows, trailing: buf.length - o };
}

/** float64 log-softmax of one row. */
function logSoftmax64(z: Float32Array, from: number, V: number): number[] {
  let m = -Infinity;
  for (let i = 0; i < V; i++) m = Math.max(m, z[from + i]!);
  let s = 0;
  for (let i = 0; i < V; i++) s += Math.exp(z[from + i]! - m);
  return Array.from({ length: V }, (_, i) => z[from + i]! - m - Math.log(s));
}

/**
 * A stored log-probability is within half a quantization step of the true one, plus float32 rounding of
 * the terms llama.cpp's formula adds (|ln p| ≤ 16 + ln V here, eps_f32 ≈ 6e-8 relative).
 */
const QUANT_SLACK = 1e-5;
/** KLD or mean NLL from a stored file vs from the float64 logits: a few half-steps of 16/65535 (≈ 1.2e-4 each). */
const KLD_FROM_FILE_TOL = 5e-4;

describe('llama-perplexity chunking', () => {
  it('cuts ⌊n/ctx⌋ chunks, drops the tail, scores the second half, substitutes BOS only where evaluated', () => {
    const toks = Array.from({ length: 25 }, (_, i) => 100 + i);
    const c = chunkCorpus(toks, { ctx: 8, bos: 7 });
    expect(c.chunks).toEqual([toks.slice(0, 8), toks.slice(8, 16), toks.slice(16, 24)]);
    expect(c.evaluated.map((x) => x[0])).toEqual([7, 7, 7]);
    expect(c.evaluated[1]!.slice(1)).toEqual(toks.slice(9, 16));
    expect(c).toMatchObject({ first: 4, scoredPerChunk: 3, corpusTokens: 25 });
    expect(chunkCorpus(toks, { ctx: 8, chunks: 2 }).chunks).toHaveLength(2);
    expect(chunkCorpus(toks, { ctx: 8, chunks: 9 }).chunks).toHaveLength(3);
    expect(chunkCorpus(toks, { ctx: 7 })).toMatchObject({ first: 3, scoredPerChunk: 3 });
  });

  it('refuses an empty corpus, one shorter than a chunk, and a chunk with nothing to score', () => {
    expect(() => chunkCorpus([], { ctx: 8, label: 'c.txt' })).toThrow(/^c\.txt: the corpus is empty/);
    expect(() => chunkCorpus([1, 2, 3], { ctx: 8, label: 'c.txt' })).toThrow(/^c\.txt: 3 tokens is less than one chunk of --ctx 8/);
    expect(() => chunkCorpus([1, 2, 3], { ctx: 2 })).toThrow(/--ctx must be an integer ≥ 3/);
  });
});

describe('llama-perplexity statistics', () => {
  it('mean and standard error as llama.cpp: √(var/(n−1)), 0 for n ≤ 10', () => {
    const xs = Array.from({ length: 11 }, (_, i) => i); // mean 5, population var 10
    const s = xs.reduce((a, b) => a + b, 0);
    const s2 = xs.reduce((a, b) => a + b * b, 0);
    expect(meanAndError(s, s2, 11).value).toBe(5);
    expect(meanAndError(s, s2, 11).error).toBeCloseTo(Math.sqrt(10 / 10), 12);
    expect(meanAndError(s - 10, s2 - 100, 10).error).toBe(0);
  });

  it('hand-computed ratio, percentiles and same-top share', () => {
    const n = 20;
    const nllRef = Array.from({ length: n }, () => 1);
    const nllTest = Array.from({ length: n }, () => 1 + Math.log(2)); // PPL(Q) = 2e, PPL(base) = e
    const kld = Array.from({ length: n }, (_, i) => i / 100);
    const s = perplexityStats({ nllRef, nllTest, kld, deltaP: Array.from({ length: n }, () => 0.1), sameTop1: 15 });
    expect(s.pplRatio.value).toBeCloseTo(2, 12);
    expect(s.pplBase.value).toBeCloseTo(Math.E, 12);
    expect(s.kld.mean).toBeCloseTo(0.095, 12);
    expect(s.kld.median).toBeCloseTo(0.095, 12); // between the 10th and 11th of 20
    expect(s.kld.p90).toBeCloseTo(0.171, 12); // 0.9·19 = 17.1 → 0.17 + 0.1·0.01
    expect(s.kld.max).toBeCloseTo(0.19, 12);
    expect(s.rmsDeltaP.value).toBeCloseTo(0.1, 12);
    expect(s.sameTop1.value).toBe(0.75);
    expect(s.sameTop1.error).toBeCloseTo(Math.sqrt((0.75 * 0.25) / 19), 12);
  });
});

describe('evaluateCorpus', () => {
  const raw = smallRawConfig();
  const V = raw.vocab_size as number;

  it('identical checkpoints: PPL ratio exactly 1, every KLD 0, same top-1 100 %', async () => {
    const a = memorySource(raw, 5);
    const corpus = chunkCorpus(randomTokens(70, V, 3), { ctx: 16 });
    const r = await evaluateCorpus({ checkpoint: a, reference: a, corpus, kernels: 'ts' });
    expect(r).toMatchObject({ chunks: 4, scored: 28, batches: 1, pass: true });
    expect(r.stats!.pplRatio.value).toBe(1);
    expect(r.stats!.kld.max).toBe(0);
    expect(r.stats!.sameTop1.value).toBe(1);
    expect(r.stats!.rmsDeltaP.value).toBe(0);
  });

  it('a perturbed checkpoint shows KLD > 0; one chunk per pass gives the same figures as one pass', async () => {
    const a = memorySource(raw, 5);
    const b = memorySource(raw, 5, 0.21);
    const corpus = chunkCorpus(randomTokens(70, V, 3), { ctx: 16, bos: 1 });
    const all = await evaluateCorpus({ checkpoint: b, reference: a, corpus, kernels: 'ts' });
    const one = await evaluateCorpus({ checkpoint: b, reference: a, corpus, kernels: 'ts', batchChunks: 1 });
    expect(all.stats!.kld.mean).toBeGreaterThan(1e-6);
    expect(one.batches).toBe(4);
    expect(one.stats!.kld.mean).toBeCloseTo(all.stats!.kld.mean, 12);
    expect(one.stats!.pplRatio.value).toBeCloseTo(all.stats!.pplRatio.value, 12);
  });

  it('layer-major: with nothing cached, one pass over all chunks reads the weights once, one chunk per pass once per chunk', async () => {
    const a = memorySource(raw, 5);
    const b = memorySource(raw, 6);
    const corpus = chunkCorpus(randomTokens(70, V, 3), { ctx: 16 });
    // a 1-byte budget caches nothing: every product streams its weight from the checkpoint
    const all = await evaluateCorpus({ checkpoint: b, reference: a, corpus, kernels: 'ts', maxMemory: 1 });
    const one = await evaluateCorpus({ checkpoint: b, reference: a, corpus, kernels: 'ts', maxMemory: 1, batchChunks: 1 });
    let weights = 0;
    for (const src of [a, b]) for (const [name, v] of src.values) if (/\.layers\.\d+\..*(proj|experts|gate)/.test(name)) weights += 2 * v.length;
    expect(all.bytesRead).toBeGreaterThanOrEqual(weights);
    expect(all.bytesRead).toBeLessThan(1.5 * weights); // + the heads, norms and the embedding rows of the tokens
    expect(one.bytesRead / all.bytesRead).toBeGreaterThan(3); // 4 chunks: 4 passes
  });

  it('refuses chunks longer than the model\'s context', async () => {
    const a = memorySource(smallRawConfig({ max_position_embeddings: 8 }), 5);
    await expect(evaluateCorpus({ checkpoint: a, corpus: chunkCorpus(randomTokens(40, V, 3), { ctx: 16 }), kernels: 'ts' })).rejects.toThrow(/--ctx 16 is longer than the model's context of 8 tokens/);
  });

  it('scores the second half of each chunk against the tokens that follow (a direct per-chunk prefill agrees)', async () => {
    const a = memorySource(raw, 9);
    const corpus = chunkCorpus(randomTokens(40, V, 4), { ctx: 12, bos: 2 });
    const r = await evaluateCorpus({ checkpoint: a, corpus, kernels: 'ts' });
    let nll = 0;
    let n = 0;
    for (const [i, ev] of corpus.evaluated.entries()) {
      const s = createSession({ checkpoint: a, kernels: 'ts' });
      const z = await s.prefill(ev);
      for (let j = 6; j < 11; j++) {
        nll -= logSoftmax64(z, j * V, V)[corpus.chunks[i]![j + 1]!]!;
        n++;
      }
    }
    expect(n).toBe(r.scored);
    expect(r.ppl!.value).toBeCloseTo(Math.exp(nll / n), 9);
  });
});

describe('--kl-divergence-base file', () => {
  it('encodes a row as worked out by hand from llama.cpp\'s rule', () => {
    // z = [0, −1, −20, 2]: max 2, floor max(−20, 2 − 16) = −14, step 16/65535
    const z = Float32Array.from([0, -1, -20, 2]);
    const row = new Uint16Array(2 * 2 + 4);
    encodeLogProbRow(z, 0, 4, row);
    const head = new DataView(row.buffer);
    expect(head.getFloat32(0, true)).toBe(Math.fround(16 / 65535));
    const lse = Math.fround(Math.log(1 + Math.fround(Math.exp(-2)) + Math.fround(Math.exp(-3)) + Math.fround(Math.exp(-22))));
    expect(head.getFloat32(4, true)).toBe(Math.fround(-16 - lse));
    // (0 + 14)·65535/16 = 57343.125 → 57343; (−1 + 14)·65535/16 = 53247.19 → 53247; −20 ≤ floor → 0; max → 65535
    expect([...row.subarray(4)]).toEqual([57343, 53247, 0, 65535]);
    const flat = new Uint16Array(6);
    encodeLogProbRow(Float32Array.from([3, 3]), 0, 2, flat);
    // a flat row: scale 0, min_log_prob = −ln 2, all entries 0
    const fh = new DataView(flat.buffer);
    expect([fh.getFloat32(0, true), fh.getFloat32(4, true), ...flat.subarray(4)]).toEqual([0, -Math.fround(Math.log(2)), 0, 0]);
  });

  it('holds the header, the uncut chunk tokens and one quantized log-prob row per scored position', async () => {
    const raw = smallRawConfig({ vocab_size: 41 }); // odd vocabulary: each row ends with a zero pad entry
    const V = 41;
    const a = memorySource(raw, 12);
    const corpus = chunkCorpus(randomTokens(50, V, 8), { ctx: 10, bos: 3 });
    const path = join(await tmpDir(), 'base.kld');
    const w = await KldBaseWriter.create(path, corpus.ctx, V, corpus.chunks);
    await evaluateCorpus({ checkpoint: a, corpus, kldBase: w, kernels: 'ts' });
    await w.finish();
    const f = parseKldBase(await readFile(path));
    expect(f).toMatchObject({ nCtx: 10, nVocab: 41, nChunk: 5, trailing: 0 });
    expect(f.tokens).toEqual(corpus.chunks.flat()); // not the BOS-substituted ones
    expect(f.rows).toHaveLength(5 * 4);
    for (const [i, ev] of corpus.evaluated.entries()) {
      const z = await createSession({ checkpoint: a, kernels: 'ts' }).prefill(ev);
      for (let j = 5; j < 9; j++) {
        const row = f.rows[i * 4 + (j - 5)]!;
        expect(row.pad).toEqual([0]);
        const lp = logSoftmax64(z, j * V, V);
        const top = Math.max(...lp);
        expect(Math.max(...row.q)).toBe(65535); // the maximum maps to the top code
        for (let v = 0; v < V; v++) {
          const stored = row.scale * row.q[v]! + row.minLogProb;
          // entries more than 16 nats below the maximum are stored as the floor
          if (lp[v]! > top - 16) expect(Math.abs(stored - lp[v]!)).toBeLessThanOrEqual(row.scale / 2 + QUANT_SLACK);
          else expect(row.q[v]).toBe(0);
        }
      }
    }
  });

  it('scored the way llama-perplexity --kl-divergence scores it, the file gives m1kit\'s own KLD, base PPL and same top', async () => {
    const raw = smallRawConfig();
    const V = 40;
    const base = memorySource(raw, 31);
    const q = memorySource(raw, 31, 0.3); // same seed, weights 50 % larger: a clearly different model
    const corpus = chunkCorpus(randomTokens(90, V, 2), { ctx: 16 });
    const path = join(await tmpDir(), 'base.kld');
    const w = await KldBaseWriter.create(path, corpus.ctx, V, corpus.chunks);
    await evaluateCorpus({ checkpoint: base, corpus, kldBase: w, kernels: 'ts' });
    await w.finish();
    const m1 = (await evaluateCorpus({ checkpoint: q, reference: base, corpus, kernels: 'ts' })).stats!;
    // llama.cpp's kl_divergence(): Q's logits against the stored rows (docs/llama-files.md §2.2)
    const f = parseKldBase(await readFile(path));
    let kld = 0, nllBase = 0, same = 0, n = 0;
    for (let c = 0; c < f.nChunk; c++) {
      const toks = f.tokens.slice(c * f.nCtx, (c + 1) * f.nCtx);
      const z = await createSession({ checkpoint: q, kernels: 'ts' }).prefill(toks);
      for (let j = Math.floor(f.nCtx / 2); j < f.nCtx - 1; j++, n++) {
        const row = f.rows[n]!;
        const lq = logSoftmax64(z, j * V, V);
        const lb = row.q.map((x) => row.scale * x + row.minLogProb);
        for (let v = 0; v < V; v++) if (lb[v]! > -16) kld += Math.exp(lb[v]!) * (lb[v]! - lq[v]!);
        nllBase -= lb[toks[j + 1]!]!;
        if (lq.indexOf(Math.max(...lq)) === lb.indexOf(Math.max(...lb))) same++;
      }
    }
    expect(m1.kld.mean).toBeGreaterThan(0.01);
    // the stored log-probs are within half a 16-bit step (≤ 16/65535/2) of the true ones
    expect(Math.abs(kld / n - m1.kld.mean)).toBeLessThan(KLD_FROM_FILE_TOL);
    expect(Math.abs(nllBase / n - Math.log(m1.pplBase.value))).toBeLessThan(KLD_FROM_FILE_TOL);
    expect(same / n).toBeCloseTo(m1.sameTop1.value, 2);
  });

  it('an unfinished file is never left under the final name', async () => {
    const dir = await tmpDir();
    const path = join(dir, 'x.kld');
    const w = await KldBaseWriter.create(path, 4, 8, [[1, 2, 3, 4]]);
    await expect(w.finish()).rejects.toThrow(/0 of 1 scored rows/);
    await expect(readFile(path)).rejects.toThrow(/ENOENT/);
    await expect(readFile(`${path}.incomplete`)).rejects.toThrow(/ENOENT/);
  });
});
