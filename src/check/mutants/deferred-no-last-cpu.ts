/**
 * Mutant of `deferred`: fpregs_state_valid() trusts the per-CPU owner alone and ignores fpu->last_cpu.
 * A task that ran on CPU 0, moved to CPU 1 and changed its registers there, and comes back to CPU 0
 * (whose owner still names it) skips the restore and runs on its old values.
 *
 * The check this drops is the second half of the validity rule the deferred-load series introduced
 * (5f409e20b794 "x86/fpu: Defer FPU state load until return to userspace", 5.2; Rik van Riel's RFC
 * patch 2/5 "x86,fpu: delay FPU restore until return to userspace" needed it for the same reason).
 */
import { deferred, fpregsRestoreUserregs } from '../../policies/fpu/deferred.js';
import type { FpuPolicy } from '../../kernel/fpu/policy.js';
import { TIF_NEED_FPU_LOAD } from '../../kernel/state.js';
import type { Mutant } from './types.js';

const policy: FpuPolicy = {
  ...deferred,
  name: 'deferred-no-last-cpu',
  returnToUser(k, cpu, t) {
    if ((t.tif & TIF_NEED_FPU_LOAD) === 0) return;
    // BUG: the owner alone decides; pretending last_cpu matches makes fpregs_state_valid() agree.
    if (cpu.owner === t.fpu.id) t.fpu.lastCpu = cpu.id;
    fpregsRestoreUserregs(k, cpu, t);
  },
};

export const deferredNoLastCpu: Mutant = {
  name: 'deferred-no-last-cpu',
  of: 'deferred',
  bug: '5f409e20b794 "x86/fpu: Defer FPU state load until return to userspace" (the last_cpu half of fpregs_state_valid)',
  policy,
};
