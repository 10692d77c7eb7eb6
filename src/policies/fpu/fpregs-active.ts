/**
 * Pieces shared by the pre-5.2 policies (lazy-ts, rfc-2016), whose struct fpu says with
 * fpregs_active whether the registers hold the task's state (4.2–4.8 struct fpu).
 */
import type { FpuPolicy } from '../../kernel/fpu/policy.js';
import { saveFpregsToFpstate, traceFpu } from '../../kernel/fpu/core.js';
import type { Kernel } from '../../kernel/kernel.js';
import { Cpu, Task } from '../../kernel/state.js';

/** The state API in terms of fpregs_active. */
export const FPREGS_ACTIVE_VALIDITY: Pick<FpuPolicy, 'registersValid' | 'memoryValid'> = {
  registersValid(_k, cpu, t) {
    return cpu.curr === t.pid && t.fpu.fpregsActive;
  },
  memoryValid(_k, t) {
    return !t.fpu.fpregsActive;
  },
};

/** fpu__copy (4.x): the child's state from the parent's live registers, or from its memory image. */
export function copyParentFpu(k: Kernel, cpu: Cpu, parent: Task, child: Task): void {
  if (parent.fpu.fpregsActive) saveFpregsToFpstate(k, cpu, child.fpu, child);
  else child.fpu.fpstate.area.bytes.set(parent.fpu.fpstate.area.bytes.subarray(0, child.fpu.fpstate.area.bytes.length));
  child.fpu.fpstateActive = true;
  traceFpu(k, cpu, 'x86_fpu_copy_dst', child.fpu);
}
