/**
 * `lazy-ts`: Linux before 4.9 in lazy mode (4.2–4.8 struct fpu: fpstate_active, fpregs_active,
 * counter; CR0.TS). Registers are not switched at all at a context switch unless the next task used
 * the FPU in each of its last 5 time slices ("preload"); otherwise CR0.TS is set and the task's first
 * FPU instruction raises #NM, whose handler (fpu__restore) clears TS and loads its state.
 */
import { charge } from '../../kernel/meter.js';
import type { FpuPolicy } from '../../kernel/fpu/policy.js';
import {
  cpuInvalidateFpregsState,
  fpregsMarkActivate,
  fpregsStateValid,
  fpuInvalidateFpregsState,
  initFpstateImage,
  restoreFpregsFromFpstate,
  saveFpregsToFpstate,
  traceFpu,
} from '../../kernel/fpu/core.js';
import type { Kernel } from '../../kernel/kernel.js';
import { copyParentFpu, FPREGS_ACTIVE_VALIDITY } from './fpregs-active.js';
import { Cpu, Task, TIF_NEED_FPU_LOAD } from '../../kernel/state.js';

const ALL = 0xffff_ffff;
/** fpu.counter > 5: the task used the FPU in each of its last 5+ slices, so preload it. */
const PRELOAD_AFTER = 5;

function stts(k: Kernel, cpu: Cpu): void {
  if (!cpu.xs.cr0Ts) charge(k, cpu, 'cr0-write');
  cpu.xs.cr0Ts = true;
  cpu.fpuActive = false;
}

function clts(k: Kernel, cpu: Cpu): void {
  if (cpu.xs.cr0Ts) charge(k, cpu, 'cr0-write');
  cpu.xs.cr0Ts = false;
  cpu.fpuActive = true;
}

/** fpregs_activate (4.2–4.8): clts, fpregs_active, owner (trace x86_fpu_regs_activated). */
function fpregsActivateTs(k: Kernel, cpu: Cpu, t: Task): void {
  clts(k, cpu);
  t.fpu.fpregsActive = true;
  cpu.owner = t.fpu.id;
  traceFpu(k, cpu, 'x86_fpu_regs_activated', t.fpu, 'd....');
}

/** fpregs_deactivate (4.2–4.8): owner NULL, fpregs_active clear, stts. */
function fpregsDeactivateTs(k: Kernel, cpu: Cpu, t: Task): void {
  t.fpu.fpregsActive = false;
  cpu.owner = 0;
  stts(k, cpu);
  traceFpu(k, cpu, 'x86_fpu_regs_deactivated', t.fpu, '...1.');
}

/** fpu__restore: the #NM path. */
function fpuRestore(k: Kernel, cpu: Cpu, t: Task): void {
  const fpu = t.fpu;
  if (!fpu.fpstateActive) {
    // fpu__activate_curr: first use, the state starts as init_fpstate.
    initFpstateImage(k, fpu.fpstate);
    fpu.fpstateActive = true;
  }
  fpregsActivateTs(k, cpu, t);
  restoreFpregsFromFpstate(k, cpu, fpu.fpstate, ALL, ALL, t);
  fpu.lastCpu = cpu.id;
  fpu.counter = Math.min(255, fpu.counter + 1);
}

