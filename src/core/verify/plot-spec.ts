/**
 * Vega-Lite spec of the Figure-3 chart. Top row, one panel per LM-head precision with its Pearson r in
 * the title: x = inference probability, y = training probability, colour = |Δp| on a 0–0.5 scale, the
 * y = x line of perfect agreement, translucent points so that dense regions read darker. Bottom row:
 * histogram of the importance ratio r = p_train / p_infer (log10 axis) with the PPO/GRPO clip band
 * [1−ε, 1+ε] and CISPO's cap 1 + ε_high marked.
 */
import { ratioHistogram } from './importance.js';
import type { TrainVsInferResult } from './train-vs-infer.js';

/** Most points drawn per panel (evenly thinned beyond this to keep the SVG small). */
export const MAX_PLOT_POINTS = 20_000;
/** Point opacity: 20k overlapping points on a 320-px panel still show where most of them lie. */
export const POINT_OPACITY = 0.3;
/**
 * Histogram range r ∈ [10^−span, 10^span], the same for every panel: wide enough for every ratio and
 * twice the clip band, at most one decade (beyond it values are counted in the outer bins).
 */
const MAX_HIST_SPAN = 1;
const HIST_BINS = 120;
const PANEL = 320;

export function trainVsInferPlotSpec(r: TrainVsInferResult): object {
  const columns: object[] = [];
  const widest = Math.max(...r.runs.flatMap((x) => [Math.abs(Math.log10(x.importance.ratio.min)), Math.abs(Math.log10(x.importance.ratio.max))]).filter(Number.isFinite), 0);
  const band = Math.max(...r.runs.map((x) => 2 * Math.log10(1 + x.importance.clipEps)));
  const HIST_SPAN = Math.min(MAX_HIST_SPAN, Math.ceil(20 * Math.max(band, 1.05 * widest)) / 20);
  for (const run of r.runs) {
    const n = run.pInfer.length;
    const step = Math.max(1, Math.ceil(n / MAX_PLOT_POINTS));
    const points: { pInfer: number; pTrain: number; absDelta: number }[] = [];
    for (let i = 0; i < n; i += step) {
      const a = run.pInfer[i]!;
      const b = run.pTrain[i]!;
      points.push({ pInfer: a, pTrain: b, absDelta: Math.abs(a - b) });
    }
    const shown = step > 1 ? ` (${points.length} of ${n} tokens shown)` : '';
    const scatter = {
      title: `LM head ${run.lmHead}: r = ${run.agreement.pearson.toFixed(6)}${shown}`,
      width: PANEL,
      height: PANEL,
      layer: [
        {
          data: { values: points },
          mark: { type: 'circle', size: 8, opacity: POINT_OPACITY, strokeWidth: 0 },
          encoding: {
            x: { field: 'pInfer', type: 'quantitative', title: 'inference probability', scale: { domain: [0, 1] } },
            y: { field: 'pTrain', type: 'quantitative', title: 'training probability', scale: { domain: [0, 1] } },
            color: { field: 'absDelta', type: 'quantitative', title: '|Δp|', scale: { domain: [0, 0.5], scheme: 'turbo', clamp: true } },
            // large |Δp| drawn last, so outliers are not hidden under the diagonal
            order: { field: 'absDelta', type: 'quantitative', sort: 'ascending' },
          },
        },
        {
          // y = x on top: points off the line are the mismatch
          data: { values: [{ x: 0, y: 0 }, { x: 1, y: 1 }] },
          mark: { type: 'line', color: '#e45756', strokeDash: [5, 3], strokeWidth: 1.2, opacity: 0.9 },
          encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
        },
      ],
    };
    const im = run.importance;
    const h = ratioHistogram(run.pInfer, run.pTrain, HIST_BINS, HIST_SPAN);
    const bars = h.counts.map((count, i) => ({ lo: h.edges[i]!, hi: h.edges[i + 1]!, count })).filter((b) => b.count > 0);
    const marks = [
      { at: Math.log10(1 - im.clipEps), label: `1−ε`, side: 'left' },
      { at: Math.log10(1 + im.clipEps), label: `1+ε`, side: 'right' },
      { at: Math.log10(1 + im.cispoEpsHigh), label: `CISPO cap`, side: 'right' },
    ].filter((m) => Math.abs(m.at) <= HIST_SPAN);
    const label = (side: 'left' | 'right') => ({
      data: { values: marks.filter((m) => m.side === side) },
      mark: { type: 'text', color: '#d62728', align: side === 'left' ? 'right' : 'left', dx: side === 'left' ? -3 : 3, baseline: 'top', fontSize: 10 },
      encoding: { x: { field: 'at', type: 'quantitative' }, y: { value: 2 }, text: { field: 'label' } },
    });
    const histogram = {
      title: { text: `r = p_train / p_infer: ${(100 * im.all.clipped).toFixed(2)} % outside 1 ± ${im.clipEps}`, subtitle: `${(100 * im.all.cispoCapped).toFixed(2)} % over the CISPO cap 1 + ${im.cispoEpsHigh}` },
      width: PANEL,
      height: 160,
      layer: [
        {
          data: { values: bars },
          mark: { type: 'rect', color: '#4c78a8' },
          encoding: {
            x: { field: 'lo', type: 'quantitative', title: HIST_SPAN < MAX_HIST_SPAN ? 'log10 r' : `log10 r (outer bins hold |log10 r| ≥ ${HIST_SPAN})`, scale: { domain: [-HIST_SPAN, HIST_SPAN] } },
            x2: { field: 'hi' },
            y: { field: 'count', type: 'quantitative', title: 'tokens', scale: { type: 'symlog' } },
            y2: { datum: 0 },
          },
        },
        {
          data: { values: marks },
          mark: { type: 'rule', color: '#d62728', strokeDash: [3, 2] },
          encoding: { x: { field: 'at', type: 'quantitative' } },
        },
        label('left'),
        label('right'),
      ],
    };
    columns.push({ vconcat: [scatter, histogram] });
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: 'Training vs inference probability of sampled tokens',
      subtitle: `${r.sequences} sequences × ${r.genLen} generated tokens after a ${r.promptLen}-token prompt · ${r.precision} body · logit scale ${r.logitScale} · dashed: y = x`,
    },
    hconcat: columns,
    resolve: { scale: { color: 'shared' } },
  };
}
