/**
 * `--out DIR` of compare and study: SVG and PNG plots (cycles by category, per-category bars with
 * spread, per-run distributions) and one self-contained HTML report.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CATEGORIES } from '../cost/model.js';
import { Comparison } from '../sim/compare-runs.js';
import { barChart, distribution, renderPng, renderSvg, stackedBar } from './plots.js';
import { HtmlSection, htmlReport } from './html.js';
import { compareText } from './compare-report.js';

export interface PlotSet {
  /** File stem -> SVG text. */
  svgs: Map<string, string>;
}

export async function comparePlots(c: Comparison, prefix: string): Promise<PlotSet> {
  const used = CATEGORIES.filter((cat) => c.policies.some((p) => p.cycles[cat] > 0));
  const svgs = new Map<string, string>();
  svgs.set(
    `${prefix}cycles-stacked`,
    await renderSvg(
      stackedBar({
        title: `${c.scenario} on ${c.cpu}: cycles by category`,
        categories: used,
        series: c.policies.map((p) => ({ name: p.name, values: used.map((cat) => p.cycles[cat]) })),
        yLabel: 'cycles (mean of runs)',
      }),
    ),
  );
  const fpuCats = used.filter((cat) => cat !== 'kernel');
  if (fpuCats.length > 0) {
    svgs.set(
      `${prefix}cycles-by-category`,
      await renderSvg(
        barChart({
          title: `${c.scenario}: cycles per category (± std. dev. across runs)`,
          categories: fpuCats,
          series: c.policies.map((p) => ({ name: p.name, values: fpuCats.map((cat) => p.cycles[cat]), errors: fpuCats.map((cat) => p.spread[cat]?.stddev ?? 0) })),
          yLabel: 'cycles',
        }),
      ),
    );
  }
  if (c.runs > 1) {
    svgs.set(
      `${prefix}total-distribution`,
      await renderSvg(distribution({ title: `${c.scenario}: total cycles per run`, samples: c.policies.flatMap((p) => p.perRun.map((v) => ({ series: p.name, value: v }))), xLabel: 'cycles' })),
    );
  }
  return { svgs };
}

export function writePlots(dir: string, plots: PlotSet): string[] {
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  for (const [stem, svg] of plots.svgs) {
    writeFileSync(join(dir, `${stem}.svg`), svg);
    writeFileSync(join(dir, `${stem}.png`), renderPng(svg));
    files.push(`${stem}.svg`, `${stem}.png`);
  }
  return files;
}

export function compareSection(c: Comparison, plots: PlotSet): HtmlSection {
  return { heading: `${c.scenario} on ${c.cpu}`, pre: compareText(c), svgs: [...plots.svgs.values()] };
}

/** compare --out: plots and report.html in `dir`; returns the report's path. */
export async function writeCompareReport(dir: string, c: Comparison, generatedBy: string): Promise<string> {
  const plots = await comparePlots(c, '');
  writePlots(dir, plots);
  const html = htmlReport({
    title: `switchlab compare: ${c.scenario} on ${c.cpu}`,
    intro: `${c.policies.length} policy sets, ${c.runs} run(s) each from seed ${c.seed}; cycles from the cost model (docs/cost-model.md).`,
    sections: [compareSection(c, plots)],
    generatedBy,
  });
  const path = join(dir, 'report.html');
  writeFileSync(path, html);
  return path;
}
