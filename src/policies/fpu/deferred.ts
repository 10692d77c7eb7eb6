/**
 * `deferred`: Linux 5.2+ as Linux 6.18 does it (arch/x86/include/asm/fpu/sched.h switch_fpu(),
 * arch/x86/kernel/fpu/context.h fpregs_restore_userregs(), core.c).
 *
 *  - Switch-out (switch_fpu, in prev's context): a user task whose registers are live
 *    (TIF_NEED_FPU_LOAD clear) gets TIF_NEED_FPU_LOAD set and is saved; last_cpu := this CPU. The
 *    per-CPU owner keeps pointing at it — the registers still hold its state. Nothing is done for next.
 *  - Return to user (switchFpuReturn below: exit_to_user_mode → arch_exit_to_user_mode_prepare →
 *    switch_fpu_return): if TIF_NEED_FPU_LOAD, restore from memory unless fpregs_state_valid()
 *    (owner == fpu && last_cpu == cpu), then clear the flag.
 *  - Kernel threads, user workers and idle are never saved: their flag stays set from fpu_clone.
 *  - kernel_fpu_begin saves the user state if live and invalidates this CPU's registers
 *    (__cpu_invalidate_fpregs_state); a changed memory image uses __fpu_invalidate_fpregs_state.
 */
import type { Kernel } from '../../kernel/kernel.js';
import { violation } from '../../kernel/kernel.js';
import type { FpuPolicy } from '../../kernel/fpu/policy.js';
import {
  cpuInvalidateFpregsState,
  fpregsActivate,
  fpregsDeactivate,
  fpregsMarkActivate,
  fpregsStateValid,
  fpuInvalidateFpregsState,
  initFpstateImage,
  MASK_FPSTATE_HI,
  MASK_FPSTATE_LO,
  restoreFpregsFromFpstate,
  saveFpregsToFpstate,
  traceFpu,
} from '../../kernel/fpu/core.js';
import { Cpu, Task, TIF_NEED_FPU_LOAD } from '../../kernel/state.js';
import { fpregsLock, fpregsUnlock } from '../../kernel/signal.js';
import { irqWindow } from '../../kernel/kfpu.js';

function isUserTask(t: Task): boolean {
  return t.kind === 'user';
}

/** fpregs_restore_userregs(): load current's state unless this CPU's registers still hold it. */
export function fpregsRestoreUserregs(k: Kernel, cpu: Cpu, t: Task): void {
  if (!isUserTask(t)) {
    violation(k, 'kthread-fpu-load', `fpregs_restore_userregs for ${t.kind} ${t.comm}`, cpu.id, t.pid);
    return;
  }
  if (!fpregsStateValid(cpu, t.fpu)) {
    // XFEATURE_MASK_FPSTATE: 5.14+ never restores PKRU from the buffer (x86_pkru_load switches it in
    // __switch_to). Without a PKRU design (`--pkru`: PKRU not modelled) it travels with the buffer.
    const lo = k.designs.pkru && !k.designs.pkru.restoredFromBuffer ? MASK_FPSTATE_LO : 0xffff_ffff;
    restoreFpregsFromFpstate(k, cpu, t.fpu.fpstate, lo, MASK_FPSTATE_HI, t);
    // Under fpregs_lock() (signal frame, fork) a hardirq may come here: the registers hold t's state
    // but are not yet marked as t's (catalogue C2's window).
    irqWindow(k, cpu);
    fpregsActivate(k, cpu, t.fpu);
    t.fpu.lastCpu = cpu.id;
  } else k.st.counters.restoresSkipped++;
  t.tif &= ~TIF_NEED_FPU_LOAD;
}

/**
 * switch_fpu_return() (core.c, from arch_exit_to_user_mode_prepare): the task's registers are loaded
 * before it runs user code again — unless they still are (fpregs_state_valid).
 */
export function switchFpuReturn(k: Kernel, cpu: Cpu, t: Task): void {
  if (t.tif & TIF_NEED_FPU_LOAD) fpregsRestoreUserregs(k, cpu, t);
}

/** fpu_reset_fpstate_regs() (fpu_reset_fpregs() before 6.16): the memory image becomes init_fpstate's and the registers must be reloaded. */
export function fpuResetFpstateRegs(k: Kernel, cpu: Cpu, t: Task): void {
  fpregsLock(cpu);
  fpuInvalidateFpregsState(t.fpu);
  initFpstateImage(k, t.fpu.fpstate);
  t.tif |= TIF_NEED_FPU_LOAD;
  fpregsUnlock(cpu);
}

/** @deprecated The name before 6.16 (de8304c319bc renamed fpu_reset_fpregs()); kept for mutants written against it. */
export const fpuResetFpregs = fpuResetFpstateRegs;

