/**
 * Breadth-first search on worker threads, level by level. Each worker owns an Explorer and a
 * contiguous slice of the level's frontier; it expands its slice and sends back, per transition, its
 * kind (a candidate new state with its key, a state it produced itself before, or a violation). The
 * main thread merges the slices in frontier order against the one set of seen keys — exactly the
 * order of the single-threaded `explore` — so states, transitions, depth and the counterexample found
 * (the first in breadth-first order, a shortest one) are the same whatever the number of workers.
 * Then the new frontier is cut again into equal contiguous slices: states that change worker travel
 * as structured clones of the explorer's node (`transfer: 'state'`) or as paths the receiving worker
 * replays from the initial state (`'path'`).
 */
import { Worker } from 'node:worker_threads';
import type { CpuProfile } from '../arch/profile.js';
import type { ExpandReply, KeepReply, NodeBlob, ToWorker, Transfer, WorkerInit } from './bfs-protocol.js';
import { CheckConfig, CheckResult, explore, Explorer, Move } from './explore.js';
import { resolveTarget, TargetSpec } from './target-spec.js';

export interface ParallelOptions {
  workers: number;
  transfer?: Transfer;
  now?: () => number;
  /** After each level: distinct states so far and the depth done. */
  onLevel?: (states: number, depth: number) => void;
}

interface Level {
  parent: Int32Array;
  moveIdx: Uint16Array;
}

function call<T>(w: Worker, msg: ToWorker): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onMessage = (v: T): void => {
      w.off('error', onError);
      resolve(v);
    };
    const onError = (e: Error): void => {
      w.off('message', onMessage);
      reject(e);
    };
    w.once('message', onMessage);
    w.once('error', onError);
    w.postMessage(msg);
  });
}

/** The move indices from the initial state to node `i` of level `d`. */
function indexPath(levels: readonly Level[], d: number, i: number): number[] {
  const out: number[] = [];
  for (let l = d; l > 0; l--) {
    out.push(levels[l].moveIdx[i]);
    i = levels[l].parent[i];
  }
  return out.reverse();
}

/** Breadth-first search on `o.workers` threads; `workers` in the result is 1 when it fell back to one thread. */
export async function exploreParallel(profile: CpuProfile, cpu: string, spec: TargetSpec, cfg: CheckConfig, o: ParallelOptions): Promise<CheckResult & { workers: number }> {
  const r = await levels(profile, cpu, spec, cfg, o);
  if (r) return { ...r, workers: o.workers };
  // The workers numbered some value differently (see warm-pool.ts): one thread gives the same result.
  return { ...explore(profile, resolveTarget(spec).target, cfg, o.now), workers: 1 };
}

