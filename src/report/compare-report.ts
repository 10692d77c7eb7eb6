/** What `switchlab compare` prints: cycles per category, counts, bytes, memory, with spread. */
import { CATEGORIES } from '../cost/model.js';
import { Comparison } from '../sim/compare-runs.js';
import { renderTable } from './table.js';

const k = (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e4 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(0));

export function compareJson(c: Comparison): Record<string, unknown> {
  return {
    scenario: c.scenario,
    cpu: c.cpu,
    seed: c.seed,
    runs: c.runs,
    policies: c.policies.map((p) => ({
      name: p.name,
      cycles: p.cycles,
      counts: p.counts,
      bytes: p.bytes,
      memory: p.memory,
      ipis: p.ipis,
      violations: p.violations,
      runs: p.runs,
      spread: p.spread,
    })),
  };
}

export function compareText(c: Comparison): string {
  const ps = c.policies;
  const used = CATEGORIES.filter((cat) => ps.some((p) => p.cycles[cat] > 0));
  const best = Math.min(...ps.map((p) => p.cycles.total));
  const head = `scenario ${c.scenario} on ${c.cpu}: ${c.runs} run(s) per policy, seeds ${c.seed}..${c.seed + c.runs - 1} (means; ± is the standard deviation across runs)\n`;
  const cycles = renderTable(
    ['cycles', ...ps.map((p) => p.name)],
    [
      ['total', ...ps.map((p) => `${k(p.cycles.total)} ±${k(p.spread.total.stddev)}${p.cycles.total === best ? ' *' : ''}`)],
      ['vs best', ...ps.map((p) => `${(((p.cycles.total - best) / best) * 100).toFixed(1)}%`)],
      ...used.map((cat) => [cat, ...ps.map((p) => `${k(p.cycles[cat])} ±${k(p.spread[cat]?.stddev ?? 0)}`)]),
    ],
  );
  const keys = Object.keys(ps[0].counts);
  const counts = renderTable(
    ['events', ...ps.map((p) => p.name)],
    [
      ...keys.filter((key) => ps.some((p) => p.counts[key] > 0)).map((key) => [key, ...ps.map((p) => k(p.counts[key]))]),
      ['bytes saved', ...ps.map((p) => k(p.bytes.saved))],
      ['bytes restored', ...ps.map((p) => k(p.bytes.restored))],
      ['bytes copied', ...ps.map((p) => k(p.bytes.copied))],
      ['XSTATE memory peak', ...ps.map((p) => k(p.memory.xstateBytesPeak))],
      ['buffer allocations', ...ps.map((p) => k(p.memory.allocations))],
      ['IPIs', ...ps.map((p) => k(p.ipis))],
      ['violations', ...ps.map((p) => String(p.violations))],
    ],
  );
  return head + cycles + '\n' + counts;
}
