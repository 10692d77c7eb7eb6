/**
 * Mutant of `deferred`: exec resets the FPU state by forgetting only the *current* CPU's registers
 * (fpu__drop: owner := NULL here) instead of invalidating the task's last_cpu. If the task ran on
 * CPU 0, was preempted in exec and migrated, flushed on CPU 1 and then went back to CPU 0, whose owner
 * still names it, fpregs_state_valid() holds and the new program starts with the old program's registers.
 *
 * Reproduces catalogue F3 — 1f69383b203e "x86/fpu: Invalidate FPU state correctly on exec()" (6.5),
 * fixing 33344368cb08 "x86/fpu: Clean up the fpu__clear() variants".
 */
import { deferred } from '../../policies/fpu/deferred.js';
import type { FpuPolicy } from '../../kernel/fpu/policy.js';
import type { Mutant } from './types.js';

const policy: FpuPolicy = {
  ...deferred,
  name: 'deferred-exec-drop',
  exec(k, cpu, t) {
    const lastCpu = t.fpu.lastCpu;
    deferred.exec(k, cpu, t);
    // BUG: instead of invalidating last_cpu, only this CPU forgets the registers (fpu__drop); last_cpu
    // keeps naming another CPU that may still hold the old program's registers.
    t.fpu.lastCpu = lastCpu;
    if (cpu.owner === t.fpu.id) cpu.owner = 0;
  },
};

export const deferredExecDrop: Mutant = {
  name: 'deferred-exec-drop',
  of: 'deferred',
  bug: '1f69383b203e "x86/fpu: Invalidate FPU state correctly on exec()" (catalogue F3)',
  policy,
};
