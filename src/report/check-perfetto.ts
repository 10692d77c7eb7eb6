/** A counterexample as a Perfetto timeline: the ftrace events of its replay, each move marked. */
import type { ReplayedMove } from '../check/explore.js';
import { describeMove } from './check-report.js';
import { ModelAnnotation, PerfettoTrace, toPerfetto } from './perfetto.js';

export function counterexamplePerfetto(steps: readonly ReplayedMove[], finding: { invariant: string; detail: string } | null, cpus: number, title: string): PerfettoTrace {
  const events = steps.flatMap((s) => s.trace);
  const annotations: ModelAnnotation[] = [];
  let ts = 0;
  steps.forEach((s, i) => {
    // A move is marked where its first event is (just after the previous move's last one if it has none).
    ts = s.trace.length > 0 ? s.trace[0].ts : ts + 1;
    const cpu = 'cpu' in s.move ? s.move.cpu : undefined;
    annotations.push({ ts, cpu, name: `${i + 1}. ${s.move.op}`, category: 'check', args: { step: i + 1, move: describeMove(s.move) } });
    if (s.trace.length > 0) ts = s.trace[s.trace.length - 1].ts;
  });
  if (finding) annotations.push({ ts: ts + 1, name: `violation: ${finding.invariant}`, category: 'check', args: { detail: finding.detail } });
  return toPerfetto(events, { title, cpus, startNs: 0, endNs: ts + 2, annotations });
}
