/** Messages between the parallel breadth-first search (parallel.ts) and its workers (bfs-worker.ts). */
import type { CheckConfig, Move } from './explore.js';
import type { TargetSpec } from './target-spec.js';

/** How frontier states move between workers when the frontier is rebalanced. */
export type Transfer = 'state' | 'path';

export interface WorkerInit {
  cpu: string;
  spec: TargetSpec;
  cfg: CheckConfig;
  /** Worker 0 starts with the initial state. */
  index: number;
}

/** A serialized explorer node (its parent link dropped): structured-cloned as it is. */
export type NodeBlob = Record<string, unknown>;

export type ToWorker =
  | { type: 'expand' }
  /** keep[i] = 1: the i-th candidate of the last expansion is a new state; export ranges of the kept ones to other workers. */
  | { type: 'keep'; keep: Uint8Array; exports: { from: number; count: number }[] }
  /** The next frontier, in order: ranges of the worker's own kept states, states from others, or paths (move indices) to replay. */
  | { type: 'assemble'; parts: ({ own: [number, number] } | { nodes: NodeBlob[] } | { paths: Uint16Array[] })[] };

export interface ExpandReply {
  /** Children (transitions) of each frontier node, in order; the list ends at the first violation. */
  perNode: Int32Array;
  /** Per child: 0 a candidate new state, 1 a state this worker produced before, 2 a violation (the last). */
  kinds: Uint8Array;
  /** Per child: its index in enabled(). */
  moveIdx: Uint16Array;
  /** Per candidate: its canonical key. */
  keys: string[];
  bad?: { invariant: string; detail: string; move: Move };
  /** The worker's value pool (token numbering must agree across workers). */
  pool: string;
}

export interface KeepReply {
  exports: NodeBlob[][];
}
