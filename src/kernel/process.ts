/**
 * fork/clone, exec and exit: the task bookkeeping around the FPU policy's fpu_clone, fpu_flush_thread
 * and fpu__drop, with Linux's sched_process_* tracepoints.
 */
import type { Kernel } from './kernel.js';
import { emit } from './kernel.js';
import { Cpu, Task, TaskKind } from './state.js';
import { newTask } from './task.js';
import { removeFromRq } from './sched.js';
import { INIT_PKRU, pkruInitThread, pkruWriteDefault, rdpkru } from './pkru.js';
import { pasidForkChild, pasidMmExit } from './pasid.js';
import { freeBuffer, groupLeader } from './fpu/dynamic.js';
import { addDeviceRandomness, FORK_ENTROPY_BYTES, RELEASE_ENTROPY_BYTES } from './random.js';

export interface ForkOptions {
  /** CLONE_THREAD (a thread of the parent's process: same tgid and mm). */
  thread: boolean;
  /** The child's kind: a user task, or a kernel thread / user worker (fpu_clone's `minimal`). */
  kind?: TaskKind;
  comm?: string;
  pid?: number;
}

/** copy_process + wake_up_new_task's bookkeeping; returns the child (runnable, not yet on a run queue). */
export function forkTask(k: Kernel, cpu: Cpu, parent: Task, o: ForkOptions): Task {
  const kind = o.kind ?? (parent.kind === 'kthread' ? 'kthread' : 'user');
  const child = newTask(k, {
    pid: o.pid,
    tgid: o.thread ? parent.tgid : undefined,
    comm: o.comm ?? parent.comm,
    kind,
    cpu: cpu.id,
    mm: kind === 'user' ? (o.thread ? parent.mm : undefined) : 0,
    parent: parent.pid,
  });
  child.pkru = kind === 'user' ? rdpkru(k, cpu) : INIT_PKRU; // copy_thread: the parent's live PKRU, or the init value
  if (!o.thread && kind === 'user') {
    // fpu_inherit_perms(): a new process inherits the group's permissions; threads use the leader's.
    const l = groupLeader(k, parent).fpu;
    child.fpu.permLo = l.permLo;
    child.fpu.permHi = l.permHi;
    child.fpu.guestPermLo = l.guestPermLo;
    child.fpu.guestPermHi = l.guestPermHi & 0x7fff_ffff;
  }
  k.policy.fork(k, cpu, parent, child, kind !== 'user');
  if (kind === 'user' && !k.designs.pasid?.forkKeepsPasid) pasidForkChild(k, child); // children never inherit PASID state
  k.st.counters.forks++;
  addDeviceRandomness(k, cpu, FORK_ENTROPY_BYTES); // kernel_clone: add_latent_entropy()
  const pp = parent.pid < 0 ? 0 : parent.pid;
  if (k.out) emit(k, cpu, 'sched_process_fork', `comm=${parent.comm} pid=${pp} child_comm=${child.comm} child_pid=${child.pid}`);
  return child;
}

/** exec: flush_thread (fpu_flush_thread), the new image's comm, PKRU back to its default. */
export function execTask(k: Kernel, cpu: Cpu, t: Task, filename: string): void {
  const old = t.fpu.fpstate;
  k.policy.exec(k, cpu, t);
  // fpu_flush_thread → fpstate_reset: the embedded default buffer again, default permissions. The model
  // gives a grown buffer back to its allocator here. Unconfirmed against Linux: fpstate_reset() only
  // re-points fpu->fpstate, and the one fpstate_free() call found (arch_release_task_struct) frees the
  // current pointer, so 6.18 may keep the grown buffer until the task is released (or leak it).
  t.fpu.fpstate = t.fpu.embedded;
  t.fpu.permLo = k.cfg.kernelDefaultLo;
  t.fpu.permHi = k.cfg.kernelDefaultHi;
  t.fpu.guestPermLo = k.cfg.kernelDefaultLo;
  t.fpu.guestPermHi = k.cfg.kernelDefaultHi;
  t.tgid = t.pid;
  if (old !== t.fpu.embedded && old.isValloc) freeBuffer(k, cpu, t, old);
  t.frames = [];
  t.comm = filename.slice(filename.lastIndexOf('/') + 1).slice(0, 15) || t.comm;
  pkruInitThread(k, t);
  pkruWriteDefault(k, cpu); // flush_thread: pkru_write_default()
  k.st.counters.execs++;
  if (k.out) emit(k, cpu, 'sched_process_exec', `filename=${filename} pid=${t.pid} old_pid=${t.pid}`);
}

/** do_exit up to the last schedule(): sched_process_exit, then exit_thread's fpu__drop. */
export function exitTask(k: Kernel, cpu: Cpu, t: Task, phase?: 'notify' | 'drop'): void {
  if (phase !== 'drop') {
    const groupDead = ![...k.st.tasks.values()].some((o) => o !== t && o.tgid === t.tgid && o.run !== 'zombie');
    if (k.out) emit(k, cpu, 'sched_process_exit', `comm=${t.comm} pid=${t.pid} prio=120 group_dead=${groupDead}`);
  }
  if (phase === 'notify') return;
  k.policy.exit(k, cpu, t);
  k.st.counters.exits++;
  // exit_notify(): a thread that is not the group leader is reaped at once, in its own context.
  if (t.pid !== t.tgid) reapTask(k, cpu);
}

/** release_task() of a dead task, in the reaper's context (wait4 in the parent, or the thread itself). */
export function reapTask(k: Kernel, cpu: Cpu): void {
  addDeviceRandomness(k, cpu, RELEASE_ENTROPY_BYTES);
}

/**
 * The last reference is gone (after the final switch away from a zombie): the task and its buffers are
 * freed. A thread-group leader whose threads still live stays a zombie (its struct fpu keeps the
 * group's XSTATE permissions) until the last of them is released.
 */
export function releaseTask(k: Kernel, t: Task): void {
  const cpu = k.st.cpus[t.cpu];
  for (const c of k.st.cpus) removeFromRq(c.rq, t.pid);
  if (t.pid === t.tgid && [...k.st.tasks.values()].some((o) => o !== t && o.tgid === t.pid)) return;
  // fpstate_free(): the grown buffer (never the embedded one) and a vCPU's guest fpstate.
  if (t.fpu.fpstate !== t.fpu.embedded && t.fpu.fpstate.isValloc && !t.fpu.fpstate.isGuest) freeBuffer(k, cpu, t, t.fpu.fpstate);
  if (t.fpu.taskFpstate && t.fpu.taskFpstate !== t.fpu.embedded && t.fpu.taskFpstate.isValloc) freeBuffer(k, cpu, t, t.fpu.taskFpstate);
  k.st.tasks.delete(t.pid);
  // The last user of an mm is gone: mm exit frees its PASID.
  if (t.kind === 'user' && t.mm !== 0 && ![...k.st.tasks.values()].some((o) => o.mm === t.mm)) pasidMmExit(k, t.mm);
  // The group's last thread is gone: its zombie leader goes too.
  const leader = t.pid !== t.tgid ? k.st.tasks.get(t.tgid) : undefined;
  if (leader && leader.run === 'zombie' && ![...k.st.tasks.values()].some((o) => o !== leader && o.tgid === leader.pid)) releaseTask(k, leader);
}
