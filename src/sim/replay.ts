/**
 * Replaying a real ftrace recording through the model: the scheduling, process, signal, syscall and
 * user-fault events drive `step` (never the recorded x86_fpu events, which are what the model must
 * predict); the predicted x86_fpu events are then compared with the recorded ones per pid.
 *
 * What the trace does not show is inferred from what it does, the way the kernel's own control flow
 * dictates: a task returns to user mode (exit_to_user_mode: signals, then switch_fpu_return) after a
 * syscall exit or a fault unless its CPU's next event is still on that exit path (it is switched out,
 * or a signal is delivered); a task preempted in user mode returns to user right after it is switched
 * back in; a task that runs without a recorded switch-in was switched in (the tracer lost it).
 */
import { CpuProfile } from '../arch/profile.js';
import { createKernel } from '../kernel/kernel.js';
import { FpuPolicy } from '../kernel/fpu/policy.js';
import { KEvent, step } from '../kernel/step.js';
import { TaskKind } from '../kernel/state.js';
import { FtraceRecord, parseFtraceLine } from '../kernel/trace/ftrace.js';
import { isFpuEvent, TraceEvent } from '../kernel/trace/events.js';
import { PrevState } from '../kernel/sched.js';

type Where = 'user' | 'kernel' | 'returning';

export interface ReplayInput {
  records: FtraceRecord[];
  cpus: number;
}

/** Reads ftrace text; the CPU count comes from the header's "#P:N" (else the highest CPU seen + 1). */
export function readTrace(text: string): ReplayInput {
  const records: FtraceRecord[] = [];
  let cpus = 0;
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const l = lines[n];
    if (l.startsWith('#')) {
      const m = /#P:(\d+)/.exec(l);
      if (m) cpus = Number(m[1]);
      continue;
    }
    const r = parseFtraceLine(l, n + 1);
    if (r) {
      records.push(r);
      if (r.cpu + 1 > cpus) cpus = r.cpu + 1;
    }
  }
  return { records, cpus };
}

const SWITCH = /prev_comm=(.*) prev_pid=(\d+) prev_prio=\d+ prev_state=(\S+) ==> next_comm=(.*) next_pid=(\d+) next_prio=\d+/;

interface Pending {
  nr: number;
  args: string[];
}

export interface ReplayRun {
  /** Every event the model emitted, in order. */
  predicted: TraceEvent[];
  /** Recorded x86_fpu events. */
  recorded: FtraceRecord[];
  /** Model events applied. */
  events: number;
  violations: number;
}

/** How long after a syscall exit or fault a switch-out still counts as preemption in the exit work. */
export const EXIT_PATH_NS = 5_000;
/** The same for a ptrace or job-control stop in get_signal. */
export const STOP_PATH_NS = 30_000;

export interface ReplayOptions {
  exitPathNs?: number;
  version?: string;
  /** Initial fill of the input pool's BLAKE2s buffer (hidden state, see kernel/random.ts). */
  entropyBuf?: number;
}

/** pids that do something only user tasks do (syscalls, user faults, signals, exec). */
function userPids(records: FtraceRecord[]): Set<number> {
  const s = new Set<number>();
  for (const r of records) {
    if (r.name === 'sys_enter' || r.name === 'sys_exit' || r.name === 'page_fault_user' || r.name === 'signal_deliver') s.add(r.pid);
    if (r.name === 'sched_process_exec') s.add(r.pid);
  }
  return s;
}

