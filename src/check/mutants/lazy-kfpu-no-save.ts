/**
 * Mutant of `lazy-ts`: kernel_fpu_begin() in an interrupt trusts that nothing is live and saves
 * nothing, although the interrupted task's registers are active (CR0.TS clear); the kernel's SIMD code
 * clobbers them and kernel_fpu_end() reloads a stale image.
 *
 * Reproduces the failure of catalogue A4 — 5b1cbac37798 "i387: make irq_fpu_usable() tests more
 * robust" (3.3): in the lazy window irq_fpu_usable() said yes and kernel_fpu_begin() saved nothing or
 * the wrong thing, corrupting user FPU state under network crypto load.
 */
import { lazyTs } from '../../policies/fpu/lazy-ts.js';
import type { FpuPolicy } from '../../kernel/fpu/policy.js';
import type { Mutant } from './types.js';

const policy: FpuPolicy = {
  ...lazyTs,
  name: 'lazy-kfpu-no-save',
  kernelFpuBegin(k, cpu) {
    const t = k.st.tasks.get(cpu.curr)!;
    // BUG: the live registers of an interrupted task are not saved first.
    const active = t.fpu.fpregsActive;
    t.fpu.fpregsActive = false;
    lazyTs.kernelFpuBegin(k, cpu);
    t.fpu.fpregsActive = active;
  },
};

export const lazyKfpuNoSave: Mutant = {
  name: 'lazy-kfpu-no-save',
  of: 'lazy-ts',
  bug: '5b1cbac37798 "i387: make irq_fpu_usable() tests more robust" (catalogue A4)',
  policy,
};
