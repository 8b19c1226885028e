/**
 * Vega-Lite spec of the Figure-3 scatter: x = inference probability, y = training probability, colour
 * = |Δp| on a 0–0.5 scale, one panel per LM-head precision with its Pearson r in the title.
 */
import type { TrainVsInferResult } from './train-vs-infer.js';

/** Most points drawn per panel (evenly thinned beyond this to keep the SVG small). */
export const MAX_PLOT_POINTS = 20_000;

export function trainVsInferPlotSpec(r: TrainVsInferResult): object {
  const values: { head: string; pInfer: number; pTrain: number; absDelta: number }[] = [];
  for (const run of r.runs) {
    const n = run.pInfer.length;
    const step = Math.max(1, Math.ceil(n / MAX_PLOT_POINTS));
    const head = `LM head ${run.lmHead}: r = ${run.agreement.pearson.toFixed(6)}`;
    for (let i = 0; i < n; i += step) {
      const a = run.pInfer[i]!;
      const b = run.pTrain[i]!;
      values.push({ head, pInfer: a, pTrain: b, absDelta: Math.abs(a - b) });
    }
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: 'Training vs inference probability of sampled tokens',
      subtitle: `${r.sequences} sequences × ${r.genLen} generated tokens after a ${r.promptLen}-token prompt · ${r.precision} body · logit scale ${r.logitScale}`,
    },
    data: { values },
    facet: { column: { field: 'head', type: 'nominal', title: null } },
    spec: {
      width: 320,
      height: 320,
      mark: { type: 'circle', size: 10, opacity: 0.7 },
      encoding: {
        x: { field: 'pInfer', type: 'quantitative', title: 'inference probability', scale: { domain: [0, 1] } },
        y: { field: 'pTrain', type: 'quantitative', title: 'training probability', scale: { domain: [0, 1] } },
        color: { field: 'absDelta', type: 'quantitative', title: '|Δp|', scale: { domain: [0, 0.5], scheme: 'turbo', clamp: true } },
        // large |Δp| drawn last, so outliers are not hidden under the diagonal
        order: { field: 'absDelta', type: 'quantitative', sort: 'ascending' },
      },
    },
  };
}
