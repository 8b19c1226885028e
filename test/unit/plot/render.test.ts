/** The generic Vega-Lite renderer (SVG and PNG) and the FLOPs chart spec. */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { M1kitError } from '../../../src/core/errors.js';
import { parseConfig } from '../../../src/core/checkpoint/config.js';
import { M1_CONFIG } from '../../../src/core/checkpoint/presets.js';
import { crossoverMarks, decadeTicks, generationChartSpec, xTicks } from '../../../src/core/flops/chart.js';
import { minimaxArch } from '../../../src/core/arch/minimax-m1/flops.js';
import { DEEPSEEK_R1, QWEN3_235B } from '../../../src/core/flops/peers.js';
import { plotFormatOf, renderVegaLite } from '../../../src/core/plot/render.js';
import { tmpDir } from '../../helpers/tmp.js';

const scatter = {
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  title: 'probe scatter',
  width: 200,
  height: 100,
  data: { values: [{ x: 0.1, y: 0.2 }, { x: 0.9, y: 0.85 }] },
  mark: 'point',
  encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
};

describe('renderVegaLite', () => {
  it('writes an SVG with the title and no leftover .incomplete file', async () => {
    const dir = await tmpDir();
    const out = join(dir, 'a.svg');
    const r = await renderVegaLite(scatter, out);
    expect(r).toMatchObject({ format: 'svg', width: 200, height: 100 });
    const svg = await readFile(out, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('probe scatter');
    expect(await readdir(dir)).toEqual(['a.svg']);
  });

  it('writes a PNG at the requested scale (IHDR larger than 2× the plot area)', async () => {
    const dir = await tmpDir();
    const out = join(dir, 'a.png');
    const r = await renderVegaLite(scatter, out, { scale: 2 });
    const png = await readFile(out);
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    // The rendered SVG includes axes and title around the plot area, so the image is larger than width × height.
    const w = png.readUInt32BE(16);
    const h = png.readUInt32BE(20);
    expect(w % 2).toBe(0);
    expect(w).toBeGreaterThan(2 * r.width);
    expect(h).toBeGreaterThan(2 * r.height);
  });

  it('rejects other extensions with a usage error', () => {
    expect(plotFormatOf('x.SVG')).toBe('svg');
    expect(() => plotFormatOf('x.jpg')).toThrow(M1kitError);
  });
});

describe('FLOPs chart', () => {
  it('one line per model, y in 1e16 FLOPs, labelled as modelled', async () => {
    const m1 = minimaxArch(parseConfig(M1_CONFIG));
    const spec = generationChartSpec([m1, DEEPSEEK_R1, QWEN3_235B], 'paper', 131072) as any;
    const values = spec.layer[0].data.values;
    const models = new Set(values.map((v: any) => v.model));
    expect([...models]).toEqual(['MiniMax-M1', 'DeepSeek-R1', 'Qwen3-235B-A22B']);
    const last = values.filter((v: any) => v.model === 'MiniMax-M1').at(-1);
    // Figure-1 curve at 128K: 104,530,968,576·n + 196,608·n² (docs/architecture.md §5.4), in units of 1e16.
    const n = 131072;
    expect(last.ktokens).toBe(128);
    expect(Math.abs(last.flops1e16 - (104_530_968_576 * n + 196_608 * n * n) / 1e16)).toBeLessThan(1e-12);
    expect(spec.title.text).toMatch(/modelled/);
    const svg = await import('../../../src/core/plot/render.js').then((r) => r.vegaLiteToSvg(spec));
    expect(svg.svg).toContain('DeepSeek-R1');
  });

  it('the x axis spans exactly the requested range with power-of-two ticks; y ticks are decades on a log axis', () => {
    const m1 = minimaxArch(parseConfig(M1_CONFIG));
    const lin = generationChartSpec([m1, DEEPSEEK_R1], 'paper', 131072) as any;
    const x = lin.layer[0].encoding.x;
    expect(x.scale.domain).toEqual([0, 128]);
    expect(x.axis.values).toEqual([0, 16, 32, 48, 64, 80, 96, 112, 128]);
    expect(lin.layer[0].encoding.y.scale.type).toBeUndefined();
    const log = generationChartSpec([m1, DEEPSEEK_R1], 'physical', 1_048_576) as any;
    expect(log.layer[0].encoding.x.axis.values).toEqual([0, 128, 256, 384, 512, 640, 768, 896, 1024]);
    const y = log.layer[0].encoding.y;
    expect(y.scale.type).toBe('log');
    for (const t of y.axis.values) expect(Math.log10(t)).toBeCloseTo(Math.round(Math.log10(t)), 12);
    expect(xTicks(100)).toEqual([0, 16, 32, 48, 64, 80, 96]);
    expect(decadeTicks(0.05, 230)).toEqual([0.01, 0.1, 1, 10, 100, 1000]);
  });

  it('crossover markers where the curves cross, from the quadratic coefficients (docs/architecture.md §5.4)', () => {
    const m1 = minimaxArch(parseConfig(M1_CONFIG));
    const marks = crossoverMarks([m1, DEEPSEEK_R1], 'paper', 131072);
    // Figure-1 curves: M1 = 104,530,968,576·n + 196,608·n², R1 = 75,414,503,424·n + 3,497,984·n² (as above).
    // M1 < r·R1 beyond n = (a_M1 − r·a_R1) / (r·b_R1 − b_M1).
    const at = (r: number) => (104_530_968_576 - r * 75_414_503_424) / (r * 3_497_984 - 196_608);
    expect(marks.map((m) => m.ratio)).toEqual([1, 0.5, 0.25]);
    for (const m of marks) expect(Math.abs(m.ktokens * 1024 - at(m.ratio)) / at(m.ratio)).toBeLessThan(1e-9);
    // beyond the plotted range: not drawn
    expect(crossoverMarks([m1, DEEPSEEK_R1], 'paper', 16384).map((m) => m.ratio)).toEqual([1]);
    const spec = generationChartSpec([m1, DEEPSEEK_R1], 'paper', 131072) as any;
    expect(spec.layer[1].mark.type).toBe('rule');
    expect(spec.layer[1].data.values).toHaveLength(3);
  });
});
