/**
 * A checkpoint's config.json, read by the model family its `architectures` names (arch/registry.ts).
 * Pure: no I/O.
 */
import { familyOfConfig } from '../arch/registry.js';
import type { M1Config } from '../arch/minimax-m1/config.js';

export type { AttnType, M1Config } from '../arch/minimax-m1/config.js';
export { lightningLayers, softmaxLayers } from '../arch/minimax-m1/config.js';

/**
 * Parse and validate a config object with its family's reader (MiniMax-M1's when `architectures` names no
 * known family, so that the architecture check can report it).
 * @example parseConfig(JSON.parse(fs.readFileSync('config.json', 'utf8')), 'config.json')
 */
export function parseConfig(raw: unknown, file = 'config.json'): M1Config {
  return familyOfConfig(raw).config.parse(raw, file);
}
