/**
 * The model's one transition function. Every driver — simulation, trace replay, the checker, the web
 * visualizer — advances a kernel state only through `step(k, event)`, which applies the event to
 * `k.st` in place and returns the trace events it emitted (and leaves rule violations in
 * `k.violations`). Events are plain data, so a run is replayable from its event list.
 */
import type { Kernel, Violation } from './kernel.js';
import { violation } from './kernel.js';
import { TraceEvent } from './trace/events.js';
import { Task, TIF_NEED_FPU_LOAD } from './state.js';
import { contextSwitch, migrateTask, PrevState, schedule, selectCpu, wakeUp } from './sched.js';
import { pageFault, returnToUser, syscallEnter, syscallExit, userRead, userWrite, userWriteMxcsr } from './entry.js';
import { execTask, exitTask, forkTask, reapTask, releaseTask } from './process.js';
import { deliverSignal, sendSignal, sigreturn, SIGSEGV } from './signal.js';
import { kernelFpuSection, KfpuContext } from './kfpu.js';
import { coredumpRegset, FpuRegset, ptraceAccess } from './ptrace.js';
import { archPrctl, sigaltstack } from './fpu/dynamic.js';
import { pkruInitThread, uaccessPkru } from './pkru.js';
import { enqcmd, pasidBind, pasidChange } from './pasid.js';
import { guestRead, guestWrite, kvmEnterGuest, kvmEnterRun, kvmExitGuest, kvmLeaveRun } from './kvm.js';
import { newTask } from './task.js';
import { forgetAllSlots } from '../arch/xsave/area.js';
import { TaskKind } from './state.js';

