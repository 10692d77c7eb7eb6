/**
 * Mutant of `deferred`: kernel_fpu_begin() saves the user state but leaves this CPU's
 * fpu_fpregs_owner_ctx pointing at the task, so the registers the kernel code then clobbers still
 * count as the task's and the next return to user skips the restore.
 *
 * Reproduces the failure of catalogue D1 — 59c4bd853abc "x86/fpu: Don't cache access to
 * fpu_fpregs_owner_ctx" (5.4): fpregs_state_valid() judged on an owner that no longer held the
 * registers, so a task ran on another context's register values (kernel bugzilla 205663).
 */
import { deferred } from '../../policies/fpu/deferred.js';
import { saveFpregsToFpstate } from '../../kernel/fpu/core.js';
import type { FpuPolicy } from '../../kernel/fpu/policy.js';
import { TIF_NEED_FPU_LOAD } from '../../kernel/state.js';
import type { Mutant } from './types.js';

const policy: FpuPolicy = {
  ...deferred,
  name: 'deferred-kfpu-keeps-owner',
  kernelFpuBegin(k, cpu) {
    const t = k.st.tasks.get(cpu.curr)!;
    if (t.kind === 'user' && (t.tif & TIF_NEED_FPU_LOAD) === 0) {
      t.tif |= TIF_NEED_FPU_LOAD;
      saveFpregsToFpstate(k, cpu, t.fpu, t);
    }
    // BUG: no __cpu_invalidate_fpregs_state(): the owner stays the task.
  },
};

export const deferredKfpuKeepsOwner: Mutant = {
  name: 'deferred-kfpu-keeps-owner',
  of: 'deferred',
  bug: '59c4bd853abc "x86/fpu: Don\'t cache access to fpu_fpregs_owner_ctx" (catalogue D1: restore skipped on a stale owner)',
  policy,
};
