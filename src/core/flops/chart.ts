/**
 * Vega-Lite spec of "FLOPs vs generation length" (like the tech report's Figure 1, right): one line per
 * model, x in K tokens (K = 1024), y in units of 1e16 FLOPs (log scale when the sweep goes past 128K).
 * Figures are modelled, and the title says so.
 */
import type { ArchSpec } from './arch.js';
import { evalCurve } from './model.js';
import { generationCurveOf, type Convention } from './report.js';

/** Points per curve: enough for smooth quadratics. */
const POINTS = 64;
/** Up to this length the y axis is linear, as in the paper's figure (0–128K). */
const LINEAR_AXIS_MAX = 131072;

export function generationChartSpec(models: ArchSpec[], convention: Convention, maxTokens: number): object {
  const values: { model: string; ktokens: number; flops1e16: number }[] = [];
  for (const m of models) {
    const c = generationCurveOf(m, convention);
    for (let i = 1; i <= POINTS; i++) {
      const n = Math.round((maxTokens * i) / POINTS);
      values.push({ model: m.name, ktokens: n / 1024, flops1e16: evalCurve(c, n) / 1e16 });
    }
  }
  const log = maxTokens > LINEAR_AXIS_MAX;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: 'FLOPs vs generation length (modelled)',
      subtitle: `${convention === 'paper' ? "tech report's Figure-1 convention" : 'physical convention (1 MAC = 2 FLOPs)'}; cumulative generation from an empty prompt`,
    },
    width: 520,
    height: 340,
    data: { values },
    mark: { type: 'line', strokeWidth: 2 },
    encoding: {
      x: { field: 'ktokens', type: 'quantitative', title: 'generation length (K tokens, K = 1024)' },
      y: { field: 'flops1e16', type: 'quantitative', title: 'FLOPs (1e16)', scale: log ? { type: 'log' } : { zero: true } },
      color: { field: 'model', type: 'nominal', title: null, sort: models.map((m) => m.name) },
    },
  };
}
