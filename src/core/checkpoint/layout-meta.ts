/**
 * Untrusted `m1kit-layout.json` (per-rank / stacked-expert layouts): the fields the readers size things
 * from are type- and range-checked before use.
 */
import { InputError } from '../errors.js';
import { CONFIG_CAPS } from '../limits.js';

/** Most ranks of a layout (tp × ep; a real deployment of M1 uses ≤ 64). */
export const MAX_LAYOUT_RANKS = 4096;

/** The object itself when `world`, `tp`, `ep` and `ranks` are sane, else an InputError naming the file. */
export function checkLayoutMeta(raw: unknown, file: string): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new InputError('E_LAYOUT', `${file}: expected a JSON object`);
  const r = raw as Record<string, unknown>;
  const int = (k: string, max: number) => {
    const v = r[k];
    if (v === undefined) return;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) throw new InputError('E_LAYOUT', `${file}: "${k}" must be an integer in [1, ${max}], got ${JSON.stringify(v).slice(0, 40)}`);
  };
  int('tp', CONFIG_CAPS.num_attention_heads);
  int('ep', CONFIG_CAPS.num_local_experts);
  int('world', MAX_LAYOUT_RANKS);
  const ranks = r.ranks;
  if (ranks !== undefined && !(Array.isArray(ranks) && ranks.length <= MAX_LAYOUT_RANKS && ranks.every((d) => typeof d === 'string' && d.length > 0 && !d.includes('/') && !d.includes('\\') && d !== '.' && d !== '..' && !d.includes('\0')))) {
    throw new InputError('E_LAYOUT', `${file}: "ranks" must list at most ${MAX_LAYOUT_RANKS} plain directory names`);
  }
  return r;
}