export type KEvent =
  /** A task that exists before the run starts (replay: first seen in a trace), in the given situation. */
  | { type: 'spawn'; pid: number; tgid?: number; comm: string; kind: TaskKind; cpu: number; running?: boolean; inUser?: boolean; ts?: number }
  /** __schedule on `cpu` switching to `next` (the replay's sched_switch); prev leaves in prevState. */
  | { type: 'switch'; cpu: number; next: number; prevState: PrevState; ts?: number }
  /** schedule() on `cpu`: the scheduler picks the next task (simulation). */
  | { type: 'schedule'; cpu: number; prevState: PrevState; ts?: number }
  | { type: 'syscall'; pid: number; nr: number; ts?: number }
  | { type: 'sysexit'; pid: number; nr: number; ret: number; ts?: number }
  /** exit_to_user_mode: signals, then the FPU's return-to-user work. */
  | { type: 'return'; pid: number; ts?: number }
  | { type: 'fault'; pid: number; address: number; ts?: number }
  /** User code writes value `tag` into XSAVE component `comp` (and `more` [comp, tag] pairs, in order). */
  | { type: 'user-write'; pid: number; comp: number; tag: number; more?: readonly (readonly [number, number])[]; ts?: number }
  /** User code loads MXCSR (rounding control, exception masks). */
  | { type: 'user-mxcsr'; pid: number; value: number; ts?: number }
  /** User code reads component `comp` (the observed token is left in `StepResult.observed`). */
  | { type: 'user-read'; pid: number; comp: number; ts?: number }
  | { type: 'fork'; pid: number; child?: number; thread: boolean; kind?: TaskKind; comm?: string; ts?: number }
  | { type: 'exec'; pid: number; filename: string; ts?: number }
  /**
   * do_exit: 'notify' is the sched_process_exit tracepoint, 'drop' exit_thread's fpu__drop (and the
   * reaping of a thread); without a phase, both (the replay splits them: the drop happens right before
   * the final schedule, after any preemption in between).
   */
  | { type: 'exit'; pid: number; phase?: 'notify' | 'drop'; ts?: number }
  | { type: 'wakeup'; pid: number; cpu?: number; by: number; ts?: number }
  | { type: 'migrate'; pid: number; cpu: number; on: number; ts?: number }
  /** Queue a signal; it is delivered at the task's next return to user. */
  | { type: 'kill'; pid: number; sig: number; ts?: number }
  /** rt_sigreturn from the innermost handler (after the handler may have edited its frame: see frame-edit). */
  | { type: 'sigreturn'; pid: number; ts?: number }
  /** The handler writes bytes into its signal frame at `offset` (a corrupted or modified frame). */
  | { type: 'frame-edit'; pid: number; offset: number; bytes: number[]; ts?: number }
  | { type: 'kfpu'; cpu: number; ctx: KfpuContext; ts?: number }
  /** A hardirq (with a kernel FPU section) is due inside the next fpregs_lock() region on `cpu`. */
  | { type: 'irq-arm'; cpu: number; ts?: number }
  /** get_signal + setup_rt_frame now, on the way out of the kernel (the replay's signal_deliver). */
  | { type: 'deliver'; pid: number; sig: number; ts?: number }
  /** arch_prctl(code, arg) of the XSTATE permission interface; `observed` is the return value. */
  | { type: 'arch-prctl'; pid: number; code: number; arg: number; ts?: number }
  /** sigaltstack() installing a stack of `size` bytes (0 removes it); `observed` is 0 or -errno. */
  | { type: 'sigaltstack'; pid: number; size: number; ts?: number }
  /**
   * The kernel accesses user memory on behalf of `pid`: its own (copy_to_user in a syscall), or with
   * `target`, another task's mm (get_user_pages_remote / access_process_vm). `observed` is the PKRU the
   * access was checked against, -1 when the CPU has none, -2 when protection keys do not apply (a
   * foreign mm: arch_vma_access_permitted() skips pkeys for remote accesses).
   */
  | { type: 'uaccess'; pid: number; target?: number; ts?: number }
  /** PASID: the first SVA bind of the task's mm (observed: the PASID), ENQCMD from user mode (observed: the PASID carried, -1 on an unfixed #GP), a PASID change of the mm. */
  | { type: 'pasid-bind'; pid: number; ts?: number }
  | { type: 'enqcmd'; pid: number; ts?: number }
  | { type: 'pasid-change'; pid: number; pasid: number; ts?: number }
  /** A KVM vCPU thread: KVM_RUN begins / VM entry / guest code writes / VM exit / KVM_RUN returns. */
  | { type: 'kvm-run'; pid: number; ts?: number }
  | { type: 'vm-entry'; pid: number; ts?: number }
  | { type: 'guest-write'; pid: number; comp: number; tag: number; ts?: number }
  /** Guest code reads component `comp` (`observed`: the token it saw). */
  | { type: 'guest-read'; pid: number; comp: number; ts?: number }
  | { type: 'vm-exit'; pid: number; ts?: number }
  | { type: 'kvm-put'; pid: number; ts?: number }
  /** wait4/waitid reaping a dead child: release_task in the waiter's context. */
  | { type: 'reap'; pid: number; ts?: number }
  /**
   * PTRACE_GETREGSET (and with `write`, PTRACE_SETREGSET) of NT_X86_XSTATE or NT_PRFPREG by `pid` on the
   * stopped tracee `target` (seized on first use). A write sends back the image it read, changed by
   * `set` (component `comp` gets value `tag`) and/or `edit` (raw bytes at an offset: bogus headers).
   * `observed` is 0 when the call succeeded, -1 when the kernel refused it.
   */
  /** The task dumps core (its own NT_X86_XSTATE note); `observed` is component `read`'s value in it. */
  | { type: 'coredump'; pid: number; read: number; ts?: number }
  | {
      type: 'ptrace';
      pid: number;
      target: number;
      write: boolean;
      regset?: FpuRegset;
      set?: { comp: number; tag: number };
      edit?: { offset: number; bytes: number[] };
      /** More raw edits, applied after `edit`. */
      edits?: readonly { offset: number; bytes: number[] }[];
      /** A read's `observed`: the value of this component in the image the tracer got. */
      read?: number;
      ts?: number;
    };

export interface StepResult {
  trace: TraceEvent[];
  violations: Violation[];
  /** For user-read: the token user code saw (-1 when the read faulted). */
  observed: number;
}

function task(k: Kernel, pid: number): Task | undefined {
  const t = k.st.tasks.get(pid);
  if (!t) violation(k, 'no-such-task', `event for pid ${pid}, which does not exist`, -1, pid);
  return t;
}

function current(k: Kernel, t: Task, what: string): boolean {
  const cpu = k.st.cpus[t.cpu];
  if (cpu && cpu.curr === t.pid && t.run === 'running') return true;
  violation(k, 'not-running', `${what} for ${t.comm}-${t.pid}, which is not running`, t.cpu, t.pid);
  return false;
}

const NO_TRACE: TraceEvent[] = [];
const NO_VIOLATIONS: Violation[] = [];
/** The result of an untraced step is reused (the hot path of simulation and checking allocates nothing). */
const quiet: StepResult = { trace: NO_TRACE, violations: NO_VIOLATIONS, observed: -1 };

/**
 * Applies one event; returns its trace events (when `trace` is on), the violations it found and, for
 * user-read, the observed token. An untraced step's result object is reused by the next step: copy
 * what you keep.
 */
