import { describe, expect, it } from 'vitest';
import { MAX_PLOT_POINTS, POINT_OPACITY, trainVsInferPlotSpec } from '../../../src/core/verify/plot-spec.js';
import { vegaLiteToSvg } from '../../../src/core/plot/render.js';
import { importanceStats } from '../../../src/core/verify/importance.js';
import { probabilityAgreement } from '../../../src/core/verify/metrics.js';
import type { TrainVsInferResult } from '../../../src/core/verify/train-vs-infer.js';

function fakeResult(n: number): TrainVsInferResult {
  const pI = Float64Array.from({ length: n }, (_, i) => (i + 0.5) / n);
  const pT = pI.map((p, i) => Math.min(1, p * (i % 7 === 0 ? 1.3 : 1.01)));
  const run = (lmHead: 'bf16' | 'fp32') => ({
    lmHead, agreement: probabilityAgreement(pI, pT), importance: importanceStats(pI, pT), stoppedEarly: 0,
    maxAbsLogit: 30, meanRowMaxAbsLogit: 25, pInfer: pI, pTrain: pT, sequences: [],
  });
  return { promptLen: 4, genLen: n, sequences: 1, seed: 0, precision: 'bf16', logitScale: 40, logitScaleAuto: false, earlyTruncation: { minProb: 0.99, window: 3000 }, runs: [run('bf16'), run('fp32')], warnings: [] };
}

type Layer = { data: { values: Record<string, number>[] }; mark: { type: string; opacity?: number } };
const panels = (spec: any): { scatter: { layer: Layer[] }; histogram: { layer: Layer[] } }[] => spec.hconcat.map((c: any) => ({ scatter: c.vconcat[0], histogram: c.vconcat[1] }));

describe('Figure-3 plot spec', () => {
  it('each scatter panel carries the y = x line and translucent points, thinned to the point cap', () => {
    const spec = trainVsInferPlotSpec(fakeResult(2 * MAX_PLOT_POINTS + 10));
    const ps = panels(spec);
    expect(ps.length).toBe(2);
    for (const { scatter } of ps) {
      const line = scatter.layer.find((l) => l.mark.type === 'line')!;
      expect(line.data.values).toEqual([{ x: 0, y: 0 }, { x: 1, y: 1 }]);
      const pts = scatter.layer.find((l) => l.mark.type === 'circle')!;
      expect(pts.mark.opacity).toBe(POINT_OPACITY);
      expect(POINT_OPACITY).toBeLessThanOrEqual(0.5);
      expect(pts.data.values.length).toBeLessThanOrEqual(MAX_PLOT_POINTS);
      expect(pts.data.values.length).toBeGreaterThan(MAX_PLOT_POINTS / 2);
    }
  });

  it('the histogram counts every token and marks the clip band', () => {
    const r = fakeResult(700);
    for (const { histogram } of panels(trainVsInferPlotSpec(r))) {
      const bars = histogram.layer.find((l) => l.mark.type === 'rect')!;
      expect(bars.data.values.reduce((s, b) => s + b.count!, 0)).toBe(700);
      const rules = histogram.layer.find((l) => l.mark.type === 'rule')!;
      expect(rules.data.values.map((m) => m.at)).toEqual([Math.log10(0.8), Math.log10(1.2)]);
    }
  });

  it('renders to SVG', async () => {
    const { svg } = await vegaLiteToSvg(trainVsInferPlotSpec(fakeResult(300)));
    expect(svg).toContain('<svg');
    expect(svg).toContain('LM head bf16: r = ');
  });
});
