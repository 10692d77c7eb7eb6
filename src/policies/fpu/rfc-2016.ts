/**
 * `rfc-2016`: Rik van Riel's "x86,fpu: make FPU context switching much lazier" (RFC, 2016-10-01,
 * seeds/002), the five patches as posted on top of 4.8's eager mode — defects included:
 *
 *  1/5 prev/next split; CR0.TS mirrored in per-CPU fpu_active.
 *  2/5 switch_fpu_finish() only sets TIF_LOAD_FPU on the incoming task; the exit-to-user path does
 *      test_and_clear(TIF_LOAD_FPU) and then switch_fpu_return() loads the registers.
 *  3/5 __kernel_fpu_begin(kernelfpu) makes a KVM guest fpu the owner instead of NULL.
 *  4/5 fpu_lazy_skip_restore(): skip the load when fpstate_active, last_cpu == cpu and the owner is
 *      still this fpu (and record that in fpregs_active).
 *  5/5 signal path: copy_fpstate_to_sigframe loads the registers if not still loaded — but without
 *      making the task the owner or clearing TIF_LOAD_FPU, so the exit path may load again from a
 *      stale memory image ("kinda sorta fix up signal path").
 * TIF_LOAD_FPU is modeled by the kernel's TIF_NEED_FPU_LOAD bit.
 */
import type { FpuPolicy } from '../../kernel/fpu/policy.js';
import {
  cpuInvalidateFpregsState,
  fpuInvalidateFpregsState,
  restoreFpregsFromFpstate,
  saveFpregsToFpstate,
  traceFpu,
} from '../../kernel/fpu/core.js';
import type { Kernel } from '../../kernel/kernel.js';
import { copyParentFpu, FPREGS_ACTIVE_VALIDITY } from './fpregs-active.js';
import { Cpu, Task, TIF_NEED_FPU_LOAD } from '../../kernel/state.js';

const ALL = 0xffff_ffff;

/** Patch 4/5: is this fpu's register set still loaded in this CPU? Records it in fpregs_active. */
function fpuLazySkipRestore(cpu: Cpu, t: Task): boolean {
  const still = t.fpu.fpstateActive && t.fpu.lastCpu === cpu.id && cpu.owner === t.fpu.id;
  t.fpu.fpregsActive = still;
  return still;
}

/** Patch 2/5 switch_fpu_return(), with 4/5's skip (eager mode: preload whenever fpstate_active). */
function rfcSwitchFpuReturn(k: Kernel, cpu: Cpu, t: Task): void {
  const fpu = t.fpu;
  if (!fpu.fpstateActive) return;
  if (fpuLazySkipRestore(cpu, t)) {
    k.st.counters.restoresSkipped++;
    return;
  }
  fpu.counter = Math.min(255, fpu.counter + 1);
  cpu.owner = fpu.id; // __fpregs_activate
  fpu.fpregsActive = true;
  traceFpu(k, cpu, 'x86_fpu_regs_activated', fpu, 'd....');
  cpu.fpuActive = true;
  restoreFpregsFromFpstate(k, cpu, fpu.fpstate, ALL, ALL, t);
}

