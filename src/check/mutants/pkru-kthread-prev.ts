/**
 * Mutant of PKRU `xstate-eager` (5.2–5.13): switch_fpu_finish() decides whether to load next's PKRU from a stale `current` — the
 * previous task. When the previous task is a kernel thread (here the idle task), the load is skipped
 * and the user task runs, and the kernel accesses its memory, with the kernel thread's PKRU.
 *
 * Catalogue C3: the compiler cached `current` (this_cpu_read_stable) from before current_task was
 * updated, so switch_fpu_finish tested PF_KTHREAD on the old task. Fixed in stable by "x86/fpu:
 * Correct pkru/xstate inconsistency" (Brian Geffon, 2022) and in mainline by 954436989cc5 "x86/fpu:
 * Remove PKRU handling from switch_fpu_finish()" (5.14); introduced by 0cecca9d03c9 (5.2).
 */
import { deferred } from '../../policies/fpu/deferred.js';
import { pkruXstateEager } from '../../policies/pkru/xstate-eager.js';
import type { PkruPolicy } from '../../kernel/designs.js';
import type { Mutant } from './types.js';

const pkru: PkruPolicy = {
  ...pkruXstateEager,
  name: 'xstate-eager-kthread-prev',
  switchTo(k, cpu, prev, next) {
    // BUG: "current" is still prev: current->flags & PF_KTHREAD tests the kernel thread switched out.
    if (prev.kind !== 'user') return;
    pkruXstateEager.switchTo(k, cpu, prev, next);
  },
};

export const pkruKthreadPrev: Mutant = {
  name: 'pkru-kthread-prev',
  of: 'pkru xstate-eager',
  bug: '954436989cc5 "x86/fpu: Remove PKRU handling from switch_fpu_finish()" / stable "x86/fpu: Correct pkru/xstate inconsistency" (catalogue C3)',
  policy: deferred,
  designs: { pkru },
  config: { comps: [9], moves: ['write', 'syscall', 'return', 'switch', 'migrate', 'uaccess'], depth: 8 },
};
