/** Figures of the kernels' CPU share per repeat (see cpu-meter.ts), one `kernel.<name>.cpu_share` each. */
import type { MeteredKernel } from './cpu-meter.js';
import type { Figure } from './schema.js';
import { sampledFigure } from './stats.js';

export const CPU_SHARE_NOTE = 'process CPU time ÷ (wall time × threads) during the timed calls; below 1 when other processes took CPU time';

export function cpuShareFigures(perRepeat: Partial<Record<MeteredKernel, number>>[]): Record<string, Figure> {
  const out: Record<string, Figure> = {};
  const kernels = new Set(perRepeat.flatMap((s) => Object.keys(s) as MeteredKernel[]));
  for (const k of kernels) {
    const xs = perRepeat.map((s) => s[k]);
    if (xs.some((x) => x === undefined)) continue;
    out[`kernel.${k}.cpu_share`] = sampledFigure(xs as number[], 'ratio', 'measured', { note: CPU_SHARE_NOTE });
  }
  return out;
}
