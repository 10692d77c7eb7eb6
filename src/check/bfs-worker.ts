/** A worker of the parallel breadth-first search: it owns an Explorer and a slice of each level's frontier. */
import { parentPort, workerData } from 'node:worker_threads';
import { loadProfile } from '../arch/profiles/index.js';
import type { ExpandReply, KeepReply, NodeBlob, ToWorker, WorkerInit } from './bfs-protocol.js';
import { Explorer } from './explore.js';
import { resolveTarget } from './target-spec.js';
import { warmPool } from './warm-pool.js';

type XNode = ReturnType<Explorer['snapshot']>;

const init = workerData as WorkerInit;
// The bounds come complete (a mutant's own included).
const x = new Explorer(loadProfile(init.cpu), resolveTarget(init.spec).target, init.cfg);
warmPool(x);
const root = x.snapshot(null, null, 0);
/** Keys this worker produced: all of them are in the main thread's seen set by the time it reads the next one. */
const mine = new Set<string>();
x.restore(root);
let frontier: XNode[] = init.index === 0 ? [x.snapshot(null, null, 0)] : [];
let candidates: XNode[] = [];
let kept: XNode[] = [];
let depth = 0;

function poolPrint(): string {
  let h = 0x811c9dc5;
  const counts: number[] = [];
  for (const imgs of x.k.m.pool.images) {
    counts.push(imgs.length);
    for (const b of imgs) for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i], 0x01000193);
  }
  return `${counts.join(',')}:${(h >>> 0).toString(16)}`;
}

function expand(): ExpandReply {
  const perNode: number[] = [];
  const kinds: number[] = [];
  const moveIdx: number[] = [];
  const keys: string[] = [];
  candidates = [];
  let bad: ExpandReply['bad'];
  for (const n of frontier) {
    x.view(n);
    const moves = x.enabled();
    let count = 0;
    for (const [i, m] of moves.entries()) {
      x.restore(n, i === moves.length - 1);
      count++;
      moveIdx.push(i);
      const v = x.move(m);
      if (v) {
        kinds.push(2);
        bad = { ...v, move: m };
        break;
      }
      const key = x.key();
      if (mine.has(key)) {
        kinds.push(1);
        continue;
      }
      mine.add(key);
      kinds.push(0);
      keys.push(key);
      candidates.push(x.snapshot(null, null, depth + 1));
    }
    perNode.push(count);
    if (bad) break;
  }
  frontier = [];
  return { perNode: Int32Array.from(perNode), kinds: Uint8Array.from(kinds), moveIdx: Uint16Array.from(moveIdx), keys, bad, pool: poolPrint() };
}

function replay(path: Uint16Array): XNode {
  x.restore(root);
  for (const i of path) x.move(x.enabled()[i]);
  // The next restore copies the state: take it over here so the root stays intact.
  return x.snapshot(null, null, path.length);
}

function handle(msg: ToWorker): unknown {
  switch (msg.type) {
    case 'expand':
      return expand();
    case 'keep': {
      kept = candidates.filter((_, i) => msg.keep[i] === 1);
      candidates = [];
      depth++;
      const exports = msg.exports.map((e) => kept.slice(e.from, e.from + e.count).map((n): NodeBlob => ({ ...n, parent: null })));
      return { exports } satisfies KeepReply;
    }
    case 'assemble': {
      const next: XNode[] = [];
      for (const p of msg.parts) {
        if ('own' in p) next.push(...kept.slice(p.own[0], p.own[1]));
        else if ('nodes' in p) next.push(...(p.nodes as unknown as XNode[]));
        else for (const path of p.paths) next.push(replay(path));
      }
      kept = [];
      frontier = next;
      return frontier.length;
    }
  }
}

parentPort!.on('message', (msg: ToWorker) => {
  const reply = handle(msg);
  parentPort!.postMessage(reply);
});
