/**
 * Plots for `switchlab compare`, `sweep` and `study`: Vega-Lite specs built from plain numbers, rendered
 * headless to SVG (vega-lite compile -> vega View with renderer 'none' -> toSVG) and to PNG (resvg).
 *
 * Everything here is deterministic: fixed plot width and height, a fixed colour scheme, generic font
 * families, text widths estimated from the string length (no canvas), clip-path and gradient ids
 * renumbered per document, no timestamps. The same input gives byte-identical SVG and PNG.
 */
import { existsSync } from 'node:fs';
import { compile, type TopLevelSpec } from 'vega-lite';
import { View, parse, logger as vegaLogger, Warn, type LoggerInterface } from 'vega';
import { Resvg, type ResvgRenderOptions } from '@resvg/resvg-js';
import { InputError } from '../arch/errors.js';

/** A Vega-Lite specification, as the functions below build it and `renderSvg` takes it. */
export type VegaLiteSpec = TopLevelSpec;

/** Size of the plotting area in pixels (axes, titles and legend come on top). */
export interface PlotSize {
  width?: number;
  height?: number;
}

export interface BarSeries {
  /** E.g. a policy name; one bar per series in each category. */
  name: string;
  /** One value per category, in the order of `categories`. */
  values: number[];
  /** Optional spread (e.g. standard deviation across runs), one per category: a bar ± error rule. */
  errors?: number[];
}

export interface BarChartSpec extends PlotSize {
  title: string;
  categories: string[];
  series: BarSeries[];
  yLabel: string;
  /** Axis title for the categories; none by default. */
  xLabel?: string;
}

export interface DistributionSpec extends PlotSize {
  title: string;
  /** One sample per run (e.g. the run's total cycles), grouped by series (e.g. policy). */
  samples: { series: string; value: number }[];
  xLabel: string;
}

export interface LinePlotSpec extends PlotSize {
  title: string;
  xLabel: string;
  yLabel: string;
  points: { series: string; x: number; y: number }[];
  logX?: boolean;
  logY?: boolean;
}

const FONT = 'sans-serif';
const SCHEME = 'tableau10';
const DEFAULT_WIDTH = 480;
const DEFAULT_HEIGHT = 260;

/** Shared look: white background, generic font family, no actions, no interactivity. */
const CONFIG = {
  background: 'white',
  font: FONT,
  padding: 8,
  view: { stroke: null },
  axis: { labelFont: FONT, titleFont: FONT, labelFontSize: 11, titleFontSize: 12, grid: true, gridColor: '#e6e6e6' },
  legend: { labelFont: FONT, titleFont: FONT, labelFontSize: 11, titleFontSize: 12, labelLimit: 240 },
  title: { font: FONT, fontSize: 14, anchor: 'start' as const },
  range: { category: { scheme: SCHEME } },
};

