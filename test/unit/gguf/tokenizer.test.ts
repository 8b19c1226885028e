import { readFileSync } from 'node:fs';
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TokenType } from '../../../src/core/gguf/format.js';
import { tmpDir } from '../../helpers/tmp.js';
import { loadVocab, placeholderVocab, vocabFromTokenizerJson, type GgufVocab } from '../../../src/core/gguf/tokenizer.js';

const FIX = new URL('../../../fixtures/gguf/tokenizer/', import.meta.url);
const tokJson = JSON.parse(readFileSync(new URL('tokenizer.json', FIX), 'utf8'));
const get = (v: GgufVocab, key: string) => {
  const kv = v.kvs.find((k) => k.key === key);
  return kv === undefined ? undefined : kv.type === 'ARRAY' ? kv.values : kv.value;
};

describe('placeholder vocabulary', () => {
  const v = placeholderVocab(300);
  const tokens = get(v, 'tokenizer.ggml.tokens') as string[];
  it('has exactly vocab_size entries, GPT-2 byte symbols first, then <|tN|>', () => {
    expect(tokens).toHaveLength(300);
    expect(new Set(tokens).size).toBe(300);
    // GPT-2's byte table: printable bytes map to themselves, others to U+0100 + k in byte order
    expect(tokens[0x41]).toBe('A');
    expect(tokens[0x21]).toBe('!');
    expect(tokens[0xae]).toBe('®');
    expect(tokens[0x00]).toBe('\u0100');
    expect(tokens[0x0a]).toBe('Ċ'); // newline: U+010A
    expect(tokens[0x20]).toBe('Ġ'); // space: U+0120
    expect(tokens[0xad]).toBe('Ń'); // soft hyphen: the last of the 68 remapped bytes, U+0143
    expect(tokens[256]).toBe('<|t256|>');
    expect(tokens[299]).toBe('<|t299|>');
  });
  it('uses model gpt2 (never "none"), pre "default", empty merges, all types NORMAL', () => {
    expect(get(v, 'tokenizer.ggml.model')).toBe('gpt2');
    expect(get(v, 'tokenizer.ggml.pre')).toBe('default');
    expect(get(v, 'tokenizer.ggml.merges')).toEqual([]);
    expect((get(v, 'tokenizer.ggml.token_type') as number[]).every((t) => t === 1)).toBe(true);
  });
});

describe('tokenizer.json carry-over', () => {
  const v = vocabFromTokenizerJson(tokJson, 320, { tokenizerConfig: { eos_token: '<end_of_sentence>', bos_token: { content: '<beginning_of_sentence>' }, add_bos_token: false, chat_template: 'T' } }, 'tokenizer.json');
  const tokens = get(v, 'tokenizer.ggml.tokens') as string[];
  const types = get(v, 'tokenizer.ggml.token_type') as number[];
  it('places every token at its id and pads the gaps up to vocab_size', () => {
    expect(tokens).toHaveLength(320);
    expect(tokens[256]).toBe('he');
    expect(tokens[264]).toBe('Ġworld');
    expect(tokens[300]).toBe('<end_of_sentence>');
    expect(tokens[270]).toBe('[PAD270]');
    expect(tokens[319]).toBe('[PAD319]');
  });
  it('types: NORMAL vocab, CONTROL special added tokens, USER_DEFINED other added tokens, UNUSED padding', () => {
    expect(types[65]).toBe(TokenType.NORMAL);
    expect(types[300]).toBe(TokenType.CONTROL);
    expect(types[301]).toBe(TokenType.CONTROL);
    expect(types[305]).toBe(TokenType.USER_DEFINED);
    expect(types[302]).toBe(TokenType.UNUSED);
  });
  it('carries merges in rank order, special ids, flags, the chat template and the known pre-tokenizer', () => {
    expect((get(v, 'tokenizer.ggml.merges') as string[]).slice(0, 3)).toEqual(['h e', 'l l', 'he ll']);
    expect(get(v, 'tokenizer.ggml.eos_token_id')).toBe(300);
    expect(get(v, 'tokenizer.ggml.bos_token_id')).toBe(301);
    expect(get(v, 'tokenizer.ggml.add_bos_token')).toBe(false);
    expect(get(v, 'tokenizer.chat_template')).toBe('T');
    expect(v.pre).toBe('gpt-2');
    expect(v.warnings).toEqual([]);
  });
  it('accepts merges written as pairs', () => {
    const pairs = { ...tokJson, model: { ...tokJson.model, merges: [['h', 'e'], ['l', 'l']] } };
    expect(get(vocabFromTokenizerJson(pairs, 320, {}, 't.json'), 'tokenizer.ggml.merges')).toEqual(['h e', 'l l']);
  });
  it('falls back to pre "default" with a warning for an unknown split pattern', () => {
    const odd = { ...tokJson, pre_tokenizer: { type: 'Split', pattern: { Regex: '\\w+' } } };
    const w = vocabFromTokenizerJson(odd, 320, {}, 't.json');
    expect(w.pre).toBe('default');
    expect(w.warnings[0]).toMatch(/pre-tokenizer pattern not known/);
  });
  it('takes the eos id from config.json when tokenizer_config.json has none', () => {
    expect(get(vocabFromTokenizerJson(tokJson, 320, { config: { eos_token_id: 300 } }, 't.json'), 'tokenizer.ggml.eos_token_id')).toBe(300);
  });
  it('refuses ids beyond vocab_size and non-BPE models', () => {
    expect(() => vocabFromTokenizerJson(tokJson, 300, {}, 't.json')).toThrow(/id 300 ≥ vocab_size 300/);
    expect(() => vocabFromTokenizerJson({ model: { type: 'Unigram', vocab: [] } }, 300, {}, 't.json')).toThrow(/only byte-level BPE/);
  });
  it('prefers chat_template.jinja over tokenizer_config.json', async () => {
    const dir = await tmpDir();
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) await copyFile(new URL(f, FIX), join(dir, f));
    await writeFile(join(dir, 'chat_template.jinja'), '{{ jinja }}');
    expect(get(await loadVocab(dir, 320, {}), 'tokenizer.chat_template')).toBe('{{ jinja }}');
  });
  it('loads the fixture directory (tokenizer.json + tokenizer_config.json) and uses the placeholder without one', async () => {
    const fromDir = await loadVocab(new URL('.', FIX).pathname, 320, {});
    expect(fromDir.source).toBe('tokenizer.json');
    expect(fromDir.eosId).toBe(300);
    // the committed tiny checkpoint carries the M1-pattern BPE: llama.cpp's minimax-m2 pre-type, EOS <end_of_sentence> = 294
    const tiny = await loadVocab(new URL('../../../fixtures/tiny/', import.meta.url).pathname, 512, {});
    expect([tiny.source, tiny.pre, tiny.eosId, tiny.warnings]).toEqual(['tokenizer.json', 'minimax-m2', 294, []]);
    expect((await loadVocab(await tmpDir(), 512, {})).source).toBe('placeholder');
  });
});
