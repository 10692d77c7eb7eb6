/**
 * One self-contained HTML report: inline CSS, SVG plots inlined (no <img>, no scripts), no external
 * URLs. Deterministic: the same input gives the same bytes (nothing is dated unless the caller says so).
 */

export interface HtmlTable {
  header: string[];
  rows: (string | number)[][];
}

export interface HtmlSection {
  heading: string;
  paragraphs?: string[];
  table?: HtmlTable;
  /** Standalone SVG documents, e.g. from `renderSvg` in report/plots.ts. Inlined as they are (trusted). */
  svgs?: string[];
  /** Preformatted text, e.g. a terminal table or a trace excerpt. */
  pre?: string;
}

export interface HtmlReportInput {
  title: string;
  intro: string;
  sections: HtmlSection[];
  /** Footer line, e.g. the command that produced the report (add a date here if you want one). */
  generatedBy: string;
}

/** Escape text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => {
    switch (c) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      default:
        return '&#39;';
    }
  });
}

const CSS = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1100px; padding: 24px 32px 48px; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d1f23; background: #fff; }
h1 { font-size: 1.7em; margin: 0.2em 0 0.4em; }
h2 { font-size: 1.25em; margin: 1.8em 0 0.5em; padding-bottom: 0.2em; border-bottom: 1px solid #d8dbe0; }
p { margin: 0.5em 0; max-width: 80ch; }
nav ol { margin: 0.4em 0 1em; padding-left: 1.4em; }
a { color: #2657a8; text-decoration: none; }
a:hover { text-decoration: underline; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.92em; }
th, td { padding: 4px 10px; border-bottom: 1px solid #e3e5e8; text-align: left; vertical-align: top; }
th { background: #f3f4f6; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:nth-child(even) td { background: #fafbfc; }
pre { background: #f6f8fa; border: 1px solid #e3e5e8; border-radius: 4px; padding: 10px 12px; overflow-x: auto; font: 12.5px/1.4 ui-monospace, "DejaVu Sans Mono", monospace; }
figure { margin: 1em 0; overflow-x: auto; }
figure svg { max-width: 100%; height: auto; }
footer { margin-top: 3em; padding-top: 0.6em; border-top: 1px solid #d8dbe0; color: #5d636b; font-size: 0.85em; }
@media print { body { max-width: none; padding: 0; } figure { break-inside: avoid; } }
`.trim();

function slug(text: string, used: Set<string>): string {
  const base =
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'section';
  let id = base;
  for (let n = 2; used.has(id); n++) id = `${base}-${n}`;
  used.add(id);
  return id;
}

/**
 * Prepare one SVG document for inlining: drop any XML declaration, doctype or comments, drop the xlink
 * namespace when nothing uses it, and prefix every id (and its url(#…) / href="#…" references) so that
 * plots sharing the page cannot capture each other's clip paths or gradients.
 */
export function inlineSvg(svg: string, prefix: string): string {
  let s = svg
    .replace(/<\?xml[^>]*\?>/g, '')
    .replace(/<!DOCTYPE[^>]*>/gi, '')
    .replace(/<!--[\s\S]*?-->/g, '')
    .trim();
  if (!s.startsWith('<svg') || !s.endsWith('</svg>')) throw new Error('htmlReport: an svgs entry is not a standalone <svg> document');
  if (/<script\b|<[^>]*\son[a-z]+\s*=/i.test(s)) throw new Error('htmlReport: SVGs with scripts or event handlers are not inlined');
  const withoutXlinkNs = s.replace(/\s+xmlns:xlink="[^"]*"/, '');
  if (!withoutXlinkNs.includes('xlink:')) s = withoutXlinkNs;
  const ids = new Set([...s.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]));
  if (ids.size === 0) return s;
  const esc = (id: string): string => id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const alt = [...ids].sort((a, b) => b.length - a.length).map(esc).join('|');
  const re = new RegExp(`(\\sid=")(${alt})(")|(url\\(#)(${alt})(\\))|(href="#)(${alt})(")`, 'g');
  return s.replace(re, (_m, a1?: string, id1?: string, b1?: string, a2?: string, id2?: string, b2?: string, a3?: string, id3?: string, b3?: string) => {
    if (id1 !== undefined) return `${a1}${prefix}${id1}${b1}`;
    if (id2 !== undefined) return `${a2}${prefix}${id2}${b2}`;
    return `${a3}${prefix}${id3}${b3}`;
  });
}

function renderTable(t: HtmlTable): string {
  const width = t.header.length;
  for (const [i, r] of t.rows.entries()) {
    if (r.length !== width) throw new RangeError(`htmlReport: table row ${i} has ${r.length} cells for ${width} columns`);
  }
  const numeric = t.header.map((_, k) => t.rows.length > 0 && t.rows.every((r) => typeof r[k] === 'number'));
  const cls = (k: number): string => (numeric[k] ? ' class="num"' : '');
  const head = t.header.map((h, k) => `<th${cls(k)}>${escapeHtml(h)}</th>`).join('');
  const body = t.rows.map((r) => `<tr>${r.map((c, k) => `<td${cls(k)}>${escapeHtml(String(c))}</td>`).join('')}</tr>`).join('\n');
  return `<table>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

/** The report as one HTML document. */
export function htmlReport(r: HtmlReportInput): string {
  const used = new Set<string>();
  const ids = r.sections.map((s) => slug(s.heading, used));
  let figure = 0;
  const sections = r.sections.map((s, i) => {
    const parts = [`<section id="${ids[i]}">`, `<h2>${escapeHtml(s.heading)}</h2>`];
    for (const p of s.paragraphs ?? []) parts.push(`<p>${escapeHtml(p)}</p>`);
    if (s.table !== undefined) parts.push(renderTable(s.table));
    for (const svg of s.svgs ?? []) parts.push(`<figure>\n${inlineSvg(svg, `fig${++figure}-`)}\n</figure>`);
    if (s.pre !== undefined) parts.push(`<pre>${escapeHtml(s.pre)}</pre>`);
    parts.push('</section>');
    return parts.join('\n');
  });
  const toc =
    r.sections.length > 1
      ? `<nav>\n<ol>\n${r.sections.map((s, i) => `<li><a href="#${ids[i]}">${escapeHtml(s.heading)}</a></li>`).join('\n')}\n</ol>\n</nav>\n`
      : '';
  return (
    [
      '<!DOCTYPE html>',
      '<html lang="en">',
      '<head>',
      '<meta charset="utf-8">',
      '<meta name="viewport" content="width=device-width, initial-scale=1">',
      `<title>${escapeHtml(r.title)}</title>`,
      `<style>\n${CSS}\n</style>`,
      '</head>',
      '<body>',
      '<header>',
      `<h1>${escapeHtml(r.title)}</h1>`,
      ...r.intro
        .split(/\n\s*\n/)
        .filter((p) => p.trim() !== '')
        .map((p) => `<p>${escapeHtml(p.trim())}</p>`),
      '</header>',
      `<main>\n${toc}${sections.join('\n')}\n</main>`,
      `<footer>${escapeHtml(r.generatedBy)}</footer>`,
      '</body>',
      '</html>',
    ].join('\n') + '\n'
  );
}
