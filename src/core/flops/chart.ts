/**
 * Vega-Lite spec of "FLOPs vs generation length" (like the tech report's Figure 1, right): one line per
 * model over [0, maxTokens], x in K tokens (K = 1024) with ticks on powers of two, y in units of 1e16
 * FLOPs (linear up to 128K as in the paper, log with decade ticks beyond), and a dashed marker where the
 * subject drops below 1×, ½×, ¼× of each peer. Figures are modelled, and the title says so.
 */
import type { ArchSpec } from '../arch/spec.js';
import { crossover, evalCurve } from './model.js';
import { CROSSOVER_RATIOS, generationCurveOf, type Convention } from './report.js';

/** Points per curve: enough for smooth quadratics. */
const POINTS = 128;
/** Up to this length the y axis is linear, as in the paper's figure (0–128K). */
const LINEAR_AXIS_MAX = 131072;
/** Most x ticks: enough to read a value off, few enough to stay legible at 520 px. */
const MAX_X_TICKS = 9;

export interface CrossoverMark {
  peer: string;
  ratio: number;
  ktokens: number;
  label: string;
  /** Pixels from the top of the plot where the label starts (staggered so that close labels do not overlap). */
  labelY?: number;
}

/** Plot size in pixels. */
const WIDTH = 560;
const HEIGHT = 360;
/** Labels closer than this (pixels) go one row further down; each row is one label long. */
const LABEL_GAP_PX = 16;
const LABEL_ROW_PX = 120;

/** x ticks in K tokens: 0, s, 2s, … with s a power of two, at most MAX_X_TICKS of them, covering max. */
export function xTicks(maxK: number): number[] {
  let step = 1;
  while (maxK / step > MAX_X_TICKS - 1) step *= 2;
  const out: number[] = [];
  for (let x = 0; x <= maxK + 1e-9; x += step) out.push(x);
  return out;
}

/** Decade ticks covering [lo, hi] (both > 0): 0.1, 1, 10, … */
export function decadeTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) out.push(Number(`1e${e}`));
  return out;
}

/** Where the subject (first model) drops below each ratio of each peer, within (0, maxTokens]. */
export function crossoverMarks(models: ArchSpec[], convention: Convention, maxTokens: number): CrossoverMark[] {
  const [subject, ...peers] = models;
  if (!subject) return [];
  const cs = generationCurveOf(subject, convention);
  const marks: CrossoverMark[] = [];
  for (const p of peers) {
    const cp = generationCurveOf(p, convention);
    for (const r of CROSSOVER_RATIOS) {
      const n = crossover(cs, cp, r);
      if (n === null || n <= 0 || n > maxTokens) continue;
      marks.push({ peer: p.name, ratio: r, ktokens: n / 1024, label: `${r}× ${p.name.split('-')[0]} @ ${(n / 1024).toFixed(n < 10 * 1024 ? 1 : 0)}K` });
    }
  }
  return marks;
}

export function generationChartSpec(models: ArchSpec[], convention: Convention, maxTokens: number): object {
  const log = maxTokens > LINEAR_AXIS_MAX;
  const values: { model: string; ktokens: number; flops1e16: number }[] = [];
  for (const m of models) {
    const c = generationCurveOf(m, convention);
    // a log axis cannot show 0: start one step in
    for (let i = log ? 1 : 0; i <= POINTS; i++) {
      const n = (maxTokens * i) / POINTS;
      values.push({ model: m.name, ktokens: n / 1024, flops1e16: evalCurve(c, n) / 1e16 });
    }
  }
  const maxK = maxTokens / 1024;
  const ys = values.map((v) => v.flops1e16).filter((y) => y > 0);
  const yScale = log ? { type: 'log', domain: [Math.min(...decadeTicks(Math.min(...ys), Math.max(...ys))), Math.max(...decadeTicks(Math.min(...ys), Math.max(...ys)))] } : { zero: true, nice: true };
  const yAxis = log ? { values: decadeTicks(Math.min(...ys), Math.max(...ys)), format: '~g' } : { format: '~g', tickCount: 8 };
  const marks = crossoverMarks(models, convention, maxTokens).sort((a, b) => a.ktokens - b.ktokens);
  let prevX = -Infinity;
  let row = 0;
  for (const m of marks) {
    const x = (m.ktokens / maxK) * WIDTH;
    row = x - prevX < LABEL_GAP_PX ? (row + 1) % Math.max(1, Math.floor(HEIGHT / LABEL_ROW_PX)) : 0;
    m.labelY = row * LABEL_ROW_PX;
    prevX = x;
  }
  const names = models.map((m) => m.name);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: 'FLOPs vs generation length (modelled)',
      subtitle: [
        `${convention === 'paper' ? "tech report's Figure-1 convention" : 'physical convention (1 MAC = 2 FLOPs)'}; cumulative generation from an empty prompt`,
        ...(marks.length > 0 ? [`dashed: length beyond which ${names[0]} needs less than r× a peer's FLOPs`] : []),
      ],
    },
    width: WIDTH,
    height: HEIGHT,
    layer: [
      {
        data: { values },
        mark: { type: 'line', strokeWidth: 2 },
        encoding: {
          x: { field: 'ktokens', type: 'quantitative', title: 'generation length (K tokens, K = 1024)', scale: { domain: [0, maxK], nice: false }, axis: { values: xTicks(maxK), format: ',d' } },
          y: { field: 'flops1e16', type: 'quantitative', title: 'FLOPs (1e16)', scale: yScale, axis: yAxis },
          color: { field: 'model', type: 'nominal', title: null, sort: names },
        },
      },
      ...(marks.length > 0
        ? [
            {
              data: { values: marks },
              mark: { type: 'rule', strokeDash: [4, 3], color: '#888', strokeWidth: 1 },
              encoding: { x: { field: 'ktokens', type: 'quantitative' } },
            },
            {
              data: { values: marks },
              mark: { type: 'text', angle: 270, align: 'right', baseline: 'bottom', dx: -4, dy: -2, fontSize: 9, color: '#555' },
              encoding: { x: { field: 'ktokens', type: 'quantitative' }, y: { field: 'labelY', type: 'quantitative', scale: null }, text: { field: 'label' } },
            },
          ]
        : []),
    ],
  };
}
