// Plots and the HTML report: every chart kind renders headless to SVG and PNG, byte-identically on a
// second render, and the report is one self-contained, escaped HTML file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { barChart, distribution, linePlot, renderPng, renderSvg, stackedBar, type VegaLiteSpec } from '../src/report/plots.js';
import { escapeHtml, htmlReport, inlineSvg } from '../src/report/html.js';
import { InputError } from '../src/arch/errors.js';

const CATEGORIES = ['context-switch', 'signal-delivery', 'kernel-fpu'];
const SERIES = [
  { name: 'eager', values: [120, 40, 30], errors: [8, 3, 2] },
  { name: 'deferred', values: [70, 45, 35], errors: [5, 4, 0] },
  { name: 'lazy-ts', values: [30, 48, 90] },
];

interface Case {
  kind: string;
  spec: VegaLiteSpec;
  /** Text the SVG must contain: axis titles, category / series names. */
  texts: string[];
}

const CASES: Case[] = [
  {
    kind: 'barChart',
    spec: barChart({ title: 'Cycles per category', categories: CATEGORIES, series: SERIES, yLabel: 'cycles per switch' }),
    texts: ['Cycles per category', 'cycles per switch', ...CATEGORIES, 'eager', 'deferred', 'lazy-ts'],
  },
  {
    kind: 'stackedBar',
    spec: stackedBar({ title: 'Where the cycles go', categories: CATEGORIES, series: SERIES, yLabel: 'total cycles', xLabel: 'policy' }),
    texts: ['Where the cycles go', 'total cycles', 'policy', ...CATEGORIES, 'eager', 'deferred', 'lazy-ts'],
  },
  {
    kind: 'distribution',
    spec: distribution({
      title: 'Per-run totals',
      samples: [0, 1, 2, 3, 4].flatMap((i) => [
        { series: 'eager', value: 1000 + 7 * i },
        { series: 'deferred', value: 930 + 11 * i },
      ]),
      xLabel: 'total cycles per run',
    }),
    texts: ['Per-run totals', 'total cycles per run', 'eager', 'deferred'],
  },
  {
    kind: 'linePlot',
    spec: linePlot({
      title: 'Sweep: tasks per CPU',
      xLabel: 'tasks per CPU',
      yLabel: 'cycles per switch',
      points: [1, 2, 4, 8, 16].flatMap((x) => [
        { series: 'eager', x, y: 100 + x },
        { series: 'deferred', x, y: 70 + 4 * x },
      ]),
      logX: true,
    }),
    texts: ['Sweep: tasks per CPU', 'tasks per CPU', 'cycles per switch', 'eager', 'deferred', '1', '16'],
  },
];

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function textsOf(svg: string): string[] {
  return [...svg.matchAll(/<text\b[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
}

const rendered = new Map<string, string>();

for (const c of CASES) {
  test(`${c.kind}: SVG with its titles and names, PNG, both byte-identical on a second render`, async () => {
    const warnings: string[] = [];
    const svg = await renderSvg(c.spec, { onWarning: (m) => warnings.push(m) });
    assert.deepEqual(warnings, [], 'no Vega-Lite / Vega warnings');
    assert.match(svg, /^<svg[^>]*\swidth="\d+"[^>]*\sheight="\d+"/);
    assert.ok(svg.endsWith('</svg>'));
    const texts = textsOf(svg);
    for (const t of c.texts) assert.ok(texts.includes(t), `"${t}" drawn as text; got ${JSON.stringify(texts)}`);
    assert.doesNotMatch(svg, /font-family="(?!sans-serif")/, 'only the generic font family');
    assert.equal(await renderSvg(c.spec), svg, 'SVG deterministic');
    rendered.set(c.kind, svg);

    const png = renderPng(svg);
    assert.ok(png.length > 1000, `PNG of ${png.length} bytes`);
    assert.deepEqual([...png.subarray(0, 8)], PNG_SIGNATURE);
    // IHDR: width and height, twice the SVG's at the default scale.
    const dv = new DataView(png.buffer, png.byteOffset, png.byteLength);
    const w = Number(/\swidth="(\d+)"/.exec(svg)![1]);
    assert.equal(dv.getUint32(16), 2 * w);
    assert.deepEqual(renderPng(svg), png, 'PNG deterministic');
    assert.equal(renderPng(svg, 1).length < png.length, true, 'scale 1 is smaller');
  });
}

test('renderSvg: clip-path ids restart in every document, so repeated renders are identical', async () => {
  const spec: VegaLiteSpec = {
    width: 100,
    height: 60,
    data: { values: [{ x: 1, y: 5 }, { x: 2, y: 50 }] },
    mark: { type: 'line', clip: true },
    encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative', scale: { domain: [0, 10] } } },
  };
  const first = await renderSvg(spec);
  assert.match(first, /<clipPath id="clip1">/);
  assert.match(first, /clip-path="url\(#clip1\)"/);
  assert.equal(await renderSvg(spec), first);
});

test('bad plot input: mismatched lengths and a log axis over zero', () => {
  assert.throws(() => barChart({ title: 't', categories: ['a', 'b'], series: [{ name: 's', values: [1] }], yLabel: 'y' }), RangeError);
  assert.throws(() => barChart({ title: 't', categories: ['a'], series: [{ name: 's', values: [1], errors: [-1] }], yLabel: 'y' }), RangeError);
  assert.throws(() => stackedBar({ title: 't', categories: ['a'], series: [{ name: 's', values: [Number.NaN] }], yLabel: 'y' }), RangeError);
  assert.throws(() => distribution({ title: 't', samples: [], xLabel: 'x' }), RangeError);
  assert.throws(
    () => linePlot({ title: 'sweep', xLabel: 'x', yLabel: 'y', points: [{ series: 's', x: 0, y: 1 }], logX: true }),
    (e: unknown) => e instanceof InputError && /log x axis needs x > 0/.test(e.line()),
  );
  assert.throws(() => renderPng('<svg/>', 0), RangeError);
});

test('htmlReport: one self-contained file, text escaped, SVGs inlined with page-unique ids', async () => {
  const bar = rendered.get('barChart') ?? (await renderSvg(CASES[0].spec));
  const line = rendered.get('linePlot') ?? (await renderSvg(CASES[3].spec));
  const clipped =
    '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">' +
    '<defs><clipPath id="clip1"><rect width="5" height="5"/></clipPath></defs>' +
    '<rect clip-path="url(#clip1)" width="10" height="10"/></svg>';
  const input = {
    title: 'Policies <compared> & "costed"',
    intro: 'Cycles per switch for 3 policies.\n\nSeed 42 & <no> date.',
    sections: [
      {
        heading: 'Cost per category',
        paragraphs: ['eager < deferred when tasks > 2 & AVX-512 is live'],
        table: {
          header: ['policy', 'cycles', 'note'],
          rows: [
            ['eager', 120, '<b>not bold</b>'],
            ['deferred', 70, "it's fine"],
          ],
        },
        svgs: [bar, clipped],
      },
      { heading: 'Sweep', svgs: [line, clipped], pre: 'a <tab>\tb\n  & c' },
      { heading: 'Sweep', paragraphs: ['same heading, distinct anchor'] },
    ],
    generatedBy: 'switchlab compare --seed 42',
  };
  const html = htmlReport(input);
  assert.equal(htmlReport(input), html, 'deterministic');
  assert.ok(html.startsWith('<!DOCTYPE html>\n<html lang="en">'));
  assert.ok(html.includes('<style>') && !html.includes('<link') && !html.includes('<script') && !html.includes('<img'));

  // Text is escaped everywhere it appears.
  assert.ok(html.includes('<title>Policies &lt;compared&gt; &amp; &quot;costed&quot;</title>'));
  assert.ok(html.includes('<p>eager &lt; deferred when tasks &gt; 2 &amp; AVX-512 is live</p>'));
  assert.ok(html.includes('<td>&lt;b&gt;not bold&lt;/b&gt;</td>'));
  assert.ok(html.includes('<td class="num">120</td>'));
  assert.ok(html.includes('<pre>a &lt;tab&gt;\tb\n  &amp; c</pre>'));
  assert.ok(html.includes('<p>Seed 42 &amp; &lt;no&gt; date.</p>'));
  assert.ok(!html.includes('<b>') && !html.includes('<compared>') && !html.includes('<no>'));
  assert.ok(html.includes('<footer>switchlab compare --seed 42</footer>'));
  assert.ok(html.includes('id="sweep"') && html.includes('id="sweep-2"') && html.includes('href="#sweep-2"'));

  // SVGs are inlined, and the only URLs are SVG namespace declarations.
  assert.equal(html.match(/<svg\b/g)?.length, 4);
  for (const t of textsOf(bar)) assert.ok(html.includes(`>${t}</text>`), `bar chart text "${t}" inlined`);
  assert.ok(!html.includes('<?xml'));
  const urls = [...html.matchAll(/https?:[^\s"')<>]*/g)].map((m) => m[0]);
  assert.ok(urls.length > 0);
  for (const u of urls) assert.equal(u, 'http://www.w3.org/2000/svg', `unexpected URL ${u}`);
  assert.equal(html.match(/http/g)?.length, html.match(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g)?.length);

  // The same clip id in two figures is renamed apart, with its reference.
  assert.ok(html.includes('<clipPath id="fig2-clip1">') && html.includes('url(#fig2-clip1)'));
  assert.ok(html.includes('<clipPath id="fig4-clip1">') && html.includes('url(#fig4-clip1)'));
  assert.ok(!/id="clip1"/.test(html));
});

test('escapeHtml and inlineSvg: edge cases', () => {
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  assert.throws(() => inlineSvg('<div>not svg</div>', 'p-'), /not a standalone <svg>/);
  assert.throws(() => inlineSvg('<svg><script>alert(1)</script></svg>', 'p-'), /scripts/);
  assert.throws(() => inlineSvg('<svg onload="x()"></svg>', 'p-'), /scripts/);
  assert.throws(() => htmlReport({ title: 't', intro: '', sections: [{ heading: 'h', table: { header: ['a', 'b'], rows: [[1]] } }], generatedBy: 'g' }), RangeError);
});
