/** What `switchlab replay` prints. */
import { ReplayReport } from '../sim/replay-report.js';
import { renderTable } from './table.js';

const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;

export function replayJson(r: ReplayReport): Record<string, unknown> {
  const a = r.agreement;
  return {
    file: r.file,
    cpu: r.cpu,
    policy: r.policy,
    kernel: r.kernel,
    records: r.records,
    modelEvents: r.modelEvents,
    entropyBuf: r.entropyBuf,
    entropyScan: r.entropyScan,
    agreement: a.agreement,
    recorded: a.recorded,
    predicted: a.predicted,
    matched: a.matched,
    pids: a.pids,
    byType: a.byType,
    violations: r.violations,
    divergences: a.divergences,
  };
}

export function replayText(r: ReplayReport): string {
  const a = r.agreement;
  const head =
    `${r.file}: ${r.records} trace events replayed on ${r.cpu} with policy ${r.policy} (Linux ${r.kernel}); ` +
    `random.c BLAKE2s fill at start: ${r.entropyBuf} bytes\n` +
    `x86_fpu agreement: ${pct(a.agreement)} (${a.matched} matched; ${a.recorded} recorded, ${a.predicted} predicted; ${a.pids} pids)\n`;
  const table = renderTable(
    ['event', 'recorded', 'predicted', 'matched', 'agreement'],
    Object.entries(a.byType).map(([n, t]) => [n, t.recorded, t.predicted, t.matched, pct(t.agreement)]),
  );
  const div = a.divergences.length
    ? '\nfirst divergences (per pid, after aligning the sequences):\n' +
      a.divergences
        .map(
          (d) =>
            `  ${(d.item.ts / 1e9).toFixed(6)} pid ${d.pid}: ${d.kind === 'missing' ? 'Linux emitted' : 'model emitted'} ${d.item.name} load: ${d.item.load ? 1 : 0}` +
            `${d.item.line ? ` (line ${d.item.line})` : ''}; ${d.kind === 'missing' ? 'the model did not' : 'Linux did not'}\n` +
            `      Linux around it: ${d.context.map((c) => `${c.name.replace('x86_fpu_', '')}/${c.load ? 1 : 0}@${(c.ts / 1e9).toFixed(6)}`).join(' ') || '(nothing)'}`,
        )
        .join('\n') +
      '\n'
    : '\nno divergences\n';
  return head + table + div;
}
