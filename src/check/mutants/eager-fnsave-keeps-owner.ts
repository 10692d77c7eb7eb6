/**
 * Mutant of `eager`: on a CPU without FXSR the save instruction is FNSAVE, which stores the x87 state
 * and then reinitialises the registers (an implied FNINIT). The switch-out keeps treating the registers
 * as the task's after the save — last_cpu := this CPU, fpu_fpregs_owner_ctx still the task — so when
 * the task is switched back in on the same CPU with nobody else in between, fpregs_state_valid() holds,
 * the restore is skipped and the task runs on an init x87 state instead of its own.
 *
 * Reproduces catalogue B1 — 6e6867093de3 "x86/fpu: Fix eager-FPU handling on legacy FPU machines"
 * (4.6) [mem: id from the catalogue, not re-checked]; related: 5ed73f40735c "x86/fpu: Fix FNSAVE usage
 * in eagerfpu mode" (4.5) [mem]. The model's CPU profiles all have XSAVE, so the mutant performs the
 * save and then FNINIT's effect (x87 back to init) itself; it is checked on the x87 component only,
 * the state such a CPU has. The correct rule (Linux since then): a save that destroyed the registers
 * sets last_cpu = -1, or reloads them at once (save_fpregs_to_fpstate: FNSAVE ⇒ FRSTOR).
 */
import { eager } from '../../policies/fpu/eager.js';
import { initComponent } from '../../arch/xsave/registers.js';
import type { FpuPolicy } from '../../kernel/fpu/policy.js';
import { DEFAULT_CONFIG } from '../explore.js';
import type { Mutant } from './types.js';

const X87 = 0;

const policy: FpuPolicy = {
  ...eager,
  name: 'eager-fnsave-keeps-owner',
  switchOut(k, cpu, prev, next) {
    const saving = prev.kind === 'user';
    eager.switchOut(k, cpu, prev, next);
    // FNSAVE: the registers are reinitialised after the save …
    if (saving) initComponent(cpu.xs, X87);
    // BUG: … but last_cpu (set by the save path) and the owner still say they hold prev's state.
  },
};

export const eagerFnsaveKeepsOwner: Mutant = {
  name: 'eager-fnsave-keeps-owner',
  of: 'eager',
  bug: '6e6867093de3 "x86/fpu: Fix eager-FPU handling on legacy FPU machines" (catalogue B1: FNSAVE reinitialises the registers, the code keeps them as valid)',
  policy,
  config: { comps: [X87], moves: DEFAULT_CONFIG.moves, depth: 6 },
};
