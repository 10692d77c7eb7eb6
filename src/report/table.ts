/**
 * Plain-text tables for the terminal: left-aligned text, right-aligned numbers.
 */
export type Cell = string | number | boolean | null;

function show(c: Cell): string {
  if (c === null) return '-';
  if (typeof c === 'boolean') return c ? 'yes' : 'no';
  return String(c);
}

export function renderTable(header: string[], rows: Cell[][]): string {
  const cells = rows.map((r) => r.map(show));
  const width = header.map((h, k) => Math.max(h.length, ...cells.map((r) => r[k].length)));
  const numeric = header.map((_, k) => rows.every((r) => typeof r[k] === 'number' || r[k] === null));
  const line = (r: string[]): string =>
    r
      .map((c, k) => (numeric[k] ? c.padStart(width[k]) : c.padEnd(width[k])))
      .join('  ')
      .trimEnd();
  return [line(header), line(width.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n') + '\n';
}
