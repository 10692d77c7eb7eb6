/**
 * Perfetto / Chrome Trace Event timelines of a trace (the model's, a replay's prediction, or a parsed
 * recording): the JSON object format of the Trace Event Format, which ui.perfetto.dev and
 * chrome://tracing open.
 *
 * - One process ("CPUs", pid 1 unless told) with one thread track per CPU (named "CPU n", tid from
 *   cpuTid). combinePerfetto puts several such timelines (distinct pids) in one file.
 * - Complete events ('X') for who runs on each CPU, from sched_switch (the next task runs from one
 *   switch to the next on that CPU), named "comm-pid", in category `user`, `kernel` or `idle`. A user
 *   task's time is split by what the trace says of its mode (below); kernel threads are `kernel`,
 *   pid 0 (swapper/N) is `idle`.
 * - Instant events ('i', thread scope) for the x86_fpu tracepoints (category `fpu,save` for
 *   regs_deactivated / before_save / copy_dst, `fpu,restore` for regs_activated, `fpu` for the rest),
 *   signal_deliver, sched_wakeup, sched_migrate_task, sched_process_fork/exec/exit, and for the
 *   caller's model annotations (#NM, IPIs, TLB flushes: no tracepoint exists for them).
 * - Counter events ('C'): "CPU n FPU owner" per CPU (the pid whose state the registers hold, see
 *   below) and the caller's counter samples (e.g. "XSTATE bytes allocated").
 *
 * Times: `ts` and `dur` are microseconds with fractional (nanosecond) precision, as the format
 * requires; `displayTimeUnit: 'ns'` only asks the viewer to display nanoseconds. Output is
 * deterministic: the same input gives the same JSON, byte for byte.
 *
 * User / kernel mode (what the trace shows of it). sys_enter and page_fault_user leave user mode;
 * sys_exit and a user page fault start the exit path (exit_to_user_mode), which ends in user mode at
 * x86_fpu_regs_activated (the deferred restore), or — when no restore was needed — at the exit path's
 * last event (signal delivery, FPU events, wakeups the task caused) once the task next shows a sign of
 * user mode: a syscall or user fault, being preempted (prev_state R+), or nothing of its own for more
 * than EXIT_WINDOW_NS. rt_sigreturn is all exit path. A task switched out in user mode comes back
 * through the exit path. Events in hardirq/softirq context (the flags' third character) never change
 * the interrupted task's mode. The part of a task's first slice before any such evidence is assumed
 * (args.reason says so). The simulator spends no model time in the kernel, so its timelines are
 * user and idle time with instants at the kernel entries; replays of recordings show kernel time.
 *
 * Switches the tracer did not record (real recordings lose some idle→task switches) are inferred: a
 * task with an event on a CPU where another task runs was switched in there (at its wakeup if the CPU
 * was idle and it was woken there); a task switched in on one CPU while another still shows it there
 * migrated, and that CPU goes idle. Such slices carry args.inferred = true. Events of the previous
 * task just after a sched_switch (x86_fpu_regs_deactivated in __switch_to) belong to the switch.
 *
 * FPU owner (fpu_fpregs_owner_ctx, as a pid; 0 = none known): x86_fpu_regs_activated makes the task
 * it fires for the owner; x86_fpu_regs_deactivated in the task's own context (exit) clears it, while
 * the one of a context switch does not (with deferred restores the registers still hold prev's state
 * — that is what lets prev skip its restore). Invalidations without a tracepoint (kernel_fpu_begin,
 * a clobbering signal frame) reach the counter only through annotations with `fpuOwner`.
 */
import { fieldsOf } from '../kernel/trace/ftrace.js';

/** A trace record: a model TraceEvent or a parsed ftrace line (FtraceRecord) both fit. ts in ns. */
export interface PerfettoInputEvent {
  ts: number;
  cpu: number;
  pid: number;
  comm: string;
  name: string;
  text: string;
  flags?: string;
}

export type PerfettoArg = string | number | boolean;
export type PerfettoArgs = Record<string, PerfettoArg>;

