/**
 * Registry of commands: one file per command, each exporting `register(program)`. Command modules are
 * imported lazily — only the one being run is loaded (faster start, and one command's heavy
 * dependencies never affect another); the others are listed by name and summary for `--help`.
 */
import type { Command } from 'commander';

export interface CommandEntry {
  name: string;
  summary: string;
  load: () => Promise<{ register: (program: Command) => void }>;
}

export const commands: CommandEntry[] = [
  { name: 'download', summary: 'resumable, sha256-verified, parallel download into the Hugging Face cache', load: () => import('./download.js') },
  { name: 'inspect', summary: 'headers-only view: parameters, dtypes, completeness, memory plan per GPU', load: () => import('./inspect.js') },
  { name: 'fixture', summary: 'generate a deterministic MiniMax-M1-shaped checkpoint with random weights', load: () => import('./fixture.js') },
  { name: 'convert', summary: 're-shard (size, TP/EP ranks, stacked/fused experts), cast dtype, or export GGUF', load: () => import('./convert.js') },
  { name: 'quantize', summary: 'block FP8, INT8 per channel, INT4 group-128, NVFP4, MXFP4, MXFP8 in the layouts engines read', load: () => import('./quantize.js') },
  { name: 'dequantize', summary: 'restore a BF16 checkpoint from one quantized by m1kit', load: () => import('./dequantize.js') },
  { name: 'forward', summary: 'CPU reference forward pass: logits of every token', load: () => import('./forward.js') },
  { name: 'generate', summary: 'sample text on the reference runtime, streamed, with the M1 early-truncation guard', load: () => import('./generate.js') },
  { name: 'verify', summary: 'train-vs-inference agreement, or checkpoint / llama.cpp vs a reference (KLD)', load: () => import('./verify.js') },
  { name: 'imatrix', summary: 'importance matrix over a calibration corpus, in llama.cpp\'s GGUF imatrix format', load: () => import('./imatrix.js') },
  { name: 'bench', summary: 'what 1M-token context costs (modelled vs peers) and how fast the kernels run (measured)', load: () => import('./bench.js') },
  { name: 'doctor', summary: 'native addon, SIMD path, threads, CUDA devices, kernel self-test', load: () => import('./doctor.js') },
];

/** Global options that take a value (so the token after them is not a command name). */
const VALUE_OPTIONS = new Set(['--threads']);

/** The command name an argv (as given to main) selects, if any; `help <cmd>` selects <cmd>. */
export function selectedCommand(argv: string[]): string | undefined {
  const args = argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (VALUE_OPTIONS.has(a)) {
      i++;
      continue;
    }
    if (a.startsWith('-')) continue;
    return a === 'help' ? args[i + 1] : a;
  }
  return undefined;
}
