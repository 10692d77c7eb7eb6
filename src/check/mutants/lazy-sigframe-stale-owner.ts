/**
 * Mutant of `lazy-ts`: the signal-frame code decides that the task owns the FPU before a preemption
 * point and trusts that decision afterwards. It clears CR0.TS and XSAVEs the registers into the frame
 * without reloading them, although in the meantime the task was switched out and another context —
 * here kernel FPU code in a softirq — used this CPU's registers. The frame gets the other context's
 * values, and rt_sigreturn gives them to the task.
 *
 * Reproduces catalogue A3 — 15d8791cae75 "i387: fix x86-64 preemption-unsafe user stack save/restore"
 * (3.3) [mem]: the 3.2 lazy-mode signal code saved the FPU state straight to the user stack; a page
 * fault in the middle could sleep, the FPU changed hands, and the save went on with the wrong state
 * (or trapped with #NM in the kernel). The model has no page fault inside the frame write, so the
 * preemption comes before it: the mutant keeps the ownership verdict from before the switch.
 */
import { lazyTs } from '../../policies/fpu/lazy-ts.js';
import type { FpuPolicy } from '../../kernel/fpu/policy.js';
import { fpregsActivate } from '../../kernel/fpu/core.js';
import { charge } from '../../kernel/meter.js';
import { TIF_NEED_FPU_LOAD } from '../../kernel/state.js';
import { DEFAULT_CONFIG } from '../explore.js';
import type { Mutant } from './types.js';

const policy: FpuPolicy = {
  ...lazyTs,
  name: 'lazy-sigframe-stale-owner',
  makeRegistersValid(k, cpu, t) {
    if (!t.fpu.fpregsActive && t.fpu.fpstateActive) {
      // BUG: "the task owns the FPU" (decided before the preemption): clts, no restore.
      if (cpu.xs.cr0Ts) charge(k, cpu, 'cr0-write');
      cpu.xs.cr0Ts = false;
      cpu.fpuActive = true;
      t.fpu.fpregsActive = true;
      fpregsActivate(k, cpu, t.fpu);
    } else lazyTs.makeRegistersValid(k, cpu, t);
    t.tif &= ~TIF_NEED_FPU_LOAD;
  },
};

export const lazySigframeStaleOwner: Mutant = {
  name: 'lazy-sigframe-stale-owner',
  of: 'lazy-ts',
  bug: '15d8791cae75 "i387: fix x86-64 preemption-unsafe user stack save/restore" (catalogue A3: the signal frame saved after the FPU changed hands)',
  policy,
  config: { moves: [...DEFAULT_CONFIG.moves, 'signal', 'sigreturn'], depth: 6 },
};