export const rfc2016: FpuPolicy = {
  name: 'rfc-2016',
  models: "the 2016 RFC 'make FPU context switching much lazier' (5 patches on 4.8, as posted, with their defects)",
  usesTs: false,
  kvmApi: 'kernel-fpu',
  kfpuMxcsr: false, // on 4.8: before 7ad816762f9b (5.7)

  switchOut(k, cpu, prev) {
    const o = prev.fpu;
    if (o.fpregsActive) {
      saveFpregsToFpstate(k, cpu, o, prev);
      o.lastCpu = cpu.id;
      o.fpregsActive = false;
      traceFpu(k, cpu, 'x86_fpu_regs_deactivated', o, 'd..2.');
    } else {
      o.counter = 0;
      o.lastCpu = -1;
    }
  },

  switchIn(_k, _cpu, _prev, next) {
    next.tif |= TIF_NEED_FPU_LOAD; // set_thread_flag(TIF_LOAD_FPU), for every task
  },

  returnToUser(k, cpu, t) {
    if (t.tif & TIF_NEED_FPU_LOAD) {
      t.tif &= ~TIF_NEED_FPU_LOAD; // test_and_clear_thread_flag
      rfcSwitchFpuReturn(k, cpu, t);
    }
  },

  deviceNotAvailable() {
    return false;
  },

  ...FPREGS_ACTIVE_VALIDITY,

  makeRegistersValid(k, cpu, t) {
    // Patch 5/5's signal-path fix: load if not still loaded, without becoming the owner.
    if (!t.fpu.fpregsActive && !fpuLazySkipRestore(cpu, t) && t.fpu.fpstateActive) restoreFpregsFromFpstate(k, cpu, t.fpu.fpstate, ALL, ALL, t);
  },

  makeMemoryValid(k, cpu, t, forWrite) {
    if (cpu && cpu.curr === t.pid && t.fpu.fpregsActive) saveFpregsToFpstate(k, cpu, t.fpu, t);
    if (forWrite) fpuInvalidateFpregsState(t.fpu);
  },

  kernelFpuBegin(k, cpu) {
    const t = k.st.tasks.get(cpu.curr)!;
    // Patches 2/5 + 3/5: the owner becomes kernelfpu (NULL outside KVM) every time; live user
    // registers are saved first.
    cpuInvalidateFpregsState(cpu);
    if (t.fpu.fpregsActive) saveFpregsToFpstate(k, cpu, t.fpu, t);
  },

  kernelFpuEnd(k, cpu) {
    const t = k.st.tasks.get(cpu.curr)!;
    // Patch 2/5: nothing is reloaded here; switch_fpu_finish() sets TIF_LOAD_FPU and the exit path loads.
    if (t.fpu.fpregsActive) {
      t.tif |= TIF_NEED_FPU_LOAD;
      t.fpu.fpregsActive = false;
    }
  },

  fork(k, cpu, parent, child, minimal) {
    child.fpu.lastCpu = -1;
    child.fpu.counter = 0;
    child.fpu.fpregsActive = false;
    child.fpu.fpstateActive = !minimal;
    if (minimal) return;
    // fpu__copy (4.8): from the registers if they are the parent's, else from its memory image.
    copyParentFpu(k, cpu, parent, child);
  },

  exec(k, cpu, t) {
    // 4.8's flush_thread → fpu__clear() with fpstate_active (eager): copy_init_fpstate_to_fpregs()
    // only — the registers get init state; memory, last_cpu and TIF_LOAD_FPU are left as they are
    // (the RFC adds nothing here: a pending TIF_LOAD_FPU reloads the old program's image).
    t.fpu.fpstate = t.fpu.embedded;
    restoreFpregsFromFpstate(k, cpu, k.initFpstate, ALL, ALL, t);
  },

  exit(k, cpu, t) {
    if (cpu.curr === t.pid && t.fpu.fpregsActive) {
      cpu.owner = 0;
      t.fpu.fpregsActive = false;
      traceFpu(k, cpu, 'x86_fpu_regs_deactivated', t.fpu, '...1.');
    }
    t.fpu.fpstateActive = false;
    traceFpu(k, cpu, 'x86_fpu_dropped', t.fpu, '...1.');
  },

  markActivated(k, cpu, t) {
    // 4.8's signal delivery (fpu__clear: copy_init_fpstate_to_fpregs) and sigreturn (user_fpu_begin,
    // then XRSTOR into the registers): user_fpu_begin() makes the task the owner if it is not; memory
    // and last_cpu are not updated, and TIF_LOAD_FPU is left as it is, so the exit path's
    // switch_fpu_return may still load the stale memory image over the new registers.
    const fpu = t.fpu;
    if (!fpu.fpregsActive) {
      fpu.fpregsActive = true;
      cpu.owner = fpu.id;
      traceFpu(k, cpu, 'x86_fpu_regs_activated', fpu, 'b....');
    }
  },
};
