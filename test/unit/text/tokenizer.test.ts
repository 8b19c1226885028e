/**
 * The fixture tokenizer and the loader. Expected ids are worked out by hand from the fixture's
 * documented vocabulary (src/core/fixture/tokenizer.ts): ids 0–255 are the byte symbols in byte order,
 * merge rank r makes id 256 + r, the specials follow (292 <begin_of_document>, 293 <beginning_of_sentence>,
 * 294 <end_of_sentence>). BPE applies the lowest-ranked adjacent pair first, within each piece the M1
 * split pattern cuts out.
 */
import { readFile, writeFile, copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURE_MERGES, FIXTURE_TOKENIZER_SIZE, fixtureTokenizer } from '../../../src/core/fixture/tokenizer.js';
import { M1_SPLIT_PATTERN } from '../../../src/core/text/m1-tokenizer.js';
import { loadTokenizer, TextTokenizer } from '../../../src/core/text/tokenizer.js';
import { M1kitError } from '../../../src/core/errors.js';
import { tmpDir } from '../../helpers/tmp.js';

const TINY = 'fixtures/tiny';
const merge = (m: string) => 256 + FIXTURE_MERGES.indexOf(m);

describe('fixture tokenizer (hand-derived ids)', () => {
  it('has 256 byte tokens, 36 merges and 3 specials', () => {
    expect(FIXTURE_MERGES.length).toBe(36);
    expect(FIXTURE_TOKENIZER_SIZE).toBe(295);
  });

  it('tokenizes an English sentence piece by piece', async () => {
    const tok = await loadTokenizer(TINY);
    // pieces: "Hello" " world" "," " the" " cat" " sat" " on" " the" " model" "."
    // "Hello": He(3) → ll(4) → Hell(5) → Hello(6) = 262; " world": Ġw(7), or(8), Ġwor(9), ld(10), Ġworld(11) = 267
    // " the": Ġt(0), he(1), Ġthe(2) = 258; " cat": at(12) before Ġc(13), then Ġcat(14) = 270; " sat" = Ġsat(16) = 272
    // " on": on(17), Ġon(18) = 274; " model": Ġm(19), od(20), el(21), Ġmod(22), Ġmodel(23) = 279; "," = 44, "." = 46
    expect(tok.encode('Hello world, the cat sat on the model.')).toEqual([262, 267, 44, 258, 270, 272, 274, 258, 279, 46]);
    expect([merge('Hell o'), merge('Ġwor ld'), merge('Ġmod el')]).toEqual([262, 267, 279]);
  });

  it('splits digits in runs of three and keeps line breaks apart (the M1 pattern)', async () => {
    const tok = await loadTokenizer(TINY);
    // "123" (12 = 287, 123 = 288) | "45" → no merge: 52 53 | "\n\n" → ĊĊ = 289 | "is" = 290
    expect(tok.encode('12345\n\nis')).toEqual([288, 52, 53, 289, 290]);
    // pieces "He" (an upper-case run then lower case) and "LLo": He(3) = 259, then L L o have no merge
    expect(tok.encode('HeLLo')).toEqual([259, 76, 76, 111]);
  });

  it('turns special-token text into the special id, and bytes of any text round-trip', async () => {
    const tok = await loadTokenizer(TINY);
    // "er" is merge 30 = 286
    expect(tok.encode('<beginning_of_sentence>user')).toEqual([293, 117, 115, 286]);
    const s = 'héllo ☃ 🎉 naïve — 東京';
    expect(tok.decode(tok.encode(s))).toBe(s);
    // é is C3 A9: byte tokens 195 169
    expect(tok.encode('é')).toEqual([195, 169]);
  });

  it('renders the chat template in M1 turn format', async () => {
    const tok = await loadTokenizer(TINY);
    expect(tok.applyChatTemplate([{ role: 'system', content: 'Be brief.' }, { role: 'user', content: ' Hello ' }])).toBe(
      '<begin_of_document><beginning_of_sentence>system ai_setting=assistant\nBe brief.<end_of_sentence>\n<beginning_of_sentence>user name=user\nHello<end_of_sentence>\n<beginning_of_sentence>ai name=assistant\n',
    );
    expect(tok.eosIds).toEqual([294]);
    expect(tok.token(400)).toBeUndefined();
    expect(tok.has(294)).toBe(true);
  });

  it('the committed fixture holds exactly what the generator writes, with the M1 pre-tokenizer', async () => {
    const f = fixtureTokenizer();
    for (const name of ['tokenizer.json', 'tokenizer_config.json'] as const) {
      expect(JSON.parse(await readFile(join(TINY, name), 'utf8'))).toEqual(f[name]);
    }
    const pre = f['tokenizer.json'].pre_tokenizer as { pretokenizers: { pattern?: { Regex: string } }[] };
    expect(pre.pretokenizers[0]!.pattern!.Regex).toBe(M1_SPLIT_PATTERN);
  });
});

describe('loading a checkpoint tokenizer', () => {
  it('a missing tokenizer.json is one line naming the file and suggesting --tokens', async () => {
    const dir = await tmpDir();
    const e = await loadTokenizer(dir).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(M1kitError);
    const err = e as M1kitError;
    expect(err.code).toBe('E_NO_TOKENIZER');
    expect(err.message).toContain(join(dir, 'tokenizer.json'));
    expect(err.message).toContain('--tokens');
    expect(err.message).not.toContain('\n');
  });

  it('chat_template.jinja takes precedence over tokenizer_config.json', async () => {
    const dir = await tmpDir();
    for (const n of ['tokenizer.json', 'tokenizer_config.json']) await copyFile(join(TINY, n), join(dir, n));
    await writeFile(join(dir, 'chat_template.jinja'), '{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}');
    const tok = await loadTokenizer(dir);
    expect(tok.applyChatTemplate([{ role: 'user', content: 'hi' }])).toBe('[user]hi');
  });

  it('a template that reads the content as typed parts (message.content[0].text, as MiniMax-Text-01\'s) gets it so', () => {
    const f = fixtureTokenizer();
    const parts = "{% for m in messages %}{{ '<beginning_of_sentence>' + m.role + '\\n' + m['content'][0]['text'] + '<end_of_sentence>' }}{% endfor %}";
    const tok = new TextTokenizer(f['tokenizer.json'], { ...f['tokenizer_config.json'], chat_template: parts }, '/x/tokenizer.json');
    expect(tok.applyChatTemplate([{ role: 'user', content: 'hi' }])).toBe('<beginning_of_sentence>user\nhi<end_of_sentence>');
    const broken = new TextTokenizer(f['tokenizer.json'], { ...f['tokenizer_config.json'], chat_template: '{{ messages[0].content.nope.deeper + 1 }}' }, '/x/tokenizer.json');
    expect(() => broken.applyChatTemplate([{ role: 'user', content: 'hi' }])).toThrow('/x/tokenizer.json: the chat template failed to render');
  });

  it('no chat template: a clear error suggesting --no-chat-template', () => {
    const f = fixtureTokenizer();
    const { chat_template: _, ...cfg } = f['tokenizer_config.json'];
    const tok = new TextTokenizer(f['tokenizer.json'], cfg, '/x/tokenizer.json');
    expect(() => tok.applyChatTemplate([{ role: 'user', content: 'hi' }])).toThrow(/no chat template/);
  });

  it('a tokenizer.json that is not one names the file', async () => {
    const dir = await tmpDir();
    await writeFile(join(dir, 'tokenizer.json'), '[1, 2]');
    await expect(loadTokenizer(dir)).rejects.toThrow(`${join(dir, 'tokenizer.json')}: expected a tokenizer.json object`);
  });
});
