/**
 * Delta debugging (Zeller and Hildebrandt's ddmin) of a counterexample: remove moves while the path,
 * replayed from the initial state, still breaks the same invariant. A candidate whose move is not
 * enabled where it comes (Explorer.enabled(), compared structurally) is invalid; a candidate that
 * breaks the invariant before its end is cut there. The result is 1-minimal: removing any one move
 * loses the violation. Breadth-first paths are already shortest, so for them this is a no-op.
 *
 * Then the configuration: only the move kinds the path uses, and fewer CPUs and tasks while the path
 * still reproduces (the path names CPUs and tasks by number, so the highest go first).
 */
import type { CpuProfile } from '../arch/profile.js';
import { CheckConfig, Explorer, Move, Target } from './explore.js';
import { moveKindOf, sameMove } from './move-eq.js';

/** Replays `path`: the number of moves up to the one that breaks `invariant`, or null (invalid, or no such violation). */
export function reproduces(profile: CpuProfile, target: Target, cfg: CheckConfig, path: readonly Move[], invariant: string): number | null {
  const x = new Explorer(profile, target, cfg);
  for (const [i, m] of path.entries()) {
    if (!x.enabled().some((e) => sameMove(e, m))) return null;
    const bad = x.move(m);
    if (bad) return bad.invariant === invariant ? i + 1 : null;
  }
  return null;
}

export interface Minimized {
  path: Move[];
  /** Replays tried. */
  tests: number;
}

/** ddmin over the moves of a path that reproduces `invariant`. */
export function minimizePath(profile: CpuProfile, target: Target, cfg: CheckConfig, path: readonly Move[], invariant: string): Minimized {
  let tests = 0;
  const test = (c: readonly Move[]): Move[] | null => {
    tests++;
    const n = c.length > 0 ? reproduces(profile, target, cfg, c, invariant) : null;
    return n === null ? null : c.slice(0, n);
  };
  let cur = test(path);
  if (!cur) throw new Error('minimize: the path does not reproduce its violation');
  let n = 2;
  while (cur.length >= 2) {
    const size = Math.ceil(cur.length / n);
    const chunks: [number, number][] = [];
    for (let s = 0; s < cur.length; s += size) chunks.push([s, Math.min(cur.length, s + size)]);
    let next: Move[] | null = null;
    for (const [a, b] of chunks) if ((next = test(cur.slice(a, b)))) break;
    if (next) n = 2;
    else {
      for (const [a, b] of chunks) if ((next = test([...cur.slice(0, a), ...cur.slice(b)]))) break;
      if (next) n = Math.max(n - 1, 2);
    }
    if (next) {
      cur = next;
      continue;
    }
    if (n >= cur.length) break;
    n = Math.min(n * 2, cur.length);
  }
  return { path: cur, tests };
}

/** The smallest configuration (moves used, then fewer CPUs, then fewer tasks) the path still reproduces in. */
export function minimizeConfig(profile: CpuProfile, target: Target, cfg: CheckConfig, path: readonly Move[], invariant: string): CheckConfig {
  let best = cfg;
  const ok = (c: CheckConfig): boolean => reproduces(profile, target, c, path, invariant) === path.length;
  const kinds = path.map(moveKindOf);
  if (kinds.every((k) => k !== undefined)) {
    const used = cfg.moves.filter((k) => kinds.includes(k));
    const c = { ...best, moves: used };
    if (used.length > 0 && ok(c)) best = c;
  }
  for (const field of ['cpus', 'tasks'] as const)
    while (best[field] > 1) {
      const c = { ...best, [field]: best[field] - 1 };
      if (!ok(c)) break;
      best = c;
    }
  return best;
}
