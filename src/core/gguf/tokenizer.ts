/**
 * Tokenizer carry-over into `tokenizer.ggml.*`: a byte-level BPE tokenizer.json (tokens, token types,
 * merges, special-token ids, chat template) or, for checkpoints without one, a placeholder vocabulary.
 *
 * Placeholder (documented): exactly `vocab_size` tokens; ids 0–255 are GPT-2's byte symbols for bytes
 * 0–255 in byte order, ids ≥ 256 are `<|tN|>` (N = id); every type is NORMAL; `merges` is empty; pre is
 * "default"; no special ids. llama.cpp and node-llama-cpp load it (a `none` tokenizer model would make
 * node-llama-cpp abort while loading), and any text tokenizes to byte tokens.
 */
import { readFile, stat } from 'node:fs/promises';
import { readJsonFile } from '../safetensors/index-json.js';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { MAX_JSON_FILE_BYTES } from '../limits.js';
import { TokenType, type GgufKv } from './format.js';
import { KNOWN_PRE_PATTERNS } from './tokenizer-data.js';
import { gpt2ByteSymbols } from '../text/m1-tokenizer.js';
import { CHAT_TEMPLATE_FILE, isObj, TOKENIZER_CONFIG_FILE, TOKENIZER_FILE, tokenText, type Obj } from '../text/tokenizer.js';

export interface GgufVocab {
  kvs: GgufKv[];
  source: 'tokenizer.json' | 'placeholder';
  pre: string;
  eosId?: number;
  bosId?: number;
  /** Entries of tokenizer.json's `model.vocab` (the base vocabulary, without added tokens); 0 for the placeholder. */
  baseVocabSize: number;
  /** Where the chat template came from, if one was written. */
  chatTemplate?: 'tokenizer_config.json' | 'chat_template.jinja' | 'option';
  warnings: string[];
}


async function readJsonIfExists(path: string): Promise<unknown> {
  const st = await stat(path).catch(() => undefined);
  if (!st?.isFile()) return undefined;
  return readJsonFile(path, 'a tokenizer file');
}

/** The placeholder vocabulary of exactly `vocabSize` tokens. */
export function placeholderVocab(vocabSize: number): GgufVocab {
  const bytes = gpt2ByteSymbols();
  const tokens = Array.from({ length: vocabSize }, (_, i) => (i < 256 ? bytes[i]! : `<|t${i}|>`));
  return {
    source: 'placeholder',
    pre: 'default',
    baseVocabSize: 0,
    warnings: [],
    kvs: [
      { key: 'tokenizer.ggml.model', type: 'STRING', value: 'gpt2' },
      { key: 'tokenizer.ggml.pre', type: 'STRING', value: 'default' },
      { key: 'tokenizer.ggml.tokens', type: 'ARRAY', itemType: 'STRING', values: tokens },
      { key: 'tokenizer.ggml.token_type', type: 'ARRAY', itemType: 'INT32', values: tokens.map(() => TokenType.NORMAL) },
      { key: 'tokenizer.ggml.merges', type: 'ARRAY', itemType: 'STRING', values: [] },
    ],
  };
}

/** Find the Split regex of a (possibly Sequence) pre-tokenizer; undefined if there is none. */
function splitPattern(pre: unknown): string | undefined {
  if (!isObj(pre)) return undefined;
  if (pre.type === 'Sequence' && Array.isArray(pre.pretokenizers)) {
    for (const p of pre.pretokenizers) {
      const s = splitPattern(p);
      if (s !== undefined) return s;
    }
    return undefined;
  }
  if (pre.type === 'Split' && isObj(pre.pattern) && typeof pre.pattern.Regex === 'string') return pre.pattern.Regex;
  if (pre.type === 'ByteLevel' && pre.use_regex !== false) return KNOWN_PRE_PATTERNS[0]!.pattern; // ByteLevel's built-in regex is GPT-2's
  return undefined;
}


/**
 * Build `tokenizer.ggml.*` from a parsed tokenizer.json (+ optional tokenizer_config.json, config.json,
 * generation_config.json objects for the special ids and chat template).
 */