/** Something the model knows happened that no tracepoint shows (#NM, an IPI, a TLB flush, kernel_fpu_begin). */
export interface ModelAnnotation {
  /** ns, the trace's clock. */
  ts: number;
  /** The CPU it happened on (its track); omitted: a global instant. */
  cpu?: number;
  name: string;
  /** Default "model". */
  category?: string;
  args?: PerfettoArgs;
  /** From `ts` on, this CPU's registers hold this pid's state (0: nobody's, e.g. after kernel_fpu_begin). */
  fpuOwner?: number;
}

/** One sample of a counter track, e.g. { name: 'XSTATE bytes allocated', value }. */
export interface CounterSample {
  /** ns, the trace's clock. */
  ts: number;
  name: string;
  value: number;
  /** A per-CPU counter (named "CPU n <name>"); omitted: one counter for the machine. */
  cpu?: number;
  /** The series key in args (Perfetto names the track "<name> <series>"); default "value". */
  series?: string;
}

export interface PerfettoOptions {
  title: string;
  /** The process holding the CPU tracks (default MACHINE_PID); distinct pids let combinePerfetto put timelines side by side. */
  pid?: number;
  /** Its name (default "CPUs"). */
  processName?: string;
  /** CPU tracks made (at least this many; more if events name higher CPUs). */
  cpus: number;
  /** The span the timeline covers (ns); default: first to last timestamp of the input. */
  startNs?: number;
  endNs?: number;
  annotations?: readonly ModelAnnotation[];
  counters?: readonly CounterSample[];
}

export type PerfettoPhase = 'M' | 'X' | 'i' | 'C';

export interface PerfettoEvent {
  name: string;
  cat?: string;
  ph: PerfettoPhase;
  /** Microseconds. */
  ts: number;
  /** Microseconds ('X' only). */
  dur?: number;
  pid: number;
  tid: number;
  /** Instant scope: thread, process, global. */
  s?: 't' | 'p' | 'g';
  /** chrome://tracing's reserved color name (Perfetto colors by name). */
  cname?: string;
  args?: PerfettoArgs;
}

export interface PerfettoMetadata {
  title: string;
  generator: string;
  pid: number;
  processName: string;
  cpus: number;
  startNs: number;
  endNs: number;
  inputEvents: number;
  slices: number;
  instants: number;
  counterSamples: number;
  /** Switches inferred because the trace lacked them (see the module comment). */
  inferredSwitches: number;
  /** sched_switch records whose prev was not the task the timeline had on that CPU. */
  switchMismatches: number;
}

export interface PerfettoTrace {
  traceEvents: PerfettoEvent[];
  displayTimeUnit: 'ns';
  metadata: PerfettoMetadata;
}

/** The default process that holds the CPU tracks. */
export const MACHINE_PID = 1;
/** CPU tracks per process at most (thread ids are unique across processes: Perfetto names threads by tid). */
export const MAX_CPUS = 1000;
/**
 * The thread id of CPU `cpu`'s track in process `pid`: 1, 2, … for MACHINE_PID, 1001, … for pid 2.
 * (tid 0 is avoided: Perfetto reserves it for swapper.)
 */
export function cpuTid(cpu: number, pid = MACHINE_PID): number {
  return (pid - 1) * MAX_CPUS + cpu + 1;
}
/** The counter name the issue asks for, for CounterSample.name. */
export const XSTATE_BYTES_COUNTER = 'XSTATE bytes allocated';
/** Name of the per-CPU FPU owner counter. */
export function fpuOwnerCounterName(cpu: number): string {
  return `CPU ${cpu} FPU owner`;
}
/** A task with no event of its own for this long after the last exit-path event is taken to be in user mode. */
export const EXIT_WINDOW_NS = 5_000;
/** Events of the previous task this soon after its sched_switch belong to the switch (__switch_to). */
export const SWITCH_TAIL_NS = 20_000;

