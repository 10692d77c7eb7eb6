/**
 * The checker's explorer: breadth-first over every interleaving of a small machine's events, within
 * bounds, from the kernel model's one step function. BFS, so the first counterexample found is a
 * shortest one. A state is the kernel model's canonical hash plus the oracle's shadow.
 *
 * The oracle: each task's shadow holds the token it last wrote to each tracked component (init at
 * start). Whenever a task returns to user mode it reads every tracked component:
 *  - integrity: it must see its own last value;
 *  - confidentiality: a value some other task, or kernel FPU code, wrote is a leak (reported as such).
 * Every rule the kernel model itself checks (kernel/kernel.ts `violation`) is an invariant too.
 */
import { CpuProfile } from '../arch/profile.js';
import { valueToken } from '../kernel/entry.js';
import type { FpuPolicy } from '../kernel/fpu/policy.js';
import type { Designs } from '../kernel/designs.js';
import { KERNEL_TAG } from '../kernel/kfpu.js';
import { createKernel, Kernel, Violation } from '../kernel/kernel.js';
import { cloneState, hashState } from '../kernel/snapshot.js';
import { KState } from '../kernel/state.js';
import { KEvent, step } from '../kernel/step.js';
import type { KfpuContext } from '../kernel/kfpu.js';
import type { TraceEvent } from '../kernel/trace/events.js';

/** One move of the explorer, in kernel terms. */
export type Move =
  | { op: 'write'; pid: number; comp: number }
  | { op: 'syscall'; pid: number }
  | { op: 'return'; pid: number }
  | { op: 'switch'; cpu: number; next: number }
  | { op: 'kfpu'; cpu: number; ctx: KfpuContext }
  | { op: 'migrate'; pid: number; cpu: number }
  | { op: 'signal'; pid: number }
  | { op: 'sigreturn'; pid: number }
  | { op: 'exec'; pid: number };

export const MOVE_KINDS = ['write', 'syscall', 'return', 'switch', 'kfpu-task', 'kfpu-softirq', 'kfpu-hardirq', 'migrate', 'signal', 'sigreturn', 'exec'] as const;
export type MoveKind = (typeof MOVE_KINDS)[number];

export interface CheckConfig {
  cpus: number;
  tasks: number;
  /** Most moves on a path. */
  depth: number;
  /** XSAVE components user code writes and reads (1 = SSE, 2 = AVX). */
  comps: number[];
  moves: MoveKind[];
  /** Stop after this many distinct states (the result says the bound was hit). */
  maxStates: number;
}

/** The default bounds: every move but signals (`--moves` adds them; they multiply the space). */
export const DEFAULT_CONFIG: CheckConfig = { cpus: 2, tasks: 2, depth: 12, comps: [1], moves: MOVE_KINDS.filter((m) => m !== 'signal' && m !== 'sigreturn'), maxStates: 2_000_000 };

/** SIGUSR1: the handler runs and returns with rt_sigreturn. */
const SIGUSR1 = 10;
/** rt_sigreturn's syscall number. */
const NR_RT_SIGRETURN = 15;

export interface Finding {
  invariant: string;
  detail: string;
  /** The moves from the initial state, shortest first found. */
  path: Move[];
}

export interface CheckResult {
  policy: string;
  config: CheckConfig;
  states: number;
  transitions: number;
  /** Depth fully explored (== config.depth when no bound was hit). */
  depthReached: number;
  exhaustive: boolean;
  finding?: Finding;
  seconds: number;
}

/** What is checked: an FPU policy and the design alternatives beside it (a mutant is one too). */
export interface Target {
  policy: FpuPolicy;
  /** Buffer design, PKRU and PASID policies; missing ones are not modeled. */
  designs?: Partial<Designs>;
}

const FIRST_PID = 101;
const idlePid = (cpu: number): number => -1 - cpu;

/** Two values per task and component, so the state space stays finite: the write toggles between them. */
const tagOf = (pid: number, which: number): number => pid * 2 + which;

interface Node {
  /** Null once the last move from the node has taken it over. */
  st: KState | null;
  shadow: Int32Array;
  saved: Int32Array;
  inSys: Uint8Array;
  parent: Node | null;
  move: Move | null;
  depth: number;
}