export function vocabFromTokenizerJson(tok: unknown, vocabSize: number, extra: { tokenizerConfig?: unknown; config?: unknown; generationConfig?: unknown }, file: string): GgufVocab {
  const bad = (msg: string): never => { throw new InputError('E_GGUF_TOKENIZER', `${file}: ${msg}`); };
  if (!isObj(tok) || !isObj(tok.model)) return bad('expected an object with a "model" field');
  const model = tok.model;
  if (model.type !== 'BPE') bad(`tokenizer model "${String(model.type)}" is not supported (only byte-level BPE)`);
  if (!isObj(model.vocab)) return bad('model.vocab must be an object');
  const byId: (string | undefined)[] = new Array<string | undefined>(vocabSize).fill(undefined);
  const types = new Array<number>(vocabSize).fill(TokenType.UNUSED);
  const put = (text: string, id: unknown, type: number): void => {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) bad(`token ${JSON.stringify(text)} has invalid id ${JSON.stringify(id)}`);
    if ((id as number) >= vocabSize) bad(`token ${JSON.stringify(text)} has id ${String(id)} ≥ vocab_size ${vocabSize} (config.json); the embedding has no row for it`);
    byId[id as number] = text;
    types[id as number] = type;
  };
  for (const [text, id] of Object.entries(model.vocab)) put(text, id, TokenType.NORMAL);
  if (Array.isArray(tok.added_tokens)) {
    for (const a of tok.added_tokens) {
      if (!isObj(a) || typeof a.content !== 'string') bad('added_tokens entries need a string "content"');
      const t = a as Obj;
      put(t.content as string, t.id, t.special === true ? TokenType.CONTROL : TokenType.USER_DEFINED);
    }
  }
  const tokens = byId.map((t, i) => t ?? `[PAD${i}]`);
  const rawMerges = Array.isArray(model.merges) ? model.merges : [];
  const merges = rawMerges.map((m, i) => {
    if (typeof m === 'string') return m;
    if (Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string') return `${m[0]} ${m[1]}`;
    return bad(`model.merges[${i}] must be "a b" or ["a", "b"]`);
  });
  const warnings: string[] = [];
  const pattern = splitPattern(tok.pre_tokenizer);
  const known = KNOWN_PRE_PATTERNS.find((p) => p.pattern === pattern);
  const pre = known?.pre ?? 'default';
  if (!known) warnings.push(`pre-tokenizer pattern not known to llama.cpp; wrote tokenizer.ggml.pre = "default" (tokenization of text may differ; token ids given directly are unaffected)`);

  const idOf = (v: unknown): number | undefined => {
    const text = tokenText(v);
    if (text === undefined) return undefined;
    const id = byId.indexOf(text);
    return id >= 0 ? id : undefined;
  };
  const num = (o: unknown, k: string): number | undefined => {
    const v = isObj(o) ? o[k] : undefined;
    const n = Array.isArray(v) ? v[0] : v;
    return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n < vocabSize ? n : undefined;
  };
  const tc = isObj(extra.tokenizerConfig) ? extra.tokenizerConfig : {};
  const eosId = idOf(tc.eos_token) ?? num(extra.generationConfig, 'eos_token_id') ?? num(extra.config, 'eos_token_id');
  const bosId = idOf(tc.bos_token) ?? num(extra.generationConfig, 'bos_token_id') ?? num(extra.config, 'bos_token_id');
  const kvs: GgufKv[] = [
    { key: 'tokenizer.ggml.model', type: 'STRING', value: 'gpt2' },
    { key: 'tokenizer.ggml.pre', type: 'STRING', value: pre },
    { key: 'tokenizer.ggml.tokens', type: 'ARRAY', itemType: 'STRING', values: tokens },
    { key: 'tokenizer.ggml.token_type', type: 'ARRAY', itemType: 'INT32', values: types },
    { key: 'tokenizer.ggml.merges', type: 'ARRAY', itemType: 'STRING', values: merges },
  ];
  const u32 = (key: string, v: number | undefined): void => { if (v !== undefined) kvs.push({ key, type: 'UINT32', value: v }); };
  u32('tokenizer.ggml.eos_token_id', eosId);
  u32('tokenizer.ggml.bos_token_id', bosId);
  u32('tokenizer.ggml.unknown_token_id', idOf(tc.unk_token));
  u32('tokenizer.ggml.padding_token_id', idOf(tc.pad_token));
  if (typeof tc.add_bos_token === 'boolean') kvs.push({ key: 'tokenizer.ggml.add_bos_token', type: 'BOOL', value: tc.add_bos_token });
  if (typeof tc.add_eos_token === 'boolean') kvs.push({ key: 'tokenizer.ggml.add_eos_token', type: 'BOOL', value: tc.add_eos_token });
  if (typeof tc.chat_template === 'string') kvs.push({ key: 'tokenizer.chat_template', type: 'STRING', value: tc.chat_template });
  const v: GgufVocab = { kvs, source: 'tokenizer.json', pre, baseVocabSize: Object.keys(model.vocab).length, warnings };
  if (typeof tc.chat_template === 'string') v.chatTemplate = 'tokenizer_config.json';
  if (eosId !== undefined) v.eosId = eosId;
  if (bosId !== undefined) v.bosId = bosId;
  return v;
}

/** Replace (or add) the chat template of `v`. */
function setChatTemplate(v: GgufVocab, template: string, from: NonNullable<GgufVocab['chatTemplate']>): void {
  v.kvs = v.kvs.filter((kv) => kv.key !== 'tokenizer.chat_template');
  v.kvs.push({ key: 'tokenizer.chat_template', type: 'STRING', value: template });
  v.chatTemplate = from;
}

/**
 * The checkpoint's vocabulary from `<dir>/tokenizer.json`, or the placeholder when there is none. The
 * chat template is, by precedence: `o.chatTemplate` (convert --chat-template), `<dir>/chat_template.jinja`,
 * tokenizer_config.json's `chat_template`.
 * @example const v = await loadVocab('/models/MiniMax-M1-80k', 200064, config.raw);
 */
export async function loadVocab(dir: string, vocabSize: number, configRaw: unknown, o: { chatTemplate?: string } = {}): Promise<GgufVocab> {
  const file = join(dir, TOKENIZER_FILE);
  const tok = await readJsonIfExists(file);
  const v = tok === undefined ? placeholderVocab(vocabSize) : vocabFromTokenizerJson(tok, vocabSize, {
    tokenizerConfig: await readJsonIfExists(join(dir, TOKENIZER_CONFIG_FILE)),
    generationConfig: await readJsonIfExists(join(dir, 'generation_config.json')),
    config: configRaw,
  }, file);
  if (o.chatTemplate !== undefined) {
    setChatTemplate(v, o.chatTemplate, 'option');
    return v;
  }
  if (tok === undefined) return v;
  // a separate chat_template.jinja (newer HF layout) takes precedence over tokenizer_config.json's
  const jinja = join(dir, CHAT_TEMPLATE_FILE);
  const st = await stat(jinja).catch(() => undefined);
  if (st?.isFile() && st.size <= MAX_JSON_FILE_BYTES) setChatTemplate(v, await readFile(jinja, 'utf8'), 'chat_template.jinja');
  return v;
}