const SAVE_EVENTS = new Set(['x86_fpu_regs_deactivated', 'x86_fpu_before_save', 'x86_fpu_copy_dst']);
const RESTORE_EVENTS = new Set(['x86_fpu_regs_activated']);
/** Events that define slices rather than being shown as instants. */
const SLICE_EVENTS = new Set(['sched_switch', 'sys_enter', 'sys_exit', 'page_fault_user']);
/** Events only user tasks have in their own context. */
const USER_EVIDENCE = new Set(['sys_enter', 'sys_exit', 'page_fault_user', 'signal_deliver', 'sched_process_exec', 'x86_fpu_regs_activated']);

const SWITCH = /prev_comm=(.*) prev_pid=(\d+) prev_prio=\d+ prev_state=(\S+) ==> next_comm=(.*) next_pid=(\d+) next_prio=\d+/;
const WAKEUP = /comm=(.*) pid=(\d+) prio=(\d+) target_cpu=(\d+)/;
const MIGRATE = /comm=(.*) pid=(\d+) prio=(\d+) orig_cpu=(\d+) dest_cpu=(\d+)/;
const FPU = /x86\/fpu: (\S+) load: (\d+) xfeatures: (\S+) xcomp_bv: (\S+)/;
const SYSCALL = /^NR (-?\d+)/;
/** x86-64 rt_sigreturn. */
const NR_RT_SIGRETURN = 15;

type SliceCat = 'user' | 'kernel' | 'idle';
/** A task's mode on a CPU: `exit` is the exit path to user mode, `unknown` before any evidence. */
type Mode = SliceCat | 'exit' | 'unknown';

interface Seg {
  pid: number;
  start: number;
  mode: Mode;
  /** Last event of the exit path (mode `exit`). */
  lastExit: number;
  reason: string;
  inferred: boolean;
}

interface Track {
  id: number;
  seg: Seg | null;
  /** The task just switched out here, whose __switch_to events may follow the sched_switch. */
  tail: { pid: number; ts: number } | null;
  owner: number;
  /** The last slice emitted on this track (to extend). */
  last: { ev: PerfettoEvent; pid: number; cat: SliceCat; reason: string; start: number; end: number } | null;
}

const CNAME: Record<SliceCat, string> = { user: 'thread_state_running', kernel: 'thread_state_iowait', idle: 'grey' };
const RANK: Record<PerfettoPhase, number> = { M: 0, X: 1, i: 2, C: 3 };

/** Microseconds with nanosecond precision from a nanosecond timestamp. */
function us(ns: number): number {
  return Math.round(ns) / 1000;
}

function interrupted(flags: string | undefined): boolean {
  const c = flags !== undefined && flags.length >= 3 ? flags[2] : '.';
  return c === 'h' || c === 'H' || c === 's' || c === 'z' || c === 'Z';
}

function fpuArgs(e: PerfettoInputEvent): PerfettoArgs {
  const m = FPU.exec(e.text);
  if (!m) return { pid: e.pid, comm: e.comm, text: e.text };
  return { pid: e.pid, comm: e.comm, fpu: m[1], load: Number(m[2]), xfeatures: `0x${m[3]}`, xcomp_bv: `0x${m[4]}` };
}

function instantArgs(e: PerfettoInputEvent): PerfettoArgs {
  const ctx: PerfettoArgs = { pid: e.pid, comm: e.comm };
  if (e.name === 'sched_wakeup') {
    const m = WAKEUP.exec(e.text);
    if (m) return { ...ctx, task_comm: m[1], task_pid: Number(m[2]), prio: Number(m[3]), target_cpu: Number(m[4]) };
  } else if (e.name === 'sched_migrate_task') {
    const m = MIGRATE.exec(e.text);
    if (m) return { ...ctx, task_comm: m[1], task_pid: Number(m[2]), prio: Number(m[3]), orig_cpu: Number(m[4]), dest_cpu: Number(m[5]) };
  } else if (e.name === 'signal_deliver') {
    const f = fieldsOf(e.text);
    const out: PerfettoArgs = { ...ctx };
    for (const k of Object.keys(f).sort()) out[k] = k === 'sig' || k === 'errno' || k === 'code' ? Number(f[k]) : f[k];
    return out;
  }
  return { ...ctx, text: e.text };
}