/** What every chart starts with: schema, title, size (validated) and the shared look. */
function frame(title: string, s: PlotSize) {
  const width = s.width ?? DEFAULT_WIDTH;
  const height = s.height ?? DEFAULT_HEIGHT;
  if (!(width > 0 && height > 0)) throw new RangeError(`plot size must be positive, got ${width}x${height}`);
  return { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', title, width, height, config: CONFIG };
}

function finite(v: number, what: string): number {
  if (!Number.isFinite(v)) throw new RangeError(`${what}: not a finite number (${v})`);
  return v;
}

function checkBars(spec: BarChartSpec): void {
  if (spec.categories.length === 0) throw new RangeError(`${spec.title}: no categories`);
  if (spec.series.length === 0) throw new RangeError(`${spec.title}: no series`);
  if (new Set(spec.categories).size !== spec.categories.length) throw new RangeError(`${spec.title}: duplicate category names`);
  if (new Set(spec.series.map((s) => s.name)).size !== spec.series.length) throw new RangeError(`${spec.title}: duplicate series names`);
  for (const s of spec.series) {
    if (s.values.length !== spec.categories.length) {
      throw new RangeError(`${spec.title}: series ${s.name} has ${s.values.length} values for ${spec.categories.length} categories`);
    }
    if (s.errors !== undefined && s.errors.length !== spec.categories.length) {
      throw new RangeError(`${spec.title}: series ${s.name} has ${s.errors.length} errors for ${spec.categories.length} categories`);
    }
    s.values.forEach((v, i) => finite(v, `${spec.title}: ${s.name} / ${spec.categories[i]}`));
    s.errors?.forEach((e, i) => {
      if (!(finite(e, `${spec.title}: error of ${s.name} / ${spec.categories[i]}`) >= 0)) {
        throw new RangeError(`${spec.title}: error of ${s.name} / ${spec.categories[i]} is negative (${e})`);
      }
    });
  }
}

interface BarRow {
  category: string;
  series: string;
  value: number;
  lo: number;
  hi: number;
  hasError: boolean;
}

function barRows(spec: BarChartSpec): BarRow[] {
  const rows: BarRow[] = [];
  spec.categories.forEach((category, i) => {
    for (const s of spec.series) {
      const value = s.values[i];
      const err = s.errors?.[i];
      rows.push({ category, series: s.name, value, lo: value - (err ?? 0), hi: value + (err ?? 0), hasError: err !== undefined });
    }
  });
  return rows;
}

/**
 * Grouped bars: one group per category (x axis), one bar per series inside it, coloured by series,
 * with an error rule (value ± error) where the series gives errors.
 */
export function barChart(spec: BarChartSpec): VegaLiteSpec {
  checkBars(spec);
  const head = frame(spec.title, spec);
  const rows = barRows(spec);
  const x = {
    field: 'category',
    type: 'nominal' as const,
    sort: spec.categories,
    title: spec.xLabel ?? null,
    axis: { labelAngle: spec.categories.some((c) => c.length > 10) ? -30 : 0, labelLimit: 160 },
  };
  const xOffset = { field: 'series', type: 'nominal' as const, sort: spec.series.map((s) => s.name) };
  const withErrors = spec.series.some((s) => s.errors !== undefined);
  return {
    ...head,
    data: { values: rows },
    encoding: { x, xOffset },
    layer: [
      {
        mark: { type: 'bar' },
        encoding: {
          y: { field: 'value', type: 'quantitative', title: spec.yLabel },
          color: { field: 'series', type: 'nominal', sort: spec.series.map((s) => s.name), title: null },
        },
      },
      ...(withErrors
        ? [
            {
              transform: [{ filter: 'datum.hasError' }],
              mark: { type: 'rule' as const, color: '#333333', strokeWidth: 1.25 },
              encoding: {
                y: { field: 'lo', type: 'quantitative' as const },
                y2: { field: 'hi' },
              },
            },
          ]
        : []),
    ],
  };
}

/**
 * Stacked bars: one bar per series (e.g. per policy, x axis), stacked by category (e.g. cycles spent in
 * each category). Takes the same data as `barChart`; errors, if any, are ignored.
 */
export function stackedBar(spec: BarChartSpec): VegaLiteSpec {
  checkBars(spec);
  const head = frame(spec.title, spec);
  const rows = barRows(spec).map((r) => ({
    category: r.category,
    series: r.series,
    value: r.value,
    order: spec.categories.indexOf(r.category),
  }));
  const names = spec.series.map((s) => s.name);
  return {
    ...head,
    data: { values: rows },
    mark: { type: 'bar' },
    encoding: {
      x: {
        field: 'series',
        type: 'nominal',
        sort: names,
        title: spec.xLabel ?? null,
        axis: { labelAngle: names.some((n) => n.length > 10) ? -30 : 0, labelLimit: 160 },
      },
      y: { field: 'value', type: 'quantitative', stack: 'zero', title: spec.yLabel },
      color: { field: 'category', type: 'nominal', sort: spec.categories, title: null },
      order: { field: 'order', type: 'quantitative', sort: 'ascending' },
    },
  };
}

/**
 * The distribution of per-run values, one row per series: a min-max box plot with every sample drawn
 * as a tick on top of it.
 */
export function distribution(spec: DistributionSpec): VegaLiteSpec {
  if (spec.samples.length === 0) throw new RangeError(`${spec.title}: no samples`);
  spec.samples.forEach((s) => finite(s.value, `${spec.title}: sample of ${s.series}`));
  const series = [...new Set(spec.samples.map((s) => s.series))];
  const head = frame(spec.title, { width: spec.width, height: spec.height ?? Math.min(DEFAULT_HEIGHT * 2, Math.max(100, 44 * series.length)) });
  const y = { field: 'series', type: 'nominal' as const, sort: series, title: null, axis: { labelLimit: 200 } };
  const x = { field: 'value', type: 'quantitative' as const, title: spec.xLabel, scale: { zero: false } };
  return {
    ...head,
    data: { values: spec.samples.map((s) => ({ series: s.series, value: s.value })) },
    layer: [
      {
        mark: { type: 'boxplot', extent: 'min-max', size: 22, opacity: 0.45 },
        encoding: { x, y, color: { field: 'series', type: 'nominal', sort: series, legend: null } },
      },
      {
        mark: { type: 'tick', color: '#222222', thickness: 1.5, size: 16 },
        encoding: { x, y },
      },
    ],
  };
}

/** Lines with points, one per series, sorted by x; for sweeps (metric against parameter). */
export function linePlot(spec: LinePlotSpec): VegaLiteSpec {
  if (spec.points.length === 0) throw new RangeError(`${spec.title}: no points`);
  for (const p of spec.points) {
    finite(p.x, `${spec.title}: x of ${p.series}`);
    finite(p.y, `${spec.title}: y of ${p.series}`);
    // A log axis over a user-chosen parameter range is a user mistake: one line, exit code 2.
    if (spec.logX === true && p.x <= 0) throw new InputError(`a log x axis needs x > 0, got ${p.x} (${p.series})`, `plot "${spec.title}"`);
    if (spec.logY === true && p.y <= 0) throw new InputError(`a log y axis needs y > 0, got ${p.y} (${p.series})`, `plot "${spec.title}"`);
  }
  const head = frame(spec.title, spec);
  const series = [...new Set(spec.points.map((p) => p.series))];
  // On a log axis Vega labels only 1..9 x 10^k; a sweep's own parameter values read better.
  const xs = [...new Set(spec.points.map((p) => p.x))].sort((a, b) => a - b);
  const xAxis = spec.logX === true && xs.length <= 16 ? { axis: { values: xs, grid: true } } : {};
  return {
    ...head,
    data: { values: spec.points.map((p) => ({ series: p.series, x: p.x, y: p.y })) },
    mark: { type: 'line', point: true, strokeWidth: 1.75 },
    encoding: {
      x: {
        field: 'x',
        type: 'quantitative',
        title: spec.xLabel,
        scale: spec.logX === true ? { type: 'log', nice: false } : { zero: false, nice: false },
        ...xAxis,
      },
      y: {
        field: 'y',
        type: 'quantitative',
        title: spec.yLabel,
        scale: spec.logY === true ? { type: 'log' } : { zero: true },
      },
      color: { field: 'series', type: 'nominal', sort: series, title: null },
      order: { field: 'x', type: 'quantitative' },
    },
  };
}

export interface RenderOptions {
  /** Called with each Vega-Lite / Vega warning; by default warnings are dropped. */
  onWarning?: (message: string) => void;
}

function collectingLogger(onWarning: ((m: string) => void) | undefined): LoggerInterface {
  return vegaLogger(Warn, undefined, (method, _level, input) => {
    const text = input.map((x) => (x instanceof Error ? x.message : String(x))).join(' ');
    if (method === 'error') throw new Error(`vega: ${text}`);
    if (method === 'warn') onWarning?.(text);
  });
}

/**
 * Vega numbers clip paths and gradients from process-wide counters; renumber them by first appearance
 * so that the same spec gives the same SVG however many plots came before it.
 */
function renumberIds(svg: string): string {
  const map = new Map<string, string>();
  const counters = new Map<string, number>();
  for (const m of svg.matchAll(/\bid="((clip|gradient_|pattern_)\d+)"/g)) {
    if (map.has(m[1])) continue;
    const n = (counters.get(m[2]) ?? 0) + 1;
    counters.set(m[2], n);
    map.set(m[1], `${m[2]}${n}`);
  }
  if (map.size === 0) return svg;
  return svg.replace(/\b(clip|gradient_|pattern_)\d+\b/g, (id) => map.get(id) ?? id);
}

/** Compile a Vega-Lite spec and render it headless to a standalone SVG document. */
export async function renderSvg(vlSpec: VegaLiteSpec, options: RenderOptions = {}): Promise<string> {
  const log = collectingLogger(options.onWarning);
  const vgSpec = compile(vlSpec, { logger: log }).spec;
  const view = new View(parse(vgSpec), { renderer: 'none', logger: log, logLevel: Warn });
  try {
    const svg = await view.toSVG();
    return renumberIds(svg);
  } finally {
    view.finalize();
  }
}

/** Fonts for resvg: one known sans-serif font file if the system has one (fast, and the same output
 * wherever that font is), else all system fonts. */
const FONT_CANDIDATES: { file: string; family: string }[] = [
  { file: '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', family: 'DejaVu Sans' },
  { file: '/usr/share/fonts/dejavu/DejaVuSans.ttf', family: 'DejaVu Sans' },
  { file: '/usr/share/fonts/TTF/DejaVuSans.ttf', family: 'DejaVu Sans' },
  { file: '/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf', family: 'Liberation Sans' },
  { file: '/usr/share/fonts/liberation-sans/LiberationSans-Regular.ttf', family: 'Liberation Sans' },
  { file: '/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf', family: 'Noto Sans' },
  { file: '/usr/share/fonts/noto/NotoSans-Regular.ttf', family: 'Noto Sans' },
];

let fontOptions: ResvgRenderOptions['font'] | undefined;

function fonts(): ResvgRenderOptions['font'] {
  if (fontOptions === undefined) {
    const found = FONT_CANDIDATES.find((c) => existsSync(c.file));
    fontOptions = found
      ? { loadSystemFonts: false, fontFiles: [found.file], defaultFontFamily: found.family, sansSerifFamily: found.family }
      : { loadSystemFonts: true };
  }
  return fontOptions;
}

/**
 * Rasterize an SVG (e.g. from `renderSvg`) to PNG bytes with resvg, `scale` times its size (default 2).
 * Headless and deterministic. Without any font on the system the text is simply not drawn.
 */
export function renderPng(svg: string, scale = 2): Uint8Array {
  if (!(scale > 0 && Number.isFinite(scale))) throw new RangeError(`PNG scale must be positive, got ${scale}`);
  const resvg = new Resvg(svg, {
    font: fonts(),
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
    shapeRendering: 2,
    textRendering: 1,
    logLevel: 'off',
  });
  return new Uint8Array(resvg.render().asPng());
}
