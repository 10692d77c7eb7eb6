/**
 * The scheduler: per-CPU run queues, context switches (__schedule → context_switch → __switch_to, with
 * the FPU policy's hooks where switch_fpu() sits in 6.16+, switch_fpu_prepare/finish before), wakeups, migration and balancing, time
 * slices. Round-robin within a CPU: the model needs Linux's FPU-relevant behaviour (who runs next on
 * which CPU, voluntary vs involuntary switches), not CFS's fairness arithmetic.
 */
import { charge } from './meter.js';
import type { Kernel } from './kernel.js';
import { emit } from './kernel.js';
import { kvmSchedOut } from './kvm.js';
import { switchMm } from './mm.js';
import { Cpu, RunState, Task, TIF_NEED_RESCHED } from './state.js';

/** Removes the first occurrence of `pid` from a run queue, if any (in place, without allocating). */
export function removeFromRq(rq: number[], pid: number): void {
  const n = rq.length;
  for (let j = 0; j < n; j++) {
    if (rq[j] !== pid) continue;
    for (let m = j + 1; m < n; m++) rq[m - 1] = rq[m];
    rq.pop();
    return;
  }
}

/** Linux's prev_state letters in sched_switch. */
export type PrevState = 'R' | 'R+' | 'S' | 'D' | 'T' | 't' | 'Z' | 'X' | 'I';

export const DEFAULT_SLICE_NS = 3_000_000;

function prio(t: Task): number {
  return t.comm.startsWith('migration/') ? 0 : 120;
}

function runStateFor(s: PrevState): RunState {
  switch (s) {
    case 'R':
    case 'R+':
      return 'runnable';
    case 'T':
    case 't':
      return 'stopped';
    case 'Z':
    case 'X':
      return 'zombie';
    default:
      return 'sleeping';
  }
}

/**
 * context_switch(prev → next) on `cpu`: the sched_switch tracepoint, then __switch_to with the FPU
 * policy's switchOut (in prev's context) and switchIn (in next's).
 */
export function contextSwitch(k: Kernel, cpu: Cpu, next: Task, prevState: PrevState, prev: Task = k.st.tasks.get(cpu.curr)!): void {
  const pp = prev.pid < 0 ? 0 : prev.pid;
  const np = next.pid < 0 ? 0 : next.pid;
  if (k.out) {
    emit(
      k,
      cpu,
      'sched_switch',
      `prev_comm=${prev.comm} prev_pid=${pp} prev_prio=${prio(prev)} prev_state=${prevState} ==> next_comm=${next.comm} next_pid=${np} next_prio=${prio(next)}`,
      'd..2.',
    );
  }
  k.st.counters.contextSwitches++;
  charge(k, cpu, 'context-switch');
  prev.switches++;
  prev.tif &= ~TIF_NEED_RESCHED;
  switchMm(k, cpu, prev, next); // context_switch: switch_mm before switch_to
  if (prev.vcpu?.inRun) kvmSchedOut(k, cpu, prev);
  k.policy.switchOut(k, cpu, prev, next);
  if (k.designs.pkru) k.designs.pkru.switchTo(k, cpu, prev, next); // __switch_to: x86_pkru_load after switch_fpu
  prev.run = prev.kind === 'idle' ? 'runnable' : runStateFor(prevState);
  if (prev.run === 'runnable' && prev.kind !== 'idle') {
    if (!cpu.rq.includes(prev.pid)) cpu.rq.push(prev.pid);
  }
  removeFromRq(cpu.rq, next.pid);
  if (next.run === 'running' && next.cpu !== cpu.id) {
    // The trace says next runs here although the model had it elsewhere: it was migrated.
    const other = k.st.cpus[next.cpu];
    if (other && other.curr === next.pid) other.curr = other.idle;
  }
  if (next.cpu !== cpu.id) {
    const from = k.st.cpus[next.cpu];
    if (from) removeFromRq(from.rq, next.pid);
  }
  cpu.curr = next.pid;
  next.run = 'running';
  next.cpu = cpu.id;
  next.slice = DEFAULT_SLICE_NS;
  k.policy.switchIn(k, cpu, prev, next);
}