export const lazyTs: FpuPolicy = {
  name: 'lazy-ts',
  models: 'Linux before 4.9 (lazy mode, 4.2–4.8 code): CR0.TS, #NM on first use, preload after 5 consecutive uses',
  usesTs: true,
  kvmApi: 'kernel-fpu',
  kfpuMxcsr: false, // before 4.9: before 7ad816762f9b (5.7)

  switchOut(k, cpu, prev, next) {
    const o = prev.fpu;
    const n = next.fpu;
    cpu.preload = next.kind === 'user' && n.fpstateActive && n.counter > PRELOAD_AFTER;
    if (o.fpregsActive) {
      saveFpregsToFpstate(k, cpu, o, prev);
      o.lastCpu = cpu.id;
      // But leave fpu_fpregs_owner_ctx: a lazy restore may find it still valid.
      o.fpregsActive = false;
      traceFpu(k, cpu, 'x86_fpu_regs_deactivated', o, 'd..2.');
      if (cpu.preload) {
        n.counter = Math.min(255, n.counter + 1);
        n.fpregsActive = true;
        cpu.owner = n.id;
        traceFpu(k, cpu, 'x86_fpu_regs_activated', n, 'd..2.');
      } else stts(k, cpu);
    } else {
      o.counter = 0;
      o.lastCpu = -1;
      if (cpu.preload) {
        n.counter = Math.min(255, n.counter + 1);
        if (fpregsStateValid(cpu, n)) cpu.preload = false; // fpu_want_lazy_restore: still in the registers
        n.fpregsActive = true;
        clts(k, cpu);
        cpu.owner = n.id;
        traceFpu(k, cpu, 'x86_fpu_regs_activated', n, 'd..2.');
      }
    }
  },

  switchIn(k, cpu, _prev, next) {
    if (cpu.preload) {
      restoreFpregsFromFpstate(k, cpu, next.fpu.fpstate, ALL, ALL, next);
      next.fpu.lastCpu = cpu.id;
    }
    cpu.preload = false;
  },

  returnToUser(_k, _cpu, t) {
    t.tif &= ~TIF_NEED_FPU_LOAD;
  },

  deviceNotAvailable(k, cpu, t) {
    if (t.kind !== 'user') return false;
    fpuRestore(k, cpu, t);
    return true;
  },

  ...FPREGS_ACTIVE_VALIDITY,

  makeRegistersValid(k, cpu, t) {
    if (!t.fpu.fpregsActive) fpuRestore(k, cpu, t);
    t.tif &= ~TIF_NEED_FPU_LOAD;
  },

  makeMemoryValid(k, cpu, t, forWrite) {
    if (cpu && cpu.curr === t.pid && t.fpu.fpregsActive) saveFpregsToFpstate(k, cpu, t.fpu, t);
    if (!t.fpu.fpstateActive) {
      // fpu__activate_fpstate_read/write: a task that has not used the FPU since exec has init state.
      initFpstateImage(k, t.fpu.fpstate);
      t.fpu.fpstateActive = true;
    }
    if (forWrite) {
      fpuInvalidateFpregsState(t.fpu);
      if (cpu && cpu.curr === t.pid && t.fpu.fpregsActive) fpregsDeactivateTs(k, cpu, t);
    }
  },

  kernelFpuBegin(k, cpu) {
    const t = k.st.tasks.get(cpu.curr)!;
    if (t.fpu.fpregsActive) saveFpregsToFpstate(k, cpu, t.fpu, t);
    else {
      cpuInvalidateFpregsState(cpu);
      clts(k, cpu);
    }
  },

  kernelFpuEnd(k, cpu) {
    const t = k.st.tasks.get(cpu.curr)!;
    if (t.fpu.fpregsActive) restoreFpregsFromFpstate(k, cpu, t.fpu.fpstate, ALL, ALL, t);
    else stts(k, cpu);
  },

  fork(k, cpu, parent, child, minimal) {
    child.fpu.lastCpu = -1;
    child.fpu.counter = 0;
    child.fpu.fpregsActive = false;
    child.fpu.fpstateActive = false;
    if (minimal || !parent.fpu.fpstateActive) return;
    // fpu_copy: the parent's live registers (or its memory image) become the child's state.
    copyParentFpu(k, cpu, parent, child);
  },

  exec(k, cpu, t) {
    // fpu__clear (lazy): fpu__drop; the next use starts from init state via #NM.
    if (t.fpu.fpregsActive) fpregsDeactivateTs(k, cpu, t);
    t.fpu.fpstateActive = false;
    t.fpu.fpstate = t.fpu.embedded;
    initFpstateImage(k, t.fpu.fpstate);
    fpuInvalidateFpregsState(t.fpu);
  },

  exit(k, cpu, t) {
    if (cpu.curr === t.pid && t.fpu.fpregsActive) fpregsDeactivateTs(k, cpu, t);
    t.fpu.fpstateActive = false;
    traceFpu(k, cpu, 'x86_fpu_dropped', t.fpu, '...1.');
  },

  markActivated(k, cpu, t) {
    clts(k, cpu);
    t.fpu.fpregsActive = true;
    t.fpu.fpstateActive = true;
    fpregsMarkActivate(k, cpu, t);
  },
};
