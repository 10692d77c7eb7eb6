/**
 * Agreement between predicted and recorded x86_fpu events: per pid, the ordered sequences of
 * (event, load flag) are aligned by a longest common subsequence. Agreement is matched / max(recorded,
 * predicted), overall and per event type; the first divergences are reported with their context.
 */
import { FtraceRecord } from '../kernel/trace/ftrace.js';
import { TraceEvent } from '../kernel/trace/events.js';

export interface FpuItem {
  pid: number;
  name: string;
  load: boolean;
  ts: number;
  /** Line in the recording (recorded items only). */
  line?: number;
}

export interface TypeAgreement {
  recorded: number;
  predicted: number;
  matched: number;
  agreement: number;
}

export interface Divergence {
  pid: number;
  kind: 'missing' | 'extra';
  item: FpuItem;
  /** The recorded items around it for that pid (what Linux did). */
  context: FpuItem[];
}

export interface Agreement {
  recorded: number;
  predicted: number;
  matched: number;
  agreement: number;
  byType: Record<string, TypeAgreement>;
  pids: number;
  divergences: Divergence[];
}

const LOAD = /load: (\d)/;

export function recordedItems(rs: FtraceRecord[]): FpuItem[] {
  return rs.map((r) => ({ pid: r.pid, name: r.name, load: LOAD.exec(r.text)?.[1] === '1', ts: r.ts, line: r.line }));
}

export function predictedItems(es: TraceEvent[]): FpuItem[] {
  return es.filter((e) => e.name.startsWith('x86_fpu_')).map((e) => ({ pid: e.pid, name: e.name, load: LOAD.exec(e.text)?.[1] === '1', ts: e.ts }));
}

function groupByPid(xs: FpuItem[]): Map<number, FpuItem[]> {
  const m = new Map<number, FpuItem[]>();
  for (const x of xs) {
    let l = m.get(x.pid);
    if (!l) m.set(x.pid, (l = []));
    l.push(x);
  }
  return m;
}

const same = (a: FpuItem, b: FpuItem): boolean => a.name === b.name && a.load === b.load;

/** LCS alignment of a and b: pairs of matched indices (Hirschberg would save memory; sequences per pid are small). */
function lcs(a: FpuItem[], b: FpuItem[]): [number, number][] {
  const n = a.length;
  const m = b.length;
  const w = m + 1;
  const dp = new Int32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      dp[i * w + j] = same(a[i], b[j]) ? dp[(i + 1) * w + j + 1] + 1 : Math.max(dp[(i + 1) * w + j], dp[i * w + j + 1]);
    }
  }
  const out: [number, number][] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (same(a[i], b[j])) {
      out.push([i, j]);
      i++;
      j++;
    } else if (dp[(i + 1) * w + j] >= dp[i * w + j + 1]) i++;
    else j++;
  }
  return out;
}

export function compareFpuEvents(recorded: FpuItem[], predicted: FpuItem[], maxDivergences = 10): Agreement {
  const R = groupByPid(recorded);
  const P = groupByPid(predicted);
  const pids = [...new Set([...R.keys(), ...P.keys()])].sort((a, b) => a - b);
  const byType: Record<string, TypeAgreement> = {};
  const bump = (name: string, f: 'recorded' | 'predicted' | 'matched'): void => {
    const t = (byType[name] ??= { recorded: 0, predicted: 0, matched: 0, agreement: 1 });
    t[f]++;
  };
  let matched = 0;
  const divergences: Divergence[] = [];
  for (const pid of pids) {
    const a = R.get(pid) ?? [];
    const b = P.get(pid) ?? [];
    for (const x of a) bump(x.name, 'recorded');
    for (const x of b) bump(x.name, 'predicted');
    const pairs = lcs(a, b);
    matched += pairs.length;
    for (const [i] of pairs) bump(a[i].name, 'matched');
    const inA = new Set(pairs.map((p) => p[0]));
    const inB = new Set(pairs.map((p) => p[1]));
    a.forEach((x, i) => {
      if (!inA.has(i)) divergences.push({ pid, kind: 'missing', item: x, context: a.slice(Math.max(0, i - 2), i + 3) });
    });
    b.forEach((x, j) => {
      if (!inB.has(j)) divergences.push({ pid, kind: 'extra', item: x, context: a.filter((y) => Math.abs(y.ts - x.ts) < 50_000).slice(0, 5) });
    });
  }
  for (const t of Object.values(byType)) t.agreement = Math.max(t.recorded, t.predicted) === 0 ? 1 : t.matched / Math.max(t.recorded, t.predicted);
  let denom = 0;
  for (const pid of pids) denom += Math.max(R.get(pid)?.length ?? 0, P.get(pid)?.length ?? 0);
  divergences.sort((x, y) => x.item.ts - y.item.ts);
  return {
    recorded: recorded.length,
    predicted: predicted.length,
    matched,
    agreement: denom === 0 ? 1 : matched / denom,
    byType,
    pids: pids.length,
    divergences: divergences.slice(0, maxDivergences),
  };
}