export class Explorer {
  readonly k: Kernel;
  readonly pids: number[];
  private shadow: Int32Array;
  /** The shadow of the interrupted context while a signal handler runs (one level of frames). */
  private saved: Int32Array;
  /** Per task: 0 user/kernel outside a syscall, 1 in a syscall (rt_sigreturn counts). */
  private inSys: Uint8Array;
  private owner = new Map<number, string>();
  private violations: Violation[] = [];
  /** When set, the trace events of every step (counterexample stories). */
  traceOut: TraceEvent[] | null = null;

  constructor(
    profile: CpuProfile,
    readonly target: Target,
    readonly cfg: CheckConfig,
  ) {
    this.k = createKernel(profile, target.policy, { cpus: cfg.cpus, version: '6.18', designs: target.designs });
    this.pids = Array.from({ length: cfg.tasks }, (_, i) => FIRST_PID + i);
    this.shadow = new Int32Array(cfg.tasks * cfg.comps.length);
    this.saved = new Int32Array(cfg.tasks * cfg.comps.length);
    this.inSys = new Uint8Array(cfg.tasks);
    for (const [ci, c] of cfg.comps.entries()) {
      this.owner.set(c * 1e6 + valueToken(this.k, c, KERNEL_TAG), 'kernel FPU code');
      for (const pid of this.pids) for (const w of [0, 1]) this.owner.set(c * 1e6 + valueToken(this.k, c, tagOf(pid, w)), `task t${pid}`);
      void ci;
    }
    // Each task starts asleep on CPU (i mod cpus), then the first ones run and return to user mode.
    this.pids.forEach((pid, i) => this.apply({ type: 'spawn', pid, comm: `t${pid}`, kind: 'user', cpu: i % cfg.cpus }));
    for (const pid of this.pids) this.apply({ type: 'wakeup', pid, by: 0 });
    for (let c = 0; c < cfg.cpus && c < this.pids.length; c++) {
      this.apply({ type: 'switch', cpu: c, next: this.pids[c], prevState: 'R' });
      this.apply({ type: 'return', pid: this.pids[c] });
    }
  }

  private apply(ev: KEvent): number {
    ev.ts = this.k.st.now + 1000;
    const r = step(this.k, ev, this.traceOut !== null);
    if (r.violations.length) this.violations.push(...r.violations);
    if (this.traceOut) this.traceOut.push(...r.trace);
    return r.observed;
  }

  private idx(pid: number): number {
    return pid - FIRST_PID;
  }

  /** The moves enabled in the current state. */
  enabled(): Move[] {
    const out: Move[] = [];
    const on = new Set(this.cfg.moves);
    const st = this.k.st;
    for (const cpu of st.cpus) {
      const t = st.tasks.get(cpu.curr);
      const user = t !== undefined && t.kind === 'user';
      if (user && t.inUser) {
        if (on.has('write')) for (const comp of this.cfg.comps) out.push({ op: 'write', pid: t.pid, comp });
        if (on.has('syscall')) out.push({ op: 'syscall', pid: t.pid });
      }
      if (user && !t.inUser && on.has('return')) out.push({ op: 'return', pid: t.pid });
      // The task's system call is execve(): the new program must start from init state.
      if (user && !t.inUser && on.has('exec') && this.inSys[this.idx(t.pid)] === 1 && t.frames.length === 0) out.push({ op: 'exec', pid: t.pid });
      // rt_sigreturn: a handler running in user mode returns (one level of handlers).
      if (user && t.inUser && on.has('sigreturn') && t.frames.length > 0) out.push({ op: 'sigreturn', pid: t.pid });
      const inKernel = !user || !t.inUser;
      if (inKernel && on.has('switch')) {
        for (const pid of this.pids) {
          const n = st.tasks.get(pid)!;
          if (n.run === 'runnable' && n.cpu === cpu.id && pid !== cpu.curr) out.push({ op: 'switch', cpu: cpu.id, next: pid });
        }
        if (user) out.push({ op: 'switch', cpu: cpu.id, next: idlePid(cpu.id) });
      }
      if (on.has('kfpu-task') && user && !t.inUser) out.push({ op: 'kfpu', cpu: cpu.id, ctx: 'task' });
      if (on.has('kfpu-softirq')) out.push({ op: 'kfpu', cpu: cpu.id, ctx: 'softirq' });
      if (on.has('kfpu-hardirq')) out.push({ op: 'kfpu', cpu: cpu.id, ctx: 'hardirq' });
    }
    if (on.has('signal'))
      for (const pid of this.pids) {
        const t = st.tasks.get(pid)!;
        if (t.pending.length === 0 && t.frames.length === 0) out.push({ op: 'signal', pid });
      }
    if (on.has('migrate'))
      for (const pid of this.pids) {
        const t = st.tasks.get(pid)!;
        if (t.run !== 'runnable' || st.cpus[t.cpu].curr === pid) continue;
        for (const cpu of st.cpus) if (cpu.id !== t.cpu) out.push({ op: 'migrate', pid, cpu: cpu.id });
      }
    return out;
  }

