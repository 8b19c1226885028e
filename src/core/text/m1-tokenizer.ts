/**
 * Facts about MiniMax-M1's tokenizer that m1kit relies on (data only): the pre-tokenizer split pattern of
 * its tokenizer.json, the special tokens its chat format uses, and GPT-2's byte → symbol table that every
 * byte-level BPE (M1's included) spells its vocabulary with. Sources: docs/gguf.md (Tokenizer).
 */

/**
 * The regex of the `Split` pre-tokenizer in M1's tokenizer.json (the string as JSON holds it): letters
 * split at case changes with an optional English contraction suffix, digits in runs of up to three,
 * punctuation runs, line breaks, and spaces. llama.cpp knows this pattern as the `minimax-m2` pre-type.
 */
export const M1_SPLIT_PATTERN =
  "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/** Special tokens of M1's chat format: the document start, and the start and end of each turn (the end is the EOS). */
export const M1_SPECIAL_TOKENS = {
  beginOfDocument: '<begin_of_document>',
  beginTurn: '<beginning_of_sentence>',
  endTurn: '<end_of_sentence>',
} as const;

/**
 * GPT-2's byte → printable-character table: bytes that are printable Latin-1 map to themselves,
 * the other 68 bytes map, in increasing byte order, to U+0100, U+0101, ….
 */
export function gpt2ByteSymbols(): string[] {
  const printable = (b: number): boolean => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const out: string[] = [];
  let next = 0;
  for (let b = 0; b < 256; b++) out.push(String.fromCodePoint(printable(b) ? b : 256 + next++));
  return out;
}