export function step(k: Kernel, ev: KEvent, trace = true): StepResult {
  if (ev.ts !== undefined) k.st.now = ev.ts;
  if (!trace) {
    k.out = null;
    if (k.violations.length) k.violations = [];
    quiet.observed = apply(k, ev);
    quiet.violations = k.violations.length ? k.violations : NO_VIOLATIONS;
    return quiet;
  }
  const out: TraceEvent[] = [];
  k.out = out;
  k.violations = [];
  const observed = apply(k, ev);
  k.out = null;
  return { trace: out, violations: k.violations, observed };
}

function apply(k: Kernel, ev: KEvent): number {
  const st = k.st;
  switch (ev.type) {
    // The simulator's hot events first (a string switch compares case by case).
    case 'user-read': {
      const t = task(k, ev.pid);
      return t && current(k, t, 'user FPU read') ? userRead(k, t, ev.comp) : -1;
    }
    case 'user-write': {
      const t = task(k, ev.pid);
      if (t && current(k, t, 'user FPU write')) {
        userWrite(k, t, ev.comp, ev.tag);
        const more = ev.more;
        if (more) for (let j = 0; j < more.length; j++) userWrite(k, t, more[j][0], more[j][1]);
      }
      return -1;
    }
    case 'syscall': {
      const t = task(k, ev.pid);
      if (t && current(k, t, 'syscall')) syscallEnter(k, t, ev.nr);
      return -1;
    }
    case 'sysexit': {
      const t = task(k, ev.pid);
      if (t && current(k, t, 'syscall exit')) syscallExit(k, t, ev.nr, ev.ret);
      return -1;
    }
    case 'return': {
      const t = task(k, ev.pid);
      if (t && current(k, t, 'return to user')) returnToUser(k, t);
      return -1;
    }
    case 'schedule': {
      const cpu = st.cpus[ev.cpu];
      const prev = st.tasks.get(cpu.curr)!;
      schedule(k, cpu, ev.prevState, prev);
      if (prev.run === 'zombie') releaseTask(k, prev);
      return -1;
    }
    case 'spawn': {
      const t = newTask(k, { pid: ev.pid, tgid: ev.tgid, comm: ev.comm, kind: ev.kind, cpu: ev.cpu });
      if (t.kind === 'user') pkruInitThread(k, t); // it runs a program exec'd before the run began
      if (ev.running) {
        const cpu = st.cpus[ev.cpu];
        const prev = st.tasks.get(cpu.curr);
        if (prev && prev.kind !== 'idle') prev.run = 'runnable';
        cpu.curr = t.pid;
        t.run = 'running';
        t.inUser = ev.inUser ?? false;
      } else t.run = 'sleeping';
      return -1;
    }
    case 'switch': {
      const cpu = st.cpus[ev.cpu];
      const next = task(k, ev.next);
      if (!cpu || !next) return -1;
      const prev = st.tasks.get(cpu.curr)!;
      contextSwitch(k, cpu, next, ev.prevState, prev);
      if (prev.run === 'zombie') releaseTask(k, prev);
      return -1;
    }
    case 'fault': {
      const t = task(k, ev.pid);
      if (t && current(k, t, 'page fault')) pageFault(k, t, ev.address, 0x40_1000);
      return -1;
    }
    case 'user-mxcsr': {
      const t = task(k, ev.pid);
      if (t && current(k, t, 'LDMXCSR')) userWriteMxcsr(k, t, ev.value);
      return -1;
    }
    case 'fork': {
      const t = task(k, ev.pid);
      if (!t || !current(k, t, 'fork')) return -1;
      const cpu = st.cpus[t.cpu];
      const child = forkTask(k, cpu, t, { thread: ev.thread, kind: ev.kind, comm: ev.comm, pid: ev.child });
      child.cpu = selectCpu(k, cpu.id);
      st.cpus[child.cpu].rq.push(child.pid);
      return -1;
    }
    case 'exec': {
      const t = task(k, ev.pid);
      if (t && current(k, t, 'exec')) execTask(k, st.cpus[t.cpu], t, ev.filename);
      return -1;
    }
    case 'exit': {
      const t = task(k, ev.pid);
      if (t && current(k, t, 'exit')) exitTask(k, st.cpus[t.cpu], t, ev.phase);
      return -1;
    }
    case 'wakeup': {
      const t = task(k, ev.pid);
      if (t) wakeUp(k, st.cpus[ev.by], t, ev.cpu ?? selectCpu(k, t.cpu));
      return -1;
    }
    case 'migrate': {
      const t = task(k, ev.pid);
      if (t) migrateTask(k, st.cpus[ev.on], t, ev.cpu);
      return -1;
    }
    case 'kill': {
      const t = task(k, ev.pid);
      if (t) sendSignal(t, ev.sig);
      return -1;
    }
    case 'sigreturn': {
      const t = task(k, ev.pid);
      if (!t || !current(k, t, 'sigreturn')) return -1;
      syscallEnter(k, t, 15);
      if (!sigreturn(k, st.cpus[t.cpu], t)) sendSignal(t, SIGSEGV);
      return -1;
    }
    case 'frame-edit': {
      const t = task(k, ev.pid);
      const f = t?.frames[t.frames.length - 1];
      if (!t || !f) return -1;
      for (let j = 0; j < ev.bytes.length; j++) if (ev.offset + j < f.area.bytes.length) f.area.bytes[ev.offset + j] = ev.bytes[j] & 0xff;
      forgetAllSlots(f.area);
      return -1;
    }
    case 'deliver': {
      const t = task(k, ev.pid);
      if (t && current(k, t, 'signal delivery')) deliverSignal(k, st.cpus[t.cpu], t, ev.sig);
      return -1;
    }
    case 'arch-prctl': {
      const t = task(k, ev.pid);
      return t ? archPrctl(k, t, ev.code, ev.arg) : -1;
    }
    case 'sigaltstack': {
      const t = task(k, ev.pid);
      return t ? sigaltstack(k, t, ev.size) : -1;
    }
    case 'uaccess': {
      const t = task(k, ev.pid);
      if (!t || !current(k, t, 'uaccess')) return -1;
      if (ev.target !== undefined) {
        const other = task(k, ev.target);
        if (other && other.mm !== t.mm) return -2;
      }
      return uaccessPkru(k, st.cpus[t.cpu], t);
    }
    case 'pasid-bind':
    case 'enqcmd':
    case 'pasid-change': {
      const t = task(k, ev.pid);
      if (!t || !current(k, t, ev.type)) return -1;
      const cpu = st.cpus[t.cpu];
      if (ev.type === 'pasid-bind') return pasidBind(k, cpu, t);
      if (ev.type === 'pasid-change') {
        pasidChange(k, cpu, t.mm, ev.pasid);
        return ev.pasid;
      }
      const r = enqcmd(k, cpu, t);
      return r.ok ? r.pasid : -1;
    }
    case 'kvm-run':
    case 'vm-entry':
    case 'guest-write':
    case 'guest-read':
    case 'vm-exit':
    case 'kvm-put': {
      const t = task(k, ev.pid);
      if (!t || !current(k, t, ev.type)) return -1;
      const cpu = st.cpus[t.cpu];
      if (ev.type === 'kvm-run') kvmEnterRun(k, cpu, t);
      else if (ev.type === 'vm-entry') kvmEnterGuest(k, cpu, t);
      else if (ev.type === 'guest-write') guestWrite(k, cpu, t, ev.comp, ev.tag);
      else if (ev.type === 'guest-read') return guestRead(k, cpu, t, ev.comp);
      else if (ev.type === 'vm-exit') kvmExitGuest(cpu, t);
      else kvmLeaveRun(k, cpu, t);
      return -1;
    }
    case 'reap': {
      const t = task(k, ev.pid);
      if (t) reapTask(k, st.cpus[t.cpu]);
      return -1;
    }
    case 'ptrace': {
      const tracer = task(k, ev.pid);
      const target = task(k, ev.target);
      if (!tracer || !target) return -1;
      target.traced = true;
      return ptraceAccess(k, tracer, target, ev.regset ?? 'xstate', ev.write, ev.set, ev.edits ? [...(ev.edit ? [ev.edit] : []), ...ev.edits] : ev.edit, ev.read);
    }
    case 'coredump': {
      const t = task(k, ev.pid);
      return t && current(k, t, 'a core dump') ? coredumpRegset(k, t, ev.read) : -1;
    }
    case 'kfpu': {
      const cpu = st.cpus[ev.cpu];
      if (cpu) kernelFpuSection(k, cpu, ev.ctx);
      return -1;
    }
    case 'irq-arm': {
      const cpu = st.cpus[ev.cpu];
      if (cpu) cpu.irqArmed = true;
      return -1;
    }
  }
  return -1;
}

/** TIF_NEED_FPU_LOAD of a task (for drivers and reports). */
export function needsFpuLoad(t: Task): boolean {
  return (t.tif & TIF_NEED_FPU_LOAD) !== 0;
}