export function replay(profile: CpuProfile, policy: FpuPolicy, input: ReplayInput, o: ReplayOptions = {}): ReplayRun {
  let ts = 0;
  const k = createKernel(profile, policy, { cpus: Math.max(1, input.cpus), version: o.version ?? '6.18', entropyBuf: o.entropyBuf });
  const users = userPids(input.records);
  const where = new Map<number, Where>();
  const returningSince = new Map<number, number>();
  const exited = new Set<number>();
  const wokenAt = new Map<number, { ts: number; cpu: number }>();
  o = { exitPathNs: EXIT_PATH_NS, ...o };
  const setWhere = (pid: number, w: Where): void => {
    if (w === 'returning' && where.get(pid) !== 'returning') returningSince.set(pid, ts);
    where.set(pid, w);
  };
  const lastSys = new Map<number, Pending>();
  const predicted: TraceEvent[] = [];
  const recorded: FtraceRecord[] = [];
  let events = 0;
  let violations = 0;

  const run = (ev: KEvent): void => {
    ev.ts = ts;
    const r = step(k, ev);
    events++;
    violations += r.violations.length;
    for (const e of r.trace) predicted.push(e);
  };
  const idlePid = (cpu: number): number => -1 - cpu;
  const modelPid = (pid: number, cpu: number): number => (pid === 0 ? idlePid(cpu) : pid);
  const kindOf = (pid: number, comm: string): TaskKind => (users.has(pid) ? 'user' : comm.startsWith('swapper') ? 'idle' : 'kthread');

  /** Make sure the model knows `pid`; unknown tasks start asleep in the kernel with their FPU state in memory. */
  const ensureTask = (pid: number, comm: string, cpu: number): void => {
    if (pid <= 0 || k.st.tasks.has(pid)) return;
    run({ type: 'spawn', pid, comm, kind: kindOf(pid, comm), cpu });
    where.set(pid, 'kernel');
  };

  /** The task of this record must be current on its CPU: infer a switch the tracer did not record. */
  const ensureCurrent = (r: FtraceRecord): void => {
    const pid = modelPid(r.pid, r.cpu);
    const cpu = k.st.cpus[r.cpu];
    if (!cpu || cpu.curr === pid) return;
    ensureTask(pid, r.comm, r.cpu);
    const prev = k.st.tasks.get(cpu.curr)!;
    const prevState: PrevState = prev.kind === 'idle' ? 'R' : where.get(prev.pid) === 'user' ? 'R+' : 'S';
    if (prev.kind !== 'idle' && where.get(prev.pid) === 'user') setWhere(prev.pid, 'returning');
    run({ type: 'switch', cpu: r.cpu, next: pid, prevState });
    // An idle CPU switches to a task as soon as it is woken there: that is when this switch happened.
    const w = wokenAt.get(pid);
    if (where.get(pid) === 'returning') returningSince.set(pid, prev.kind === 'idle' && w && w.cpu === r.cpu ? w.ts : ts);
  };

  /**
   * A task on its exit path returns to user unless this record is still part of that path: a signal
   * delivery, a wakeup or migration it causes (ptrace notifications), or a switch-out soon after the
   * exit path began (preempted in the exit work). A switch-out later than EXIT_PATH_NS means the task
   * reached user mode and was interrupted there.
   */
  const settle = (r: FtraceRecord, sw: RegExpExecArray | null): void => {
    const cpu = k.st.cpus[r.cpu];
    if (!cpu) return;
    const cur = cpu.curr;
    if (where.get(cur) !== 'returning') return;
    const since = returningSince.get(cur) ?? r.ts;
    if (sw && Number(sw[2]) === cur) {
      // Stopping (ptrace 't', job control 'T') happens in get_signal, before the FPU restore; the stop
      // path (notifying and waking the tracer) takes longer than a plain exit.
      const stop = sw[3] === 't' || sw[3] === 'T';
      if (r.ts - since <= (stop ? STOP_PATH_NS : o.exitPathNs!)) return;
    }
    // Wakeups and migrations the task causes in process context (ptrace notifications on the way out);
    // one from an interrupt (hardirq/softirq flag) says nothing about where the task is.
    const inIrq = /[hsHS]/.test(r.flags[2] ?? '');
    if (
      r.pid === cur &&
      (r.name === 'signal_deliver' ||
        r.name === 'sys_exit' ||
        r.name === 'sched_process_exit' ||
        ((r.name === 'sched_wakeup' || r.name === 'sched_migrate_task') && !inIrq))
    )
      return;
    run({ type: 'return', pid: cur });
    where.set(cur, 'user');
  };

  for (const r of input.records) {
    ts = r.ts;
    if (isFpuEvent(r.name)) {
      recorded.push(r);
      continue;
    }
    const sw = r.name === 'sched_switch' ? SWITCH.exec(r.text) : null;
    ensureCurrent(r);
    settle(r, sw);
    const pid = r.pid;
    switch (r.name) {
      case 'sched_switch': {
        if (!sw) break;
        const prevPid = modelPid(Number(sw[2]), r.cpu);
        const nextPid = modelPid(Number(sw[5]), r.cpu);
        ensureTask(nextPid, sw[4], r.cpu);
        const state = sw[3] as PrevState;
        // exit_thread()'s fpu__drop comes after any preemption during do_exit, right before the last schedule.
        if (prevPid > 0 && (state === 'Z' || state === 'X') && exited.has(prevPid)) run({ type: 'exit', pid: prevPid, phase: 'drop' });
        if (prevPid > 0 && where.get(prevPid) === 'user') setWhere(prevPid, state.startsWith('R') ? 'returning' : 'kernel');
        // A ptrace stop ('t') or job-control stop ('T') happens in get_signal, on the way out to user mode.
        if (prevPid > 0 && (state === 't' || state === 'T')) setWhere(prevPid, 'returning');
        run({ type: 'switch', cpu: r.cpu, next: nextPid, prevState: state });
        // The exit-path clock runs only while the task is on a CPU.
        if (where.get(nextPid) === 'returning') returningSince.set(nextPid, ts);
        break;
      }
      case 'sys_enter': {
        const m = /^NR (-?\d+) \((.*)\)/.exec(r.text);
        if (!m) break;
        const nr = Number(m[1]);
        const args = m[2].split(',').map((a) => a.trim());
        lastSys.set(pid, { nr, args });
        where.set(pid, 'kernel');
        if (nr === 15) {
          run({ type: 'sigreturn', pid });
          break;
        }
        run({ type: 'syscall', pid, nr });
        if (nr === 101) {
          // ptrace(request, pid, addr, data): PTRACE_GETREGSET 0x4204 / PTRACE_SETREGSET 0x4205.
          const req = parseInt(args[0], 16);
          const target = parseInt(args[1], 16);
          if ((req === 0x4204 || req === 0x4205) && k.st.tasks.has(target)) run({ type: 'ptrace', pid, target, write: req === 0x4205 });
        }
        break;
      }
      case 'sys_exit': {
        const m = /^NR (-?\d+) = (-?\d+)/.exec(r.text);
        if (!m) break;
        const nr = Number(m[1]);
        const ret = Number(m[2]);
        // wait4/waitid that returns a dead child reaped it (release_task) in this task's context.
        if ((nr === 61 || nr === 247) && ret > 0 && exited.has(ret)) run({ type: 'reap', pid });
        run({ type: 'sysexit', pid, nr, ret });
        setWhere(pid, 'returning');
        break;
      }
      case 'page_fault_user': {
        const m = /address=0x([0-9a-f]+)/.exec(r.text);
        run({ type: 'fault', pid, address: m ? parseInt(m[1], 16) : 0 });
        setWhere(pid, 'returning');
        break;
      }
      case 'signal_deliver': {
        const m = /sig=(\d+)/.exec(r.text);
        run({ type: 'deliver', pid, sig: m ? Number(m[1]) : 0 });
        break;
      }
      case 'sched_process_fork': {
        const m = /child_comm=(.*) child_pid=(\d+)/.exec(r.text);
        if (!m) break;
        const child = Number(m[2]);
        const sys = lastSys.get(pid);
        // CLONE_THREAD (0x10000) in clone()'s flags; clone3 is how glibc creates threads.
        const thread = sys ? (sys.nr === 56 ? (parseInt(sys.args[0], 16) & 0x10000) !== 0 : sys.nr === 435) : false;
        const parent = k.st.tasks.get(modelPid(pid, r.cpu));
        const kind: TaskKind = parent && parent.kind === 'user' ? 'user' : 'kthread';
        run({ type: 'fork', pid: modelPid(pid, r.cpu), child, thread, kind, comm: m[1] });
        where.set(child, 'kernel');
        break;
      }
      case 'sched_process_exec': {
        const m = /filename=(\S+)/.exec(r.text);
        run({ type: 'exec', pid, filename: m ? m[1] : r.comm });
        break;
      }
      case 'sched_process_exit':
        exited.add(pid);
        run({ type: 'exit', pid, phase: 'notify' });
        break;
      case 'sched_wakeup': {
        const m = /comm=(.*) pid=(\d+) prio=\d+ target_cpu=(\d+)/.exec(r.text);
        if (!m) break;
        const target = Number(m[2]);
        ensureTask(target, m[1], Number(m[3]));
        wokenAt.set(target, { ts, cpu: Number(m[3]) });
        run({ type: 'wakeup', pid: target, cpu: Number(m[3]), by: r.cpu });
        break;
      }
      case 'sched_migrate_task': {
        const m = /comm=(.*) pid=(\d+) prio=\d+ orig_cpu=(\d+) dest_cpu=(\d+)/.exec(r.text);
        if (!m) break;
        ensureTask(Number(m[2]), m[1], Number(m[3]));
        run({ type: 'migrate', pid: Number(m[2]), cpu: Number(m[4]), on: r.cpu });
        break;
      }
      default:
        break;
    }
  }
  return { predicted, recorded, events, violations };
}
