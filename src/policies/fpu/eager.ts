/**
 * `eager`: Linux 4.9–5.1 (arch/x86/include/asm/fpu/internal.h switch_fpu_prepare/finish, 4.14 form).
 *
 *  - Switch-out (switch_fpu_prepare): a task with FPU state (user tasks) is saved; last_cpu := this CPU.
 *    The owner is left pointing at it.
 *  - Switch-in (switch_fpu_finish): the next user task's state is restored at once, unless
 *    fpregs_state_valid() says the registers still hold it; then fpregs_activate.
 *  - kernel_fpu_begin saves the user state (or, for a kernel thread, invalidates the registers);
 *    kernel_fpu_end restores the user state immediately.
 *  - exec (fpu__clear) loads the init state into the registers right away.
 */
import type { FpuPolicy } from '../../kernel/fpu/policy.js';
import {
  cpuInvalidateFpregsState,
  fpregsActivate,
  fpregsDeactivate,
  fpregsMarkActivate,
  fpregsStateValid,
  fpuInvalidateFpregsState,
  initFpstateImage,
  restoreFpregsFromFpstate,
  saveFpregsToFpstate,
  traceFpu,
} from '../../kernel/fpu/core.js';
import type { Kernel } from '../../kernel/kernel.js';
import { Cpu, Task, TIF_NEED_FPU_LOAD } from '../../kernel/state.js';

const ALL = 0xffff_ffff;

function hasFpu(t: Task): boolean {
  return t.kind === 'user';
}

/** copy_kernel_to_fpregs + fpregs_activate for the task now running on `cpu`. */
function load(k: Kernel, cpu: Cpu, t: Task): void {
  if (!fpregsStateValid(cpu, t.fpu)) restoreFpregsFromFpstate(k, cpu, t.fpu.fpstate, ALL, ALL, t);
  else k.st.counters.restoresSkipped++;
  fpregsActivate(k, cpu, t.fpu);
  t.fpu.lastCpu = cpu.id;
}

export const eager: FpuPolicy = {
  name: 'eager',
  models: 'Linux 4.9–5.1: save at switch-out, restore at switch-in unless still valid (owner + last_cpu)',
  usesTs: false,
  kvmApi: 'kernel-fpu',
  kfpuMxcsr: false, // 4.9–5.1: before 7ad816762f9b (5.7)

  switchOut(k, cpu, prev) {
    if (!hasFpu(prev)) return;
    saveFpregsToFpstate(k, cpu, prev.fpu, prev);
    prev.fpu.lastCpu = cpu.id;
    traceFpu(k, cpu, 'x86_fpu_regs_deactivated', prev.fpu, 'd..2.');
  },

  switchIn(k, cpu, _prev, next) {
    if (hasFpu(next)) load(k, cpu, next);
  },

  returnToUser(_k, _cpu, t) {
    t.tif &= ~TIF_NEED_FPU_LOAD;
  },

  deviceNotAvailable() {
    return false;
  },

  registersValid(_k, cpu, t) {
    return cpu.curr === t.pid;
  },

  memoryValid(k, t) {
    const cpu = k.st.cpus[t.cpu];
    return !cpu || cpu.curr !== t.pid;
  },

  makeRegistersValid(k, cpu, t) {
    if (cpu.owner !== t.fpu.id) load(k, cpu, t);
    t.tif &= ~TIF_NEED_FPU_LOAD;
  },

  makeMemoryValid(k, cpu, t, forWrite) {
    // fpu__prepare_read / fpu__prepare_write (4.x): save current's registers; a write forgets the copy.
    if (cpu && cpu.curr === t.pid) saveFpregsToFpstate(k, cpu, t.fpu, t);
    if (forWrite) fpuInvalidateFpregsState(t.fpu);
  },

  kernelFpuBegin(k, cpu) {
    const t = k.st.tasks.get(cpu.curr)!;
    if (hasFpu(t)) saveFpregsToFpstate(k, cpu, t.fpu, t);
    else cpuInvalidateFpregsState(cpu);
  },

  kernelFpuEnd(k, cpu) {
    const t = k.st.tasks.get(cpu.curr)!;
    // __kernel_fpu_end: the user registers come back immediately.
    if (hasFpu(t)) restoreFpregsFromFpstate(k, cpu, t.fpu.fpstate, ALL, ALL, t);
  },

  fork(k, cpu, _parent, child, minimal) {
    child.fpu.lastCpu = -1;
    if (minimal) return;
    // fpu__copy: the parent's live registers are saved into the child's buffer.
    saveFpregsToFpstate(k, cpu, child.fpu, child);
    traceFpu(k, cpu, 'x86_fpu_copy_dst', child.fpu);
  },

  exec(k, cpu, t) {
    // fpu__clear: drop, then init state loaded into the registers at once.
    const fpu = t.fpu;
    fpu.fpstate = fpu.embedded;
    initFpstateImage(k, fpu.fpstate);
    fpuInvalidateFpregsState(fpu);
    load(k, cpu, t);
  },

  exit(k, cpu, t) {
    if (cpu.curr === t.pid && cpu.owner === t.fpu.id) fpregsDeactivate(k, cpu, t.fpu);
    traceFpu(k, cpu, 'x86_fpu_dropped', t.fpu, '...1.');
  },

  markActivated(k, cpu, t) {
    fpregsMarkActivate(k, cpu, t);
  },
};
