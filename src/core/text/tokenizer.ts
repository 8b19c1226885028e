/**
 * A checkpoint's tokenizer: `tokenizer.json` (+ `tokenizer_config.json`, and `chat_template.jinja` when
 * present) loaded with @huggingface/tokenizers, its chat template rendered with @huggingface/jinja.
 * m1kit has no tokenizer of its own; this module only finds the files, reports their problems in one
 * line, and gives the commands a small typed surface.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { Template } from '@huggingface/jinja';
import { InputError } from '../errors.js';
import { MAX_JSON_FILE_BYTES } from '../limits.js';
import { readJsonFile } from '../safetensors/index-json.js';
import { readTextFile } from './text-file.js';

export const TOKENIZER_FILE = 'tokenizer.json';
export const TOKENIZER_CONFIG_FILE = 'tokenizer_config.json';
/** A separate template file (newer Hugging Face layout); it takes precedence over tokenizer_config.json's. */
export const CHAT_TEMPLATE_FILE = 'chat_template.jinja';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export type Obj = Record<string, unknown>;
/** A plain JSON object (not null, not an array). */
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
/** A special token as tokenizer files write it: a string, or an AddedToken object's `content`. */
export const tokenText = (v: unknown): string | undefined => (typeof v === 'string' ? v : isObj(v) && typeof v.content === 'string' ? v.content : undefined);

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() ?? false;
}

export class TextTokenizer {
  /** Where the tokenizer was read from (the tokenizer.json path). */
  readonly file: string;
  /** The chat template source, if the checkpoint has one. */
  readonly chatTemplate: string | undefined;
  /** Ids that end a turn or the text (the configured EOS), for stopping generation. */
  readonly eosIds: readonly number[];
  private readonly tok: Tokenizer;
  private readonly config: Obj;
  private template: Template | undefined;

  constructor(tokenizerJson: unknown, tokenizerConfig: unknown, file: string, chatTemplate?: string) {
    this.file = file;
    if (!isObj(tokenizerJson) || !isObj(tokenizerJson.model)) throw new InputError('E_TOKENIZER', `${file}: expected a tokenizer.json object with a "model" field`);
    this.config = isObj(tokenizerConfig) ? tokenizerConfig : {};
    try {
      this.tok = new Tokenizer(tokenizerJson, this.config);
    } catch (e) {
      throw new InputError('E_TOKENIZER', `${file}: cannot load the tokenizer (${(e as Error).message})`);
    }
    const cfgTemplate = this.config.chat_template;
    this.chatTemplate = chatTemplate ?? (typeof cfgTemplate === 'string' ? cfgTemplate : undefined);
    const eos = tokenText(this.config.eos_token);
    const eosId = eos === undefined ? undefined : this.tok.token_to_id(eos);
    this.eosIds = eosId === undefined ? [] : [eosId];
  }

  /**
   * The BOS id when tokenizer_config.json says add_bos_token: true (llama.cpp then also writes BOS over
   * the first token of each perplexity / imatrix chunk), else undefined.
   */
  get addBosId(): number | undefined {
    const bos = this.config.add_bos_token === true ? tokenText(this.config.bos_token) : undefined;
    return bos === undefined ? undefined : (this.tok.token_to_id(bos) ?? undefined);
  }

  /** Token ids of `text`; special-token strings in it become their ids (as the Hugging Face tokenizer does). */
  encode(text: string): number[] {
    return this.tok.encode(text, { add_special_tokens: true }).ids;
  }

