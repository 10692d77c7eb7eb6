/**
 * Runs a sweep: every (point, policy set) not already in DIR/results.jsonl, in parallel on worker
 * threads, appending each result as one JSON line the moment it is done — so an interrupted sweep
 * loses at most the points in flight and resumes where it stopped. A finished sweep's file is
 * rewritten in grid order, so the same sweep gives the same bytes however it was scheduled.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { InputError } from '../arch/errors.js';
import { lineKey, PointJob, runPoint, SweepLine } from './sweep-point.js';
import { gridPoints, Sweep } from './sweep-spec.js';

export interface SweepRunOptions {
  /** Output directory (results.jsonl goes there). */
  out: string;
  /** Worker threads (1: run in this thread). */
  jobs: number;
  /** Run at most this many new (point, policy) results now; the rest on a later run. */
  maxPoints?: number;
  /** Discard earlier results in `out` and start over. */
  fresh?: boolean;
  onResult?: (done: number, total: number) => void;
}

export interface SweepOutcome {
  file: string;
  total: number;
  /** Results found in the file from earlier runs. */
  resumed: number;
  /** Results computed now. */
  ran: number;
  /** A partial last line (an interrupted write) that was dropped. */
  droppedPartial: boolean;
  complete: boolean;
  /** The results present, in grid order. */
  lines: SweepLine[];
}

/** Every (point, policy) job of the sweep, in grid order. */
export function sweepJobs(s: Sweep): PointJob[] {
  return gridPoints(s.params).flatMap((point) =>
    s.policies.map((policy) => ({ scenario: s.scenario, cpu: s.cpu, costs: s.costs, kernel: s.kernel, runs: s.runs, seed: s.seed, point, policy })),
  );
}

function readResults(file: string, hash: string): { lines: Map<string, SweepLine>; droppedPartial: boolean } {
  const lines = new Map<string, SweepLine>();
  if (!existsSync(file)) return { lines, droppedPartial: false };
  const text = readFileSync(file, 'utf8');
  const rows = text.split('\n');
  if (rows[rows.length - 1] === '') rows.pop();
  let droppedPartial = false;
  rows.forEach((row, i) => {
    let l: SweepLine;
    try {
      l = JSON.parse(row) as SweepLine;
    } catch {
      // Only the last line can be cut short by an interruption; anything else is not our file.
      if (i === rows.length - 1 && !text.endsWith('\n')) {
        droppedPartial = true;
        return;
      }
      throw new InputError('not a sweep results line (JSON)', `${file}:${i + 1}`);
    }
    if (l.sweep !== hash) throw new InputError(`results of a different sweep (${String(l.sweep)}, this one is ${hash}): use another --out or remove the file`, `${file}:${i + 1}`);
    lines.set(lineKey(l.point, l.policy), l);
  });
  return { lines, droppedPartial };
}

export async function runSweep(s: Sweep, o: SweepRunOptions): Promise<SweepOutcome> {
  mkdirSync(o.out, { recursive: true });
  const file = join(o.out, 'results.jsonl');
  if (o.fresh) rmSync(file, { force: true });
  const { lines, droppedPartial } = readResults(file, s.hash);
  if (droppedPartial) writeFileSync(file, [...lines.values()].map((l) => JSON.stringify(l) + '\n').join(''));
  const all = sweepJobs(s);
  const resumed = all.filter((j) => lines.has(lineKey(j.point, j.policy))).length;
  let todo = all.filter((j) => !lines.has(lineKey(j.point, j.policy)));
  if (o.maxPoints !== undefined) todo = todo.slice(0, o.maxPoints);
  let done = resumed;
  const record = (l: SweepLine): void => {
    appendFileSync(file, JSON.stringify(l) + '\n');
    lines.set(lineKey(l.point, l.policy), l);
    o.onResult?.(++done, all.length);
  };

  if (o.jobs <= 1 || todo.length <= 1) for (const j of todo) record(runPoint(j, s.hash));
  else await runOnWorkers(todo, s.hash, Math.min(o.jobs, todo.length), record);

  const complete = all.every((j) => lines.has(lineKey(j.point, j.policy)));
  const ordered = all.map((j) => lines.get(lineKey(j.point, j.policy))).filter((l): l is SweepLine => l !== undefined);
  if (complete) {
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, ordered.map((l) => JSON.stringify(l) + '\n').join(''));
    renameSync(tmp, file);
  }
  return { file, total: all.length, resumed, ran: todo.length, droppedPartial, complete, lines: ordered };
}

function runOnWorkers(todo: PointJob[], hash: string, n: number, record: (l: SweepLine) => void): Promise<void> {
  return new Promise((resolveAll, reject) => {
    const url = new URL('./sweep-worker.js', import.meta.url);
    const workers: Worker[] = [];
    let next = 0;
    let finished = 0;
    let failed = false;
    const stop = (): void => void Promise.all(workers.map((w) => w.terminate()));
    const feed = (w: Worker): void => {
      if (next < todo.length) {
        const id = next++;
        w.postMessage({ id, job: todo[id], hash });
      }
    };
    for (let i = 0; i < n; i++) {
      const w = new Worker(url);
      workers.push(w);
      w.on('message', (m: { id: number; line?: SweepLine; error?: string }) => {
        if (failed) return;
        if (m.error !== undefined || !m.line) {
          failed = true;
          stop();
          reject(new Error(`sweep point ${JSON.stringify(todo[m.id].point)} ${todo[m.id].policy}: ${m.error ?? 'no result'}`));
          return;
        }
        record(m.line);
        if (++finished === todo.length) {
          stop();
          resolveAll();
        } else feed(w);
      });
      w.on('error', (e) => {
        if (failed) return;
        failed = true;
        stop();
        reject(e);
      });
      feed(w);
    }
  });
}
