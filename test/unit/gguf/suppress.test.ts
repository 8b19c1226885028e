/**
 * Suppressed tokens in GGUF export: zero embedding rows past the tokenizer's base vocabulary, found in
 * the data (llama.cpp's converter rule), read back with the independent @huggingface/gguf parser.
 */
import { cp, open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { convertToGguf } from '../../../src/core/gguf/convert.js';
import { zeroEmbeddingRows } from '../../../src/core/gguf/suppress.js';
import { Checkpoint } from '../../../src/core/checkpoint/checkpoint.js';
import { SafetensorsReader } from '../../../src/core/safetensors/reader.js';
import { readGguf } from '../../helpers/read-gguf.js';
import { jsonDoc, m1kit } from '../../helpers/cli.js';
import { tmpDir } from '../../helpers/tmp.js';

const TINY = 'fixtures/tiny';
const EMBED = 'model.embed_tokens.weight';
/** The fixture tokenizer's base vocabulary: 256 byte tokens + 36 merges (the 3 specials are added tokens). */
const BASE = 292;
const H = 96;

/**
 * A copy of the tiny fixture whose embedding rows `zero` are set to +0, and `negZero` to −0 (bf16
 * 0x8000, which compares equal to zero and so counts too).
 */
export async function zeroRowsFixture(zero: number[], negZero: number[] = []): Promise<string> {
  const dir = join(await tmpDir(), 'zr');
  await cp(TINY, dir, { recursive: true });
  const file = join(dir, 'model-00000-of-00003.safetensors');
  const r = await SafetensorsReader.open(file);
  const at = r.absoluteOffset(EMBED);
  await r.close();
  const fd = await open(file, 'r+');
  try {
    for (const row of zero) await fd.write(Buffer.alloc(H * 2), 0, H * 2, at + row * H * 2);
    const neg = Buffer.alloc(H * 2);
    for (let i = 0; i < H; i++) neg.writeUInt16LE(0x8000, i * 2);
    for (const row of negZero) await fd.write(neg, 0, H * 2, at + row * H * 2);
  } finally {
    await fd.close();
  }
  return dir;
}

const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

describe('zero-embedding rows', () => {
  it('finds exactly the all-zero rows from the start row on, ±0 alike, row by row', async () => {
    const rows = [...range(300, 400), ...range(401, 512)];
    const dir = await zeroRowsFixture([5, ...rows.filter((r) => r !== 301)], [301]);
    const ck = await Checkpoint.open(dir);
    try {
      expect(await zeroEmbeddingRows(ck, BASE)).toEqual(rows); // row 5 lies below the start; row 400 is not zero
      expect(await zeroEmbeddingRows(ck, 0)).toEqual([5, ...rows]);
    } finally {
      await ck.close();
    }
    const clean = await Checkpoint.open(TINY);
    expect(await zeroEmbeddingRows(clean, 0)).toEqual([]); // the committed fixture has random rows only
    await clean.close();
  });

  it('GGUF export writes them as tokenizer.ggml.suppress_tokens (INT32) and reports the count', async () => {
    const rows = range(295, 512);
    const dir = await zeroRowsFixture(rows);
    const out = join(await tmpDir(), 'z.gguf');
    const s = await convertToGguf({ input: dir, output: out, dtype: 'f32' });
    expect(s.tokenizer).toMatchObject({ source: 'tokenizer.json', pre: 'minimax-m2', suppressedTokens: rows.length });
    const g = await readGguf(out);
    expect(g.metadata['tokenizer.ggml.suppress_tokens']).toEqual(rows);
    // the committed fixture: none, so no key (llama.cpp's converter adds it only when the list is not empty)
    const plain = join(await tmpDir(), 'p.gguf');
    expect((await convertToGguf({ input: TINY, output: plain, dtype: 'f32' })).tokenizer).toMatchObject({ suppressedTokens: 0 });
    expect((await readGguf(plain)).metadata['tokenizer.ggml.suppress_tokens']).toBeUndefined();
  });
});

describe('convert --chat-template', () => {
  it('writes the file as tokenizer.chat_template; a bad template or a safetensors output is refused', async () => {
    const dir = await tmpDir();
    const tpl = join(dir, 'm1.jinja');
    const text = "{% for m in messages %}<beginning_of_sentence>{{ m.role }}\n{{ m.content }}<end_of_sentence>\n{% endfor %}";
    await writeFile(tpl, text);
    const out = join(dir, 't.gguf');
    const r = await m1kit(['convert', TINY, out, '--dtype', 'f16', '--chat-template', tpl, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(jsonDoc(r.stdout).result.tokenizer.chatTemplate).toBe('option');
    expect((await readGguf(out)).metadata['tokenizer.chat_template']).toBe(text);
    // without the option: the fixture's own template (tokenizer_config.json)
    const own = join(dir, 'own.gguf');
    expect((await m1kit(['convert', TINY, own, '--dtype', 'f16', '-q'])).code).toBe(0);
    const cfg = JSON.parse(await readFile(join(TINY, 'tokenizer_config.json'), 'utf8'));
    expect((await readGguf(own)).metadata['tokenizer.chat_template']).toBe(cfg.chat_template);
    const bad = join(dir, 'bad.jinja');
    await writeFile(bad, '{% for m in messages %}');
    const b = await m1kit(['convert', TINY, join(dir, 'b.gguf'), '--chat-template', bad]);
    expect(b.code).toBe(3);
    expect(b.stderr).toContain(`${bad}: not a Jinja template`);
    const st = await m1kit(['convert', TINY, join(dir, 'st'), '--chat-template', tpl]);
    expect(st.code).toBe(2);
  });
});
