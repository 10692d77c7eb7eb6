/**
 * Mutant of `deferred`: irq_fpu_usable() lets a hardirq use the FPU whenever no kernel FPU section is
 * open — also when the interrupt hit an fpregs_lock() region (BH disabled, IRQs on). A hardirq that
 * arrives while the signal code has just restored the task's registers but not yet marked them as the
 * task's runs kernel_fpu_begin() (nothing to save: TIF_NEED_FPU_LOAD is still set), clobbers them, and
 * the interrupted code then marks the kernel's values as the task's: they go into the signal frame and
 * come back at rt_sigreturn.
 *
 * Catalogue C2: fixed by 59f5ede3bc0f "x86/fpu: Prevent FPU state corruption" (5.18-rc, backported):
 * "in hardirq, allowed only if softirq_count() == 0". Triggered in the field by random.c's SIMD hashing
 * in interrupt context.
 */
import { deferred } from '../../policies/fpu/deferred.js';
import type { FpuPolicy } from '../../kernel/fpu/policy.js';
import { DEFAULT_CONFIG } from '../explore.js';
import type { Mutant } from './types.js';

const policy: FpuPolicy = {
  ...deferred,
  name: 'deferred-irq-fpu-usable-in-lock',
  // BUG: only an open kernel FPU section makes the FPU unusable; a BH-disabled region does not.
  irqFpuUsable: (cpu) => !cpu.inKernelFpu,
};

export const deferredIrqFpuUsableInLock: Mutant = {
  name: 'deferred-irq-fpu-usable-in-lock',
  of: 'deferred',
  bug: '59f5ede3bc0f "x86/fpu: Prevent FPU state corruption" (catalogue C2: a hardirq\'s kernel_fpu_begin() inside an fpregs_lock() region)',
  policy,
  config: { moves: [...DEFAULT_CONFIG.moves, 'signal', 'sigreturn', 'irq-in-lock'], depth: 6 },
};
