/**
 * The token-input options every command that runs the model shares: `--tokens`, `--text`,
 * `--text-file`, `--prompt` (+ `--system`, `--no-chat-template`). One place adds them and resolves
 * them through core/text/input.ts, so each command needs one line for each.
 */
import type { Command } from 'commander';
import { resolveTextInput, type TextInput, type TextInputOptions, type TextInputSource, type TextInputSpec } from '../../core/text/input.js';
import { count } from '../../core/plural.js';
import type { CommandContext } from './action.js';

/** The parsed options (commander's names are the spec's; `chatTemplate` is false with --no-chat-template). */
export type TextInputArgOptions = TextInputSpec;

/** Help lines on the text options, for a command's "after" help. */
export const TEXT_INPUT_HELP = `Text input is tokenized with the checkpoint's tokenizer.json (Hugging Face tokenizers); --prompt
wraps the text as a user turn in the checkpoint's chat template (tokenizer_config.json chat_template or
chat_template.jinja) with the assistant's turn opened; --no-chat-template tokenizes it as it is.`;

/**
 * Add the text options (and `--tokens` unless `tokens` is false; a string is its help) to `cmd`.
 * `sources` limits which text options are offered (default all).
 */
export function textInputOptions(cmd: Command, o: { tokens?: string | false; sources?: Exclude<TextInputSource, 'tokens'>[] } = {}): Command {
  const sources = new Set(o.sources ?? ['text', 'text-file', 'prompt']);
  if (o.tokens !== false) cmd.option('--tokens <ids>', o.tokens ?? 'token ids: a JSON file ([...] or {"input_ids": [...]}) or a comma list "1,2,3"');
  if (sources.has('text')) cmd.option('--text <text>', 'text to tokenize as it is (needs the checkpoint\'s tokenizer.json)');
  if (sources.has('text-file')) cmd.option('--text-file <file>', 'a UTF-8 text file to tokenize');
  if (sources.has('prompt')) {
    cmd
      .option('--prompt <text>', 'a user message: the chat template is applied and the assistant\'s turn opened')
      .option('--system <text>', 'with --prompt: a system message before it')
      .option('--no-chat-template', 'with --prompt: tokenize the prompt as it is, without the chat template');
  }
  return cmd;
}

/**
 * Resolve the input options of a command for the checkpoint at `dir` (undefined when none is given).
 * @example const input = await textInput(ctx, dir, o, { vocabSize: ckpt.config.vocabSize });
 */
export async function textInput(ctx: CommandContext, dir: string, o: TextInputArgOptions, opts: TextInputOptions): Promise<TextInput | undefined> {
  const input = await resolveTextInput(dir, o, opts);
  if (input?.tokenizer) ctx.reporter.debug(`${input.tokenizer.file}: ${input.source} → ${count(input.sequences[0]!.length, 'token')}`);
  return input;
}
