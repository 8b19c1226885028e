/** Small statistics for repeated measurements: median and relative spread. */
import type { Figure, FigureKind, Spread } from './schema.js';

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function spread(xs: readonly number[]): Spread {
  const m = median(xs);
  const min = Math.min(...xs);
  const max = Math.max(...xs);
  return { min, max, rel: m === 0 ? 0 : (max - min) / Math.abs(m) };
}

/** A figure from one or more samples: value = median; samples and spread kept when there are several. */
export function sampledFigure(samples: readonly number[], unit: string, kind: FigureKind, extra: Partial<Figure> = {}): Figure {
  const f: Figure = { value: median(samples), unit, kind, ...extra };
  if (samples.length > 1) {
    f.samples = [...samples];
    f.spread = spread(samples);
  }
  return f;
}
