/** Counterexample files: everything needed to replay a finding, validated on the way back in. */
import { z } from 'zod';
import { InputError, readInputFile } from '../arch/errors.js';
import { zodLine } from '../util/zod-line.js';
import { BAD_IMAGES, CheckConfig, Move, MOVE_KINDS, TRACKABLE } from './explore.js';

const MoveSchema = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('write'), pid: z.number().int(), comp: z.number().int().min(0).max(63) }),
  z.strictObject({ op: z.literal('syscall'), pid: z.number().int() }),
  z.strictObject({ op: z.literal('return'), pid: z.number().int() }),
  z.strictObject({ op: z.literal('switch'), cpu: z.number().int().min(0), next: z.number().int() }),
  z.strictObject({ op: z.literal('kfpu'), cpu: z.number().int().min(0), ctx: z.enum(['task', 'softirq', 'hardirq']) }),
  z.strictObject({ op: z.literal('migrate'), pid: z.number().int(), cpu: z.number().int().min(0) }),
  z.strictObject({ op: z.literal('signal'), pid: z.number().int() }),
  z.strictObject({ op: z.literal('sigreturn'), pid: z.number().int() }),
  z.strictObject({ op: z.literal('exec'), pid: z.number().int() }),
  z.strictObject({ op: z.literal('sigreturn-bad'), pid: z.number().int(), bad: z.enum(BAD_IMAGES) }),
  z.strictObject({ op: z.literal('sigreturn-enter'), pid: z.number().int(), bad: z.enum(BAD_IMAGES).optional() }),
  z.strictObject({ op: z.literal('sigreturn-restore'), pid: z.number().int() }),
  z.strictObject({ op: z.literal('fork'), pid: z.number().int(), thread: z.boolean() }),
  z.strictObject({ op: z.literal('exit'), pid: z.number().int() }),
  z.strictObject({ op: z.literal('ptrace'), pid: z.number().int(), target: z.number().int(), how: z.enum(['get', 'set', 'bogus']), bad: z.enum(BAD_IMAGES).optional() }),
  z.strictObject({ op: z.literal('uaccess'), pid: z.number().int() }),
  z.strictObject({ op: z.literal('pasid'), pid: z.number().int(), change: z.boolean() }),
  z.strictObject({ op: z.literal('enqcmd'), pid: z.number().int() }),
  z.strictObject({ op: z.literal('mxcsr'), pid: z.number().int() }),
  z.strictObject({ op: z.literal('irq-in-lock'), cpu: z.number().int().min(0) }),
  z.strictObject({ op: z.literal('coredump'), pid: z.number().int() }),
  z.strictObject({ op: z.literal('kvm'), pid: z.number().int(), what: z.enum(['run', 'entry', 'exit']) }),
  z.strictObject({ op: z.literal('guest-write'), pid: z.number().int(), comp: z.number().int().min(0).max(2) }),
]);

export const ConfigSchema = z.strictObject({
  cpus: z.number().int().min(1).max(8),
  tasks: z.number().int().min(1).max(8),
  children: z.number().int().min(0).max(4).default(0),
  depth: z.number().int().min(1).max(64),
  comps: z.array(z.number().int().refine((c) => (TRACKABLE as readonly number[]).includes(c), `a trackable component (${TRACKABLE.join(', ')})`)).min(1),
  moves: z.array(z.enum(MOVE_KINDS)).min(1),
  maxStates: z.number().int().positive(),
  warmup: z.number().int().min(0).max(16).optional(),
});

const FileSchema = z.strictObject({
  format: z.literal('switchlab-check-counterexample'),
  version: z.literal(1),
  policy: z.string(),
  mutant: z.string().optional(),
  designs: z.strictObject({ xbuf: z.string().optional(), pkru: z.string().optional(), pasid: z.string().optional() }).optional(),
  cpu: z.string(),
  kernel: z.string().optional(),
  config: ConfigSchema,
  mode: z.enum(['bfs', 'random']).optional(),
  seed: z.number().int().min(0).max(0xffff_ffff).optional(),
  finding: z.strictObject({ invariant: z.string(), detail: z.string() }),
  path: z.array(MoveSchema).min(1),
});

export interface Counterexample {
  format: 'switchlab-check-counterexample';
  version: 1;
  /** The policy checked (a mutant's name when `mutant` is set). */
  policy: string;
  mutant?: string;
  /** The designs checked beside the policy, by name (a mutant brings its own). */
  designs?: DesignNames;
  cpu: string;
  /** The Linux version checked, when not the default 6.18. */
  kernel?: string;
  config: CheckConfig;
  /** How it was found: breadth-first (a shortest path) or a random walk (minimized), and the walk's seed. */
  mode?: 'bfs' | 'random';
  seed?: number;
  finding: { invariant: string; detail: string };
  path: Move[];
}

export interface DesignNames {
  xbuf?: string;
  pkru?: string;
  pasid?: string;
}

export function loadCounterexample(path: string): Counterexample {
  const text = readInputFile(path, 'counterexample');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InputError(`not valid JSON: ${(e as Error).message.split('\n')[0]}`, path);
  }
  const r = FileSchema.safeParse(raw);
  if (!r.success) throw new InputError(zodLine(r.error), path);
  return r.data;
}
