/**
 * Structural validation of a Chrome Trace Event Format JSON object (the "JSON Object Format" with
 * traceEvents), as toPerfetto writes it: every event has a known ph, a numeric ts, integer pid and
 * tid; 'X' has dur >= 0; 'C' has numeric args; metadata events name a known record and carry its
 * argument; every track with slices or thread instants is named; complete events on one track nest
 * (Perfetto drops slices that overlap partially). Returns the problems found, [] when valid.
 */

const PHASES = new Set(['B', 'E', 'X', 'i', 'I', 'C', 'M', 'b', 'e', 'n', 's', 't', 'f', 'P', 'O', 'N', 'D', 'R']);
const METADATA: Record<string, { key: string; type: 'string' | 'number' }> = {
  process_name: { key: 'name', type: 'string' },
  process_labels: { key: 'labels', type: 'string' },
  process_sort_index: { key: 'sort_index', type: 'number' },
  thread_name: { key: 'name', type: 'string' },
  thread_sort_index: { key: 'sort_index', type: 'number' },
};
const MAX_PROBLEMS = 50;

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function isFiniteNumber(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}

export function validatePerfetto(json: unknown): string[] {
  const problems: string[] = [];
  const bad = (msg: string): void => {
    if (problems.length < MAX_PROBLEMS) problems.push(msg);
  };
  if (!isRecord(json)) return ['the trace is not a JSON object'];
  const events = json.traceEvents;
  if (!Array.isArray(events)) return ['traceEvents is not an array'];
  if (json.displayTimeUnit !== undefined && json.displayTimeUnit !== 'ms' && json.displayTimeUnit !== 'ns') bad(`displayTimeUnit ${String(json.displayTimeUnit)} is neither "ms" nor "ns"`);
  if (json.metadata !== undefined && !isRecord(json.metadata)) bad('metadata is not an object');

  const processNames = new Set<number>();
  const threadNames = new Set<string>();
  const usedProcesses = new Set<number>();
  const usedTracks = new Set<string>();
  const slices = new Map<string, { start: number; end: number; at: number }[]>();

  events.forEach((ev: unknown, n: number) => {
    const at = `traceEvents[${n}]`;
    if (!isRecord(ev)) return bad(`${at} is not an object`);
    const ph = ev.ph;
    if (typeof ph !== 'string' || !PHASES.has(ph)) return bad(`${at}: ph ${JSON.stringify(ph)} is not a Trace Event Format phase`);
    if (!isFiniteNumber(ev.ts)) bad(`${at} (${ph}): ts is not a number`);
    else if (ev.ts < 0) bad(`${at} (${ph}): ts ${ev.ts} is negative`);
    if (!Number.isInteger(ev.pid)) bad(`${at} (${ph}): pid is not an integer`);
    if (!Number.isInteger(ev.tid)) bad(`${at} (${ph}): tid is not an integer`);
    if (typeof ev.name !== 'string' || ev.name.length === 0) bad(`${at} (${ph}): name is missing`);
    if (ev.cat !== undefined && typeof ev.cat !== 'string') bad(`${at} (${ph}): cat is not a string`);
    if (ev.args !== undefined && !isRecord(ev.args)) bad(`${at} (${ph}): args is not an object`);
    const pid = typeof ev.pid === 'number' ? ev.pid : -1;
    const track = `${String(ev.pid)}/${String(ev.tid)}`;
    switch (ph) {
      case 'X': {
        if (!isFiniteNumber(ev.dur)) bad(`${at} (X): dur is not a number`);
        else if (ev.dur < 0) bad(`${at} (X): dur ${ev.dur} is negative`);
        else if (isFiniteNumber(ev.ts)) {
          const start = Math.round(ev.ts * 1000);
          const list = slices.get(track) ?? [];
          list.push({ start, end: start + Math.round(ev.dur * 1000), at: n });
          slices.set(track, list);
        }
        usedTracks.add(track);
        usedProcesses.add(pid);
        break;
      }
      case 'i':
      case 'I':
        if (ev.s !== undefined && ev.s !== 't' && ev.s !== 'p' && ev.s !== 'g') bad(`${at} (${ph}): scope s ${JSON.stringify(ev.s)} is not t, p or g`);
        if (ev.s === undefined || ev.s === 't') usedTracks.add(track);
        if (ev.s !== 'g') usedProcesses.add(pid);
        break;
      case 'C': {
        const args = ev.args;
        if (!isRecord(args) || Object.keys(args).length === 0) bad(`${at} (C): a counter needs args with at least one series`);
        else for (const [k, v] of Object.entries(args)) if (!isFiniteNumber(v)) bad(`${at} (C): series ${k} is not a number`);
        usedProcesses.add(pid);
        break;
      }
      case 'M': {
        const spec = typeof ev.name === 'string' ? METADATA[ev.name] : undefined;
        if (!spec) {
          bad(`${at} (M): unknown metadata record ${JSON.stringify(ev.name)}`);
          break;
        }
        const v = isRecord(ev.args) ? ev.args[spec.key] : undefined;
        if (spec.type === 'string' ? typeof v !== 'string' || v.length === 0 : !isFiniteNumber(v)) bad(`${at} (M ${String(ev.name)}): args.${spec.key} is missing or not a ${spec.type}`);
        else if (ev.name === 'process_name') processNames.add(pid);
        else if (ev.name === 'thread_name') threadNames.add(track);
        break;
      }
      default:
        break;
    }
  });

  for (const p of [...usedProcesses].sort((a, b) => a - b)) if (!processNames.has(p)) bad(`process ${p} has events but no process_name metadata`);
  for (const t of [...usedTracks].sort()) if (!threadNames.has(t)) bad(`track ${t} (pid/tid) has events but no thread_name metadata`);

  for (const [track, list] of [...slices.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
    list.sort((a, b) => a.start - b.start || b.end - a.end || a.at - b.at);
    const stack: { end: number; at: number }[] = [];
    for (const s of list) {
      while (stack.length > 0 && stack[stack.length - 1].end <= s.start) stack.pop();
      const top = stack[stack.length - 1];
      if (top && s.end > top.end) bad(`track ${track}: traceEvents[${s.at}] overlaps traceEvents[${top.at}] without nesting in it`);
      stack.push({ end: s.end, at: s.at });
    }
  }
  return problems;
}

/** Throws with the first problems when `json` is not a valid trace. */
export function assertValidPerfetto(json: unknown): void {
  const p = validatePerfetto(json);
  if (p.length > 0) throw new Error(`invalid Chrome Trace Event JSON:\n  ${p.slice(0, 10).join('\n  ')}`);
}
