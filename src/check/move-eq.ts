/** Moves as values: a canonical text, structural equality, and the move kind a move belongs to. */
import { Move, MOVE_KINDS, MoveKind } from './explore.js';

/** A canonical text of a move (keys sorted): equal moves, equal texts, whatever the key order. */
export function moveId(m: Move): string {
  const o = m as unknown as Record<string, unknown>;
  return Object.keys(o)
    .sort()
    .map((k) => `${k}=${String(o[k])}`)
    .join(',');
}

export function sameMove(a: Move, b: Move): boolean {
  return moveId(a) === moveId(b);
}

/** The `--moves` kind that enables `m`. */
export function moveKindOf(m: Move): MoveKind | undefined {
  const k =
    m.op === 'kfpu' ? `kfpu-${m.ctx}` : m.op === 'sigreturn-restore' ? 'sigreturn-enter' : m.op === 'fork' ? (m.thread ? 'clone' : 'fork') : m.op === 'ptrace' ? `ptrace-${m.how}` : m.op === 'pasid' && m.change ? 'pasid-change' : m.op;
  return (MOVE_KINDS as readonly string[]).includes(k) ? (k as MoveKind) : undefined;
}
