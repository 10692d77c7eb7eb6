/**
 * Mutant of `deferred`: fpu_clone copies the parent's registers with XSAVE without first making them
 * the parent's (fpregs_restore_userregs when TIF_NEED_FPU_LOAD is set): after a kernel FPU section or
 * a switch the registers hold someone else's values, and the child starts with them.
 *
 * The rule the 5.2 deferred-load series gave fpu__copy() (5f409e20b794 "x86/fpu: Defer FPU state load
 * until return to userspace" and its preparation patches): with TIF_NEED_FPU_LOAD the parent's state
 * is in memory, not in the registers (6.x fpu_clone: fpregs_lock, restore if needed, then save).
 */
import { deferred } from '../../policies/fpu/deferred.js';
import type { FpuPolicy } from '../../kernel/fpu/policy.js';
import { saveFpregsToFpstate, traceFpu } from '../../kernel/fpu/core.js';
import { TIF_NEED_FPU_LOAD } from '../../kernel/state.js';
import { DEFAULT_CONFIG } from '../explore.js';
import type { Mutant } from './types.js';

const policy: FpuPolicy = {
  ...deferred,
  name: 'deferred-fork-live-regs',
  fork(k, cpu, parent, child, minimal) {
    child.fpu.lastCpu = -1;
    child.tif |= TIF_NEED_FPU_LOAD;
    if (minimal) return;
    // BUG: no fpregs_restore_userregs() for a parent whose registers are not live.
    saveFpregsToFpstate(k, cpu, child.fpu, child);
    traceFpu(k, cpu, 'x86_fpu_copy_dst', child.fpu);
  },
};

export const deferredForkLiveRegs: Mutant = {
  name: 'deferred-fork-live-regs',
  of: 'deferred',
  bug: '5f409e20b794 "x86/fpu: Defer FPU state load until return to userspace" (fpu__copy() must take the parent\'s state from memory when TIF_NEED_FPU_LOAD is set)',
  policy,
  config: { children: 1, moves: [...DEFAULT_CONFIG.moves, 'fork'], depth: 8 },
};
