/** A tiny harness for driving the kernel model event by event in tests. */
import { builtinProfile } from '../../src/arch/profiles/builtin.js';
import { createKernel, Kernel, Violation } from '../../src/kernel/kernel.js';
import { FpuPolicy } from '../../src/kernel/fpu/policy.js';
import { Designs } from '../../src/kernel/designs.js';
import { KEvent, step } from '../../src/kernel/step.js';
import { valueToken } from '../../src/kernel/entry.js';
import { Task } from '../../src/kernel/state.js';
import { PrevState } from '../../src/kernel/sched.js';

export class Model {
  readonly k: Kernel;
  readonly violations: Violation[] = [];
  now = 0;

  constructor(policy: FpuPolicy, profile = 'zen4', cpus = 1, designs?: Partial<Designs>, version = '6.18') {
    this.k = createKernel(builtinProfile(profile)!, policy, { cpus, version, designs });
  }

  do(ev: KEvent): number {
    ev.ts = this.now += 1000;
    const r = step(this.k, ev, false);
    this.violations.push(...r.violations);
    return r.observed;
  }

  task(pid: number): Task {
    return this.k.st.tasks.get(pid)!;
  }

  /** A user task, asleep, on `cpu`. */
  spawn(pid: number, cpu = 0, tgid = pid): void {
    this.do({ type: 'spawn', pid, tgid, comm: `t${pid}`, kind: 'user', cpu });
  }

  /** Switch `cpu` to `pid` (prev leaves in `state`) and, for a user task, return it to user mode. */
  run(pid: number, cpu = 0, state: PrevState = 'S'): void {
    if (this.k.st.cpus[cpu].curr !== pid) this.do({ type: 'switch', cpu, next: pid, prevState: state });
    if (this.task(pid).kind === 'user') this.do({ type: 'return', pid });
  }

  /** A blocking syscall: the task sleeps and `cpu` switches to `next` (idle when omitted). */
  block(pid: number, next?: number): void {
    const cpu = this.task(pid).cpu;
    this.do({ type: 'syscall', pid, nr: 202 });
    this.do({ type: 'switch', cpu, next: next ?? -1 - cpu, prevState: 'S' });
  }

  write(pid: number, comp: number, tag: number): number {
    this.do({ type: 'user-write', pid, comp, tag });
    return valueToken(this.k, comp, tag);
  }

  read(pid: number, comp: number): number {
    return this.do({ type: 'user-read', pid, comp });
  }

  token(comp: number, tag: number): number {
    return valueToken(this.k, comp, tag);
  }
}