function instantCategory(name: string): string {
  if (SAVE_EVENTS.has(name)) return 'fpu,save';
  if (RESTORE_EVENTS.has(name)) return 'fpu,restore';
  if (name.startsWith('x86_fpu_')) return 'fpu';
  if (name === 'signal_deliver') return 'signal';
  if (name.startsWith('sched_process_')) return 'process';
  if (name.startsWith('sched_')) return 'sched';
  return 'trace';
}

/**
 * The Chrome Trace Event Format JSON object of `events` (any order; sorted by time, ties kept in
 * input order). See the module comment for what becomes what.
 */
export function toPerfetto(events: readonly PerfettoInputEvent[], opts: PerfettoOptions): PerfettoTrace {
  const evs = [...events].sort((a, b) => a.ts - b.ts);
  const anns = [...(opts.annotations ?? [])].sort((a, b) => a.ts - b.ts);
  const samples = [...(opts.counters ?? [])].sort((a, b) => a.ts - b.ts);

  let lo = Infinity;
  let hi = -Infinity;
  let maxCpu = opts.cpus - 1;
  const see = (ts: number, cpu: number | undefined): void => {
    const t = Math.round(ts);
    if (t < lo) lo = t;
    if (t > hi) hi = t;
    if (cpu !== undefined && Number.isInteger(cpu) && cpu > maxCpu) maxCpu = cpu;
  };
  for (const e of evs) see(e.ts, e.cpu);
  for (const a of anns) see(a.ts, a.cpu);
  for (const s of samples) see(s.ts, s.cpu);
  const start = Math.min(opts.startNs !== undefined ? Math.round(opts.startNs) : lo, lo === Infinity ? 0 : lo);
  const end = Math.max(opts.endNs !== undefined ? Math.round(opts.endNs) : hi, hi === -Infinity ? start : hi, start);
  const ncpu = Math.max(1, maxCpu + 1);
  const P = opts.pid ?? MACHINE_PID;
  const processName = opts.processName ?? 'CPUs';
  if (!Number.isInteger(P) || P < 1) throw new RangeError(`pid ${P}: a positive integer`);
  if (ncpu > MAX_CPUS) throw new RangeError(`${ncpu} CPUs: at most ${MAX_CPUS}`);
  const tidOf = (cpu: number): number => cpuTid(cpu, P);

  const out: { ev: PerfettoEvent; seq: number }[] = [];
  let seq = 0;
  let nSlices = 0;
  let nInstants = 0;
  let nCounters = 0;
  let inferredSwitches = 0;
  let switchMismatches = 0;
  const push = (ev: PerfettoEvent): void => {
    out.push({ ev, seq: seq++ });
  };

  // pids that are user tasks: they have events only user tasks have, in their own context.
  const userPids = new Set<number>();
  for (const e of evs) if (e.pid !== 0 && USER_EVIDENCE.has(e.name)) userPids.add(e.pid);

  const comms = new Map<number, string>();
  const noteComm = (pid: number, comm: string): void => {
    if (pid !== 0 && comm.length > 0 && comm !== '<...>' && comm !== '<idle>') comms.set(pid, comm);
  };
  const taskName = (pid: number, cpu: number): string => (pid === 0 ? `swapper/${cpu}-0` : `${comms.get(pid) ?? '<...>'}-${pid}`);

  /** A task's mode while not running (how it comes back when switched in). */
  const parked = new Map<number, Mode>();
  /** pids the timeline has placed somewhere already. */
  const seen = new Set<number>();
  const lastWakeup = new Map<number, { ts: number; cpu: number }>();
  const tracks: Track[] = [];
  for (let c = 0; c < ncpu; c++) tracks.push({ id: c, seg: null, tail: null, owner: 0, last: null });

  /** Emit a slice; one that continues the track's previous slice (same task, mode and reason) extends it. */
  const slice = (tr: Track, pid: number, from: number, to: number, cat: SliceCat, reason: string, inferred: boolean): void => {
    if (!(to > from)) return;
    const last = tr.last;
    if (last && !inferred && last.pid === pid && last.cat === cat && last.reason === reason && last.end === from) {
      last.end = to;
      last.ev.dur = (to - last.start) / 1000;
      return;
    }
    const args: PerfettoArgs = { pid, mode: cat };
    if (reason) args.reason = reason;
    if (inferred) args.inferred = true;
    const ev: PerfettoEvent = { name: taskName(pid, tr.id), cat, ph: 'X', ts: us(from), dur: (to - from) / 1000, pid: P, tid: tidOf(tr.id), cname: CNAME[cat], args };
    push(ev);
    tr.last = { ev, pid, cat, reason, start: from, end: to };
    nSlices++;
  };

  /** End the running segment at `at`; `unknownAs` and `returned` resolve what the trace left open. */
  const close = (tr: Track, at: number, unknownAs: 'user' | 'kernel', returned: boolean): void => {
    const s = tr.seg;
    if (!s) return;
    switch (s.mode) {
      case 'idle':
      case 'user':
      case 'kernel':
        slice(tr, s.pid, s.start, at, s.mode, s.reason, s.inferred);
        break;
      case 'unknown':
        slice(tr, s.pid, s.start, at, unknownAs, 'before the first event (assumed)', s.inferred);
        break;
      case 'exit': {
        const back = Math.min(Math.max(s.lastExit, s.start), at);
        if (returned) {
          slice(tr, s.pid, s.start, back, 'kernel', s.reason, s.inferred);
          slice(tr, s.pid, back, at, 'user', '', s.inferred && back <= s.start);
        } else slice(tr, s.pid, s.start, at, 'kernel', s.reason, s.inferred);
        break;
      }
    }
    tr.seg = null;
  };

  const open = (tr: Track, pid: number, at: number, mode: Mode, reason: string, inferred: boolean): void => {
    tr.seg = { pid, start: at, mode, lastExit: at, reason, inferred };
  };

  /** The same task changes mode at `at`. */
  const change = (tr: Track, at: number, mode: Mode, reason: string, unknownAs: 'user' | 'kernel', returned: boolean): void => {
    const s = tr.seg!;
    close(tr, at, unknownAs, returned);
    open(tr, s.pid, at, mode, reason, false);
  };

  const switchInMode = (pid: number): { mode: Mode; reason: string } => {
    if (pid === 0) return { mode: 'idle', reason: '' };
    if (!userPids.has(pid)) return { mode: 'kernel', reason: 'kernel thread' };
    const m = parked.get(pid) ?? 'unknown';
    return { mode: m, reason: m === 'exit' ? 'return to user' : m === 'kernel' ? 'in kernel' : '' };
  };

  /** The running task leaves the CPU at `at` in `state` (sched_switch's prev_state). */
  const switchOut = (tr: Track, at: number, state: string): void => {
    const s = tr.seg;
    if (!s) return;
    const preempted = state === 'R+';
    const runnable = state.startsWith('R');
    const stop = state === 'T' || state === 't';
    let inUser = false;
    let returned = false;
    let unknownAs: 'user' | 'kernel' = 'kernel';
    if (s.mode === 'user') inUser = true;
    else if (s.mode === 'exit') inUser = returned = preempted || (!stop && at - s.lastExit > EXIT_WINDOW_NS);
    else if (s.mode === 'unknown' && preempted) {
      inUser = true;
      unknownAs = 'user';
    }
    close(tr, at, unknownAs, returned);
    if (s.pid !== 0 && userPids.has(s.pid)) {
      if (state === 'Z' || state === 'X') parked.delete(s.pid);
      // Preempted in user mode, or stopped (ptrace / job control stop in get_signal): back through the exit path.
      else parked.set(s.pid, stop || s.mode === 'exit' || (inUser && runnable) ? 'exit' : 'kernel');
    }
    tr.tail = { pid: s.pid, ts: at };
  };

  /** `pid` starts running on `tr`: if another CPU still shows it, it migrated and that CPU went idle. */
  const takeFromOthers = (pid: number, at: number, tr: Track): void => {
    if (pid === 0) return;
    for (const o of tracks) {
      if (o === tr || !o.seg || o.seg.pid !== pid) continue;
      const t = Math.max(at, o.seg.start);
      switchOut(o, t, 'R');
      open(o, 0, t, 'idle', '', true);
      inferredSwitches++;
    }
  };

  const switchIn = (tr: Track, pid: number, at: number, inferred: boolean): void => {
    takeFromOthers(pid, at, tr);
    const m = switchInMode(pid);
    open(tr, pid, at, m.mode, m.reason, inferred);
  };

  const setOwner = (cpu: number, ts: number, pid: number): void => {
    const tr = tracks[cpu];
    if (tr.owner === pid) return;
    tr.owner = pid;
    push({ name: fpuOwnerCounterName(cpu), cat: 'fpu', ph: 'C', ts: us(ts), pid: P, tid: tidOf(cpu), args: { pid } });
    nCounters++;
  };

  const instant = (cpu: number | undefined, ts: number, name: string, cat: string, args: PerfettoArgs): void => {
    if (cpu === undefined) push({ name, cat, ph: 'i', ts: us(ts), pid: P, tid: tidOf(0), s: 'g', args });
    else push({ name, cat, ph: 'i', ts: us(ts), pid: P, tid: tidOf(cpu), s: 't', args });
    nInstants++;
  };

  /** The task on `tr` has an event of its own at `ts` that is not a sched_switch: apply what it says of its mode. */
  const modeEvent = (tr: Track, e: PerfettoInputEvent, ts: number): void => {
    const s = tr.seg!;
    if (s.mode === 'idle' || !userPids.has(s.pid) || interrupted(e.flags)) return;
    if (s.mode === 'exit' && ts - s.lastExit > EXIT_WINDOW_NS) change(tr, Math.max(s.lastExit, s.start), 'user', '', 'kernel', false);
    const cur = tr.seg!;
    const leaveUser = (mode: Mode, reason: string): void => {
      if (cur.mode === 'kernel' && mode === 'kernel') {
        change(tr, ts, 'kernel', reason, 'user', false);
        return;
      }
      change(tr, ts, mode, reason, 'user', cur.mode === 'exit');
    };
    switch (e.name) {
      case 'sys_enter': {
        const m = SYSCALL.exec(e.text);
        // rt_sigreturn restores the interrupted context and goes straight back to user mode: it is
        // all exit path (the model emits no sys_exit for it; Linux's shows NR -1).
        if (m && Number(m[1]) === NR_RT_SIGRETURN) leaveUser('exit', 'rt_sigreturn');
        else leaveUser('kernel', m ? `syscall ${m[1]}` : 'syscall');
        break;
      }
      case 'page_fault_user':
        leaveUser('exit', 'page fault');
        break;
      case 'sys_exit':
        if (cur.mode === 'exit') cur.lastExit = ts;
        else change(tr, ts, 'exit', 'return to user', 'kernel', false);
        break;
      case 'signal_deliver':
        if (cur.mode === 'exit') cur.lastExit = ts;
        else if (cur.mode === 'user' || cur.mode === 'unknown') change(tr, ts, 'exit', 'signal delivery', 'kernel', false);
        break;
      case 'x86_fpu_regs_activated':
        if (cur.mode === 'exit' || cur.mode === 'unknown') change(tr, ts, 'user', '', 'kernel', false);
        break;
      default:
        if (cur.mode === 'exit') cur.lastExit = ts;
    }
  };

  /**
   * The first event seen on a CPU names who ran there since the start (the prev of a sched_switch,
   * else the event's task) — unless that task was already seen elsewhere: then the CPU idled and the
   * task's switch-in is inferred.
   */
  const initTrack = (tr: Track, e: PerfettoInputEvent): void => {
    let pid = e.pid;
    if (e.name === 'sched_switch') {
      const m = SWITCH.exec(e.text);
      if (m) pid = Number(m[2]);
    }
    if (pid === 0 || seen.has(pid)) open(tr, 0, start, 'idle', '', false);
    else if (!userPids.has(pid)) open(tr, pid, start, 'kernel', 'kernel thread', false);
    else open(tr, pid, start, 'unknown', '', false);
  };

  /** A switch the tracer did not record: `pid` was switched in on `tr` (at its wakeup there if the CPU was idle). */
  const inferSwitchIn = (tr: Track, pid: number, ts: number): void => {
    const s = tr.seg!;
    let at = ts;
    const w = lastWakeup.get(pid);
    if (s.pid === 0 && w && w.cpu === tr.id && w.ts >= s.start && w.ts <= ts) at = w.ts;
    switchOut(tr, at, s.pid === 0 ? 'R' : s.mode === 'user' ? 'R+' : 'S');
    switchIn(tr, pid, at, true);
    inferredSwitches++;
  };

  const onEvent = (e: PerfettoInputEvent): void => {
    const tr = Number.isInteger(e.cpu) ? tracks[e.cpu] : undefined;
    if (!tr) return;
    const ts = Math.round(e.ts);
    noteComm(e.pid, e.comm);
    if (!tr.seg) initTrack(tr, e);

    if (e.name === 'sched_switch') {
      const m = SWITCH.exec(e.text);
      if (!m) return;
      const prevPid = Number(m[2]);
      const nextPid = Number(m[5]);
      noteComm(prevPid, m[1]);
      noteComm(nextPid, m[4]);
      if (tr.seg!.pid !== prevPid) {
        const w = lastWakeup.get(prevPid);
        if (tr.seg!.pid === 0 && prevPid !== 0 && w && w.cpu === tr.id && w.ts >= tr.seg!.start) inferSwitchIn(tr, prevPid, ts);
        else switchMismatches++;
      }
      seen.add(prevPid);
      seen.add(nextPid);
      switchOut(tr, ts, m[3]);
      tr.tail = { pid: prevPid, ts };
      switchIn(tr, nextPid, ts, false);
      return;
    }

    let own = true;
    if (tr.seg!.pid !== e.pid) {
      if (tr.tail && tr.tail.pid === e.pid && ts - tr.tail.ts <= SWITCH_TAIL_NS) own = false;
      else inferSwitchIn(tr, e.pid, ts);
    }
    seen.add(e.pid);
    if (own) tr.tail = null;

    if (e.name === 'sched_wakeup') {
      const m = WAKEUP.exec(e.text);
      if (m) lastWakeup.set(Number(m[2]), { ts, cpu: Number(m[4]) });
    }
    if (own) modeEvent(tr, e, ts);

    if (e.name.startsWith('x86_fpu_')) {
      instant(e.cpu, ts, e.name, instantCategory(e.name), fpuArgs(e));
      if (e.name === 'x86_fpu_regs_activated') setOwner(e.cpu, ts, e.pid);
      else if (e.name === 'x86_fpu_regs_deactivated' && own) setOwner(e.cpu, ts, 0);
    } else if (!SLICE_EVENTS.has(e.name)) instant(e.cpu, ts, e.name, instantCategory(e.name), instantArgs(e));
  };

  const onAnnotation = (a: ModelAnnotation): void => {
    const ts = Math.round(a.ts);
    const cpu = a.cpu !== undefined && tracks[a.cpu] !== undefined ? a.cpu : undefined;
    instant(cpu, ts, a.name, a.category ?? 'model', { ...(a.args ?? {}) });
    if (cpu !== undefined && a.fpuOwner !== undefined) setOwner(cpu, ts, a.fpuOwner);
  };

  // Metadata: the machine process and one named, ordered thread per CPU.
  push({ name: 'process_name', ph: 'M', ts: 0, pid: P, tid: tidOf(0), args: { name: processName } });
  push({ name: 'process_labels', ph: 'M', ts: 0, pid: P, tid: tidOf(0), args: { labels: opts.title } });
  push({ name: 'process_sort_index', ph: 'M', ts: 0, pid: P, tid: tidOf(0), args: { sort_index: P } });
  for (let c = 0; c < ncpu; c++) {
    push({ name: 'thread_name', ph: 'M', ts: 0, pid: P, tid: tidOf(c), args: { name: `CPU ${c}` } });
    push({ name: 'thread_sort_index', ph: 'M', ts: 0, pid: P, tid: tidOf(c), args: { sort_index: c } });
  }
  for (let c = 0; c < ncpu; c++) {
    push({ name: fpuOwnerCounterName(c), cat: 'fpu', ph: 'C', ts: us(start), pid: P, tid: tidOf(c), args: { pid: 0 } });
    nCounters++;
  }

  // Trace events and annotations in time order (trace events first at equal times).
  let i = 0;
  let j = 0;
  while (i < evs.length || j < anns.length) {
    if (j >= anns.length || (i < evs.length && evs[i].ts <= anns[j].ts)) onEvent(evs[i++]);
    else onAnnotation(anns[j++]);
  }

  for (const tr of tracks) {
    if (!tr.seg) open(tr, 0, start, 'idle', '', false);
    const s = tr.seg!;
    close(tr, end, 'user', s.mode === 'exit' && end - s.lastExit > EXIT_WINDOW_NS);
  }

  for (const s of samples) {
    const cpu = s.cpu !== undefined && tracks[s.cpu] !== undefined ? s.cpu : undefined;
    const name = cpu !== undefined ? `CPU ${cpu} ${s.name}` : s.name;
    push({ name, cat: 'counter', ph: 'C', ts: us(s.ts), pid: P, tid: tidOf(cpu ?? 0), args: { [s.series ?? 'value']: s.value } });
    nCounters++;
  }

  out.sort((a, b) => {
    const ma = a.ev.ph === 'M' ? 0 : 1;
    const mb = b.ev.ph === 'M' ? 0 : 1;
    return ma - mb || a.ev.ts - b.ev.ts || RANK[a.ev.ph] - RANK[b.ev.ph] || a.seq - b.seq;
  });
  return {
    traceEvents: out.map((x) => x.ev),
    displayTimeUnit: 'ns',
    metadata: {
      title: opts.title,
      generator: 'switchlab',
      pid: P,
      processName,
      cpus: ncpu,
      startNs: start,
      endNs: end,
      inputEvents: evs.length,
      slices: nSlices,
      instants: nInstants,
      counterSamples: nCounters,
      inferredSwitches,
      switchMismatches,
    },
  };
}