  /** Applies a move; returns the first invariant it breaks. */
  move(m: Move): { invariant: string; detail: string } | null {
    this.violations = [];
    switch (m.op) {
      case 'write': {
        const i = this.idx(m.pid) * this.cfg.comps.length + this.cfg.comps.indexOf(m.comp);
        const which = this.shadow[i] === valueToken(this.k, m.comp, tagOf(m.pid, 0)) ? 1 : 0;
        const tag = tagOf(m.pid, which);
        this.apply({ type: 'user-write', pid: m.pid, comp: m.comp, tag });
        this.shadow[i] = valueToken(this.k, m.comp, tag);
        break;
      }
      case 'syscall':
        this.apply({ type: 'syscall', pid: m.pid, nr: 39 });
        this.inSys[this.idx(m.pid)] = 1;
        break;
      case 'return': {
        if (this.inSys[this.idx(m.pid)]) this.apply({ type: 'sysexit', pid: m.pid, nr: 39, ret: m.pid });
        this.inSys[this.idx(m.pid)] = 0;
        this.returnToUser(m.pid);
        const bad = this.observe(m.pid);
        if (bad) return bad;
        break;
      }
      case 'signal':
        this.apply({ type: 'kill', pid: m.pid, sig: SIGUSR1 });
        break;
      case 'exec': {
        this.apply({ type: 'exec', pid: m.pid, filename: '/bin/true' });
        const n = this.cfg.comps.length;
        this.shadow.fill(0, this.idx(m.pid) * n, this.idx(m.pid) * n + n);
        break;
      }
      case 'sigreturn': {
        // The handler's rt_sigreturn: the kernel restores the interrupted context from the frame.
        this.apply({ type: 'syscall', pid: m.pid, nr: NR_RT_SIGRETURN });
        this.apply({ type: 'sigreturn', pid: m.pid });
        const n = this.cfg.comps.length;
        const i = this.idx(m.pid) * n;
        this.shadow.set(this.saved.subarray(i, i + n), i);
        this.saved.fill(0, i, i + n);
        this.returnToUser(m.pid);
        const bad = this.observe(m.pid);
        if (bad) return bad;
        break;
      }
      case 'switch':
        this.apply({ type: 'switch', cpu: m.cpu, next: m.next, prevState: 'R' });
        break;
      case 'kfpu': {
        // An interrupt from user mode runs its softirq/hardirq FPU section, then exits to user mode
        // (irqentry_exit_to_user_mode), where the interrupted task's state must come back.
        const t = this.k.st.tasks.get(this.k.st.cpus[m.cpu].curr);
        const fromUser = t !== undefined && t.kind === 'user' && t.inUser;
        this.apply({ type: 'kfpu', cpu: m.cpu, ctx: m.ctx });
        if (fromUser) {
          this.returnToUser(t.pid);
          const bad = this.observe(t.pid);
          if (bad) return bad;
        }
        break;
      }
      case 'migrate':
        this.apply({ type: 'migrate', pid: m.pid, cpu: m.cpu, on: this.k.st.tasks.get(m.pid)!.cpu });
        break;
    }
    const v = this.violations[0];
    return v ? { invariant: v.rule, detail: v.detail } : null;
  }

  /** exit_to_user_mode: a pending signal is delivered there; its handler starts from init state. */
  private returnToUser(pid: number): void {
    const t = this.k.st.tasks.get(pid)!;
    const before = t.frames.length;
    this.apply({ type: 'return', pid });
    if (t.frames.length > before) {
      const n = this.cfg.comps.length;
      const i = this.idx(pid) * n;
      this.saved.set(this.shadow.subarray(i, i + n), i);
      this.shadow.fill(0, i, i + n); // the handler's registers: init state (fpu__clear_user_states)
    }
  }

