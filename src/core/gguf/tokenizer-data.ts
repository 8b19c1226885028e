/**
 * Pre-tokenizer split patterns (as written in a tokenizer.json `Split` pre-tokenizer) that llama.cpp
 * knows under a `tokenizer.ggml.pre` name. Data only; an unknown pattern falls back to "default".
 * MiniMax-M1's own pattern is llama.cpp's `minimax-m2` pre-type (LLAMA_VOCAB_PRE_TYPE_MINIMAX_M2).
 */
import { M1_SPLIT_PATTERN } from '../text/m1-tokenizer.js';

export const KNOWN_PRE_PATTERNS: readonly { pre: string; pattern: string }[] = [
  {
    pre: 'gpt-2',
    pattern: "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)",
  },
  {
    pre: 'llama-bpe',
    pattern: "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  },
  {
    pre: 'qwen2',
    pattern: "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  },
  { pre: 'minimax-m2', pattern: M1_SPLIT_PATTERN },
];
