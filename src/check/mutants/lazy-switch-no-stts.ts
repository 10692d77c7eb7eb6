/**
 * Mutant of `lazy-ts`: the switch-out saves prev's registers but leaves CR0.TS clear (no stts /
 * __fpregs_deactivate_hw) when next is not preloaded. Next's first FPU instruction then does not trap
 * (#NM, fpu__restore) and runs on prev's register values.
 *
 * Reproduces catalogue A1, LazyFP (CVE-2018-3665), made architectural: with lazy switching the
 * registers stay prev's while TS is set, and Intel cores used them speculatively before the #NM
 * retired — "TS set and owner ≠ current" is a state in which current can observe another task's
 * registers (the catalogue's model note). The mutant removes the architectural barrier so that the
 * checker's user-mode read observes what the side channel leaked. Fixed by abandoning lazy switching:
 * 58122bf1d856 "x86/fpu: Default eagerfpu=on on all CPUs" (4.6) and c592b5734706 "x86/fpu: Remove
 * use_eager_fpu()" (4.9) [mem: ids from the catalogue, not re-checked].
 */
import { lazyTs } from '../../policies/fpu/lazy-ts.js';
import type { FpuPolicy } from '../../kernel/fpu/policy.js';
import type { Mutant } from './types.js';

const policy: FpuPolicy = {
  ...lazyTs,
  name: 'lazy-switch-no-stts',
  switchOut(k, cpu, prev, next) {
    const ts = cpu.xs.cr0Ts;
    const active = cpu.fpuActive;
    const saving = prev.fpu.fpregsActive;
    lazyTs.switchOut(k, cpu, prev, next);
    // BUG: CR0.TS is not set: the registers stay usable by whoever runs next.
    if (saving && !cpu.preload) {
      cpu.xs.cr0Ts = ts;
      cpu.fpuActive = active;
    }
  },
};

export const lazySwitchNoStts: Mutant = {
  name: 'lazy-switch-no-stts',
  of: 'lazy-ts',
  bug: '58122bf1d856 "x86/fpu: Default eagerfpu=on on all CPUs" (catalogue A1, LazyFP CVE-2018-3665: prev\'s registers observable by next under lazy switching)',
  policy,
  // LazyFP happens on one CPU: the next task of the same run queue reads prev's registers.
  config: { cpus: 1, depth: 6 },
};