  /** The task, back in user mode, reads every tracked component: its own last value, nobody else's. */
  private observe(pid: number): { invariant: string; detail: string } | null {
    for (const [ci, comp] of this.cfg.comps.entries()) {
      const seen = this.apply({ type: 'user-read', pid, comp });
      const want = this.shadow[this.idx(pid) * this.cfg.comps.length + ci];
      if (seen === want) continue;
      const who = this.owner.get(comp * 1e6 + seen);
      const mine = who === `task t${pid}`;
      if (who !== undefined && !mine)
        return { invariant: 'confidentiality', detail: `t${pid} returned to user mode and reads component ${comp} = a value written by ${who}, not its own` };
      return { invariant: 'integrity', detail: `t${pid} returned to user mode and reads component ${comp} = ${mine ? 'an older value of its own' : seen === 0 ? 'init state' : `token ${seen}`}, not the value it last wrote` };
    }
    return null;
  }

  /** The current state as a node. The node takes the state over: call `restore` before the next move. */
  snapshot(parent: Node | null, move: Move | null, depth: number): Node {
    return { st: this.k.st, shadow: this.shadow, saved: this.saved, inSys: this.inSys, parent, move, depth };
  }

  /** Makes `n`'s state current: a copy, or with `last` (no further move from `n`) the node's own. */
  restore(n: Node, last = false): void {
    if (!n.st) throw new Error('explorer: node state already consumed');
    if (last) {
      this.k.st = n.st;
      n.st = null;
    } else this.k.st = cloneState(n.st);
    this.shadow = n.shadow.slice();
    this.saved = n.saved.slice();
    this.inSys = n.inSys.slice();
  }

  key(): string {
    return `${hashState(this.k.st)}|${this.shadow.join(',')}|${this.saved.join(',')}|${this.inSys.join('')}`;
  }
}

function pathOf(n: Node, last: Move): Move[] {
  const out: Move[] = [last];
  for (let p: Node | null = n; p && p.move; p = p.parent) out.push(p.move);
  return out.reverse();
}

/** Breadth-first exploration; stops at the first violation (a shortest counterexample) or the bounds. */
export function explore(profile: CpuProfile, target: Target, cfg: CheckConfig, now: () => number = () => 0, onProgress?: (depth: number, states: number) => void): CheckResult {
  const t0 = now();
  const policy = target.policy;
  const x = new Explorer(profile, target, cfg);
  const root = x.snapshot(null, null, 0);
  const seen = new Set<string>([x.key()]);
  let frontier: Node[] = [root];
  let transitions = 0;
  let depthReached = 0;
  for (let d = 0; d < cfg.depth && frontier.length > 0; d++) {
    const next: Node[] = [];
    for (const n of frontier) {
      x.restore(n);
      const moves = x.enabled();
      for (const [i, m] of moves.entries()) {
        // The first move runs on the copy enabled() looked at; the last one takes the node's own state.
        if (i > 0) x.restore(n, i === moves.length - 1);
        transitions++;
        if (onProgress && (transitions & 4095) === 0) onProgress(d, seen.size);
        const bad = x.move(m);
        if (bad) {
          return { policy: policy.name, config: cfg, states: seen.size, transitions, depthReached: d, exhaustive: false, finding: { ...bad, path: pathOf(n, m) }, seconds: (now() - t0) / 1000 };
        }
        const key = x.key();
        if (seen.has(key)) continue;
        seen.add(key);
        if (seen.size >= cfg.maxStates) return { policy: policy.name, config: cfg, states: seen.size, transitions, depthReached: d, exhaustive: false, seconds: (now() - t0) / 1000 };
        next.push(x.snapshot(n, m, d + 1));
      }
    }
    frontier = next;
    depthReached = d + 1;
  }
  return { policy: policy.name, config: cfg, states: seen.size, transitions, depthReached, exhaustive: true, seconds: (now() - t0) / 1000 };
}

/** Replays a path from the initial state; returns the violation it reaches (if any) and each move's outcome. */
export interface ReplayedMove {
  move: Move;
  trace: TraceEvent[];
}

export function replayPath(
  profile: CpuProfile,
  target: Target,
  cfg: CheckConfig,
  path: readonly Move[],
): { finding: { invariant: string; detail: string; at: number } | null; steps: ReplayedMove[] } {
  const x = new Explorer(profile, target, cfg);
  const steps: ReplayedMove[] = [];
  for (const [i, m] of path.entries()) {
    x.traceOut = [];
    const bad = x.move(m);
    steps.push({ move: m, trace: x.traceOut });
    if (bad) return { finding: { ...bad, at: i }, steps };
  }
  return { finding: null, steps };
}
