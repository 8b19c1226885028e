/** forward with text input (built CLI): the next-token table, checked against the written logits. */
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonDoc, m1kit } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { SafetensorsReader } from '../../src/core/safetensors/reader.js';

const TINY = 'fixtures/tiny';
const WEIGHTS = ['config.json', 'model.safetensors.index.json', 'model-00000-of-00003.safetensors', 'model-00001-of-00003.safetensors', 'model-00002-of-00003.safetensors'];

async function lastRow(path: string, V: number): Promise<Float64Array> {
  const r = await SafetensorsReader.open(path);
  try {
    const buf = await r.read('logits');
    const f = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
    return Float64Array.from(f.subarray(f.length - V));
  } finally {
    await r.close();
  }
}

/** A copy of the fixture's weights and config, without its tokenizer (config edited by `edit`). */
async function weightsOnly(edit?: (c: Record<string, unknown>) => void): Promise<string> {
  const dir = await tmpDir();
  for (const f of WEIGHTS) await copyFile(join(TINY, f), join(dir, f));
  if (edit) {
    const c = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    edit(c);
    await writeFile(join(dir, 'config.json'), JSON.stringify(c));
  }
  return dir;
}

describe('m1kit forward --prompt / --text (built CLI)', () => {
  it('the top-k table equals a float64 softmax of the logits forward writes for the same tokens', async () => {
    const dir = await tmpDir();
    const a = await m1kit(['forward', TINY, '--prompt', 'Hello', '--top-k', '10', '--kernels', 'ts', '--json']);
    expect(a.code, a.stderr).toBe(0);
    const res = jsonDoc(a.stdout).result;
    expect(res.input.source).toBe('prompt');
    expect(res.input.text).toBe('<begin_of_document><beginning_of_sentence>user name=user\nHello<end_of_sentence>\n<beginning_of_sentence>ai name=assistant\n');
    expect(res.out).toBeUndefined();
    const out = join(dir, 'l.safetensors');
    const b = await m1kit(['forward', TINY, '--tokens', res.input.ids.join(','), '--out', out, '--kernels', 'ts', '-q']);
    expect(b.code, b.stderr).toBe(0);
    const row = await lastRow(out, 512);
    let max = -Infinity;
    for (const x of row) max = Math.max(max, x);
    let sum = 0;
    for (const x of row) sum += Math.exp(x - max);
    const order = [...row.keys()].sort((i, j) => row[j]! - row[i]! || i - j).slice(0, 10);
    expect(res.next.map((r: { id: number }) => r.id)).toEqual(order);
    for (const [i, r] of (res.next as { id: number; logit: number; p: number; rank: number }[]).entries()) {
      expect(r.rank).toBe(i + 1);
      expect(r.logit).toBe(row[r.id]); // the same f32 value
      expect(r.p).toBeCloseTo(Math.exp(row[r.id]! - max) / sum, 12);
    }
  });

  it('prints the table by default (10 rows), with token strings from the tokenizer', async () => {
    const r = await m1kit(['forward', TINY, '--text', 'the cat sat on the']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('next token after position 5:');
    expect(lines[1]).toMatch(/^rank\s+id\s+token\s+text\s+logit\s+p$/);
    expect(lines.length).toBe(12);
  });

  it('--text-file and --out together: logits written and the table printed', async () => {
    const dir = await tmpDir();
    const f = join(dir, 'p.txt');
    await writeFile(f, 'Hello world, the cat sat on the model.');
    const out = join(dir, 'o.safetensors');
    const r = await m1kit(['forward', TINY, '--text-file', f, '--out', out, '--top-k', '2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const res = jsonDoc(r.stdout).result;
    expect(res.input.ids).toEqual([262, 267, 44, 258, 270, 272, 274, 258, 279, 46]);
    expect(res.out).toBe(out);
    expect(res.next).toHaveLength(2);
  });

  it('a checkpoint without tokenizer.json: one error line naming the file and suggesting --tokens', async () => {
    const dir = await weightsOnly();
    const r = await m1kit(['forward', dir, '--text', 'hi']);
    expect(r.code).toBe(3);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`error E_NO_TOKENIZER: ${join(dir, 'tokenizer.json')}: no such file`);
    expect(lines[0]).toContain('--tokens');
  });

  it('text longer than the context, invalid UTF-8, an empty file and no input are clear errors', async () => {
    const small = await weightsOnly((c) => { c.max_position_embeddings = 4; });
    for (const n of ['tokenizer.json', 'tokenizer_config.json']) await copyFile(join(TINY, n), join(small, n));
    const long = await m1kit(['forward', small, '--text', 'Hello world, the cat sat', '--json']);
    expect(long.code).toBe(3);
    expect(jsonDoc(long.stdout).error.code).toBe('E_TOO_LONG');
    const dir = await tmpDir();
    const bad = join(dir, 'bad.txt');
    await writeFile(bad, Buffer.from([0x68, 0x69, 0x0a, 0xc3]));
    const u = await m1kit(['forward', TINY, '--text-file', bad]);
    expect(u.code).toBe(3);
    expect(u.stderr).toContain(`${bad}: --text-file is not valid UTF-8 at byte 3 (line 2: c3)`);
    const empty = join(dir, 'e.txt');
    await writeFile(empty, '');
    const e = await m1kit(['forward', TINY, '--text-file', empty]);
    expect(e.code).toBe(3);
    expect(e.stderr).toContain('is empty');
    const none = await m1kit(['forward', TINY]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('--tokens, --text, --text-file or --prompt');
    const two = await m1kit(['forward', TINY, '--text', 'a', '--prompt', 'b']);
    expect(two.code).toBe(2);
  });

  it('--help shows the text options and examples', async () => {
    const r = await m1kit(['forward', '--help']);
    for (const s of ['--text <text>', '--text-file <file>', '--prompt <text>', '--no-chat-template', '--top-k <k>', 'm1kit forward fixtures/tiny --prompt "Hello world" --top-k 10']) expect(r.stdout).toContain(s);
  });
});
