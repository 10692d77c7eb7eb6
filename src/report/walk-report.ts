/** The checker's output for random walks (`--mode random`): what was searched, and what was found. */
import type { WalkResult } from '../check/random-walk.js';
import { boundsLine } from './check-report.js';

export interface WalkMinimization {
  /** Moves of the walk up to the violation. */
  from: number;
  /** Replays delta debugging tried. */
  tests: number;
}

export function walkText(r: WalkResult, label: string, min?: WalkMinimization): string {
  const rate = r.seconds > 0 ? `, ${Math.round(r.steps / r.seconds).toLocaleString('en-US')} moves/s` : '';
  const head =
    `check ${label}: ${boundsLine(r.config)} (random walks, seed ${r.seed})\n` +
    `${r.walksDone.toLocaleString('en-US')} walks of at most ${r.walkDepth} moves: ${r.steps.toLocaleString('en-US')} moves, ${r.states.toLocaleString('en-US')} distinct states, ${r.seconds.toFixed(2)} s${rate}\n`;
  if (!r.finding) return head + `no violation found in ${r.walksDone.toLocaleString('en-US')} random walks (not exhaustive: a search, not a proof)\n`;
  const how = min ? `found after ${min.from} moves of walk ${r.walksDone}, minimized to ${r.finding.path.length} by delta debugging (${min.tests} replays)` : `found by walk ${r.walksDone}`;
  return head + `VIOLATION of ${r.finding.invariant} after ${r.finding.path.length} moves (${how})\n`;
}
