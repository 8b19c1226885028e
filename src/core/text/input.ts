/**
 * The token input of forward, generate and verify: token ids (`--tokens`), or text (`--text`,
 * `--text-file`) or a chat prompt (`--prompt`, the checkpoint's chat template applied unless
 * `chatTemplate: false`) tokenized with the checkpoint's tokenizer. Exactly one source is used.
 */
import { InputError, UsageError } from '../errors.js';
import { loadTokens } from '../model/tokens.js';
import { readTextFile } from './text-file.js';
import { loadTokenizer, type ChatMessage, type TextTokenizer } from './tokenizer.js';

export interface TextInputSpec {
  /** Token ids: a comma list or a JSON file (see model/tokens.ts). */
  tokens?: string;
  /** Text to tokenize as it is. */
  text?: string;
  /** A UTF-8 file whose whole content is tokenized. */
  textFile?: string;
  /** A user message: the chat template is applied (with the assistant's generation prompt) unless chatTemplate is false. */
  prompt?: string;
  /** A system message placed before the prompt (with the chat template only). */
  system?: string;
  /** Apply the chat template to `prompt` (default true). */
  chatTemplate?: boolean;
}

export type TextInputSource = 'tokens' | 'text' | 'text-file' | 'prompt';

export interface TextInput {
  source: TextInputSource;
  /** Token sequences (one for every source but a `--tokens` JSON file of several). */
  sequences: number[][];
  /** The text that was tokenized (after the chat template), for text sources. */
  text?: string;
  /** The tokenizer, when one was loaded (text sources). */
  tokenizer?: TextTokenizer;
}

export interface TextInputOptions {
  /** Size of the model's vocabulary: every id must be below it. */
  vocabSize: number;
  /** Most tokens one sequence may hold (the model's context, max_position_embeddings); undefined: no bound. */
  maxTokens?: number;
  /** What a too-long input should do instead (appended to the error). */
  tooLongHint?: string;
}

/** The option names of each source, for messages. */
export const SOURCE_FLAGS: Record<TextInputSource, string> = { tokens: '--tokens', text: '--text', 'text-file': '--text-file', prompt: '--prompt' };

/** Which sources a spec names (more than one is a usage error for the caller to raise). */
export function sourcesOf(spec: TextInputSpec): TextInputSource[] {
  const s: TextInputSource[] = [];
  if (spec.tokens !== undefined) s.push('tokens');
  if (spec.text !== undefined) s.push('text');
  if (spec.textFile !== undefined) s.push('text-file');
  if (spec.prompt !== undefined) s.push('prompt');
  return s;
}

/** Tokenize `text` from `where`; text that yields no token is an error. */
export function tokenizeText(tok: TextTokenizer, text: string, where: string): number[] {
  const ids = tok.encode(text);
  if (ids.length === 0) throw new InputError('E_EMPTY_TEXT', `${where}: the text gives no tokens; expected some text`);
  return ids;
}

/** The text a prompt becomes: the chat template applied to [system?, user], or the prompt as it is. */
export function promptText(tok: TextTokenizer, spec: Pick<TextInputSpec, 'prompt' | 'system' | 'chatTemplate'>): string {
  const prompt = spec.prompt ?? '';
  if (spec.chatTemplate === false) return prompt;
  const messages: ChatMessage[] = [...(spec.system !== undefined ? [{ role: 'system' as const, content: spec.system }] : []), { role: 'user', content: prompt }];
  return tok.applyChatTemplate(messages, { addGenerationPrompt: true });
}

/**
 * Resolve the token input of a checkpoint at `dir`; undefined when the spec names no source.
 * @example const input = await resolveTextInput('fixtures/tiny', { prompt: 'Hello' }, { vocabSize: 512 });
 */
export async function resolveTextInput(dir: string, spec: TextInputSpec, o: TextInputOptions): Promise<TextInput | undefined> {
  const sources = sourcesOf(spec);
  if (sources.length > 1) throw new UsageError(`${sources.map((s) => SOURCE_FLAGS[s]).join(' and ')} both give the input; pass one of them`);
  if (spec.system !== undefined && spec.prompt === undefined) throw new UsageError('--system goes with --prompt');
  if (spec.system !== undefined && spec.chatTemplate === false) throw new UsageError('--system needs the chat template; drop --no-chat-template');
  const source = sources[0];
  if (source === undefined) return undefined;
  let input: TextInput;
  if (source === 'tokens') {
    input = { source, sequences: await loadTokens(spec.tokens!) };
  } else {
    const tokenizer = await loadTokenizer(dir);
    let text: string;
    let where: string;
    if (source === 'text') {
      text = spec.text!;
      where = '--text';
      if (text.length === 0) throw new UsageError('--text is empty; expected some text');
    } else if (source === 'text-file') {
      text = await readTextFile(spec.textFile!, '--text-file');
      where = spec.textFile!;
    } else {
      if (spec.prompt!.length === 0) throw new UsageError('--prompt is empty; expected some text');
      text = promptText(tokenizer, spec);
      where = '--prompt';
    }
    input = { source, sequences: [tokenizeText(tokenizer, text, where)], text, tokenizer };
  }
  const flag = source === 'text-file' ? spec.textFile! : SOURCE_FLAGS[source];
  for (const seq of input.sequences) {
    const bad = seq.findIndex((t) => t >= o.vocabSize);
    if (bad >= 0) throw new InputError('E_TOKEN', `${flag}: token ${bad} is ${seq[bad]}, outside the vocabulary [0, ${o.vocabSize}) of config.json`);
    if (o.maxTokens !== undefined && seq.length > o.maxTokens) {
      throw new InputError('E_TOO_LONG', `${flag}: ${seq.length} tokens, more than the model's context of ${o.maxTokens} (max_position_embeddings in config.json)${o.tooLongHint ? `; ${o.tooLongHint}` : ''}`);
    }
  }
  return input;
}
