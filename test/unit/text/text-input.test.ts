/** Reading text (UTF-8 rules, empty files) and resolving the token input of a command. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeText, firstInvalidUtf8, readTextFile } from '../../../src/core/text/text-file.js';
import { resolveTextInput } from '../../../src/core/text/input.js';
import { mulberry32 } from '../../../src/core/generation/sampling.js';
import { tmpDir } from '../../helpers/tmp.js';

const TINY = 'fixtures/tiny';
const b = (...x: number[]) => new Uint8Array(x);

describe('UTF-8 text files', () => {
  it('names the byte offset and line of the first invalid sequence', () => {
    // "ab\ncd" then a lone 0xFF: byte 5, line 2
    expect(() => decodeText(b(0x61, 0x62, 0x0a, 0x63, 0x64, 0xff), 'c.txt')).toThrow('c.txt: text file is not valid UTF-8 at byte 5 (line 2: ff)');
  });

  it('refuses overlong forms, surrogates, code points above U+10FFFF and truncated sequences (RFC 3629)', () => {
    expect(firstInvalidUtf8(b(0xc0, 0x80))).toBe(0); // overlong NUL
    expect(firstInvalidUtf8(b(0xe0, 0x80, 0x80))).toBe(0); // overlong
    expect(firstInvalidUtf8(b(0x41, 0xed, 0xa0, 0x80))).toBe(1); // U+D800
    expect(firstInvalidUtf8(b(0xf4, 0x90, 0x80, 0x80))).toBe(0); // U+110000
    expect(firstInvalidUtf8(b(0x41, 0x42, 0xe2, 0x98))).toBe(2); // truncated ☃
    expect(firstInvalidUtf8(b(0xf0, 0x9f, 0x8e, 0x89, 0xe2, 0x98, 0x83))).toBe(-1); // 🎉☃
  });

  it('agrees with the platform decoder on random byte strings', () => {
    const rand = mulberry32(7);
    const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
    let invalid = 0;
    for (let n = 0; n < 3000; n++) {
      const len = 1 + Math.floor(rand() * 8);
      // bias towards lead and continuation bytes so that valid multi-byte sequences occur too
      const bytes = Uint8Array.from({ length: len }, () => (rand() < 0.5 ? 0x80 + Math.floor(rand() * 0x80) : Math.floor(rand() * 256)));
      let ok = true;
      try { strict.decode(bytes); } catch { ok = false; }
      if (!ok) invalid++;
      expect(firstInvalidUtf8(bytes) === -1, `bytes ${[...bytes].join(',')}`).toBe(ok);
    }
    expect(invalid).toBeGreaterThan(100);
    expect(invalid).toBeLessThan(3000);
  });

  it('an empty file and a file with only a byte-order mark are refused; a leading BOM is dropped', async () => {
    const dir = await tmpDir();
    const empty = join(dir, 'empty.txt');
    await writeFile(empty, '');
    await expect(readTextFile(empty, '--text-file')).rejects.toThrow(`${empty}: --text-file is empty`);
    const bom = join(dir, 'bom.txt');
    await writeFile(bom, Buffer.from([0xef, 0xbb, 0xbf]));
    await expect(readTextFile(bom)).rejects.toThrow('only a byte-order mark');
    await writeFile(bom, Buffer.from([0xef, 0xbb, 0xbf, 0x68, 0x69]));
    expect(await readTextFile(bom)).toBe('hi');
  });
});

describe('resolveTextInput', () => {
  it('tokenizes --text and the chat-templated --prompt; --no-chat-template keeps the prompt as it is', async () => {
    const t = await resolveTextInput(TINY, { text: 'the cat' }, { vocabSize: 512 });
    // "the": t h e → he(1) → t he: no merge "t he" (only "Ġt he") → 116 257; " cat" = 270
    expect(t!.sequences).toEqual([[116, 257, 270]]);
    const p = await resolveTextInput(TINY, { prompt: 'Hello', chatTemplate: false }, { vocabSize: 512 });
    expect(p!.sequences).toEqual([[262]]);
    const c = await resolveTextInput(TINY, { prompt: 'Hello' }, { vocabSize: 512 });
    // <begin_of_document> <beginning_of_sentence> "user" " name" "=" "user" "\n" "Hello" <end_of_sentence> "\n" <beginning_of_sentence> "ai" " name" "=" "assistant" "\n"
    // " name": Ġ n a m e (no merge applies) = 32 110 97 109 101; "assistant": an(27) = 283 first, then is(34) = 290
    expect(c!.sequences[0]).toEqual([292, 293, 117, 115, 286, 32, 110, 97, 109, 101, 61, 117, 115, 286, 10, 262, 294, 10, 293, 97, 105, 32, 110, 97, 109, 101, 61, 97, 115, 115, 290, 116, 283, 116, 10]);
  });

  it('two sources, an empty --text, a text longer than the context and ids outside the vocabulary are clear errors', async () => {
    await expect(resolveTextInput(TINY, { text: 'a', tokens: '1,2' }, { vocabSize: 512 })).rejects.toThrow('--tokens and --text both give the input; pass one of them');
    await expect(resolveTextInput(TINY, { text: '' }, { vocabSize: 512 })).rejects.toThrow('--text is empty');
    await expect(resolveTextInput(TINY, { text: 'the cat sat' }, { vocabSize: 512, maxTokens: 2 })).rejects.toThrow("--text: 4 tokens, more than the model's context of 2 (max_position_embeddings in config.json)");
    await expect(resolveTextInput(TINY, { tokens: '1,600' }, { vocabSize: 512 })).rejects.toThrow('--tokens: token 1 is 600, outside the vocabulary [0, 512)');
    expect(await resolveTextInput(TINY, {}, { vocabSize: 512 })).toBeUndefined();
  });

  it('a text file with invalid UTF-8 names the file', async () => {
    const dir = await tmpDir();
    const f = join(dir, 'latin1.txt');
    await writeFile(f, Buffer.from([0x63, 0x61, 0x66, 0xe9])); // "café" in Latin-1
    await expect(resolveTextInput(TINY, { textFile: f }, { vocabSize: 512 })).rejects.toThrow(`${f}: --text-file is not valid UTF-8 at byte 3 (line 1: e9)`);
  });
});