/** Several timelines in one file (e.g. recorded and predicted, or one per policy). */
export interface PerfettoCombined {
  traceEvents: PerfettoEvent[];
  displayTimeUnit: 'ns';
  metadata: { title: string; generator: string; parts: PerfettoMetadata[] };
}

/**
 * Puts timelines made with distinct `pid`s side by side, one process each (in the order given): the
 * metadata records first, then every part's events in time order (ties: the parts' order, then each
 * part's own order).
 */
export function combinePerfetto(title: string, parts: readonly PerfettoTrace[]): PerfettoCombined {
  const pids = new Set<number>();
  for (const p of parts) {
    if (pids.has(p.metadata.pid)) throw new RangeError(`two timelines with pid ${p.metadata.pid}: give each its own pid`);
    pids.add(p.metadata.pid);
  }
  const meta: PerfettoEvent[] = [];
  const timed: { ev: PerfettoEvent; part: number; at: number }[] = [];
  parts.forEach((p, part) => {
    p.traceEvents.forEach((ev, at) => {
      if (ev.ph === 'M') meta.push(ev);
      else timed.push({ ev, part, at });
    });
  });
  timed.sort((a, b) => a.ev.ts - b.ev.ts || RANK[a.ev.ph] - RANK[b.ev.ph] || a.part - b.part || a.at - b.at);
  return { traceEvents: [...meta, ...timed.map((x) => x.ev)], displayTimeUnit: 'ns', metadata: { title, generator: 'switchlab', parts: parts.map((p) => p.metadata) } };
}
