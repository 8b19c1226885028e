/**
 * The MiniMax-M1 family (MiniMax-M1 40k/80k, MiniMax-Text-01) described as data: what every part of
 * m1kit needs to know about the model, each in its own module of this folder.
 */
import type { ModelFamily } from '../family.js';
import { parseConfig } from './config.js';
import { ARCHITECTURES } from './config-keys.js';
import { minimaxArch } from './flops.js';
import { GGUF_ARCH, GGUF_HEAD_NAMES, GGUF_LAYER_NAMES, GGUF_TAIL_NAMES } from './gguf.js';
import { expectedTensors } from './tensors.js';

export const minimaxM1: ModelFamily = {
  id: 'minimax-m1',
  architectures: ARCHITECTURES,
  config: { parse: parseConfig },
  tensors: { expected: expectedTensors },
  gguf: { arch: GGUF_ARCH, head: GGUF_HEAD_NAMES, layer: GGUF_LAYER_NAMES, tail: GGUF_TAIL_NAMES },
  flops: minimaxArch,
};