/** __schedule() choosing the next task: the head of the run queue, else the idle task. */
export function pickNext(k: Kernel, cpu: Cpu): Task {
  while (cpu.rq.length > 0) {
    const t = k.st.tasks.get(cpu.rq[0]);
    if (t && t.run === 'runnable') return t;
    cpu.rq.shift();
  }
  return k.st.tasks.get(cpu.idle)!;
}

/**
 * schedule() on `cpu` with the current task leaving in `prevState`. Returns false when nothing changed.
 * `prev` is cpu.curr's task (callers that have it pass it: one lookup less per switch).
 */
export function schedule(k: Kernel, cpu: Cpu, prevState: PrevState, prev: Task = k.st.tasks.get(cpu.curr)!): boolean {
  const runnableAgain = prevState === 'R' || prevState === 'R+';
  if (runnableAgain && prev.kind !== 'idle' && !cpu.rq.includes(prev.pid)) cpu.rq.push(prev.pid);
  const next = pickNext(k, cpu);
  if (next.pid === prev.pid) {
    removeFromRq(cpu.rq, prev.pid);
    return false;
  }
  contextSwitch(k, cpu, next, prev.kind === 'idle' ? 'R' : prevState, prev);
  return true;
}

/** The CPU with the shortest run queue (select_task_rq for wakeups and new tasks), preferring `hint`. */
export function selectCpu(k: Kernel, hint: number): number {
  const cpus = k.st.cpus;
  let best = hint >= 0 && hint < cpus.length ? hint : 0;
  const load = (c: Cpu): number => c.rq.length + (c.curr === c.idle ? 0 : 1);
  for (const c of cpus) if (load(c) < load(cpus[best])) best = c.id;
  return best;
}

/** try_to_wake_up: the task becomes runnable on a CPU (sched_wakeup is emitted by the waker's CPU). */
export function wakeUp(k: Kernel, waker: Cpu, t: Task, target: number): void {
  if (t.run === 'running' || t.run === 'zombie') return;
  t.run = 'runnable';
  if (t.cpu !== target) {
    const from = k.st.cpus[t.cpu];
    if (from) removeFromRq(from.rq, t.pid);
    k.st.counters.migrations++;
  }
  t.cpu = target;
  const cpu = k.st.cpus[target];
  if (!cpu.rq.includes(t.pid)) cpu.rq.push(t.pid);
  if (k.out) emit(k, waker, 'sched_wakeup', `comm=${t.comm} pid=${t.pid} prio=${prio(t)} target_cpu=${String(target).padStart(3, '0')}`, 'd..2.');
  const cur = k.st.tasks.get(cpu.curr);
  if (cur && cur.kind === 'idle') cur.tif |= TIF_NEED_RESCHED;
}

/** set_task_cpu for a task that is not running (load balancing, sched_setaffinity). */
export function migrateTask(k: Kernel, on: Cpu, t: Task, dest: number): void {
  if (t.run === 'running' || t.cpu === dest) {
    t.cpu = t.run === 'running' ? t.cpu : dest;
    return;
  }
  if (k.out) emit(k, on, 'sched_migrate_task', `comm=${t.comm} pid=${t.pid} prio=${prio(t)} orig_cpu=${t.cpu} dest_cpu=${dest}`, 'd..2.');
  const from = k.st.cpus[t.cpu];
  if (from) removeFromRq(from.rq, t.pid);
  t.cpu = dest;
  if (t.run === 'runnable' && !k.st.cpus[dest].rq.includes(t.pid)) k.st.cpus[dest].rq.push(t.pid);
  k.st.counters.migrations++;
}

/** Periodic balancing: move one runnable task from the busiest to the idlest CPU when they differ by 2+. */
export function balance(k: Kernel, on: Cpu): void {
  const cpus = k.st.cpus;
  let busy = cpus[0];
  let idle = cpus[0];
  for (const c of cpus) {
    if (c.rq.length > busy.rq.length) busy = c;
    if (c.rq.length < idle.rq.length) idle = c;
  }
  if (busy.rq.length - idle.rq.length < 2) return;
  const t = k.st.tasks.get(busy.rq[busy.rq.length - 1]);
  if (t && t.run === 'runnable') migrateTask(k, on, t, idle.id);
}
