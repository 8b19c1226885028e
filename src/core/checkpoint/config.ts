/** A checkpoint's config.json (the MiniMax-M1 family's reader, arch/minimax-m1/config.ts). Pure: no I/O. */
export type { AttnType, M1Config } from '../arch/minimax-m1/config.js';
export { lightningLayers, parseConfig, softmaxLayers } from '../arch/minimax-m1/config.js';
