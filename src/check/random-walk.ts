/**
 * Seeded random walks, for configurations too large for breadth-first search: each walk starts from
 * the initial state and picks uniformly among the enabled moves with the PRNG, for at most
 * `walkDepth` moves; the first violation ends the search. Deterministic for a seed. Not exhaustive:
 * a clean result says nothing beyond the walks taken.
 */
import type { CpuProfile } from '../arch/profile.js';
import { createPrng, nextInt } from '../util/prng.js';
import { CheckConfig, Explorer, Finding, Move, Target } from './explore.js';

export interface WalkOptions {
  walks: number;
  walkDepth: number;
  seed: number;
}

export interface WalkResult extends WalkOptions {
  policy: string;
  config: CheckConfig;
  /** Walks taken (the last one found the violation, if any). */
  walksDone: number;
  /** Moves taken in all. */
  steps: number;
  /** Distinct states seen (the same canonical keys as breadth-first search). */
  states: number;
  /** The walk's path up to the violation (not minimized: see minimize.ts). */
  finding?: Finding;
  seconds: number;
}

export function randomWalks(profile: CpuProfile, target: Target, cfg: CheckConfig, o: WalkOptions, now: () => number = () => 0, onWalk?: (walks: number, states: number) => void): WalkResult {
  const t0 = now();
  const rng = createPrng(o.seed);
  const x = new Explorer(profile, target, cfg);
  const root = x.snapshot(null, null, 0);
  const seen = new Set<string>([x.key()]);
  let steps = 0;
  const done = (walksDone: number, finding?: Finding): WalkResult => ({ ...o, policy: target.policy.name, config: cfg, walksDone, steps, states: seen.size, finding, seconds: (now() - t0) / 1000 });
  for (let w = 0; w < o.walks; w++) {
    x.restore(root);
    const path: Move[] = [];
    for (let d = 0; d < o.walkDepth; d++) {
      const moves = x.enabled();
      if (moves.length === 0) break;
      const m = moves[nextInt(rng, moves.length)];
      path.push(m);
      steps++;
      const bad = x.move(m);
      if (bad) return done(w + 1, { ...bad, path });
      seen.add(x.key());
    }
    onWalk?.(w + 1, seen.size);
  }
  return done(o.walks);
}