async function levels(profile: CpuProfile, cpu: string, spec: TargetSpec, cfg: CheckConfig, o: ParallelOptions): Promise<CheckResult | null> {
  const now = o.now ?? (() => 0);
  const t0 = now();
  const transfer = o.transfer ?? 'path';
  const n = Math.max(1, o.workers);
  const { target } = resolveTarget(spec);
  const rootX = new Explorer(profile, target, cfg);
  const seen = new Set<string>([rootX.key()]);
  const movesOf = (idx: readonly number[]): Move[] => {
    const x = new Explorer(profile, target, cfg);
    return idx.map((i) => {
      const m = x.enabled()[i];
      x.move(m);
      return m;
    });
  };
  const workers = Array.from({ length: n }, (_, index) => new Worker(new URL('./bfs-worker.js', import.meta.url), { workerData: { cpu, spec, cfg, index } satisfies WorkerInit }));
  const levels: Level[] = [{ parent: new Int32Array(1), moveIdx: new Uint16Array(1) }];
  let held: number[] = workers.map((_, i) => (i === 0 ? 1 : 0));
  let transitions = 0;
  let depthReached = 0;
  const result = (exhaustive: boolean, extra: Partial<CheckResult> = {}): CheckResult => ({ policy: target.policy.name, config: cfg, states: seen.size, transitions, depthReached, exhaustive, seconds: (now() - t0) / 1000, ...extra });
  try {
    for (let d = 0; d < cfg.depth && held.some((h) => h > 0); d++) {
      const replies = await Promise.all(workers.map((w) => call<ExpandReply>(w, { type: 'expand' })));
      if (replies.some((r) => r.pool !== replies[0].pool)) return null;
      const parent: number[] = [];
      const moveIdx: number[] = [];
      const keeps = replies.map((r) => new Uint8Array(r.keys.length));
      let base = 0;
      for (const [w, r] of replies.entries()) {
        let c = 0;
        let k = 0;
        for (let j = 0; j < r.perNode.length; j++)
          for (let t = 0; t < r.perNode[j]; t++, c++) {
            transitions++;
            const kind = r.kinds[c];
            if (kind === 2) {
              const bad = r.bad!;
              const path = [...movesOf(indexPath(levels, d, base + j)), bad.move];
              return result(false, { depthReached: d, finding: { invariant: bad.invariant, detail: bad.detail, path } });
            }
            if (kind === 1) continue;
            const key = r.keys[k];
            if (!seen.has(key)) {
              seen.add(key);
              keeps[w][k] = 1;
              parent.push(base + j);
              moveIdx.push(r.moveIdx[c]);
              if (seen.size >= cfg.maxStates) return result(false, { depthReached: d, stoppedBy: 'states' });
            }
            k++;
          }
        base += held[w];
      }
      levels.push({ parent: Int32Array.from(parent), moveIdx: Uint16Array.from(moveIdx) });
      await rebalance(workers, keeps, levels, d + 1, transfer);
      held = workers.map((_, v) => Math.floor(((v + 1) * parent.length) / n) - Math.floor((v * parent.length) / n));
      depthReached = d + 1;
      o.onLevel?.(seen.size, depthReached);
    }
    return result(true);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** Cuts the new frontier into equal contiguous slices, one per worker, moving the states that change worker. */
async function rebalance(workers: Worker[], keeps: Uint8Array[], levels: readonly Level[], d: number, transfer: Transfer): Promise<void> {
  const n = workers.length;
  const kept = keeps.map((k) => k.reduce((s, b) => s + b, 0));
  const total = kept.reduce((s, x) => s + x, 0);
  const start = kept.map((_, w) => kept.slice(0, w).reduce((s, x) => s + x, 0));
  const lo = (v: number): number => Math.floor((v * total) / n);
  /** Per source worker, per destination: the global range [a, b) it hands over. */
  const share = (w: number, v: number): [number, number] => [Math.max(start[w], lo(v)), Math.min(start[w] + kept[w], lo(v + 1))];
  const exportsTo: number[][] = workers.map(() => []);
  const keepReplies = await Promise.all(
    workers.map((w, src) => {
      const exports: { from: number; count: number }[] = [];
      if (transfer === 'state')
        for (let v = 0; v < n; v++) {
          const [a, b] = share(src, v);
          if (v === src || a >= b) continue;
          exports.push({ from: a - start[src], count: b - a });
          exportsTo[src].push(v);
        }
      return call<KeepReply>(w, { type: 'keep', keep: keeps[src], exports });
    }),
  );
  await Promise.all(
    workers.map((w, v) => {
      const parts: ({ own: [number, number] } | { nodes: NodeBlob[] } | { paths: Uint16Array[] })[] = [];
      for (let src = 0; src < n; src++) {
        const [a, b] = share(src, v);
        if (a >= b) continue;
        if (src === v) parts.push({ own: [a - start[src], b - start[src]] });
        else if (transfer === 'state') parts.push({ nodes: keepReplies[src].exports[exportsTo[src].indexOf(v)] });
        else parts.push({ paths: Array.from({ length: b - a }, (_, i) => Uint16Array.from(indexPath(levels, d, a + i))) });
      }
      return call<number>(w, { type: 'assemble', parts });
    }),
  );
}
