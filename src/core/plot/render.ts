/**
 * Generic chart renderer: a Vega-Lite spec → .svg (vega + vega-lite) or .png (the SVG rasterised by
 * @resvg/resvg-js). No browser, no canvas. The file is written as `<out>.incomplete` and renamed, so a
 * failed render never leaves a file that looks complete.
 *
 * @example
 * await renderVegaLite({
 *   $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
 *   data: { values: [{ x: 1, y: 2 }, { x: 2, y: 3 }] },
 *   mark: 'point',
 *   encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
 * }, 'scatter.png');
 */
import { rename, unlink, writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { UsageError } from '../errors.js';
import { writeError } from '../fs/write-errors.js';

export type PlotFormat = 'svg' | 'png';

export interface RenderOptions {
  /** PNG only: pixel scale factor relative to the SVG size (default 2, for crisp text). */
  scale?: number;
  /** Background colour painted under the chart (default white; vega-lite's `background` wins if set). */
  background?: string;
}

export interface RenderResult {
  path: string;
  format: PlotFormat;
  bytes: number;
  width: number;
  height: number;
}

/** The output format implied by a path's extension (.svg or .png). */
export function plotFormatOf(path: string): PlotFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.svg') return 'svg';
  if (ext === '.png') return 'png';
  throw new UsageError(`${path}: plot output must end in .svg or .png, got "${ext || '(no extension)'}"`);
}

/** Render a Vega-Lite spec to an SVG string (plus its pixel size). */
export async function vegaLiteToSvg(spec: object, opts: RenderOptions = {}): Promise<{ svg: string; width: number; height: number }> {
  const vl = await import('vega-lite');
  const vega = await import('vega');
  const withBg = { background: opts.background ?? 'white', ...spec } as Parameters<typeof vl.compile>[0];
  const compiled = vl.compile(withBg).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    return { svg, width: view.width(), height: view.height() };
  } finally {
    view.finalize();
  }
}

/** Rasterise an SVG string to PNG bytes. Text uses system fonts (DejaVu Sans preferred when present). */
export async function svgToPng(svg: string, scale = 2): Promise<Uint8Array> {
  const { Resvg } = await import('@resvg/resvg-js');
  const r = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
  });
  return r.render().asPng();
}

/**
 * Render a Vega-Lite spec to `outPath` (.svg or .png, chosen by extension).
 */
export async function renderVegaLite(spec: object, outPath: string, opts: RenderOptions = {}): Promise<RenderResult> {
  const format = plotFormatOf(outPath);
  const { svg, width, height } = await vegaLiteToSvg(spec, opts);
  const data = format === 'svg' ? Buffer.from(svg, 'utf8') : await svgToPng(svg, opts.scale ?? 2);
  const tmp = `${outPath}.incomplete`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, outPath);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw writeError(err, outPath);
  }
  return { path: outPath, format, bytes: data.byteLength, width, height };
}
