/**
 * Mutant of `deferred`: kernel_fpu_begin() saves the registers into current's buffer whether or not
 * they hold current's state. After an earlier kernel FPU section (or a switch) TIF_NEED_FPU_LOAD is set:
 * the registers hold another context's values and the buffer is the only copy of the task's state — a
 * second section overwrites that copy with the other context's values, and the return to user loads them.
 *
 * Reproduces catalogue H1(b), from the review of Rik van Riel's 2016 RFC ("make FPU context switching
 * much lazier"): kernel_fpu_begin in a softirq must save the user state only if it is live — the
 * `if (!test_thread_flag(TIF_NEED_FPU_LOAD))` test of kernel_fpu_begin_mask() that the 5.2 series
 * introduced (5f409e20b794 "x86/fpu: Defer FPU state load until return to userspace" and its
 * companions). A design rule from the RFC discussion [mem], not a shipped kernel's bug.
 */
import { deferred } from '../../policies/fpu/deferred.js';
import { cpuInvalidateFpregsState, saveFpregsToFpstate } from '../../kernel/fpu/core.js';
import type { FpuPolicy } from '../../kernel/fpu/policy.js';
import { TIF_NEED_FPU_LOAD } from '../../kernel/state.js';
import type { Mutant } from './types.js';

const policy: FpuPolicy = {
  ...deferred,
  name: 'deferred-kfpu-save-not-live',
  kernelFpuBegin(k, cpu) {
    const t = k.st.tasks.get(cpu.curr)!;
    // BUG: saved even when TIF_NEED_FPU_LOAD says the registers are not the task's.
    if (t.kind === 'user') {
      t.tif |= TIF_NEED_FPU_LOAD;
      saveFpregsToFpstate(k, cpu, t.fpu, t);
    }
    cpuInvalidateFpregsState(cpu);
  },
};

export const deferredKfpuSaveNotLive: Mutant = {
  name: 'deferred-kfpu-save-not-live',
  of: 'deferred',
  bug: 'RFC 2016 review (catalogue H1(b)): kernel_fpu_begin() must save the user state only if it is live (TIF_NEED_FPU_LOAD clear)',
  policy,
  config: { depth: 6 },
};
