/**
 * Mutant of `deferred`: copy_fpstate_to_sigframe() XSAVEs the registers into the signal frame as they
 * are, without first loading the task's state when TIF_NEED_FPU_LOAD says the registers are not its
 * own (fpregs_restore_userregs under fpregs_lock). With deferred loading the registers may hold another
 * context's values — here kernel FPU code's — which go to the frame and come back at rt_sigreturn.
 *
 * Reproduces the defect of Rik van Riel's RFC "x86,fpu: make FPU context switching much lazier"
 * (2016-10-01, patch 5/5 "kinda sorta fix up signal path": the load was added for the compacted format
 * only, "I am pretty sure this is incomplete") — catalogue H1(a): the signal frame code reads the
 * registers directly, hence the rule "always load before XSAVE to the user frame" of the 5.2 series
 * (5f409e20b794 and its signal patches). An RFC review item, not a shipped kernel's bug.
 */
import { deferred } from '../../policies/fpu/deferred.js';
import type { FpuPolicy } from '../../kernel/fpu/policy.js';
import { DEFAULT_CONFIG } from '../explore.js';
import type { Mutant } from './types.js';

const policy: FpuPolicy = {
  ...deferred,
  name: 'deferred-sigframe-no-load',
  makeRegistersValid() {
    // BUG: no fpregs_restore_userregs(): the frame gets whatever the registers hold.
  },
};

export const deferredSigframeNoLoad: Mutant = {
  name: 'deferred-sigframe-no-load',
  of: 'deferred',
  bug: 'RFC 2016 "x86,fpu: make FPU context switching much lazier" patch 5/5 (catalogue H1(a): the signal frame XSAVEd from registers that are not the task\'s)',
  policy,
  config: { moves: [...DEFAULT_CONFIG.moves, 'signal', 'sigreturn'], depth: 6 },
};