export const deferred: FpuPolicy = {
  name: 'deferred',
  models: 'Linux 5.2+ (TIF_NEED_FPU_LOAD, restore on exit to user), as in 6.18: switch_fpu(), fpregs_restore_userregs()',
  usesTs: false,
  kvmApi: 'fpstate-swap',
  kfpuMxcsr: true, // 5.7+: KFPU_MXCSR

  switchOut(k, cpu, prev) {
    if ((prev.tif & TIF_NEED_FPU_LOAD) === 0 && isUserTask(prev)) {
      prev.tif |= TIF_NEED_FPU_LOAD;
      saveFpregsToFpstate(k, cpu, prev.fpu, prev);
      // The save preserved the registers: the owner is still prev, valid on this CPU.
      prev.fpu.lastCpu = cpu.id;
      traceFpu(k, cpu, 'x86_fpu_regs_deactivated', prev.fpu, 'd..2.');
    }
  },

  switchIn() {
    // 6.16+ (730faa15a069): nothing for next; every user task that is not running already has
    // TIF_NEED_FPU_LOAD set (before, switch_fpu_finish() set it for next).
  },

  returnToUser: switchFpuReturn,

  deviceNotAvailable() {
    return false;
  },

  registersValid(_k, cpu, t) {
    return cpu.curr === t.pid && (t.tif & TIF_NEED_FPU_LOAD) === 0;
  },

  memoryValid(k, t) {
    const cpu = k.st.cpus[t.cpu];
    return (t.tif & TIF_NEED_FPU_LOAD) !== 0 || !cpu || cpu.curr !== t.pid;
  },

  makeRegistersValid: switchFpuReturn,

  makeMemoryValid(k, cpu, t, forWrite) {
    // fpu_sync_fpstate(): save current's live registers; a stopped tracee was saved at switch-out.
    if (cpu && cpu.curr === t.pid && (t.tif & TIF_NEED_FPU_LOAD) === 0) {
      fpregsLock(cpu);
      traceFpu(k, cpu, 'x86_fpu_before_save', t.fpu, 'b....');
      saveFpregsToFpstate(k, cpu, t.fpu, t);
      traceFpu(k, cpu, 'x86_fpu_after_save', t.fpu, 'b....');
      fpregsUnlock(cpu);
    }
    // fpu_force_restore(): the image will change; no register copy of it may be reused.
    if (forWrite) {
      fpuInvalidateFpregsState(t.fpu);
      if (cpu && cpu.curr === t.pid) t.tif |= TIF_NEED_FPU_LOAD;
    }
  },

  kernelFpuBegin(k, cpu) {
    const t = k.st.tasks.get(cpu.curr)!;
    if (isUserTask(t) && (t.tif & TIF_NEED_FPU_LOAD) === 0) {
      t.tif |= TIF_NEED_FPU_LOAD;
      saveFpregsToFpstate(k, cpu, t.fpu, t);
    }
    cpuInvalidateFpregsState(cpu);
  },

  kernelFpuEnd() {
    // Nothing is restored: the user state comes back at exit to user.
  },

  fork(k, cpu, parent, child, minimal) {
    child.fpu.lastCpu = -1;
    child.tif |= TIF_NEED_FPU_LOAD;
    if (minimal) return; // kernel thread / user worker: init state, nothing inherited, no trace
    fpregsLock(cpu);
    if (parent.tif & TIF_NEED_FPU_LOAD) fpregsRestoreUserregs(k, cpu, parent);
    // XSAVE into the child's default-sized buffer: dynamic features (AMX) are not inherited.
    saveFpregsToFpstate(k, cpu, child.fpu, child);
    fpregsUnlock(cpu);
    traceFpu(k, cpu, 'x86_fpu_copy_dst', child.fpu);
  },

  exec(k, cpu, t) {
    // fpu_flush_thread(): fpstate_reset() points the task back at its embedded buffer (execTask resets
    // the permissions and retires a grown buffer), memory reset to init, registers to be reloaded.
    t.fpu.fpstate = t.fpu.embedded;
    fpuResetFpstateRegs(k, cpu, t);
  },

  exit(k, cpu, t) {
    // fpu__drop(): nothing to drop when the registers are not live (6.16, 016a2e6f8ae5); else current's
    // registers belong to nobody any more. TIF_NEED_FPU_LOAD stays clear: the final switch saves them.
    if (t.tif & TIF_NEED_FPU_LOAD) return;
    if (cpu.curr === t.pid) fpregsDeactivate(k, cpu, t.fpu);
    traceFpu(k, cpu, 'x86_fpu_dropped', t.fpu, '...1.');
  },

  markActivated(k, cpu, t) {
    fpregsMarkActivate(k, cpu, t);
  },
};
