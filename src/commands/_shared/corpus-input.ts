/**
 * The corpus of `verify`'s corpus mode and of `imatrix`: one token stream from --text-file / --text
 * (tokenized with the checkpoint's tokenizer.json, as a whole) or --tokens, and the BOS that llama.cpp
 * would write over each chunk's first token (--bos, else the tokenizer's add_bos_token rule).
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { intArg, type CommandContext } from './action.js';
import { textInput, type TextInputArgOptions } from './text-input-arg.js';
import { UsageError } from '../../core/errors.js';
import { count } from '../../core/plural.js';
import { TOKENIZER_FILE } from '../../core/text/tokenizer.js';
import { isTokenList } from '../../core/model/tokens.js';

export interface CorpusInputOptions extends TextInputArgOptions {
  bos?: number | 'none';
}

export interface CorpusInput {
  tokens: number[];
  /** How the corpus is named in messages. */
  label: string;
  bos: number | undefined;
  /** The name an imatrix records as its dataset. */
  dataset: string;
}

/** The corpus file the options name, if any (an input the outputs must not overwrite): --text-file, or --tokens naming a file. */
export const corpusFileOf = (o: Pick<CorpusInputOptions, 'textFile' | 'tokens'>): string | undefined =>
  o.textFile ?? (o.tokens !== undefined && !isTokenList(o.tokens) ? o.tokens : undefined);

/** commander parser of --bos <id|none>. */
export const bosArg = (v: string): number | 'none' => (v === 'none' ? 'none' : intArg('--bos', 0)(v));

export const BOS_HELP = 'token written over each chunk\'s first token, as llama.cpp does when the vocabulary adds BOS (default: the tokenizer\'s BOS when tokenizer_config.json has add_bos_token true, else none)';

const hasTokenizer = async (d: string): Promise<boolean> => (await stat(join(d, TOKENIZER_FILE)).catch(() => undefined))?.isFile() ?? false;

/**
 * Resolve the corpus; `dirs` are the checkpoints whose tokenizer may be used, first one holding a tokenizer.json wins.
 * @example const c = await corpusInput(ctx, [target, against], o, ckpt.config.vocabSize);
 */
export async function corpusInput(ctx: CommandContext, dirs: string[], o: CorpusInputOptions, vocabSize: number): Promise<CorpusInput> {
  if (o.prompt !== undefined) throw new UsageError('a corpus is plain text: use --text-file or --text (--prompt applies a chat template)');
  let dir = dirs[0]!;
  for (const d of dirs) if (await hasTokenizer(d)) { dir = d; break; }
  const input = await textInput(ctx, dir, o, { vocabSize });
  if (!input) throw new UsageError('give the corpus: --text-file <corpus.txt>, --text <text> or --tokens <ids.json>');
  if (input.sequences.length !== 1) throw new UsageError(`--tokens ${o.tokens} holds ${count(input.sequences.length, 'sequence')}; a corpus is one token sequence`);
  const label = o.textFile ?? (o.tokens !== undefined ? `--tokens ${o.tokens}` : '--text');
  const bos = o.bos === 'none' ? undefined : o.bos ?? input.tokenizer?.addBosId;
  return { tokens: input.sequences[0]!, label, bos, dataset: o.textFile ?? o.tokens ?? '--text' };
}