  /** The text of `ids` (tokens the vocabulary does not hold are skipped). */
  decode(ids: readonly number[]): string {
    return this.tok.decode([...ids], { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  }

  /** The vocabulary entry of `id` (byte-level symbols, e.g. "Ġthe"), or undefined when the vocabulary has none. */
  token(id: number): string | undefined {
    return this.tok.id_to_token(id);
  }

  /** Whether the vocabulary holds an entry for `id` (the embedding may have more rows than the tokenizer has tokens). */
  has(id: number): boolean {
    return this.tok.id_to_token(id) !== undefined;
  }

  /**
   * Render the chat template for `messages` (with the generation prompt for the assistant's turn by
   * default), as `apply_chat_template(..., tokenize=False)` does. Content is given as a string; a
   * template that needs it as a list of typed parts (`[{ type: 'text', text }]`, as MiniMax-Text-01's
   * reads `message['content'][0]['text']`) gets it in that form.
   */
  applyChatTemplate(messages: ChatMessage[], o: { addGenerationPrompt?: boolean } = {}): string {
    if (this.chatTemplate === undefined) {
      throw new InputError('E_NO_CHAT_TEMPLATE', `${this.file}: the checkpoint has no chat template (no chat_template in ${TOKENIZER_CONFIG_FILE}, no ${CHAT_TEMPLATE_FILE})`, {
        hint: 'pass --no-chat-template to tokenize the prompt as it is, or use --text',
      });
    }
    let template: Template;
    try {
      template = this.template ??= new Template(this.chatTemplate);
    } catch (e) {
      throw new InputError('E_CHAT_TEMPLATE', `${this.file}: the chat template does not parse (${(e as Error).message})`);
    }
    const special = (k: string) => tokenText(this.config[k]) ?? '';
    const render = (msgs: unknown[]) => template.render({ messages: msgs, add_generation_prompt: o.addGenerationPrompt ?? true, bos_token: special('bos_token'), eos_token: special('eos_token') });
    try {
      return render(messages);
    } catch (e) {
      // MiniMax's templates read message['content'][0]['text']: the content as a list of typed parts
      try {
        return render(messages.map((m) => ({ role: m.role, content: [{ type: 'text', text: m.content }] })));
      } catch {
        throw new InputError('E_CHAT_TEMPLATE', `${this.file}: the chat template failed to render (${(e as Error).message})`);
      }
    }
  }
}

/**
 * A chat template file (UTF-8 Jinja), checked to parse with @huggingface/jinja.
 * @example const t = await readChatTemplate('MiniMax-M1.jinja');
 */
export async function readChatTemplate(path: string): Promise<string> {
  const text = await readTextFile(path, 'chat template', MAX_JSON_FILE_BYTES);
  try {
    new Template(text);
  } catch (e) {
    throw new InputError('E_CHAT_TEMPLATE', `${path}: not a Jinja template @huggingface/jinja can parse (${(e as Error).message})`);
  }
  return text;
}

/**
 * Load `<dir>/tokenizer.json` (with tokenizer_config.json and chat_template.jinja when present).
 * A checkpoint without tokenizer.json is an InputError naming the file and suggesting `--tokens`.
 * @example const tok = await loadTokenizer('fixtures/tiny'); tok.encode('Hello world') // [262, 267]
 */
export async function loadTokenizer(dir: string): Promise<TextTokenizer> {
  const file = join(dir, TOKENIZER_FILE);
  if (!(await isFile(file))) {
    throw new InputError('E_NO_TOKENIZER', `${file}: no such file, so the checkpoint has no tokenizer for text input; give token ids with --tokens instead`, { file });
  }
  const tokenizerJson = await readJsonFile(file, 'tokenizer.json');
  const cfgFile = join(dir, TOKENIZER_CONFIG_FILE);
  const tokenizerConfig = (await isFile(cfgFile)) ? await readJsonFile(cfgFile, 'tokenizer_config.json') : {};
  const jinja = join(dir, CHAT_TEMPLATE_FILE);
  let template: string | undefined;
  if (await isFile(jinja)) {
    const st = await stat(jinja);
    if (st.size > MAX_JSON_FILE_BYTES) throw new InputError('E_TOKENIZER', `${jinja}: ${st.size} bytes, more than the ${MAX_JSON_FILE_BYTES}-byte limit for a chat template`);
    template = await readFile(jinja, 'utf8');
  }
  return new TextTokenizer(tokenizerJson, tokenizerConfig, file, template);
}
