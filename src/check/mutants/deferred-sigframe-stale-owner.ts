/**
 * Mutant of `deferred`: copy_fpstate_to_sigframe() decides whether the registers still hold the task's
 * state with an fpu_fpregs_owner_ctx value read before a preemption point, so only the last_cpu half of
 * fpregs_state_valid() is really checked. After the owner changed (another context — here kernel FPU
 * code — used this CPU's registers), the restore is skipped, XSAVE writes the other context's registers
 * into the task's signal frame, and rt_sigreturn loads them: the task runs on values it never wrote.
 *
 * Reproduces catalogue D1 on its own path — 59c4bd853abc "x86/fpu: Don't cache access to
 * fpu_fpregs_owner_ctx" (5.4): with gcc 9, this_cpu_read_stable() let the compiler load the owner once
 * before the signal-frame retry loop (kernel bugzilla 205663, Go programs' AVX registers corrupted).
 * (`deferred-kfpu-keeps-owner` is the same stale owner reached through kernel_fpu_begin().)
 */
import { deferred } from '../../policies/fpu/deferred.js';
import type { FpuPolicy } from '../../kernel/fpu/policy.js';
import { DEFAULT_CONFIG } from '../explore.js';
import type { Mutant } from './types.js';

const policy: FpuPolicy = {
  ...deferred,
  name: 'deferred-sigframe-stale-owner',
  makeRegistersValid(k, cpu, t) {
    // BUG: the owner as cached before the preemption point — the task itself.
    const owner = cpu.owner;
    const restores = k.st.counters.restores;
    cpu.owner = t.fpu.id;
    deferred.makeRegistersValid(k, cpu, t);
    if (k.st.counters.restores === restores) cpu.owner = owner; // skipped: the real owner is unchanged
  },
};

export const deferredSigframeStaleOwner: Mutant = {
  name: 'deferred-sigframe-stale-owner',
  of: 'deferred',
  bug: '59c4bd853abc "x86/fpu: Don\'t cache access to fpu_fpregs_owner_ctx" (catalogue D1: the signal frame written from registers judged on a stale owner)',
  policy,
  config: { moves: [...DEFAULT_CONFIG.moves, 'signal', 'sigreturn'], depth: 6 },
};
