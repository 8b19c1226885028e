/**
 * The model families m1kit knows, selected by config.json's `architectures`. A second family is one
 * folder beside minimax-m1/ plus its line here. Pure: no I/O.
 */
import type { ModelFamily } from './family.js';

export type { ModelFamily };
import { minimaxM1 } from './minimax-m1/index.js';

export const FAMILIES: readonly ModelFamily[] = [minimaxM1];

/** The family one of whose architectures `architectures` names, or undefined. */
export function familyOf(architectures: readonly string[]): ModelFamily | undefined {
  return FAMILIES.find((f) => architectures.some((a) => f.architectures.includes(a)));
}

/** The family of a raw config object; MiniMax-M1's when it names none (so the architecture check can report it). */
export function familyOfConfig(raw: unknown): ModelFamily {
  const archs = typeof raw === 'object' && raw !== null ? (raw as { architectures?: unknown }).architectures : undefined;
  return (Array.isArray(archs) ? familyOf(archs.filter((a): a is string => typeof a === 'string')) : undefined) ?? minimaxM1;
}
