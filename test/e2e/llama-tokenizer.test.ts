/**
 * llama.cpp reads m1kit's tokenizer export as Hugging Face tokenizes: the tiny fixture's BPE (M1's split
 * pattern, written as pre-type minimax-m2) gives the same ids in node-llama-cpp as @huggingface/tokenizers,
 * and a GGUF with a suppressed-token list loads and runs.
 */
import { cp, open } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { convertToGguf } from '../../src/core/gguf/convert.js';
import { llamaCppLogits } from '../../src/core/gguf/engine-llama.js';
import { loadTokenizer } from '../../src/core/text/tokenizer.js';
import { SafetensorsReader } from '../../src/core/safetensors/reader.js';
import { skipWithoutLlama } from '../helpers/llama.js';
import { tmpDir } from '../helpers/tmp.js';

const TINY = 'fixtures/tiny';
/** Texts that exercise each branch of the split pattern: case runs, contractions, digit runs of three, punctuation, line breaks, spaces, non-ASCII. */
const TEXTS = [
  'Hello world, the cat sat on the model.',
  "It's 12345 o'clock; we're READY—aren't we?",
  'line one\n\nline two\r\n  indented\ttab',
  'naïve café 東京 🎉 x/y/z',
  'CamelCaseWord and HTTPServer 2024-01-02',
];

let dir: string;
beforeEach((ctx) => skipWithoutLlama(ctx));
beforeAll(async () => { dir = await tmpDir('m1kit-llama-tok-'); });
afterAll(() => undefined);

describe('llama.cpp and the exported tokenizer', () => {
  it('node-llama-cpp tokenizes like @huggingface/tokenizers on the M1 pattern (pre-type minimax-m2)', async () => {
    const out = join(dir, 'tiny.gguf');
    const s = await convertToGguf({ input: TINY, output: out, dtype: 'f16' });
    expect(s.tokenizer).toMatchObject({ pre: 'minimax-m2' });
    const hf = await loadTokenizer(TINY);
    const { getLlama } = await import('node-llama-cpp');
    const llama = await getLlama({ gpu: false, build: 'never', logLevel: 'error' as never, maxThreads: 1 });
    const model = await llama.loadModel({ modelPath: out, gpuLayers: 0 });
    try {
      for (const t of TEXTS) expect([...model.tokenize(t)], JSON.stringify(t)).toEqual(hf.encode(t));
      expect([...model.tokenize('<end_of_sentence>', true)]).toEqual([294]);
    } finally {
      await model.dispose();
    }
  });

  it('a GGUF with tokenizer.ggml.suppress_tokens loads and evaluates', async () => {
    const src = join(dir, 'zr');
    await cp(TINY, src, { recursive: true });
    const file = join(src, 'model-00000-of-00003.safetensors');
    const r = await SafetensorsReader.open(file);
    const at = r.absoluteOffset('model.embed_tokens.weight');
    await r.close();
    const fd = await open(file, 'r+');
    await fd.write(Buffer.alloc((512 - 300) * 96 * 2), 0, (512 - 300) * 96 * 2, at + 300 * 96 * 2);
    await fd.close();
    const out = join(dir, 'zr.gguf');
    expect((await convertToGguf({ input: src, output: out, dtype: 'f32' })).tokenizer).toMatchObject({ suppressedTokens: 212 });
    const logits = await llamaCppLogits({ gguf: out, tokens: [262, 267, 44] });
    expect(logits.length).toBe(3 * 512);
    expect(logits.every(Number.isFinite)).toBe(true);
  });
});
