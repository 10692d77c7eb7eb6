/** A sweep's results: a terminal table of one metric per point and policy, and metric-vs-parameter plots. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SweepLine } from '../sim/sweep-point.js';
import type { Sweep, SweepPlot } from '../sim/sweep-spec.js';
import { htmlReport } from './html.js';
import { linePlot, renderPng, renderSvg } from './plots.js';
import { renderTable } from './table.js';

const short = (v: number): string => {
  const a = Math.abs(v);
  if (a >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (a >= 1e4) return `${(v / 1e3).toFixed(1)}k`;
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
};

/** The table of `metric` (means over runs): one row per point, one column per policy set. */
export function sweepTable(s: Sweep, lines: readonly SweepLine[], metric: string): string {
  const names = s.params.map(([k]) => k);
  const rows = new Map<string, (string | number)[]>();
  for (const l of lines) {
    const key = JSON.stringify(names.map((k) => l.point[k]));
    let row = rows.get(key);
    if (!row) rows.set(key, (row = [...names.map((k) => l.point[k]), ...s.policies.map(() => '-')]));
    row[names.length + s.policies.indexOf(l.policy)] = short(l.metrics[metric]);
  }
  return renderTable([...names, ...s.policies], [...rows.values()]);
}

/** Series for a plot of y against x: one per policy and combination of the other parameters. */
function plotPoints(s: Sweep, lines: readonly SweepLine[], p: SweepPlot): { series: string; x: number; y: number }[] {
  const others = s.params.map(([k]) => k).filter((k) => k !== p.x && s.params.find(([n]) => n === k)![1].length > 1);
  return lines.map((l) => ({
    series: [l.policy, ...others.map((k) => `${k}=${l.point[k]}`)].join(', '),
    x: l.point[p.x],
    y: l.metrics[p.y],
  }));
}

export const plotStem = (p: SweepPlot): string => `${p.y}-vs-${p.x}`.replace(/[^A-Za-z0-9._-]/g, '_');

/** Writes every plot as SVG and PNG and a report.html; returns the file paths. */
export async function writeSweepPlots(s: Sweep, lines: readonly SweepLine[], plots: readonly SweepPlot[], dir: string, generatedBy: string): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  const svgs: string[] = [];
  for (const p of plots) {
    const svg = await renderSvg(
      linePlot({ title: `${s.name}: ${p.y} against ${p.x} (${s.scenario.name}, ${s.cpu})`, xLabel: p.x, yLabel: `${p.y} (mean of ${s.runs} run(s))`, points: plotPoints(s, lines, p), logX: p.logX, logY: p.logY }),
    );
    const stem = plotStem(p);
    writeFileSync(join(dir, `${stem}.svg`), svg);
    writeFileSync(join(dir, `${stem}.png`), renderPng(svg));
    files.push(join(dir, `${stem}.svg`), join(dir, `${stem}.png`));
    svgs.push(svg);
  }
  const html = htmlReport({
    title: `Sweep ${s.name}`,
    intro: `Scenario ${s.scenario.name} on ${s.cpu}; ${s.runs} run(s) per point from seed ${s.seed}; policies ${s.policies.join(', ')}; parameters ${s.params.map(([k, v]) => `${k} ∈ {${v.join(', ')}}`).join(', ')}.`,
    sections: [
      { heading: 'Plots', svgs },
      ...[...new Set(plots.map((p) => p.y))].map((m) => ({ heading: m, pre: sweepTable(s, lines, m) })),
    ],
    generatedBy,
  });
  writeFileSync(join(dir, 'report.html'), html);
  files.push(join(dir, 'report.html'));
  return files;
}
